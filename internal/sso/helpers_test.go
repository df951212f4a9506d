package sso_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

const (
	adminEmail = "admin@tenantlink.test"
	password   = "correct horse battery staple"
)

// env is tenantlink (package app, as serve wires it) on loopback, with the
// simulator knowing both of its redirect URIs, one Office 365 data source
// with single sign-on on, authorized by the tenant's administrator.
type env struct {
	App   *app.App
	URL   string
	Sim   *m365sim.Server
	Facts m365sim.Facts
	admin *client // the bootstrap Administrator's API token
	DS    dataSource
}

type dataSource struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Account string `json:"account"`
}

func mustOpenEnv(tb testing.TB) *env {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{URL: "http://" + ln.Addr().String()}
	e.Sim, err = m365sim.New(m365sim.Options{Users: 4, Groups: 1, Seed: 11,
		RedirectURIs: []string{e.URL + "/oauth/callback", e.URL + "/auth/sso/callback"}})
	if err != nil {
		tb.Fatalf("m365sim.New: %v", err)
	}
	if err := e.Sim.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("start simulator: %v", err)
	}
	tb.Cleanup(func() { e.Sim.Close() })
	e.Facts = e.Sim.Facts()
	dir := tb.TempDir()
	e.App, err = app.Open(context.Background(), app.Config{
		Addr: ln.Addr().String(), DataDir: dir, DB: "sqlite:" + dir + "/t.db",
		MSAuthority: e.Facts.URL, MSGraph: e.Facts.URL, MSClientID: e.Facts.ClientID, MSClientSecret: e.Facts.ClientSecret,
	})
	if err != nil {
		ln.Close()
		tb.Fatalf("app.Open: %v", err)
	}
	srv := &http.Server{Handler: e.App.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		srv.Close()
		e.App.Close()
	})
	if _, err := e.App.EnsureAdministrator(context.Background(), adminEmail, password); err != nil {
		tb.Fatalf("EnsureAdministrator: %v", err)
	}
	session := e.signIn(tb, adminEmail, password)
	e.admin = session.tokenClient()
	e.DS = e.authorizedDataSource(tb, session, "Contoso", true)
	return e
}

// authorizedDataSource creates an Office 365 data source and authorizes it
// as the tenant's administrator through the real pages.
func (e *env) authorizedDataSource(tb testing.TB, session *client, name string, sso bool) dataSource {
	tb.Helper()
	var ds dataSource
	session.mustDo(201, "POST", "/api/v1/datasources", map[string]any{"name": name, "type": "office365", "settings": map[string]any{"singleSignOn": sso}}, &ds)
	var start struct{ URL string }
	session.mustDo(200, "POST", "/api/v1/datasources/"+ds.ID+"/authorize", nil, &start)
	loc := microsoft(tb, start.URL, e.Facts.AdminUser, e.Facts.AdminPassword)
	var cb struct {
		OK      bool
		Message string
	}
	r := session.do("GET", loc.RequestURI(), nil, "Accept", "application/json")
	decode(tb, r, &cb)
	if !cb.OK {
		tb.Fatalf("authorize %s: %s", name, r)
	}
	session.mustDo(200, "GET", "/api/v1/datasources/"+ds.ID, nil, &ds)
	return ds
}

// microsoft walks Microsoft's sign-in pages in a fresh browser and returns
// where they send the browser back to.
func microsoft(tb testing.TB, authURL, user, pw string) *url.URL {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	loc, err := identitytest.SignIn(&http.Client{Jar: jar, Timeout: time.Minute}, authURL, user, pw)
	if err != nil {
		tb.Fatalf("Microsoft sign-in as %s: %v", user, err)
	}
	return loc
}

// msUser is a user of the simulated tenant.
type msUser struct {
	ID       string `json:"id"`
	UPN      string `json:"userPrincipalName"`
	Mail     string `json:"mail"`
	Password string `json:"-"`
}

// addMSUser creates a user in a simulated tenant (tenant "" = the first).
func (e *env) addMSUser(tb testing.TB, tenant, upn, mail string) msUser {
	tb.Helper()
	pw := "Sim-" + upn + "-pw1!"
	body := map[string]any{"userPrincipalName": upn, "password": pw, "displayName": strings.Split(upn, "@")[0]}
	if mail != "" {
		body["mail"] = mail
	}
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	path := e.Facts.URL + "/_sim/users"
	if tenant != "" {
		path += "?tenant=" + url.QueryEscape(tenant)
	}
	resp, err := http.Post(path, "application/json", bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		tb.Fatalf("POST /_sim/users %s: %d %s", upn, resp.StatusCode, out)
	}
	u := msUser{Password: pw}
	if err := json.Unmarshal(out, &u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// client is a browser (cookies, no redirects followed) or an API token.
type client struct {
	tb    testing.TB
	base  string
	hc    *http.Client
	token string
	csrf  string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string   { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }
func (r response) Location() string { return r.Header.Get("Location") }

func (e *env) browser(tb testing.TB) *client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &client{tb: tb, base: e.URL, hc: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (e *env) signIn(tb testing.TB, email, pw string) *client {
	tb.Helper()
	c := e.browser(tb)
	var out struct{ CSRFToken string }
	c.mustDo(200, "POST", "/api/v1/session", map[string]string{"email": email, "password": pw}, &out)
	c.csrf = out.CSRFToken
	return c
}

func (c *client) tokenClient() *client {
	c.tb.Helper()
	var out struct{ Token string }
	c.mustDo(201, "POST", "/api/v1/tokens", map[string]string{"name": "test"}, &out)
	return &client{tb: c.tb, base: c.base, hc: &http.Client{Timeout: time.Minute}, token: out.Token}
}

func (c *client) in(tb testing.TB) *client {
	c2 := *c
	c2.tb = tb
	return &c2
}

// do sends a request; body is JSON unless it is url.Values (a form).
// headers are name, value pairs.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.tb.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	if strings.HasPrefix(path, "http") {
		path = strings.TrimPrefix(path, c.base)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (c *client) mustDo(want int, method, path string, body, out any) response {
	c.tb.Helper()
	r := c.do(method, path, body)
	if r.Status != want {
		c.tb.Fatalf("%s %s = %s, want %d", method, path, r, want)
	}
	if out != nil {
		decode(c.tb, r, out)
	}
	return r
}

func decode(tb testing.TB, r response, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r, err)
	}
}

// settings puts the SSO settings as the Administrator.
func (e *env) settings(tb testing.TB, s map[string]any) {
	tb.Helper()
	e.admin.in(tb).mustDo(200, "PUT", "/api/v1/settings/sso", s, nil)
}

// startSSO opens /auth/sso/login in b and returns Microsoft's URL.
func (e *env) startSSO(tb testing.TB, b *client, next string) string {
	tb.Helper()
	path := "/auth/sso/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	r := b.in(tb).do("GET", path, nil)
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), e.Facts.URL+"/") {
		tb.Fatalf("GET %s = %s (Location %q), want 302 to the simulator", path, r, r.Location())
	}
	return r.Location()
}

// ssoSignIn runs the whole single sign-on in b as the Microsoft user and
// returns tenantlink's answer to the callback.
func (e *env) ssoSignIn(tb testing.TB, b *client, user, pw, next string) response {
	tb.Helper()
	loc := microsoft(tb, e.startSSO(tb, b, next), user, pw)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.URL+"/auth/sso/callback" {
		tb.Fatalf("sign-in ended at %s, want %s/auth/sso/callback", got, e.URL)
	}
	return b.in(tb).do("GET", loc.RequestURI(), nil)
}

// whoAmI is the user b's session belongs to, or "" when none.
func (b *client) whoAmI() string {
	b.tb.Helper()
	r := b.do("GET", "/api/v1/session", nil)
	if r.Status != 200 {
		return ""
	}
	var out struct{ User tenantlink.User }
	decode(b.tb, r, &out)
	return out.User.Email
}

func (e *env) user(tb testing.TB, id string) tenantlink.User {
	tb.Helper()
	var u tenantlink.User
	e.admin.in(tb).mustDo(200, "GET", "/api/v1/users/"+id, nil, &u)
	return u
}

func (e *env) usersByEmail(tb testing.TB, search string) []tenantlink.User {
	tb.Helper()
	var out struct{ Value []tenantlink.User }
	e.admin.in(tb).mustDo(200, "GET", "/api/v1/users?search="+url.QueryEscape(search), nil, &out)
	return out.Value
}

func (e *env) audit(tb testing.TB) []tenantlink.AuditEntry {
	tb.Helper()
	var out struct{ Value []tenantlink.AuditEntry }
	e.admin.in(tb).mustDo(200, "GET", "/api/v1/audit?limit=1000", nil, &out)
	return out.Value
}

// hasAudit reports whether entries (newest first) hold action with outcome
// and a detail containing detail.
func hasAudit(entries []tenantlink.AuditEntry, action, outcome, detail string) bool {
	for _, a := range entries {
		if a.Action == action && a.Outcome == outcome && strings.Contains(a.Detail, detail) {
			return true
		}
	}
	return false
}

// errorMessage reads the message of an HTML refusal page or a JSON error.
func errorMessage(r response) string {
	var j struct {
		Error struct{ Message string }
	}
	if json.Unmarshal(r.Body, &j) == nil && j.Error.Message != "" {
		return j.Error.Message
	}
	return string(r.Body)
}
