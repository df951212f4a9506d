package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
)

// TestNewPagesAccess holds issue 9's access rules on every new page
// (/groups, /groups/{id}/edit, /groups/{id}/delete, /audit, /tokens,
// /users, /users/{id}) for three viewers: a plain user, a user with some
// roles but not Administrator, and an Administrator. The directory pages
// are the Administrator's (403 for anyone else, even on their own user
// page); the audit log shows a non-Administrator their own actions only
// and the tokens page their own tokens only (decision 0016); and no page
// shows a non-Administrator a link or button they may not use.
func TestNewPagesAccess(t *testing.T) {
	ctx := context.Background()
	f := newDirectoryFixture(t)
	roles := f.e.mustCreateUser(t, "roles@example.com", tenantlink.RoleManageDatasources, tenantlink.RoleDesignProcess)

	// Each viewer signs in (a session.create entry of their own) and
	// creates a token on the page (a token.create entry of their own).
	type viewer struct {
		email string
		user  *tenantlink.User
		b     *browser
	}
	viewers := map[string]*viewer{"admin": {email: "admin@example.com", user: f.admin}, "plain": {email: "plain@example.com", user: f.plain}, "roles": {email: "roles@example.com", user: roles}}
	for name, v := range viewers {
		v.b = f.e.mustSignIn(t, v.email)
		if got := v.b.post("/tokens", url.Values{"name": {name + " token"}, "expiresInDays": {"30"}}, true); got.Status != http.StatusCreated {
			t.Fatalf("%s creates a token: %d; body:\n%s", name, got.Status, got.Body)
		}
	}
	// An Administrator's change about the plain user is the
	// Administrator's action, not the plain user's to read.
	if got := viewers["admin"].b.post("/users/"+f.plain.ID, url.Values{"roles": {"User"}, "active": {"on"}, "from": {"detail"}}, true); got.Status != http.StatusSeeOther {
		t.Fatalf("the Administrator saves the plain user: %d; body:\n%s", got.Status, got.Body)
	}
	adminTokens, err := f.e.Dir.ListTokens(ctx, f.e.mustPrincipal(t, f.admin))
	if err != nil || len(adminTokens) != 3 {
		t.Fatalf("every token, as the Administrator: %d (%v), want 3", len(adminTokens), err)
	}
	tokenOf := map[string]string{} // token name -> id
	for _, tk := range adminTokens {
		tokenOf[tk.Name] = tk.ID
	}

	// adminOnly is what no page may show a non-Administrator: the
	// directory screens' links, the other admin pages' menu entries, the
	// audit log's Who filter and target links, the tokens' Owner column.
	adminOnly := []string{`href="/users`, `href="/groups`, `href="/settings/sso"`, `href="/tasks"`,
		`id="f-actor"`, `class="target-name"`, `<th scope="col">Owner</th>`}
	refused := []string{"Administrator role"}
	everyone := []string{"admin@example.com</td>", "plain@example.com</td>", "roles@example.com</td>"}
	others := func(me string) []string {
		var out []string
		for _, s := range everyone {
			if !strings.HasPrefix(s, me+"@") {
				out = append(out, s)
			}
		}
		return append(out, "<td>system</td>")
	}
	otherTokens := func(me string) []string {
		var out []string
		for name := range viewers {
			if name != me {
				out = append(out, name+" token", "Revoke "+name+" token")
			}
		}
		return out
	}
	directory := []string{
		"/groups",
		"/groups/" + f.staff.ID + "/edit",
		"/groups/" + f.staff.ID + "/delete",
		"/users",
		"/users/" + f.import_.ID,
	}

	type check struct {
		path    string
		status  int
		want    []string
		notWant []string
	}
	tests := map[string][]check{
		"admin": {
			{"/groups", 200, []string{"Staff", "Admins", "Create group"}, nil},
			{"/groups/" + f.staff.ID + "/edit", 200, []string{"Staff", `action="/groups/` + f.staff.ID + `/members/remove"`, `href="/groups/` + f.staff.ID + `/delete"`}, nil},
			{"/groups/" + f.staff.ID + "/delete", 200, []string{`action="/groups/` + f.staff.ID + `/delete"`}, nil},
			{"/users", 200, []string{"plain@example.com", "roles@example.com", "adele@contoso.example"}, nil},
			{"/users/" + f.plain.ID, 200, []string{"plain@example.com"}, nil},
			{"/audit", 200, append([]string{`id="f-actor"`, `href="/users/` + f.plain.ID + `"`}, everyone...), nil},
			{"/audit?target=user:" + f.plain.ID, 200, []string{"admin@example.com</td>", "user.update"}, nil},
			{"/tokens", 200, []string{`<th scope="col">Owner</th>`, "Revoke admin token of admin@example.com", "Revoke plain token of plain@example.com", "Revoke roles token of roles@example.com"}, nil},
		},
	}
	for _, name := range []string{"plain", "roles"} {
		var cs []check
		for _, p := range append(directory, "/users/"+viewers[name].user.ID) {
			cs = append(cs, check{p, 403, refused, adminOnly})
		}
		me := viewers[name].email
		cs = append(cs,
			check{"/audit", 200, []string{me + "</td>", "session.create", "token.create"}, append(others(name), adminOnly...)},
			// Filters cannot widen the view.
			check{"/audit?actor=admin", 200, nil, append(others(name), adminOnly...)},
			check{"/audit?target=user:" + f.plain.ID, 200, nil, append(others(name), adminOnly...)},
			check{"/tokens", 200, []string{name + " token", "Revoke " + name + " token"}, append(otherTokens(name), adminOnly...)},
		)
		tests[name] = cs
	}

	for _, name := range []string{"admin", "plain", "roles"} {
		b := viewers[name].b
		for _, c := range tests[name] {
			t.Run(name+" GET "+c.path, func(t *testing.T) {
				got := b.get(c.path)
				if got.Status != c.status {
					t.Fatalf("status %d, want %d; body:\n%s", got.Status, c.status, got.Body)
				}
				for _, w := range c.want {
					if !strings.Contains(got.Body, w) {
						t.Errorf("page lacks %q", w)
					}
				}
				for _, nw := range c.notWant {
					if strings.Contains(got.Body, nw) {
						t.Errorf("page shows %q", nw)
					}
				}
				if t.Failed() {
					t.Logf("body:\n%s", got.Body)
				}
			})
		}
	}

	// What a non-Administrator may not do, they cannot do by posting
	// either: nothing changes.
	for _, name := range []string{"plain", "roles"} {
		b := viewers[name].b
		for _, c := range []struct {
			path   string
			form   url.Values
			status int
		}{
			{"/groups", url.Values{"name": {"Hijacked"}, "roles": {"Administrator"}}, 403},
			{"/groups/" + f.staff.ID + "/edit", url.Values{"name": {"Hijacked"}, "roles": {"Administrator"}}, 403},
			{"/groups/" + f.admins.ID + "/members", url.Values{"user": {viewers[name].user.ID}}, 403},
			{"/groups/" + f.staff.ID + "/delete", nil, 403},
			{"/users/" + viewers[name].user.ID, url.Values{"roles": {"Administrator"}, "active": {"on"}}, 403},
			// Someone else's token: the same answer as an unknown one.
			{"/tokens/" + tokenOf["admin token"] + "/revoke", nil, 404},
		} {
			t.Run(name+" POST "+c.path, func(t *testing.T) {
				if got := b.post(c.path, c.form, true); got.Status != c.status {
					t.Errorf("status %d, want %d; body:\n%s", got.Status, c.status, got.Body)
				}
			})
		}
	}
	if after, err := f.e.Dir.ListTokens(ctx, f.e.mustPrincipal(t, f.admin)); err != nil || len(after) != 3 {
		t.Errorf("tokens after the refused revokes: %d (%v), want 3", len(after), err)
	}
	gs, err := f.e.Store.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == "Hijacked" || g.ID == f.admins.ID && len(g.Members) > 0 {
			t.Errorf("group %q changed by refused requests: %+v", g.Name, g)
		}
	}
	for _, u := range []*tenantlink.User{f.plain, roles} {
		got, err := f.e.Store.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got.Roles {
			if r == tenantlink.RoleAdministrator {
				t.Errorf("%s became an Administrator through a refused request", u.Email)
			}
		}
	}

	// The plain user's own pages, whole.
	t.Run("golden", func(t *testing.T) {
		p := viewers["plain"].b
		for _, g := range []struct{ name, path string }{
			{"tokens_user", "/tokens"},
			{"audit_user_own", "/audit"},
		} {
			got := p.get(g.path)
			if got.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", g.path, got.Status)
			}
			checkGolden(t, g.name, tokenDateRE.ReplaceAllString(tokenPrefixRE.ReplaceAllString(got.Body, "<code>tl_XXXX…</code>"), "DATE"))
		}
	})
}
