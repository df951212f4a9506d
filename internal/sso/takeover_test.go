package sso_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/sso"
)

// linkCSRF is the confirmation form's own CSRF token.
var linkCSRF = regexp.MustCompile(`name="confirm" value="([^"]+)"`)

// confirmPage follows a callback answer to the link confirmation page and
// returns the form's token, failing unless r asked for a confirmation.
func (e *env) confirmPage(tb testing.TB, b *client, r response, email string) string {
	tb.Helper()
	if r.Status != http.StatusSeeOther || r.Location() != "/auth/sso/link" {
		tb.Fatalf("callback = %s (Location %q), want 303 to the link confirmation page", r, r.Location())
	}
	page := b.In(tb).Do("GET", "/auth/sso/link", nil)
	body := html.UnescapeString(string(page.Body))
	if page.Status != http.StatusOK || !strings.Contains(body, sso.MsgConfirmLink) || !strings.Contains(body, email) {
		tb.Fatalf("GET /auth/sso/link = %s, want 200 saying %q for %s", page, sso.MsgConfirmLink, email)
	}
	m := linkCSRF.FindStringSubmatch(string(page.Body))
	if m == nil {
		tb.Fatalf("confirmation page has no confirm token:\n%s", page.Body)
	}
	return m[1]
}

// confirm posts the confirmation form.
func confirm(tb testing.TB, b *client, token, pw string) response {
	tb.Helper()
	return b.In(tb).Do("POST", "/auth/sso/link", url.Values{"confirm": {token}, "password": {pw}})
}

// TestTakeover checks that nobody becomes a tenantlink user they are not
// (the "nOAuth" pattern): the email claim never decides who signs in, an
// existing local user is linked only when the tenant vouches for the
// userPrincipalName or the person proves the local password, and a link
// is kept by tenant id and object id alone.
func TestTakeover(t *testing.T) {
	e := mustOpenEnv(t)
	domain := e.Facts.TenantDomain
	var admin tenantlink.User
	for _, u := range e.usersByEmail(t, adminEmail) {
		admin = u
	}
	if admin.ID == "" {
		t.Fatalf("no user %s", adminEmail)
	}
	adminUnlinked := func(t *testing.T) {
		t.Helper()
		if got := e.user(t, admin.ID).Source; got != nil {
			t.Errorf("the Administrator was linked to a Microsoft account: %+v", got)
		}
	}

	t.Run("userPrincipalName equal to the Administrator's email needs the password", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		// The simulator, unlike Entra ID, accepts a UPN in a domain the
		// tenant has not verified. (Run first: a mail set to the same
		// address below would take the name in the simulator.)
		ms := e.addMSUser(t, "", adminEmail, "")
		b := e.Anonymous(t)
		r := e.ssoSignIn(t, b, ms.UPN, ms.Password, "")
		e.confirmPage(t, b, r, adminEmail)
		if got := whoAmI(t, b); got != "" {
			t.Errorf("signed in as %q before confirming", got)
		}
		adminUnlinked(t)
	})

	for _, create := range []bool{false, true} {
		name := "mail set to the Administrator's email, createUsers off"
		if create {
			name = "mail set to the Administrator's email, createUsers on"
		}
		t.Run(name, func(t *testing.T) {
			e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": create})
			upn := "mallory" + map[bool]string{false: "1", true: "2"}[create] + "@" + domain
			ms := e.addMSUser(t, "", upn, adminEmail)
			b := e.Anonymous(t)
			r := e.ssoSignIn(t, b, ms.UPN, ms.Password, "")
			if got := whoAmI(t, b); got == adminEmail {
				t.Fatalf("a tenant account whose mail is %s signed in as the Administrator", adminEmail)
			}
			adminUnlinked(t)
			if !create {
				if r.Status != http.StatusForbidden || !strings.Contains(html.UnescapeString(string(r.Body)), sso.MsgNotUser) {
					t.Errorf("callback = %s, want 403 saying %q", r, sso.MsgNotUser)
				}
				return
			}
			if got := whoAmI(t, b); got != upn {
				t.Errorf("signed in as %q, want a new user %q (the verified userPrincipalName)", got, upn)
			}
		})
	}

	t.Run("verified userPrincipalName links a plain user; later only tenant and object id count", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "plain.link@"+domain, "")
		var u tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "plain.link@" + domain, "password": password}, &u)
		b := e.Anonymous(t)
		if r := e.ssoSignIn(t, b, ms.UPN, ms.Password, ""); r.Status != http.StatusSeeOther || r.Location() != "/" {
			t.Fatalf("callback = %s (Location %q), want 303 to /", r, r.Location())
		}
		if got := whoAmI(t, b); got != u.Email {
			t.Errorf("signed in as %q, want %q", got, u.Email)
		}
		want := &tenantlink.UserSource{DataSource: e.DS.ID, ObjectID: ms.ID, Tenant: e.DS.Account}
		if diff := cmp.Diff(want, e.user(t, u.ID).Source); diff != "" {
			t.Errorf("source after linking (-want +got):\n%s", diff)
		}
		if !hasAudit(e.Audit(t), "user.link", "ok", "matched by verified userPrincipalName") {
			t.Error("no user.link audit entry saying the verified userPrincipalName matched")
		}

		// The account's UPN changes and its mail becomes the
		// Administrator's: it still signs in as the linked user only.
		e.SimControl(t, "PATCH", "/_sim/users/"+ms.ID, map[string]any{"userPrincipalName": "renamed@" + domain, "mail": adminEmail})
		b2 := e.Anonymous(t)
		if r := e.ssoSignIn(t, b2, "renamed@"+domain, ms.Password, ""); r.Status != http.StatusSeeOther {
			t.Fatalf("callback after the rename = %s, want 303", r)
		}
		if got := whoAmI(t, b2); got != u.Email {
			t.Errorf("after the rename signed in as %q, want %q", got, u.Email)
		}
		adminUnlinked(t)
	})

	t.Run("userPrincipalName in an unverified domain does not link by itself", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "carol@unverified.example", "")
		var u, nopw tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "carol@unverified.example", "password": password}, &u)
		b := e.Anonymous(t)
		token := e.confirmPage(t, b, e.ssoSignIn(t, b, ms.UPN, ms.Password, ""), u.Email)
		if got := e.user(t, u.ID).Source; got != nil {
			t.Errorf("linked before confirming: %+v", got)
		}
		if r := confirm(t, b, token, password); r.Status != http.StatusSeeOther {
			t.Fatalf("confirm = %s, want 303", r)
		}
		if got := whoAmI(t, b); got != u.Email {
			t.Errorf("after confirming signed in as %q, want %q", got, u.Email)
		}

		// Without a local password there is nothing to confirm with.
		ms2 := e.addMSUser(t, "", "dave@unverified.example", "")
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "dave@unverified.example"}, &nopw)
		b2 := e.Anonymous(t)
		r := e.ssoSignIn(t, b2, ms2.UPN, ms2.Password, "")
		if r.Status != http.StatusForbidden || whoAmI(t, b2) != "" {
			t.Errorf("callback = %s, want 403 and no session", r)
		}
		if got := e.user(t, nopw.ID).Source; got != nil {
			t.Errorf("a user was linked through an unverified domain: %+v", got)
		}
	})

	t.Run("an Administrator links only after password confirmation", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "boss@"+domain, "")
		var boss tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "boss@" + domain, "password": password,
			"roles": []string{"Administrator"}}, &boss)
		b := e.Anonymous(t)
		token := e.confirmPage(t, b, e.ssoSignIn(t, b, ms.UPN, ms.Password, "/users"), boss.Email)

		r := confirm(t, b, token, "not the password")
		if r.Status != http.StatusUnauthorized || whoAmI(t, b) != "" {
			t.Fatalf("wrong password = %s, want 401 and no session", r)
		}
		if got := e.user(t, boss.ID).Source; got != nil {
			t.Fatalf("linked after a wrong password: %+v", got)
		}
		if !hasAudit(e.Audit(t), "user.link", "denied", "wrong password") {
			t.Error("no denied user.link audit entry for the wrong password")
		}
		// The spent token is refused: every answer carries a new one.
		if r := confirm(t, b, token, password); r.Status == http.StatusSeeOther {
			t.Fatalf("a used confirmation token worked again: %s", r)
		}
		b = e.Anonymous(t)
		token = e.confirmPage(t, b, e.ssoSignIn(t, b, ms.UPN, ms.Password, "/users"), boss.Email)
		r = confirm(t, b, token, password)
		if r.Status != http.StatusSeeOther || r.Location() != "/users" {
			t.Fatalf("right password = %s (Location %q), want 303 to /users", r, r.Location())
		}
		if got := whoAmI(t, b); got != boss.Email {
			t.Errorf("signed in as %q, want %q", got, boss.Email)
		}
		want := &tenantlink.UserSource{DataSource: e.DS.ID, ObjectID: ms.ID, Tenant: e.DS.Account}
		if diff := cmp.Diff(want, e.user(t, boss.ID).Source); diff != "" {
			t.Errorf("source after confirming (-want +got):\n%s", diff)
		}
		if !hasAudit(e.Audit(t), "user.link", "ok", "confirmed with its tenantlink password") {
			t.Error("no user.link audit entry for the confirmed link")
		}
		// Linked now: the next sign-in needs no password.
		b2 := e.Anonymous(t)
		if r := e.ssoSignIn(t, b2, ms.UPN, ms.Password, ""); r.Status != http.StatusSeeOther || r.Location() != "/" {
			t.Errorf("sign-in after linking = %s (Location %q), want 303 to /", r, r.Location())
		}
	})

	t.Run("wrong passwords are counted by the sign-in limiter", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "guessed@"+domain, "")
		var u tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "guessed@" + domain, "password": password,
			"roles": []string{"Manage datasources"}}, &u)
		b := e.Anonymous(t)
		token := e.confirmPage(t, b, e.ssoSignIn(t, b, ms.UPN, ms.Password, ""), u.Email)
		locked := false
		for range 20 {
			r := confirm(t, b, token, "guess")
			if r.Status == http.StatusTooManyRequests {
				locked = true
				break
			}
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("wrong password = %s, want 401 or 429", r)
			}
			if m := linkCSRF.FindStringSubmatch(string(r.Body)); m != nil {
				token = m[1]
				continue
			}
			// The pending link ran out of attempts: start over.
			b = e.Anonymous(t)
			token = e.confirmPage(t, b, e.ssoSignIn(t, b, ms.UPN, ms.Password, ""), u.Email)
		}
		if !locked {
			t.Fatal("20 wrong passwords were never refused with 429")
		}
		// The local sign-in shares the count.
		if r := e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": u.Email, "password": password}); r.Status != http.StatusTooManyRequests {
			t.Errorf("local sign-in after the guesses = %s, want 429", r)
		}
		if got := e.user(t, u.ID).Source; got != nil {
			t.Errorf("linked after wrong passwords: %+v", got)
		}
	})

	t.Run("a privileged user without a password cannot be linked", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "createUsers": true})
		var g struct{ ID string }
		e.admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Data people", "roles": []string{"Manage datasources"}}, &g)
		ms := e.addMSUser(t, "", "nopass@"+domain, "")
		var u tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "nopass@" + domain}, &u)
		e.admin.In(t).Must(200, "PATCH", "/api/v1/groups/"+g.ID, map[string]any{"members": []string{u.ID}}, nil)
		b := e.Anonymous(t)
		r := e.ssoSignIn(t, b, ms.UPN, ms.Password, "")
		if r.Status != http.StatusForbidden || !strings.Contains(html.UnescapeString(string(r.Body)), "has no tenantlink password") {
			t.Errorf("callback = %s, want 403 saying the account has no tenantlink password", r)
		}
		if got := whoAmI(t, b); got != "" {
			t.Errorf("signed in as %q", got)
		}
		if got := e.user(t, u.ID).Source; got != nil {
			t.Errorf("linked: %+v", got)
		}
		if got := e.usersByEmail(t, "nopass@"); len(got) != 1 {
			t.Errorf("users = %+v, want only the existing one (no new user with its email)", got)
		}
	})

	t.Run("a user imported by object id without a tenant signs in", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "imported@"+domain, "")
		u := &tenantlink.User{Email: "imported-elsewhere@tenantlink.test", DisplayName: "Imported", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser},
			Source: &tenantlink.UserSource{DataSource: e.DS.ID, ObjectID: ms.ID}}
		if err := e.App.Store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		b := e.Anonymous(t)
		if r := e.ssoSignIn(t, b, ms.UPN, ms.Password, ""); r.Status != http.StatusSeeOther {
			t.Fatalf("callback = %s, want 303", r)
		}
		if got := whoAmI(t, b); got != u.Email {
			t.Errorf("signed in as %q, want %q", got, u.Email)
		}
	})

	t.Run("the confirmation page without a pending link", func(t *testing.T) {
		b := e.Anonymous(t)
		for _, r := range []response{b.In(t).Do("GET", "/auth/sso/link", nil), confirm(t, b, "forged", password)} {
			if r.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(string(r.Body)), "unknown, expired or already used") {
				t.Errorf("answer = %d, want 400 saying the confirmation is unknown:\n%s", r.Status, r.Body)
			}
		}
	})

	t.Run("the same object id in another tenant is someone else", func(t *testing.T) {
		e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
		ms := e.addMSUser(t, "", "twin@"+domain, "")
		other := &tenantlink.User{Email: "twin@other.test", DisplayName: "Twin", Active: true, Roles: []tenantlink.Role{tenantlink.RoleAdministrator},
			Source: &tenantlink.UserSource{DataSource: e.DS.ID, ObjectID: ms.ID, Tenant: "0000000f-0000-0000-0000-00000000000f"}}
		if err := e.App.Store.CreateUser(context.Background(), other); err != nil {
			t.Fatal(err)
		}
		b := e.Anonymous(t)
		r := e.ssoSignIn(t, b, ms.UPN, ms.Password, "")
		if got := whoAmI(t, b); got == other.Email {
			t.Fatalf("signed in as %s, the user of the same object id in another tenant", got)
		}
		if r.Status != http.StatusForbidden {
			t.Errorf("callback = %s, want 403 (not a user)", r)
		}
	})
}
