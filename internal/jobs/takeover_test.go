package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/jobs"
	"github.com/tenantlink/tenantlink/internal/jobs/riverdb"
)

// schedulerWith opens a Scheduler on the fixture's database with cfg's
// liveness and check hooks, the real clock and a sync that blocks until
// the test ends (so its job stays running).
func (f *fixture) schedulerWith(tb testing.TB, cfg jobs.Config) *jobs.Scheduler {
	tb.Helper()
	release := make(chan struct{})
	cfg.Queue, cfg.Store, cfg.TickInterval = riverdb.Opener(f.db.SQL(), f.db.Dialect(), ""), f.db, time.Hour
	cfg.Groups = func(ctx context.Context, id string) (*tenantlink.Group, error) { return f.db.GetGroup(ctx, id) }
	cfg.Sync = func(ctx context.Context, req jobs.SyncRequest) (jobs.SyncResult, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return jobs.SyncResult{Status: jobs.StatusSucceeded}, nil
	}
	s, err := jobs.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("jobs.New: %v", err)
	}
	tb.Cleanup(func() { close(release); s.Stop(context.Background()) })
	return s
}

// TestTakeOverDead: each dead real run gets one run to take it over,
// however many ticks see it; a dead dry run gets none.
func TestTakeOverDead(t *testing.T) {
	f := newFixture(t)
	dead := []jobs.DeadRun{
		{RunID: "r1", GroupID: f.group.ID, StartedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		{RunID: "r2", GroupID: f.group.ID, StartedAt: time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC), DryRun: true},
	}
	s := f.schedulerWith(t, jobs.Config{CloseDeadRuns: func(context.Context) ([]jobs.DeadRun, error) { return dead, nil }})
	for i, want := range []int{1, 0} {
		n, err := s.TakeOverDead(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("tick %d queued %d takeovers, want %d", i+1, n, want)
		}
	}
	var jobsN int
	if err := f.db.SQL().QueryRow(`SELECT count(*) FROM river_job WHERE json_extract(args, '$.trigger') = 'takeover'`).Scan(&jobsN); err != nil {
		t.Fatal(err)
	}
	if jobsN != 1 {
		t.Errorf("takeover jobs = %d, want 1", jobsN)
	}
}

// TestRunNowAfterDeadJob: Run now meets the group's previous request
// still running in River. While the group has a live run it answers
// "already"; once the job is older than StaleAfter and the group has no
// live run (its process died), it queues anew.
func TestRunNowAfterDeadJob(t *testing.T) {
	f := newFixture(t)
	var alive atomic.Bool
	alive.Store(true)
	s := f.schedulerWith(t, jobs.Config{Now: time.Now, StaleAfter: 50 * time.Millisecond,
		RunAlive: func(context.Context, string) (bool, error) { return alive.Load(), nil }})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := s.SyncGroup(ctx, admin, f.group.ID, false, false)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := s.Job(ctx, first.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job state %s, want running", j.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	tests := []struct {
		name        string
		alive       bool
		wantAlready bool
	}{
		{"live run: already", true, true},
		{"no live run: queued anew", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alive.Store(tc.alive)
			e, err := s.SyncGroup(ctx, admin, f.group.ID, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if e.Already != tc.wantAlready || (!tc.wantAlready && e.JobID == first.JobID) {
				t.Errorf("SyncGroup = %+v, want already %v (first job %d)", e, tc.wantAlready, first.JobID)
			}
		})
	}
}

// TestRunRefusedWhenSyncCannotStart: Run now, the group's run and the
// webhook are refused with Check's reason; nothing is queued.
func TestRunRefusedWhenSyncCannotStart(t *testing.T) {
	f := newFixture(t)
	s := f.schedulerWith(t, jobs.Config{Check: func(context.Context, string) error {
		return tenantlink.Errorf(tenantlink.EINVALID, "Group member sync is off for group \"Sales\": turn it on first.")
	}})
	ctx := context.Background()
	task, err := s.CreateTask(ctx, admin, jobs.TaskInput{Target: &f.group.ID, Schedule: raw(`{"kind":"onDemand"}`)})
	if err != nil {
		t.Fatal(err)
	}
	secret := task.WebhookURL[len(task.WebhookURL)-43:]
	tests := []struct {
		name string
		run  func() error
		code string
	}{
		{"run now", func() error { _, err := s.RunNow(ctx, admin, task.ID); return err }, tenantlink.EINVALID},
		{"group run", func() error { _, err := s.SyncGroup(ctx, admin, f.group.ID, false, false); return err }, tenantlink.EINVALID},
		{"webhook", func() error { _, err := s.Webhook(ctx, task.ID, secret); return err }, tenantlink.ECONFLICT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tenantlink.ErrorCode(err) != tc.code || tenantlink.ErrorMessage(err) != "Group member sync is off for group \"Sales\": turn it on first." {
				t.Errorf("err = %v (code %q), want %q with Check's message", err, tenantlink.ErrorCode(err), tc.code)
			}
			if n := f.jobCount(t, task.ID); n != 0 {
				t.Errorf("jobs = %d, want none", n)
			}
			if got, _ := s.GetTask(ctx, admin, task.ID); got.Status == jobs.StatusQueued {
				t.Errorf("task status = %q after a refusal", got.Status)
			}
		})
	}
}
