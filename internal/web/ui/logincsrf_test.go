package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
)

var loginCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginCSRF loads the sign-in page as b and returns its form's token,
// bound to the pre-session cookie b now holds.
func (b *browser) loginCSRF() string {
	b.tb.Helper()
	page := b.get("/login")
	m := loginCSRFRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		b.tb.Fatalf("GET /login: %d without a csrf field:\n%s", page.Status, page.Body)
	}
	return m[1]
}

// TestLoginCSRF: the sign-in form carries a token bound to a pre-session
// cookie, so another site cannot sign a visitor in to an account of its
// choosing (login CSRF).
func TestLoginCSRF(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	e.mustCreateUser(t, "attacker@example.com", tenantlink.RoleUser)
	form := func(csrf string) url.Values {
		v := url.Values{"email": {"attacker@example.com"}, "password": {testPassword}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	other := e.anonymous(t).loginCSRF() // a token from another browser
	tests := []struct {
		name   string
		csrf   func(b *browser) string
		status int
	}{
		{"no token", func(*browser) string { return "" }, http.StatusForbidden},
		{"another browser's token", func(b *browser) string { b.loginCSRF(); return other }, http.StatusForbidden},
		{"token without its cookie", func(*browser) string { return other }, http.StatusForbidden},
		{"own token", func(b *browser) string { return b.loginCSRF() }, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.anonymous(t)
			got := b.post("/login", form(tt.csrf(b)), false)
			if got.Status != tt.status {
				t.Fatalf("POST /login = %d, want %d:\n%s", got.Status, tt.status, got.Body)
			}
			signedIn := b.get("/api/v1/session").Status == http.StatusOK
			if signedIn != (tt.status == http.StatusSeeOther) {
				t.Errorf("signed in = %v after a %d", signedIn, got.Status)
			}
			if tt.status == http.StatusForbidden && !strings.Contains(got.Body, "sign-in form") {
				t.Errorf("refusal does not say what to do:\n%s", got.Body)
			}
		})
	}
}

// TestStaticNoListings: folders under /static/ are not listed.
func TestStaticNoListings(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	b := e.anonymous(t)
	for _, p := range []string{"/static/", "/static/connectors/", "/static/connectors"} {
		if got := b.get(p); got.Status != http.StatusNotFound || strings.Contains(got.Body, "office365.svg") {
			t.Errorf("GET %s = %d, want 404 without a listing:\n%s", p, got.Status, got.Body)
		}
	}
}
