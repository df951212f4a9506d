package cli_test

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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/cli"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

const (
	e2eAdminEmail = "admin@tenantlink.test"
	e2ePassword   = "correct horse battery staple"
	e2eDSName     = "Contoso"
)

// opEnv is tenantlink (package app, wired as `serve` wires it) on
// loopback next to the Microsoft 365 simulator, with one Office 365 data
// source authorized for read and write and an Administrator's API token.
type opEnv struct {
	URL   string
	App   *app.App
	Sim   *m365sim.Server
	Facts m365sim.Facts
	DSID  string
	Token string
	// session is the Administrator's browser session (cookie and CSRF).
	session *apiCaller
}

type opEnvOptions struct {
	Users, Groups int
	// SimHandler, when set, wraps the simulator's handler; the simulator
	// is then served on a listener of the test's own instead of Start.
	SimHandler func(http.Handler) http.Handler
}

// startOpEnv builds the environment. tenantlink's listener is opened
// first: app.Config.Addr with port 0 would leave PublicURL, and so the
// OAuth callback registered in the simulator, at ":0".
func startOpEnv(tb testing.TB, o opEnvOptions) *opEnv {
	tb.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	e := &opEnv{URL: "http://" + ln.Addr().String()}
	if o.Users == 0 {
		o.Users, o.Groups = 6, 1
	}
	e.Sim, err = m365sim.New(m365sim.Options{Users: o.Users, Groups: o.Groups, Seed: 7, RedirectURIs: []string{e.URL + "/oauth/callback"}})
	if err != nil {
		tb.Fatalf("m365sim.New: %v", err)
	}
	if o.SimHandler == nil {
		if err := e.Sim.Start("127.0.0.1:0"); err != nil {
			tb.Fatalf("start simulator: %v", err)
		}
		tb.Cleanup(func() { e.Sim.Close() })
	} else {
		sln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		e.Sim.SetBaseURL("http://" + sln.Addr().String())
		srv := &http.Server{Handler: o.SimHandler(e.Sim.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(sln)
		tb.Cleanup(func() { srv.Close() })
	}
	e.Facts = e.Sim.Facts()
	e.App, err = app.Open(ctx, app.Config{
		Addr: ln.Addr().String(), DataDir: tb.TempDir(),
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
	if _, err := e.App.EnsureAdministrator(ctx, e2eAdminEmail, e2ePassword); err != nil {
		tb.Fatalf("EnsureAdministrator: %v", err)
	}

	e.session = signIn(tb, e.URL, e2eAdminEmail, e2ePassword)
	var ds struct{ ID, Status string }
	e.session.mustDo(http.StatusCreated, "POST", "/api/v1/datasources",
		map[string]any{"name": e2eDSName, "type": "office365", "settings": map[string]any{"readWrite": true}}, &ds)
	e.DSID = ds.ID
	e.authorize(tb)

	var tok struct{ Token string }
	e.session.mustDo(http.StatusCreated, "POST", "/api/v1/tokens", map[string]string{"name": "e2e"}, &tok)
	if tok.Token == "" {
		tb.Fatal("POST /api/v1/tokens returned no token")
	}
	e.Token = tok.Token
	return e
}

// authorize walks the Microsoft sign-in as the tenant's administrator, as
// the popup would, and hands Microsoft's answer to tenantlink's callback.
func (e *opEnv) authorize(tb testing.TB) {
	tb.Helper()
	var start struct{ URL string }
	e.session.mustDo(http.StatusOK, "POST", "/api/v1/datasources/"+e.DSID+"/authorize", nil, &start)
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	loc, err := identitytest.SignIn(&http.Client{Jar: jar, Timeout: time.Minute}, start.URL, e.Facts.AdminUser, e.Facts.AdminPassword)
	if err != nil {
		tb.Fatalf("Microsoft sign-in: %v", err)
	}
	var cb struct {
		OK      bool
		Message string
	}
	e.session.mustDo(http.StatusOK, "GET", loc.RequestURI(), nil, &cb)
	if !cb.OK {
		tb.Fatalf("authorization callback: %s", cb.Message)
	}
}

// apiCaller is a minimal JSON client of tenantlink's API for setting up
// and checking what the CLI did.
type apiCaller struct {
	tb    testing.TB
	base  string
	hc    *http.Client
	csrf  string
	token string
}

func signIn(tb testing.TB, base, email, pw string) *apiCaller {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &apiCaller{tb: tb, base: base, hc: &http.Client{Jar: jar, Timeout: time.Minute}}
	var out struct{ CSRFToken string }
	c.mustDo(http.StatusOK, "POST", "/api/v1/session", map[string]string{"email": email, "password": pw}, &out)
	if out.CSRFToken == "" {
		tb.Fatal("POST /api/v1/session returned no CSRF token")
	}
	c.csrf = out.CSRFToken
	return c
}

func (c *apiCaller) mustDo(want int, method, path string, body, out any) {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read: %v", method, path, err)
	}
	if resp.StatusCode != want {
		c.tb.Fatalf("%s %s: status %d, want %d; body: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.tb.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// runCLI runs `tenantlink args...` in process, as the binary would.
func runCLI(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// opJSON runs an operation with --output json and decodes its items.
func (e *opEnv) opJSON(tb testing.TB, args ...string) []map[string]any {
	tb.Helper()
	argv := append([]string{"op", e2eDSName}, args...)
	argv = append(argv, "--server", e.URL, "--output", "json")
	code, stdout, stderr := runCLI(tb, argv...)
	if code != 0 {
		tb.Fatalf("tenantlink %s: exit %d; stderr: %s", strings.Join(argv, " "), code, stderr)
	}
	var out struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		tb.Fatalf("tenantlink %s: output is not JSON (%v):\n%s", strings.Join(argv, " "), err, stdout)
	}
	return out.Items
}

func TestOpEndToEnd(t *testing.T) {
	e := startOpEnv(t, opEnvOptions{})
	t.Setenv("TENANTLINK_TOKEN", e.Token)

	// The tenant's users and its group, as the CLI lists them.
	users := e.opJSON(t, "UserList")
	if len(users) < 3 {
		t.Fatalf("UserList: %d users, want at least 3", len(users))
	}
	groups := e.opJSON(t, "GroupList")
	if len(groups) != 1 {
		t.Fatalf("GroupList: %d groups, want the simulator's 1", len(groups))
	}
	groupName := groups[0]["displayName"].(string)
	// Two users other than the administrator who signed in.
	var pick []map[string]any
	for _, u := range users {
		if !strings.EqualFold(u["userPrincipalName"].(string), e.Facts.AdminUser) && len(pick) < 2 {
			pick = append(pick, u)
		}
	}
	target := pick[0]
	upn := target["userPrincipalName"].(string)

	t.Run("FindUsers as a table", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "op", e2eDSName, "FindUsers", "query="+upn, "field=userPrincipalName", "match=equals", "--server", e.URL)
		if code != 0 {
			t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("got %d lines, want header, one row and the count:\n%s", len(lines), stdout)
		}
		header := strings.Fields(lines[0])
		if len(header) < 3 || header[0] != "ID" || header[1] != "USERPRINCIPALNAME" || header[2] != "DISPLAYNAME" {
			t.Errorf("header = %q, want ID USERPRINCIPALNAME DISPLAYNAME … (the declared outputs in order)", lines[0])
		}
		if row := strings.Fields(lines[1]); len(row) < 2 || row[0] != target["id"] || row[1] != upn {
			t.Errorf("row = %q, want %s %s …", lines[1], target["id"], upn)
		}
		if got, want := lines[2], "(1 item(s))"; got != want {
			t.Errorf("count line = %q, want %q", got, want)
		}
	})

	t.Run("FindUsers as JSON", func(t *testing.T) {
		got := e.opJSON(t, "FindUsers", "query="+upn, "field=userPrincipalName", "match=equals")
		want := []map[string]any{target}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("items (-UserList's record +FindUsers'):\n%s", diff)
		}
	})

	t.Run("AddUserToGroup is idempotent", func(t *testing.T) {
		args := []string{"AddUserToGroup", "user=" + pick[0]["userPrincipalName"].(string), "user=" + pick[1]["id"].(string), "group=" + groupName}
		for _, want := range []string{"added", "already a member"} {
			items := e.opJSON(t, args...)
			var got []string
			for _, it := range items {
				got = append(got, fmt.Sprint(it["result"]))
				if it["groupId"] != groups[0]["id"] {
					t.Errorf("item %v: groupId %v, want %v", it, it["groupId"], groups[0]["id"])
				}
			}
			if diff := cmp.Diff([]string{want, want}, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		}
	})

	tests := []struct {
		name       string
		args       []string
		token      string
		wantCode   int
		wantStderr []string
	}{
		{"unknown input", []string{"op", e2eDSName, "FindUsers", "query=a", "colour=blue"}, e.Token, 1,
			[]string{`Find Users has no input "colour"`, "its inputs are query, field, match, maxRows", "HTTP 400"}},
		{"bad enum", []string{"op", e2eDSName, "FindUsers", "query=a", "match=fuzzy"}, e.Token, 1,
			[]string{`Input "match" must be one of startsWith, equals, contains`}},
		{"unknown operation", []string{"op", e2eDSName, "DeleteEverything"}, e.Token, 1,
			[]string{`no operation "DeleteEverything"`, "tenantlink op"}},
		{"unknown data source", []string{"op", "Fabrikam", "UserList"}, e.Token, 1,
			[]string{`no data source named "Fabrikam"`}},
		{"no token", []string{"op", e2eDSName, "UserList"}, "", 1,
			[]string{"an API token is required", "TENANTLINK_TOKEN"}},
		{"revoked or wrong token", []string{"op", e2eDSName, "UserList"}, "tl_not-a-token", 1,
			[]string{"HTTP 401"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TENANTLINK_TOKEN", tc.token)
			code, stdout, stderr := runCLI(t, append(tc.args, "--server", e.URL)...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", stdout)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, w)
				}
			}
		})
	}
}
