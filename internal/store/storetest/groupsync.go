package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

func imported(obj, email, name string, active bool) *tenantlink.User {
	return &tenantlink.User{Email: email, DisplayName: name, GivenName: "G " + name, Surname: "S", Active: active,
		Source: &tenantlink.UserSource{DataSource: "ds1", ObjectID: obj}}
}

func sm(obj, user, mark string) store.SyncMember {
	return store.SyncMember{ObjectID: obj, UserID: user, Mark: mark}
}

func outcomes(os []store.ImportOutcome) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Outcome
	}
	return out
}

func testUpsertImportedUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	local := mustUser(t, s, "taken@contoso.com")
	first := []*tenantlink.User{
		imported("o1", "a@contoso.com", "Äda", true),
		imported("o2", "b@contoso.com", "Bo", true),
		imported("o3", "Taken@Contoso.com", "Taken", true), // a local user's email
	}
	got, err := s.UpsertImportedUsers(ctx, "ds1", first)
	must(t, err)
	if diff := cmp.Diff([]string{store.ImportCreated, store.ImportCreated, store.ImportConflict}, outcomes(got)); diff != "" {
		t.Fatalf("first import outcomes (-want +got):\n%s", diff)
	}
	if got[2].ConflictWith != local.ID || got[2].ID != "" {
		t.Errorf("conflict = %+v, want ConflictWith %s and no id", got[2], local.ID)
	}
	a, err := s.GetUserBySource(ctx, "ds1", "o1")
	must(t, err)
	if a.ID != got[0].ID || a.ID != first[0].ID || a.Email != "a@contoso.com" || !a.Active ||
		!slices.Equal(a.Roles, []tenantlink.Role{tenantlink.RoleUser}) {
		t.Errorf("created user = %+v, want id %s, email a@contoso.com, active, role User", a, got[0].ID)
	}
	// Non-ASCII display names are searchable case-insensitively.
	found, err := s.ListUsers(ctx, store.UserFilter{Search: "äDA"})
	must(t, err)
	if diff := cmp.Diff([]string{"a@contoso.com"}, emails(found)); diff != "" {
		t.Errorf("search after import (-want +got):\n%s", diff)
	}
	// The local user was not touched.
	l, err := s.GetUser(ctx, local.ID)
	must(t, err)
	if l.Source != nil || l.DisplayName != local.DisplayName {
		t.Errorf("local user changed: %+v", l)
	}

	// Roles granted in tenantlink survive a re-import.
	a.Roles = []tenantlink.Role{tenantlink.RoleUser, tenantlink.RoleDesignProcess}
	must(t, s.UpdateUser(ctx, a))
	second := []*tenantlink.User{
		imported("o1", "a@contoso.com", "Äda", true),          // unchanged
		imported("o2", "b2@contoso.com", "Bo Renamed", false), // renamed, disabled
		imported("o4", "d@contoso.com", "Di", true),           // new
		imported("o5", "a@contoso.com", "Dup", true),          // another object with o1's email
	}
	second[1].UpdatedAt = at(5)
	got, err = s.UpsertImportedUsers(ctx, "ds1", second)
	must(t, err)
	if diff := cmp.Diff([]string{store.ImportUnchanged, store.ImportUpdated, store.ImportCreated, store.ImportConflict}, outcomes(got)); diff != "" {
		t.Fatalf("second import outcomes (-want +got):\n%s", diff)
	}
	if got[1].Before == nil || got[1].Before.Email != "b@contoso.com" {
		t.Errorf("update Before = %+v, want the stored user with b@contoso.com", got[1].Before)
	}
	b, err := s.GetUserBySource(ctx, "ds1", "o2")
	must(t, err)
	if b.Email != "b2@contoso.com" || b.DisplayName != "Bo Renamed" || b.Active || !b.UpdatedAt.Equal(at(5)) {
		t.Errorf("updated user = %+v, want b2@contoso.com, Bo Renamed, inactive, updated at %v", b, at(5))
	}
	a2, err := s.GetUser(ctx, a.ID)
	must(t, err)
	if !slices.Equal(a2.Roles, a.Roles) {
		t.Errorf("roles after re-import = %v, want %v", a2.Roles, a.Roles)
	}
	if _, err := s.GetUserByEmail(ctx, "b@contoso.com"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("old email still found: err = %v", err)
	}

	// Large batches are split below the backends' parameter limits.
	var many []*tenantlink.User
	for i := range 2500 {
		many = append(many, imported(fmt.Sprintf("m%05d", i), fmt.Sprintf("m%05d@contoso.com", i), "M", true))
	}
	got, err = s.UpsertImportedUsers(ctx, "ds1", many)
	must(t, err)
	if len(got) != 2500 || got[2499].Outcome != store.ImportCreated {
		t.Errorf("large import: %d outcomes, last %+v; want 2500, created", len(got), got[len(got)-1])
	}
	list, err := s.ListUsers(ctx, store.UserFilter{DataSource: "ds1"})
	must(t, err)
	if got, want := len(list), 2503; got != want {
		t.Errorf("imported users = %d, want %d", got, want)
	}
}

func testBatchMembership(t *testing.T, s store.Store) {
	ctx := t.Context()
	u1, u2, u3 := mustUser(t, s, "u1@contoso.com"), mustUser(t, s, "u2@contoso.com"), mustUser(t, s, "u3@contoso.com")
	g := &tenantlink.Group{Name: "Sales", Roles: []tenantlink.Role{}, Members: []string{u2.ID}}
	must(t, s.CreateGroup(ctx, g))

	n, err := s.AddGroupMembers(ctx, g.ID, []string{u1.ID, u2.ID, u3.ID, u1.ID})
	must(t, err)
	if n != 2 {
		t.Errorf("AddGroupMembers added %d, want 2 (u2 was a member, u1 repeated)", n)
	}
	got, err := s.GetGroup(ctx, g.ID)
	must(t, err)
	if diff := cmp.Diff([]string{u2.ID, u1.ID, u3.ID}, got.Members); diff != "" {
		t.Errorf("members after add, in order (-want +got):\n%s", diff)
	}
	if _, err := s.AddGroupMembers(ctx, g.ID, []string{"nobody"}); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("AddGroupMembers(unknown user) err = %v, want ENOTFOUND", err)
	}
	n, err = s.RemoveGroupMembers(ctx, g.ID, []string{u1.ID, "nobody"})
	must(t, err)
	if n != 1 {
		t.Errorf("RemoveGroupMembers removed %d, want 1", n)
	}

	n, err = s.SetUsersActive(ctx, []string{u1.ID, u2.ID, "nobody"}, false, at(7))
	must(t, err)
	if n != 2 {
		t.Errorf("SetUsersActive changed %d, want 2", n)
	}
	n, err = s.SetUsersActive(ctx, []string{u1.ID}, false, at(8))
	must(t, err)
	if n != 0 {
		t.Errorf("SetUsersActive on an inactive user changed %d, want 0", n)
	}
	r1, err := s.GetUser(ctx, u1.ID)
	must(t, err)
	if r1.Active || !r1.UpdatedAt.Equal(at(7)) {
		t.Errorf("u1 = active %v updated %v, want inactive updated %v", r1.Active, r1.UpdatedAt, at(7))
	}

	n, err = s.DeleteUsers(ctx, []string{u3.ID, "nobody"})
	must(t, err)
	if n != 1 {
		t.Errorf("DeleteUsers deleted %d, want 1", n)
	}
	got, err = s.GetGroup(ctx, g.ID)
	must(t, err)
	if diff := cmp.Diff([]string{u2.ID}, got.Members); diff != "" {
		t.Errorf("members after remove and delete (-want +got):\n%s", diff)
	}
}

func testSyncState(t *testing.T, s store.Store) {
	ctx := t.Context()
	g := &tenantlink.Group{Name: "Synced", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, s.CreateGroup(ctx, g))
	_, err := s.GetSyncState(ctx, g.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	st := &store.SyncState{GroupID: g.ID, DataSource: "ds1", Source: "*", Cursor: "c1", UpdatedAt: at(1)}
	must(t, s.PutSyncState(ctx, st))
	st.Cursor, st.UpdatedAt = "c2", at(2)
	must(t, s.PutSyncState(ctx, st))
	got, err := s.GetSyncState(ctx, g.ID)
	must(t, err)
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("sync state (-want +got):\n%s", diff)
	}
	wantErr(t, s.PutSyncState(ctx, &store.SyncState{GroupID: "nope", DataSource: "ds1"}), tenantlink.ENOTFOUND, store.ErrNotFound)

	must(t, s.MarkSyncMembers(ctx, g.ID, "run1", []store.SyncMember{{ObjectID: "b", UserID: "ub"}, {ObjectID: "a", UserID: "ua"}, {ObjectID: "c", UserID: "uc"}}))
	must(t, s.MarkSyncMembers(ctx, g.ID, "run2", []store.SyncMember{{ObjectID: "a"}, {ObjectID: "a"}, {ObjectID: "d", UserID: "ud"}}))
	must(t, s.MarkSyncMembers(ctx, g.ID, "gone:run2", []store.SyncMember{{ObjectID: "c"}}))
	for _, tc := range []struct {
		name string
		f    store.SyncMemberFilter
		want []store.SyncMember
	}{
		{"all", store.SyncMemberFilter{}, []store.SyncMember{
			sm("a", "ua", "run2"), sm("b", "ub", "run1"), sm("c", "uc", "gone:run2"), sm("d", "ud", "run2")}},
		{"not seen by run2", store.SyncMemberFilter{NotMark: "run2"}, []store.SyncMember{sm("b", "ub", "run1"), sm("c", "uc", "gone:run2")}},
		{"gone in run2", store.SyncMemberFilter{Mark: "gone:run2"}, []store.SyncMember{sm("c", "uc", "gone:run2")}},
		{"by object", store.SyncMemberFilter{ObjectIDs: []string{"d", "x", "b"}}, []store.SyncMember{sm("b", "ub", "run1"), sm("d", "ud", "run2")}},
		{"empty object list", store.SyncMemberFilter{ObjectIDs: []string{}}, []store.SyncMember{}},
		{"page", store.SyncMemberFilter{After: "a", Limit: 2}, []store.SyncMember{sm("b", "ub", "run1"), sm("c", "uc", "gone:run2")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SyncMembers(ctx, g.ID, tc.f)
			must(t, err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SyncMembers(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	n, err := s.DeleteSyncMembers(ctx, g.ID, []string{"c", "zz"})
	must(t, err)
	if n != 1 {
		t.Errorf("DeleteSyncMembers = %d, want 1", n)
	}
	must(t, s.DeleteSyncState(ctx, g.ID))
	_, err = s.GetSyncState(ctx, g.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	left, err := s.SyncMembers(ctx, g.ID, store.SyncMemberFilter{})
	must(t, err)
	if len(left) != 0 {
		t.Errorf("members after DeleteSyncState = %v, want none", left)
	}
}

func testSyncRuns(t *testing.T, s store.Store) {
	ctx := t.Context()
	g := &tenantlink.Group{Name: "Runs", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, s.CreateGroup(ctx, g))
	r1 := &store.SyncRun{GroupID: g.ID, Trigger: "manual", StartedAt: at(1), HeartbeatAt: at(1)}
	must(t, s.CreateSyncRun(ctx, r1, at(0)))
	if r1.ID == "" || r1.Status != store.RunRunning {
		t.Fatalf("created run = %+v, want an id and status running", r1)
	}
	// A second run of the same group while the first is alive.
	err := s.CreateSyncRun(ctx, &store.SyncRun{GroupID: g.ID, StartedAt: at(2)}, at(0))
	wantErr(t, err, tenantlink.ECONFLICT, store.ErrConflict)
	if got := tenantlink.ErrorMessage(err); got != "a sync of this group is already running" {
		t.Errorf("conflict message = %q", got)
	}

	r1.Status, r1.Full, r1.Result = store.RunSucceeded, true, []byte(`{"counts":{"created":3}}`)
	fin := at(3)
	r1.FinishedAt, r1.HeartbeatAt = &fin, at(3)
	must(t, s.UpdateSyncRun(ctx, r1))

	r2 := &store.SyncRun{GroupID: g.ID, Trigger: "schedule", DryRun: true, StartedAt: at(4), HeartbeatAt: at(4)}
	must(t, s.CreateSyncRun(ctx, r2, at(0)))
	// Its process dies; a later run finds the heartbeat stale and takes over.
	r3 := &store.SyncRun{GroupID: g.ID, Trigger: "cli", StartedAt: at(9), HeartbeatAt: at(9)}
	must(t, s.CreateSyncRun(ctx, r3, at(5)))
	got2, err := s.GetSyncRun(ctx, r2.ID)
	must(t, err)
	if got2.Status != store.RunFailed || got2.FinishedAt == nil {
		t.Errorf("stale run = %+v, want failed with an end", got2)
	}

	runs, err := s.ListSyncRuns(ctx, g.ID, 2)
	must(t, err)
	if len(runs) != 2 || runs[0].ID != r3.ID || runs[1].ID != r2.ID {
		t.Fatalf("ListSyncRuns(2) = %v, want r3, r2", runs)
	}
	got1, err := s.GetSyncRun(ctx, r1.ID)
	must(t, err)
	if diff := cmp.Diff(r1, got1); diff != "" {
		t.Errorf("finished run (-want +got):\n%s", diff)
	}
	_, err = s.GetSyncRun(ctx, "nope")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.UpdateSyncRun(ctx, &store.SyncRun{ID: "nope", Status: store.RunFailed}), tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.CreateSyncRun(ctx, &store.SyncRun{GroupID: "nope"}, time.Time{}), tenantlink.ENOTFOUND, store.ErrNotFound)

	// Deleting the group deletes its runs and state.
	must(t, s.DeleteGroup(ctx, g.ID))
	_, err = s.GetSyncRun(ctx, r1.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
}
