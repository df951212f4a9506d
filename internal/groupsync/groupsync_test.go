package groupsync_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
)

// TestSyncFollowsTenant is the scenario end to end over loopback,
// on both backends: a full import, then users added, renamed, disabled,
// deleted and moved out of the source group; one incremental run follows
// them. Then an expired delta token falls back to a full read by itself.
func TestSyncFollowsTenant(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, b.dsn(t), m365sim.Options{Users: 5, Groups: 1})
			ids := map[string]string{}
			for _, n := range []string{"ann", "bob", "cat", "dan", "eve", "fay", "gus"} {
				ids[n] = e.simUser(t, upn(e, n), strings.ToUpper(n[:1])+n[1:])
			}
			e.simGroup(t, "Sales team", []string{ids["ann"], ids["bob"], ids["cat"], ids["dan"], ids["eve"]})
			// A local user holds eve's address: eve is not imported, the
			// local user is left alone.
			holder := &tenantlink.User{Email: upn(e, "eve"), DisplayName: "Local Eve", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
			must(t, e.st.CreateUser(ctx, holder))
			local := &tenantlink.User{Email: "local@tenantlink.example", DisplayName: "Local", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
			must(t, e.st.CreateUser(ctx, local))
			g := e.syncedGroup(t, "Sales", "Sales team", false, groupsync.MissingRemove, local.ID)

			r1 := e.run(t, g, groupsync.RunOptions{Trigger: "manual"})
			if r1.Status != store.RunSucceeded || !r1.Full {
				t.Fatalf("first run = %s full=%v errors %v; want succeeded, full", r1.Status, r1.Full, r1.Errors)
			}
			if diff := cmp.Diff(groupsync.Counts{Created: 4, Skipped: 1}, r1.Counts); diff != "" {
				t.Errorf("first run counts (-want +got):\n%s", diff)
			}
			if len(r1.Errors) != 1 || !strings.Contains(r1.Errors[0], holder.ID) {
				t.Errorf("first run errors = %q, want one naming local user %s", r1.Errors, holder.ID)
			}
			ann := e.imported(t, ids["ann"])
			if ann == nil || ann.Email != upn(e, "ann") || ann.DisplayName != "Ann" || ann.JobTitle != "Clerk" || ann.Department != "Sales" || !ann.Active {
				t.Fatalf("imported ann = %+v", ann)
			}

			// Between runs, in the tenant.
			e.control(t, "POST", "/_sim/groups/"+e.groups["Sales team"]+"/members/"+ids["fay"], nil, nil)
			e.control(t, "PATCH", "/_sim/users/"+ids["ann"], map[string]any{"displayName": "Ann Renamed", "jobTitle": "Manager"}, nil)
			e.control(t, "PATCH", "/_sim/users/"+ids["bob"], map[string]any{"accountEnabled": false}, nil)
			e.control(t, "DELETE", "/_sim/users/"+ids["cat"], nil, nil)
			e.control(t, "DELETE", "/_sim/groups/"+e.groups["Sales team"]+"/members/"+ids["dan"], nil, nil)
			e.control(t, "PATCH", "/_sim/users/"+ids["gus"], map[string]any{"displayName": "Gus, not a member"}, nil)

			r2 := e.run(t, g, groupsync.RunOptions{Trigger: "schedule", Confirm: true})
			if r2.Status != store.RunSucceeded || r2.Full {
				t.Fatalf("second run = %s full=%v errors %v; want succeeded, incremental", r2.Status, r2.Full, r2.Errors)
			}
			if diff := cmp.Diff(groupsync.Counts{Created: 1, Updated: 2, Removed: 2}, r2.Counts); diff != "" {
				t.Errorf("incremental counts (-want +got):\n%s", diff)
			}
			want := []string{"local@tenantlink.example", upn(e, "ann"), upn(e, "bob"), upn(e, "fay")}
			slices.Sort(want)
			if diff := cmp.Diff(want, e.memberEmails(t, g)); diff != "" {
				t.Errorf("members after the incremental run (-want +got):\n%s", diff)
			}
			if u := e.imported(t, ids["ann"]); u == nil || u.DisplayName != "Ann Renamed" || u.JobTitle != "Manager" {
				t.Errorf("ann after rename = %+v", u)
			}
			if u := e.imported(t, ids["bob"]); u == nil || u.Active {
				t.Errorf("bob after disable = %+v, want inactive", u)
			}
			for _, n := range []string{"cat", "dan", "gus"} {
				if u := e.imported(t, ids[n]); u != nil {
					t.Errorf("%s is imported (%+v), want not", n, u)
				}
			}
			for _, u := range []*tenantlink.User{holder, local} {
				got, err := e.st.GetUser(ctx, u.ID)
				must(t, err)
				if !got.UpdatedAt.Equal(u.UpdatedAt) || got.DisplayName != u.DisplayName || got.Source != nil {
					t.Errorf("local user %s changed: %+v", u.Email, got)
				}
			}

			// A week and a day later the delta token has expired.
			before := e.snapshot(t)
			e.control(t, "POST", "/_sim/clock", map[string]string{"advance": "192h"}, nil)
			r3 := e.run(t, g, groupsync.RunOptions{Trigger: "schedule"})
			if r3.Status != store.RunSucceeded || !r3.Full {
				t.Fatalf("run after expiry = %s full=%v errors %v; want succeeded, full", r3.Status, r3.Full, r3.Errors)
			}
			if diff := cmp.Diff(groupsync.Counts{Unchanged: 3, Skipped: 1}, r3.Counts); diff != "" {
				t.Errorf("full resync counts (-want +got):\n%s", diff)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("full resync changed the directory:\nbefore %s\nafter  %s", before, after)
			}
			runs, err := e.svc.Runs(ctx, e.admin, g.ID, 0)
			must(t, err)
			if len(runs) != 3 || runs[0].ID != r3.ID || runs[0].FinishedAt == nil {
				t.Errorf("Runs = %d, newest %+v; want 3, newest finished r3", len(runs), runs[0])
			}
			audit, err := e.st.ListAudit(ctx, store.AuditFilter{Target: "group:" + g.ID})
			must(t, err)
			if len(audit) != 3 || audit[0].Action != "group.sync" || audit[0].Outcome != store.RunSucceeded {
				t.Errorf("audit = %d entries, newest %+v; want 3 group.sync entries", len(audit), audit[0])
			}
		})
	}
}

// TestMissingUsers checks each missing-user policy with and without
// override, one member of five leaving the source (20%, at the threshold).
func TestMissingUsers(t *testing.T) {
	for _, tc := range []struct {
		missing  string
		override bool
		want     groupsync.Counts
		active   bool // the leaver afterwards
		exists   bool
		inGroup  bool
	}{
		{groupsync.MissingKeep, false, groupsync.Counts{Unchanged: 4}, true, true, true},
		{groupsync.MissingDisable, false, groupsync.Counts{Unchanged: 4, Disabled: 1}, false, true, true},
		{groupsync.MissingRemove, false, groupsync.Counts{Unchanged: 4, Removed: 1}, false, false, false},
		{groupsync.MissingKeep, true, groupsync.Counts{Unchanged: 4, LeftGroup: 1}, true, true, false},
		{groupsync.MissingDisable, true, groupsync.Counts{Unchanged: 4, Disabled: 1, LeftGroup: 1}, false, true, false},
	} {
		name := tc.missing
		if tc.override {
			name += "+override"
		}
		t.Run(name, func(t *testing.T) {
			e, g, ids := fiveMembers(t, tc.missing, tc.override)
			e.control(t, "DELETE", "/_sim/groups/"+e.groups["Source"]+"/members/"+ids[0], nil, nil)
			r := e.run(t, g, groupsync.RunOptions{Full: true})
			if r.Status != store.RunSucceeded {
				t.Fatalf("run = %s %v, want succeeded", r.Status, r.Errors)
			}
			if diff := cmp.Diff(tc.want, r.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			u := e.imported(t, ids[0])
			if got := u != nil; got != tc.exists {
				t.Fatalf("leaver exists = %v, want %v", got, tc.exists)
			}
			if u != nil {
				if u.Active != tc.active {
					t.Errorf("leaver active = %v, want %v", u.Active, tc.active)
				}
				if got := len(u.Groups) == 1; got != tc.inGroup {
					t.Errorf("leaver in group = %v (groups %v), want %v", got, u.Groups, tc.inGroup)
				}
			}
		})
	}
}

// fiveMembers is a tenant group of five synced once into a directory group.
func fiveMembers(t *testing.T, missing string, override bool) (*env, *tenantlink.Group, []string) {
	t.Helper()
	e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: 3, Groups: 1})
	var ids []string
	for _, n := range []string{"m1", "m2", "m3", "m4", "m5"} {
		ids = append(ids, e.simUser(t, upn(e, n), n))
	}
	e.simGroup(t, "Source", ids)
	g := e.syncedGroup(t, "Synced", e.groups["Source"], override, missing)
	if r := e.run(t, g, groupsync.RunOptions{}); r.Status != store.RunSucceeded || r.Counts.Created != 5 {
		t.Fatalf("first run = %s %+v %v, want succeeded with 5 created", r.Status, r.Counts, r.Errors)
	}
	return e, g, ids
}

// TestOverrideLocalMembers: override makes the group mirror the source, so
// a local member leaves the group, but the local user is not changed.
func TestOverrideLocalMembers(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: 3, Groups: 1})
	var ids []string
	for _, n := range []string{"o1", "o2", "o3", "o4", "o5", "o6"} {
		ids = append(ids, e.simUser(t, upn(e, n), n))
	}
	e.simGroup(t, "Source", ids)
	local := &tenantlink.User{Email: "local@tenantlink.example", DisplayName: "Local", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
	must(t, e.st.CreateUser(context.Background(), local))
	g := e.syncedGroup(t, "Mirror", "Source", true, groupsync.MissingKeep, local.ID)
	r := e.run(t, g, groupsync.RunOptions{})
	if r.Status != store.RunSucceeded {
		t.Fatalf("run = %s %v", r.Status, r.Errors)
	}
	if diff := cmp.Diff(groupsync.Counts{Created: 6, LeftGroup: 1}, r.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	got, err := e.st.GetUser(context.Background(), local.ID)
	must(t, err)
	if len(got.Groups) != 0 || !got.Active || !got.UpdatedAt.Equal(local.UpdatedAt) {
		t.Errorf("local user after override = %+v, want out of the group and otherwise unchanged", got)
	}
}

// TestThreshold: losing three of five members stops the run with nothing
// destructive applied; Confirm proceeds.
func TestThreshold(t *testing.T) {
	e, g, ids := fiveMembers(t, groupsync.MissingDisable, false)
	for _, id := range ids[:3] {
		e.control(t, "DELETE", "/_sim/groups/"+e.groups["Source"]+"/members/"+id, nil, nil)
	}
	before := e.snapshot(t)
	r := e.run(t, g, groupsync.RunOptions{})
	if r.Status != store.RunStopped || len(r.Errors) == 0 || !strings.Contains(r.Errors[0], "3 of the group's 5 members (60%") {
		t.Fatalf("run = %s %v, want stopped asking for confirmation of 3 of 5", r.Status, r.Errors)
	}
	if r.Counts.Disabled != 0 {
		t.Errorf("stopped run disabled %d", r.Counts.Disabled)
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("stopped run changed the directory")
	}
	r = e.run(t, g, groupsync.RunOptions{Confirm: true})
	if r.Status != store.RunSucceeded || r.Counts.Disabled != 3 {
		t.Fatalf("confirmed run = %s %+v %v, want succeeded with 3 disabled", r.Status, r.Counts, r.Errors)
	}
	for _, id := range ids[:3] {
		if u := e.imported(t, id); u == nil || u.Active {
			t.Errorf("user %s after confirmed run = %+v, want inactive", id, u)
		}
	}
}

// TestDryRun: a dry run reports what the real run then does, and stores
// nothing but its own record.
func TestDryRun(t *testing.T) {
	e, g, ids := fiveMembers(t, groupsync.MissingRemove, false)
	e.control(t, "DELETE", "/_sim/groups/"+e.groups["Source"]+"/members/"+ids[0], nil, nil)
	e.control(t, "PATCH", "/_sim/users/"+ids[1], map[string]any{"displayName": "Renamed"}, nil)
	n6 := e.simUser(t, upn(e, "m6"), "m6")
	e.control(t, "POST", "/_sim/groups/"+e.groups["Source"]+"/members/"+n6, nil, nil)
	before := e.snapshot(t)
	state, err := e.st.GetSyncState(context.Background(), g.ID)
	must(t, err)

	dry := e.run(t, g, groupsync.RunOptions{DryRun: true})
	if dry.Status != store.RunSucceeded || !dry.DryRun {
		t.Fatalf("dry run = %s dry=%v %v", dry.Status, dry.DryRun, dry.Errors)
	}
	want := groupsync.Counts{Created: 1, Updated: 1, Removed: 1}
	if diff := cmp.Diff(want, dry.Counts); diff != "" {
		t.Errorf("dry run counts (-want +got):\n%s", diff)
	}
	var actions []string
	for _, c := range dry.Changes {
		actions = append(actions, c.Action)
	}
	slices.Sort(actions)
	if diff := cmp.Diff([]string{"create", "remove", "update"}, actions); diff != "" {
		t.Errorf("dry run changes (-want +got):\n%s", diff)
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("dry run changed the directory")
	}
	state2, err := e.st.GetSyncState(context.Background(), g.ID)
	must(t, err)
	if state2.Cursor != state.Cursor {
		t.Errorf("dry run moved the cursor")
	}
	real := e.run(t, g, groupsync.RunOptions{})
	if diff := cmp.Diff(want, real.Counts); diff != "" {
		t.Errorf("real run after the dry run (-want +got):\n%s", diff)
	}
}

// TestRevokedMidRun: the grant is revoked after the first page; the run
// fails, the data source asks for re-authorization, what was committed is
// counted and nothing else was written, and the cursor did not move.
func TestRevokedMidRun(t *testing.T) {
	// The reader fetches ahead of the store (8 pages waiting, one being
	// fetched, up to 4 merged into the first stored): the tenant has more
	// pages than that, so the revocation is met by a fetch.
	const users = 15_000
	e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: users, Groups: 1})
	g := e.syncedGroup(t, "Everyone", "*", false, groupsync.MissingKeep)
	revoked := false
	r := e.run(t, g, groupsync.RunOptions{Progress: func(p groupsync.Progress) {
		if !revoked && p.Created > 0 {
			revoked = true
			e.control(t, "POST", "/_sim/revoke", map[string]string{"user": e.facts.AdminUser}, nil)
		}
	}})
	if r.Status != store.RunFailed {
		t.Fatalf("run = %s %+v, want failed", r.Status, r.Counts)
	}
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0], "Re-authorize") {
		t.Errorf("errors = %q, want a re-authorization message", r.Errors)
	}
	ds, err := e.st.GetDataSource(context.Background(), e.ds.ID)
	must(t, err)
	if ds.Status != tenantlink.StatusReauthorize {
		t.Errorf("data source status = %q, want %q", ds.Status, tenantlink.StatusReauthorize)
	}
	us, err := e.st.ListUsers(context.Background(), store.UserFilter{DataSource: e.ds.ID})
	must(t, err)
	if len(us) != r.Counts.Created || r.Counts.Created == 0 || r.Counts.Created >= users {
		t.Errorf("imported users = %d, run counted %d created; want equal, some but not all", len(us), r.Counts.Created)
	}
	if _, err := e.st.GetSyncState(context.Background(), g.ID); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("sync state after a failed first run: err = %v, want none stored", err)
	}
}

// TestConcurrentRuns: a second run of a group while one is running is
// refused with ECONFLICT; the first completes.
func TestConcurrentRuns(t *testing.T) {
	e, g, _ := fiveMembers(t, groupsync.MissingKeep, false)
	var once sync.Once
	var second error
	r := e.run(t, g, groupsync.RunOptions{Progress: func(groupsync.Progress) {
		once.Do(func() { _, second = e.svc.Run(context.Background(), e.admin, g.ID, groupsync.RunOptions{}) })
	}})
	if tenantlink.ErrorCode(second) != tenantlink.ECONFLICT || tenantlink.ErrorMessage(second) != "a sync of this group is already running" {
		t.Errorf("second run err = %v, want ECONFLICT: a sync of this group is already running", second)
	}
	if r.Status != store.RunSucceeded {
		t.Errorf("first run = %s %v", r.Status, r.Errors)
	}
}

// TestCancel: a cancelled run ends stopped, not running.
func TestCancel(t *testing.T) {
	e, g, _ := fiveMembers(t, groupsync.MissingKeep, false)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{Full: true, Progress: func(groupsync.Progress) { cancel() }})
	must(t, err)
	if r.Status != store.RunStopped || r.FinishedAt == nil {
		t.Errorf("cancelled run = %s finished %v, want stopped with an end", r.Status, r.FinishedAt)
	}
}

// TestRunRefusals: who may run and what must be configured.
func TestRunRefusals(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: 3, Groups: 1})
	plain := &tenantlink.Group{Name: "Plain", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, e.st.CreateGroup(context.Background(), plain))
	synced := e.syncedGroup(t, "Synced", "*", false, groupsync.MissingKeep)
	user := &tenantlink.Principal{User: &tenantlink.User{ID: "u", Email: "u@x"}, Roles: []tenantlink.Role{tenantlink.RoleUser}}
	for _, tc := range []struct {
		name  string
		p     *tenantlink.Principal
		group string
		code  string
	}{
		{"not an administrator", user, synced.ID, tenantlink.EFORBIDDEN},
		{"no sync configured", e.admin, plain.ID, tenantlink.EINVALID},
		{"unknown group", e.admin, "nope", tenantlink.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Run(context.Background(), tc.p, tc.group, groupsync.RunOptions{})
			if got := tenantlink.ErrorCode(err); got != tc.code {
				t.Errorf("Run err = %v (code %q), want %q", err, got, tc.code)
			}
		})
	}
	for _, tc := range []struct {
		name string
		s    tenantlink.SyncSettings
		want string
	}{
		{"bad policy", tenantlink.SyncSettings{Enabled: true, DataSource: e.ds.ID, SourceGroup: "*", MissingUsers: "delete"}, "missingUsers"},
		{"no source", tenantlink.SyncSettings{Enabled: true, DataSource: e.ds.ID}, "sourceGroup is required"},
		{"unknown data source", tenantlink.SyncSettings{Enabled: true, DataSource: "nope", SourceGroup: "*"}, "is not a data source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := groupsync.ValidateSettings(context.Background(), e.st, e.dss, e.admin, &tc.s)
			if tenantlink.ErrorCode(err) != tenantlink.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ValidateSettings err = %v, want EINVALID mentioning %q", err, tc.want)
			}
		})
	}
}

// TestStaleRunTakenOver: a run left "running" by a dead process blocks new
// runs until its heartbeat is older than the stale window, and then the
// next run closes it as failed and goes ahead. StaleAfter moves that
// window; production keeps DefaultStaleAfter.
func TestStaleRunTakenOver(t *testing.T) {
	e, g, _ := fiveMembers(t, groupsync.MissingKeep, false)
	ctx := context.Background()
	dead := &store.SyncRun{GroupID: g.ID, Status: store.RunRunning, Trigger: "schedule", Result: []byte(`{}`),
		StartedAt: time.Now().Add(-time.Hour), HeartbeatAt: time.Now().Add(-30 * time.Second)}
	must(t, e.st.CreateSyncRun(ctx, dead, time.Now().Add(-groupsync.DefaultStaleAfter)))

	// In order: the first case must leave the dead run in place for the
	// second to take over.
	tests := []struct {
		name       string
		staleAfter time.Duration
		wantCode   string
	}{
		{"default window: a 30 s old heartbeat is alive", 0, tenantlink.ECONFLICT},
		{"window shorter than the heartbeat's age: taken over", 10 * time.Second, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := &groupsync.Service{Store: e.svc.Store, DataSources: e.svc.DataSources, Now: e.svc.Now, Logger: e.svc.Logger, StaleAfter: tc.staleAfter}
			r, err := svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
			if got := tenantlink.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("Run error = %v (code %q), want code %q", err, got, tc.wantCode)
			}
			if err == nil && r.Status != store.RunSucceeded {
				t.Errorf("run after the takeover = %s %v, want succeeded", r.Status, r.Errors)
			}
		})
	}
	got, err := e.st.GetSyncRun(ctx, dead.ID)
	must(t, err)
	if got.Status != store.RunFailed {
		t.Errorf("dead run's status = %q, want %q", got.Status, store.RunFailed)
	}
}
