// Package realtime keeps group member syncs current within seconds: it
// owns the change-notification subscriptions tenantlink holds per data
// source (one on users, one on groups — not one per group), renews them
// before they expire, recreates them when the upstream forgot them,
// answers reauthorization challenges, and takes notifications in at
// /hooks/graph/{datasource}: checked (clientState, tenant), filtered to the
// synced groups they concern, and turned into coalesced River jobs — an
// incremental run per group, at most one per Window. The sync's delta
// stays the source of truth; a lost notification only delays a change to
// the next scheduled run. See docs/decisions/0021.
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/metrics"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Resources tenantlink subscribes to per data source.
var Resources = []string{"users", "groups"}

// TriggerRealtime is the sync runs' trigger.
const TriggerRealtime = "realtime"

// Queue inserts River jobs (jobs.Scheduler).
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Service owns subscriptions and notification intake.
type Service struct {
	Store       store.Store
	Connectors  map[string]connector.Connector
	Credentials connector.CredentialStore
	Queue       Queue
	// PublicURL is tenantlink's public base; notifications go to
	// PublicURL/hooks/graph/{datasource}.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	Metrics   *metrics.Realtime

	// Window coalesces a group's notifications into one run: a run starts
	// at the end of the window a notification fell in (default DefaultWindow).
	Window time.Duration
	// RenewBefore renews a subscription when less than this remains
	// (default a third of the connector's lifetime).
	RenewBefore time.Duration
	// RetryFailed is how long a failed creation waits before the next
	// attempt (default 5 min), so a quota or a refused permission costs
	// one request per interval, not per tick.
	RetryFailed time.Duration
	// Sync runs one incremental sync of a group to its end (package
	// groupsync through package app, trigger "realtime"); ECONFLICT means
	// a run of the group is going.
	Sync func(ctx context.Context, groupID string) error
	// Interval is how often each replica queues the maintenance of every
	// data source with real-time groups (default 1 min).
	Interval time.Duration

	hints hintStore
}

func (s *Service) now() time.Time { return tenantlink.Now(s.Now).UTC() }

func (s *Service) log() *slog.Logger { return tenantlink.LoggerOr(s.Logger) }

// DefaultWindow is the coalescing window when none is configured.
const DefaultWindow = 3500 * time.Millisecond

func (s *Service) window() time.Duration {
	if s.Window <= 0 {
		return DefaultWindow
	}
	return s.Window
}

func (s *Service) interval() time.Duration {
	if s.Interval <= 0 {
		return time.Minute
	}
	return s.Interval
}

func (s *Service) retryFailed() time.Duration {
	if s.RetryFailed <= 0 {
		return 5 * time.Minute
	}
	return s.RetryFailed
}

// NotificationURL is where the upstream posts a data source's
// notifications (change and lifecycle alike).
func (s *Service) NotificationURL(dsID string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/hooks/graph/" + dsID
}

func (s *Service) subscriber(ds *tenantlink.DataSource) (connector.Subscriber, bool) {
	c, ok := s.Connectors[ds.Type]
	if !ok {
		return nil, false
	}
	sub, ok := c.(connector.Subscriber)
	return sub, ok
}

// realtimeGroups returns the groups whose sync is on with real time, of
// data source dsID ("" for every data source).
func (s *Service) realtimeGroups(ctx context.Context, dsID string) ([]*tenantlink.Group, error) {
	all, err := s.Store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []*tenantlink.Group
	for _, g := range all {
		if g.Sync != nil && g.Sync.Enabled && g.Sync.Realtime && (dsID == "" || g.Sync.DataSource == dsID) {
			out = append(out, g)
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Subscriptions: maintenance.

// MaintainArgs is the River job that brings a data source's subscriptions
// in step with its real-time groups. It is unique per data source while
// queued or running, so replicas ticking together, and lifecycle
// notifications arriving at several replicas, make one job — and never
// two creations of the same subscription at once.
type MaintainArgs struct {
	DataSourceID string `json:"datasource" river:"unique"`
	Reason       string `json:"reason,omitempty"`
}

// Kind is River's name for the job.
func (MaintainArgs) Kind() string { return "realtime_maintain" }

// InsertOpts makes the job unique per data source while not finished.
func (MaintainArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	}}}
}

type maintainWorker struct {
	river.WorkerDefaults[MaintainArgs]
	s *Service
}

func (w *maintainWorker) Work(ctx context.Context, job *river.Job[MaintainArgs]) error {
	return w.s.Maintain(ctx, job.Args.DataSourceID)
}

// Register adds the maintenance worker to a River worker set
// (jobs.Config.Register).
func (s *Service) Register(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &maintainWorker{s: s}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &syncWorker{s: s})
}

// QueueMaintain queues the maintenance of a data source's subscriptions.
func (s *Service) QueueMaintain(ctx context.Context, dsID, reason string) error {
	if s.Queue == nil || dsID == "" {
		return nil
	}
	if _, err := s.Queue.Insert(ctx, MaintainArgs{DataSourceID: dsID, Reason: reason}, nil); err != nil {
		return fmt.Errorf("realtime: queue maintenance of data source %s: %w", dsID, err)
	}
	return nil
}

// Tick queues the maintenance of every data source that has real-time
// groups or still holds subscriptions (to remove them).
func (s *Service) Tick(ctx context.Context) error {
	ids := map[string]bool{}
	groups, err := s.realtimeGroups(ctx, "")
	if err != nil {
		return err
	}
	for _, g := range groups {
		ids[g.Sync.DataSource] = true
	}
	rows, err := s.Store.ListGraphSubscriptions(ctx, "")
	if err != nil {
		return err
	}
	for _, r := range rows {
		ids[r.DataSourceID] = true
	}
	var errs []error
	for id := range ids {
		errs = append(errs, s.QueueMaintain(ctx, id, "tick"))
	}
	return errors.Join(errs...)
}

// Run ticks every Interval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.interval())
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("real-time maintenance tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Maintain brings a data source's subscriptions in step: with real-time
// groups (and the data source ready) it creates what is missing, renews
// what expires within RenewBefore, recreates what the upstream forgot
// (404) and answers reauthorization challenges; without, it deletes them.
func (s *Service) Maintain(ctx context.Context, dsID string) error {
	rows, err := s.Store.ListGraphSubscriptions(ctx, dsID)
	if err != nil {
		return err
	}
	ds, err := s.Store.GetDataSource(ctx, dsID)
	if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
		return nil // deleted: its rows went with it
	}
	if err != nil {
		return err
	}
	groups, err := s.realtimeGroups(ctx, dsID)
	if err != nil {
		return err
	}
	sub, ok := s.subscriber(ds)
	byRes := map[string]*store.GraphSubscription{}
	for _, r := range rows {
		byRes[r.Resource] = r
	}
	if len(groups) == 0 || !ok {
		for _, r := range rows {
			if ok && r.SubscriptionID != "" {
				if err := sub.Unsubscribe(ctx, ds, s.Credentials, r.SubscriptionID); err != nil {
					s.log().Warn("delete subscription", "datasource", dsID, "subscription", r.SubscriptionID, "err", err)
				}
			}
			if err := s.change(ctx, ds, "datasource.subscription.delete", r.Resource+": real time off", func(tx store.Store) error {
				return tx.DeleteGraphSubscription(ctx, r.ID)
			}); err != nil && tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
				return err
			}
		}
		return nil
	}
	if ds.Status != tenantlink.StatusReady {
		return nil // authorize first; the next tick tries again
	}
	var errs []error
	for _, res := range Resources {
		r := byRes[res]
		if r == nil {
			r = &store.GraphSubscription{DataSourceID: ds.ID, Resource: res}
		}
		errs = append(errs, s.maintainOne(ctx, ds, sub, r))
	}
	return errors.Join(errs...)
}

func (s *Service) renewBefore(sub connector.Subscriber) time.Duration {
	if s.RenewBefore > 0 {
		return s.RenewBefore
	}
	return sub.SubscriptionLifetime() / 3
}

func (s *Service) maintainOne(ctx context.Context, ds *tenantlink.DataSource, sub connector.Subscriber, r *store.GraphSubscription) error {
	now := s.now()
	log := s.log().With("datasource", ds.ID, "resource", r.Resource)
	if r.SubscriptionID == "" {
		if r.Status == store.SubscriptionFailed && now.Sub(r.UpdatedAt) < s.retryFailed() {
			return nil
		}
		return s.create(ctx, ds, sub, r)
	}
	if r.Status == store.SubscriptionReauthorizing {
		err := sub.ReauthorizeSubscription(ctx, ds, s.Credentials, r.SubscriptionID)
		switch {
		case errors.Is(err, connector.ErrSubscriptionGone):
			log.Info("subscription gone; creating it again", "subscription", r.SubscriptionID)
			return s.create(ctx, ds, sub, r)
		case err != nil:
			return s.fail(ctx, ds, r, "reauthorize", err)
		}
		log.Info("subscription reauthorized", "subscription", r.SubscriptionID)
		r.Status, r.Message, r.UpdatedAt = store.SubscriptionActive, "", now
		if err := s.change(ctx, ds, "datasource.subscription.reauthorize", r.Resource+": reauthorized", func(tx store.Store) error {
			return tx.PutGraphSubscription(ctx, r)
		}); err != nil {
			return err
		}
	}
	if r.Status == store.SubscriptionActive && r.ExpiresAt != nil && r.ExpiresAt.Sub(now) > s.renewBefore(sub) {
		return nil
	}
	exp, err := sub.RenewSubscription(ctx, ds, s.Credentials, r.SubscriptionID, now.Add(sub.SubscriptionLifetime()))
	switch {
	case errors.Is(err, connector.ErrSubscriptionGone):
		log.Info("subscription gone; creating it again", "subscription", r.SubscriptionID)
		return s.create(ctx, ds, sub, r)
	case err != nil:
		return s.fail(ctx, ds, r, "renew", err)
	}
	r.ExpiresAt, r.Status, r.Message, r.UpdatedAt = &exp, store.SubscriptionActive, "", now
	log.Info("subscription renewed", "subscription", r.SubscriptionID, "expires", exp)
	return s.Store.PutGraphSubscription(ctx, r)
}

func (s *Service) create(ctx context.Context, ds *tenantlink.DataSource, sub connector.Subscriber, r *store.GraphSubscription) error {
	now := s.now()
	secret, err := newClientState()
	if err != nil {
		return err
	}
	url := s.NotificationURL(ds.ID)
	got, err := sub.Subscribe(ctx, ds, s.Credentials, connector.SubscriptionRequest{
		Resource: r.Resource, NotificationURL: url, LifecycleURL: url, ClientState: secret,
		ExpiresAt: now.Add(sub.SubscriptionLifetime()),
	})
	if err != nil {
		r.SubscriptionID, r.ClientState, r.ExpiresAt = "", "", nil
		return s.fail(ctx, ds, r, "create", err)
	}
	exp := got.ExpiresAt.UTC()
	r.SubscriptionID, r.ClientState, r.ExpiresAt = got.ID, secret, &exp
	r.Status, r.Message, r.UpdatedAt = store.SubscriptionActive, "", now
	s.log().Info("subscription created", "datasource", ds.ID, "resource", r.Resource, "subscription", got.ID, "expires", exp)
	return s.change(ctx, ds, "datasource.subscription.create", fmt.Sprintf("%s: subscription %s until %s", r.Resource, got.ID, exp.Format(time.RFC3339)), func(tx store.Store) error {
		return tx.PutGraphSubscription(ctx, r)
	})
}

// fail records why a subscription does not work. The job itself
// succeeds: the next tick (or RetryFailed) tries again, and River's
// retries would only repeat the refusal sooner.
func (s *Service) fail(ctx context.Context, ds *tenantlink.DataSource, r *store.GraphSubscription, what string, err error) error {
	msg := tenantlink.ErrorMessage(err)
	if errors.Is(err, connector.ErrSubscriptionQuota) {
		msg = "The tenant's subscription quota is reached, so changes arrive with the scheduled sync only. " + msg
	}
	if errors.Is(err, connector.ErrReauthorize) {
		msg = "The data source needs re-authorization. " + msg
	}
	s.log().Warn("subscription "+what+" failed", "datasource", ds.ID, "resource", r.Resource, "err", err)
	r.Status, r.Message, r.UpdatedAt = store.SubscriptionFailed, msg, s.now()
	return s.change(ctx, ds, "datasource.subscription."+what, r.Resource+": "+msg, func(tx store.Store) error {
		return tx.PutGraphSubscription(ctx, r)
	})
}

// change writes a subscription change and its audit entry in one
// transaction (actor: the system).
func (s *Service) change(ctx context.Context, ds *tenantlink.DataSource, action, detail string, fn func(tx store.Store) error) error {
	return s.Store.InTx(ctx, func(tx store.Store) error {
		if err := fn(tx); err != nil {
			return err
		}
		outcome := "ok"
		if strings.Contains(action, "create") || strings.Contains(action, "renew") || strings.Contains(action, "reauthorize") {
			if strings.Contains(detail, "quota") || strings.Contains(detail, "refused") || strings.Contains(detail, "re-authorization") {
				outcome = "failed"
			}
		}
		return directory.Audit(ctx, tx, s.now(), tenantlink.System, action, "datasource:"+ds.ID, outcome, detail)
	})
}

func newClientState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("realtime: client state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// State is a subscription as the data source and group pages show it.
type State = tenantlink.SubscriptionState

// States returns a data source's subscriptions with their state:
// "expiring" is an active one whose renewal is overdue (less than a tenth
// of its lifetime left, or an hour).
func (s *Service) States(ctx context.Context, dsID string) ([]State, error) {
	rows, err := s.Store.ListGraphSubscriptions(ctx, dsID)
	if err != nil {
		return nil, err
	}
	out := make([]State, 0, len(rows))
	for _, r := range rows {
		out = append(out, State{Resource: r.Resource, State: s.state(r), ExpiresAt: r.ExpiresAt, Message: r.Message, UpdatedAt: r.UpdatedAt})
	}
	return out, nil
}

func (s *Service) state(r *store.GraphSubscription) string {
	switch {
	case r.Status == store.SubscriptionFailed:
		return "failed"
	case r.Status == store.SubscriptionReauthorizing:
		return "reauthorizing"
	case r.SubscriptionID == "":
		return "pending"
	case r.ExpiresAt != nil && r.ExpiresAt.Sub(s.now()) < time.Hour:
		return "expiring"
	}
	return "active"
}

// Counts feeds the tenantlink_graph_subscriptions gauge.
func (s *Service) Counts(ctx context.Context) (map[[2]string]int, error) {
	rows, err := s.Store.ListGraphSubscriptions(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[[2]string]int{}
	for _, res := range Resources {
		for _, st := range []string{"active", "expiring", "reauthorizing", "failed", "pending"} {
			out[[2]string{res, st}] = 0
		}
	}
	for _, r := range rows {
		out[[2]string{r.Resource, s.state(r)}]++
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Notifications.

// maxBody bounds a notification POST (Graph sends at most 100 per POST).
const MaxBody = 1 << 20

// Receive takes a notification POST for data source dsID. Notifications
// whose subscription is unknown, belongs to another data source, carries
// another clientState or another tenant are ignored (logged at debug):
// the caller answers 202 whatever happens, so a forger learns nothing.
// Accepted changes queue coalesced sync runs of the synced groups they
// concern; lifecycle events queue the subscriptions' maintenance. Nothing
// slow happens here. The error is for the database failing only (the
// caller may answer 5xx so that the upstream retries).
func (s *Service) Receive(ctx context.Context, dsID string, body []byte) error {
	log := s.log().With("datasource", dsID)
	ds, err := s.Store.GetDataSource(ctx, dsID)
	if err != nil {
		if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
			log.Debug("notification for an unknown data source ignored")
			s.count("ignored", 1)
			return nil
		}
		return err
	}
	sub, ok := s.subscriber(ds)
	if !ok {
		s.count("ignored", 1)
		return nil
	}
	notes, err := sub.ParseNotifications(body)
	if err != nil {
		log.Debug("unreadable notification ignored", "err", err)
		s.count("ignored", 1)
		return nil
	}
	rows := map[string]*store.GraphSubscription{}
	var changes []connector.Notification
	for _, n := range notes {
		r, ok := rows[n.SubscriptionID]
		if !ok {
			r, err = s.Store.GetGraphSubscription(ctx, n.SubscriptionID)
			switch {
			case tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND:
				r = nil
			case err != nil:
				return err
			}
			rows[n.SubscriptionID] = r
		}
		if r == nil || r.DataSourceID != ds.ID || r.ClientState == "" || !auth.Equal(r.ClientState, n.ClientState) ||
			ds.Account == "" || !strings.EqualFold(n.TenantID, ds.Account) {
			log.Debug("notification ignored: unknown subscription, wrong clientState or tenant", "subscription", n.SubscriptionID)
			s.count("ignored", 1)
			continue
		}
		if n.LifecycleEvent != "" {
			s.count("lifecycle", 1)
			if err := s.lifecycle(ctx, ds, r, n.LifecycleEvent); err != nil {
				return err
			}
			continue
		}
		s.count("accepted", 1)
		changes = append(changes, n)
	}
	if len(changes) == 0 {
		return nil
	}
	groups, added, err := s.affected(ctx, ds, changes)
	if err != nil {
		return err
	}
	s.hints.add(added)
	return s.queueSyncs(ctx, groups)
}

func (s *Service) count(outcome string, n int) {
	if s.Metrics != nil {
		s.Metrics.Notifications.WithLabelValues(outcome).Add(float64(n))
	}
}

func (s *Service) lifecycle(ctx context.Context, ds *tenantlink.DataSource, r *store.GraphSubscription, event string) error {
	s.log().Info("lifecycle notification", "datasource", ds.ID, "resource", r.Resource, "event", event)
	switch event {
	case "reauthorizationRequired":
		r.Status, r.Message, r.UpdatedAt = store.SubscriptionReauthorizing, "Microsoft 365 asked for reauthorization.", s.now()
		if err := s.Store.PutGraphSubscription(ctx, r); err != nil {
			return err
		}
		return s.QueueMaintain(ctx, ds.ID, event)
	case "subscriptionRemoved":
		r.SubscriptionID, r.ClientState, r.ExpiresAt = "", "", nil
		r.Status, r.Message, r.UpdatedAt = "", "Microsoft 365 removed the subscription.", s.now()
		if err := s.Store.PutGraphSubscription(ctx, r); err != nil {
			return err
		}
		return s.QueueMaintain(ctx, ds.ID, event)
	case "missed":
		// Changes were lost: run every real-time group of the data source.
		groups, err := s.realtimeGroups(ctx, ds.ID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(groups))
		for _, g := range groups {
			ids = append(ids, g.ID)
		}
		return s.queueSyncs(ctx, ids)
	}
	return nil
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// affected returns the real-time groups of ds that changes concern: an
// all-users sync ("*") for any user change; a group sync for a change of
// its source group (by id; a source named by display name is taken as
// concerned by any group change) or of a user it imported.
//
// added are, per group, the members notifications of its source group
// said joined it (hints for the run: connector.ChangeHints).
func (s *Service) affected(ctx context.Context, ds *tenantlink.DataSource, changes []connector.Notification) (out []string, added map[string][]string, err error) {
	groups, err := s.realtimeGroups(ctx, ds.ID)
	if err != nil {
		return nil, nil, err
	}
	var users []string
	var grps []connector.Notification
	for _, n := range changes {
		switch n.Kind {
		case "user":
			users = append(users, n.ObjectID)
		case "group":
			grps = append(grps, n)
		}
	}
	added = map[string][]string{}
	for _, g := range groups {
		src := strings.TrimSpace(g.Sync.SourceGroup)
		hit := false
		if src == "*" {
			hit = len(users) > 0
		} else {
			for _, n := range grps {
				if !guidRE.MatchString(src) || strings.EqualFold(src, n.ObjectID) {
					hit = true
					if len(n.MembersAdded) > 0 {
						added[g.ID] = append(added[g.ID], n.MembersAdded...)
					}
				}
			}
			for i := 0; !hit && i < len(users); i += 500 {
				m, err := s.Store.SyncMembers(ctx, g.ID, store.SyncMemberFilter{ObjectIDs: users[i:min(i+500, len(users))], Limit: 1})
				if err != nil {
					return nil, nil, err
				}
				hit = len(m) > 0
			}
		}
		if hit {
			out = append(out, g.ID)
		}
	}
	return out, added, nil
}

// maxHints bounds the added members remembered per group between runs;
// beyond, the run reads the rest the usual way.
const maxHints = 1000

// hintStore keeps, per group, the members notifications said were added
// since the group's last real-time run started on this replica. It is
// memory only: a run on another replica, or after a restart, reads
// without hints — as many Graph requests as without notifications'
// help, and the same result (the delta is the truth).
type hintStore struct {
	mu    sync.Mutex
	added map[string]map[string]bool
}

// add records the members notifications said were added, per group.
func (h *hintStore) add(added map[string][]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for g, ids := range added {
		if h.added == nil {
			h.added = map[string]map[string]bool{}
		}
		set := h.added[g]
		if set == nil {
			set = map[string]bool{}
			h.added[g] = set
		}
		for _, id := range ids {
			if len(set) < maxHints {
				set[strings.ToLower(id)] = true
			}
		}
	}
}

// take returns and forgets a group's hints.
func (h *hintStore) take(groupID string) connector.ChangeHints {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.added[groupID]
	delete(h.added, groupID)
	out := connector.ChangeHints{AddedMembers: make([]string, 0, len(set))}
	for id := range set {
		out.AddedMembers = append(out.AddedMembers, id)
	}
	slices.Sort(out.AddedMembers)
	return out
}

// SyncArgs is a real-time run of one group, for the window starting at
// Due. It is unique by (group, window) in every state, so notifications —
// at any replica — share it until it starts; it never starts before its
// window, so a burst costs at most one run per window, while a lone change
// runs at once.
type SyncArgs struct {
	GroupID string    `json:"groupId" river:"unique"`
	Due     time.Time `json:"due" river:"unique"`
}

// Kind is River's name for the job.
func (SyncArgs) Kind() string { return "realtime_sync" }

// InsertOpts makes the job unique by its arguments.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Service
}

// conflictWait is how long a real-time run waits, in the job, for the
// group's running run to end before snoozing (River's snooze goes through
// its scheduler, which looks every 5 s: too slow for seconds).
const conflictWait = 2 * time.Minute

func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	s := w.s
	if s.Sync == nil {
		return river.JobCancel(errors.New("realtime: no sync function"))
	}
	if err := sleep(ctx, job.Args.Due.Sub(s.now())); err != nil {
		return err
	}
	// What notifications said this run will find, taken now: those that
	// arrive from here on queue the next window's run.
	// A run follows whenever a notification arrives: additions still
	// unannounced may wait for it (connector.ChangeHints.FollowUp).
	hints := s.hints.take(job.Args.GroupID)
	hints.FollowUp = true
	ctx = connector.WithChangeHints(ctx, hints)
	start := s.now()
	for {
		err := s.Sync(ctx, job.Args.GroupID)
		switch tenantlink.ErrorCode(err) {
		case "":
			return nil
		case tenantlink.ECONFLICT:
			if s.now().Sub(start) > conflictWait {
				return river.JobSnooze(s.window())
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
			continue
		case tenantlink.EINVALID, tenantlink.ENOTFOUND, tenantlink.EFORBIDDEN:
			s.log().Info("real-time run not possible", "group", job.Args.GroupID, "err", err)
			return river.JobCancel(err)
		}
		return err
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// queueSyncs queues a real-time run of each group: the current window's
// job when it has not started yet (or a new one, which starts at once),
// else the next window's.
func (s *Service) queueSyncs(ctx context.Context, groupIDs []string) error {
	if s.Queue == nil {
		return nil
	}
	w := s.window()
	start := s.now().Truncate(w)
	var errs []error
	for _, id := range groupIDs {
		result := "queued"
		for j := 0; j < 4; j++ {
			due := start.Add(time.Duration(j) * w)
			res, err := s.Queue.Insert(ctx, SyncArgs{GroupID: id, Due: due}, nil)
			if err != nil {
				errs = append(errs, fmt.Errorf("realtime: queue sync of group %s: %w", id, err))
				break
			}
			if !res.UniqueSkippedAsDuplicate {
				s.log().Debug("real-time sync queued", "group", id, "due", due, "job", res.Job.ID)
				break
			}
			st := res.Job.State
			if st != rivertype.JobStateRunning && st != rivertype.JobStateCompleted &&
				st != rivertype.JobStateCancelled && st != rivertype.JobStateDiscarded ||
				// A worker holds it but sleeps until its window: it
				// has not read anything yet either. (Counting it as
				// started queued a run for the window after, which
				// read nothing new at the end of a burst.)
				st == rivertype.JobStateRunning && due.After(s.now()) {
				result = "coalesced"
				break
			}
		}
		if s.Metrics != nil {
			s.Metrics.Enqueued.WithLabelValues(result).Inc()
		}
	}
	return errors.Join(errs...)
}
