package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tenantlink/tenantlink/m365sim/identity"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

const (
	tenantA     = "6e8d2c4a-1111-4a5b-9c3d-aaaaaaaaaaaa"
	tenantB     = "7f9e3d5b-2222-4b6c-8d4e-bbbbbbbbbbbb"
	clientID    = "0a1b2c3d-4e5f-4a6b-8c7d-000000000001"
	secret      = "s3cret~value"
	redirectURI = "http://127.0.0.1/callback"
	adminUPN    = "admin@contoso.onmicrosoft.com"
	memberUPN   = "megan@contoso.onmicrosoft.com"
	otherUPN    = "alex@fabrikam.onmicrosoft.com"
	disabledUPN = "gone@contoso.onmicrosoft.com"
	password    = "Passw0rd!"
)

// memDirectory is the smallest Directory the provider can run on.
type memDirectory struct {
	mu      sync.Mutex
	tenants []identity.Tenant
	users   []identity.User
}

func (d *memDirectory) TenantByIDOrDomain(s string) (identity.Tenant, bool) {
	for _, t := range d.tenants {
		if strings.EqualFold(t.ID, s) || strings.EqualFold(t.Domain, s) {
			return t, true
		}
	}
	return identity.Tenant{}, false
}

func (d *memDirectory) UserBySignInName(tenantID, name string) (identity.User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.users {
		if strings.EqualFold(u.TenantID, tenantID) && (strings.EqualFold(u.UserPrincipalName, name) || (u.Mail != "" && strings.EqualFold(u.Mail, name))) {
			return u, true
		}
	}
	return identity.User{}, false
}

func (d *memDirectory) UserByID(tenantID, id string) (identity.User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.users {
		if strings.EqualFold(u.TenantID, tenantID) && strings.EqualFold(u.ID, id) {
			return u, true
		}
	}
	return identity.User{}, false
}

func (d *memDirectory) CheckPassword(tenantID, userID, pw string) bool {
	_, ok := d.UserByID(tenantID, userID)
	return ok && pw == password
}

func (d *memDirectory) setEnabled(id string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.users {
		if d.users[i].ID == id {
			d.users[i].Enabled = on
		}
	}
}

func newDirectory() *memDirectory {
	return &memDirectory{
		tenants: []identity.Tenant{
			{ID: tenantA, Domain: "contoso.onmicrosoft.com", DisplayName: "Contoso"},
			{ID: tenantB, Domain: "fabrikam.onmicrosoft.com", DisplayName: "Fabrikam"},
		},
		users: []identity.User{
			{ID: "11111111-0000-0000-0000-000000000001", TenantID: tenantA, UserPrincipalName: adminUPN, DisplayName: "Adele Admin", GivenName: "Adele", Surname: "Admin", Mail: adminUPN, Enabled: true, Roles: []string{"Global Administrator"}},
			{ID: "11111111-0000-0000-0000-000000000002", TenantID: tenantA, UserPrincipalName: memberUPN, DisplayName: "Megan Bowen", Mail: "megan.bowen@contoso.com", Enabled: true},
			{ID: "11111111-0000-0000-0000-000000000003", TenantID: tenantA, UserPrincipalName: disabledUPN, DisplayName: "Gone", Enabled: false},
			{ID: "22222222-0000-0000-0000-000000000001", TenantID: tenantB, UserPrincipalName: otherUPN, DisplayName: "Alex Wilber", Enabled: true, Roles: []string{"Global Administrator"}},
		},
	}
}

// clock is an injectable, advanceable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// sharedKey keeps RSA key generation out of every test.
func sharedKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

// env is one identity platform on loopback.
type env struct {
	p     *identity.Provider
	srv   *httptest.Server
	dir   *memDirectory
	clock *clock
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := newDirectory()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	p, err := identity.New(identity.Options{Directory: dir, Now: c.Now, Key: sharedKey(tb)})
	if err != nil {
		tb.Fatalf("identity.New: %v", err)
	}
	srv := httptest.NewServer(p.Handler())
	tb.Cleanup(srv.Close)
	p.SetBaseURL(srv.URL)
	p.RegisterApp(identity.App{
		ClientID: clientID, ClientSecret: secret, DisplayName: "tenantlink",
		HomeTenantID: tenantA, RedirectURIs: []string{redirectURI}, MultiTenant: true,
	})
	return &env{p: p, srv: srv, dir: dir, clock: c}
}

func (e *env) config(tenant string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		RedirectURL:  redirectURI,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.srv.URL + "/" + tenant + "/oauth2/v2.0/authorize",
			TokenURL:  e.srv.URL + "/" + tenant + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (e *env) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
}

// browser is an HTTP client with its own cookie jar, like one browser
// profile.
func browser(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatalf("cookiejar.New: %v", err)
	}
	return &http.Client{Jar: jar}
}

var readScopes = []string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read.All", "GroupMember.Read.All", "Organization.Read.All"}

// signIn runs authorize through the pages and returns the code and PKCE
// verifier, failing the test if the redirect carries no code.
func (e *env) signIn(tb testing.TB, c *http.Client, tenant, user string, extra ...oauth2.AuthCodeOption) (string, string) {
	tb.Helper()
	verifier := oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-0S6_WzA2Mj")}, extra...)
	u := e.config(tenant, readScopes...).AuthCodeURL("st4te", opts...)
	got, err := identitytest.SignIn(c, u, user, password)
	if err != nil {
		tb.Fatalf("SignIn(%s): %v", user, err)
	}
	code := got.Query().Get("code")
	if code == "" || got.Query().Get("state") != "st4te" {
		tb.Fatalf("SignIn(%s) redirected to %s, want code and state st4te", user, got)
	}
	return code, verifier
}

// tokenError is the JSON error body of the token endpoint.
type tokenError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	Suberror         string `json:"suberror"`
}

// postToken posts a raw token request and decodes the answer.
func (e *env) postToken(tb testing.TB, tenant string, form url.Values) (int, tokenError, map[string]any) {
	tb.Helper()
	resp, err := e.srv.Client().PostForm(e.srv.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		tb.Fatalf("POST token: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read token answer: %v", err)
	}
	var te tokenError
	var ok map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &ok); err != nil {
			tb.Fatalf("decode token answer %s: %v", body, err)
		}
	} else if err := json.Unmarshal(body, &te); err != nil {
		tb.Fatalf("decode token error %s: %v", body, err)
	}
	return resp.StatusCode, te, ok
}

func codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "client_id": {clientID}, "client_secret": {secret},
		"code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {secret}, "refresh_token": {rt}}
}

// redeem exchanges a code and returns the decoded success answer.
func (e *env) redeem(tb testing.TB, code, verifier string) map[string]any {
	tb.Helper()
	status, te, ok := e.postToken(tb, tenantA, codeForm(code, verifier))
	if status != http.StatusOK {
		tb.Fatalf("redeem code: status %d %s %s", status, te.Error, te.ErrorDescription)
	}
	return ok
}

var ctxRe = regexp.MustCompile(`name="ctx" value="([^"]+)"`)
var actionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// walkTo opens authorizeURL and submits up to steps pages (username,
// password, "Stay signed in? Yes"), returning the page shown next. It lets
// tests look at pages that identitytest.SignIn clicks through.
func walkTo(tb testing.TB, e *env, c *http.Client, authorizeURL, user string, steps int) string {
	tb.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c = &nc
	resp, err := c.Get(authorizeURL)
	if err != nil {
		tb.Fatalf("GET authorize: %v", err)
	}
	page := readBody(tb, resp)
	fields := []url.Values{
		{"loginfmt": {user}, "action": {"next"}},
		{"passwd": {password}, "action": {"signin"}},
		{"action": {"yes"}},
	}
	for i := 0; i < steps; i++ {
		m, a := ctxRe.FindStringSubmatch(page), actionRe.FindStringSubmatch(page)
		if m == nil || a == nil {
			tb.Fatalf("step %d: page has no sign-in form:\n%s", i, page)
		}
		v := fields[i]
		v.Set("ctx", m[1])
		resp, err := c.PostForm(e.srv.URL+a[1], v)
		if err != nil {
			tb.Fatalf("step %d: post: %v", i, err)
		}
		page = readBody(tb, resp)
		if loc := resp.Header.Get("Location"); loc != "" {
			return "redirect: " + loc
		}
	}
	return page
}

func readBody(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return string(b)
}

func fetchJSON(tb testing.TB, c *http.Client, u string) map[string]any {
	tb.Helper()
	resp, err := c.Get(u)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(readBody(tb, resp)), &m); err != nil {
		tb.Fatalf("decode %s: %v", u, err)
	}
	return m
}

func newServerFor(tb testing.TB, p *identity.Provider) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(p.Handler())
	tb.Cleanup(srv.Close)
	p.SetBaseURL(srv.URL)
	return srv
}

func postTokenTo(tb testing.TB, srv *httptest.Server, tenant string, form url.Values) (int, tokenError, map[string]any) {
	tb.Helper()
	return (&env{srv: srv}).postToken(tb, tenant, form)
}
