package groupsync_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
)

// TestLastAdministrator: a sync never leaves zero active Administrators.
// Its run stops as failed with a message and changes nothing of its final
// step; the directory keeps its Administrators.
func TestLastAdministrator(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the sync's group after making the only
		// Administrators depend on it.
		setup func(t *testing.T, e *env, ids []string) *tenantlink.Group
	}{
		{"override takes the last Administrator out of an Administrator group", func(t *testing.T, e *env, ids []string) *tenantlink.Group {
			// The only Administrator is a local member of "Admins", whose
			// source group is empty.
			e.simGroup(t, "Nobody", []string{})
			g := e.syncedGroup(t, "Admins", "Nobody", true, groupsync.MissingKeep, e.admin.User.ID)
			g.Roles = []tenantlink.Role{tenantlink.RoleAdministrator}
			must(t, e.st.UpdateGroup(context.Background(), g))
			e.demoteAdmin(t)
			return g
		}},
		{"disabling the last Administrator", func(t *testing.T, e *env, ids []string) *tenantlink.Group {
			g := e.syncedGroup(t, "Staff", "Source", false, groupsync.MissingDisable)
			if r := e.run(t, g, groupsync.RunOptions{}); r.Status != store.RunSucceeded {
				t.Fatalf("first run = %s %v", r.Status, r.Errors)
			}
			// An imported user was made the only Administrator.
			u := e.imported(t, ids[0])
			u.Roles = []tenantlink.Role{tenantlink.RoleUser, tenantlink.RoleAdministrator}
			must(t, e.st.UpdateUser(context.Background(), u))
			e.demoteAdmin(t)
			e.control(t, "DELETE", "/_sim/groups/"+e.groups["Source"]+"/members/"+ids[0], nil, nil)
			return g
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: 3, Groups: 1})
			var ids []string
			for _, n := range []string{"a1", "a2", "a3"} {
				ids = append(ids, e.simUser(t, upn(e, n), n))
			}
			e.simGroup(t, "Source", ids)
			g := tc.setup(t, e, ids)
			before := e.snapshot(t)
			st, _ := e.st.GetSyncState(context.Background(), g.ID)
			r := e.run(t, g, groupsync.RunOptions{Confirm: true})
			if r.Status != store.RunFailed || len(r.Errors) == 0 || !strings.Contains(strings.Join(r.Errors, " "), "no active Administrator") {
				t.Fatalf("run = %s %+v %q, want failed naming the last Administrator", r.Status, r.Counts, r.Errors)
			}
			if r.Counts.Disabled != 0 || r.Counts.Removed != 0 || r.Counts.LeftGroup != 0 {
				t.Errorf("counts = %+v, want nothing disabled, removed or out of the group", r.Counts)
			}
			after := e.snapshot(t)
			if r.Counts.Created == 0 && after != before {
				t.Errorf("the run changed the directory:\nbefore %s\nafter  %s", before, after)
			}
			// Whatever the pages imported, an Administrator is left.
			us, err := e.st.ListUsers(context.Background(), store.UserFilter{})
			must(t, err)
			admins := 0
			gs, err := e.st.ListGroups(context.Background())
			must(t, err)
			for _, u := range us {
				if !u.Active {
					continue
				}
				isAdmin := u.HasRole(tenantlink.RoleAdministrator)
				for _, gg := range gs {
					for _, m := range gg.Members {
						if m == u.ID && len(gg.Roles) > 0 && gg.Roles[0] == tenantlink.RoleAdministrator {
							isAdmin = true
						}
					}
				}
				if isAdmin {
					admins++
				}
			}
			if admins != 1 {
				t.Errorf("active Administrators after the run = %d, want 1", admins)
			}
			st2, _ := e.st.GetSyncState(context.Background(), g.ID)
			if (st == nil) != (st2 == nil) || (st != nil && st.Cursor != st2.Cursor) {
				t.Errorf("sync state moved: before %+v, after %+v", st, st2)
			}
		})
	}
}

// demoteAdmin takes the Administrator role from the env's administrator
// in the store (its principal keeps it, so it can still run syncs).
func (e *env) demoteAdmin(t *testing.T) {
	t.Helper()
	u, err := e.st.GetUser(context.Background(), e.admin.User.ID)
	must(t, err)
	u.Roles = []tenantlink.Role{tenantlink.RoleUser}
	must(t, e.st.UpdateUser(context.Background(), u))
}

// clock is an injected time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestDeadRunClosed: with an injected clock, a run whose heartbeat stopped
// is alive for DefaultStaleAfter and dead after it: the next run closes it
// as failed saying why and goes ahead; CloseDeadRuns does the same for the
// scheduler.
func TestDeadRunClosed(t *testing.T) {
	e, g, _ := fiveMembers(t, groupsync.MissingKeep, false)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	c := &clock{t: t0}
	svc := &groupsync.Service{Store: e.st, DataSources: e.dss, Now: c.now, Logger: discard()}
	dead := &store.SyncRun{GroupID: g.ID, Status: store.RunRunning, Trigger: "schedule", Result: []byte(`{}`),
		StartedAt: t0.Add(-time.Hour), HeartbeatAt: t0}
	must(t, e.st.CreateSyncRun(ctx, dead, time.Time{}))

	steps := []struct {
		name     string
		at       time.Duration
		wantCode string
	}{
		{"59 s without heartbeat: alive", 59 * time.Second, tenantlink.ECONFLICT},
		{"61 s without heartbeat: taken over", 61 * time.Second, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.set(t0.Add(st.at))
			r, err := svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
			if got := tenantlink.ErrorCode(err); got != st.wantCode {
				t.Fatalf("Run error = %v (code %q), want %q", err, got, st.wantCode)
			}
			if err == nil && r.Status != store.RunSucceeded {
				t.Errorf("taking-over run = %s %v", r.Status, r.Errors)
			}
		})
	}
	runs, err := svc.Runs(ctx, e.admin, g.ID, 0)
	must(t, err)
	var closed *groupsync.Run
	for _, r := range runs {
		if r.ID == dead.ID {
			closed = r
		}
	}
	want := "No heartbeat since " + t0.Format(time.RFC3339) + "; the process running it probably stopped."
	if closed == nil || closed.Status != store.RunFailed || len(closed.Errors) != 1 || !strings.HasPrefix(closed.Errors[0], want) {
		t.Errorf("dead run = %+v, want failed with %q", closed, want)
	}

	// The scheduler's sweep: only runs past the window, all groups.
	other := &store.SyncRun{GroupID: g.ID, Status: store.RunRunning, Trigger: "manual", Result: []byte(`{}`),
		StartedAt: t0, HeartbeatAt: t0.Add(2 * time.Minute)}
	must(t, e.st.CreateSyncRun(ctx, other, time.Time{}))
	c.set(t0.Add(2*time.Minute + 30*time.Second))
	got, err := svc.CloseDeadRuns(ctx)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("CloseDeadRuns 30 s after a heartbeat = %+v, want none", got)
	}
	c.set(t0.Add(3*time.Minute + 30*time.Second))
	got, err = svc.CloseDeadRuns(ctx)
	must(t, err)
	if len(got) != 1 || got[0].ID != other.ID || got[0].GroupID != g.ID {
		t.Errorf("CloseDeadRuns 90 s after a heartbeat = %+v, want run %s", got, other.ID)
	}
}

// TestStopRun: an Administrator stops a running run; its record is closed
// at once as stopped saying who did it, with an audit entry, and a
// finished run cannot be stopped.
func TestStopRun(t *testing.T) {
	e, g, _ := fiveMembers(t, groupsync.MissingKeep, false)
	ctx := context.Background()
	stuck := &store.SyncRun{GroupID: g.ID, Status: store.RunRunning, Trigger: "manual", Result: []byte(`{}`),
		StartedAt: time.Now(), HeartbeatAt: time.Now()}
	must(t, e.st.CreateSyncRun(ctx, stuck, time.Time{}))
	user := &tenantlink.Principal{User: &tenantlink.User{ID: "u", Email: "u@x"}, Roles: []tenantlink.Role{tenantlink.RoleUser}}
	if _, err := e.svc.Stop(ctx, user, g.ID, stuck.ID); tenantlink.ErrorCode(err) != tenantlink.EFORBIDDEN {
		t.Errorf("Stop by a user: err = %v, want forbidden", err)
	}
	r, err := e.svc.Stop(ctx, e.admin, g.ID, stuck.ID)
	must(t, err)
	if r.Status != store.RunStopped || !strings.HasPrefix(r.Errors[len(r.Errors)-1], "Stopped by admin@tenantlink.example") {
		t.Errorf("stopped run = %s %q", r.Status, r.Errors)
	}
	stored, err := e.st.GetSyncRun(ctx, stuck.ID)
	must(t, err)
	if stored.Status != store.RunStopped || stored.FinishedAt == nil {
		t.Errorf("stored run = %+v, want stopped with an end", stored)
	}
	if _, err := e.svc.Stop(ctx, e.admin, g.ID, stuck.ID); tenantlink.ErrorCode(err) != tenantlink.ECONFLICT {
		t.Errorf("Stop of a stopped run: err = %v, want conflict", err)
	}
	if _, err := e.svc.Stop(ctx, e.admin, g.ID, "nope"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("Stop of an unknown run: err = %v, want not found", err)
	}
	audit, err := e.st.ListAudit(ctx, store.AuditFilter{Target: "group:" + g.ID})
	must(t, err)
	if len(audit) == 0 || audit[0].Action != "group.sync.stop" {
		t.Errorf("latest audit entry = %+v, want group.sync.stop", audit[0])
	}
	// The group is free again.
	if r := e.run(t, g, groupsync.RunOptions{}); r.Status != store.RunSucceeded {
		t.Errorf("run after the stop = %s %v", r.Status, r.Errors)
	}
}

// TestHeartbeatWhileStopped: a run's own heartbeat notices that its
// record was closed from outside and cancels the run.
func TestHeartbeatNoticesStop(t *testing.T) {
	e, g, _ := fiveMembers(t, groupsync.MissingKeep, false)
	ctx := context.Background()
	svc := &groupsync.Service{Store: e.st, DataSources: e.dss, Now: time.Now, Logger: discard(), Heartbeat: 20 * time.Millisecond}
	started := make(chan string, 1)
	var once sync.Once
	done := make(chan *groupsync.Run, 1)
	go func() {
		r, err := svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{Full: true, Progress: func(p groupsync.Progress) {
			if p.Phase != groupsync.PhaseReading {
				return
			}
			once.Do(func() {
				runs, _ := e.st.ListSyncRuns(ctx, g.ID, 1)
				started <- runs[0].ID
				// Hold the run until its heartbeat notices.
				time.Sleep(300 * time.Millisecond)
			})
		}})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	id := <-started
	// Another replica's Administrator stops it: only the record changes.
	other := &groupsync.Service{Store: e.st, DataSources: e.dss, Now: time.Now, Logger: discard()}
	if _, err := other.Stop(ctx, e.admin, g.ID, id); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.Status != store.RunStopped {
			t.Errorf("run after the stop = %s %v, want stopped", r.Status, r.Errors)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not stop")
	}
	stored, err := e.st.GetSyncRun(ctx, id)
	must(t, err)
	if stored.Status != store.RunStopped || !strings.Contains(string(stored.Result), "Stopped by") {
		t.Errorf("stored run = %s %s, want stopped by the Administrator", stored.Status, stored.Result)
	}
}
