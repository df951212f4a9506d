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
)

// TestNoLockOut checks that no single sign-on setting can lock every
// Administrator out: auto redirect is refused unless its bypass group
// lets an active Administrator in with a password, a bypass group that
// stops doing so later lets Administrators with a password in anyway, and
// signing out under auto redirect stays signed out.
func TestNoLockOut(t *testing.T) {
	e := mustOpenEnv(t)
	mkUser := func(t *testing.T, email string, active bool, pw string, roles ...string) tenantlink.User {
		t.Helper()
		body := map[string]any{"email": email, "active": active, "roles": roles}
		if pw != "" {
			body["password"] = pw
		}
		var u tenantlink.User
		e.admin.In(t).Must(201, "POST", "/api/v1/users", body, &u)
		return u
	}
	mkGroup := func(t *testing.T, name string, roles []string, members ...string) string {
		t.Helper()
		var g struct{ ID string }
		e.admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": name, "roles": roles, "members": members}, &g)
		return g.ID
	}
	plain := mkUser(t, "plain@tenantlink.test", true, password, "User")
	noPW := mkUser(t, "nopw-admin@tenantlink.test", true, "", "Administrator")
	inactive := mkUser(t, "inactive-admin@tenantlink.test", false, password, "Administrator")
	viaGroup := mkUser(t, "group-admin@tenantlink.test", true, password, "User")
	mkGroup(t, "Admins", []string{"Administrator"}, viaGroup.ID)

	var before sso.Settings
	e.admin.Must(200, "GET", "/api/v1/settings/sso", nil, &before)
	for _, tt := range []struct {
		name    string
		members []string
	}{
		{"empty bypass group", nil},
		{"only a User", []string{plain.ID}},
		{"an Administrator without a password", []string{noPW.ID}},
		{"an inactive Administrator", []string{inactive.ID}},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			gid := mkGroup(t, "Bypass "+tt.name, nil, tt.members...)
			r := e.admin.In(t).Do("PUT", "/api/v1/settings/sso", map[string]any{"enabled": true, "datasource": e.DS.ID, "autoRedirect": true, "bypassGroup": gid})
			if r.Status != http.StatusBadRequest || !strings.Contains(errorMessage(r), "autoRedirect needs an active Administrator with a tenantlink password in the bypass group") {
				t.Errorf("PUT = %s, want 400 saying the bypass group needs an Administrator with a password", r)
			}
			var got sso.Settings
			e.admin.In(t).Must(200, "GET", "/api/v1/settings/sso", nil, &got)
			if diff := cmp.Diff(before, got); diff != "" {
				t.Errorf("a refused PUT changed the settings (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("refused on the page", func(t *testing.T) {
		gid := mkGroup(t, "Bypass page", nil, plain.ID)
		session := e.SignIn(t, adminEmail, password)
		r := session.In(t).Do("POST", "/settings/sso", url.Values{"csrf": {session.CSRF}, "enabled": {"on"}, "datasource": {e.DS.ID}, "autoRedirect": {"on"}, "bypassGroup": {gid}})
		if r.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(string(r.Body)), "autoRedirect needs an active Administrator with a tenantlink password") {
			t.Errorf("POST /settings/sso = %d, want 400 with the reason:\n%s", r.Status, r.Body)
		}
	})

	bypass := mkGroup(t, "Bypass ok", nil, viaGroup.ID)
	e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID, "autoRedirect": true, "bypassGroup": bypass})

	t.Run("signing out stays signed out", func(t *testing.T) {
		b := e.SignIn(t, viaGroup.Email, password)
		r := b.In(t).Do("POST", "/logout", url.Values{"csrf": {b.CSRF}})
		if r.Status != http.StatusSeeOther || r.Location() != "/signed-out" {
			t.Fatalf("POST /logout = %d to %q, want 303 to /signed-out", r.Status, r.Location())
		}
		page := b.In(t).Do("GET", "/signed-out", nil)
		if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "You are signed out") || !strings.Contains(string(page.Body), `href="/login">Sign in</a>`) {
			t.Errorf("GET /signed-out = %d, want 200 with a Sign in button:\n%s", page.Status, page.Body)
		}
		if got := whoAmI(t, b); got != "" {
			t.Errorf("still signed in as %q", got)
		}
	})

	t.Run("an emptied bypass group lets Administrators with a password in", func(t *testing.T) {
		for _, tt := range []struct {
			email  string
			status int
		}{{adminEmail, http.StatusForbidden}, {plain.Email, http.StatusForbidden}} {
			if r := e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": tt.email, "password": password}); r.Status != tt.status {
				t.Errorf("%s before: POST /api/v1/session = %s, want %d", tt.email, r, tt.status)
			}
		}
		e.admin.In(t).Must(200, "PATCH", "/api/v1/groups/"+bypass, map[string]any{"members": []string{}}, nil)
		for _, tt := range []struct {
			email  string
			status int
		}{{adminEmail, http.StatusOK}, {viaGroup.Email, http.StatusOK}, {plain.Email, http.StatusForbidden}} {
			if r := e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": tt.email, "password": password}); r.Status != tt.status {
				t.Errorf("%s after: POST /api/v1/session = %s, want %d", tt.email, r, tt.status)
			}
		}
	})
}
