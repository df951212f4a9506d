package sso_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestSignIn runs single sign-on end to end, tenantlink and the simulator
// over loopback, through the simulator's real sign-in pages.
func TestSignIn(t *testing.T) {
	e := mustOpenEnv(t)
	domain := e.Facts.TenantDomain

	t.Run("existing user matched by verified userPrincipalName, then by object id", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "jane.doe@"+domain, "Jane.Doe@"+domain)
		var jane tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "jane.doe@" + domain, "displayName": "Jane"}, &jane)

		b := e.Anonymous(t)
		r := e.ssoSignIn(t, b, ms.UPN, ms.Password, "/datasources?x=1")
		if r.Status != http.StatusSeeOther || r.Location() != "/datasources?x=1" {
			t.Fatalf("callback = %s (Location %q), want 303 to /datasources?x=1", r, r.Location())
		}
		if got, want := whoAmI(t, b), jane.Email; got != want {
			t.Errorf("signed in as %q, want %q", got, want)
		}
		got := e.user(t, jane.ID).Source
		want := &tenantlink.UserSource{DataSource: e.DS.ID, ObjectID: ms.ID, Tenant: e.DS.Account}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("source after the first sign-in (-want +got):\n%s", diff)
		}
		if !hasAudit(e.Audit(t), "user.link", "ok", "matched by verified userPrincipalName") {
			t.Error("no user.link audit entry saying the user was matched by verified userPrincipalName")
		}

		// The email changes on tenantlink's side: the object id still finds her.
		e.admin.In(t).Must(200, "PATCH", "/api/v1/users/"+jane.ID, map[string]any{"email": "jane@elsewhere.test"}, nil)
		b2 := e.Anonymous(t)
		if r := e.ssoSignIn(t, b2, ms.UPN, ms.Password, ""); r.Status != http.StatusSeeOther || r.Location() != "/" {
			t.Fatalf("second callback = %s (Location %q), want 303 to /", r, r.Location())
		}
		if got, want := whoAmI(t, b2), "jane@elsewhere.test"; got != want {
			t.Errorf("second sign-in as %q, want %q (matched by object id)", got, want)
		}
	})

	t.Run("matched by userPrincipalName, case-insensitively", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "Max.Upn@"+domain, "max.mail@other.test")
		var max tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "max.upn@" + strings.ToUpper(domain)}, &max)
		b := e.Anonymous(t)
		if r := e.ssoSignIn(t, b, ms.UPN, ms.Password, ""); r.Status != http.StatusSeeOther {
			t.Fatalf("callback = %s, want 303", r)
		}
		if got := e.user(t, max.ID).Source; got == nil || got.ObjectID != ms.ID {
			t.Errorf("source = %+v, want object id %s", got, ms.ID)
		}
	})

	t.Run("createUsers off refuses unknown people", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": false})
		ms := e.addMSUser(t, "", "nobody@"+domain, "")
		b := e.Anonymous(t)
		r := e.ssoSignIn(t, b, ms.UPN, ms.Password, "")
		if r.Status != http.StatusForbidden || !strings.Contains(html.UnescapeString(string(r.Body)), sso.MsgNotUser) {
			t.Fatalf("callback = %s, want 403 saying %q", r, sso.MsgNotUser)
		}
		if got := whoAmI(t, b); got != "" {
			t.Errorf("signed in as %q after a refusal", got)
		}
		if got := e.usersByEmail(t, "nobody@"); len(got) != 0 {
			t.Errorf("users after a refusal = %+v, want none", got)
		}
		if !hasAudit(e.Audit(t), "session.create", "denied", sso.MsgNotUser) {
			t.Error("no denied session.create audit entry for the refusal")
		}
	})

	t.Run("createUsers on creates an active User", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		ms := e.addMSUser(t, "", "newcomer@"+domain, "")
		for i := range 2 { // the second sign-in finds the user created by the first
			b := e.Anonymous(t)
			if r := e.ssoSignIn(t, b, ms.UPN, ms.Password, ""); r.Status != http.StatusSeeOther {
				t.Fatalf("sign-in %d: callback = %s, want 303", i+1, r)
			}
			if got, want := whoAmI(t, b), "newcomer@"+domain; got != want {
				t.Errorf("sign-in %d as %q, want %q", i+1, got, want)
			}
		}
		users := e.usersByEmail(t, "newcomer@")
		if len(users) != 1 {
			t.Fatalf("users = %+v, want exactly one", users)
		}
		got := users[0]
		want := tenantlink.User{ID: got.ID, Email: "newcomer@" + domain, DisplayName: "newcomer", Active: true,
			Roles: []tenantlink.Role{tenantlink.RoleUser}, Groups: []string{},
			Source: &tenantlink.UserSource{DataSource: e.DS.ID, ObjectID: ms.ID, Tenant: e.DS.Account}, CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("created user (-want +got):\n%s", diff)
		}
		if !hasAudit(e.Audit(t), "user.create", "ok", "first single sign-on") {
			t.Error("no user.create audit entry for the creation")
		}
	})

	t.Run("inactive users are refused", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		ms := e.addMSUser(t, "", "gone@"+domain, "")
		var u tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "gone@" + domain, "active": false}, &u)
		r := e.ssoSignIn(t, e.Anonymous(t), ms.UPN, ms.Password, "")
		if r.Status != http.StatusForbidden || !strings.Contains(html.UnescapeString(string(r.Body)), sso.MsgInactive) {
			t.Fatalf("callback = %s, want 403 saying %q", r, sso.MsgInactive)
		}
		if got := e.user(t, u.ID).Source; got != nil {
			t.Errorf("an inactive user was linked: %+v", got)
		}
	})

	t.Run("a user of another tenant is refused although the token verifies", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		other, err := e.Sim.AddTenant("fabrikam.onmicrosoft.com", 3, 5)
		if err != nil {
			t.Fatal(err)
		}
		b := e.Anonymous(t)
		// The browser is steered to the other tenant's authorize endpoint
		// with tenantlink's own state, nonce and PKCE challenge: Microsoft
		// signs a valid id token for tenantlink, but in the wrong tenant.
		authURL := strings.Replace(e.startSSO(t, b, ""), "/"+e.DS.Account+"/", "/"+other.TenantID+"/", 1)
		loc := testenv.MicrosoftSignIn(t, authURL, other.AdminUser, other.AdminPassword)
		r := b.In(t).Do("GET", loc.RequestURI(), nil, "Accept", "application/json")
		msg := errorMessage(r)
		if r.Status != http.StatusForbidden || !strings.Contains(msg, other.TenantID) || !strings.Contains(msg, "accepts only accounts of tenant "+e.DS.Account) {
			t.Fatalf("callback = %s, want 403 naming both tenants", r)
		}
		if got := e.usersByEmail(t, "fabrikam"); len(got) != 0 {
			t.Errorf("a user of the other tenant was created: %+v", got)
		}
	})

	t.Run("state replay and another browser are refused", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		ms := e.addMSUser(t, "", "replay@"+domain, "")
		b := e.Anonymous(t)
		loc := testenv.MicrosoftSignIn(t, e.startSSO(t, b, ""), ms.UPN, ms.Password)
		// Someone else's browser given the answer (login CSRF) gets nothing,
		// and the answer is spent.
		thief := e.Anonymous(t)
		if r := thief.In(t).Do("GET", loc.RequestURI(), nil, "Accept", "application/json"); r.Status != http.StatusForbidden || !strings.Contains(errorMessage(r), "another browser") {
			t.Errorf("callback in another browser = %s, want 403 (another browser)", r)
		}
		if r := b.In(t).Do("GET", loc.RequestURI(), nil, "Accept", "application/json"); r.Status != http.StatusBadRequest || !strings.Contains(errorMessage(r), "already used") {
			t.Errorf("callback replayed = %s, want 400 (already used)", r)
		}

		b2 := e.Anonymous(t)
		loc2 := testenv.MicrosoftSignIn(t, e.startSSO(t, b2, ""), ms.UPN, ms.Password)
		if r := b2.In(t).Do("GET", loc2.RequestURI(), nil); r.Status != http.StatusSeeOther {
			t.Fatalf("callback = %s, want 303", r)
		}
		if r := b2.In(t).Do("GET", loc2.RequestURI(), nil, "Accept", "application/json"); r.Status != http.StatusBadRequest || !strings.Contains(errorMessage(r), "already used") {
			t.Errorf("the same answer again = %s, want 400 (already used)", r)
		}
		q := loc2.Query()
		q.Set("state", "forged")
		forged := *loc2
		forged.RawQuery = q.Encode()
		if r := b2.In(t).Do("GET", forged.RequestURI(), nil, "Accept", "application/json"); r.Status != http.StatusBadRequest {
			t.Errorf("forged state = %s, want 400", r)
		}
		for _, who := range []*client{thief, b} {
			if got := whoAmI(t, who); got != "" {
				t.Errorf("a refused browser is signed in as %q", got)
			}
		}
	})

	t.Run("next stays on this site", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		ms := e.addMSUser(t, "", "next@"+domain, "")
		for _, tt := range []struct{ next, want string }{
			{"/users?a=b", "/users?a=b"},
			{"//evil.example/x", "/"},
			{"https://evil.example/", "/"},
			{`/\evil.example`, "/"},
		} {
			r := e.ssoSignIn(t, e.Anonymous(t), ms.UPN, ms.Password, tt.next)
			if r.Status != http.StatusSeeOther || r.Location() != tt.want {
				t.Errorf("next=%q: callback = %d to %q, want 303 to %q", tt.next, r.Status, r.Location(), tt.want)
			}
		}
	})

	t.Run("disabled", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": false})
		r := e.Anonymous(t).Do("GET", "/auth/sso/login", nil)
		if r.Status != http.StatusNotFound || !strings.Contains(html.UnescapeString(string(r.Body)), sso.MsgNotEnabled) {
			t.Errorf("GET /auth/sso/login with SSO off = %s, want 404 saying %q", r, sso.MsgNotEnabled)
		}
		page := e.Anonymous(t).Do("GET", "/login", nil)
		if page.Status != 200 || strings.Contains(string(page.Body), "Sign in with Microsoft") {
			t.Errorf("sign-in page with SSO off = %d, want 200 without the Microsoft button", page.Status)
		}
	})
}

// TestAutoRedirect checks auto redirect and the bypass group's local
// sign-in.
func TestAutoRedirect(t *testing.T) {
	e := mustOpenEnv(t)
	var staff, bypass, member tenantlink.User
	e.admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "staff@tenantlink.test", "password": password}, &staff)
	e.admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "bypass@tenantlink.test", "password": password}, &bypass)
	e.admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "member@tenantlink.test", "password": password}, &member)
	var g struct{ ID string }
	e.admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "SSO bypass", "members": []string{bypass.ID, e.Admin.UserID}}, &g)

	t.Run("button without auto redirect", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		r := e.Anonymous(t).Do("GET", "/login?next=%2Fusers", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `href="/auth/sso/login?next=%2fusers">Sign in with Microsoft</a>`) {
			t.Errorf("GET /login = %d, want 200 with the Sign in with Microsoft button keeping next:\n%s", r.Status, r.Body)
		}
		e.SignIn(t, staff.Email, password) // local sign-in still open to all
	})

	e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "autoRedirect": true, "bypassGroup": g.ID})
	for _, tt := range []struct {
		name, path, want string
	}{
		{"page", "/datasources", "/login?next=%2Fdatasources"},
		{"login", "/login?next=%2Fdatasources", "/auth/sso/login?next=%2Fdatasources"},
		{"login without next", "/login", "/auth/sso/login"},
	} {
		t.Run("anonymous "+tt.name, func(t *testing.T) {
			r := e.Anonymous(t).Do("GET", tt.path, nil)
			if r.Status != http.StatusSeeOther || r.Location() != tt.want {
				t.Errorf("GET %s = %d to %q, want 303 to %q", tt.path, r.Status, r.Location(), tt.want)
			}
		})
	}
	t.Run("local=1 shows the form", func(t *testing.T) {
		r := e.Anonymous(t).Do("GET", "/login?local=1", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `name="password"`) || !strings.Contains(string(r.Body), `name="local" value="1"`) {
			t.Errorf("GET /login?local=1 = %d, want 200 with the local form:\n%s", r.Status, r.Body)
		}
	})
	for _, tt := range []struct {
		email  string
		status int
	}{
		{staff.Email, http.StatusForbidden},
		{member.Email, http.StatusForbidden},
		{bypass.Email, http.StatusOK},
	} {
		t.Run("API session "+tt.email, func(t *testing.T) {
			r := e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": tt.email, "password": password})
			if r.Status != tt.status {
				t.Fatalf("POST /api/v1/session = %s, want %d", r, tt.status)
			}
			if tt.status == http.StatusForbidden && errorMessage(r) != sso.MsgUseSSO {
				t.Errorf("refusal %q, want %q", errorMessage(r), sso.MsgUseSSO)
			}
		})
	}
	t.Run("form", func(t *testing.T) {
		b := e.Anonymous(t)
		r := b.Do("POST", "/login", url.Values{"email": {staff.Email}, "password": {password}, "local": {"1"}, "csrf": {b.LoginCSRF()}})
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), sso.MsgUseSSO) {
			t.Errorf("POST /login as a non-member = %d, want 403 saying %q:\n%s", r.Status, sso.MsgUseSSO, r.Body)
		}
		if got := whoAmI(t, b); got != "" {
			t.Errorf("refused form signed in %q", got)
		}
		r = b.Do("POST", "/login", url.Values{"email": {bypass.Email}, "password": {password}, "next": {"/users"}, "csrf": {b.LoginCSRF()}})
		if r.Status != http.StatusSeeOther || r.Location() != "/users" {
			t.Errorf("POST /login as a bypass member = %d to %q, want 303 to /users", r.Status, r.Location())
		}
		if got := whoAmI(t, b); got != bypass.Email {
			t.Errorf("signed in as %q, want %q", got, bypass.Email)
		}
	})
	t.Run("wrong password says nothing about the bypass rule", func(t *testing.T) {
		r := e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": staff.Email, "password": "not the password"})
		if r.Status != http.StatusUnauthorized {
			t.Errorf("wrong password = %s, want 401", r)
		}
	})
	t.Run("audited", func(t *testing.T) {
		if !hasAudit(e.Audit(t), "session.create", "denied", "local sign-in: "+sso.MsgUseSSO) {
			t.Error("no denied session.create audit entry for the refused local sign-in")
		}
	})
}

// TestSettings checks who may read and change the settings and that bad
// input is refused with 400 and stores nothing.
func TestSettings(t *testing.T) {
	e := mustOpenEnv(t)
	session := e.SignIn(t, adminEmail, password)
	noSSO := e.AuthorizedDataSource(session, "No SSO", map[string]any{"singleSignOn": false})
	var pending dataSource
	e.admin.Must(201, "POST", "/api/v1/datasources", map[string]any{"name": "Pending", "type": "office365", "settings": map[string]any{"singleSignOn": true}}, &pending)
	var g struct{ ID string }
	e.admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Bypass", "members": []string{e.Admin.UserID}}, &g)
	var u struct{ ID string }
	e.admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "plain@tenantlink.test", "password": password}, &u)
	plain := e.SignIn(t, "plain@tenantlink.test", password)

	good := map[string]any{"enabled": true, "datasource": e.DS.ID, "autoRedirect": true, "bypassGroup": g.ID, "createUsers": true}
	e.settings(t, good)
	var want sso.Settings
	e.admin.Must(200, "GET", "/api/v1/settings/sso", nil, &want)
	if want != (sso.Settings{Enabled: true, DataSource: e.DS.ID, AutoRedirect: true, BypassGroup: g.ID, CreateUsers: true}) {
		t.Fatalf("settings read back %+v, want what was put", want)
	}

	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name string
		body any
		msg  string
	}{
		{"enabled without data source", with("datasource", nil), "datasource is required"},
		{"unknown data source", with("datasource", "no-such-id"), `datasource "no-such-id" does not exist`},
		{"data source with SSO off", with("datasource", noSSO.ID), "Single-Sign-On"},
		{"data source not authorized", with("datasource", pending.ID), "not authorized yet"},
		{"auto redirect while disabled", with("enabled", false), "autoRedirect needs single sign-on enabled"},
		{"auto redirect without bypass group", with("bypassGroup", nil), "autoRedirect needs a bypassGroup"},
		{"unknown bypass group", with("bypassGroup", "nope"), `bypassGroup "nope" is not a directory group`},
		{"unknown field", with("autoredirect", true), `unknown field "autoredirect"`},
		{"wrong type", with("enabled", "yes"), `"enabled" must be true or false`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.Audit(t))
			r := e.admin.In(t).Do("PUT", "/api/v1/settings/sso", tt.body)
			if r.Status != http.StatusBadRequest || !strings.Contains(errorMessage(r), tt.msg) {
				t.Errorf("PUT = %s, want 400 containing %q", r, tt.msg)
			}
			var got sso.Settings
			e.admin.In(t).Must(200, "GET", "/api/v1/settings/sso", nil, &got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("a refused PUT changed the settings (-want +got):\n%s", diff)
			}
			if after := len(e.Audit(t)); after != before {
				t.Errorf("audit entries %d → %d after a refused PUT, want none added", before, after)
			}
		})
	}

	t.Run("Administrator only", func(t *testing.T) {
		for _, m := range []string{"GET", "PUT"} {
			r := plain.In(t).Do(m, "/api/v1/settings/sso", good)
			if r.Status != http.StatusForbidden || !strings.Contains(errorMessage(r), "Administrator role") {
				t.Errorf("%s as a User = %s, want 403 naming the Administrator role", m, r)
			}
		}
		if r := plain.In(t).Do("GET", "/settings/sso", nil); r.Status != http.StatusForbidden {
			t.Errorf("settings page as a User = %d, want 403", r.Status)
		}
	})

	t.Run("page", func(t *testing.T) {
		r := session.In(t).Do("GET", "/settings/sso", nil)
		body := string(r.Body)
		for _, s := range []string{`<a href="/settings/sso" aria-current="page">Single sign-on</a>`, `value="` + e.DS.ID + `" selected>Contoso</option>`,
			`>No SSO (single sign-on off)</option>`, `>Pending (not authorized)</option>`, `value="` + g.ID + `" selected>Bypass</option>`,
			`id="createUsers" name="createUsers" type="checkbox" checked`} {
			if !strings.Contains(body, s) {
				t.Errorf("settings page lacks %q:\n%s", s, body)
			}
		}
		csrf := session.CSRF
		form := url.Values{"csrf": {csrf}, "enabled": {"on"}, "datasource": {noSSO.ID}}
		r = session.In(t).Do("POST", "/settings/sso", form)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Single-Sign-On") {
			t.Errorf("bad form = %d, want 400 with the reason:\n%s", r.Status, r.Body)
		}
		form = url.Values{"csrf": {csrf}, "enabled": {"on"}, "datasource": {e.DS.ID}}
		r = session.In(t).Do("POST", "/settings/sso", form)
		if r.Status != http.StatusSeeOther || r.Location() != "/settings/sso?saved=1" {
			t.Errorf("good form = %d to %q, want 303 to /settings/sso?saved=1", r.Status, r.Location())
		}
		var got sso.Settings
		e.admin.In(t).Must(200, "GET", "/api/v1/settings/sso", nil, &got)
		if diff := cmp.Diff(sso.Settings{Enabled: true, DataSource: e.DS.ID}, got); diff != "" {
			t.Errorf("settings after the form (-want +got):\n%s", diff)
		}
	})
}
