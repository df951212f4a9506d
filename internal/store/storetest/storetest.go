// Package storetest is the conformance suite for store.Store: every backend
// runs the same cases, so SQLite and PostgreSQL (and any later backend)
// behave the same to the code above them.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call; Run closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"UserConflicts", testUserConflicts},
		{"UserNotFound", testUserNotFound},
		{"ListUsers", testListUsers},
		{"Groups", testGroups},
		{"GroupMembership", testGroupMembership},
		{"DataSources", testDataSources},
		{"ListDataSources", testListDataSources},
		{"Credentials", testCredentials},
		{"OAuthStates", testOAuthStates},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"APITokenLifecycle", testAPITokenLifecycle},
		{"Audit", testAudit},
		{"Settings", testSettings},
		{"InTx", testInTx},
		{"ConcurrentWriters", testConcurrentWriters},
		{"UpsertImportedUsers", testUpsertImportedUsers},
		{"BatchMembership", testBatchMembership},
		{"SyncState", testSyncState},
		{"SyncRuns", testSyncRuns},
		{"ImportByTenant", testImportByTenant},
		{"SyncRunLiveness", testSyncRunLiveness},
		{"SyncTrackedElsewhere", testSyncTrackedElsewhere},
		{"Tasks", testTasks},
		{"TaskSchedule", testTaskSchedule},
		{"Processes", testProcesses},
		{"ProcessInstances", testProcessInstances},
		{"GraphSubscriptions", testGraphSubscriptions},
		{"ProcessedEvents", testProcessedEvents},
		{"ProcessEvents", testProcessEvents},
		{"MemberChanges", testMemberChanges},
		{"PruneProcessEvents", testPruneProcessEvents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tc.fn(t, s)
		})
	}
}

// at returns a fixed time at the microsecond precision every backend keeps.
func at(hour int) time.Time {
	return time.Date(2026, 3, 1, hour, 4, 5, 123456000, time.UTC)
}

func wantErr(tb testing.TB, err error, code string, sentinel error) {
	tb.Helper()
	if got := tenantlink.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		tb.Fatalf("err = %v, want errors.Is %v", err, sentinel)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func mustUser(tb testing.TB, s store.Store, email string) *tenantlink.User {
	tb.Helper()
	u := &tenantlink.User{Email: email, DisplayName: strings.Split(email, "@")[0], Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleUser}, Groups: []string{}}
	if err := s.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func mustDataSource(tb testing.TB, s store.Store, name string) *tenantlink.DataSource {
	tb.Helper()
	ds := &tenantlink.DataSource{Name: name, Type: tenantlink.ConnectorOffice365,
		Security: tenantlink.Security{Admins: []string{}, Users: []string{}, Writers: []string{}}}
	if err := s.CreateDataSource(context.Background(), ds); err != nil {
		tb.Fatalf("CreateDataSource(%s): %v", name, err)
	}
	return ds
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := &tenantlink.User{
		Email: "Adele.Vance@Contoso.com", DisplayName: "Adele Vance", GivenName: "Adele", Surname: "Vance",
		JobTitle: "Retail Manager", Department: "Retail", Active: true,
		Roles:  []tenantlink.Role{tenantlink.RoleUser, tenantlink.RoleDesignProcess},
		Groups: []string{},
		Source: &tenantlink.UserSource{DataSource: "ds1", ObjectID: "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
			Tenant: "2a7e1e4f-4c33-4b8e-9d2f-5b6c1a0f9e11"},
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
	}
	must(t, s.CreateUser(ctx, u))
	if u.ID == "" {
		t.Fatalf("CreateUser left ID empty")
	}
	if u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Errorf("CreateUser timestamps = %v, %v; want both set and equal", u.CreatedAt, u.UpdatedAt)
	}
	if d := time.Since(u.CreatedAt); d < 0 || d > time.Minute {
		t.Errorf("CreatedAt = %v, want about now", u.CreatedAt)
	}

	for _, tc := range []struct {
		name string
		get  func() (*tenantlink.User, error)
	}{
		{"by id", func() (*tenantlink.User, error) { return s.GetUser(ctx, u.ID) }},
		{"by email other case", func() (*tenantlink.User, error) { return s.GetUserByEmail(ctx, "adele.vance@CONTOSO.COM") }},
		{"by source", func() (*tenantlink.User, error) {
			return s.GetUserBySource(ctx, "ds1", "87d349ed-44d7-43e1-9a83-5f2406dee5bd")
		}},
		{"by tenant and object id", func() (*tenantlink.User, error) {
			return s.GetUserByExternalID(ctx, "2A7E1E4F-4C33-4B8E-9D2F-5B6C1A0F9E11", "87d349ed-44d7-43e1-9a83-5f2406dee5bd")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			must(t, err)
			if diff := cmp.Diff(u, got); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
		})
	}

	// Caller-chosen id and timestamps are kept.
	fixed := &tenantlink.User{ID: "fixed-id", Email: "fixed@contoso.com", Roles: []tenantlink.Role{}, Groups: []string{},
		CreatedAt: at(1), UpdatedAt: at(2)}
	must(t, s.CreateUser(ctx, fixed))
	got, err := s.GetUser(ctx, "fixed-id")
	must(t, err)
	if diff := cmp.Diff(fixed, got); diff != "" {
		t.Errorf("caller-chosen fields (-want +got):\n%s", diff)
	}

	before := u.UpdatedAt
	u.DisplayName, u.Active, u.Roles, u.Source = "Adele V.", false, []tenantlink.Role{tenantlink.RoleAdministrator}, nil
	u.Email = "adele@contoso.com"
	u.UpdatedAt = time.Time{}
	must(t, s.UpdateUser(ctx, u))
	if u.UpdatedAt.Before(before) {
		t.Errorf("UpdateUser UpdatedAt = %v, want >= %v", u.UpdatedAt, before)
	}
	got, err = s.GetUser(ctx, u.ID)
	must(t, err)
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}
	if _, err := s.GetUserByEmail(ctx, "Adele.Vance@Contoso.com"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("old email still found: err = %v", err)
	}
	if _, err := s.GetUserBySource(ctx, "ds1", "87d349ed-44d7-43e1-9a83-5f2406dee5bd"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("cleared source still found: err = %v", err)
	}
	if _, err := s.GetUserByExternalID(ctx, "2a7e1e4f-4c33-4b8e-9d2f-5b6c1a0f9e11", "87d349ed-44d7-43e1-9a83-5f2406dee5bd"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("cleared external id still found: err = %v", err)
	}

	must(t, s.DeleteUser(ctx, u.ID))
	_, err = s.GetUser(ctx, u.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx, u.ID), tenantlink.ENOTFOUND, store.ErrNotFound)

	wantErr(t, s.CreateUser(ctx, &tenantlink.User{}), tenantlink.EINVALID, nil)
}

func testUserConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustUser(t, s, "megan@contoso.com")
	b := mustUser(t, s, "lee@contoso.com")
	src := &tenantlink.User{Email: "imported@contoso.com", Source: &tenantlink.UserSource{DataSource: "ds", ObjectID: "obj", Tenant: "t1"}}
	must(t, s.CreateUser(ctx, src))

	for _, tc := range []struct {
		name    string
		err     func() error
		message string
	}{
		{"create same email other case", func() error {
			return s.CreateUser(ctx, &tenantlink.User{Email: "MEGAN@contoso.com"})
		}, `a user with email "MEGAN@contoso.com" already exists`},
		{"create same id", func() error {
			return s.CreateUser(ctx, &tenantlink.User{ID: a.ID, Email: "other@contoso.com"})
		}, ""},
		{"create same source", func() error {
			return s.CreateUser(ctx, &tenantlink.User{Email: "x@contoso.com", Source: &tenantlink.UserSource{DataSource: "ds", ObjectID: "obj"}})
		}, ""},
		{"create same tenant and object from another data source", func() error {
			return s.CreateUser(ctx, &tenantlink.User{Email: "y@contoso.com", Source: &tenantlink.UserSource{DataSource: "ds2", ObjectID: "obj", Tenant: "T1"}})
		}, `a user for Microsoft object "obj" of tenant "T1" already exists`},
		{"update to taken email", func() error {
			c := *b
			c.Email = "Megan@Contoso.com"
			return s.UpdateUser(ctx, &c)
		}, `a user with email "Megan@Contoso.com" already exists`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			wantErr(t, err, tenantlink.ECONFLICT, store.ErrConflict)
			if tc.message != "" {
				if got := tenantlink.ErrorMessage(err); got != tc.message {
					t.Errorf("message = %q, want %q", got, tc.message)
				}
			}
		})
	}
	got, err := s.GetUser(ctx, b.ID)
	must(t, err)
	if got.Email != "lee@contoso.com" {
		t.Errorf("failed update changed email to %q", got.Email)
	}
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"GetUser", func() error { _, err := s.GetUser(ctx, "nope"); return err }},
		{"GetUserByEmail", func() error { _, err := s.GetUserByEmail(ctx, "nope@contoso.com"); return err }},
		{"GetUserBySource", func() error { _, err := s.GetUserBySource(ctx, "ds", "nope"); return err }},
		{"GetUserByExternalID", func() error { _, err := s.GetUserByExternalID(ctx, "t", "nope"); return err }},
		{"GetUserByExternalID without tenant", func() error { _, err := s.GetUserByExternalID(ctx, "", "nope"); return err }},
		{"UpdateUser", func() error { return s.UpdateUser(ctx, &tenantlink.User{ID: "nope", Email: "n@c.com"}) }},
		{"DeleteUser", func() error { return s.DeleteUser(ctx, "nope") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.err(), tenantlink.ENOTFOUND, store.ErrNotFound)
		})
	}
	_, err := s.GetUser(ctx, "x42")
	if got, want := tenantlink.ErrorMessage(err), `user "x42" not found`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func emails(us []*tenantlink.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.Email)
	}
	return out
}

func testListUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	byEmail := map[string]string{}
	for _, u := range []*tenantlink.User{
		{Email: "alex@contoso.com", DisplayName: "Alex Wilber", Source: &tenantlink.UserSource{DataSource: "dsA", ObjectID: "1"}},
		{Email: "diego@contoso.com", DisplayName: "Diego Siciliani", Source: &tenantlink.UserSource{DataSource: "dsA", ObjectID: "2"}},
		{Email: "Isaiah@fabrikam.com", DisplayName: "Isaiah Langer", Source: &tenantlink.UserSource{DataSource: "dsB", ObjectID: "1"}},
		{Email: "percent_100%@fabrikam.com", DisplayName: "Émilie Ödegaard"},
		{Email: "bob@local", DisplayName: "Aaron Bob"},
	} {
		must(t, s.CreateUser(ctx, u))
		byEmail[u.Email] = u.ID
	}
	g := &tenantlink.Group{Name: "Filtered", Members: []string{byEmail["Isaiah@fabrikam.com"], byEmail["bob@local"]}}
	must(t, s.CreateGroup(ctx, g))
	for _, tc := range []struct {
		name string
		f    store.UserFilter
		want []string
	}{
		{"all, ordered by email", store.UserFilter{}, []string{"alex@contoso.com", "bob@local", "diego@contoso.com", "Isaiah@fabrikam.com", "percent_100%@fabrikam.com"}},
		{"search email domain", store.UserFilter{Search: "FABRIKAM"}, []string{"Isaiah@fabrikam.com", "percent_100%@fabrikam.com"}},
		{"search display name", store.UserFilter{Search: "siCILiani"}, []string{"diego@contoso.com"}},
		{"search non-ASCII case-insensitively", store.UserFilter{Search: "ÉMILIE ö"}, []string{"percent_100%@fabrikam.com"}},
		{"percent is literal", store.UserFilter{Search: "%"}, []string{"percent_100%@fabrikam.com"}},
		{"underscore is literal", store.UserFilter{Search: "t_1"}, []string{"percent_100%@fabrikam.com"}},
		{"no match", store.UserFilter{Search: "zzz"}, []string{}},
		{"data source", store.UserFilter{DataSource: "dsA"}, []string{"alex@contoso.com", "diego@contoso.com"}},
		{"data source and search", store.UserFilter{DataSource: "dsA", Search: "diego"}, []string{"diego@contoso.com"}},
		{"limit", store.UserFilter{Limit: 2}, []string{"alex@contoso.com", "bob@local"}},
		{"search and limit", store.UserFilter{Search: "contoso", Limit: 1}, []string{"alex@contoso.com"}},
		{"second page", store.UserFilter{Limit: 2, Offset: 2}, []string{"diego@contoso.com", "Isaiah@fabrikam.com"}},
		{"last page", store.UserFilter{Limit: 2, Offset: 4}, []string{"percent_100%@fabrikam.com"}},
		{"past the end", store.UserFilter{Limit: 2, Offset: 9}, []string{}},
		// Three, so that where the database's collation puts "É" does not matter.
		{"by name", store.UserFilter{Sort: "name", Limit: 3}, []string{"bob@local", "alex@contoso.com", "diego@contoso.com"}},
		{"by name, paged", store.UserFilter{Sort: "name", Limit: 2, Offset: 1}, []string{"alex@contoso.com", "diego@contoso.com"}},
		{"group members", store.UserFilter{Group: g.ID}, []string{"bob@local", "Isaiah@fabrikam.com"}},
		{"group members, searched", store.UserFilter{Group: g.ID, Search: "isa"}, []string{"Isaiah@fabrikam.com"}},
		{"not group members", store.UserFilter{NotGroup: g.ID, Search: "contoso"}, []string{"alex@contoso.com", "diego@contoso.com"}},
		{"unknown group", store.UserFilter{Group: "nope"}, []string{}},
		{"by ids", store.UserFilter{IDs: []string{byEmail["bob@local"], "nope", byEmail["alex@contoso.com"]}}, []string{"alex@contoso.com", "bob@local"}},
		{"by ids, searched", store.UserFilter{IDs: []string{byEmail["bob@local"], byEmail["alex@contoso.com"]}, Search: "alex"}, []string{"alex@contoso.com"}},
		{"no ids", store.UserFilter{IDs: []string{}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListUsers(ctx, tc.f)
			must(t, err)
			if diff := cmp.Diff(tc.want, emails(got)); diff != "" {
				t.Errorf("ListUsers(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	// A page's users carry their groups like a full list's.
	page, err := s.ListUsers(ctx, store.UserFilter{Group: g.ID, Limit: 1, Offset: 1})
	must(t, err)
	if len(page) != 1 || !cmp.Equal(page[0].Groups, []string{g.ID}) {
		t.Errorf("paged member = %+v, want Isaiah in group %s", page, g.ID)
	}
}

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	u1, u2 := mustUser(t, s, "u1@contoso.com"), mustUser(t, s, "u2@contoso.com")
	g := &tenantlink.Group{
		Name: "Sales Team", Roles: []tenantlink.Role{tenantlink.RoleDesignProcess},
		Members: []string{u2.ID, u1.ID},
		Sync: &tenantlink.SyncSettings{Enabled: true, DataSource: "ds1", SourceGroup: "02bd9fd6", Override: true,
			MissingUsers: "import", Schedule: []byte(`{"every":"1h"}`)},
	}
	must(t, s.CreateGroup(ctx, g))
	if g.ID == "" || g.CreatedAt.IsZero() {
		t.Fatalf("CreateGroup did not fill ID/CreatedAt: %+v", g)
	}
	got, err := s.GetGroup(ctx, g.ID)
	must(t, err)
	if diff := cmp.Diff(g, got); diff != "" {
		t.Errorf("GetGroup (-want +got):\n%s", diff)
	}

	wantErr(t, s.CreateGroup(ctx, &tenantlink.Group{Name: "SALES team"}), tenantlink.ECONFLICT, store.ErrConflict)
	err = s.CreateGroup(ctx, &tenantlink.Group{Name: "Ghosts", Members: []string{"no-such-user"}})
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	if _, err := s.ListGroups(ctx); err != nil {
		t.Fatal(err)
	}
	other := &tenantlink.Group{Name: "Admins", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, s.CreateGroup(ctx, other))

	list, err := s.ListGroups(ctx)
	must(t, err)
	if diff := cmp.Diff([]*tenantlink.Group{other, g}, list); diff != "" {
		t.Errorf("ListGroups (-want +got):\n%s", diff)
	}

	g.Name, g.Members, g.Sync, g.Roles = "Sales", []string{u1.ID}, nil, []tenantlink.Role{}
	g.UpdatedAt = time.Time{}
	must(t, s.UpdateGroup(ctx, g))
	if g.UpdatedAt.IsZero() {
		t.Errorf("UpdateGroup left a zero UpdatedAt")
	}
	got, err = s.GetGroup(ctx, g.ID)
	must(t, err)
	if diff := cmp.Diff(g, got); diff != "" {
		t.Errorf("after UpdateGroup (-want +got):\n%s", diff)
	}
	dup := *other
	dup.Name = "sales"
	wantErr(t, s.UpdateGroup(ctx, &dup), tenantlink.ECONFLICT, store.ErrConflict)
	bad := *g
	bad.Members = []string{u1.ID, "no-such-user"}
	wantErr(t, s.UpdateGroup(ctx, &bad), tenantlink.ENOTFOUND, store.ErrNotFound)
	got, err = s.GetGroup(ctx, g.ID)
	must(t, err)
	if diff := cmp.Diff([]string{u1.ID}, got.Members); diff != "" {
		t.Errorf("failed UpdateGroup changed members (-want +got):\n%s", diff)
	}

	wantErr(t, s.UpdateGroup(ctx, &tenantlink.Group{ID: "nope", Name: "x"}), tenantlink.ENOTFOUND, store.ErrNotFound)
	must(t, s.DeleteGroup(ctx, g.ID))
	_, err = s.GetGroup(ctx, g.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.DeleteGroup(ctx, g.ID), tenantlink.ENOTFOUND, store.ErrNotFound)
}

func testGroupMembership(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustUser(t, s, "alice@contoso.com"), mustUser(t, s, "bob@contoso.com")
	g1 := &tenantlink.Group{Name: "One", Members: []string{alice.ID, bob.ID}}
	g2 := &tenantlink.Group{Name: "Two", Members: []string{alice.ID}}
	must(t, s.CreateGroup(ctx, g1))
	must(t, s.CreateGroup(ctx, g2))

	groupsOf := func(u *tenantlink.User) []string {
		t.Helper()
		got, err := s.GetUser(ctx, u.ID)
		must(t, err)
		return got.Groups
	}
	if diff := cmp.Diff([]string{g1.ID, g2.ID}, groupsOf(alice)); diff != "" {
		t.Errorf("alice's groups (-want +got):\n%s", diff)
	}
	list, err := s.ListUsers(ctx, store.UserFilter{Search: "bob", Limit: 5})
	must(t, err)
	if len(list) != 1 || !cmp.Equal([]string{g1.ID}, list[0].Groups) {
		t.Errorf("ListUsers bob groups = %+v, want [%s]", list, g1.ID)
	}

	// Updating a user keeps memberships: they belong to the groups.
	alice.DisplayName = "Alice"
	alice.Groups = nil
	must(t, s.UpdateUser(ctx, alice))
	if diff := cmp.Diff([]string{g1.ID, g2.ID}, groupsOf(alice)); diff != "" {
		t.Errorf("after UpdateUser (-want +got):\n%s", diff)
	}

	must(t, s.DeleteUser(ctx, bob.ID))
	got, err := s.GetGroup(ctx, g1.ID)
	must(t, err)
	if diff := cmp.Diff([]string{alice.ID}, got.Members); diff != "" {
		t.Errorf("members after deleting bob (-want +got):\n%s", diff)
	}
	must(t, s.DeleteGroup(ctx, g2.ID))
	if diff := cmp.Diff([]string{g1.ID}, groupsOf(alice)); diff != "" {
		t.Errorf("alice's groups after deleting group (-want +got):\n%s", diff)
	}
}

func testDataSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	authAt := at(9)
	reauth := authAt.Add(180 * 24 * time.Hour)
	ds := &tenantlink.DataSource{
		Name: "Contoso O365", Type: tenantlink.ConnectorOffice365,
		Settings:   tenantlink.DataSourceSettings{ReadWrite: true, SingleSignOn: true, AuthMode: tenantlink.AuthDelegated, ReauthorizeDays: 90},
		Security:   tenantlink.Security{Admins: []string{"u1"}, Users: []string{"g1", "u2"}, Writers: []string{"g2"}},
		ModifiedBy: "admin@contoso.com",
	}
	must(t, s.CreateDataSource(ctx, ds))
	if ds.ID == "" || ds.Created.IsZero() || !ds.Modified.Equal(ds.Created) {
		t.Fatalf("CreateDataSource did not fill ID/Created/Modified: %+v", ds)
	}
	if ds.Status != tenantlink.StatusIncomplete {
		t.Errorf("Status = %q, want %q", ds.Status, tenantlink.StatusIncomplete)
	}
	got, err := s.GetDataSource(ctx, ds.ID)
	must(t, err)
	if diff := cmp.Diff(ds, got); diff != "" {
		t.Errorf("GetDataSource (-want +got):\n%s", diff)
	}

	ds.Status, ds.StatusMessage = tenantlink.StatusReady, "Connected as admin@contoso.com"
	ds.AuthorizedBy, ds.AuthorizedAt, ds.ReauthorizeBy = "admin@contoso.com", &authAt, &reauth
	ds.Account, ds.GrantedScopes = "0d2a1b3c-tenant", []string{"User.Read.All", "offline_access"}
	ds.Security = tenantlink.Security{Admins: []string{}, Users: []string{}, Writers: []string{}}
	must(t, s.UpdateDataSource(ctx, ds))
	got, err = s.GetDataSource(ctx, ds.ID)
	must(t, err)
	if diff := cmp.Diff(ds, got); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	ds.AuthorizedAt, ds.ReauthorizeBy, ds.GrantedScopes = nil, nil, nil
	ds.Modified = at(10) // a caller's own clock is kept
	must(t, s.UpdateDataSource(ctx, ds))
	got, err = s.GetDataSource(ctx, ds.ID)
	must(t, err)
	if diff := cmp.Diff(ds, got); diff != "" {
		t.Errorf("after clearing authorization (-want +got):\n%s", diff)
	}

	err = s.CreateDataSource(ctx, &tenantlink.DataSource{Name: "contoso o365", Type: tenantlink.ConnectorOffice365})
	wantErr(t, err, tenantlink.ECONFLICT, store.ErrConflict)
	if got, want := tenantlink.ErrorMessage(err), `a data source named "contoso o365" already exists`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	other := mustDataSource(t, s, "Fabrikam")
	other.Name = "CONTOSO O365"
	wantErr(t, s.UpdateDataSource(ctx, other), tenantlink.ECONFLICT, store.ErrConflict)
	wantErr(t, s.CreateDataSource(ctx, &tenantlink.DataSource{Type: "office365"}), tenantlink.EINVALID, nil)

	_, err = s.GetDataSource(ctx, "x")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	if got, want := tenantlink.ErrorMessage(err), `data source "x" not found`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	wantErr(t, s.UpdateDataSource(ctx, &tenantlink.DataSource{ID: "x", Name: "x", Type: "office365"}), tenantlink.ENOTFOUND, store.ErrNotFound)
	must(t, s.DeleteDataSource(ctx, ds.ID))
	_, err = s.GetDataSource(ctx, ds.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.DeleteDataSource(ctx, ds.ID), tenantlink.ENOTFOUND, store.ErrNotFound)
	// The name is free again.
	mustDataSource(t, s, "Contoso O365")
}

func testListDataSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, n := range []string{"Zeta HR", "alpha Sales", "Contoso_Prod", "Contoso Test"} {
		mustDataSource(t, s, n)
	}
	for _, tc := range []struct {
		search string
		want   []string
	}{
		{"", []string{"alpha Sales", "Contoso Test", "Contoso_Prod", "Zeta HR"}},
		{"CONTOSO", []string{"Contoso Test", "Contoso_Prod"}},
		{"_", []string{"Contoso_Prod"}},
		{"office", []string{"alpha Sales", "Contoso Test", "Contoso_Prod", "Zeta HR"}},
		{"365", []string{"alpha Sales", "Contoso Test", "Contoso_Prod", "Zeta HR"}},
		{"hr", []string{"Zeta HR"}},
		{"nothing", []string{}},
	} {
		t.Run(fmt.Sprintf("search %q", tc.search), func(t *testing.T) {
			list, err := s.ListDataSources(ctx, tc.search)
			must(t, err)
			got := []string{}
			for _, ds := range list {
				got = append(got, ds.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ListDataSources(%q) (-want +got):\n%s", tc.search, diff)
			}
		})
	}
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	ds := mustDataSource(t, s, "creds")
	_, err := s.GetCredential(ctx, ds.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	for _, secret := range [][]byte{[]byte(`{"refresh_token":"first"}`), []byte(`{"refresh_token":"second"}`), {0, 1, 2, 255}} {
		must(t, s.PutCredential(ctx, ds.ID, secret))
		got, err := s.GetCredential(ctx, ds.ID)
		must(t, err)
		if diff := cmp.Diff(secret, got); diff != "" {
			t.Errorf("GetCredential (-want +got):\n%s", diff)
		}
	}
	wantErr(t, s.PutCredential(ctx, "no-such-ds", []byte("x")), tenantlink.ENOTFOUND, store.ErrNotFound)

	must(t, s.DeleteCredential(ctx, ds.ID))
	_, err = s.GetCredential(ctx, ds.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.DeleteCredential(ctx, ds.ID), tenantlink.ENOTFOUND, store.ErrNotFound)

	// Deleting the data source deletes its credential.
	must(t, s.PutCredential(ctx, ds.ID, []byte("again")))
	must(t, s.DeleteDataSource(ctx, ds.ID))
	_, err = s.GetCredential(ctx, ds.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	// A new data source under a caller-chosen same id starts with none.
	must(t, s.CreateDataSource(ctx, &tenantlink.DataSource{ID: ds.ID, Name: "creds", Type: "office365"}))
	_, err = s.GetCredential(ctx, ds.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
}

func testOAuthStates(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	st := &store.OAuthState{State: "st-1", Purpose: "authorize", DataSourceID: "ds1", UserID: "u1",
		Nonce: "n-1", Verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ReturnTo: "/datasources/ds1",
		ExpiresAt: now.Add(10 * time.Minute)}
	must(t, s.PutOAuthState(ctx, st))
	wantErr(t, s.PutOAuthState(ctx, st), tenantlink.ECONFLICT, store.ErrConflict)

	got, err := s.TakeOAuthState(ctx, "st-1", now)
	must(t, err)
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("TakeOAuthState (-want +got):\n%s", diff)
	}
	_, err = s.TakeOAuthState(ctx, "st-1", now)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.TakeOAuthState(ctx, "never-stored", now)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	for _, tc := range []struct {
		name    string
		expires time.Time
		ok      bool
	}{
		{"just before expiry", now.Add(time.Second), true},
		{"at expiry", now, false},
		{"after expiry", now.Add(-time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := "st-" + strings.ReplaceAll(tc.name, " ", "-")
			must(t, s.PutOAuthState(ctx, &store.OAuthState{State: state, Purpose: "sso", Verifier: "v", ExpiresAt: tc.expires}))
			_, err := s.TakeOAuthState(ctx, state, now)
			if tc.ok {
				must(t, err)
			} else {
				wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
			}
			// Expired or not, a state is gone once presented.
			_, err = s.TakeOAuthState(ctx, state, now.Add(-time.Hour))
			wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
		})
	}

	// Single use under a race: of many concurrent takers exactly one wins.
	must(t, s.PutOAuthState(ctx, &store.OAuthState{State: "raced", Purpose: "authorize", Verifier: "v", ExpiresAt: now.Add(time.Hour)}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			if _, err := s.TakeOAuthState(ctx, "raced", now); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("concurrent TakeOAuthState: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent takers that won = %d, want 1", wins)
	}

	// CountOAuthStates counts pending states of one purpose and drops the
	// expired ones, whatever their purpose.
	for i, exp := range []time.Duration{time.Minute, time.Minute, -time.Second} {
		must(t, s.PutOAuthState(ctx, &store.OAuthState{State: fmt.Sprintf("count-%d", i), Purpose: "count", Verifier: "v", ExpiresAt: now.Add(exp)}))
	}
	must(t, s.PutOAuthState(ctx, &store.OAuthState{State: "count-other", Purpose: "other", Verifier: "v", ExpiresAt: now.Add(-time.Second)}))
	n, err := s.CountOAuthStates(ctx, "count", now)
	must(t, err)
	if n != 2 {
		t.Errorf("CountOAuthStates = %d, want 2 (the expired one not counted)", n)
	}
	for _, gone := range []string{"count-2", "count-other"} {
		_, err = s.TakeOAuthState(ctx, gone, now.Add(-time.Hour))
		wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "session@contoso.com")
	other := mustUser(t, s, "other@contoso.com")
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := &store.Session{IDHash: "h1", UserID: u.ID, CSRFToken: "csrf-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, sess))
	wantErr(t, s.CreateSession(ctx, &store.Session{IDHash: "h9", UserID: "nope", ExpiresAt: now.Add(time.Hour)}), tenantlink.ENOTFOUND, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"fresh", now, true},
		{"just before expiry", now.Add(time.Hour - time.Microsecond), true},
		{"at expiry", now.Add(time.Hour), false},
		{"after expiry", now.Add(2 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetSession(ctx, "h1", tc.now)
			if !tc.ok {
				wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
				return
			}
			must(t, err)
			if diff := cmp.Diff(sess, got); diff != "" {
				t.Errorf("GetSession (-want +got):\n%s", diff)
			}
		})
	}

	must(t, s.CreateSession(ctx, &store.Session{IDHash: "h2", UserID: u.ID, ExpiresAt: now.Add(time.Hour)}))
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "h3", UserID: other.ID, ExpiresAt: now.Add(time.Hour)}))
	must(t, s.DeleteSession(ctx, "h1"))
	must(t, s.DeleteSession(ctx, "h1")) // signing out twice is harmless
	_, err := s.GetSession(ctx, "h1", now)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	must(t, s.DeleteUserSessions(ctx, u.ID))
	_, err = s.GetSession(ctx, "h2", now)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	if _, err := s.GetSession(ctx, "h3", now); err != nil {
		t.Errorf("other user's session gone after DeleteUserSessions: %v", err)
	}
	must(t, s.DeleteUser(ctx, other.ID))
	_, err = s.GetSession(ctx, "h3", now)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
}

func testAPITokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "tokens@contoso.com")
	t1 := &store.APIToken{UserID: u.ID, Name: "ci", Hash: "sha256-1", Prefix: "tl_abc", CreatedAt: at(1)}
	t2 := &store.APIToken{UserID: u.ID, Name: "cron", Hash: "sha256-2", Prefix: "tl_def", CreatedAt: at(2), LastUsed: at(3)}
	must(t, s.CreateAPIToken(ctx, t2))
	must(t, s.CreateAPIToken(ctx, t1))
	if t1.ID == "" || t1.ID == t2.ID {
		t.Fatalf("token ids = %q, %q; want distinct non-empty", t1.ID, t2.ID)
	}
	got, err := s.GetAPIToken(ctx, "sha256-2")
	must(t, err)
	if diff := cmp.Diff(t2, got); diff != "" {
		t.Errorf("GetAPIToken (-want +got):\n%s", diff)
	}
	list, err := s.ListAPITokens(ctx, u.ID)
	must(t, err)
	if diff := cmp.Diff([]*store.APIToken{t1, t2}, list); diff != "" {
		t.Errorf("ListAPITokens (-want +got):\n%s", diff)
	}
	none, err := s.ListAPITokens(ctx, "nobody")
	must(t, err)
	if len(none) != 0 {
		t.Errorf("ListAPITokens(nobody) = %v, want empty", none)
	}

	wantErr(t, s.CreateAPIToken(ctx, &store.APIToken{UserID: u.ID, Name: "dup", Hash: "sha256-1"}), tenantlink.ECONFLICT, store.ErrConflict)
	wantErr(t, s.CreateAPIToken(ctx, &store.APIToken{UserID: "nope", Name: "x", Hash: "sha256-9"}), tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.GetAPIToken(ctx, "sha256-unknown")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	must(t, s.DeleteAPIToken(ctx, t1.ID))
	_, err = s.GetAPIToken(ctx, "sha256-1")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.DeleteAPIToken(ctx, t1.ID), tenantlink.ENOTFOUND, store.ErrNotFound)

	must(t, s.DeleteUser(ctx, u.ID))
	_, err = s.GetAPIToken(ctx, "sha256-2")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
}

func testAPITokenLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "life@contoso.com")
	v := mustUser(t, s, "other@contoso.com")
	t1 := &store.APIToken{UserID: u.ID, Name: "ci", Hash: "h-1", CreatedAt: at(1), ExpiresAt: at(9)}
	t2 := &store.APIToken{UserID: v.ID, Name: "cron", Hash: "h-2", CreatedAt: at(2)}
	t3 := &store.APIToken{UserID: u.ID, Name: "deploy", Hash: "h-3", CreatedAt: at(3)}
	for _, tk := range []*store.APIToken{t3, t1, t2} {
		must(t, s.CreateAPIToken(ctx, tk))
	}
	got, err := s.GetAPITokenByID(ctx, t1.ID)
	must(t, err)
	if diff := cmp.Diff(got, t1); diff != "" {
		t.Errorf("GetAPITokenByID (-got +want):\n%s", diff)
	}
	_, err = s.GetAPITokenByID(ctx, "nope")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	all, err := s.ListAllAPITokens(ctx)
	must(t, err)
	if diff := cmp.Diff(all, []*store.APIToken{t1, t2, t3}); diff != "" {
		t.Errorf("ListAllAPITokens (-got +want):\n%s", diff)
	}

	// Touch writes only when the stored use is older than notBefore.
	must(t, s.TouchAPIToken(ctx, t1.ID, at(4), at(4).Add(-time.Minute)))
	must(t, s.TouchAPIToken(ctx, t1.ID, at(4).Add(30*time.Second), at(4).Add(-30*time.Second)))
	got, err = s.GetAPITokenByID(ctx, t1.ID)
	must(t, err)
	if !got.LastUsed.Equal(at(4)) {
		t.Errorf("LastUsed = %v, want %v (the second touch within the minute writes nothing)", got.LastUsed, at(4))
	}
	must(t, s.TouchAPIToken(ctx, t1.ID, at(5), at(5).Add(-time.Minute)))
	got, err = s.GetAPITokenByID(ctx, t1.ID)
	must(t, err)
	if !got.LastUsed.Equal(at(5)) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, at(5))
	}

	now := time.Now()
	exp := now.Add(time.Hour)
	for _, sess := range []*store.Session{{IDHash: "s1", UserID: u.ID, CSRFToken: "c", ExpiresAt: exp}, {IDHash: "s2", UserID: u.ID, CSRFToken: "c", ExpiresAt: exp}, {IDHash: "s3", UserID: v.ID, CSRFToken: "c", ExpiresAt: exp}} {
		must(t, s.CreateSession(ctx, sess))
	}
	must(t, s.DeleteOtherUserSessions(ctx, u.ID, "s1"))
	for hash, want := range map[string]bool{"s1": true, "s2": false, "s3": true} {
		_, err := s.GetSession(ctx, hash, now)
		if got := err == nil; got != want {
			t.Errorf("session %s kept = %v (err %v), want %v after DeleteOtherUserSessions", hash, got, err, want)
		}
	}

	n, err := s.DeleteUserAPITokens(ctx, u.ID)
	must(t, err)
	if n != 2 {
		t.Errorf("DeleteUserAPITokens = %d, want 2", n)
	}
	all, err = s.ListAllAPITokens(ctx)
	must(t, err)
	if diff := cmp.Diff(all, []*store.APIToken{t2}); diff != "" {
		t.Errorf("ListAllAPITokens after DeleteUserAPITokens (-got +want):\n%s", diff)
	}
}

func actions(es []*tenantlink.AuditEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := &tenantlink.AuditEntry{At: at(1), Actor: "admin", Action: "a0", Target: "datasource:1", Outcome: "success", Detail: "created"}
	must(t, s.AppendAudit(ctx, first))
	if first.ID == 0 {
		t.Errorf("AppendAudit left ID 0")
	}
	for i := 1; i < 120; i++ {
		target := "user:1"
		if i%2 == 0 {
			target = "datasource:1"
		}
		// Same timestamp for all: order must come from append order.
		must(t, s.AppendAudit(ctx, &tenantlink.AuditEntry{At: at(2), Actor: "admin", Action: fmt.Sprintf("a%d", i), Target: target, Outcome: "success"}))
	}
	noAt := &tenantlink.AuditEntry{Action: "now"}
	must(t, s.AppendAudit(ctx, noAt))
	if d := time.Since(noAt.At); noAt.At.IsZero() || d < 0 || d > time.Minute {
		t.Errorf("AppendAudit At = %v, want about now", noAt.At)
	}

	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"limit", store.AuditFilter{Limit: 3}, []string{"now", "a119", "a118"}},
		{"target", store.AuditFilter{Target: "user:1", Limit: 2}, []string{"a119", "a117"}},
		{"target oldest", store.AuditFilter{Target: "datasource:1", Limit: 1000}, nil},
		{"unknown target", store.AuditFilter{Target: "nope"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.f)
			must(t, err)
			if tc.want == nil {
				if n := len(got); n != 60 || got[n-1].Action != "a0" {
					t.Fatalf("got %d entries ending %v, want 60 ending a0", n, actions(got[max(0, n-1):]))
				}
				if diff := cmp.Diff(first, got[len(got)-1]); diff != "" {
					t.Errorf("first entry (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tc.want, actions(got)); diff != "" {
				t.Errorf("ListAudit(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	all, err := s.ListAudit(ctx, store.AuditFilter{})
	must(t, err)
	if len(all) != 100 {
		t.Errorf("ListAudit default limit returned %d, want 100", len(all))
	}
	testAuditFilters(t, s)
}

// testAuditFilters checks each AuditFilter field and keyset paging on
// entries of their own target prefix.
func testAuditFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	entries := []*tenantlink.AuditEntry{
		{At: at(3), Actor: "Ann@Example.com", ActorID: "u-ann", Action: "group.create", Target: "f:g1", Outcome: "ok"},
		{At: at(4), Actor: "bob@example.com", ActorID: "u-bob", Action: "group.update", Target: "f:g1", Outcome: "ok"},
		{At: at(5), Actor: "ann@example.com", ActorID: "u-ann", Action: "user.update", Target: "f:u1", Outcome: "denied"},
		{At: at(6), Actor: "system", Action: "groupsync.run", Target: "f:g1", Outcome: "failed"},
		{At: at(7), Actor: "bob@example.com", ActorID: "u-bob", Action: "Group.Delete", Target: "f:g2", Outcome: "ok"},
		{At: at(8), Actor: "100%_sure@example.com", ActorID: "u-odd", Action: "user.create", Target: "f:u2", Outcome: "ok"},
	}
	ids := map[string]int64{}
	for _, e := range entries {
		must(t, s.AppendAudit(ctx, e))
		ids[e.Action] = e.ID
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Target: "f:g1"})
	must(t, err)
	if diff := cmp.Diff(entries[0], got[len(got)-1]); diff != "" {
		t.Errorf("entry read back (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"actor contains, any case", store.AuditFilter{Actor: "ANN@"}, []string{"user.update", "group.create"}},
		{"actor wildcards are literal", store.AuditFilter{Actor: "%_"}, []string{"user.create"}},
		{"actor id", store.AuditFilter{ActorID: "u-bob"}, []string{"Group.Delete", "group.update"}},
		{"action prefix, any case", store.AuditFilter{Action: "group.", Actor: "@example.com"}, []string{"Group.Delete", "group.update", "group.create"}},
		{"action exact", store.AuditFilter{Action: "user.update"}, []string{"user.update"}},
		{"action prefix is not a substring", store.AuditFilter{Action: "update"}, []string{}},
		{"outcome", store.AuditFilter{Outcome: "denied"}, []string{"user.update"}},
		{"from is inclusive", store.AuditFilter{From: at(6), Target: "f:g1"}, []string{"groupsync.run"}},
		{"to is exclusive", store.AuditFilter{To: at(4), ActorID: "u-ann"}, []string{"group.create"}},
		{"between", store.AuditFilter{From: at(4), To: at(7)}, []string{"groupsync.run", "user.update", "group.update"}},
		{"all together", store.AuditFilter{Actor: "bob", Action: "group", Outcome: "ok", Target: "f:g1", From: at(3), To: at(8)}, []string{"group.update"}},
		{"before id pages older", store.AuditFilter{From: at(3), BeforeID: ids["groupsync.run"], Limit: 2}, []string{"user.update", "group.update"}},
		{"after id pages newer, closest first read", store.AuditFilter{From: at(3), AfterID: ids["group.create"], Limit: 2}, []string{"user.update", "group.update"}},
		{"after id at the newest end", store.AuditFilter{From: at(3), AfterID: ids["user.create"]}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.f)
			must(t, err)
			if diff := cmp.Diff(tc.want, actions(got)); diff != "" {
				t.Errorf("ListAudit(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetSetting(ctx, "sso")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	for _, v := range []string{`{"enabled":true,"datasource":"ds1"}`, `{ "enabled" : false }`} {
		must(t, s.PutSetting(ctx, "sso", []byte(v)))
		got, err := s.GetSetting(ctx, "sso")
		must(t, err)
		if string(got) != v {
			t.Errorf("GetSetting = %s, want %s (byte for byte)", got, v)
		}
	}
	must(t, s.PutSetting(ctx, "other", []byte(`1`)))
	got, err := s.GetSetting(ctx, "sso")
	must(t, err)
	if string(got) != `{ "enabled" : false }` {
		t.Errorf("PutSetting(other) changed sso to %s", got)
	}
}

var errRollback = errors.New("roll back please")

func testInTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	t.Run("commit", func(t *testing.T) {
		var uid string
		err := s.InTx(ctx, func(tx store.Store) error {
			u := mustUser(t, tx, "committed@contoso.com")
			uid = u.ID
			// The transaction sees its own writes.
			if _, err := tx.GetUser(ctx, uid); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &tenantlink.AuditEntry{Action: "user.create", Target: "user:" + uid})
		})
		must(t, err)
		if _, err := s.GetUser(ctx, uid); err != nil {
			t.Errorf("committed user missing: %v", err)
		}
		got, err := s.ListAudit(ctx, store.AuditFilter{Target: "user:" + uid})
		must(t, err)
		if len(got) != 1 {
			t.Errorf("committed audit entries = %d, want 1", len(got))
		}
	})
	t.Run("rollback on error", func(t *testing.T) {
		err := s.InTx(ctx, func(tx store.Store) error {
			u := mustUser(t, tx, "rolledback@contoso.com")
			ds := mustDataSource(t, tx, "rolled back")
			must(t, tx.PutCredential(ctx, ds.ID, []byte("secret")))
			must(t, tx.CreateGroup(ctx, &tenantlink.Group{Name: "rolled back", Members: []string{u.ID}}))
			must(t, tx.AppendAudit(ctx, &tenantlink.AuditEntry{Action: "rolled.back"}))
			must(t, tx.PutSetting(ctx, "rolled", []byte("{}")))
			return fmt.Errorf("wrapped: %w", errRollback)
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx err = %v, want fn's error", err)
		}
		assertNothingFrom(t, s, "rolledback@contoso.com", "rolled back", "rolled.back", "rolled")
	})
	t.Run("nested joins outer", func(t *testing.T) {
		err := s.InTx(ctx, func(tx store.Store) error {
			if err := tx.InTx(ctx, func(inner store.Store) error {
				mustUser(t, inner, "nested@contoso.com")
				return nil
			}); err != nil {
				return err
			}
			// The inner "commit" must not have escaped the outer transaction.
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx err = %v, want errRollback", err)
		}
		_, err = s.GetUserByEmail(ctx, "nested@contoso.com")
		wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	})
	t.Run("rollback on panic", func(t *testing.T) {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("panic inside InTx was swallowed")
				}
			}()
			s.InTx(ctx, func(tx store.Store) error {
				mustUser(t, tx, "panicked@contoso.com")
				panic("boom")
			})
		}()
		_, err := s.GetUserByEmail(ctx, "panicked@contoso.com")
		wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
		// The store is still usable: the connection went back to the pool.
		mustUser(t, s, "after-panic@contoso.com")
	})
	t.Run("error code passes through", func(t *testing.T) {
		mustUser(t, s, "taken@contoso.com")
		err := s.InTx(ctx, func(tx store.Store) error {
			return tx.CreateUser(ctx, &tenantlink.User{Email: "TAKEN@contoso.com"})
		})
		wantErr(t, err, tenantlink.ECONFLICT, store.ErrConflict)
	})
}

func assertNothingFrom(t *testing.T, s store.Store, email, name, action, setting string) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetUserByEmail(ctx, email)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	dss, err := s.ListDataSources(ctx, name)
	must(t, err)
	if len(dss) != 0 {
		t.Errorf("rolled-back data source is visible: %+v", dss[0])
	}
	gs, err := s.ListGroups(ctx)
	must(t, err)
	for _, g := range gs {
		if g.Name == name {
			t.Errorf("rolled-back group is visible")
		}
	}
	es, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	must(t, err)
	for _, e := range es {
		if e.Action == action {
			t.Errorf("rolled-back audit entry is visible")
		}
	}
	_, err = s.GetSetting(ctx, setting)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := &tenantlink.AuditEntry{Actor: fmt.Sprintf("w%d", w), Action: fmt.Sprintf("w%d-%d", w, i), Target: "concurrency"}
				if err := s.AppendAudit(ctx, e); err != nil {
					errs <- err
					return
				}
			}
			// Transactions from concurrent writers must not fail with
			// "database is locked" either.
			errs <- s.InTx(ctx, func(tx store.Store) error {
				u := &tenantlink.User{Email: fmt.Sprintf("writer%d@contoso.com", w)}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				return tx.CreateGroup(ctx, &tenantlink.Group{Name: fmt.Sprintf("writer %d", w), Members: []string{u.ID}})
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent write: %v", err)
		}
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Target: "concurrency", Limit: writers*each + 1})
	must(t, err)
	if len(got) != writers*each {
		t.Errorf("audit entries = %d, want %d", len(got), writers*each)
	}
	seen := map[string]bool{}
	ids := map[int64]bool{}
	for _, e := range got {
		seen[e.Action], ids[e.ID] = true, true
	}
	if len(seen) != writers*each || len(ids) != writers*each {
		t.Errorf("distinct actions = %d, ids = %d; want %d each", len(seen), len(ids), writers*each)
	}
	// Per writer, newest first means its own entries appear in reverse.
	last := map[string]int{}
	for _, e := range got {
		var w, i int
		fmt.Sscanf(e.Action, "w%d-%d", &w, &i)
		key := fmt.Sprint(w)
		if prev, ok := last[key]; ok && i >= prev {
			t.Errorf("writer %d: entry %d listed after %d, want newest first", w, i, prev)
		}
		last[key] = i
	}
	users, err := s.ListUsers(ctx, store.UserFilter{Search: "writer"})
	must(t, err)
	if len(users) != writers {
		t.Errorf("users from concurrent transactions = %d, want %d", len(users), writers)
	}
}
