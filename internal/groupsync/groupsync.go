// Package groupsync is the group member sync engine (docs/SPEC.md §6):
// it imports the members of a source group of a data source into a
// directory group, full on the first run and incremental afterwards,
// streaming pages into batched transactions so memory stays flat at any
// tenant size. It owns the rules around that — only users it imported are
// ever touched, missing users are kept, disabled or removed, override makes
// the group mirror the source, a safety threshold stops destructive runs for
// confirmation, dry runs change nothing — and the run records, their
// one-at-a-time lock and their audit entries. Connectors are reached only
// through connector.DirectoryReader; the scheduler, the API and the import
// command call Run.
package groupsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Defaults.
const (
	// DefaultBatchSize is the users of one upsert statement: the most one
	// multi-row statement takes (sqlstore's limit), since fewer, larger
	// statements cost less per user.
	DefaultBatchSize = 1000
	// DefaultThreshold is the share of a group's members a run may disable,
	// remove or take out of the group without confirmation.
	DefaultThreshold = 0.20
	// MaxChanges caps the changes of each action a dry run lists: the
	// first by name (display name, then email).
	MaxChanges = 1000
	// maxErrors caps the error items a run record keeps.
	maxErrors = 100
	// DefaultHeartbeat is how often a running run proves it is alive,
	// from its own goroutine, whether or not a page is being read or
	// stored (a page held back by Graph throttling does not stop it).
	DefaultHeartbeat = 10 * time.Second
	// DefaultStaleAfter is how long a running run may go without a
	// heartbeat before it is taken as dead (its process stopped) and
	// another run may take over: six missed heartbeats.
	DefaultStaleAfter = 60 * time.Second
)

// Missing-user policies (SyncSettings.MissingUsers).
const (
	MissingKeep    = "keep"
	MissingDisable = "disable"
	MissingRemove  = "remove"
)

// Service runs group member syncs.
type Service struct {
	Store       store.Store
	DataSources *datasource.Service // to check/mark status; connectors come from DataSources.Connectors
	Now         func() time.Time
	Logger      *slog.Logger
	BatchSize   int // upsert batch, default DefaultBatchSize
	// Threshold overrides DefaultThreshold (0 means the default).
	Threshold float64
	// StaleAfter overrides DefaultStaleAfter (0 means the default); tests
	// that kill processes shorten it so a restart takes over the dead run
	// without waiting a quarter of an hour.
	StaleAfter time.Duration
	// Heartbeat overrides DefaultHeartbeat (0 means the default).
	Heartbeat time.Duration
	// Directory finds groups as the caller may see them; Tasks keeps a
	// group's scheduled task in step with its settings (jobs.Scheduler).
	// Both are needed by Settings and SaveSettings only.
	Directory *directory.Service
	Tasks     Tasks
	// Events receives the changes runs apply (process triggers); nil
	// reports none.
	Events EventSink

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc // runs of this process, by run id
}

// RunOptions shape one run.
type RunOptions struct {
	DryRun   bool           // compute and report the changes, store nothing (except the run record, marked dry run)
	Confirm  bool           // proceed past the safety threshold
	Full     bool           // force a full run
	Progress func(Progress) // called as pages are applied (may be nil)
	Trigger  string         // "schedule", "manual", "webhook", "cli"
}

// Progress is a running run's position. Total is -1 when unknown (an
// incremental run, or a connector that cannot count); Unchanged is -1 on
// incremental runs, which read only what changed and so cannot count the
// members that did not.
type Progress struct {
	Phase                                                           string
	Seen, Created, Updated, Unchanged, Disabled, Removed, LeftGroup int
	Total                                                           int
}

// Progress phases.
const (
	PhaseReading = "reading"
	PhaseMissing = "missing"
	PhaseDone    = "done"
)

// Run is a sync run's record.
type Run struct {
	ID         string     `json:"id"`
	GroupID    string     `json:"groupId"`
	Status     string     `json:"status"` // running|succeeded|failed|stopped
	Trigger    string     `json:"trigger"`
	DryRun     bool       `json:"dryRun"`
	Full       bool       `json:"full"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
	// Counts are what the run did so far. On an incremental run (Full
	// false) Counts.Unchanged is 0 and the JSON says null: such a run reads
	// only the members that changed, so it cannot count those that did not.
	Counts Counts   `json:"counts"`
	Errors []string `json:"errors"`
	// Changes are, for a dry run, what would change: per action (see the
	// Action constants, listed in that order) the first MaxChanges by
	// name, with the person's display name and email.
	Changes []Change `json:"changes,omitempty"`
	// Seen is how many members the run has read so far; Total, on a full
	// run whose connector can count them (connector.MemberCounter), how
	// many the source said it had when the run started, never below Seen
	// (0 and absent from the JSON when unknown). The group page shows
	// "Seen of Total".
	Seen  int `json:"seen"`
	Total int `json:"total,omitempty"`
}

// MarshalJSON writes the run with counts.unchanged null on an incremental
// run (see Counts).
func (r Run) MarshalJSON() ([]byte, error) {
	type plain Run
	out := struct {
		plain
		Counts countsJSON `json:"counts"`
	}{plain: plain(r), Counts: countsJSON{Counts: r.Counts}}
	if r.Full {
		out.Counts.Unchanged = &r.Counts.Unchanged
	}
	return json.Marshal(out)
}

// countsJSON is Counts with Unchanged that can be null.
type countsJSON struct {
	Counts
	Unchanged *int `json:"unchanged"`
}

// ChangesOf returns the run's listed changes of one action.
func (r *Run) ChangesOf(action string) []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// Counts are what a run did (or, dry, would do).
type Counts struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Unchanged are the members a full run read that were already as
	// imported; 0 on an incremental run, which cannot know (Run.Full).
	Unchanged int `json:"unchanged"`
	Disabled  int `json:"disabled"`
	Removed   int `json:"removed"`
	LeftGroup int `json:"leftGroup"`
	// Skipped are source members not imported because of an error (see
	// Errors): no email, or an email another directory user holds.
	Skipped int `json:"skipped"`
	// Kept are users this sync no longer has that the missing-users policy
	// left alone because another group's sync still imports them.
	Kept int `json:"kept"`
}

// Change is one change a dry run found.
type Change struct {
	Action      string `json:"action"` // ActionCreate, ActionUpdate, ActionDisable, ActionRemove, ActionLeaveGroup, ActionKeep, ActionSkip
	UserID      string `json:"userId,omitempty"`
	ObjectID    string `json:"objectId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

// runResult is what the store keeps of a run in SyncRun.Result.
type runResult struct {
	Counts  Counts   `json:"counts"`
	Errors  []string `json:"errors"`
	Changes []Change `json:"changes,omitempty"`
	Seen    int      `json:"seen,omitempty"`
	Total   int      `json:"total,omitempty"`
}

func fromStore(r *store.SyncRun) *Run {
	out := &Run{ID: r.ID, GroupID: r.GroupID, Status: r.Status, Trigger: r.Trigger, DryRun: r.DryRun, Full: r.Full,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Errors: []string{}}
	var res runResult
	if err := json.Unmarshal(r.Result, &res); err == nil {
		out.Counts, out.Changes, out.Seen, out.Total = res.Counts, res.Changes, res.Seen, res.Total
		if !out.Full {
			out.Counts.Unchanged = 0
		}
		if res.Errors != nil {
			out.Errors = res.Errors
		}
	}
	return out
}

func (r *Run) toStore(heartbeat time.Time) (*store.SyncRun, error) {
	b, err := json.Marshal(runResult{Counts: r.Counts, Errors: r.Errors, Changes: r.Changes, Seen: r.Seen, Total: r.Total})
	if err != nil {
		return nil, fmt.Errorf("encode run result: %w", err)
	}
	return &store.SyncRun{ID: r.ID, GroupID: r.GroupID, Status: r.Status, Trigger: r.Trigger, DryRun: r.DryRun,
		Full: r.Full, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, HeartbeatAt: heartbeat, Result: b}, nil
}

func requireAdmin(p *tenantlink.Principal) error {
	if p == tenantlink.System || p.Has(tenantlink.RoleAdministrator) {
		return nil
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, "Group member sync needs the Administrator role.")
}

// Runs lists a group's runs, newest first (limit 0 = 50).
func (s *Service) Runs(ctx context.Context, p *tenantlink.Principal, groupID string, limit int) ([]*Run, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if _, err := s.group(ctx, groupID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	rs, err := s.Store.ListSyncRuns(ctx, groupID, limit)
	if err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	out := make([]*Run, 0, len(rs))
	for _, r := range rs {
		out = append(out, fromStore(r))
	}
	return out, nil
}

// ValidateSettings checks a group's sync settings before the groups API
// stores them, normalising MissingUsers ("" becomes keep) and SourceGroup
// (trimmed). Nil settings (no sync) are valid.
func ValidateSettings(ctx context.Context, st store.Store, ds *datasource.Service, p *tenantlink.Principal, s *tenantlink.SyncSettings) error {
	if s == nil {
		return nil
	}
	switch s.MissingUsers {
	case "":
		s.MissingUsers = MissingKeep
	case MissingKeep, MissingDisable, MissingRemove:
	default:
		return tenantlink.Errorf(tenantlink.EINVALID, "sync.missingUsers must be %q, %q or %q, not %q", MissingKeep, MissingDisable, MissingRemove, s.MissingUsers)
	}
	s.SourceGroup = strings.TrimSpace(s.SourceGroup)
	if !s.Enabled && s.DataSource == "" && s.SourceGroup == "" {
		return nil
	}
	if s.DataSource == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "sync.datasource is required: the Office 365 data source to import from")
	}
	if s.SourceGroup == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "sync.sourceGroup is required: a group id, its exact display name, or * for all users")
	}
	if len(s.SourceGroup) > 256 || strings.ContainsAny(s.SourceGroup, "\x00\r\n") {
		return tenantlink.Errorf(tenantlink.EINVALID, "sync.sourceGroup must be one line of at most 256 characters")
	}
	d, err := st.GetDataSource(ctx, s.DataSource)
	if errors.Is(err, store.ErrNotFound) {
		return tenantlink.Errorf(tenantlink.EINVALID, "sync.datasource %q is not a data source", s.DataSource)
	}
	if err != nil {
		return fmt.Errorf("validate sync settings: %w", err)
	}
	if ds != nil {
		if _, ok := ds.Connectors[d.Type].(connector.DirectoryReader); !ok {
			return tenantlink.Errorf(tenantlink.EINVALID, "data source %q (%s) cannot import users", d.Name, d.Type)
		}
	}
	if err := datasource.CanUse(p, d); err != nil {
		return err
	}
	return checkSourceGroup(ctx, ds, d, s)
}

// checkSourceGroup resolves the source group through the data source's
// connector, so a group that does not exist in the tenant (or a name
// several groups share) is refused when saved, not at the first run. A
// sync turned on needs a ready, authorized data source for that; settings
// saved off are checked when the data source can answer.
func checkSourceGroup(ctx context.Context, dss *datasource.Service, d *tenantlink.DataSource, s *tenantlink.SyncSettings) error {
	if dss == nil {
		return nil
	}
	res, ok := dss.Connectors[d.Type].(connector.SourceGroupResolver)
	if !ok {
		return nil
	}
	if d.Status != tenantlink.StatusReady || d.Account == "" {
		if !s.Enabled {
			return nil
		}
		if d.Status == tenantlink.StatusReauthorize {
			return tenantlink.Errorf(tenantlink.EINVALID, "Data source %q needs re-authorization: re-authorize it before turning the sync on.", d.Name)
		}
		return tenantlink.Errorf(tenantlink.EINVALID, "Data source %q is not ready (status %q): authorize it before turning the sync on.", d.Name, d.Status)
	}
	if _, err := res.ResolveSourceGroup(ctx, d, dss.Credentials(), s.SourceGroup); err != nil {
		if tenantlink.ErrorCode(err) == tenantlink.EINVALID {
			return err
		}
		return tenantlink.Errorf(tenantlink.EINVALID, "The source group %q could not be checked in the tenant: %s", s.SourceGroup, message(err))
	}
	return nil
}

// Run runs one sync of a group now and returns its record. A run that
// started and then failed or stopped is returned with its record and a nil
// error: the outcome is in Status and Errors. Errors are returned for what
// prevents a run from starting (forbidden, not configured, already running:
// ECONFLICT).
func (s *Service) Run(ctx context.Context, p *tenantlink.Principal, groupID string, o RunOptions) (*Run, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	g, set, ds, reader, err := s.runnable(ctx, groupID)
	if err != nil {
		return nil, err
	}
	if o.Trigger == "" {
		o.Trigger = "manual"
	}
	now := s.now()
	run := &Run{GroupID: g.ID, Status: store.RunRunning, Trigger: o.Trigger, DryRun: o.DryRun, StartedAt: now, Errors: []string{}}
	rec, err := run.toStore(now)
	if err != nil {
		return nil, err
	}
	if _, err := s.closeDead(ctx, g.ID); err != nil {
		return nil, err
	}
	if err := s.Store.CreateSyncRun(ctx, rec, now.Add(-s.staleAfter())); err != nil {
		return nil, err
	}
	run.ID, run.StartedAt = rec.ID, rec.StartedAt
	r := &runner{s: s, p: p, g: g, set: set, ds: ds, reader: reader, o: o, run: run, log: s.logger().With("group", g.ID, "run", run.ID)}
	r.log.Info("group sync started", "trigger", o.Trigger, "dryRun", o.DryRun, "datasource", ds.ID)
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopBeat := s.heartbeat(runCtx, run.ID, cancel)
	s.track(run.ID, cancel)
	r.execute(runCtx)
	r.run.Changes = r.dry.list()
	if !r.run.Full {
		r.run.Counts.Unchanged = 0
	}
	stopBeat()
	s.untrack(run.ID)
	s.finish(runCtx, r)
	return run, nil
}

// heartbeat moves the run's heartbeat every Heartbeat from its own
// goroutine until the returned function is called. When the run's record
// is no longer running — an Administrator stopped it, or another process
// took it for dead — it cancels the run with errClosedElsewhere.
func (s *Service) heartbeat(ctx context.Context, runID string, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(s.heartbeatEvery())
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A write may queue behind a page's transaction (SQLite has
			// one writer): give it half the stale window, not one beat.
			bctx, bcancel := context.WithTimeout(ctx, s.staleAfter()/2)
			ok, err := s.Store.HeartbeatSyncRun(bctx, runID, s.now())
			bcancel()
			switch {
			case err != nil:
				s.logger().Warn("group sync: heartbeat", "run", runID, "err", err)
			case !ok:
				s.logger().Warn("group sync: the run was closed from outside; stopping it", "run", runID)
				cancel(errClosedElsewhere)
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (s *Service) track(id string, cancel context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = map[string]context.CancelCauseFunc{}
	}
	s.running[id] = cancel
}

func (s *Service) untrack(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, id)
}

// DeadRun is a run closed because its heartbeat stopped.
type DeadRun struct {
	ID, GroupID, Trigger string
	DryRun               bool
	StartedAt            time.Time
}

// CloseDeadRuns closes every running run whose heartbeat is older than
// StaleAfter — its process stopped — as failed, saying so, and returns
// them: the scheduler starts a run that takes each real one over.
func (s *Service) CloseDeadRuns(ctx context.Context) ([]DeadRun, error) {
	return s.closeDead(ctx, "")
}

func (s *Service) closeDead(ctx context.Context, groupID string) ([]DeadRun, error) {
	before := s.now().Add(-s.staleAfter())
	stale, err := s.Store.StaleSyncRuns(ctx, groupID, before)
	if err != nil {
		return nil, fmt.Errorf("find dead sync runs: %w", err)
	}
	var out []DeadRun
	for _, rec := range stale {
		run := fromStore(rec)
		end := s.now()
		run.Status, run.FinishedAt = store.RunFailed, &end
		run.Errors = append(run.Errors, fmt.Sprintf("No heartbeat since %s; the process running it probably stopped. Changes already applied are kept; the next run continues from the last stored position.",
			rec.HeartbeatAt.UTC().Format(time.RFC3339)))
		upd, err := run.toStore(rec.HeartbeatAt)
		if err != nil {
			return nil, err
		}
		closed := false
		err = s.Store.InTx(ctx, func(tx store.Store) error {
			var err error
			if closed, err = tx.CloseSyncRun(ctx, upd, before); err != nil || !closed {
				return err
			}
			return directory.Audit(ctx, tx, end, tenantlink.System, "group.sync", "group:"+rec.GroupID, store.RunFailed,
				"run "+rec.ID+" closed as dead: "+run.Errors[len(run.Errors)-1])
		})
		if err != nil {
			return nil, fmt.Errorf("close dead sync run: %w", err)
		}
		if closed {
			s.logger().Warn("group sync: closed a dead run", "group", rec.GroupID, "run", rec.ID, "heartbeat", rec.HeartbeatAt)
			out = append(out, DeadRun{ID: rec.ID, GroupID: rec.GroupID, Trigger: rec.Trigger, DryRun: rec.DryRun, StartedAt: rec.StartedAt})
		}
	}
	return out, nil
}

// Stop stops a running run of a group (Administrator only): its record is
// closed as stopped at once, with who stopped it, in one transaction with
// the audit entry; the process running it — this one or another replica —
// notices at its next heartbeat and cancels it. Changes already applied
// stay. A run that is not running is ECONFLICT.
func (s *Service) Stop(ctx context.Context, p *tenantlink.Principal, groupID, runID string) (*Run, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	g, err := s.group(ctx, groupID)
	if err != nil {
		return nil, err
	}
	var out *Run
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		rec, err := tx.GetSyncRun(ctx, runID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && rec.GroupID != g.ID) {
			return tenantlink.Errorf(tenantlink.ENOTFOUND, "Group %q has no sync run %q.", g.Name, runID)
		}
		if err != nil {
			return err
		}
		if rec.Status != store.RunRunning {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "The sync run is not running (it %s).", rec.Status)
		}
		run := fromStore(rec)
		end := s.now()
		run.Status, run.FinishedAt = store.RunStopped, &end
		run.Errors = append(run.Errors, fmt.Sprintf("Stopped by %s at %s. Changes already applied are kept; the next run continues from the last stored position.",
			p.Name(), end.Format(time.RFC3339)))
		upd, err := run.toStore(rec.HeartbeatAt)
		if err != nil {
			return err
		}
		closed, err := tx.CloseSyncRun(ctx, upd, time.Time{})
		if err != nil {
			return err
		}
		if !closed {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "The sync run ended meanwhile.")
		}
		out = run
		return directory.Audit(ctx, tx, end, p, "group.sync.stop", "group:"+g.ID, "ok", fmt.Sprintf("run %s stopped", runID))
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	cancel := s.running[runID]
	s.mu.Unlock()
	if cancel != nil {
		cancel(errClosedElsewhere)
	}
	return out, nil
}

// Check tells whether a run of the group can start now, and why not
// (Administrator only): the sync is configured and on, and its data
// source exists, is ready and authorized for a tenant, and can import
// users. "Run now" and the task's run are refused with its error rather
// than queuing a run that can only fail.
func (s *Service) Check(ctx context.Context, p *tenantlink.Principal, groupID string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	_, _, _, _, err := s.runnable(ctx, groupID)
	return err
}

func (s *Service) runnable(ctx context.Context, groupID string) (*tenantlink.Group, *tenantlink.SyncSettings, *tenantlink.DataSource, connector.DirectoryReader, error) {
	g, err := s.group(ctx, groupID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	set := g.Sync
	if set == nil || set.DataSource == "" || strings.TrimSpace(set.SourceGroup) == "" {
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "Group %q has no group member sync configured.", g.Name)
	}
	if !set.Enabled {
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "Group member sync is off for group %q: turn it on first.", g.Name)
	}
	ds, err := s.Store.GetDataSource(ctx, set.DataSource)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "The sync of group %q imports from data source %q, which no longer exists: choose another data source.", g.Name, set.DataSource)
	}
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("group %q: sync data source: %w", g.Name, err)
	}
	switch {
	case ds.Status == tenantlink.StatusReauthorize:
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "Data source %q needs re-authorization before the sync of group %q can run: re-authorize it first.", ds.Name, g.Name)
	case ds.Status != tenantlink.StatusReady:
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "Data source %q is not ready (status %q): the sync of group %q cannot run until it is.", ds.Name, ds.Status, g.Name)
	case ds.Account == "":
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "Data source %q is not authorized for a tenant: authorize it first.", ds.Name)
	}
	reader, ok := s.DataSources.Connectors[ds.Type].(connector.DirectoryReader)
	if !ok {
		return nil, nil, nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "Data source %q (%s) cannot import users.", ds.Name, ds.Type)
	}
	return g, set, ds, reader, nil
}

// groupSettingsGetter is a store that reads a group without its members
// (sqlstore.DB): a run needs only the settings at its start, and the
// members of a large group cost more to read than an incremental run's
// own work. Other stores fall back to GetGroup.
type groupSettingsGetter interface {
	GetGroupSettings(ctx context.Context, id string) (*tenantlink.Group, error)
}

func (s *Service) group(ctx context.Context, id string) (*tenantlink.Group, error) {
	if gs, ok := s.Store.(groupSettingsGetter); ok {
		return gs.GetGroupSettings(ctx, id)
	}
	return s.Store.GetGroup(ctx, id)
}

func (s *Service) now() time.Time { return tenantlink.Now(s.Now).UTC() }

func (s *Service) staleAfter() time.Duration {
	if s.StaleAfter > 0 {
		return s.StaleAfter
	}
	return DefaultStaleAfter
}

// heartbeatEvery is Heartbeat, else DefaultHeartbeat — at most a sixth
// of the stale window, so a shortened window (tests) is not outrun by the
// heartbeat and live runs are not taken for dead.
func (s *Service) heartbeatEvery() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return min(DefaultHeartbeat, s.staleAfter()/6)
}

func (s *Service) logger() *slog.Logger { return tenantlink.LoggerOr(s.Logger) }

func (s *Service) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return DefaultBatchSize
}

func (s *Service) threshold() float64 {
	if s.Threshold > 0 {
		return s.Threshold
	}
	return DefaultThreshold
}

// finish writes the run's final record and its audit entry. They are
// written even when ctx was cancelled: a stopped run must not stay
// "running".
func (s *Service) finish(ctx context.Context, r *runner) {
	ctx = context.WithoutCancel(ctx)
	end := s.now()
	r.run.FinishedAt = &end
	rec, err := r.run.toStore(end)
	if err == nil {
		err = s.Store.UpdateSyncRun(ctx, rec)
	}
	switch {
	case err != nil && errors.Is(err, store.ErrNotFound):
		// Closed from outside (stopped, or taken for dead): its record
		// says so already and is not reopened.
		r.log.Info("group sync: the run's record was closed from outside; its end is not recorded over it")
	case err != nil:
		r.log.Error("group sync: record the run's end", "err", err)
	}
	c := r.run.Counts
	unchanged := ""
	if r.run.Full {
		unchanged = fmt.Sprintf(", unchanged %d", c.Unchanged)
	}
	detail := fmt.Sprintf("trigger %s; created %d, updated %d%s, disabled %d, removed %d, left group %d",
		r.run.Trigger, c.Created, c.Updated, unchanged, c.Disabled, c.Removed, c.LeftGroup)
	if r.run.DryRun {
		detail = "dry run; " + detail
	}
	if len(r.run.Errors) > 0 {
		detail += "; " + r.run.Errors[0]
	}
	if err := directory.Audit(ctx, s.Store, end, r.p, "group.sync", "group:"+r.g.ID, r.run.Status, detail); err != nil {
		r.log.Error("group sync: audit", "err", err)
	}
	r.log.Info("group sync finished", "status", r.run.Status, "full", r.run.Full, "created", c.Created, "updated", c.Updated,
		"unchanged", c.Unchanged, "disabled", c.Disabled, "removed", c.Removed, "leftGroup", c.LeftGroup, "errors", len(r.run.Errors))
}

// Alive reports whether a group has a running run whose heartbeat is
// fresh (within StaleAfter).
func (s *Service) Alive(ctx context.Context, groupID string) (bool, error) {
	runs, err := s.Store.ListSyncRuns(ctx, groupID, 5)
	if err != nil {
		return false, fmt.Errorf("list sync runs: %w", err)
	}
	cut := s.now().Add(-s.staleAfter())
	for _, r := range runs {
		if r.Status == store.RunRunning && !r.HeartbeatAt.Before(cut) {
			return true, nil
		}
	}
	return false, nil
}

// StaleWindow is the effective StaleAfter.
func (s *Service) StaleWindow() time.Duration { return s.staleAfter() }
