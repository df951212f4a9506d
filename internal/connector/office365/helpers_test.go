package office365

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

// redirectURL is tenantlink's callback as registered in the simulator. It
// is never fetched: SignIn stops at the redirect to it.
const redirectURL = "https://tenantlink.example/oauth/callback"

// memCreds is an in-memory connector.CredentialStore.
type memCreds struct {
	mu    sync.Mutex
	m     map[string][]byte
	saves int
}

func newMemCreds() *memCreds { return &memCreds{m: map[string][]byte{}} }

func (s *memCreds) Load(_ context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("memCreds: %s: %w", id, connector.ErrNotAuthorized)
	}
	return bytes.Clone(b), nil
}

func (s *memCreds) Save(_ context.Context, id string, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = bytes.Clone(b)
	s.saves++
	return nil
}

func (s *memCreds) secret(tb testing.TB, id string) secret {
	tb.Helper()
	b, err := s.Load(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	var sec secret
	if err := json.Unmarshal(b, &sec); err != nil {
		tb.Fatalf("stored credential is not JSON: %v", err)
	}
	return sec
}

func (s *memCreds) saveCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// counter counts the token requests a connector sends, by grant type.
type counter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") && r.Body != nil && r.GetBody != nil {
		body, err := r.GetBody()
		if err == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(body)
			body.Close()
			q, _ := url.ParseQuery(buf.String())
			c.mu.Lock()
			c.n[q.Get("grant_type")]++
			c.mu.Unlock()
		}
	}
	return c.base.RoundTrip(r)
}

func (c *counter) count(grant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[grant]
}

// env is a running simulator with a connector pointed at it.
type env struct {
	sim   *m365sim.Server
	facts m365sim.Facts
	creds *memCreds
	count *counter
	conn  *Connector
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	sim, err := m365sim.New(m365sim.Options{Users: 6, Groups: 1, Seed: 7, RedirectURIs: []string{redirectURL}})
	if err != nil {
		tb.Fatalf("m365sim.New: %v", err)
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("start simulator: %v", err)
	}
	tb.Cleanup(func() { sim.Close() })
	e := &env{sim: sim, facts: sim.Facts(), creds: newMemCreds()}
	e.conn, e.count = e.connector(nil)
	return e
}

// connector returns a new Connector (with an empty token cache, as after a
// restart) for the simulator; edit changes its Config.
func (e *env) connector(edit func(*Config)) (*Connector, *counter) {
	cnt := &counter{base: http.DefaultTransport, n: map[string]int{}}
	cfg := Config{
		Authority: e.facts.URL, GraphURL: e.facts.URL,
		ClientID: e.facts.ClientID, ClientSecret: e.facts.ClientSecret,
		HTTPClient: &http.Client{Transport: cnt},
	}
	if edit != nil {
		edit(&cfg)
	}
	return New(cfg), cnt
}

// control calls a simulator control endpoint.
func (e *env) control(tb testing.TB, path string, body any) {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.Post(e.facts.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		tb.Fatalf("POST %s: status %d", path, resp.StatusCode)
	}
}

func newDataSource(id, authMode string, readWrite bool) *tenantlink.DataSource {
	return &tenantlink.DataSource{
		ID: id, Name: "Contoso " + id, Type: tenantlink.ConnectorOffice365,
		Settings: tenantlink.DataSourceSettings{AuthMode: authMode, ReadWrite: readWrite},
	}
}

// signIn walks Microsoft's pages in a fresh browser and returns the
// callback query.
func signIn(tb testing.TB, authURL, user, password string) url.Values {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := identitytest.SignIn(&http.Client{Jar: jar}, authURL, user, password)
	if err != nil {
		tb.Fatalf("sign in as %s: %v", user, err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != redirectURL {
		tb.Fatalf("sign-in ended at %s, want the callback %s", got, redirectURL)
	}
	return u.Query()
}

// authorize runs Begin, the sign-in and Complete with c; the grant is not
// stored.
func authorize(tb testing.TB, c *Connector, ds *tenantlink.DataSource, user, password string) (*connector.Grant, error) {
	tb.Helper()
	ctx := context.Background()
	u, p, err := c.BeginAuthorize(ctx, ds, redirectURL)
	if err != nil {
		tb.Fatalf("BeginAuthorize: %v", err)
	}
	return c.CompleteAuthorize(ctx, ds, p, redirectURL, signIn(tb, u, user, password))
}

// mustAuthorize authorizes ds as the tenant administrator and stores the
// grant as the datasource service would.
func (e *env) mustAuthorize(tb testing.TB, ds *tenantlink.DataSource) *connector.Grant {
	tb.Helper()
	g, err := authorize(tb, e.conn, ds, e.facts.AdminUser, e.facts.AdminPassword)
	if err != nil {
		tb.Fatalf("authorize as %s: %v", e.facts.AdminUser, err)
	}
	if err := e.creds.Save(context.Background(), ds.ID, g.Secret); err != nil {
		tb.Fatal(err)
	}
	ds.Account, ds.GrantedScopes, ds.AuthorizedBy = g.Account, g.Scopes, g.AuthorizedBy
	return g
}
