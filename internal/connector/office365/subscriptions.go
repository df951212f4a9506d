package office365

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

var _ connector.Subscriber = (*Connector)(nil)

// subscriptionLifetime is what tenantlink asks for: well under Graph's
// 41,760 minutes for directory resources, so a lost renewal is noticed
// within days, not a month.
const subscriptionLifetime = 3 * 24 * time.Hour

// SubscriptionLifetime implements connector.Subscriber.
func (c *Connector) SubscriptionLifetime() time.Duration { return subscriptionLifetime }

// Subscribe implements connector.Subscriber: changes to users or groups
// ("updated,deleted"; creation fires updated for directory objects).
func (c *Connector) Subscribe(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, req connector.SubscriptionRequest) (*connector.Subscription, error) {
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return nil, err
	}
	s, err := gc.CreateSubscription(ctx, graph.Subscription{
		Resource:                 req.Resource,
		ChangeType:               "updated,deleted",
		NotificationURL:          req.NotificationURL,
		LifecycleNotificationURL: req.LifecycleURL,
		ClientState:              req.ClientState,
		ExpirationDateTime:       req.ExpiresAt.UTC(),
	})
	if err != nil {
		return nil, subscriptionError("subscribe to "+req.Resource, err)
	}
	return &connector.Subscription{ID: s.ID, Resource: req.Resource, ExpiresAt: s.ExpirationDateTime}, nil
}

// RenewSubscription implements connector.Subscriber.
func (c *Connector) RenewSubscription(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, id string, expires time.Time) (time.Time, error) {
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return time.Time{}, err
	}
	s, err := gc.RenewSubscription(ctx, id, expires)
	if err != nil {
		return time.Time{}, subscriptionError("renew subscription", err)
	}
	return s.ExpirationDateTime, nil
}

// ReauthorizeSubscription implements connector.Subscriber.
func (c *Connector) ReauthorizeSubscription(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, id string) error {
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return err
	}
	if err := gc.ReauthorizeSubscription(ctx, id); err != nil {
		return subscriptionError("reauthorize subscription", err)
	}
	return nil
}

// Unsubscribe implements connector.Subscriber; an unknown subscription is
// already gone.
func (c *Connector) Unsubscribe(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, id string) error {
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return err
	}
	if err := gc.DeleteSubscription(ctx, id); err != nil && !errors.Is(err, graph.ErrNotFound) {
		return subscriptionError("delete subscription", err)
	}
	return nil
}

func subscriptionError(what string, err error) error {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return err
	}
	msg := fmt.Sprintf("Microsoft 365 refused to %s: %s", what, graphReason(err))
	switch {
	case ge.Status == 404:
		return &tenantlink.Error{Code: tenantlink.ENOTFOUND, Message: msg, Err: connector.ErrSubscriptionGone}
	case ge.Status == 403 && strings.Contains(strings.ToLower(ge.Message), "quota"):
		return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: msg, Err: connector.ErrSubscriptionQuota}
	}
	return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: msg, Err: err}
}

// notificationBody is Graph's webhook body: change notifications or
// lifecycle notifications.
type notificationBody struct {
	Value []struct {
		SubscriptionID string  `json:"subscriptionId"`
		ClientState    *string `json:"clientState"`
		TenantID       string  `json:"tenantId"`
		LifecycleEvent string  `json:"lifecycleEvent"`
		ChangeType     string  `json:"changeType"`
		Resource       string  `json:"resource"`
		ResourceData   *struct {
			Type    string `json:"@odata.type"`
			ID      string `json:"id"`
			Members []struct {
				ID      string `json:"id"`
				Removed string `json:"@removed"`
			} `json:"members@delta"`
		} `json:"resourceData"`
	} `json:"value"`
}

// ParseNotifications implements connector.Subscriber.
func (c *Connector) ParseNotifications(body []byte) ([]connector.Notification, error) {
	var b notificationBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("office365: notification body: %w", err)
	}
	out := make([]connector.Notification, 0, len(b.Value))
	for _, v := range b.Value {
		n := connector.Notification{SubscriptionID: v.SubscriptionID, TenantID: v.TenantID,
			LifecycleEvent: v.LifecycleEvent, ChangeType: v.ChangeType}
		if v.ClientState != nil {
			n.ClientState = *v.ClientState
		}
		res := strings.ToLower(v.Resource)
		switch {
		case strings.HasPrefix(res, "users/"):
			n.Kind = "user"
		case strings.HasPrefix(res, "groups/"):
			n.Kind = "group"
		}
		if d := v.ResourceData; d != nil {
			n.ObjectID = d.ID
			switch strings.ToLower(d.Type) {
			case "#microsoft.graph.user":
				n.Kind = "user"
			case "#microsoft.graph.group":
				n.Kind = "group"
			}
			for _, m := range d.Members {
				if m.Removed != "" {
					n.MembersRemoved = append(n.MembersRemoved, m.ID)
				} else {
					n.MembersAdded = append(n.MembersAdded, m.ID)
				}
			}
		}
		if n.ObjectID == "" && n.Kind != "" {
			n.ObjectID = v.Resource[strings.IndexByte(v.Resource, '/')+1:]
		}
		out = append(out, n)
	}
	return out, nil
}
