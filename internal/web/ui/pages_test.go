package ui_test

// Fast tests of the pages on fakes (fakes_test.go): what each viewer is
// shown, what a form stores or refuses, where a button leads, what the
// audit page asks the service. The whole handler runs (package web's
// authentication, CSRF and error pages included); the services are fakes
// that log their calls. The database-backed, golden and browser tests
// (ui_test.go, directory_test.go, *_browser_test.go) cover what only the
// whole stack shows.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web/webtest"
)

// fakeCase is one request and what must come of it.
type fakeCase struct {
	name     string
	as       webtest.Viewer
	method   string // "" is GET
	path     string
	form     url.Values
	status   int
	location string
	want     []string // in the body
	notWant  []string
	// calls are the service calls made, in order (nil: not checked).
	calls []string
	// noCall are calls (prefixes) that must not have been made.
	noCall []string
	// check looks at what the fakes stored afterwards.
	check func(t *testing.T, st *fakeStack)
}

func runFakeCases(t *testing.T, cases []fakeCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			got := st.do(t, tt.as, method, tt.path, tt.form)
			webtest.CheckAnswer(t, method, tt.path, got, tt.status, tt.location)
			webtest.CheckBody(t, got.Body, tt.want, tt.notWant)
			webtest.CheckCalls(t, tt.calls, *st.log)
			for _, c := range tt.noCall {
				if st.log.Has(c) {
					t.Errorf("%s was called, want not (calls %q)", c, *st.log)
				}
			}
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

// unchanged checks that the fake data source id still has its name.
func unchangedDataSource(id, name string) func(*testing.T, *fakeStack) {
	return func(t *testing.T, st *fakeStack) {
		t.Helper()
		if got := st.dss.dss[id].Name; got != name {
			t.Errorf("data source %s is named %q, want %q (unchanged)", id, got, name)
		}
		if _, ok := st.dss.dss["ds-new"]; ok {
			t.Errorf("a data source was created, want none")
		}
	}
}

// TestFakeDataSourcePages: the list, the catalogue and new form, the
// details page, by viewer. Bob uses Fabrikam but administers nothing and
// may not see Contoso: Contoso is not found for him, exactly as an
// unknown id; Fabrikam's settings are refused with the reason.
func TestFakeDataSourcePages(t *testing.T) {
	notFound := func(id string) string { return `Data source &#34;` + id + `&#34; not found` }
	const noRole = "Data source administration needs the Administrator or Manage datasources role."
	runFakeCases(t, []fakeCase{
		{name: "administrator lists and manages both", as: adminViewer, path: "/datasources", status: 200,
			want: []string{"<h1>Datasource management</h1>", `href="/datasources/ds1"`, `href="/datasources/ds2"`, "Contoso", "Fabrikam",
				`href="/datasources/new"`},
			calls: []string{`List ""`}},
		{name: "the search goes to the service", as: adminViewer, path: "/datasources?search=Fab", status: 200,
			want: []string{"Fabrikam"}, notWant: []string{"Contoso"}, calls: []string{`List "Fab"`}},
		{name: "a connection user lists what they use, nothing to manage", as: userViewer, path: "/datasources", status: 200,
			want:    []string{"<h1>Data sources</h1>", "Fabrikam"},
			notWant: []string{"Contoso", `href="/datasources/new"`, `href="/datasources/ds2"`}},
		{name: "administrator: catalogue", as: adminViewer, path: "/datasources/new", status: 200,
			want: []string{`href="/datasources/new/office365"`}, calls: []string{}},
		{name: "user: catalogue refused", as: userViewer, path: "/datasources/new", status: 403,
			want: []string{noRole}, notWant: []string{`href="/datasources/new/office365"`}},
		{name: "administrator: new form with the defaults", as: adminViewer, path: "/datasources/new/office365", status: 200,
			want:  []string{`action="/datasources/new/office365"`, "Not authorized yet: click Authorize."},
			calls: []string{}},
		{name: "user: new form refused", as: userViewer, path: "/datasources/new/office365", status: 403,
			want: []string{noRole}, notWant: []string{`action="/datasources/new/office365"`}},
		{name: "administrator: details", as: adminViewer, path: "/datasources/ds1", status: 200,
			want:  []string{`action="/datasources/ds1"`, `value="Contoso"`, `name="csrf" value="admin-csrf"`, "List users"},
			calls: []string{"Get ds1", "GetSecurity ds1", "SecurityChoices ds1", "Operations ds1"}},
		{name: "administrator: the test's outcome after the redirect", as: adminViewer, path: "/datasources/ds1?notice=tested", status: 200,
			want: []string{"Connection OK"}},
		{name: "administrator: unknown id", as: adminViewer, path: "/datasources/nope", status: 404,
			want: []string{notFound("nope")}, calls: []string{"Get nope"}},
		{name: "user: a data source they may not see is not found", as: userViewer, path: "/datasources/ds1", status: 404,
			want: []string{notFound("ds1")}, notWant: []string{"Contoso"}, noCall: []string{"GetSecurity"}},
		{name: "user: an unknown one alike", as: userViewer, path: "/datasources/nope", status: 404,
			want: []string{notFound("nope")}, noCall: []string{"GetSecurity"}},
		{name: "user: one they use but may not administer", as: userViewer, path: "/datasources/ds2", status: 403,
			want: []string{noRole}, notWant: []string{`value="Fabrikam"`}, noCall: []string{"GetSecurity"}},
		{name: "anonymous is sent to sign in", as: anonymousViewer, path: "/datasources/ds1", status: 303,
			location: "/login?next=%2Fdatasources%2Fds1", calls: []string{}},
	})
}

// TestFakeDataSourceForms: the new and details forms store what they
// read and redirect; a refusal is shown with the submitted values and
// nothing stored.
func TestFakeDataSourceForms(t *testing.T) {
	form := func(kv ...string) url.Values {
		f := url.Values{"authMode": {tenantlink.AuthDelegated}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	const post = http.MethodPost
	runFakeCases(t, []fakeCase{
		{name: "create and go to the new data source", as: adminViewer, method: post, path: "/datasources/new/office365",
			form: form("name", "Northwind", "readWrite", "on"), status: 303, location: "/datasources/ds-new?notice=saved",
			calls: []string{`Create "Northwind"`},
			check: func(t *testing.T, st *fakeStack) {
				ds := st.dss.dss["ds-new"]
				if ds == nil || ds.Name != "Northwind" || !ds.Settings.ReadWrite || ds.Settings.SingleSignOn {
					t.Errorf("created %+v, want Northwind, read and write, no single sign-on", ds)
				}
			}},
		{name: "create: a blank name is shown with the other values", as: adminViewer, method: post, path: "/datasources/new/office365",
			form: form("name", "", "readWrite", "on", "singleSignOn", "on"), status: 400,
			want:  []string{`role="alert">name is required`, `action="/datasources/new/office365"`, `name="readWrite" type="checkbox" checked`, `name="singleSignOn" type="checkbox" checked`},
			calls: []string{`Create ""`}, check: unchangedDataSource("ds1", "Contoso")},
		{name: "create: a name taken", as: adminViewer, method: post, path: "/datasources/new/office365",
			form: form("name", "Contoso"), status: 409,
			want:  []string{`role="alert">a data source named &#34;Contoso&#34; already exists`, `value="Contoso"`},
			calls: []string{`Create "Contoso"`}, check: unchangedDataSource("ds1", "Contoso")},
		{name: "create: a user may not", as: userViewer, method: post, path: "/datasources/new/office365",
			form: form("name", "Mine"), status: 403, want: []string{"Data source administration needs"},
			check: unchangedDataSource("ds1", "Contoso")},
		{name: "create: a forged CSRF token stores nothing", as: adminViewer, method: post, path: "/datasources/new/office365",
			form: form("name", "Northwind", "csrf", "forged"), status: 403, calls: []string{}, check: unchangedDataSource("ds1", "Contoso")},
		{name: "save details", as: adminViewer, method: post, path: "/datasources/ds1",
			form: form("name", "Contoso EU"), status: 303, location: "/datasources/ds1?notice=saved",
			calls: []string{`Update ds1 "Contoso EU"`}, check: unchangedDataSource("ds1", "Contoso EU")},
		{name: "save details and open security", as: adminViewer, method: post, path: "/datasources/ds1",
			form: form("name", "Contoso", "action", "security"), status: 303, location: "/datasources/ds1/security"},
		{name: "save details: a name taken is shown with the submitted values", as: adminViewer, method: post, path: "/datasources/ds1",
			form: form("name", "Fabrikam", "singleSignOn", "on"), status: 409,
			want: []string{`role="alert">a data source named &#34;Fabrikam&#34; already exists`, `value="Fabrikam"`, `name="singleSignOn" type="checkbox" checked`,
				`action="/datasources/ds1"`},
			check: unchangedDataSource("ds1", "Contoso")},
		{name: "save details: a user who may not see it", as: userViewer, method: post, path: "/datasources/ds1",
			form: form("name", "Mine"), status: 403, want: []string{"Data source administration needs"}, notWant: []string{"Contoso"},
			check: unchangedDataSource("ds1", "Contoso")},
	})
}

// TestFakeSecuritySave: the security form stores the lists it reads
// and redirects; refusals store nothing, and a user without the role
// gets the same 403 for a data source they may not see and an unknown
// one.
func TestFakeSecuritySave(t *testing.T) {
	const post = http.MethodPost
	noRole := "Data source administration needs the Administrator or Manage datasources role."
	unchanged := func(t *testing.T, st *fakeStack) {
		t.Helper()
		if diff := cmp.Diff(tenantlink.Security{Users: []string{"u-admin"}}, st.dss.dss["ds1"].Security); diff != "" {
			t.Errorf("ds1's security changed (-want +got):\n%s", diff)
		}
	}
	runFakeCases(t, []fakeCase{
		{name: "administrator: the security page", as: adminViewer, path: "/datasources/ds1/security", status: 200,
			want: []string{`action="/datasources/ds1/security"`, "bob@example.com", "Staff"}},
		{name: "saved and back to the details", as: adminViewer, method: post, path: "/datasources/ds1/security",
			form:   url.Values{"admins": {"u-admin"}, "users": {"u-admin", "g-staff"}, "writers": {"u-bob"}},
			status: 303, location: "/datasources/ds1?notice=security", calls: []string{"PutSecurity ds1"},
			check: func(t *testing.T, st *fakeStack) {
				want := tenantlink.Security{Admins: []string{"u-admin"}, Users: []string{"u-admin", "g-staff"}, Writers: []string{"u-bob"}}
				if diff := cmp.Diff(want, st.dss.dss["ds1"].Security); diff != "" {
					t.Errorf("stored security (-want +got):\n%s", diff)
				}
			}},
		{name: "an unknown member is shown on the form with the other choices, nothing stored", as: adminViewer, method: post, path: "/datasources/ds1/security",
			form: url.Values{"admins": {"g-staff"}, "users": {"u-ghost", "u-bob"}, "writers": {"u-admin"}}, status: 400,
			want: []string{`role="alert">&#34;u-ghost&#34; is neither a user nor a group`, `action="/datasources/ds1/security"`,
				`id="admins-g-g-staff" name="admins" value="g-staff" checked`, `id="users-u-u-bob" name="users" value="u-bob" checked`,
				`id="writers-u-u-admin" name="writers" value="u-admin" checked`, `name="csrf" value="admin-csrf"`},
			notWant: []string{`id="users-u-u-admin" name="users" value="u-admin" checked`},
			check:   unchanged},
		{name: "user: one they may not see", as: userViewer, method: post, path: "/datasources/ds1/security",
			form: url.Values{"users": {"u-bob"}}, status: 403, want: []string{noRole}, notWant: []string{"Contoso"}, check: unchanged},
		{name: "user: an unknown one alike", as: userViewer, method: post, path: "/datasources/nope/security",
			form: url.Values{"users": {"u-bob"}}, status: 403, want: []string{noRole}, check: unchanged},
		{name: "user: one they use", as: userViewer, method: post, path: "/datasources/ds2/security",
			form: url.Values{"users": {"u-bob"}}, status: 403, want: []string{noRole}, check: unchanged},
		{name: "a forged CSRF token stores nothing", as: adminViewer, method: post, path: "/datasources/ds1/security",
			form: url.Values{"users": {"u-bob"}, "csrf": {"forged"}}, status: 403, calls: []string{}, check: unchanged},
	})
}

// TestFakeDirectoryPages: users and groups are the Administrator's; a
// plain user gets the same 403 for every one of them, known or not,
// even their own user page.
func TestFakeDirectoryPages(t *testing.T) {
	const forbiddenUsers, forbiddenGroups = "Reading users needs the Administrator role", "Reading groups needs the Administrator role"
	runFakeCases(t, []fakeCase{
		{name: "administrator: users", as: adminViewer, path: "/users", status: 200,
			want: []string{"ann@example.com", "bob@example.com", `href="/users/u-ann"`}},
		{name: "administrator: users search goes to the service", as: adminViewer, path: "/users?q=ann", status: 200,
			want: []string{"ann@example.com"}, notWant: []string{"bob@example.com"}, calls: []string{`ListUsers "ann"`}},
		{name: "administrator: a user", as: adminViewer, path: "/users/u-ann", status: 200,
			want: []string{"ann@example.com", "Staff", string(tenantlink.RoleDesignProcess)}},
		{name: "administrator: an unknown user", as: adminViewer, path: "/users/nope", status: 404,
			want: []string{`User &#34;nope&#34; not found`}},
		{name: "administrator: groups", as: adminViewer, path: "/groups", status: 200,
			want: []string{"Staff", "ann@example.com", `action="/groups"`}},
		{name: "administrator: a group's edit page", as: adminViewer, path: "/groups/g-staff/edit", status: 200,
			want: []string{`action="/groups/g-staff/edit"`, `value="Staff"`, "ann@example.com", `href="/groups/g-staff/delete"`}},
		{name: "administrator: an unknown group", as: adminViewer, path: "/groups/nope/edit", status: 404,
			want: []string{`Group &#34;nope&#34; not found`}},
		{name: "user: users", as: userViewer, path: "/users", status: 403, want: []string{forbiddenUsers}, notWant: []string{"ann@example.com"}},
		{name: "user: another user", as: userViewer, path: "/users/u-ann", status: 403, want: []string{forbiddenGroups}, notWant: []string{"ann@example.com"},
			noCall: []string{"GetUser"}},
		{name: "user: their own page", as: userViewer, path: "/users/u-bob", status: 403, want: []string{forbiddenGroups}},
		{name: "user: an unknown user alike", as: userViewer, path: "/users/nope", status: 403, want: []string{forbiddenGroups}, notWant: []string{"nope"}},
		{name: "user: groups", as: userViewer, path: "/groups", status: 403, want: []string{forbiddenGroups}, notWant: []string{"Staff"}},
		{name: "user: a group", as: userViewer, path: "/groups/g-staff/edit", status: 403, want: []string{forbiddenGroups}, notWant: []string{"Staff"}},
		{name: "user: an unknown group alike", as: userViewer, path: "/groups/nope/edit", status: 403, want: []string{forbiddenGroups}, notWant: []string{"nope"}},
		{name: "user: a group's delete question", as: userViewer, path: "/groups/g-staff/delete", status: 403, want: []string{forbiddenGroups}},
	})
}

// TestFakeDirectoryForms: the users and groups forms store what they
// read and redirect; a refusal is shown with the submitted values and
// nothing stored.
func TestFakeDirectoryForms(t *testing.T) {
	const post = http.MethodPost
	noNewUser := func(t *testing.T, st *fakeStack) {
		t.Helper()
		if u, ok := st.dir.users["u-new"]; ok {
			t.Errorf("stored user %+v, want none", u)
		}
	}
	noNewGroup := func(t *testing.T, st *fakeStack) {
		t.Helper()
		if g, ok := st.dir.groups["g-new"]; ok {
			t.Errorf("stored group %+v, want none", g)
		}
		if g := st.dir.groups["g-staff"]; g.Name != "Staff" || len(g.Members) != 1 {
			t.Errorf("Staff is now %+v, want unchanged", g)
		}
	}
	runFakeCases(t, []fakeCase{
		{name: "new user", as: adminViewer, method: post, path: "/users",
			form:   url.Values{"email": {"cy@example.com"}, "displayName": {"Cy"}, "roles": {string(tenantlink.RoleUser)}},
			status: 303, location: "/users?notice=created", calls: []string{"CreateUser cy@example.com"},
			check: func(t *testing.T, st *fakeStack) {
				if u := st.dir.users["u-new"]; u == nil || u.Email != "cy@example.com" {
					t.Errorf("stored %+v, want cy@example.com", u)
				}
			}},
		{name: "new user: a bad address is shown with the submitted values", as: adminViewer, method: post, path: "/users",
			form:   url.Values{"email": {"not-an-address"}, "givenName": {"Cy"}, "surname": {"Young"}, "displayName": {"Cy Young"}, "roles": {string(tenantlink.RoleManageDatasources)}},
			status: 400,
			want: []string{`role="alert">email &#34;not-an-address&#34; is not an email address`, `value="not-an-address"`, `value="Cy"`, `value="Young"`,
				`value="Cy Young"`, `id="new-r2" name="roles" value="Manage datasources" checked`},
			check: noNewUser},
		{name: "new user: an address taken", as: adminViewer, method: post, path: "/users",
			form: url.Values{"email": {"ann@example.com"}}, status: 409, want: []string{"already exists", `value="ann@example.com"`}, check: noNewUser},
		{name: "new user: a user may not", as: userViewer, method: post, path: "/users",
			form: url.Values{"email": {"cy@example.com"}}, status: 403, want: []string{"Creating users needs the Administrator role"}, check: noNewUser},
		{name: "save a user from their page", as: adminViewer, method: post, path: "/users/u-ann",
			form: url.Values{"roles": {string(tenantlink.RoleUser), string(tenantlink.RoleAdministrator)}, "active": {"on"}, "from": {"detail"}}, status: 303, location: "/users/u-ann?notice=updated",
			check: func(t *testing.T, st *fakeStack) {
				if diff := cmp.Diff([]tenantlink.Role{tenantlink.RoleUser, tenantlink.RoleAdministrator}, st.dir.users["u-ann"].Roles); diff != "" {
					t.Errorf("Ann's roles (-want +got):\n%s", diff)
				}
			}},
		{name: "new group", as: adminViewer, method: post, path: "/groups",
			form: url.Values{"name": {"Sales"}, "roles": {string(tenantlink.RoleDesignProcess)}}, status: 303, location: "/groups/g-new/edit?notice=created",
			calls: []string{"CreateGroup Sales"}},
		{name: "new group: a blank name is shown with the chosen roles", as: adminViewer, method: post, path: "/groups",
			form: url.Values{"name": {" "}, "roles": {string(tenantlink.RoleDesignProcess)}}, status: 400,
			want: []string{`role="alert">A group needs a name.`, `id="new-group-r3" name="roles" value="Design business process" checked`}, check: noNewGroup},
		{name: "new group: a name taken", as: adminViewer, method: post, path: "/groups",
			form: url.Values{"name": {"Staff"}}, status: 409, want: []string{`A group named &#34;Staff&#34; already exists.`, `value="Staff"`}, check: noNewGroup},
		{name: "new group: a user may not", as: userViewer, method: post, path: "/groups",
			form: url.Values{"name": {"Mine"}}, status: 403, want: []string{"Changing groups needs the Administrator role"}, check: noNewGroup},
		{name: "rename a group", as: adminViewer, method: post, path: "/groups/g-staff/edit",
			form: url.Values{"name": {"Team"}}, status: 303, location: "/groups/g-staff/edit?notice=saved",
			check: func(t *testing.T, st *fakeStack) {
				if g := st.dir.groups["g-staff"]; g.Name != "Team" || len(g.Roles) != 0 {
					t.Errorf("Staff is now %+v, want Team without roles", g)
				}
			}},
		{name: "rename a group: a blank name is shown as typed", as: adminViewer, method: post, path: "/groups/g-staff/edit",
			form: url.Values{"name": {""}, "roles": {string(tenantlink.RoleAdministrator)}}, status: 400,
			want: []string{`role="alert">A group needs a name.`, `id="group-r1" name="roles" value="Administrator" checked`}, check: noNewGroup},
		{name: "add members", as: adminViewer, method: post, path: "/groups/g-staff/members",
			form: url.Values{"user": {"u-bob"}, "q": {"bo"}}, status: 303, location: "/groups/g-staff/edit?notice=added&q=bo#members",
			calls: []string{"AddGroupMembers g-staff u-bob"}},
		{name: "add members: an unknown user is shown in place", as: adminViewer, method: post, path: "/groups/g-staff/members",
			form: url.Values{"user": {"u-ghost"}, "q": {"gho"}}, status: 400,
			want: []string{`role="alert">user &#34;u-ghost&#34; not found`, `value="gho"`}, check: noNewGroup},
		{name: "remove members: a user may not", as: userViewer, method: post, path: "/groups/g-staff/members/remove",
			form: url.Values{"user": {"u-ann"}}, status: 403, want: []string{"Changing groups needs the Administrator role"}, check: noNewGroup},
		{name: "delete a group", as: adminViewer, method: post, path: "/groups/g-staff/delete", status: 303, location: "/groups?notice=deleted",
			check: func(t *testing.T, st *fakeStack) {
				if _, ok := st.dir.groups["g-staff"]; ok {
					t.Error("Staff is still there")
				}
			}},
	})
}

// TestFakeTokens: a new token's secret is shown once, on the answer to
// the form; revoking asks first; someone else's token is not found for a
// non-Administrator.
func TestFakeTokens(t *testing.T) {
	const post = http.MethodPost
	noNewToken := func(t *testing.T, st *fakeStack) {
		t.Helper()
		if tk, ok := st.dir.tokens["tk-new"]; ok {
			t.Errorf("stored token %+v, want none", tk)
		}
	}
	kept := func(id string) func(*testing.T, *fakeStack) {
		return func(t *testing.T, st *fakeStack) {
			t.Helper()
			if _, ok := st.dir.tokens[id]; !ok {
				t.Errorf("token %s was revoked, want kept", id)
			}
		}
	}
	runFakeCases(t, []fakeCase{
		{name: "administrator sees every token with its owner", as: adminViewer, path: "/tokens", status: 200,
			want: []string{"Admin script", "Bob laptop", `<th scope="col">Owner</th>`, "Revoke Bob laptop of bob@example.com"}, calls: []string{"ListTokens"}},
		{name: "a user sees their own", as: userViewer, path: "/tokens", status: 200,
			want: []string{"Bob laptop"}, notWant: []string{"Admin script", `<th scope="col">Owner</th>`}},
		{name: "create shows the secret once", as: userViewer, method: post, path: "/tokens",
			form: url.Values{"name": {"CI"}, "expiresInDays": {"30"}}, status: 201,
			want:  []string{`id="created-token" type="text" readonly value="tl_SECRET-CI"`, "copy it now, it is not shown again"},
			calls: []string{`IssueToken "CI" 30`, "ListTokens", `List ""`}},
		{name: "never expires", as: userViewer, method: post, path: "/tokens",
			form: url.Values{"name": {"CI"}, "expiresInDays": {""}}, status: 201, want: []string{"tl_SECRET-CI"},
			calls: []string{`IssueToken "CI" 0`, "ListTokens", `List ""`}},
		{name: "an expiry that is not a choice keeps the name, issues nothing", as: userViewer, method: post, path: "/tokens",
			form: url.Values{"name": {"Nightly import"}, "expiresInDays": {"soon"}}, status: 400,
			want:   []string{`role="alert">Choose when the token expires.`, `value="Nightly import"`},
			noCall: []string{"IssueToken"}, check: noNewToken},
		{name: "the service's refusal keeps the expiry", as: userViewer, method: post, path: "/tokens",
			form: url.Values{"name": {""}, "expiresInDays": {"90"}}, status: 400,
			want:    []string{`role="alert">A token needs a name.`, `<option value="90" selected>`},
			notWant: []string{"tl_SECRET"}, check: noNewToken},
		{name: "the list afterwards shows no secret", as: userViewer, path: "/tokens", status: 200,
			notWant: []string{"tl_SECRET", `id="created-token"`}},
		{name: "revoke asks first", as: userViewer, path: "/tokens/tk-bob/revoke", status: 200,
			want: []string{`action="/tokens/tk-bob/revoke"`, "Bob laptop", `name="csrf" value="bob-csrf"`}, calls: []string{"Token tk-bob", `List ""`},
			check: kept("tk-bob")},
		{name: "revoke", as: userViewer, method: post, path: "/tokens/tk-bob/revoke", status: 303, location: "/tokens?notice=revoked",
			calls: []string{"RevokeToken tk-bob"},
			check: func(t *testing.T, st *fakeStack) {
				if _, ok := st.dir.tokens["tk-bob"]; ok {
					t.Error("tk-bob is still there")
				}
			}},
		{name: "user: someone else's token is not found", as: userViewer, path: "/tokens/tk-admin/revoke", status: 404,
			want: []string{`API token &#34;tk-admin&#34; not found`}, notWant: []string{"Admin script"}, check: kept("tk-admin")},
		{name: "user: revoking someone else's is not found, nothing revoked", as: userViewer, method: post, path: "/tokens/tk-admin/revoke", status: 404,
			want: []string{`API token &#34;tk-admin&#34; not found`}, notWant: []string{"Admin script"}, check: kept("tk-admin")},
		{name: "a forged CSRF token revokes nothing", as: userViewer, method: post, path: "/tokens/tk-bob/revoke",
			form: url.Values{"csrf": {"forged"}}, status: 403, noCall: []string{"RevokeToken"}, check: kept("tk-bob")},
		{name: "administrator: someone else's token shows its owner", as: adminViewer, path: "/tokens/tk-bob/revoke", status: 200,
			want: []string{"bob@example.com"}},
	})
}

// TestFakeAuditFilters: the audit page hands its filters to the service
// as read (the service decides what each viewer may read), and a filter
// it cannot read is shown with the values typed and nothing asked.
func TestFakeAuditFilters(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		as     webtest.Viewer
		query  string
		status int
		want   []string
		// filter is what ListAudit was given (nil: not called).
		filter *store.AuditFilter
	}{
		{name: "no filter", as: adminViewer, query: "", status: 200,
			want:   []string{"user.update", `href="/users/u-ann"`, `id="f-actor"`},
			filter: &store.AuditFilter{Limit: 51}},
		{name: "every filter", as: adminViewer, query: "?actor=ada&action=user.&target=user:u-ann&outcome=denied&from=2026-12-01&to=2026-12-02T10:00:00Z",
			status: 200, want: []string{`value="ada"`, `value="user."`, `value="user:u-ann"`, `value="2026-12-01"`},
			filter: &store.AuditFilter{Actor: "ada", Action: "user.", Target: "user:u-ann", Outcome: "denied", From: from,
				To: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), Limit: 51}},
		{name: "the next page", as: adminViewer, query: "?before=7", status: 200, filter: &store.AuditFilter{BeforeID: 7, Limit: 51}},
		{name: "a user's filters go to the service alike", as: userViewer, query: "?actor=admin", status: 200,
			want: []string{"user.update"}, filter: &store.AuditFilter{Actor: "admin", Limit: 51}},
		{name: "a date that is not one is shown as typed", as: adminViewer, query: "?from=yesterday&action=token.", status: 400,
			want: []string{`role="alert">from must be an ISO 8601 date`, `value="yesterday"`, `value="token."`}},
		{name: "from after to", as: adminViewer, query: "?from=2026-12-02&to=2026-12-01", status: 400,
			want: []string{`role="alert">from must be before to`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			got := st.do(t, tt.as, http.MethodGet, "/audit"+tt.query, nil)
			if got.Status != tt.status {
				t.Fatalf("GET /audit%s = %d, want %d\n%s", tt.query, got.Status, tt.status, got.Body)
			}
			webtest.CheckBody(t, got.Body, tt.want, nil)
			switch {
			case tt.filter == nil && len(st.dir.filters) > 0:
				t.Errorf("ListAudit was asked %+v, want not asked", st.dir.filters)
			case tt.filter != nil:
				if diff := cmp.Diff([]store.AuditFilter{*tt.filter}, st.dir.filters); diff != "" {
					t.Errorf("filters given to ListAudit (-want +got):\n%s", diff)
				}
			}
			// Only an Administrator's rows are checked for their targets.
			if st.log.Has("AuditTargets") != (tt.as.User == adminViewer.User && tt.filter != nil) {
				t.Errorf("AuditTargets called: %t (calls %q)", st.log.Has("AuditTargets"), *st.log)
			}
		})
	}
}

// TestFakeUnknownAndForbiddenAlike: for a viewer without access, a
// forbidden id and an unknown one ("nope") answer the same status and,
// but for the id, the same page (docs/decisions/0023).
func TestFakeUnknownAndForbiddenAlike(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, id string // path has {id} where the id goes
		status                 int
	}{
		{"a data source's details", http.MethodGet, "/datasources/{id}", "ds1", 404},
		{"a data source's security page", http.MethodGet, "/datasources/{id}/security", "ds1", 404},
		{"saving a data source", http.MethodPost, "/datasources/{id}", "ds1", 403},
		{"saving security", http.MethodPost, "/datasources/{id}/security", "ds1", 403},
		{"a user", http.MethodGet, "/users/{id}", "u-ann", 403},
		{"a group", http.MethodGet, "/groups/{id}/edit", "g-staff", 403},
		{"renaming a group", http.MethodPost, "/groups/{id}/edit", "g-staff", 403},
		{"someone else's token", http.MethodGet, "/tokens/{id}/revoke", "tk-admin", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page := func(id string) (int, string) {
				var form url.Values
				if tt.method == http.MethodPost {
					form = url.Values{"name": {"Renamed"}, "users": {"u-bob"}}
				}
				got := newFakeStack(t).do(t, userViewer, tt.method, strings.ReplaceAll(tt.path, "{id}", id), form)
				return got.Status, requestIDRE.ReplaceAllString(got.Body, "REQUEST-ID")
			}
			ks, kb := page(tt.id)
			us, ub := page("nope")
			if ks != tt.status || us != tt.status {
				t.Fatalf("%s %s = %d for %s, %d for nope; want %d for both", tt.method, tt.path, ks, tt.id, us, tt.status)
			}
			if diff := cmp.Diff(strings.ReplaceAll(ub, "nope", tt.id), kb); diff != "" {
				t.Errorf("the known id's page differs from the unknown one's but for the id (-unknown +known):\n%s", diff)
			}
		})
	}
}
