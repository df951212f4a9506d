package groupsync_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/connectortest"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

// fakeEnv is the sync service over a SQLite store and the fake connector:
// no simulator, no HTTP.
type fakeEnv struct {
	st    *sqlstore.DB
	svc   *groupsync.Service
	fake  *connectortest.Connector
	ds    *tenantlink.DataSource
	admin *tenantlink.Principal
}

func newFakeEnv(tb testing.TB) *fakeEnv {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+tb.TempDir()+"/t.db", secretstest.NewTestKeyring(tb), nil)
	must(tb, err)
	tb.Cleanup(func() { st.Close() })
	fake := &connectortest.Connector{Groups: map[string][]connector.SourceUser{}, PageSize: 3}
	dss := &datasource.Service{Store: st, Connectors: map[string]connector.Connector{connectortest.Type: fake}}
	ds := &tenantlink.DataSource{Name: "Fake", Type: connectortest.Type,
		Security: tenantlink.Security{Admins: []string{}, Users: []string{}, Writers: []string{}}}
	must(tb, st.CreateDataSource(ctx, ds))
	ds.Status, ds.Account = tenantlink.StatusReady, "tenant-1"
	must(tb, st.UpdateDataSource(ctx, ds))
	admin := &tenantlink.User{Email: "admin@example.com", DisplayName: "Admin", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleAdministrator}, Groups: []string{}}
	must(tb, st.CreateUser(ctx, admin))
	return &fakeEnv{st: st, fake: fake, ds: ds, admin: &tenantlink.Principal{User: admin, Roles: admin.Roles},
		svc: &groupsync.Service{Store: st, DataSources: dss}}
}

func (e *fakeEnv) group(tb testing.TB, name, source string, override bool, missing string) *tenantlink.Group {
	tb.Helper()
	g := &tenantlink.Group{Name: name, Roles: []tenantlink.Role{}, Members: []string{}, Sync: &tenantlink.SyncSettings{
		Enabled: true, DataSource: e.ds.ID, SourceGroup: source, Override: override, MissingUsers: missing}}
	must(tb, e.st.CreateGroup(context.Background(), g))
	return g
}

// people returns n source users p0…p(n-1).
func people(n int) []connector.SourceUser {
	out := make([]connector.SourceUser, n)
	for i := range out {
		out[i] = connectortest.User(fmt.Sprintf("obj-%d", i), fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Person %d", i))
	}
	return out
}

func (e *fakeEnv) active(tb testing.TB, obj string) (exists, active bool) {
	tb.Helper()
	u, err := e.st.GetUserBySource(context.Background(), e.ds.ID, obj)
	if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
		return false, false
	}
	must(tb, err)
	return true, u.Active
}

// TestSyncRules runs the sync's rules — creation, the missing-users
// policies, the safety threshold and its confirmation, dry runs, override
// of local users, email conflicts, replays — against the fake connector.
func TestSyncRules(t *testing.T) {
	type state struct{ exists, active bool }
	for _, tc := range []struct {
		name         string
		missing      string
		override     bool
		local        []string // emails of local (not imported) users before the runs
		localMembers bool     // the local users are members of the group
		first        []connector.SourceUser
		second       []connector.SourceUser // nil: no second run
		opts         groupsync.RunOptions   // of the second run (or the first when second is nil)
		want         groupsync.Counts
		status       string
		users        map[string]state // by object id, after the last run
		members      int
	}{
		{name: "members are created", missing: "keep", first: people(4),
			want: groupsync.Counts{Created: 4}, status: store.RunSucceeded,
			users: map[string]state{"obj-0": {true, true}, "obj-3": {true, true}}, members: 4},
		{name: "a replay changes nothing", missing: "keep", first: people(4), second: people(4),
			want: groupsync.Counts{Unchanged: 4}, status: store.RunSucceeded, members: 4},
		{name: "keep: the missing member stays, active and in the group", missing: "keep", first: people(10), second: people(9),
			want: groupsync.Counts{Unchanged: 9}, status: store.RunSucceeded,
			users: map[string]state{"obj-9": {true, true}}, members: 10},
		{name: "keep with override: the missing member leaves the group", missing: "keep", override: true, first: people(10), second: people(9),
			want: groupsync.Counts{Unchanged: 9, LeftGroup: 1}, status: store.RunSucceeded,
			users: map[string]state{"obj-9": {true, true}}, members: 9},
		{name: "disable: the missing member is disabled", missing: "disable", first: people(10), second: people(9),
			want: groupsync.Counts{Unchanged: 9, Disabled: 1}, status: store.RunSucceeded,
			users: map[string]state{"obj-9": {true, false}}, members: 10},
		{name: "remove: the missing member is deleted", missing: "remove", first: people(10), second: people(9),
			want: groupsync.Counts{Unchanged: 9, Removed: 1}, status: store.RunSucceeded,
			users: map[string]state{"obj-9": {false, false}}, members: 9},
		{name: "over the threshold the run stops and applies nothing", missing: "disable", first: people(10), second: people(7),
			want: groupsync.Counts{Unchanged: 7}, status: store.RunStopped,
			users: map[string]state{"obj-9": {true, true}}, members: 10},
		{name: "confirmed, the run goes past the threshold", missing: "disable", first: people(10), second: people(7),
			opts: groupsync.RunOptions{Confirm: true},
			want: groupsync.Counts{Unchanged: 7, Disabled: 3}, status: store.RunSucceeded,
			users: map[string]state{"obj-9": {true, false}}, members: 10},
		{name: "a dry run changes nothing", missing: "remove", first: people(10), second: people(9),
			opts: groupsync.RunOptions{DryRun: true},
			want: groupsync.Counts{Unchanged: 9, Removed: 1}, status: store.RunSucceeded,
			users: map[string]state{"obj-9": {true, true}}, members: 10},
		{name: "an email a local user holds is skipped", missing: "keep", local: []string{"p1@example.com"},
			first: people(3), want: groupsync.Counts{Created: 2, Skipped: 1}, status: store.RunSucceeded,
			users: map[string]state{"obj-1": {false, false}}, members: 2},
		{name: "override: a local member leaves the group, unchanged otherwise", missing: "disable", override: true,
			local: []string{"local@example.com"}, localMembers: true,
			first: people(6), want: groupsync.Counts{Created: 6, LeftGroup: 1}, status: store.RunSucceeded, members: 6},
		{name: "without override a local member stays", missing: "disable",
			local: []string{"local@example.com"}, localMembers: true,
			first: people(3), want: groupsync.Counts{Created: 3}, status: store.RunSucceeded, members: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEnv(t)
			ctx := context.Background()
			var localIDs []string
			for _, email := range tc.local {
				u := &tenantlink.User{Email: email, DisplayName: email, Active: true,
					Roles: []tenantlink.Role{tenantlink.RoleUser}, Groups: []string{}}
				must(t, e.st.CreateUser(ctx, u))
				localIDs = append(localIDs, u.ID)
			}
			g := e.group(t, "Sales", "src", tc.override, tc.missing)
			if tc.localMembers {
				g.Members = localIDs
				must(t, e.st.UpdateGroup(ctx, g))
			}
			e.fake.Lock()
			e.fake.Groups["src"] = tc.first
			e.fake.Unlock()
			opts := tc.opts
			if tc.second != nil {
				if _, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{}); err != nil {
					t.Fatalf("first run: %v", err)
				}
				e.fake.Lock()
				e.fake.Groups["src"] = tc.second
				e.fake.Unlock()
			}
			run, err := e.svc.Run(ctx, e.admin, g.ID, opts)
			if run == nil {
				t.Fatalf("Run: %v", err)
			}
			if run.Status != tc.status {
				t.Errorf("status = %q (err %v, errors %q), want %q", run.Status, err, run.Errors, tc.status)
			}
			if tc.want != (groupsync.Counts{}) {
				if diff := cmp.Diff(tc.want, run.Counts); diff != "" {
					t.Errorf("counts (-want +got):\n%s", diff)
				}
			}
			for obj, w := range tc.users {
				exists, active := e.active(t, obj)
				if got := (state{exists, active}); got != w {
					t.Errorf("user %s = %+v, want %+v", obj, got, w)
				}
			}
			cur, err := e.st.GetGroup(ctx, g.ID)
			must(t, err)
			if len(cur.Members) != tc.members {
				t.Errorf("group has %d members, want %d", len(cur.Members), tc.members)
			}
		})
	}
}
