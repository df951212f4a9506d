package jobs_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/jobs"
	"github.com/tenantlink/tenantlink/internal/jobs/riverdb"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

var admin = &tenantlink.Principal{User: &tenantlink.User{ID: "u1", Email: "admin@example.test"}, Roles: []tenantlink.Role{tenantlink.RoleAdministrator}}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// recorder is the sync function under the scheduler: it records each
// request, as groupsync would record a run.
type recorder struct {
	mu   sync.Mutex
	reqs []jobs.SyncRequest
	n    atomic.Int64
}

func (r *recorder) Sync(_ context.Context, req jobs.SyncRequest) (jobs.SyncResult, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	r.n.Add(1)
	return jobs.SyncResult{RunID: "run", Status: jobs.StatusSucceeded}, nil
}

type fixture struct {
	db    *sqlstore.DB
	clock *clock
	rec   *recorder
	group *tenantlink.Group
	audit []string
}

// newFixture opens a SQLite store (with tenantlink's migrations) holding
// one group.
func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	dir := tb.TempDir()
	keys, err := secrets.LoadOrCreate(filepath.Join(dir, "secret.key"))
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(dir, "t.db"), keys, nil)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	g := &tenantlink.Group{Name: "Sales"}
	if err := db.CreateGroup(context.Background(), g); err != nil {
		tb.Fatal(err)
	}
	return &fixture{db: db, clock: &clock{t: time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)}, rec: &recorder{}, group: g}
}

// scheduler opens a Scheduler on the fixture's database: several of them
// behave as replicas.
func (f *fixture) scheduler(tb testing.TB) *jobs.Scheduler {
	tb.Helper()
	s, err := jobs.New(context.Background(), jobs.Config{
		Queue: riverdb.Opener(f.db.SQL(), f.db.Dialect(), ""), Store: f.db, Sync: f.rec.Sync,
		Groups: func(ctx context.Context, id string) (*tenantlink.Group, error) { return f.db.GetGroup(ctx, id) },
		Audit: func(ctx context.Context, e *tenantlink.AuditEntry) error {
			f.audit = append(f.audit, e.Action)
			return nil
		},
		PublicURL: "http://tenantlink.test", Now: f.clock.Now, TickInterval: time.Hour, RetryBase: 10 * time.Millisecond,
	})
	if err != nil {
		tb.Fatalf("jobs.New: %v", err)
	}
	tb.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func (f *fixture) jobCount(tb testing.TB, taskID string) int {
	tb.Helper()
	var n int
	err := f.db.SQL().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'group_sync' AND json_extract(args, '$.taskId') = $1`, taskID).Scan(&n)
	if err != nil {
		tb.Fatalf("count jobs: %v", err)
	}
	return n
}

// waitJob waits until the job has finished and returns its final state.
func waitJob(tb testing.TB, s *jobs.Scheduler, id int64) rivertype.JobState {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		j, err := s.Job(context.Background(), id)
		if err != nil {
			tb.Fatalf("Job(%d): %v", id, err)
		}
		switch j.State {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			return j.State
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("job %d did not finish within 20s", id)
	return ""
}

func raw(s string) *json.RawMessage { r := json.RawMessage(s); return &r }

func TestDueTaskEnqueuedOncePerTickAcrossReplicas(t *testing.T) {
	f := newFixture(t)
	a, b := f.scheduler(t), f.scheduler(t)
	ctx := context.Background()
	task, err := a.CreateTask(ctx, admin, jobs.TaskInput{Target: &f.group.ID, Schedule: raw(`{"kind":"minutes","every":5}`)})
	if err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	if got, want := task.NextRun, time.Date(2026, 3, 2, 10, 10, 0, 0, time.UTC); got == nil || !got.Equal(want) {
		t.Fatalf("NextRun = %v, want %v", got, want)
	}
	if !strings.HasPrefix(task.WebhookURL, "http://tenantlink.test/hooks/tasks/"+task.ID+"/") {
		t.Errorf("WebhookURL = %q, want the task's hook URL", task.WebhookURL)
	}
	steps := []struct {
		at        time.Time
		wantJobs  int
		wantNext  time.Time
		ticksEach int
	}{
		{time.Date(2026, 3, 2, 10, 9, 59, 0, time.UTC), 0, time.Date(2026, 3, 2, 10, 10, 0, 0, time.UTC), 2},
		{time.Date(2026, 3, 2, 10, 10, 0, 0, time.UTC), 1, time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC), 3},
		{time.Date(2026, 3, 2, 10, 14, 0, 0, time.UTC), 1, time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC), 2},
		// Down for an hour: one run, not one per missed slot.
		{time.Date(2026, 3, 2, 11, 16, 0, 0, time.UTC), 2, time.Date(2026, 3, 2, 11, 20, 0, 0, time.UTC), 3},
	}
	for _, st := range steps {
		f.clock.Set(st.at)
		var wg sync.WaitGroup
		for i := 0; i < st.ticksEach; i++ {
			for _, s := range []*jobs.Scheduler{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.Tick(ctx); err != nil {
						t.Errorf("Tick at %v: %v", st.at, err)
					}
				}()
			}
		}
		wg.Wait()
		if got := f.jobCount(t, task.ID); got != st.wantJobs {
			t.Errorf("at %v: jobs = %d, want %d", st.at, got, st.wantJobs)
		}
		got, err := a.GetTask(ctx, admin, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.NextRun == nil || !got.NextRun.Equal(st.wantNext) {
			t.Errorf("at %v: NextRun = %v, want %v", st.at, got.NextRun, st.wantNext)
		}
	}
	// The queued jobs run once each on whichever replica picks them up.
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.rec.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	a.Stop(ctx)
	b.Stop(ctx)
	if got := f.rec.n.Load(); got != 2 {
		t.Fatalf("sync runs = %d, want 2", got)
	}
	for _, r := range f.rec.reqs {
		if r.TaskID != task.ID || r.GroupID != f.group.ID || r.Trigger != "schedule" {
			t.Errorf("sync request = %+v, want task %s, group %s, trigger schedule", r, task.ID, f.group.ID)
		}
	}
	got, err := a.GetTask(ctx, admin, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != jobs.StatusSucceeded || got.LastRun == nil || got.LastRun.Status != jobs.StatusSucceeded {
		t.Errorf("after the runs: status %q, last run %+v; want succeeded", got.Status, got.LastRun)
	}
}

func TestDisabledTaskNeverEnqueued(t *testing.T) {
	f := newFixture(t)
	s := f.scheduler(t)
	ctx := context.Background()
	off := false
	task, err := s.CreateTask(ctx, admin, jobs.TaskInput{Target: &f.group.ID, Schedule: raw(`{"kind":"minutes","every":1}`), Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if task.NextRun != nil || task.Status != "disabled" {
		t.Errorf("disabled task: NextRun %v, status %q; want none, disabled", task.NextRun, task.Status)
	}
	for _, at := range []time.Time{f.clock.Now().Add(time.Minute), f.clock.Now().Add(time.Hour), f.clock.Now().Add(48 * time.Hour)} {
		f.clock.Set(at)
		n, err := s.Tick(ctx)
		if err != nil || n != 0 {
			t.Errorf("Tick at %v = %d, %v; want 0, nil", at, n, err)
		}
	}
	if got := f.jobCount(t, task.ID); got != 0 {
		t.Errorf("jobs = %d, want 0", got)
	}
	// Disabling an enabled task clears its next run.
	on := true
	task, err = s.UpdateTask(ctx, admin, task.ID, jobs.TaskInput{Enabled: &on})
	if err != nil || task.NextRun == nil {
		t.Fatalf("enable: %v, NextRun %v; want a next run", err, task)
	}
	task, err = s.UpdateTask(ctx, admin, task.ID, jobs.TaskInput{Enabled: &off})
	if err != nil || task.NextRun != nil {
		t.Fatalf("disable: %v, NextRun %v; want none", err, task.NextRun)
	}
}

func TestRunNowAndWebhook(t *testing.T) {
	f := newFixture(t)
	s := f.scheduler(t)
	ctx := context.Background()
	task, err := s.CreateTask(ctx, admin, jobs.TaskInput{Target: &f.group.ID, Schedule: raw(`{"kind":"onDemand"}`)})
	if err != nil {
		t.Fatal(err)
	}
	secret := task.WebhookURL[strings.LastIndexByte(task.WebhookURL, '/')+1:]

	// Run now twice before a worker starts: one job.
	e1, err := s.RunNow(ctx, admin, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := s.RunNow(ctx, admin, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Already || !e2.Already || e1.JobID != e2.JobID {
		t.Errorf("run now twice = %+v, %+v; want one job, the second already queued", e1, e2)
	}
	if got, _ := s.GetTask(ctx, admin, task.ID); got.Status != jobs.StatusQueued {
		t.Errorf("status after run now = %q, want queued", got.Status)
	}
	user := &tenantlink.Principal{User: &tenantlink.User{ID: "u2"}, Roles: []tenantlink.Role{tenantlink.RoleUser}}
	if _, err := s.RunNow(ctx, user, task.ID); tenantlink.ErrorCode(err) != tenantlink.EFORBIDDEN {
		t.Errorf("run now as a User: %v, want forbidden", err)
	}

	hooks := []struct {
		name     string
		id       string
		secret   string
		wantCode string
	}{
		{"wrong secret", task.ID, secret[:len(secret)-1] + "x", tenantlink.ENOTFOUND},
		{"empty secret", task.ID, "", tenantlink.ENOTFOUND},
		{"unknown task", "0190aaaa-0000-7000-8000-000000000000", secret, tenantlink.ENOTFOUND},
		{"right secret while queued", task.ID, secret, ""},
	}
	for _, h := range hooks {
		t.Run(h.name, func(t *testing.T) {
			e, err := s.Webhook(ctx, h.id, h.secret)
			if got := tenantlink.ErrorCode(err); got != h.wantCode {
				t.Fatalf("Webhook error code = %q (%v), want %q", got, err, h.wantCode)
			}
			if err != nil && tenantlink.ErrorMessage(err) != "no such webhook" {
				t.Errorf("message = %q, want the same for every refusal", tenantlink.ErrorMessage(err))
			}
			if err == nil && e.JobID == e1.JobID {
				t.Errorf("webhook job = run-now job %d; want its own", e.JobID)
			}
		})
	}

	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, e1.JobID); got != rivertype.JobStateCompleted {
		t.Fatalf("run-now job state = %s, want completed", got)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.rec.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop(ctx)
	triggers := map[string]int{}
	for _, r := range f.rec.reqs {
		triggers[r.Trigger]++
	}
	if triggers["manual"] != 1 || triggers["webhook"] != 1 || len(f.rec.reqs) != 2 {
		t.Errorf("runs by trigger = %v, want manual 1, webhook 1", triggers)
	}

	// A disabled task's webhook is refused even with the right secret.
	off := false
	if _, err := s.UpdateTask(ctx, admin, task.ID, jobs.TaskInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook(ctx, task.ID, secret); tenantlink.ErrorCode(err) != tenantlink.ECONFLICT {
		t.Errorf("webhook of a disabled task: %v, want conflict", err)
	}
	// Rotating the secret invalidates the old URL.
	rot, err := s.UpdateTask(ctx, admin, task.ID, jobs.TaskInput{Enabled: boolp(true), RotateWebhook: true})
	if err != nil || rot.WebhookURL == "" || rot.WebhookURL == task.WebhookURL {
		t.Fatalf("rotate: %v, URL %q; want a new URL", err, rot.WebhookURL)
	}
	if _, err := s.Webhook(ctx, task.ID, secret); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("old secret after rotation: %v, want not found", err)
	}
}

func boolp(b bool) *bool { return &b }

func TestSetGroupSync(t *testing.T) {
	f := newFixture(t)
	s := f.scheduler(t)
	ctx := context.Background()
	task, err := s.SetGroupSync(ctx, admin, f.group.ID, f.group.Name, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if task.Schedule != jobs.DefaultSchedule() || task.Name != "Group member sync: Sales" || !task.Enabled || task.WebhookURL == "" {
		t.Errorf("sync on created %+v; want an enabled hourly task named after the group, with its webhook URL", task)
	}
	if want := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC); task.NextRun == nil || !task.NextRun.Equal(want) {
		t.Errorf("NextRun = %v, want %v", task.NextRun, want)
	}
	off, err := s.SetGroupSync(ctx, admin, f.group.ID, f.group.Name, false, nil)
	if err != nil || off.ID != task.ID || off.Enabled || off.NextRun != nil {
		t.Errorf("sync off = %+v, %v; want the same task disabled, nothing planned", off, err)
	}
	daily := jobs.Schedule{Kind: jobs.Daily, Time: "06:00"}
	on, err := s.SetGroupSync(ctx, admin, f.group.ID, f.group.Name, true, &daily)
	if err != nil || on.ID != task.ID || !on.Enabled || on.Schedule != daily || on.WebhookURL != "" {
		t.Errorf("sync on again = %+v, %v; want the same task enabled daily, no new secret", on, err)
	}
	list, err := s.ListTasks(ctx, admin)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListTasks = %d tasks, %v; want 1", len(list), err)
	}
	if _, err := s.CreateTask(ctx, admin, jobs.TaskInput{Target: &f.group.ID}); tenantlink.ErrorCode(err) != tenantlink.ECONFLICT {
		t.Errorf("second task for the group: %v, want conflict", err)
	}
	if got, want := strings.Join(f.audit, ","), "task.create,task.update,task.update"; got != want {
		t.Errorf("audit = %s, want %s", got, want)
	}
}

func TestCreateTaskRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	s := f.scheduler(t)
	ctx := context.Background()
	missing := "no-such-group"
	other := "process"
	empty := "  "
	tests := []struct {
		name string
		in   jobs.TaskInput
		want string
	}{
		{"no target", jobs.TaskInput{}, "target is required: the id of the directory group to sync"},
		{"unknown group", jobs.TaskInput{Target: &missing}, `target "no-such-group" is not a directory group`},
		{"other kind", jobs.TaskInput{Kind: &other, Target: &f.group.ID}, `kind must be "sync" (a group member sync), not "process"`},
		{"bad schedule", jobs.TaskInput{Target: &f.group.ID, Schedule: raw(`{"kind":"weekly","time":"09:00"}`)}, `schedule: weekday must be a day name such as monday, not ""`},
		{"empty name", jobs.TaskInput{Target: &f.group.ID, Name: &empty}, "name must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateTask(ctx, admin, tt.in)
			if tenantlink.ErrorCode(err) != tenantlink.EINVALID || tenantlink.ErrorMessage(err) != tt.want {
				t.Errorf("CreateTask error = %v, want invalid %q", err, tt.want)
			}
		})
	}
	if list, _ := s.ListTasks(ctx, admin); len(list) != 0 {
		t.Errorf("tasks after refused input = %d, want 0", len(list))
	}
}
