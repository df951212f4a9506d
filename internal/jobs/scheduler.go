package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/store"
)

// SyncRequest is one group member sync a job asks for.
type SyncRequest struct {
	GroupID string
	TaskID  string // "" for a run not started by a task
	Trigger string // "schedule", "manual", "webhook"
	Confirm bool   // go past the safety threshold
	Full    bool   // ignore the stored cursor
	Attempt int    // River's attempt number, 1 for the first
}

// SyncResult is a finished sync run, as the task list records it.
type SyncResult struct {
	RunID   string
	Status  string // StatusSucceeded, StatusFailed or StatusStopped
	Message string
}

// SyncFunc runs one group member sync to its end (package groupsync,
// adapted in package app). It must be idempotent: after a crash the same
// request runs again and must converge, not duplicate.
type SyncFunc func(ctx context.Context, req SyncRequest) (SyncResult, error)

// Config wires a Scheduler.
type Config struct {
	// Queue opens River's client on tenantlink's database with the
	// scheduler's River configuration (package jobs/riverdb, wired in
	// package app): the SQL drivers stay out of this package.
	Queue QueueOpener

	// Store holds the tasks table's rows (store.Store's task methods), so
	// a task can be written in a caller's transaction.
	Store store.Store

	Sync SyncFunc
	// Groups looks a directory group up (names for tasks, target checks).
	Groups func(ctx context.Context, id string) (*tenantlink.Group, error)
	// Audit appends an audit entry.
	Audit func(ctx context.Context, e *tenantlink.AuditEntry) error

	PublicURL string // webhook URLs are PublicURL + /hooks/tasks/{id}/{secret}
	Logger    *slog.Logger
	Now       func() time.Time
	// Location reads schedules that name no time zone (default UTC).
	Location *time.Location

	// TickInterval is how often this replica looks for due tasks
	// (default 30 s). Every replica ticks; unique jobs make each due run
	// enqueue once.
	TickInterval time.Duration
	// Workers is how many jobs this replica works at once (default 2).
	Workers int
	// JobTimeout bounds one attempt (default 2 h): an attempt still
	// running then is cancelled and retried, resuming from the stored
	// cursor. RescueAfter (at least JobTimeout; default JobTimeout + 10
	// min) is when a job still marked running — its process died — is
	// handed out again by River's rescuer on the elected leader. River
	// never rescues a job whose attempts are unbounded, so there is no
	// "no timeout" setting. RetryBase is the first retry's delay, doubled
	// per attempt up to 10 min (default 30 s).
	JobTimeout  time.Duration
	RescueAfter time.Duration
	RetryBase   time.Duration
	// ConflictWait is how long a job waits when the group's previous run
	// is still going (default 30 s).
	ConflictWait time.Duration
	// MaxAttempts per job (default 10).
	MaxAttempts int

	// Check tells whether a sync of a group can start now (sync on, data
	// source ready); Run now, the task's run and its webhook are refused
	// with its error instead of queuing a run that can only fail. Nil
	// checks nothing.
	Check func(ctx context.Context, groupID string) error
	// CloseDeadRuns closes the sync runs whose heartbeat stopped (their
	// process died) and returns them; every tick calls it and queues a
	// run that takes each real one over, so a crash costs about
	// StaleAfter + TickInterval, not River's rescue. Nil disables it.
	CloseDeadRuns func(ctx context.Context) ([]DeadRun, error)
	// RunAlive reports whether a group has a running sync run with a
	// fresh heartbeat. A Run now that finds the group's previous request
	// still "running" in River, started over StaleAfter ago, with no live
	// run, queues anew: that job's process died and River has not
	// rescued it yet.
	RunAlive   func(ctx context.Context, groupID string) (bool, error)
	StaleAfter time.Duration
	// Register adds other packages' River workers (package realtime) to
	// the same queue; nil adds none.
	Register func(w *river.Workers) error
}

// DeadRun is a sync run closed because its process stopped.
type DeadRun struct {
	RunID, GroupID string
	StartedAt      time.Time
	DryRun         bool
}

// QueueOpener applies River's migrations to the database and returns
// River's client made with rcfg, and a function that closes what it
// opened (nil when nothing).
type QueueOpener func(ctx context.Context, rcfg *river.Config) (Queue, func(), error)

// Queue is what the scheduler uses of River's client, whatever its
// transaction type (pgx.Tx on PostgreSQL, *sql.Tx on SQLite).
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// Scheduler owns River's client and workers, the scheduled tasks and the
// ticker that enqueues due tasks.
type Scheduler struct {
	cfg    Config
	logger *slog.Logger
	q      Queue
	closeQ func()

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
}

// New opens the queue: it applies River's migrations (under a lock on
// PostgreSQL, in one immediate transaction on SQLite, so replicas starting
// together do not race) and registers the sync worker. It does not start
// working; see Start.
func New(ctx context.Context, cfg Config) (*Scheduler, error) {
	if cfg.Queue == nil || cfg.Store == nil || cfg.Sync == nil {
		return nil, errors.New("jobs: New needs a queue, a store and a sync function")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = 30 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 2 * time.Hour
	}
	if cfg.RescueAfter < cfg.JobTimeout {
		cfg.RescueAfter = cfg.JobTimeout + 10*time.Minute
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.ConflictWait <= 0 {
		cfg.ConflictWait = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = time.Minute
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Scheduler{cfg: cfg, logger: cfg.Logger}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &syncWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: register sync worker: %w", err)
	}
	if cfg.Register != nil {
		if err := cfg.Register(workers); err != nil {
			return nil, fmt.Errorf("jobs: register workers: %w", err)
		}
	}
	rcfg := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		RetryPolicy:          &retryPolicy{base: cfg.RetryBase, max: 10 * time.Minute},
		MaxAttempts:          cfg.MaxAttempts,
		Logger:               cfg.Logger.With("component", "river"),
		// Let running syncs finish their page on shutdown, then cancel:
		// the next attempt resumes from the stored cursor.
		SoftStopTimeout: 10 * time.Second,
	}
	q, closeQ, err := cfg.Queue(ctx, rcfg)
	if err != nil {
		return nil, err
	}
	s.q, s.closeQ = q, closeQ
	return s, nil
}

func (s *Scheduler) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Start starts River's workers and this replica's ticker. Stop ends both.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if err := s.q.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start river: %w", err)
	}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done, s.started = cancel, make(chan struct{}), true
	go s.loop(tctx)
	return nil
}

func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("scheduled tasks tick failed", "err", err)
		}
		if _, err := s.TakeOverDead(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("taking over dead sync runs failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop stops the ticker and River (running jobs get SoftStopTimeout to
// finish, then are cancelled and retried later), and closes River's pool.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.started = false
	s.mu.Unlock()
	var err error
	if started {
		s.cancel()
		<-s.done
		if e := s.q.Stop(ctx); e != nil {
			err = fmt.Errorf("jobs: stop river: %w", e)
		}
	}
	if s.closeQ != nil {
		s.closeQ()
		s.closeQ = nil
	}
	return err
}

// Tick enqueues every enabled task whose next run is due and plans its
// following run. Every replica ticks; a due run becomes exactly one job
// because the job is unique by (task, due time) — a second replica's
// insert is skipped as a duplicate — and the next run is moved on only
// where it still holds the due time that was read. Enqueuing before
// moving on means a crash in between re-enqueues (as a duplicate, so
// harmlessly) instead of losing the run. It returns how many jobs it
// inserted.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.cfg.Store.DueTasks(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("jobs: find due tasks: %w", err)
	}
	due := make([]*Task, 0, len(rows))
	for _, r := range rows {
		t, err := taskFromStore(r)
		if err != nil {
			return 0, fmt.Errorf("jobs: find due tasks: %w", err)
		}
		due = append(due, t)
	}
	inserted := 0
	var errs []error
	for _, t := range due {
		at := *t.NextRun
		res, err := s.q.Insert(ctx, SyncArgs{TaskID: t.ID, GroupID: t.Target, Due: at, Trigger: "schedule"}, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("jobs: enqueue task %s: %w", t.ID, err))
			continue
		}
		if !res.UniqueSkippedAsDuplicate {
			inserted++
			s.logger.Info("scheduled task enqueued", "task", t.ID, "due", at, "job", res.Job.ID)
		}
		var next *time.Time
		if n, ok := t.Schedule.Next(now, s.cfg.Location); ok {
			next = &n
		}
		if _, err := s.cfg.Store.AdvanceTask(ctx, t.ID, at, next); err != nil {
			errs = append(errs, fmt.Errorf("jobs: plan next run of task %s: %w", t.ID, err))
		}
	}
	return inserted, errors.Join(errs...)
}

// TakeOverDead closes the sync runs whose process died and queues, for
// each real (not dry) one, a run of its group that continues from the
// stored position. The job is unique per dead run, so replicas ticking
// together queue it once. It returns how many it queued.
func (s *Scheduler) TakeOverDead(ctx context.Context) (int, error) {
	if s.cfg.CloseDeadRuns == nil {
		return 0, nil
	}
	dead, err := s.cfg.CloseDeadRuns(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range dead {
		if d.DryRun {
			continue // its caller is gone; nothing to continue
		}
		args := SyncArgs{GroupID: d.GroupID, Trigger: "takeover", Due: d.StartedAt}
		t, err := s.taskFor(ctx, nil, KindSync, d.GroupID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t != nil {
			args.TaskID = t.ID
		}
		res, err := s.q.Insert(ctx, args, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("jobs: queue takeover of run %s: %w", d.RunID, err))
			continue
		}
		if !res.UniqueSkippedAsDuplicate {
			n++
			s.logger.Warn("sync run died; queued a run to take over", "group", d.GroupID, "deadRun", d.RunID, "job", res.Job.ID)
		}
	}
	return n, errors.Join(errs...)
}

// RunNow queues a task's run at once (Administrator only).
func (s *Scheduler) RunNow(ctx context.Context, p *tenantlink.Principal, id string) (*Enqueued, error) {
	if err := requireAdmin(p, "running scheduled tasks"); err != nil {
		return nil, err
	}
	t, err := s.getTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, t.Target); err != nil {
		return nil, err
	}
	e, err := s.enqueue(ctx, SyncArgs{TaskID: t.ID, GroupID: t.Target, Trigger: "manual", By: p.Name()})
	if err != nil {
		return nil, err
	}
	return e, s.audit(ctx, nil, p, "task.run", t, fmt.Sprintf("%s: queued (job %d)", t.Name, e.JobID))
}

// SyncGroup queues a group member sync of groupID now, with the task's id
// when the group has one (Administrator only).
func (s *Scheduler) SyncGroup(ctx context.Context, p *tenantlink.Principal, groupID string, confirm, full bool) (*Enqueued, error) {
	if err := requireAdmin(p, "running a group member sync"); err != nil {
		return nil, err
	}
	if err := s.check(ctx, groupID); err != nil {
		return nil, err
	}
	args := SyncArgs{GroupID: groupID, Trigger: "manual", Confirm: confirm, Full: full, By: p.Name()}
	t, err := s.taskFor(ctx, nil, KindSync, groupID)
	if err != nil {
		return nil, err
	}
	if t != nil {
		args.TaskID = t.ID
	}
	return s.enqueue(ctx, args)
}

// Webhook queues a task's run for its on-demand webhook. The secret is
// compared with the stored hash in constant time; a wrong secret and an
// unknown task look the same (not found), so the URL reveals nothing.
func (s *Scheduler) Webhook(ctx context.Context, id, secret string) (*Enqueued, error) {
	t, err := s.getTask(ctx, id)
	if err != nil && tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		return nil, err
	}
	hash := auth.HashToken(secret)
	stored := strings.Repeat("0", len(hash))
	if t != nil {
		stored = t.WebhookHash
	}
	if !auth.Equal(hash, stored) || t == nil || secret == "" {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "no such webhook")
	}
	if !t.Enabled {
		return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "the task %q is disabled", t.Name)
	}
	if err := s.check(ctx, t.Target); err != nil {
		return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "%s", tenantlink.ErrorMessage(err))
	}
	e, err := s.enqueue(ctx, SyncArgs{TaskID: t.ID, GroupID: t.Target, Trigger: "webhook"})
	if err != nil {
		return nil, err
	}
	return e, s.audit(ctx, nil, &tenantlink.Principal{Via: "webhook"}, "task.webhook", t, fmt.Sprintf("%s: queued (job %d)", t.Name, e.JobID))
}

// enqueue inserts an unscheduled run. It is unique per group and trigger
// while queued or running, so pressing Run now twice queues one run.
func (s *Scheduler) enqueue(ctx context.Context, args SyncArgs) (*Enqueued, error) {
	res, err := s.q.Insert(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable},
	}})
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue sync of group %s: %w", args.GroupID, err)
	}
	if res.UniqueSkippedAsDuplicate && s.deadJob(ctx, args.GroupID, res.Job) {
		// The equal request's process died: River still holds its job as
		// running until its rescue. Queue this one under its own key.
		args.Due = s.now()
		if res, err = s.q.Insert(ctx, args, nil); err != nil {
			return nil, fmt.Errorf("jobs: enqueue sync of group %s: %w", args.GroupID, err)
		}
		s.logger.Warn("the group's previous run request died; queued anew", "group", args.GroupID, "job", res.Job.ID)
	}
	if args.TaskID != "" && !res.UniqueSkippedAsDuplicate {
		if err := s.recordQueued(ctx, args.TaskID); err != nil {
			return nil, err
		}
	}
	return &Enqueued{JobID: res.Job.ID, Already: res.UniqueSkippedAsDuplicate}, nil
}

// deadJob reports whether job — an equal request found "running" — was
// started over StaleAfter ago while the group has no live sync run: its
// process died.
func (s *Scheduler) deadJob(ctx context.Context, groupID string, job *rivertype.JobRow) bool {
	if s.cfg.RunAlive == nil || job == nil || job.State != rivertype.JobStateRunning || job.AttemptedAt == nil ||
		s.now().Sub(*job.AttemptedAt) < s.cfg.StaleAfter {
		return false
	}
	alive, err := s.cfg.RunAlive(ctx, groupID)
	if err != nil {
		s.logger.Warn("check the group's sync run", "group", groupID, "err", err)
		return false
	}
	return !alive
}

func (s *Scheduler) check(ctx context.Context, groupID string) error {
	if s.cfg.Check == nil {
		return nil
	}
	return s.cfg.Check(ctx, groupID)
}

// recordQueued shows a queued run in the task list without hiding the
// outcome of a run that is still going.
func (s *Scheduler) recordQueued(ctx context.Context, taskID string) error {
	if err := s.cfg.Store.MarkTaskQueued(ctx, taskID); err != nil {
		return fmt.Errorf("jobs: mark task %s queued: %w", taskID, err)
	}
	return nil
}

// Job returns a queued job's state, for callers waiting on a run.
func (s *Scheduler) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	j, err := s.q.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "no job %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: get job %d: %w", id, err)
	}
	return j, nil
}

// retryPolicy doubles the delay per attempt from base up to max. River's
// default (attempt⁴ seconds) would leave a crashed import waiting for
// minutes after its second crash.
type retryPolicy struct{ base, max time.Duration }

func (p *retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base
	for i := 1; i < job.Attempt && d < p.max; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, p.max))
}
