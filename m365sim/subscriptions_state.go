package m365sim

import (
	"fmt"
	"strings"
	"time"
)

// subscriptionState is a subscription as the state file keeps it
// (persist.go, Options.StatePath). Notifications waiting to be sent or
// retried, statistics, delivery controls and endpoint slowness are not
// kept: a restart loses them, as a crash of Microsoft's delivery workers
// would.
type subscriptionState struct {
	ID                       string    `json:"id"`
	TenantID                 string    `json:"tenantId"`
	Resource                 string    `json:"resource"`
	Target                   string    `json:"target,omitempty"` // the watched user's or group's id
	ChangeType               string    `json:"changeType"`
	NotificationURL          string    `json:"notificationUrl"`
	LifecycleNotificationURL string    `json:"lifecycleNotificationUrl,omitempty"`
	ClientState              string    `json:"clientState,omitempty"`
	Expiration               time.Time `json:"expiration"`
	ApplicationID            string    `json:"applicationId"`
	CreatorID                string    `json:"creatorId"`
	Delegated                bool      `json:"delegated,omitempty"`
	TLS                      string    `json:"latestSupportedTlsVersion"`
	Created                  time.Time `json:"created"`
	ReauthSentFor            time.Time `json:"reauthSentFor,omitzero"`
	Revoked                  bool      `json:"revoked,omitempty"`
	RevokedAt                time.Time `json:"revokedAt,omitzero"`
}

// snapshot copies the subscriptions for the state file, oldest first.
func (n *notifier) snapshot() []subscriptionState {
	subs := n.list()
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]subscriptionState, 0, len(subs))
	for _, sub := range subs {
		out = append(out, subscriptionState{
			ID: sub.id, TenantID: sub.tenantID, Resource: sub.resource, Target: sub.target, ChangeType: sub.changeType,
			NotificationURL: sub.notificationURL, LifecycleNotificationURL: sub.lifecycleURL, ClientState: sub.clientState,
			Expiration: sub.expiration, ApplicationID: sub.appID, CreatorID: sub.creatorID, Delegated: sub.delegated,
			TLS: sub.tls, Created: sub.created, ReauthSentFor: sub.reauthSentFor, Revoked: sub.revoked, RevokedAt: sub.revokedAt,
		})
	}
	return out
}

// load restores saved subscriptions for tenants s holds; one that has
// expired meanwhile is dropped at the first look.
func (n *notifier) load(saved []subscriptionState) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ss := range saved {
		if n.s.byID[ss.TenantID] == nil {
			return fmt.Errorf("subscription %s is for tenant %q, which the file does not hold", ss.ID, ss.TenantID)
		}
		kind, target, ok := parseSubResource(ss.Resource)
		if !ok || ss.ID == "" || ss.NotificationURL == "" {
			return fmt.Errorf("subscription %q: resource %q or notification URL not valid", ss.ID, ss.Resource)
		}
		if target != "" && ss.Target != "" {
			target = ss.Target
		}
		sub := &subscription{
			id: strings.ToLower(ss.ID), tenantID: ss.TenantID, resource: ss.Resource, kind: kind, target: target,
			changeType: ss.ChangeType, notificationURL: ss.NotificationURL, lifecycleURL: ss.LifecycleNotificationURL,
			clientState: ss.ClientState, expiration: ss.Expiration, appID: ss.ApplicationID, creatorID: ss.CreatorID,
			delegated: ss.Delegated, tls: ss.TLS, created: ss.Created, reauthSentFor: ss.ReauthSentFor,
			revoked: ss.Revoked, revokedAt: ss.RevokedAt,
		}
		for _, ct := range strings.Split(ss.ChangeType, ",") {
			switch strings.TrimSpace(ct) {
			case "updated":
				sub.updated = true
			case "deleted":
				sub.deleted = true
			}
		}
		if _, dup := n.subs[sub.id]; dup {
			return fmt.Errorf("subscription %s appears twice", sub.id)
		}
		n.subs[sub.id] = sub
	}
	if len(n.subs) > 0 {
		n.startTickerLocked()
	}
	return nil
}
