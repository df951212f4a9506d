package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

const (
	adminEmail = "admin@tenantlink.test"
	// password is every local test account's password.
	password = "correct horse battery staple"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.name != "" {
		if err := dropDatabase(pg.admin, pg.name); err != nil {
			fmt.Fprintf(os.Stderr, "apitest: drop database %s: %v\n", pg.name, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// clock is the application's injected clock: real time plus an offset the
// test moves, so that the simulator (on real time) still accepts tokens
// issued before the move.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// backends are the stores the store-dependent tests run on.
var backends = []string{"sqlite", "postgres"}

type envOptions struct {
	Backend      string // "sqlite" (default) or "postgres"
	ClientSecret string // replaces the simulator's client secret (a wrong one)
	Logger       *slog.Logger
	// Reopen, when set, opens a second application on the same simulator,
	// data folder and database (the first must be closed).
	Reopen *env
}

// env is tenantlink (package app, exactly as serve wires it) listening on
// loopback, pointed at a running simulator.
type env struct {
	App     *app.App
	URL     string
	Sim     *m365sim.Server
	Facts   m365sim.Facts
	Clock   *clock
	DataDir string
	DB      string

	closeOnce sync.Once
	srv       *http.Server
}

func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	// The listener exists first so that the callback URL registered in the
	// simulator is tenantlink's real address.
	addr := "127.0.0.1:0"
	if o.Reopen != nil {
		// The same address, which the simulator knows as the callback.
		addr = strings.TrimPrefix(o.Reopen.URL, "http://")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{URL: "http://" + ln.Addr().String(), Clock: &clock{}}
	if o.Reopen != nil {
		e.Sim, e.DataDir, e.DB = o.Reopen.Sim, o.Reopen.DataDir, o.Reopen.DB
	} else {
		e.Sim, err = m365sim.New(m365sim.Options{Users: 6, Groups: 1, Seed: 7, RedirectURIs: []string{e.URL + "/oauth/callback"}})
		if err != nil {
			tb.Fatalf("m365sim.New: %v", err)
		}
		if err := e.Sim.Start("127.0.0.1:0"); err != nil {
			tb.Fatalf("start simulator: %v", err)
		}
		tb.Cleanup(func() { e.Sim.Close() })
		e.DataDir = tb.TempDir()
		if o.Backend == "postgres" {
			e.DB = postgresSchema(tb)
		} else {
			e.DB = "sqlite:" + e.DataDir + "/tenantlink.db"
		}
	}
	e.Facts = e.Sim.Facts()
	secret := e.Facts.ClientSecret
	if o.ClientSecret != "" {
		secret = o.ClientSecret
	}
	e.App, err = app.Open(ctx, app.Config{
		Addr: ln.Addr().String(), DataDir: e.DataDir, DB: e.DB,
		MSAuthority: e.Facts.URL, MSGraph: e.Facts.URL, MSClientID: e.Facts.ClientID, MSClientSecret: secret,
		Logger: o.Logger, Now: e.Clock.Now,
	})
	if err != nil {
		ln.Close()
		tb.Fatalf("app.Open: %v", err)
	}
	e.srv = &http.Server{Handler: e.App.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go e.srv.Serve(ln)
	tb.Cleanup(e.Close)
	if _, err := e.App.EnsureAdministrator(ctx, adminEmail, password); err != nil {
		tb.Fatalf("EnsureAdministrator: %v", err)
	}
	return e
}

// Close stops the server and closes the database; later calls do nothing.
func (e *env) Close() {
	e.closeOnce.Do(func() {
		e.srv.Close()
		e.App.Close()
	})
}

// client is one caller of the API: anonymous, a browser session (cookie
// plus CSRF token) or an API token.
type client struct {
	tb    testing.TB
	base  string
	hc    *http.Client
	token string
	csrf  string
	email string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

func (e *env) anonymous(tb testing.TB) *client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &client{tb: tb, base: e.URL, hc: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs in through POST /api/v1/session and returns a session client.
func (e *env) signIn(tb testing.TB, email, pw string) *client {
	tb.Helper()
	c := e.anonymous(tb)
	r := c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": pw})
	if r.Status != 200 {
		tb.Fatalf("sign in as %s: %s", email, r)
	}
	var out struct {
		User      tenantlink.User `json:"user"`
		CSRFToken string          `json:"csrfToken"`
	}
	decode(tb, r, &out)
	if out.CSRFToken == "" || out.User.Email != email {
		tb.Fatalf("sign in as %s: answer %s lacks the user or the CSRF token", email, r)
	}
	c.csrf, c.email = out.CSRFToken, email
	return c
}

// tokenClient creates an API token for c's user and returns a client
// that uses only it (no cookies).
func (c *client) tokenClient() *client {
	c.tb.Helper()
	r := c.do("POST", "/api/v1/tokens", map[string]string{"name": "test"})
	if r.Status != 201 {
		c.tb.Fatalf("create token: %s", r)
	}
	var out struct{ Token string }
	decode(c.tb, r, &out)
	if !strings.HasPrefix(out.Token, "tl_") {
		c.tb.Fatalf("token %q lacks the tl_ prefix", out.Token)
	}
	return &client{tb: c.tb, base: c.base, hc: &http.Client{Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, token: out.Token, email: c.email}
}

// in returns c reporting failures to tb (a subtest).
func (c *client) in(tb testing.TB) *client {
	c2 := *c
	c2.tb = tb
	return &c2
}

// withoutCSRF is c without its CSRF token (same cookie).
func (c *client) withoutCSRF() *client {
	c2 := *c
	c2.csrf = ""
	return &c2
}

// do sends a request. body is JSON-encoded unless it is a string or
// []byte (sent as is). headers are name, value pairs; a Content-Type given
// there replaces application/json.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" && method != "GET" && method != "HEAD" {
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
		c.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// mustDo is do that fails the test unless the status is want.
func (c *client) mustDo(want int, method, path string, body any, out any) response {
	c.tb.Helper()
	r := c.do(method, path, body)
	if r.Status != want {
		c.tb.Fatalf("%s %s = %s, want status %d", method, path, r, want)
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

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorOf decodes the {"error":{"code","message"}} body of r, failing the
// test when r is not exactly that shape.
func errorOf(tb testing.TB, r response) apiError {
	tb.Helper()
	var out struct {
		Error *apiError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil || out.Error == nil || out.Error.Code == "" || out.Error.Message == "" {
		tb.Fatalf("body %s is not {\"error\":{\"code\",\"message\"}} (%v)", r, err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("error Content-Type = %q, want application/json", ct)
	}
	return *out.Error
}

// dataSource is a data source as the API shows it.
type dataSource struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	StatusMessage string     `json:"statusMessage"`
	Settings      settings   `json:"settings"`
	Modified      time.Time  `json:"modified"`
	ModifiedBy    string     `json:"modifiedBy"`
	AuthorizedBy  string     `json:"authorizedBy"`
	AuthorizedAt  *time.Time `json:"authorizedAt"`
	ReauthorizeBy *time.Time `json:"reauthorizeBy"`
	ReminderDue   bool       `json:"reminderDue"`
}

type settings struct {
	ReadWrite       bool   `json:"readWrite"`
	SingleSignOn    bool   `json:"singleSignOn"`
	AuthMode        string `json:"authMode"`
	ReauthorizeDays int    `json:"reauthorizeDays"`
}

func (c *client) createDataSource(name string, s map[string]any) dataSource {
	c.tb.Helper()
	body := map[string]any{"name": name, "type": "office365"}
	if s != nil {
		body["settings"] = s
	}
	var ds dataSource
	c.mustDo(201, "POST", "/api/v1/datasources", body, &ds)
	return ds
}

func (c *client) getDataSource(id string) dataSource {
	c.tb.Helper()
	var ds dataSource
	c.mustDo(200, "GET", "/api/v1/datasources/"+id, nil, &ds)
	return ds
}

// callback is the outcome /oauth/callback reports.
type callback struct {
	OK         bool        `json:"ok"`
	Message    string      `json:"message"`
	DataSource *dataSource `json:"datasource"`
}

// authorize runs the whole browser authorization: POST …/authorize, the
// Microsoft sign-in pages as msUser (in a fresh browser), then the return
// to tenantlink's /oauth/callback with c's credentials, asking for JSON.
func (e *env) authorize(c *client, id, msUser, msPassword string) callback {
	c.tb.Helper()
	loc := e.signInAtMicrosoft(c, id, msUser, msPassword)
	r := c.do("GET", loc.RequestURI(), nil, "Accept", "application/json")
	if r.Status != 200 {
		c.tb.Fatalf("GET %s = %s, want 200", loc.Path, r)
	}
	var out callback
	decode(c.tb, r, &out)
	return out
}

// signInAtMicrosoft starts an authorization and walks the sign-in pages,
// returning tenantlink's callback URL with Microsoft's answer.
func (e *env) signInAtMicrosoft(c *client, id, msUser, msPassword string) *url.URL {
	c.tb.Helper()
	var start struct{ URL string }
	c.mustDo(200, "POST", "/api/v1/datasources/"+id+"/authorize", nil, &start)
	if !strings.HasPrefix(start.URL, e.Facts.URL+"/") {
		c.tb.Fatalf("authorize URL %q is not at the simulator %s", start.URL, e.Facts.URL)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		c.tb.Fatal(err)
	}
	loc, err := identitytest.SignIn(&http.Client{Jar: jar, Timeout: time.Minute}, start.URL, msUser, msPassword)
	if err != nil {
		c.tb.Fatalf("Microsoft sign-in as %s: %v", msUser, err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.URL+"/oauth/callback" {
		c.tb.Fatalf("sign-in ended at %s, want %s/oauth/callback", got, e.URL)
	}
	return loc
}

// simControl calls one of the simulator's /_sim/ endpoints.
func (e *env) simControl(tb testing.TB, path string, body any) {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.Post(e.Facts.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		tb.Fatalf("POST %s: status %d", path, resp.StatusCode)
	}
}

// audit returns the whole audit log, newest first, read by an Administrator.
func audit(tb testing.TB, admin *client) []tenantlink.AuditEntry {
	tb.Helper()
	var out struct{ Value []tenantlink.AuditEntry }
	admin.mustDo(200, "GET", "/api/v1/audit?limit=1000", nil, &out)
	return out.Value
}

var gaugeLine = regexp.MustCompile(`(?m)^tenantlink_datasources\{([^}]*)\} (\S+)$`)

// statusGauge reads tenantlink_datasources from /metrics by status.
func (e *env) statusGauge(tb testing.TB) map[string]float64 {
	tb.Helper()
	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	out := map[string]float64{}
	for _, m := range gaugeLine.FindAllStringSubmatch(string(b), -1) {
		st := regexp.MustCompile(`status="([^"]*)"`).FindStringSubmatch(m[1])
		if st == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			tb.Fatalf("metric line %q: %v", m[0], err)
		}
		out[st[1]] += v
	}
	if len(out) == 0 {
		tb.Fatalf("/metrics has no tenantlink_datasources gauge:\n%s", b)
	}
	return out
}

// PostgreSQL: one scratch database per test run, one schema per env.

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var pg struct {
	once    sync.Once
	err     error
	admin   string
	dsn     string
	name    string
	schemas atomic.Int64
}

func withDatabase(dsn, name string, params map[string]string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	if name != "" {
		u.Path = "/" + name
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresSchema returns the DSN of a fresh schema in this run's scratch
// database. An unreachable server fails the test: it is never skipped.
func postgresSchema(tb testing.TB) string {
	tb.Helper()
	pg.once.Do(func() {
		pg.admin = os.Getenv("TENANTLINK_TEST_POSTGRES")
		if pg.admin == "" {
			pg.admin = defaultPostgres
		}
		db, err := sql.Open("pgx", pg.admin)
		if err != nil {
			pg.err = err
			return
		}
		defer db.Close()
		b := make([]byte, 6)
		rand.Read(b)
		name := "tl_apitest_" + hex.EncodeToString(b)
		if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
			pg.err = err
			return
		}
		pg.name, pg.dsn = name, withDatabase(pg.admin, name, nil)
	})
	if pg.err != nil {
		tb.Fatalf("PostgreSQL at TENANTLINK_TEST_POSTGRES (default %s) is not usable: %v", defaultPostgres, pg.err)
	}
	schema := fmt.Sprintf("s%d", pg.schemas.Add(1))
	db, err := sql.Open("pgx", pg.dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	return withDatabase(pg.dsn, "", map[string]string{"search_path": schema})
}

func dropDatabase(admin, name string) error {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}
