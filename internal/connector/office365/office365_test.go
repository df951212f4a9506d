package office365

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

func TestBeginAuthorize(t *testing.T) {
	const tid = "11111111-2222-4333-8444-555555555555"
	c := New(Config{Authority: "https://login.example/", ClientID: "app-id", ClientSecret: "s3cret"})
	type want struct {
		Path    string
		Query   map[string]string
		Purpose string
	}
	read := "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/GroupMember.Read.All https://graph.microsoft.com/Organization.Read.All openid profile email offline_access"
	write := "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/GroupMember.Read.All https://graph.microsoft.com/Organization.Read.All " +
		"https://graph.microsoft.com/Group.ReadWrite.All https://graph.microsoft.com/GroupMember.ReadWrite.All https://graph.microsoft.com/User.ReadWrite.All https://graph.microsoft.com/LicenseAssignment.ReadWrite.All openid profile email offline_access"
	delegated := func(scope string) map[string]string {
		return map[string]string{
			"client_id": "app-id", "response_type": "code", "redirect_uri": redirectURL, "scope": scope,
			"code_challenge_method": "S256", "prompt": "select_account", "response_mode": "query",
		}
	}
	tests := []struct {
		name    string
		account string
		mode    string
		rw      bool
		want    want
	}{
		{"delegated read, tenant unknown", "", tenantlink.AuthDelegated, false,
			want{"/organizations/oauth2/v2.0/authorize", delegated(read), PurposeAuthorize}},
		{"delegated read/write", "", "", true,
			want{"/organizations/oauth2/v2.0/authorize", delegated(write), PurposeAuthorize}},
		{"delegated, tenant pinned", strings.ToUpper(tid), tenantlink.AuthDelegated, false,
			want{"/" + tid + "/oauth2/v2.0/authorize", delegated(read), PurposeAuthorize}},
		{"application", "", tenantlink.AuthApplication, true,
			want{"/organizations/v2.0/adminconsent", map[string]string{
				"client_id": "app-id", "redirect_uri": redirectURL, "scope": "https://graph.microsoft.com/.default"}, PurposeAdminConsent}},
		{"application, tenant pinned", tid, tenantlink.AuthApplication, false,
			want{"/" + tid + "/v2.0/adminconsent", map[string]string{
				"client_id": "app-id", "redirect_uri": redirectURL, "scope": "https://graph.microsoft.com/.default"}, PurposeAdminConsent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := newDataSource("ds1", tt.mode, tt.rw)
			ds.Account = tt.account
			raw, p, err := c.BeginAuthorize(context.Background(), ds, redirectURL)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			got := want{Path: u.Path, Query: map[string]string{}, Purpose: p.Purpose}
			for k := range tt.want.Query {
				got.Query[k] = q.Get(k)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("authorize URL (-want +got):\n%s", diff)
			}
			if q.Get("state") != p.State || len(p.State) < 32 {
				t.Errorf("state in URL %q, pending %q: want the same unguessable value", q.Get("state"), p.State)
			}
			if strings.Contains(raw, "s3cret") {
				t.Errorf("the authorize URL carries the client secret: %s", raw)
			}
			if p.Purpose == PurposeAuthorize {
				if q.Get("nonce") != p.Nonce || p.Nonce == "" {
					t.Errorf("nonce in URL %q, pending %q", q.Get("nonce"), p.Nonce)
				}
				if q.Get("code_challenge") == "" || p.Verifier == "" || q.Get("code_challenge") == p.Verifier {
					t.Errorf("code_challenge %q, verifier %q: want an S256 challenge of a kept verifier", q.Get("code_challenge"), p.Verifier)
				}
			}
		})
	}
	t.Run("two authorizations differ", func(t *testing.T) {
		ds := newDataSource("ds1", "", false)
		_, p1, _ := c.BeginAuthorize(context.Background(), ds, redirectURL)
		_, p2, _ := c.BeginAuthorize(context.Background(), ds, redirectURL)
		if p1.State == p2.State || p1.Nonce == p2.Nonce || p1.Verifier == p2.Verifier {
			t.Errorf("state, nonce and verifier repeat across authorizations: %+v, %+v", p1, p2)
		}
	})
}

func TestRequiredScopes(t *testing.T) {
	c := New(Config{})
	got := c.RequiredScopes(newDataSource("x", "", true))
	want := []string{"User.Read.All", "GroupMember.Read.All", "Organization.Read.All",
		"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "User.ReadWrite.All", "LicenseAssignment.ReadWrite.All"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read/write scopes (-want +got):\n%s", diff)
	}
	if got := c.RequiredScopes(newDataSource("x", "", false)); len(got) != 3 {
		t.Errorf("read scopes = %v, want the three read permissions", got)
	}
}

func TestDelegatedAuthorizeAndTest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("ds-deleg", tenantlink.AuthDelegated, false)
	g := e.mustAuthorize(t, ds)

	got := struct {
		Account, AuthorizedBy string
		Scopes                []string
	}{g.Account, g.AuthorizedBy, g.Scopes}
	want := struct {
		Account, AuthorizedBy string
		Scopes                []string
	}{e.facts.TenantID, e.facts.AdminUser, []string{"GroupMember.Read.All", "Organization.Read.All", "User.Read.All"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grant (-want +got):\n%s", diff)
	}
	sec := e.creds.secret(t, ds.ID)
	if sec.RefreshToken == "" || sec.Mode != tenantlink.AuthDelegated || sec.Tenant != e.facts.TenantID {
		t.Errorf("secret = mode %q tenant %q refresh token set %v; want delegated, %s, a refresh token", sec.Mode, sec.Tenant, sec.RefreshToken != "", e.facts.TenantID)
	}
	if strings.Contains(string(g.Secret), e.facts.ClientSecret) {
		t.Error("the grant's secret blob carries the client secret")
	}

	if res := e.conn.Test(ctx, ds, e.creds); res != (connector.TestResult{OK: true, Message: "Connection test succeeded"}) {
		t.Errorf("Test right after authorizing = %+v, want OK", res)
	}
	// After a restart the cache is empty: the test must refresh, and save
	// the rotated refresh token.
	c2, cnt := e.connector(nil)
	if res := c2.Test(ctx, ds, e.creds); res != (connector.TestResult{OK: true, Message: "Connection test succeeded"}) {
		t.Errorf("Test after restart = %+v, want OK", res)
	}
	if n := cnt.count("refresh_token"); n != 1 {
		t.Errorf("refresh requests after restart = %d, want 1", n)
	}
	if got := e.creds.secret(t, ds.ID).RefreshToken; got == sec.RefreshToken {
		t.Error("the rotated refresh token was not saved")
	}

	// Re-authorizing the same tenant works with Account pinned.
	if _, err := authorize(t, e.conn, ds, e.facts.AdminUser, e.facts.AdminPassword); err != nil {
		t.Errorf("re-authorize with Account pinned: %v", err)
	}
}

func TestAuthorizeRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other, err := e.sim.AddTenant("fabrikam.onmicrosoft.com", 4, 99)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T)
		complete func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error)
		code     string
		contains []string
	}{
		{
			name: "non-administrator, no consent yet",
			complete: func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error) {
				return authorize(t, e.conn, ds, e.facts.MemberUser, e.facts.MemberPassword)
			},
			code:     tenantlink.EFORBIDDEN,
			contains: []string{"not an administrator of the tenant", "AADSTS"},
		},
		{
			name: "non-administrator, tenant-wide consent already granted",
			setup: func(t *testing.T) {
				e.sim.Identity().GrantConsent(e.facts.TenantID, e.facts.ClientID, append(readScopes, oidcScopes...), nil)
			},
			complete: func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error) {
				return authorize(t, e.conn, ds, e.facts.MemberUser, e.facts.MemberPassword)
			},
			code:     tenantlink.EFORBIDDEN,
			contains: []string{e.facts.MemberUser, "is not an administrator of the tenant (needs Global, Privileged Role, User, Groups or License Administrator)"},
		},
		{
			name: "state mismatch",
			complete: func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error) {
				u, p, err := e.conn.BeginAuthorize(ctx, ds, redirectURL)
				if err != nil {
					t.Fatal(err)
				}
				q := signIn(t, u, e.facts.AdminUser, e.facts.AdminPassword)
				q.Set("state", "forged")
				return e.conn.CompleteAuthorize(ctx, ds, p, redirectURL, q)
			},
			code:     tenantlink.EINVALID,
			contains: []string{"state mismatch"},
		},
		{
			name: "nonce mismatch",
			complete: func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error) {
				u, p, err := e.conn.BeginAuthorize(ctx, ds, redirectURL)
				if err != nil {
					t.Fatal(err)
				}
				q := signIn(t, u, e.facts.AdminUser, e.facts.AdminPassword)
				p.Nonce = "another-authorization"
				return e.conn.CompleteAuthorize(ctx, ds, p, redirectURL, q)
			},
			code:     tenantlink.EINVALID,
			contains: []string{"nonce mismatch"},
		},
		{
			name: "id token from another tenant than Account",
			complete: func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error) {
				u, p, err := e.conn.BeginAuthorize(ctx, ds, redirectURL)
				if err != nil {
					t.Fatal(err)
				}
				q := signIn(t, u, other.AdminUser, other.AdminPassword)
				ds.Account = e.facts.TenantID // authorized meanwhile for Contoso
				return e.conn.CompleteAuthorize(ctx, ds, p, redirectURL, q)
			},
			code:     tenantlink.EFORBIDDEN,
			contains: []string{"tenant " + other.TenantID, "belongs to tenant " + e.facts.TenantID},
		},
		{
			name: "consent declined",
			complete: func(t *testing.T, ds *tenantlink.DataSource) (*connector.Grant, error) {
				_, p, err := e.conn.BeginAuthorize(ctx, ds, redirectURL)
				if err != nil {
					t.Fatal(err)
				}
				q := url.Values{"state": {p.State}, "error": {"access_denied"},
					"error_description": {"AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x"}}
				return e.conn.CompleteAuthorize(ctx, ds, p, redirectURL, q)
			},
			code:     tenantlink.EFORBIDDEN,
			contains: []string{"(AADSTS65004)", "Ask a Global Administrator to click Authorize."},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sim.Reset()
			if tt.setup != nil {
				tt.setup(t)
			}
			ds := newDataSource("ds-refused-"+string(rune('a'+i)), tenantlink.AuthDelegated, false)
			saves := e.creds.saveCount()
			g, err := tt.complete(t, ds)
			if g != nil || err == nil {
				t.Fatalf("CompleteAuthorize = %+v, %v; want no grant and an error", g, err)
			}
			if got := tenantlink.ErrorCode(err); got != tt.code {
				t.Errorf("error code = %q, want %q (%v)", got, tt.code, err)
			}
			msg := tenantlink.ErrorMessage(err)
			t.Logf("message: %s", msg)
			for _, s := range tt.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
			if got := e.creds.saveCount(); got != saves {
				t.Errorf("credential saves = %d, want %d: a refused authorization stores nothing", got, saves)
			}
		})
	}
}

func TestGrantRefusedAfterUse(t *testing.T) {
	tests := []struct {
		name   string
		refuse func(t *testing.T, e *env)
		code   string
	}{
		{"sessions revoked", func(t *testing.T, e *env) {
			e.control(t, "/_sim/revoke", map[string]string{"user": e.facts.AdminUser})
		}, "AADSTS50173"},
		{"refresh token inactive 91 days", func(t *testing.T, e *env) {
			e.control(t, "/_sim/clock", map[string]string{"advance": "2184h"})
		}, "AADSTS700082"},
		{"consent withdrawn", func(t *testing.T, e *env) {
			e.control(t, "/_sim/revoke", map[string]any{"app": true})
		}, "AADSTS65001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			ds := newDataSource("ds-use", tenantlink.AuthDelegated, false)
			e.mustAuthorize(t, ds)
			gc, err := e.conn.Client(ctx, ds, e.creds)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gc.Organization(ctx); err != nil {
				t.Fatalf("Organization before refusal: %v", err)
			}
			tt.refuse(t, e)

			// A restarted connector must refresh and is refused at once.
			c2, _ := e.connector(nil)
			res := c2.Test(ctx, ds, e.creds)
			if res.OK || !res.Reauthorize || !strings.Contains(res.Message, tt.code) || !strings.Contains(res.Message, "Re-Authorize") {
				t.Errorf("Test = %+v, want Reauthorize naming %s and Re-Authorize", res, tt.code)
			}
			// Microsoft may forget a refused refresh token, so a second try
			// names another code, but it is still a refused grant.
			_, err = c2.Client(ctx, ds, e.creds)
			if !errors.Is(err, connector.ErrReauthorize) {
				t.Errorf("Client after refusal: err = %v, want connector.ErrReauthorize", err)
			}
		})
	}
}

// TestGraph401RefreshesOnce checks the long-lived client path: the cached
// access token is refused by Graph after a revocation, so the client
// drops it, refreshes once and reports the refused grant without retrying.
func TestGraph401RefreshesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("ds-401", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	gc, err := e.conn.Client(ctx, ds, e.creds)
	if err != nil {
		t.Fatal(err)
	}
	e.control(t, "/_sim/revoke", map[string]string{"user": e.facts.AdminUser})
	before := e.count.count("refresh_token")
	_, err = gc.Organization(ctx)
	assertReauthorize(t, err, "AADSTS50173")
	if got := e.count.count("refresh_token") - before; got != 1 {
		t.Errorf("refresh requests after the 401 = %d, want 1", got)
	}
}

func assertReauthorize(tb testing.TB, err error, code string) {
	tb.Helper()
	if !errors.Is(err, connector.ErrReauthorize) {
		tb.Fatalf("err = %v, want one wrapping connector.ErrReauthorize", err)
	}
	msg := tenantlink.ErrorMessage(err)
	if !strings.Contains(msg, code) || !strings.Contains(msg, "Click Re-Authorize") {
		tb.Errorf("message %q, want it to name %s and say Click Re-Authorize", msg, code)
	}
}

func TestWrongClientSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("ds-secret", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	c2, _ := e.connector(func(c *Config) { c.ClientSecret = "not-the-secret" })
	res := c2.Test(ctx, ds, e.creds)
	want := connector.TestResult{Message: "The client secret of tenantlink's app registration is wrong (AADSTS7000215): fix --ms-client-secret-file."}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Test with a wrong client secret (-want +got):\n%s", diff)
	}
	_, err := c2.Client(ctx, ds, e.creds)
	if errors.Is(err, connector.ErrReauthorize) {
		t.Errorf("a wrong client secret is reported as a refused grant: %v", err)
	}
}

func TestConcurrentRefreshIsShared(t *testing.T) {
	e := newEnv(t)
	ds := newDataSource("ds-many", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	old := e.creds.secret(t, ds.ID).RefreshToken
	saves := e.creds.saveCount()

	c2, cnt := e.connector(nil) // empty cache: every caller needs a token
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	start := make(chan struct{})
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			gc, err := c2.Client(context.Background(), ds, e.creds)
			if err == nil {
				_, err = gc.Organization(context.Background())
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("caller: %v", err)
		}
	}
	if got := cnt.count("refresh_token"); got != 1 {
		t.Errorf("refresh requests for %d concurrent callers = %d, want 1", callers, got)
	}
	if got := e.creds.saveCount() - saves; got != 1 {
		t.Errorf("credential saves = %d, want 1 (the rotated refresh token)", got)
	}
	if got := e.creds.secret(t, ds.ID).RefreshToken; got == old || got == "" {
		t.Error("the rotated refresh token was not saved")
	}
}

func TestApplicationMode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("ds-app", tenantlink.AuthApplication, true)
	g, err := authorize(t, e.conn, ds, e.facts.AdminUser, e.facts.AdminPassword)
	if err != nil {
		t.Fatalf("admin consent: %v", err)
	}
	if g.Account != e.facts.TenantID || g.AuthorizedBy != "application" {
		t.Errorf("grant account %q by %q, want %s by application", g.Account, g.AuthorizedBy, e.facts.TenantID)
	}
	if miss := missing(g.Scopes, e.conn.RequiredScopes(ds)); len(miss) > 0 {
		t.Errorf("grant scopes %v lack %v", g.Scopes, miss)
	}
	if err := e.creds.Save(ctx, ds.ID, g.Secret); err != nil {
		t.Fatal(err)
	}
	ds.Account = g.Account
	if sec := e.creds.secret(t, ds.ID); sec.RefreshToken != "" || sec.Mode != tenantlink.AuthApplication {
		t.Errorf("application secret: mode %q, has refresh token %v; want application, none", sec.Mode, sec.RefreshToken != "")
	}
	c2, cnt := e.connector(nil)
	if res := c2.Test(ctx, ds, e.creds); !res.OK || res.Message != "Connection test succeeded" {
		t.Errorf("Test = %+v, want OK", res)
	}
	if got := cnt.count("client_credentials"); got != 1 {
		t.Errorf("client credential requests = %d, want 1", got)
	}

	t.Run("consent withdrawn", func(t *testing.T) {
		e.control(t, "/_sim/revoke", map[string]any{"app": true})
		c3, _ := e.connector(nil)
		res := c3.Test(ctx, ds, e.creds)
		if res.OK || !res.Reauthorize || !strings.Contains(res.Message, "admin consent was withdrawn") {
			t.Errorf("Test after the consent was withdrawn = %+v, want Reauthorize explaining it", res)
		}
	})

	t.Run("non-administrator", func(t *testing.T) {
		ds := newDataSource("ds-app-member", tenantlink.AuthApplication, false)
		g, err := authorize(t, e.conn, ds, e.facts.MemberUser, e.facts.MemberPassword)
		if g != nil || tenantlink.ErrorCode(err) != tenantlink.EFORBIDDEN {
			t.Fatalf("admin consent by a member = %+v, %v; want a forbidden error", g, err)
		}
		if msg := tenantlink.ErrorMessage(err); !strings.Contains(msg, "not an administrator") {
			t.Errorf("message %q does not say the account is not an administrator", msg)
		}
	})
}
