package m365sim

// Delivery of change and lifecycle notifications for subscriptions.go:
// every change recorded in a tenant's change log (made through Graph or
// /_sim/) is matched against the live subscriptions, coalesced for
// Options.NotificationDelay per subscription, and POSTed to the
// notificationUrl in a {"value":[…]} batch, never blocking the request that
// made the change. A receiver that does not answer 2xx within
// Options.NotificationTimeout is retried with doubling delays for up to
// four hours of simulator time; lifecycle notifications go to the
// lifecycleNotificationUrl. /_sim/notifications breaks delivery on purpose.
//
// Payload shapes: https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
// (changeNotificationCollection), https://learn.microsoft.com/azure/event-grid/microsoft-entra-events
// (the directory's resource "Users/{id}" / "Groups/{id}" and resourceData),
// https://learn.microsoft.com/graph/change-notifications-lifecycle-events
// (lifecycle notifications carry no resource).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Defaults (Options overrides the delays) and the documented throttling of
// slow endpoints: a POST slower than 2900 ms of the 3 s timeout is slow;
// after 100 POSTs an endpoint with 10 % slow answers is throttled
// (notifications wait 10 minutes, failures retry in 10 minutes), with 15 %
// its notifications are dropped; counts restart every 10 minutes.
const (
	defaultNotificationDelay   = 200 * time.Millisecond
	defaultValidationTimeout   = 10 * time.Second // Graph's handshake limit
	defaultNotificationTimeout = 3 * time.Second  // Graph's delivery limit
	defaultNotificationRetry   = 10 * time.Second
	defaultReauthorizeBefore   = time.Hour
	defaultThrottleDelay       = 10 * time.Minute // Graph's delay for a throttled endpoint
	throttleWindow             = 10 * time.Minute // Graph flushes its slow-response counts this often
	throttleMinPosts           = 100              // slowness is judged after this many POSTs
	throttleSlowPercent        = 10               // an endpoint this slow is throttled
	throttleDropPercent        = 15               // and this slow has its notifications dropped
	retryWindow                = 4 * time.Hour    // Graph retries for up to 4 hours
	maxRetryDoublings          = 6
	maxNotificationBatch       = 100
	lifecycleTick              = 250 * time.Millisecond
)

// Lifecycle events (https://learn.microsoft.com/graph/change-notifications-lifecycle-events).
const (
	lifecycleReauthorizationRequired = "reauthorizationRequired"
	lifecycleSubscriptionRemoved     = "subscriptionRemoved"
	lifecycleMissed                  = "missed"
)

// entry is one change notification waiting to be sent.
type entry struct {
	changeType string
	resource   string // "Users/{id}" or "Groups/{id}"
	odataType  string
	id         string
	eventTime  time.Time
	seq        int64
	members    []memberDelta // group membership changes (members@delta)
}

type memberDelta struct {
	id      string
	removed bool
}

// delivery is one POST (a batch) with its retry state.
type delivery struct {
	url       string
	subID     string
	body      []byte
	count     int
	lifecycle bool
	attempts  int
	first     time.Time // simulator time of the first attempt
}

// NotificationStats is what GET /_sim/notifications reports: counts since
// start or the last reset, and the delivery controls in force.
type NotificationStats struct {
	Subscriptions      int `json:"subscriptions"`
	Pending            int `json:"pending"`            // change and lifecycle notifications coalescing, in flight or waiting to retry
	Delivered          int `json:"delivered"`          // change notifications acknowledged with 2xx
	Lifecycle          int `json:"lifecycle"`          // lifecycle notifications acknowledged with 2xx
	Posts              int `json:"posts"`              // POSTs acknowledged with 2xx
	Failed             int `json:"failed"`             // POST attempts without a 2xx in time
	Retried            int `json:"retried"`            // retries scheduled
	GaveUp             int `json:"gaveUp"`             // notifications discarded: retry window over or subscription gone
	Dropped            int `json:"dropped"`            // notifications discarded by the drop control
	Duplicated         int `json:"duplicated"`         // POSTs sent twice by the duplicate control
	Paused             int `json:"paused"`             // changes not sent because the subscription awaits reauthorization
	Expired            int `json:"expired"`            // subscriptions removed at their expiry
	Throttled          int `json:"throttled"`          // notifications held back ThrottleDelay for an endpoint with 10 % slow answers
	ThrottleDropped    int `json:"throttleDropped"`    // notifications dropped for an endpoint with 15 % slow answers
	ThrottledEndpoints int `json:"throttledEndpoints"` // endpoints now throttled (10 % slow answers)
	Validations        int `json:"validations"`
	ValidationFailures int `json:"validationFailures"`
	LatencyMs          int `json:"latencyMs"` // added before every POST
	Drop               int `json:"drop"`      // POSTs still to drop
	Duplicate          int `json:"duplicate"` // POSTs still to duplicate
}

type notifier struct {
	s      *Server
	client *http.Client
	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	delay, validationTimeout, timeout, retry, reauthBefore, tick, throttleDelay time.Duration
	perAppTenant, perTenant                                                     int

	mu       sync.Mutex
	subs     map[string]*subscription
	closed   bool
	tickerOn bool
	inflight int
	latency  time.Duration
	drop     int
	dup      int
	st       NotificationStats
	health   map[string]*endpointHealth // by notification URL
}

// endpointHealth counts an endpoint's POSTs and slow answers since since.
type endpointHealth struct {
	since       time.Time
	total, slow int
}

func newNotifier(s *Server) *notifier {
	o := s.opts
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{
		s: s, ctx: ctx, cancel: cancel,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Graph does not follow redirects to a notification URL
		}},
		delay:             pick(o.NotificationDelay, defaultNotificationDelay),
		validationTimeout: pick(o.ValidationTimeout, defaultValidationTimeout),
		timeout:           pick(o.NotificationTimeout, defaultNotificationTimeout),
		retry:             pick(o.NotificationRetry, defaultNotificationRetry),
		reauthBefore:      pick(o.ReauthorizeBefore, defaultReauthorizeBefore),
		throttleDelay:     pick(o.ThrottleDelay, defaultThrottleDelay),
		health:            map[string]*endpointHealth{},
		tick:              lifecycleTick,
		perAppTenant:      maxSubsPerAppTenant, perTenant: maxSubsPerTenant,
		subs: map[string]*subscription{},
	}
}

// close stops delivery: pending notifications are discarded and POSTs in
// flight are cancelled.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
	n.client.CloseIdleConnections()
}

// reset forgets every subscription, count and control (Server.Reset).
func (n *notifier) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subs = map[string]*subscription{}
	n.latency, n.drop, n.dup = 0, 0, 0
	n.st = NotificationStats{}
	n.health = map[string]*endpointHealth{}
}

// Stats returns the notification counts.
func (n *notifier) stats() NotificationStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expireLocked(n.s.now())
	st := n.st
	st.Subscriptions = len(n.subs)
	st.Pending = n.inflight
	for _, sub := range n.subs {
		st.Pending += len(sub.pending)
	}
	st.LatencyMs = int(n.latency / time.Millisecond)
	st.Drop, st.Duplicate = n.drop, n.dup
	for u := range n.health {
		if n.slowPercentLocked(u) >= throttleSlowPercent {
			st.ThrottledEndpoints++
		}
	}
	return st
}

// healthLocked is url's current counting window.
func (n *notifier) healthLocked(url string) *endpointHealth {
	now := n.s.now()
	h := n.health[url]
	if h == nil || now.Sub(h.since) >= throttleWindow {
		h = &endpointHealth{since: now}
		n.health[url] = h
	}
	return h
}

// slowPercentLocked is url's share of slow answers, 0 before it has
// answered throttleMinPosts POSTs in the window.
func (n *notifier) slowPercentLocked(url string) int {
	h := n.healthLocked(url)
	if h.total < throttleMinPosts {
		return 0
	}
	return h.slow * 100 / h.total
}

// NotificationStats reports change notification delivery since start or
// the last reset (GET /_sim/notifications).
func (s *Server) NotificationStats() NotificationStats { return s.notif.stats() }

// validationToken is what Graph sends in the handshake: opaque text that
// needs URL decoding.
func validationToken() string {
	return "Validation: Testing client application reachability for subscription Request-Id: " + uuid.NewString()
}

// validate runs the handshake against one endpoint and answers Graph's
// error when it fails.
func (n *notifier) validate(ctx context.Context, raw string) error {
	n.mu.Lock()
	n.st.Validations++
	n.mu.Unlock()
	err := n.handshake(ctx, raw)
	if err != nil {
		n.mu.Lock()
		n.st.ValidationFailures++
		n.mu.Unlock()
	}
	return err
}

func (n *notifier) handshake(ctx context.Context, raw string) error {
	const (
		notOK    = "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
		mismatch = "Subscription validation request failed. Response must exactly match validationToken query parameter."
		timedOut = "Subscription validation request timed out."
	)
	u, err := url.Parse(raw)
	if err != nil {
		return gerr(400, "ValidationError", notOK)
	}
	token := validationToken()
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, n.validationTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return gerr(400, "ValidationError", notOK)
	}
	hreq.Header.Set("Content-Type", "text/plain; charset=utf-8")
	res, err := n.client.Do(hreq)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return gerr(400, "ValidationError", timedOut)
		}
		return gerr(400, "ValidationError", notOK)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return gerr(400, "ValidationError", timedOut)
		}
		return gerr(400, "ValidationError", notOK)
	}
	if res.StatusCode != http.StatusOK {
		return gerr(400, "ValidationError", notOK)
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt != "text/plain" || string(body) != token {
		return gerr(400, "ValidationError", mismatch)
	}
	return nil
}

// changed is the tenant's change-log hook (tenant.record). It runs with
// Server.mu held, so it only queues.
func (n *notifier) changed(t *tenant, c change) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || len(n.subs) == 0 {
		return
	}
	now := n.s.now()
	for _, sub := range n.subs {
		if sub.tenantID != t.ID || !now.Before(sub.expiration) {
			continue
		}
		e := entryFor(sub, c, now)
		if e == nil {
			continue
		}
		if sub.revoked {
			n.st.Paused++
			continue
		}
		n.queueLocked(sub, e)
	}
}

// entryFor is the change notification c means for sub, or nil. Creating a
// user or group fires updated; deleting one fires deleted; a membership
// change fires updated on the group with members@delta.
func entryFor(sub *subscription, c change, now time.Time) *entry {
	// A soft deletion (to deleted items) is "updated" at Microsoft; only a
	// permanent one is "deleted" (decision 0018).
	ct := "updated"
	if c.removed && !c.soft {
		ct = "deleted"
	}
	if (ct == "updated" && !sub.updated) || (ct == "deleted" && !sub.deleted) {
		return nil
	}
	if !c.group {
		if sub.kind != subUsers && !(sub.kind == subUser && sub.target == c.id) {
			return nil
		}
		return &entry{changeType: ct, resource: "Users/" + c.id, odataType: "#Microsoft.Graph.User", id: c.id, eventTime: now, seq: c.seq}
	}
	e := &entry{changeType: ct, resource: "Groups/" + c.id, odataType: "#Microsoft.Graph.Group", id: c.id, eventTime: now, seq: c.seq}
	if c.member != "" {
		if sub.kind != subGroups && !((sub.kind == subGroup || sub.kind == subMembers) && sub.target == c.id) {
			return nil
		}
		e.members = []memberDelta{{id: c.member, removed: !c.memberAdded}}
		return e
	}
	if sub.kind != subGroups && !(sub.kind == subGroup && sub.target == c.id) {
		return nil
	}
	return e
}

// queueLocked adds e to sub's batch, merging it with a waiting notification
// for the same resource and change type, and schedules the flush.
func (n *notifier) queueLocked(sub *subscription, e *entry) {
	for _, p := range sub.pending {
		if p.changeType != e.changeType || p.resource != e.resource {
			continue
		}
		p.eventTime, p.seq = e.eventTime, e.seq
		for _, m := range e.members {
			replaced := false
			for i := range p.members {
				if p.members[i].id == m.id {
					p.members[i], replaced = m, true
				}
			}
			if !replaced {
				p.members = append(p.members, m)
			}
		}
		return
	}
	sub.pending = append(sub.pending, e)
	if !sub.timer {
		sub.timer = true
		id := sub.id
		time.AfterFunc(n.delay, func() { n.flush(id) })
	}
}

// flush sends sub's waiting notifications, maxNotificationBatch to a POST.
func (n *notifier) flush(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sub := n.subs[id]
	if sub == nil || n.closed {
		return
	}
	sub.timer = false
	for len(sub.pending) > 0 {
		k := min(len(sub.pending), maxNotificationBatch)
		batch := sub.pending[:k]
		sub.pending = sub.pending[k:]
		items := make([]obj, 0, len(batch))
		for _, e := range batch {
			items = append(items, n.renderEntry(sub, e))
		}
		n.dispatchLocked(&delivery{url: sub.notificationURL, subID: sub.id, body: mustJSON(obj{{"value", items}}), count: len(items)})
	}
	sub.pending = nil
}

// renderEntry is one changeNotification, in the order of Microsoft's
// directory examples.
func (n *notifier) renderEntry(sub *subscription, e *entry) obj {
	rd := obj{
		{"@odata.type", e.odataType},
		{"@odata.id", e.resource},
		{"id", e.id},
		{"organizationId", sub.tenantID},
		{"eventTime", e.eventTime.UTC().Format("2006-01-02T15:04:05.0000000Z")},
		{"sequenceNumber", e.seq},
	}
	if len(e.members) > 0 {
		ms := make([]obj, 0, len(e.members))
		for _, m := range e.members {
			o := obj{{"id", m.id}}
			if m.removed {
				o = append(o, kv{"@removed", "deleted"})
			}
			ms = append(ms, o)
		}
		rd = append(rd, kv{"members@delta", ms})
	}
	return obj{
		{"changeType", e.changeType},
		{"clientState", nullable(sub.clientState)},
		{"resource", e.resource},
		{"resourceData", rd},
		{"subscriptionExpirationDateTime", notificationTime(sub.expiration)},
		{"subscriptionId", sub.id},
		{"tenantId", sub.tenantID},
	}
}

func mustJSON(v any) []byte {
	b, err := appendJSON(nil, v)
	if err != nil {
		panic(fmt.Sprintf("m365sim: encode notification: %v", err))
	}
	return b
}

// sendLifecycleLocked queues a lifecycle notification when sub has a
// lifecycleNotificationUrl.
func (n *notifier) sendLifecycleLocked(sub *subscription, event string) {
	if sub.lifecycleURL == "" {
		return
	}
	item := obj{
		{"subscriptionId", sub.id},
		{"subscriptionExpirationDateTime", notificationTime(sub.expiration)},
		{"tenantId", sub.tenantID},
		{"clientState", nullable(sub.clientState)},
		{"lifecycleEvent", event},
	}
	n.dispatchLocked(&delivery{url: sub.lifecycleURL, subID: sub.id, body: mustJSON(obj{{"value", []obj{item}}}), count: 1, lifecycle: true})
}

// dispatchLocked applies the delivery controls and starts the POST.
func (n *notifier) dispatchLocked(d *delivery) {
	if n.closed {
		return
	}
	if n.drop > 0 {
		n.drop--
		n.st.Dropped += d.count
		return
	}
	dup := false
	if n.dup > 0 {
		n.dup--
		dup = true
	}
	d.first = n.s.now()
	n.inflight += d.count
	n.wg.Add(1)
	go n.send(d, dup)
}

// send makes one delivery attempt and schedules a retry when it fails.
func (n *notifier) send(d *delivery, dup bool) {
	defer n.wg.Done()
	n.mu.Lock()
	latency := n.latency
	pct := n.slowPercentLocked(d.url)
	if pct >= throttleDropPercent {
		n.inflight -= d.count
		n.st.ThrottleDropped += d.count
		n.mu.Unlock()
		return
	}
	if pct >= throttleSlowPercent && d.attempts == 0 {
		latency += n.throttleDelay
		n.st.Throttled += d.count
	}
	n.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-n.ctx.Done():
			n.finish(d, false)
			return
		}
	}
	ok := n.post(d)
	if ok && dup {
		n.post(d)
		n.mu.Lock()
		n.st.Duplicated++
		n.mu.Unlock()
	}
	n.finish(d, ok)
}

func (n *notifier) finish(d *delivery, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ok {
		n.inflight -= d.count
		n.st.Posts++
		if d.lifecycle {
			n.st.Lifecycle += d.count
		} else {
			n.st.Delivered += d.count
		}
		return
	}
	if n.closed {
		n.inflight -= d.count
		return
	}
	n.st.Failed++
	d.attempts++
	_, live := n.subs[d.subID]
	if (!live && !d.lifecycle) || n.s.now().Sub(d.first) >= retryWindow {
		n.inflight -= d.count
		n.st.GaveUp += d.count
		return
	}
	n.st.Retried++
	delay := n.retry << min(d.attempts-1, maxRetryDoublings)
	if n.slowPercentLocked(d.url) >= throttleSlowPercent {
		delay = n.throttleDelay
	}
	time.AfterFunc(delay, func() {
		n.mu.Lock()
		if n.closed {
			n.inflight -= d.count
			n.mu.Unlock()
			return
		}
		n.wg.Add(1)
		n.mu.Unlock()
		n.send(d, false)
	})
}

// post sends the batch; success is a 2xx within the notification timeout.
// It counts the answer towards the endpoint's slowness: slower than 29/30
// of the timeout (2900 ms of 3 s), or none in time.
func (n *notifier) post(d *delivery) (ok bool) {
	ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if n.ctx.Err() != nil {
			return // closing: not the endpoint's fault
		}
		slow := time.Since(start) > n.timeout*29/30
		n.mu.Lock()
		h := n.healthLocked(d.url)
		h.total++
		if slow {
			h.slow++
		}
		n.mu.Unlock()
	}()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false
	}
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := n.client.Do(hreq)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)); err != nil {
		return false
	}
	return res.StatusCode >= 200 && res.StatusCode < 300
}

// startTickerLocked starts the loop that expires subscriptions and sends
// reauthorizationRequired before expiry (in the simulator's clock).
func (n *notifier) startTickerLocked() {
	if n.tickerOn || n.closed {
		return
	}
	n.tickerOn = true
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		tk := time.NewTicker(n.tick)
		defer tk.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-tk.C:
				n.s.purgeExpired() // before n.mu: record queues under s.mu
				n.lifecycleCheck()
			}
		}
	}()
}

func (n *notifier) lifecycleCheck() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	now := n.s.now()
	n.expireLocked(now)
	for _, sub := range n.subs {
		if sub.expiration.Sub(now) <= n.reauthBefore && !sub.reauthSentFor.Equal(sub.expiration) {
			sub.reauthSentFor = sub.expiration
			n.sendLifecycleLocked(sub, lifecycleReauthorizationRequired)
			n.s.markDirty()
		}
	}
}

// expireLocked removes subscriptions whose expiry has passed. Graph sends
// no subscriptionRemoved for directory resources.
func (n *notifier) expireLocked(now time.Time) {
	for id, sub := range n.subs {
		if !now.Before(sub.expiration) {
			delete(n.subs, id)
			n.st.Expired++
			n.s.markDirty()
		}
	}
}

func (n *notifier) remove(id, why string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.subs[id]; !ok {
		return false
	}
	delete(n.subs, id)
	if why == "expired" {
		n.st.Expired++
	}
	n.s.markDirty()
	return true
}

// grantRevoked challenges the subscriptions a revoked grant created: the
// app's in the tenant (userID empty), or those the user created with
// delegated tokens through any app (appID empty: a user's revoked sessions
// end every app's access). Their changes are not delivered until
// reauthorized.
func (n *notifier) grantRevoked(tenantID, appID, userID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, sub := range n.subs {
		if sub.tenantID != tenantID || (appID != "" && sub.appID != appID) || sub.revoked {
			continue
		}
		if userID != "" && (!sub.delegated || sub.creatorID != userID) {
			continue
		}
		sub.revoked, sub.revokedAt = true, n.s.now()
		n.st.Paused += len(sub.pending)
		sub.pending = nil
		n.sendLifecycleLocked(sub, lifecycleReauthorizationRequired)
		n.s.markDirty()
	}
}

// notificationControls mounts the /_sim/ endpoints that observe and break
// delivery.
func (s *Server) notificationControls(mux *http.ServeMux) {
	n := s.notif
	mux.HandleFunc("GET /_sim/notifications", func(w http.ResponseWriter, r *http.Request) { ctlJSON(w, 200, n.stats()) })
	mux.HandleFunc("POST /_sim/notifications", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			LatencyMs *int `json:"latencyMs"`
			Drop      *int `json:"drop"`
			Duplicate *int `json:"duplicate"`
		}
		if !decodeCtl(w, r, &in) {
			return
		}
		for _, v := range []*int{in.LatencyMs, in.Drop, in.Duplicate} {
			if v != nil && *v < 0 {
				ctlError(w, 400, "latencyMs, drop and duplicate must not be negative")
				return
			}
		}
		n.mu.Lock()
		if in.LatencyMs != nil {
			n.latency = time.Duration(*in.LatencyMs) * time.Millisecond
		}
		if in.Drop != nil {
			n.drop = *in.Drop
		}
		if in.Duplicate != nil {
			n.dup = *in.Duplicate
		}
		n.mu.Unlock()
		ctlJSON(w, 200, n.stats())
	})
	mux.HandleFunc("DELETE /_sim/notifications", func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.latency, n.drop, n.dup = 0, 0, 0
		n.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for _, sub := range n.list() {
			n.mu.Lock()
			m := map[string]any{
				"id": sub.id, "tenantId": sub.tenantID, "applicationId": sub.appID, "creatorId": sub.creatorID,
				"resource": sub.resource, "changeType": sub.changeType, "notificationUrl": sub.notificationURL,
				"lifecycleNotificationUrl": sub.lifecycleURL, "expirationDateTime": subscriptionTime(sub.expiration),
				"pending": len(sub.pending), "reauthorizationRequired": sub.revoked,
			}
			n.mu.Unlock()
			out = append(out, m)
		}
		ctlJSON(w, 200, map[string]any{"value": out})
	})
	mux.HandleFunc("POST /_sim/subscriptions/{id}/expire", func(w http.ResponseWriter, r *http.Request) {
		if !n.remove(strings.ToLower(r.PathValue("id")), "expired") {
			ctlError(w, 404, "no subscription %s", r.PathValue("id"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/subscriptions/{id}/lifecycle", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Event string `json:"event"`
		}
		if !decodeCtl(w, r, &in) {
			return
		}
		switch in.Event {
		case lifecycleReauthorizationRequired, lifecycleSubscriptionRemoved, lifecycleMissed:
		default:
			ctlError(w, 400, "event: want %s, %s or %s", lifecycleReauthorizationRequired, lifecycleSubscriptionRemoved, lifecycleMissed)
			return
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		sub := n.subs[strings.ToLower(r.PathValue("id"))]
		if sub == nil {
			ctlError(w, 404, "no subscription %s", r.PathValue("id"))
			return
		}
		if sub.lifecycleURL == "" {
			ctlError(w, 409, "subscription %s has no lifecycleNotificationUrl", sub.id)
			return
		}
		switch in.Event {
		case lifecycleReauthorizationRequired:
			sub.revoked = true
		case lifecycleSubscriptionRemoved:
			delete(n.subs, sub.id)
		}
		n.sendLifecycleLocked(sub, in.Event)
		n.s.markDirty()
		w.WriteHeader(http.StatusNoContent)
	})
}
