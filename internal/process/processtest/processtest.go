// Package processtest runs tenantlink (package app, wired as serve wires
// it) on loopback against an in-process Microsoft 365 simulator, with the
// few API calls process tests need: directory users with roles, API
// tokens, an authorized read/write Office 365 data source and its
// security settings. It is shared by the tests of package process and
// package web/processui.
package processtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

// AdminEmail and Password are the bootstrap Administrator's sign-in;
// Password is every local test account's password.
const (
	AdminEmail = "admin@tenantlink.test"
	Password   = "correct horse battery staple"
)

// Env is a running tenantlink and simulator.
type Env struct {
	App   *app.App
	URL   string
	Sim   *m365sim.Server
	Facts m365sim.Facts
	// Admin is the bootstrap Administrator's API-token client.
	Admin *Client
	n     atomic.Int64
}

// New starts the simulator and tenantlink on SQLite in a temporary folder;
// both stop when the test ends.
func New(tb testing.TB) *Env {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	e := &Env{URL: "http://" + ln.Addr().String()}
	e.Sim, err = m365sim.New(m365sim.Options{Users: 6, Groups: 1, Seed: 7, RedirectURIs: []string{e.URL + "/oauth/callback"}})
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
		Addr: ln.Addr().String(), DataDir: dir, DB: "sqlite:" + dir + "/tenantlink.db",
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
	if _, err := e.App.EnsureAdministrator(context.Background(), AdminEmail, Password); err != nil {
		tb.Fatalf("EnsureAdministrator: %v", err)
	}
	e.Admin = e.SignIn(tb, AdminEmail, Password).Token(tb)
	return e
}

// Client calls tenantlink's API with an API token, or with a session
// cookie and its CSRF token.
type Client struct {
	Base  string
	HC    *http.Client
	token string
	CSRF  string
	// UserID is the signed-in directory user's id.
	UserID string
}

// Response is an answer: status and body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

// Decode unmarshals the body into v.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r, err)
	}
}

// ErrorMessage is the {"error":{"message"}} of the body, or "".
func (r Response) ErrorMessage() string {
	var out struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.Body, &out)
	return out.Error.Message
}

// Do sends a request; body is JSON-encoded unless it is a string.
func (c *Client) Do(tb testing.TB, method, path string, body any) Response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.CSRF != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	resp, err := c.HC.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Must is Do failing the test unless the status is want; out, when not
// nil, receives the decoded body.
func (c *Client) Must(tb testing.TB, want int, method, path string, body, out any) Response {
	tb.Helper()
	r := c.Do(tb, method, path, body)
	if r.Status != want {
		tb.Fatalf("%s %s = %s, want status %d", method, path, r, want)
	}
	if out != nil {
		r.Decode(tb, out)
	}
	return r
}

func newHTTPClient(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// SignIn returns a session client for a local account.
func (e *Env) SignIn(tb testing.TB, email, password string) *Client {
	tb.Helper()
	c := &Client{Base: e.URL, HC: newHTTPClient(tb)}
	var out struct {
		User      struct{ ID string }
		CSRFToken string
	}
	c.Must(tb, 200, "POST", "/api/v1/session", map[string]string{"email": email, "password": password}, &out)
	c.CSRF, c.UserID = out.CSRFToken, out.User.ID
	return c
}

// Token returns a client using a new API token of c's user (no cookie).
func (c *Client) Token(tb testing.TB) *Client {
	tb.Helper()
	var out struct{ Token string }
	c.Must(tb, 201, "POST", "/api/v1/tokens", map[string]string{"name": "processtest"}, &out)
	return &Client{Base: c.Base, HC: newHTTPClient(tb), token: out.Token, UserID: c.UserID}
}

// User creates a directory user with roles and returns its token client.
func (e *Env) User(tb testing.TB, roles ...string) *Client {
	tb.Helper()
	email := fmt.Sprintf("user%d@tenantlink.test", e.n.Add(1))
	if len(roles) == 0 {
		roles = []string{"User"}
	}
	e.Admin.Must(tb, 201, "POST", "/api/v1/users", map[string]any{"email": email, "password": Password, "roles": roles}, nil)
	return e.SignIn(tb, email, Password).Token(tb)
}

// DataSource creates an Office 365 data source with read and write on and
// authorizes it as the simulator's administrator; it returns its id.
func (e *Env) DataSource(tb testing.TB, name string) string {
	tb.Helper()
	var ds struct{ ID string }
	e.Admin.Must(tb, 201, "POST", "/api/v1/datasources",
		map[string]any{"name": name, "type": "office365", "settings": map[string]any{"readWrite": true}}, &ds)
	var start struct{ URL string }
	e.Admin.Must(tb, 200, "POST", "/api/v1/datasources/"+ds.ID+"/authorize", nil, &start)
	loc, err := identitytest.SignIn(newHTTPClient(tb), start.URL, e.Facts.AdminUser, e.Facts.AdminPassword)
	if err != nil {
		tb.Fatalf("Microsoft sign-in: %v", err)
	}
	req, err := http.NewRequest("GET", e.URL+loc.RequestURI(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.Admin.token)
	resp, err := e.Admin.HC.Do(req)
	if err != nil {
		tb.Fatalf("callback: %v", err)
	}
	defer resp.Body.Close()
	var cb struct {
		OK      bool
		Message string
	}
	if err := json.NewDecoder(resp.Body).Decode(&cb); err != nil || !cb.OK {
		tb.Fatalf("authorize %s: %+v (%v)", name, cb, err)
	}
	return ds.ID
}

// RestrictUsers makes only userIDs (directory user or group ids)
// connection users of the data source.
func (e *Env) RestrictUsers(tb testing.TB, dsID string, userIDs ...string) {
	tb.Helper()
	e.Admin.Must(tb, 200, "PUT", "/api/v1/datasources/"+dsID+"/security", map[string]any{"admins": []string{}, "users": userIDs}, nil)
}

// SimControl calls one of the simulator's /_sim/ endpoints.
func (e *Env) SimControl(tb testing.TB, method, path string, body any) {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(method, e.Facts.URL+path, bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		tb.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
}
