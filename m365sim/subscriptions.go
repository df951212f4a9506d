package m365sim

// Graph subscriptions (change notifications) for directory resources: the
// /v1.0/subscriptions endpoints. Delivery, batching, retries and lifecycle
// notifications are in notify.go. Microsoft's contract, as documented:
//
//   - Supported resources and quotas (users, groups, groups/{id}/members;
//     100 subscriptions per app and tenant, 1,000 per tenant, 403 beyond):
//     https://learn.microsoft.com/graph/api/resources/webhooks
//   - Properties, clientState at most 128 characters, at most 41,760
//     minutes' lifetime for user and group, only updated and deleted fire
//     for users and groups: https://learn.microsoft.com/graph/api/resources/subscription
//   - Permissions (read permission on the resource: User.Read.All,
//     Group.Read.All), 400 when the endpoint validation fails:
//     https://learn.microsoft.com/graph/api/subscription-post-subscriptions
//   - The validation handshake (POST notificationUrl?validationToken=…,
//     200 text/plain with the decoded token within 10 seconds; the same for
//     lifecycleNotificationUrl), 2xx within 3 seconds or retries for up to
//     4 hours, PATCH to renew, DELETE:
//     https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
//   - Lifecycle notifications and POST /subscriptions/{id}/reauthorize:
//     https://learn.microsoft.com/graph/change-notifications-lifecycle-events
//
// Decision 0018 records what the documentation leaves open and what the
// simulator chose.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Documented limits for directory resources.
const (
	maxDirectorySubscriptionMinutes = 41760 // under 29 days
	maxSubsPerAppTenant             = 100
	maxSubsPerTenant                = 1000
	maxClientStateLen               = 128
)

type subKind int

const (
	subUsers   subKind = iota // /users
	subUser                   // /users/{id}
	subGroups                 // /groups
	subGroup                  // /groups/{id}
	subMembers                // /groups/{id}/members
)

// subscription is one Graph subscription. Fields other than the runtime
// state are set at creation; expiration, revoked and reauthSentFor change
// under notifier.mu.
type subscription struct {
	id, tenantID    string
	resource        string // as the client gave it
	kind            subKind
	target          string // the user or group id for subUser, subGroup, subMembers
	changeType      string
	updated         bool // changeType includes updated
	deleted         bool // changeType includes deleted
	notificationURL string
	lifecycleURL    string
	clientState     string
	expiration      time.Time
	appID           string
	creatorID       string
	delegated       bool
	tls             string
	created         time.Time

	// runtime (notify.go)
	pending       []*entry
	timer         bool      // a flush is scheduled
	reauthSentFor time.Time // the expiration a reauthorizationRequired was sent for
	revoked       bool      // the grant was revoked: changes are not delivered until reauthorized
	revokedAt     time.Time // when the grant was revoked (simulator clock); zero for other challenges
}

func (s *Server) subscriptionRoutes(h func(string, perm, func(*req) error)) {
	h("POST /v1.0/subscriptions", permAny, (*req).createSubscription)
	h("GET /v1.0/subscriptions", permAny, (*req).listSubscriptions)
	h("GET /v1.0/subscriptions/{id}", permAny, (*req).getSubscription)
	h("PATCH /v1.0/subscriptions/{id}", permAny, (*req).patchSubscription)
	h("DELETE /v1.0/subscriptions/{id}", permAny, (*req).deleteSubscription)
	h("POST /v1.0/subscriptions/{id}/reauthorize", permAny, (*req).reauthorizeSubscription)
}

// extensionError is how Graph answers failures of the directory's
// subscription extension (e.g. microsoftgraph/msgraph-sdk-dotnet#365:
// "Operation: Create; Exception: [Status Code: Forbidden; Reason: Forbidden]").
func extensionError(status int, op, reason string) *graphError {
	code := "Forbidden"
	if status == 400 {
		code = "BadRequest"
	}
	return gerr(status, "ExtensionError", "Operation: %s; Exception: [Status Code: %s; Reason: %s]", op, code, reason)
}

func invalidRequest(format string, a ...any) *graphError {
	return gerr(400, "InvalidRequest", format, a...)
}

// parseSubResource maps a subscription resource path to what it watches.
func parseSubResource(res string) (subKind, string, bool) {
	p := strings.Trim(strings.TrimSpace(res), "/")
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 1 && strings.EqualFold(parts[0], "users"):
		return subUsers, "", true
	case len(parts) == 2 && strings.EqualFold(parts[0], "users") && parts[1] != "":
		return subUser, strings.ToLower(parts[1]), true
	case len(parts) == 1 && strings.EqualFold(parts[0], "groups"):
		return subGroups, "", true
	case len(parts) == 2 && strings.EqualFold(parts[0], "groups") && parts[1] != "":
		return subGroup, strings.ToLower(parts[1]), true
	case len(parts) == 3 && strings.EqualFold(parts[0], "groups") && parts[1] != "" && strings.EqualFold(parts[2], "members"):
		return subMembers, strings.ToLower(parts[1]), true
	}
	return 0, "", false
}

// subPerm is the permission a subscription needs: read access to the
// resource, as for reading it.
func subPerm(k subKind) perm {
	if k == subUsers || k == subUser {
		return perm{delegated: permUsersRead.delegated, app: permUsersRead.app}
	}
	return permGroupsRead
}

// mayRead reports whether the caller's token carries a permission that
// reads the subscription's resource.
func (rq *req) mayRead(k subKind) bool {
	p := subPerm(k)
	if rq.delegated {
		return hasAny(rq.tok.Scopes, p.delegated)
	}
	return hasAny(rq.tok.Roles, p.app)
}

// notificationURLAllowed accepts https, and http to a loopback host (the
// simulator is a loopback test tool; Graph itself requires https).
func notificationURLAllowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("is not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if strings.EqualFold(host, "localhost") {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("must use https (the simulator also accepts http to a loopback address)")
}

type subscriptionBody struct {
	ChangeType               *string `json:"changeType"`
	NotificationURL          *string `json:"notificationUrl"`
	LifecycleNotificationURL *string `json:"lifecycleNotificationUrl"`
	Resource                 *string `json:"resource"`
	ExpirationDateTime       *string `json:"expirationDateTime"`
	ClientState              *string `json:"clientState"`
	IncludeResourceData      *bool   `json:"includeResourceData"`
	LatestSupportedTLS       *string `json:"latestSupportedTlsVersion"`
}

func decodeSubscriptionBody(rq *req) (subscriptionBody, map[string]json.RawMessage, error) {
	var b subscriptionBody
	raw, err := io.ReadAll(io.LimitReader(rq.r.Body, 1<<20))
	if err != nil {
		return b, nil, badRequest("Unable to read the request body.")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return b, nil, gerr(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, nil, gerr(400, "BadRequest", "Invalid request body: %v", err)
	}
	return b, m, nil
}

// parseExpiry checks an expirationDateTime against the directory limit in
// the simulator's clock.
func (rq *req) parseExpiry(v *string, op string) (time.Time, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return time.Time{}, invalidRequest("expirationDateTime is a required property for subscription creation.")
	}
	exp, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*v))
	if err != nil {
		return time.Time{}, badRequest("Invalid expirationDateTime '%s'.", *v)
	}
	now := rq.s.now()
	if !exp.After(now) {
		return time.Time{}, extensionError(400, op, "Subscription expiration must be in the future.")
	}
	if exp.Sub(now) > maxDirectorySubscriptionMinutes*time.Minute {
		return time.Time{}, extensionError(400, op, fmt.Sprintf("Subscription expiration can only be %d minutes in the future.", maxDirectorySubscriptionMinutes))
	}
	return exp.UTC(), nil
}

func (rq *req) createSubscription() error {
	b, _, err := decodeSubscriptionBody(rq)
	if err != nil {
		return err
	}
	if b.Resource == nil || strings.TrimSpace(*b.Resource) == "" {
		return invalidRequest("resource is a required property for subscription creation.")
	}
	kind, target, ok := parseSubResource(*b.Resource)
	if !ok {
		return invalidRequest("The resource '%s' is not supported for change notifications by this simulator (users, users/{id}, groups, groups/{id}, groups/{id}/members).", *b.Resource)
	}
	if b.ChangeType == nil || strings.TrimSpace(*b.ChangeType) == "" {
		return invalidRequest("changeType is a required property for subscription creation.")
	}
	var updated, deleted bool
	for _, ct := range strings.Split(*b.ChangeType, ",") {
		switch strings.TrimSpace(ct) {
		case "created": // accepted as Graph does; directory resources never fire it
		case "updated":
			updated = true
		case "deleted":
			deleted = true
		default:
			return invalidRequest("'%s' is not a valid changeType; use created, updated or deleted.", strings.TrimSpace(ct))
		}
	}
	if b.NotificationURL == nil || strings.TrimSpace(*b.NotificationURL) == "" {
		return invalidRequest("notificationUrl is a required property for subscription creation.")
	}
	if err := notificationURLAllowed(*b.NotificationURL); err != nil {
		return invalidRequest("The notificationUrl %s.", err)
	}
	lifecycle := ""
	if b.LifecycleNotificationURL != nil && *b.LifecycleNotificationURL != "" {
		lifecycle = *b.LifecycleNotificationURL
		if err := notificationURLAllowed(lifecycle); err != nil {
			return invalidRequest("The lifecycleNotificationUrl %s.", err)
		}
	}
	clientState := ""
	if b.ClientState != nil {
		clientState = *b.ClientState
	}
	if len([]rune(clientState)) > maxClientStateLen {
		return invalidRequest("clientState must be at most %d characters.", maxClientStateLen)
	}
	if b.IncludeResourceData != nil && *b.IncludeResourceData {
		return invalidRequest("Change notifications with resource data are not supported for the resource '%s'.", *b.Resource)
	}
	exp, err := rq.parseExpiry(b.ExpirationDateTime, "Create")
	if err != nil {
		return err
	}
	if !rq.mayRead(kind) {
		return extensionError(403, "Create", "Forbidden")
	}
	if target != "" {
		rq.s.mu.RLock()
		found := false
		if kind == subUser {
			if u := rq.t.userRef(target); u != nil {
				found, target = true, u.ID // users/{upn} watches the user's id
			}
		} else {
			found = rq.t.groupByID[target] != nil
		}
		rq.s.mu.RUnlock()
		if !found {
			return notFound(target)
		}
	}
	n := rq.s.notif
	if err := n.checkQuota(rq.t.ID, rq.tok.AppID); err != nil {
		return err
	}
	// The handshake, with no lock held: the endpoint may be slow.
	if err := n.validate(rq.r.Context(), *b.NotificationURL); err != nil {
		return err
	}
	if lifecycle != "" {
		if err := n.validate(rq.r.Context(), lifecycle); err != nil {
			return err
		}
	}
	tls := "v1_2"
	if b.LatestSupportedTLS != nil && *b.LatestSupportedTLS != "" {
		tls = *b.LatestSupportedTLS
	}
	sub := &subscription{
		id: uuid.NewString(), tenantID: rq.t.ID, resource: *b.Resource, kind: kind, target: target,
		changeType: *b.ChangeType, updated: updated, deleted: deleted,
		notificationURL: *b.NotificationURL, lifecycleURL: lifecycle, clientState: clientState,
		expiration: exp, appID: rq.tok.AppID, creatorID: rq.tok.ObjectID, delegated: rq.delegated,
		tls: tls, created: rq.s.now(),
	}
	if err := n.add(sub); err != nil { // quota again: handshakes ran unlocked
		return err
	}
	rq.json(201, append(obj{{"@odata.context", rq.context("subscriptions/$entity")}}, n.render(sub)...))
	return nil
}

// visible reports whether the caller may see sub: the same tenant and app;
// with a delegated token, only subscriptions the signed-in user created.
func (rq *req) visible(sub *subscription) bool {
	if sub.tenantID != rq.t.ID || sub.appID != rq.tok.AppID {
		return false
	}
	return !rq.delegated || sub.creatorID == rq.tok.ObjectID
}

func (rq *req) lookupSubscription() (*subscription, error) {
	id := rq.r.PathValue("id")
	sub := rq.s.notif.get(id)
	if sub == nil || !rq.visible(sub) {
		return nil, notFound(id)
	}
	return sub, nil
}

func (rq *req) listSubscriptions() error {
	subs := rq.s.notif.list()
	out := make([]obj, 0, len(subs))
	for _, sub := range subs {
		if rq.visible(sub) {
			out = append(out, rq.s.notif.render(sub))
		}
	}
	rq.json(200, obj{{"@odata.context", rq.context("subscriptions")}, {"value", out}})
	return nil
}

func (rq *req) getSubscription() error {
	sub, err := rq.lookupSubscription()
	if err != nil {
		return err
	}
	rq.json(200, append(obj{{"@odata.context", rq.context("subscriptions/$entity")}}, rq.s.notif.render(sub)...))
	return nil
}

// patchSubscription renews (and so reauthorizes) a subscription. Only
// expirationDateTime can change.
func (rq *req) patchSubscription() error {
	sub, err := rq.lookupSubscription()
	if err != nil {
		return err
	}
	b, m, err := decodeSubscriptionBody(rq)
	if err != nil {
		return err
	}
	for k := range m {
		if k != "expirationDateTime" && !strings.HasPrefix(k, "@odata.") {
			return invalidRequest("Only expirationDateTime can be updated; '%s' cannot.", k)
		}
	}
	exp, err := rq.parseExpiry(b.ExpirationDateTime, "Update")
	if err != nil {
		return err
	}
	if !rq.mayRead(sub.kind) {
		return extensionError(403, "Update", "Forbidden")
	}
	if !rq.s.notif.renew(sub.id, exp, tokenIssued(rq.tok.ExpiresAt)) {
		return extensionError(403, "Update", "Forbidden")
	}
	rq.json(200, append(obj{{"@odata.context", rq.context("subscriptions/$entity")}}, rq.s.notif.render(sub)...))
	return nil
}

func (rq *req) deleteSubscription() error {
	sub, err := rq.lookupSubscription()
	if err != nil {
		return err
	}
	rq.s.notif.remove(sub.id, "deleted")
	return rq.noContent()
}

// reauthorizeSubscription clears a pending authorization challenge without
// extending the expiry; the caller must still hold read permission.
func (rq *req) reauthorizeSubscription() error {
	sub, err := rq.lookupSubscription()
	if err != nil {
		return err
	}
	if !rq.mayRead(sub.kind) {
		return extensionError(403, "Reauthorize", "Forbidden")
	}
	if !rq.s.notif.reauthorize(sub.id, tokenIssued(rq.tok.ExpiresAt)) {
		return extensionError(403, "Reauthorize", "Forbidden")
	}
	return rq.noContent()
}

// tokenIssued is when an access token was issued: the identity platform's
// tokens live 3599 seconds. A subscription whose grant was revoked is
// reauthorized only by a token issued after the revocation (tokens issued
// before it keep their claims until they expire, as at Microsoft).
func tokenIssued(exp time.Time) time.Time { return exp.Add(-3599 * time.Second) }

// regrantedLocked reports whether a token issued at issued may lift sub's
// authorization challenge.
func regrantedLocked(sub *subscription, issued time.Time) bool {
	return sub.revokedAt.IsZero() || !issued.Before(sub.revokedAt.Truncate(time.Second))
}

// subscriptionTime renders a subscription's expiry the way Graph echoes it.
func subscriptionTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.9999999Z")
}

// notificationTime renders subscriptionExpirationDateTime in notifications
// ("2022-05-24T23:21:19.3554403+00:00" in Microsoft's examples).
func notificationTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.9999999-07:00")
}

// render is the subscription resource, in the order Graph answers it
// (microsoftgraph/microsoft-graph-docs-contrib#1633 shows a real answer).
// Callers hold no lock; fields read here that change are copied under n.mu.
func (n *notifier) render(sub *subscription) obj {
	n.mu.Lock()
	exp := sub.expiration
	n.mu.Unlock()
	return obj{
		{"id", sub.id},
		{"resource", sub.resource},
		{"applicationId", sub.appID},
		{"changeType", sub.changeType},
		{"clientState", nullable(sub.clientState)},
		{"notificationUrl", sub.notificationURL},
		{"notificationQueryOptions", nil},
		{"lifecycleNotificationUrl", nullable(sub.lifecycleURL)},
		{"expirationDateTime", subscriptionTime(exp)},
		{"creatorId", sub.creatorID},
		{"includeResourceData", nil},
		{"latestSupportedTlsVersion", sub.tls},
		{"encryptionCertificate", nil},
		{"encryptionCertificateId", nil},
		{"notificationUrlAppId", nil},
	}
}

func (n *notifier) get(id string) *subscription {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expireLocked(n.s.now())
	return n.subs[strings.ToLower(id)]
}

// list returns the live subscriptions, oldest first.
func (n *notifier) list() []*subscription {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expireLocked(n.s.now())
	out := make([]*subscription, 0, len(n.subs))
	for _, sub := range n.subs {
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

func quotaError() *graphError {
	return extensionError(403, "Create", fmt.Sprintf("Subscription quota exceeded: at most %d subscriptions to directory resources per app and tenant.", maxSubsPerAppTenant))
}

func tenantQuotaError() *graphError {
	return extensionError(403, "Create", fmt.Sprintf("Subscription quota exceeded: at most %d subscriptions to directory resources per tenant across all apps.", maxSubsPerTenant))
}

func (n *notifier) checkQuota(tenantID, appID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.quotaLocked(tenantID, appID)
}

func (n *notifier) quotaLocked(tenantID, appID string) error {
	n.expireLocked(n.s.now())
	perApp, perTenant := 0, 0
	for _, sub := range n.subs {
		if sub.tenantID != tenantID {
			continue
		}
		perTenant++
		if sub.appID == appID {
			perApp++
		}
	}
	if perApp >= n.perAppTenant {
		return quotaError()
	}
	if perTenant >= n.perTenant {
		return tenantQuotaError()
	}
	return nil
}

func (n *notifier) add(sub *subscription) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("m365sim: simulator closed")
	}
	if err := n.quotaLocked(sub.tenantID, sub.appID); err != nil {
		return err
	}
	n.subs[sub.id] = sub
	n.startTickerLocked()
	n.s.markDirty()
	return nil
}

// renew sets a new expiry, which also reauthorizes; false when the
// subscription is gone or the token predates a revocation.
func (n *notifier) renew(id string, exp, issued time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	sub := n.subs[id]
	if sub == nil || !regrantedLocked(sub, issued) {
		return false
	}
	sub.expiration = exp
	sub.revoked, sub.revokedAt = false, time.Time{}
	n.s.markDirty()
	return true
}

func (n *notifier) reauthorize(id string, issued time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	sub := n.subs[id]
	if sub == nil || !regrantedLocked(sub, issued) {
		return false
	}
	sub.revoked, sub.revokedAt = false, time.Time{}
	n.s.markDirty()
	return true
}
