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

// TestSyncRulesOverlapAndDelta: two groups' syncs share users — a user
// the other sync still imports is kept, and disabled only when the last
// sync that has it drops it; and an incremental read applies the delta
// the connector reports.
func TestSyncRulesOverlapAndDelta(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, e *fakeEnv, g *tenantlink.Group) *groupsync.Run {
		t.Helper()
		r, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		return r
	}
	setGroup := func(e *fakeEnv, src string, users []connector.SourceUser) {
		e.fake.Lock()
		e.fake.Groups[src] = users
		e.fake.Unlock()
	}
	t.Run("overlapping syncs", func(t *testing.T) {
		e := newFakeEnv(t)
		a := e.group(t, "A", "src-a", false, "disable")
		b := e.group(t, "B", "src-b", false, "disable")
		setGroup(e, "src-a", people(10))
		setGroup(e, "src-b", people(10))
		run(t, e, a)
		run(t, e, b)
		setGroup(e, "src-a", people(9))
		if got := run(t, e, a).Counts; got.Kept != 1 || got.Disabled != 0 {
			t.Errorf("A drops obj-9 that B still has: counts %+v, want Kept 1, Disabled 0", got)
		}
		if _, active := e.active(t, "obj-9"); !active {
			t.Errorf("obj-9 disabled while B still imports it")
		}
		setGroup(e, "src-b", people(9))
		if got := run(t, e, b).Counts; got.Disabled != 1 {
			t.Errorf("B, the last sync that had obj-9, drops it: counts %+v, want Disabled 1", got)
		}
		if _, active := e.active(t, "obj-9"); active {
			t.Errorf("obj-9 still active after the last sync dropped it")
		}
	})
	t.Run("incremental read", func(t *testing.T) {
		e := newFakeEnv(t)
		g := e.group(t, "A", "src", false, "remove")
		setGroup(e, "src", people(10))
		if r := run(t, e, g); !r.Full || r.Counts.Created != 10 {
			t.Fatalf("first run: full %v, counts %+v; want a full run creating 10", r.Full, r.Counts)
		}
		changed := connectortest.User("obj-0", "p0@example.com", "Renamed")
		e.fake.Lock()
		e.fake.Deltas = map[string]connectortest.Delta{"src": {Users: []connector.SourceUser{changed, connectortest.User("obj-new", "new@example.com", "New")}, Removed: []string{"obj-9"}}}
		e.fake.Unlock()
		r := run(t, e, g)
		if r.Full {
			t.Errorf("second run is full, want incremental")
		}
		want := groupsync.Counts{Created: 1, Updated: 1, Removed: 1}
		if diff := cmp.Diff(want, r.Counts); diff != "" {
			t.Errorf("incremental counts (-want +got):\n%s", diff)
		}
		if reads := e.fake.Reads(); len(reads) != 2 || reads[0] != "" || reads[1] == "" {
			t.Errorf("reads' cursors = %q, want a full read then one from the stored cursor", reads)
		}
	})
}
