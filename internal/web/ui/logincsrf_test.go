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

// TestSignInBehindProxy: behind a trusted proxy, the sign-in limiter
// keys on the client X-Forwarded-For names, so one client's wrong
// passwords lock neither the proxy's other clients nor other accounts;
// without the proxy trusted, the header is ignored.
func TestSignInBehindProxy(t *testing.T) {
	signIn := func(e *env, email, password, xff string) int {
		t.Helper()
		b := e.anonymous(t)
		form := url.Values{"email": {email}, "password": {password}, "csrf": {b.loginCSRF()}}
		req, err := http.NewRequest(http.MethodPost, e.URL+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		return b.do(req).Status
	}
	for _, tt := range []struct {
		name    string
		proxies string
		want    int // the other client's correct password
	}{
		{"trusted proxies", "127.0.0.1/32, 10.0.0.0/8", http.StatusSeeOther},
		{"untrusted proxy: one address for all", "", http.StatusTooManyRequests},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustOpenEnv(t, envConfig{TrustedProxies: tt.proxies})
			e.mustCreateUser(t, "jane@example.com", tenantlink.RoleUser)
			// One client sprays wrong passwords at many accounts.
			for i := range 6 {
				signIn(e, "spray"+string(rune('a'+i))+"@example.com", "wrong password", "203.0.113.7")
			}
			if got := signIn(e, "jane@example.com", "wrong password", "203.0.113.7"); got != http.StatusTooManyRequests {
				t.Errorf("the spraying client = %d, want 429", got)
			}
			if got := signIn(e, "jane@example.com", testPassword, "198.51.100.20, 10.0.0.1"); got != tt.want {
				t.Errorf("another client's correct password = %d, want %d", got, tt.want)
			}
		})
	}
}
