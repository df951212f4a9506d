package ui_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/realtime"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow is the fixed clock of handler tests, so that rendered dates and
// the re-authorization reminder are the same on every run.
var testNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const testPassword = "correct horse battery staple"

// env is tenantlink's web stack over a real SQLite store, without the
// simulator: handler tests never reach Microsoft.
type env struct {
	URL   string
	Store store.Store
	Dir   *directory.Service
	DS    *datasource.Service
}

type envConfig struct {
	// Connectors builds the connectors once tenantlink's URL is known (the
	// simulator must have its redirect URI registered). Default: an Office
	// 365 connector pointing nowhere, enough for pages and Authorize URLs.
	Connectors func(baseURL string) map[string]connector.Connector
	Now        func() time.Time
	Logger     *slog.Logger
	// TrustedProxies is web.Config's (default none).
	TrustedProxies string
	// Routes are mounted after the pages (test-only pages).
	Routes []web.Route
}

func mustOpenEnv(tb testing.TB, cfg envConfig) *env {
	tb.Helper()
	ctx := context.Background()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = func() time.Time { return testNow }
	}
	st, err := sqlstore.Open(ctx, "sqlite:"+tb.TempDir()+"/t.db", secretstest.NewTestKeyring(tb), logger)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	st.Now = now
	dir := directory.New(st, logger)
	dir.Now = now
	// The listener exists before the server starts, so the URL is known
	// while the services are wired.
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	connectors := map[string]connector.Connector{
		tenantlink.ConnectorOffice365: office365.New(office365.Config{Authority: "https://login.example.test", GraphURL: "https://graph.example.test", ClientID: "test-client", ClientSecret: "test-secret", Logger: logger}),
	}
	if cfg.Connectors != nil {
		connectors = cfg.Connectors(base)
	}
	dss := &datasource.Service{Store: st, Connectors: connectors, CallbackURL: base + "/oauth/callback", Now: now, Logger: logger}
	// Sessions run on the real clock: the client's cookie jar expires
	// cookies by it, whatever the services' clock says.
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		tb.Fatal(err)
	}
	subs := &realtime.Service{Store: st, Now: now}
	ws := web.New(web.Config{Directory: dir, DataSources: dss, Ping: st.Ping, Logger: logger, PublicURL: base, Now: time.Now, TrustedProxies: proxies})
	ws.Mount(ui.Routes(ui.Deps{Server: ws, Accounts: dir, Tokens: dir, Audit: dir, Users: dir, Groups: dir,
		DataSources: dss, Operations: dss, Licences: dss, Subscriptions: subs.States, Now: now, Logger: logger})...)
	ws.Mount(cfg.Routes...)
	srv.Config.Handler = ws.Handler()
	srv.Start()
	tb.Cleanup(srv.Close)
	return &env{URL: srv.URL, Store: st, Dir: dir, DS: dss}
}

func (e *env) mustCreateUser(tb testing.TB, email string, roles ...tenantlink.Role) *tenantlink.User {
	tb.Helper()
	pw := testPassword
	name := strings.Split(email, "@")[0]
	u, err := e.Dir.CreateUser(context.Background(), tenantlink.System, directory.UserInput{Email: &email, DisplayName: &name, Password: &pw, Roles: &roles})
	if err != nil {
		tb.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func (e *env) mustPrincipal(tb testing.TB, u *tenantlink.User) *tenantlink.Principal {
	tb.Helper()
	p, err := e.Dir.Principal(context.Background(), u, "session")
	if err != nil {
		tb.Fatalf("principal: %v", err)
	}
	return p
}

func (e *env) mustCreateDataSource(tb testing.TB, by *tenantlink.User, name string, readWrite bool) *tenantlink.DataSource {
	tb.Helper()
	typ := tenantlink.ConnectorOffice365
	ds, err := e.DS.Create(context.Background(), e.mustPrincipal(tb, by), datasource.Input{Name: &name, Type: &typ, Settings: &datasource.SettingsInput{ReadWrite: &readWrite}})
	if err != nil {
		tb.Fatalf("create data source %s: %v", name, err)
	}
	return ds
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so tests see where each answer sends the browser.
type browser struct {
	tb   testing.TB
	base string
	c    *http.Client
	csrf string
}

func (e *env) mustSignIn(tb testing.TB, email string) *browser {
	tb.Helper()
	b := e.anonymous(tb)
	resp := b.post("/login", url.Values{"email": {email}, "password": {testPassword}, "csrf": {b.loginCSRF()}}, false)
	if resp.Status != http.StatusSeeOther {
		tb.Fatalf("sign in %s: status %d, want 303; body:\n%s", email, resp.Status, resp.Body)
	}
	s := b.get("/api/v1/session")
	var out struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal([]byte(s.Body), &out); err != nil || out.CSRFToken == "" {
		tb.Fatalf("read CSRF token: %v (%s)", err, s.Body)
	}
	b.csrf = out.CSRFToken
	return b
}

func (e *env) anonymous(tb testing.TB) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{tb: tb, base: e.URL, c: c}
}

type response struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

func (b *browser) do(req *http.Request) response {
	b.tb.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatalf("read %s: %v", req.URL, err)
	}
	return response{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) response {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.do(req)
}

// post submits a form; withCSRF adds the session's token as a browser
// page would.
func (b *browser) post(path string, form url.Values, withCSRF bool) response {
	b.tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	if withCSRF {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	csrfRE = regexp.MustCompile(`(name="csrf" value="|name="csrf-token" content=")[^"]*"`)
)

// normalize replaces what differs between runs (ids, CSRF tokens) so that
// pages can be compared with golden files.
func normalize(s string) string {
	ids := map[string]string{}
	s = uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = "ID" + string(rune('A'+len(ids)))
		}
		return ids[id]
	})
	return csrfRE.ReplaceAllString(s, `${1}CSRF"`)
}

func checkGolden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = normalize(got)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
