package graph

import (
	"context"
	"net/http"
	"time"
)

// Subscription is a Microsoft Graph change-notification subscription
// (https://learn.microsoft.com/graph/api/resources/subscription).
type Subscription struct {
	ID                        string    `json:"id,omitempty"`
	Resource                  string    `json:"resource"`
	ChangeType                string    `json:"changeType"`
	NotificationURL           string    `json:"notificationUrl"`
	LifecycleNotificationURL  string    `json:"lifecycleNotificationUrl,omitempty"`
	ClientState               string    `json:"clientState,omitempty"`
	ExpirationDateTime        time.Time `json:"expirationDateTime"`
	ApplicationID             string    `json:"applicationId,omitempty"`
	CreatorID                 string    `json:"creatorId,omitempty"`
	LatestSupportedTLSVersion string    `json:"latestSupportedTlsVersion,omitempty"`
}

// CreateSubscription creates a subscription. Graph validates the
// notification URL (the handshake) before answering, so the receiver must
// already be serving it.
func (c *Client) CreateSubscription(ctx context.Context, s Subscription) (*Subscription, error) {
	s.ID = ""
	b, err := jsonBody(s)
	if err != nil {
		return nil, err
	}
	var out Subscription
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/subscriptions", ""), body: b}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RenewSubscription moves a subscription's expiry (PATCH
// expirationDateTime), which also clears a reauthorization challenge.
func (c *Client) RenewSubscription(ctx context.Context, id string, expires time.Time) (*Subscription, error) {
	b, err := jsonBody(map[string]any{"expirationDateTime": expires.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return nil, err
	}
	var out Subscription
	if err := c.call(ctx, request{method: http.MethodPatch, url: c.endpoint("/subscriptions/"+seg(id), ""), body: b}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReauthorizeSubscription answers a reauthorizationRequired lifecycle
// notification (POST /subscriptions/{id}/reauthorize; the expiry stays).
func (c *Client) ReauthorizeSubscription(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/subscriptions/"+seg(id)+"/reauthorize", ""), body: []byte("{}")}, nil)
}

// DeleteSubscription deletes a subscription.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, url: c.endpoint("/subscriptions/"+seg(id), "")}, nil)
}
