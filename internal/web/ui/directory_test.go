package ui_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// directoryFixture is a directory with an Administrator, a plain user, an
// imported user and two groups, on the fixed clock.
type directoryFixture struct {
	e                     *env
	admin, plain, import_ *tenantlink.User
	staff, admins         *tenantlink.Group
}

func newDirectoryFixture(t *testing.T) *directoryFixture {
	t.Helper()
	return newDirectoryFixtureWith(t, envConfig{})
}

func newDirectoryFixtureWith(t *testing.T, cfg envConfig) *directoryFixture {
	t.Helper()
	ctx := context.Background()
	e := mustOpenEnv(t, cfg)
	f := &directoryFixture{e: e}
	f.admin = e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	f.plain = e.mustCreateUser(t, "plain@example.com", tenantlink.RoleUser)
	ds := e.mustCreateDataSource(t, f.admin, "Contoso tenant", false)
	f.import_ = &tenantlink.User{Email: "adele@contoso.example", DisplayName: "Adele Vance", GivenName: "Adele", Surname: "Vance",
		JobTitle: "Retail Manager", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser},
		Source:    &tenantlink.UserSource{DataSource: ds.ID, ObjectID: "87d349ed-44d7-43e1-9a83-5f2406dee5bd", Tenant: "0b7a6b2e-6a8c-4b8f-9d4c-3f1e2a9b7c10"},
		CreatedAt: testNow, UpdatedAt: testNow}
	if err := e.Store.CreateUser(ctx, f.import_); err != nil {
		t.Fatal(err)
	}
	var err error
	f.staff, err = e.Dir.CreateGroup(ctx, tenantlink.System, directory.GroupInput{Name: ptr("Staff"), Roles: &[]tenantlink.Role{tenantlink.RoleDesignProcess}, Members: &[]string{f.plain.ID, f.import_.ID}})
	if err != nil {
		t.Fatal(err)
	}
	f.admins, err = e.Dir.CreateGroup(ctx, tenantlink.System, directory.GroupInput{Name: ptr("Admins"), Roles: &[]tenantlink.Role{tenantlink.RoleAdministrator}, Members: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func TestDirectoryGoldenPages(t *testing.T) {
	f := newDirectoryFixture(t)
	b := f.e.mustSignIn(t, "admin@example.com")
	// Changes made through the pages, so that the audit log has entries
	// the pages wrote.
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/groups/" + f.staff.ID + "/members", url.Values{"user": {f.admin.ID}}},
		{"/groups/" + f.staff.ID + "/edit", url.Values{"name": {"Staff & friends"}, "roles": {"Design business process", "User"}}},
	} {
		if got := b.post(step.path, step.form, true); got.Status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d; body:\n%s", step.path, got.Status, got.Body)
		}
	}
	tests := []struct{ name, path string }{
		{"group_list", "/groups"},
		{"group_edit", "/groups/" + f.staff.ID + "/edit?q=example&notice=created"},
		{"group_delete", "/groups/" + f.staff.ID + "/delete"},
		{"user_list", "/users?sort=name"},
		{"user_list_search", "/users?q=contoso"},
		{"user_detail", "/users/" + f.import_.ID},
		{"audit", "/audit?action=group."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.get(tc.path)
			if got.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200; body:\n%s", tc.path, got.Status, got.Body)
			}
			checkGolden(t, tc.name, got.Body)
		})
	}
	t.Run("audit_user", func(t *testing.T) {
		p := f.e.mustSignIn(t, "plain@example.com")
		if got := p.post("/users/"+f.plain.ID, url.Values{"roles": {"User"}, "active": {"on"}}, true); got.Status != http.StatusForbidden {
			t.Fatalf("a user changing their own roles: %d, want 403", got.Status)
		}
		got := p.get("/audit?action=user.")
		if got.Status != http.StatusOK {
			t.Fatalf("GET /audit as a user: %d; body:\n%s", got.Status, got.Body)
		}
		checkGolden(t, "audit_user", got.Body)
	})
}

// TestGroupForms drives the group pages: each refused change answers with
// the reason and changes nothing, and each accepted one lands.
func TestGroupForms(t *testing.T) {
	ctx := context.Background()
	f := newDirectoryFixture(t)
	b := f.e.mustSignIn(t, "admin@example.com")
	snapshot := func(t *testing.T) []*tenantlink.Group {
		t.Helper()
		gs, err := f.e.Store.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return gs
	}
	auditLen := func(t *testing.T) int {
		t.Helper()
		es, err := f.e.Store.ListAudit(ctx, store.AuditFilter{Action: "group", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	long := strings.Repeat("n", 201)
	refused := []struct {
		name   string
		path   string
		form   url.Values
		status int
		msg    string
	}{
		{"create without a name", "/groups", url.Values{"name": {"  "}}, 400, "name must not be empty"},
		{"create with a long name", "/groups", url.Values{"name": {long}}, 400, "name is longer than 200 characters"},
		{"create a taken name", "/groups", url.Values{"name": {"STAFF"}}, 409, "STAFF"},
		{"create with an unknown role", "/groups", url.Values{"name": {"New"}, "roles": {"Root"}}, 400, `unknown role "Root"`},
		{"rename to empty", "/groups/" + f.staff.ID + "/edit", url.Values{"name": {""}}, 400, "name must not be empty"},
		{"rename to a taken name", "/groups/" + f.staff.ID + "/edit", url.Values{"name": {"admins"}}, 409, "admins"},
		{"unknown role", "/groups/" + f.staff.ID + "/edit", url.Values{"name": {"Staff"}, "roles": {"God"}}, 400, `unknown role "God"`},
		{"rename an unknown group", "/groups/nope/edit", url.Values{"name": {"X"}}, 404, ""},
		{"add an unknown user", "/groups/" + f.staff.ID + "/members", url.Values{"user": {"ghost"}}, 400, `"ghost" is not a directory user`},
		{"add nobody", "/groups/" + f.staff.ID + "/members", url.Values{}, 400, "choose at least one user"},
		{"remove nobody", "/groups/" + f.staff.ID + "/members/remove", url.Values{}, 400, "choose at least one user"},
		{"add to an unknown group", "/groups/nope/members", url.Values{"user": {f.admin.ID}}, 404, ""},
		{"delete an unknown group", "/groups/nope/delete", nil, 404, ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before, n := snapshot(t), auditLen(t)
			got := b.post(tc.path, tc.form, true)
			if got.Status != tc.status || !strings.Contains(got.Body, template.HTMLEscapeString(tc.msg)) {
				t.Fatalf("POST %s: got %d, want %d with %q; body:\n%s", tc.path, got.Status, tc.status, tc.msg, got.Body)
			}
			if tc.status == 400 && !strings.Contains(got.Body, `role="alert"`) {
				t.Errorf("the refusal is not announced with role=alert")
			}
			if diff := cmp.Diff(before, snapshot(t)); diff != "" {
				t.Errorf("groups changed by a refused request (-before +after):\n%s", diff)
			}
			if got := auditLen(t); got != n {
				t.Errorf("audit entries %d → %d after a refused request", n, got)
			}
		})
	}

	t.Run("the last Administrator", func(t *testing.T) {
		// admin@ is made an Administrator only through the Admins group.
		if got := b.post("/groups/"+f.admins.ID+"/members", url.Values{"user": {f.admin.ID}}, true); got.Status != http.StatusSeeOther {
			t.Fatalf("add admin to Admins: %d; body:\n%s", got.Status, got.Body)
		}
		u, err := f.e.Store.GetUser(ctx, f.admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		u.Roles = []tenantlink.Role{tenantlink.RoleUser}
		if err := f.e.Store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t)
		for _, tc := range []struct {
			name string
			path string
			form url.Values
		}{
			{"taking the role away", "/groups/" + f.admins.ID + "/edit", url.Values{"name": {"Admins"}, "roles": {"User"}}},
			{"removing the member", "/groups/" + f.admins.ID + "/members/remove", url.Values{"user": {f.admin.ID}}},
			{"deleting the group", "/groups/" + f.admins.ID + "/delete", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := b.post(tc.path, tc.form, true)
				if got.Status != http.StatusConflict || !strings.Contains(got.Body, "no active Administrator") {
					t.Errorf("POST %s: got %d, want 409 naming the rule; body:\n%s", tc.path, got.Status, got.Body)
				}
			})
		}
		if diff := cmp.Diff(before, snapshot(t)); diff != "" {
			t.Errorf("groups changed (-before +after):\n%s", diff)
		}
	})

	t.Run("create, rename, roles, members, delete", func(t *testing.T) {
		got := b.post("/groups", url.Values{"name": {"Helpdesk"}, "roles": {"Manage datasources"}}, true)
		if got.Status != http.StatusSeeOther || !strings.HasSuffix(got.Location, "/edit?notice=created") {
			t.Fatalf("create: %d %q; body:\n%s", got.Status, got.Location, got.Body)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(got.Location, "/groups/"), "/edit?notice=created")
		steps := []struct {
			path string
			form url.Values
			to   string
		}{
			{"/groups/" + id + "/edit", url.Values{"name": {"Service desk"}, "roles": {"Manage datasources", "Design business process"}}, "/groups/" + id + "/edit?notice=saved"},
			{"/groups/" + id + "/members", url.Values{"user": {f.plain.ID, f.import_.ID}, "q": {"e"}}, "/groups/" + id + "/edit?notice=added&q=e#members"},
			{"/groups/" + id + "/members/remove", url.Values{"user": {f.plain.ID}}, "/groups/" + id + "/edit?notice=removed#members"},
		}
		for _, s := range steps {
			if got := b.post(s.path, s.form, true); got.Status != http.StatusSeeOther || got.Location != s.to {
				t.Fatalf("POST %s: %d %q, want 303 %q; body:\n%s", s.path, got.Status, got.Location, s.to, got.Body)
			}
		}
		g, err := f.e.Store.GetGroup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := &tenantlink.Group{ID: id, Name: "Service desk", Roles: []tenantlink.Role{tenantlink.RoleDesignProcess, tenantlink.RoleManageDatasources}, Members: []string{f.import_.ID}}
		if diff := cmp.Diff(want, g, cmpIgnoreTimes); diff != "" {
			t.Errorf("group after the steps (-want +got):\n%s", diff)
		}
		page := b.get("/audit?target=group:" + id).Body
		for _, want := range []string{"group.create", "group.update", `renamed from &#34;Helpdesk&#34;`, "group.members.add", "adele@contoso.example (" + f.import_.ID + ")", "group.members.remove"} {
			if !strings.Contains(page, want) {
				t.Errorf("the group's audit log lacks %q", want)
			}
		}
		if got := b.post("/groups/"+id+"/delete", nil, true); got.Status != http.StatusSeeOther || got.Location != "/groups?notice=deleted" {
			t.Fatalf("delete: %d %q", got.Status, got.Location)
		}
		if _, err := f.e.Store.GetGroup(ctx, id); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
			t.Errorf("group after delete: %v, want not found", err)
		}
	})
}

var cmpIgnoreTimes = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return s == "CreatedAt" || s == "UpdatedAt"
}, cmp.Ignore())

func TestDirectoryPagesAccess(t *testing.T) {
	f := newDirectoryFixture(t)
	plain := f.e.mustSignIn(t, "plain@example.com")
	admin := f.e.mustSignIn(t, "admin@example.com")
	pages := []struct {
		method, path string
	}{
		{"GET", "/groups"},
		{"POST", "/groups"},
		{"GET", "/groups/" + f.staff.ID + "/edit"},
		{"POST", "/groups/" + f.staff.ID + "/edit"},
		{"POST", "/groups/" + f.staff.ID + "/members"},
		{"POST", "/groups/" + f.staff.ID + "/members/remove"},
		{"GET", "/groups/" + f.staff.ID + "/delete"},
		{"POST", "/groups/" + f.staff.ID + "/delete"},
		{"GET", "/users"},
		{"GET", "/users/" + f.import_.ID},
		// Not even their own page: the directory screens are the
		// Administrator's.
		{"GET", "/users/" + f.plain.ID},
	}
	form := url.Values{"name": {"Hijacked"}, "roles": {"Administrator"}, "user": {f.plain.ID}}
	for _, tc := range pages {
		t.Run("user "+tc.method+" "+tc.path, func(t *testing.T) {
			var got response
			if tc.method == "GET" {
				got = plain.get(tc.path)
			} else {
				got = plain.post(tc.path, form, true)
			}
			if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "Administrator role") {
				t.Errorf("%s %s as a plain user: %d, want 403 naming the role; body:\n%s", tc.method, tc.path, got.Status, got.Body)
			}
		})
		if tc.method == "POST" {
			t.Run("no CSRF "+tc.path, func(t *testing.T) {
				got := admin.post(tc.path, form, false)
				if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "CSRF") {
					t.Errorf("POST %s without the token: %d, want 403 naming the CSRF token", tc.path, got.Status)
				}
			})
		}
	}
	gs, err := f.e.Store.ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == "Hijacked" || slices.Contains(g.Roles, tenantlink.RoleAdministrator) && len(g.Members) > 0 {
			t.Errorf("group %q changed by refused requests: %+v", g.Name, g)
		}
	}

	t.Run("a user's audit log holds only their own entries", func(t *testing.T) {
		// Someone else's entries on the user: the Administrator's change.
		if got := admin.post("/users/"+f.plain.ID, url.Values{"roles": {"User"}, "active": {"on"}, "from": {"detail"}}, true); got.Status != http.StatusSeeOther {
			t.Fatalf("admin saves the user: %d", got.Status)
		}
		for _, path := range []string{"/audit", "/audit?target=user:" + f.plain.ID, "/audit?actor=admin", "/audit?action=group."} {
			body := plain.get(path).Body
			if strings.Contains(body, "admin@example.com</td>") || strings.Contains(body, "<td>system</td>") {
				t.Errorf("GET %s as a user shows others' entries:\n%s", path, body)
			}
			if strings.Contains(body, `id="f-actor"`) {
				t.Errorf("GET %s as a user offers the Who filter", path)
			}
		}
		if body := plain.get("/audit").Body; !strings.Contains(body, "plain@example.com</td>") {
			t.Errorf("the user's own sign-in is missing from their audit log:\n%s", body)
		}
		if body := admin.get("/audit?target=user:" + f.plain.ID).Body; !strings.Contains(body, "admin@example.com</td>") {
			t.Errorf("the Administrator does not see their change to the user")
		}
	})
}

func TestAuditPaging(t *testing.T) {
	ctx := context.Background()
	f := newDirectoryFixture(t)
	for i := range 120 {
		if err := directory.Audit(ctx, f.e.Store, testNow, tenantlink.System, "test.entry", fmt.Sprintf("test:%03d", i), "ok", ""); err != nil {
			t.Fatal(err)
		}
	}
	b := f.e.mustSignIn(t, "admin@example.com")
	targets := func(body string) []string {
		var out []string
		for _, part := range strings.Split(body, `<span class="id">test:`)[1:] {
			out = append(out, part[:3])
		}
		return out
	}
	link := func(body, rel string) string {
		i := strings.Index(body, `rel="`+rel+`"`)
		if i < 0 {
			return ""
		}
		j := strings.LastIndex(body[:i], `href="`)
		return strings.ReplaceAll(body[j+6:i-2], "&amp;", "&")
	}
	first := b.get("/audit?action=test.").Body
	got := targets(first)
	if len(got) != 50 || got[0] != "119" || got[49] != "070" || link(first, "prev") != "" {
		t.Fatalf("page 1: %d entries %v…, newer link %q; want 119…070 and no newer page", len(got), got[:min(3, len(got))], link(first, "prev"))
	}
	second := b.get(link(first, "next")).Body
	if got := targets(second); len(got) != 50 || got[0] != "069" || got[49] != "020" {
		t.Errorf("page 2: %v", got)
	}
	third := b.get(link(second, "next")).Body
	if got := targets(third); len(got) != 20 || got[0] != "019" || got[19] != "000" || link(third, "next") != "" {
		t.Errorf("page 3: %v, older link %q; want 019…000 and no older page", got, link(third, "next"))
	}
	back := b.get(link(third, "prev")).Body
	if got := targets(back); len(got) != 50 || got[0] != "069" || got[49] != "020" {
		t.Errorf("newer from page 3: %v, want page 2 again", got)
	}
	bad := b.get("/audit?from=last+week")
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, "from must be an ISO 8601 date") || !strings.Contains(bad.Body, `value="last week"`) {
		t.Errorf("bad date: %d; body:\n%s", bad.Status, bad.Body)
	}
}
