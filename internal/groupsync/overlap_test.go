package groupsync_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

// activeByObject reports, per object id, whether its directory user is
// active ("missing" when there is none).
func (e *env) states(t *testing.T, objs []string) []string {
	t.Helper()
	var out []string
	for _, o := range objs {
		u, err := e.st.GetUserByExternalID(context.Background(), e.ds.Account, o)
		switch {
		case tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND:
			out = append(out, "missing")
		case err != nil:
			t.Fatal(err)
		case u.Active:
			out = append(out, "active")
		default:
			out = append(out, "disabled")
		}
	}
	return out
}

// TestOverlappingSyncs: "Staff" imports the Marketing group, "Everyone"
// imports all users, both disabling missing users. Three people leave
// Marketing but stay in the tenant: whichever sync runs last, they end
// active, because a sync disables a user only when no other sync still
// has them.
func TestOverlappingSyncs(t *testing.T) {
	tests := []struct {
		name  string
		order []string // runs after the three left Marketing
	}{
		{"staff, then everyone", []string{"Staff", "Everyone"}},
		{"everyone, then staff", []string{"Everyone", "Staff"}},
		{"staff only", []string{"Staff"}},
	}
	for _, b := range backends {
		for _, tc := range tests {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, b.dsn(t), m365sim.Options{Users: 3, Groups: 1})
				var ids []string
				for _, n := range []string{"mk1", "mk2", "mk3", "mk4", "mk5"} {
					ids = append(ids, e.simUser(t, upn(e, n), n))
				}
				e.simGroup(t, "Marketing", ids)
				groups := map[string]*tenantlink.Group{
					"Staff":    e.syncedGroup(t, "Staff", "Marketing", false, groupsync.MissingDisable),
					"Everyone": e.syncedGroup(t, "Everyone", "*", false, groupsync.MissingDisable),
				}
				for _, n := range []string{"Staff", "Everyone"} {
					if r := e.run(t, groups[n], groupsync.RunOptions{}); r.Status != store.RunSucceeded {
						t.Fatalf("first %s run = %s %v", n, r.Status, r.Errors)
					}
				}
				for _, id := range ids[:3] {
					e.control(t, "DELETE", "/_sim/groups/"+e.groups["Marketing"]+"/members/"+id, nil, nil)
				}
				var staff *groupsync.Run
				for _, n := range tc.order {
					r := e.run(t, groups[n], groupsync.RunOptions{Confirm: true})
					if r.Status != store.RunSucceeded {
						t.Fatalf("%s run = %s %v", n, r.Status, r.Errors)
					}
					if n == "Staff" {
						staff = r
					}
				}
				if diff := cmp.Diff([]string{"active", "active", "active", "active", "active"}, e.states(t, ids)); diff != "" {
					t.Errorf("users after the runs (-want +got):\n%s", diff)
				}
				if staff.Counts.Disabled != 0 || staff.Counts.Kept != 3 {
					t.Errorf("Staff run counts = %+v, want 0 disabled, 3 kept", staff.Counts)
				}
				// They left Staff's tracking: the next loss is Everyone's.
				e.control(t, "DELETE", "/_sim/users/"+ids[0], nil, nil)
				if r := e.run(t, groups["Everyone"], groupsync.RunOptions{Confirm: true}); r.Status != store.RunSucceeded || r.Counts.Disabled != 1 {
					t.Errorf("Everyone after a deletion = %s %+v %v, want succeeded, 1 disabled", r.Status, r.Counts, r.Errors)
				}
				if got := e.states(t, ids[:1]); got[0] != "disabled" {
					t.Errorf("deleted user = %s, want disabled", got[0])
				}
			})
		}
	}
}

// TestReenabledWhenAnotherSyncHasThem: a user disabled by the only sync
// that had them is enabled again, as the same user, when another sync
// imports them.
func TestReenabledWhenAnotherSyncHasThem(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: 3, Groups: 1})
	var ids []string
	for _, n := range []string{"r1", "r2", "r3", "r4", "r5"} {
		ids = append(ids, e.simUser(t, upn(e, n), n))
	}
	e.simGroup(t, "X", ids)
	e.simGroup(t, "Y", ids[1:2])
	a := e.syncedGroup(t, "A", "X", false, groupsync.MissingDisable)
	b := e.syncedGroup(t, "B", "Y", false, groupsync.MissingDisable)
	e.run(t, a, groupsync.RunOptions{})
	e.run(t, b, groupsync.RunOptions{})
	first := e.imported(t, ids[0])

	e.control(t, "DELETE", "/_sim/groups/"+e.groups["X"]+"/members/"+ids[0], nil, nil)
	if r := e.run(t, a, groupsync.RunOptions{Confirm: true}); r.Counts.Disabled != 1 {
		t.Fatalf("A after r1 left X = %+v %v, want 1 disabled", r.Counts, r.Errors)
	}
	e.control(t, "POST", "/_sim/groups/"+e.groups["Y"]+"/members/"+ids[0], nil, nil)
	if r := e.run(t, b, groupsync.RunOptions{}); r.Status != store.RunSucceeded || r.Counts.Updated != 1 || r.Counts.Created != 0 {
		t.Fatalf("B after r1 joined Y = %s %+v %v, want 1 updated, none created", r.Status, r.Counts, r.Errors)
	}
	again := e.imported(t, ids[0])
	if again.ID != first.ID || !again.Active {
		t.Errorf("r1 after B's run = %s active %v, want %s active", again.ID, again.Active, first.ID)
	}
}

// addDataSource authorizes another data source against the same tenant.
func (e *env) addDataSource(t *testing.T, name string) *tenantlink.DataSource {
	t.Helper()
	ctx := context.Background()
	typ := tenantlink.ConnectorOffice365
	ds, err := e.dss.Create(ctx, e.admin, datasource.Input{Name: &name, Type: &typ})
	must(t, err)
	authURL, err := e.dss.Authorize(ctx, e.admin, ds.ID)
	must(t, err)
	jar, _ := cookiejar.New(nil)
	back, err := identitytest.SignIn(&http.Client{Jar: jar}, authURL, e.facts.AdminUser, e.facts.AdminPassword)
	must(t, err)
	res, err := e.dss.Callback(ctx, e.admin, back.Query())
	must(t, err)
	if !res.OK {
		t.Fatalf("authorize: %s", res.Message)
	}
	ds, err = e.st.GetDataSource(ctx, ds.ID)
	must(t, err)
	return ds
}

// TestSecondDataSourceSameTenant: two data sources connected to one
// tenant import one person as one user — no "email belongs to another
// user" errors, no second user.
func TestSecondDataSourceSameTenant(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.dsn(t), m365sim.Options{Users: 3, Groups: 1})
			var ids []string
			for _, n := range []string{"s1", "s2", "s3", "s4"} {
				ids = append(ids, e.simUser(t, upn(e, n), n))
			}
			e.simGroup(t, "Sales", ids)
			g1 := e.syncedGroup(t, "Sales 1", "Sales", false, groupsync.MissingDisable)
			e.run(t, g1, groupsync.RunOptions{})
			var before []string
			for _, id := range ids {
				before = append(before, e.imported(t, id).ID)
			}
			ds2 := e.addDataSource(t, "Contoso again")
			if ds2.Account != e.ds.Account {
				t.Fatalf("second data source's tenant = %q, want %q", ds2.Account, e.ds.Account)
			}
			g2 := &tenantlink.Group{Name: "Sales 2", Roles: []tenantlink.Role{}, Members: []string{}, Sync: &tenantlink.SyncSettings{
				Enabled: true, DataSource: ds2.ID, SourceGroup: "Sales", MissingUsers: groupsync.MissingDisable}}
			must(t, e.st.CreateGroup(context.Background(), g2))
			r := e.run(t, g2, groupsync.RunOptions{})
			if r.Status != store.RunSucceeded || len(r.Errors) != 0 {
				t.Fatalf("second data source's run = %s %v", r.Status, r.Errors)
			}
			if diff := cmp.Diff(groupsync.Counts{Unchanged: 4}, r.Counts); diff != "" {
				t.Errorf("second data source's counts (-want +got):\n%s", diff)
			}
			var after []string
			for _, id := range ids {
				u, err := e.st.GetUserByExternalID(context.Background(), e.ds.Account, id)
				must(t, err)
				after = append(after, u.ID)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("user ids after the second data source's run (-first +second):\n%s", diff)
			}
			got, err := e.st.GetGroup(context.Background(), g2.ID)
			must(t, err)
			if !sameSet(got.Members, before) {
				t.Errorf("Sales 2 members = %v, want %v", got.Members, before)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestNothingImportedFails: a run whose every user is refused (their
// emails belong to local accounts, which a sync never adopts) fails and
// says so, changes nothing and keeps no cursor.
func TestNothingImportedFails(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), m365sim.Options{Users: 3, Groups: 1})
	ctx := context.Background()
	var ids []string
	for _, n := range []string{"l1", "l2", "l3"} {
		ids = append(ids, e.simUser(t, upn(e, n), n))
		must(t, e.st.CreateUser(ctx, &tenantlink.User{Email: upn(e, n), DisplayName: "Local " + n, Active: true,
			Roles: []tenantlink.Role{tenantlink.RoleUser}}))
	}
	e.simGroup(t, "Locals", ids)
	g := e.syncedGroup(t, "Locals", "Locals", true, groupsync.MissingDisable)
	before := e.snapshot(t)
	r := e.run(t, g, groupsync.RunOptions{})
	if r.Status != store.RunFailed {
		t.Errorf("status = %s, want failed", r.Status)
	}
	if diff := cmp.Diff(groupsync.Counts{Skipped: 3}, r.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(r.Errors) != 4 || !strings.Contains(r.Errors[0], "Nothing was imported") || !strings.Contains(r.Errors[1], "never takes over") {
		t.Errorf("errors = %q, want the summary and one per user", r.Errors)
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("the run changed the directory:\nbefore %s\nafter  %s", before, after)
	}
	for _, id := range ids {
		if u := e.imported(t, id); u != nil {
			t.Errorf("object %s imported as %s: a local account was adopted", id, u.ID)
		}
	}
	if _, err := e.st.GetSyncState(ctx, g.ID); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("sync state after the failed run: err = %v, want none stored", err)
	}
}

// TestIncrementalRefusalDoesNotBlock: an incremental run whose only new
// member is refused (a local account holds the email) succeeds, counting
// and naming the refused user: the delta's other changes must not wait.
func TestIncrementalRefusalDoesNotBlock(t *testing.T) {
	e, g, ids := fiveMembers(t, groupsync.MissingDisable, false)
	ctx := context.Background()
	newcomer := e.simUser(t, upn(e, "newcomer"), "Newcomer")
	must(t, e.st.CreateUser(ctx, &tenantlink.User{Email: upn(e, "newcomer"), DisplayName: "Local newcomer", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleUser}}))
	e.control(t, "POST", "/_sim/groups/"+e.groups["Source"]+"/members/"+newcomer, nil, nil)
	e.control(t, "PATCH", "/_sim/users/"+ids[0], map[string]any{"jobTitle": "Boss"}, nil)
	r := e.run(t, g, groupsync.RunOptions{})
	if r.Status != store.RunSucceeded || r.Full {
		t.Fatalf("run = %s full=%v %v, want an incremental success", r.Status, r.Full, r.Errors)
	}
	if diff := cmp.Diff(groupsync.Counts{Updated: 1, Skipped: 1}, r.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "never takes over") {
		t.Errorf("errors = %q, want the refused newcomer", r.Errors)
	}
}
