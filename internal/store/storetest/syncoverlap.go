package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// testImportByTenant: with a tenant, imported users are keyed by tenant id
// + object id: a second data source of the same tenant finds the same
// users, one of another tenant does not.
func testImportByTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := func(ds, tenant, obj, email string) *tenantlink.User {
		return &tenantlink.User{Email: email, DisplayName: obj, Active: true,
			Source: &tenantlink.UserSource{DataSource: ds, ObjectID: obj, Tenant: tenant}}
	}
	tests := []struct {
		name  string
		ds    string
		users []*tenantlink.User
		want  []string
	}{
		{"first data source creates", "ds1", []*tenantlink.User{in("ds1", "t1", "o1", "a@contoso.com"), in("ds1", "t1", "o2", "b@contoso.com")},
			[]string{store.ImportCreated, store.ImportCreated}},
		{"second data source, same tenant: same users", "ds2", []*tenantlink.User{in("ds2", "t1", "o1", "a@contoso.com"), in("ds2", "T1", "o2", "b2@contoso.com")},
			[]string{store.ImportUnchanged, store.ImportUpdated}},
		{"another tenant's object with a taken email: conflict", "ds3", []*tenantlink.User{in("ds3", "t2", "o1", "a@contoso.com")},
			[]string{store.ImportConflict}},
	}
	var ids []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UpsertImportedUsers(ctx, tc.ds, tc.users)
			must(t, err)
			if diff := cmp.Diff(tc.want, outcomes(got)); diff != "" {
				t.Fatalf("outcomes (-want +got):\n%s", diff)
			}
			if ids == nil {
				ids = []string{got[0].ID, got[1].ID}
			} else if got[0].Outcome != store.ImportConflict && (got[0].ID != ids[0] || got[1].ID != ids[1]) {
				t.Errorf("ids = %s, %s; want the first data source's %v", got[0].ID, got[1].ID, ids)
			}
		})
	}
	u, err := s.GetUserByExternalID(ctx, "t1", "o2")
	must(t, err)
	if u.ID != ids[1] || u.Email != "b2@contoso.com" || u.Source.DataSource != "ds1" {
		t.Errorf("user by tenant = %+v %+v, want %s, b2@contoso.com, first imported by ds1", u, u.Source, ids[1])
	}
	_, err = s.UpsertImportedUsers(ctx, "ds1", []*tenantlink.User{in("ds1", "t1", "o8", "x@contoso.com"), in("ds1", "t2", "o9", "y@contoso.com")})
	if tenantlink.ErrorCode(err) != tenantlink.EINVALID {
		t.Errorf("a batch of two tenants: err = %v, want invalid", err)
	}
}

// testSyncRunLiveness: heartbeats, stale runs, closing a run, and that a
// closed run cannot be reopened by a late update.
func testSyncRunLiveness(t *testing.T, s store.Store) {
	ctx := t.Context()
	g := &tenantlink.Group{Name: "Live", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, s.CreateGroup(ctx, g))
	r := &store.SyncRun{GroupID: g.ID, Trigger: "manual", StartedAt: at(1), HeartbeatAt: at(1)}
	must(t, s.CreateSyncRun(ctx, r, time.Time{}))

	ok, err := s.HeartbeatSyncRun(ctx, r.ID, at(2))
	must(t, err)
	if !ok {
		t.Fatal("heartbeat of a running run = false")
	}
	for _, tc := range []struct {
		name   string
		group  string
		before time.Time
		want   int
	}{
		{"heartbeat newer", g.ID, at(2), 0},
		{"heartbeat older", g.ID, at(3), 1},
		{"all groups", "", at(3), 1},
		{"another group", "nope", at(3), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.StaleSyncRuns(ctx, tc.group, tc.before)
			must(t, err)
			if len(got) != tc.want {
				t.Errorf("StaleSyncRuns = %d runs, want %d", len(got), tc.want)
			}
		})
	}
	fin := at(4)
	closing := &store.SyncRun{ID: r.ID, Status: store.RunFailed, FinishedAt: &fin, Result: []byte(`{"errors":["dead"]}`)}
	closed, err := s.CloseSyncRun(ctx, closing, at(2)) // the heartbeat is at 2: not older
	must(t, err)
	if closed {
		t.Error("CloseSyncRun with a newer heartbeat closed the run")
	}
	closed, err = s.CloseSyncRun(ctx, closing, at(3))
	must(t, err)
	if !closed {
		t.Fatal("CloseSyncRun of a stale run = false")
	}
	got, err := s.GetSyncRun(ctx, r.ID)
	must(t, err)
	if got.Status != store.RunFailed || got.FinishedAt == nil || !got.FinishedAt.Equal(fin) || string(got.Result) != `{"errors":["dead"]}` {
		t.Errorf("closed run = %+v %s", got, got.Result)
	}
	if ok, err := s.HeartbeatSyncRun(ctx, r.ID, at(5)); err != nil || ok {
		t.Errorf("heartbeat of a closed run = %v, %v; want false", ok, err)
	}
	if closed, err := s.CloseSyncRun(ctx, closing, time.Time{}); err != nil || closed {
		t.Errorf("second close = %v, %v; want false", closed, err)
	}
	// The process that lost it cannot reopen it.
	late := *got
	late.Status = store.RunRunning
	wantErr(t, s.UpdateSyncRun(ctx, &late), tenantlink.ENOTFOUND, store.ErrNotFound)
	again, err := s.GetSyncRun(ctx, r.ID)
	must(t, err)
	if again.Status != store.RunFailed {
		t.Errorf("status after a late update = %s, want failed", again.Status)
	}
}

// testSyncTrackedElsewhere: a user another group's sync still has (not
// marked gone) is reported; this group's own tracking is not.
func testSyncTrackedElsewhere(t *testing.T, s store.Store) {
	ctx := t.Context()
	u1, u2, u3 := mustUser(t, s, "e1@contoso.com"), mustUser(t, s, "e2@contoso.com"), mustUser(t, s, "e3@contoso.com")
	a := &tenantlink.Group{Name: "A", Roles: []tenantlink.Role{}, Members: []string{}}
	b := &tenantlink.Group{Name: "B", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, s.CreateGroup(ctx, a))
	must(t, s.CreateGroup(ctx, b))
	must(t, s.MarkSyncMembers(ctx, a.ID, "run-a", []store.SyncMember{sm("o1", u1.ID, ""), sm("o2", u2.ID, ""), sm("o3", u3.ID, "")}))
	must(t, s.MarkSyncMembers(ctx, b.ID, "run-b", []store.SyncMember{sm("o1", u1.ID, "")}))
	must(t, s.MarkSyncMembers(ctx, b.ID, "gone:run-b", []store.SyncMember{sm("o2", u2.ID, "")}))
	tests := []struct {
		group string
		ids   []string
		want  []string
	}{
		{a.ID, []string{u1.ID, u2.ID, u3.ID}, []string{u1.ID}},
		{b.ID, []string{u1.ID, u2.ID, u3.ID}, sorted(u1.ID, u2.ID, u3.ID)},
		{a.ID, nil, []string{}},
	}
	for i, tc := range tests {
		got, err := s.SyncTrackedElsewhere(ctx, tc.group, tc.ids)
		must(t, err)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("case %d (-want +got):\n%s", i, diff)
		}
	}
}

func sorted(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var errRollbackTasks = errors.New("roll back")

// testTasks: task rows through the store, inside a transaction too.
func testTasks(t *testing.T, s store.Store) {
	ctx := t.Context()
	next := at(7)
	task := &store.Task{ID: "t1", Name: "Sync: Sales", Kind: "sync", Target: "g1", Schedule: []byte(`{"kind":"hourly"}`),
		Enabled: true, WebhookHash: "hash", NextRun: &next, CreatedAt: at(1), UpdatedAt: at(1)}
	must(t, s.CreateTask(ctx, task))
	wantErr(t, s.CreateTask(ctx, &store.Task{ID: "t2", Name: "dup", Kind: "sync", Target: "g1", Schedule: []byte(`{}`)}),
		tenantlink.ECONFLICT, store.ErrConflict)
	got, err := s.TaskFor(ctx, "sync", "g1")
	must(t, err)
	if diff := cmp.Diff(task, got); diff != "" {
		t.Errorf("TaskFor (-want +got):\n%s", diff)
	}
	_, err = s.TaskFor(ctx, "sync", "nope")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	// Written in a transaction that rolls back: nothing changes.
	err = s.InTx(ctx, func(tx store.Store) error {
		cp := *task
		cp.Enabled, cp.NextRun, cp.UpdatedAt = false, nil, at(2)
		must(t, tx.UpdateTask(ctx, &cp))
		return errRollbackTasks
	})
	if !errors.Is(err, errRollbackTasks) {
		t.Fatalf("InTx err = %v, want the function's", err)
	}
	got, err = s.GetTask(ctx, "t1")
	must(t, err)
	if !got.Enabled || got.NextRun == nil {
		t.Errorf("task after a rolled-back update = %+v, want unchanged", got)
	}
	task.Enabled, task.NextRun, task.UpdatedAt, task.Name = false, nil, at(3), "Renamed"
	must(t, s.UpdateTask(ctx, task))
	got, err = s.GetTask(ctx, "t1")
	must(t, err)
	if diff := cmp.Diff(task, got); diff != "" {
		t.Errorf("after UpdateTask (-want +got):\n%s", diff)
	}
	wantErr(t, s.UpdateTask(ctx, &store.Task{ID: "nope", Schedule: []byte(`{}`)}), tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.GetTask(ctx, "nope")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
}
