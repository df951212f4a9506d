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
	// MaxChanges caps the changes a dry run reports.
	MaxChanges = 1000
	// maxErrors caps the error items a run record keeps.
	maxErrors = 100
	// DefaultStaleAfter is how long a running run may go without a
	// heartbeat before another run may take over (its process died). It
	// is generous because a run's heartbeat moves only as its pages of
	// users commit, and Graph throttling can hold a page back for minutes.
	DefaultStaleAfter = 15 * time.Minute
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
}

// RunOptions shape one run.
type RunOptions struct {
	DryRun   bool           // compute and report the changes, store nothing (except the run record, marked dry run)
	Confirm  bool           // proceed past the safety threshold
	Full     bool           // force a full run
	Progress func(Progress) // called as pages are applied (may be nil)
	Trigger  string         // "schedule", "manual", "webhook", "cli"
}

// Progress is a running run's position. Total is -1 when unknown.
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
	Counts     Counts     `json:"counts"`
	Errors     []string   `json:"errors"`
	Changes    []Change   `json:"changes,omitempty"` // dry run: what would change, capped at MaxChanges
}

// Counts are what a run did (or, dry, would do).
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Disabled  int `json:"disabled"`
	Removed   int `json:"removed"`
	LeftGroup int `json:"leftGroup"`
}

// Change is one change a dry run found.
type Change struct {
	Action   string `json:"action"` // create, update, disable, remove, leaveGroup, skip
	UserID   string `json:"userId,omitempty"`
	ObjectID string `json:"objectId,omitempty"`
	Email    string `json:"email,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// runResult is what the store keeps of a run in SyncRun.Result.
type runResult struct {
	Counts  Counts   `json:"counts"`
	Errors  []string `json:"errors"`
	Changes []Change `json:"changes,omitempty"`
}

func fromStore(r *store.SyncRun) *Run {
	out := &Run{ID: r.ID, GroupID: r.GroupID, Status: r.Status, Trigger: r.Trigger, DryRun: r.DryRun, Full: r.Full,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Errors: []string{}}
	var res runResult
	if err := json.Unmarshal(r.Result, &res); err == nil {
		out.Counts, out.Changes = res.Counts, res.Changes
		if res.Errors != nil {
			out.Errors = res.Errors
		}
	}
	return out
}

func (r *Run) toStore(heartbeat time.Time) (*store.SyncRun, error) {
	b, err := json.Marshal(runResult{Counts: r.Counts, Errors: r.Errors, Changes: r.Changes})
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
	g, err := s.group(ctx, groupID)
	if err != nil {
		return nil, err
	}
	set := g.Sync
	if set == nil || set.DataSource == "" || strings.TrimSpace(set.SourceGroup) == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Group %q has no group member sync configured.", g.Name)
	}
	if !set.Enabled {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Group member sync is off for group %q.", g.Name)
	}
	ds, err := s.Store.GetDataSource(ctx, set.DataSource)
	if err != nil {
		return nil, fmt.Errorf("group %q: sync data source: %w", g.Name, err)
	}
	reader, ok := s.DataSources.Connectors[ds.Type].(connector.DirectoryReader)
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Data source %q (%s) cannot import users.", ds.Name, ds.Type)
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
	if err := s.Store.CreateSyncRun(ctx, rec, now.Add(-s.staleAfter())); err != nil {
		return nil, err
	}
	run.ID, run.StartedAt = rec.ID, rec.StartedAt
	r := &runner{s: s, p: p, g: g, set: set, ds: ds, reader: reader, o: o, run: run, log: s.logger().With("group", g.ID, "run", run.ID)}
	r.log.Info("group sync started", "trigger", o.Trigger, "dryRun", o.DryRun, "datasource", ds.ID)
	r.execute(ctx)
	s.finish(ctx, r)
	return run, nil
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

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) staleAfter() time.Duration {
	if s.StaleAfter > 0 {
		return s.StaleAfter
	}
	return DefaultStaleAfter
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

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
	if err != nil {
		r.log.Error("group sync: record the run's end", "err", err)
	}
	c := r.run.Counts
	detail := fmt.Sprintf("trigger %s; created %d, updated %d, unchanged %d, disabled %d, removed %d, left group %d",
		r.run.Trigger, c.Created, c.Updated, c.Unchanged, c.Disabled, c.Removed, c.LeftGroup)
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
