package identity_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tenantlink/tenantlink/m365sim/identity"
)

// TestTokenEndpointErrors asserts Microsoft's answer (status, error, first
// AADSTS code, suberror) for each refusal of the token endpoint.
func TestTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		name         string
		tenant       string
		setup        func(t *testing.T, e *env) url.Values
		wantStatus   int
		wantError    string
		wantCode     int
		wantSuberror string
	}{
		{
			name: "bad client secret", tenant: tenantA, wantStatus: 401, wantError: "invalid_client", wantCode: 7000215,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm(e.signIn(t, browser(t), tenantA, adminUPN))
				f.Set("client_secret", "wrong")
				return f
			},
		},
		{
			name: "missing client secret", tenant: tenantA, wantStatus: 401, wantError: "invalid_client", wantCode: 7000218,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm("x", "y")
				f.Del("client_secret")
				return f
			},
		},
		{
			name: "unknown client", tenant: tenantA, wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm("x", "y")
				f.Set("client_id", "99999999-0000-0000-0000-000000000000")
				return f
			},
		},
		{
			name: "unknown tenant", tenant: "nowhere.example", wantStatus: 400, wantError: "invalid_tenant", wantCode: 90002,
			setup: func(t *testing.T, e *env) url.Values { return codeForm("x", "y") },
		},
		{
			name: "unsupported grant type", tenant: tenantA, wantStatus: 400, wantError: "unsupported_grant_type", wantCode: 70003,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm("x", "y")
				f.Set("grant_type", "password")
				return f
			},
		},
		{
			name: "missing grant type", tenant: tenantA, wantStatus: 400, wantError: "invalid_request", wantCode: 900144,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm("x", "y")
				f.Del("grant_type")
				return f
			},
		},
		{
			name: "code redeemed twice", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 54005,
			setup: func(t *testing.T, e *env) url.Values {
				code, v := e.signIn(t, browser(t), tenantA, adminUPN)
				e.redeem(t, code, v)
				return codeForm(code, v)
			},
		},
		{
			name: "PKCE verifier mismatch", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 501481,
			setup: func(t *testing.T, e *env) url.Values {
				code, _ := e.signIn(t, browser(t), tenantA, adminUPN)
				return codeForm(code, oauth2.GenerateVerifier())
			},
		},
		{
			name: "code expired", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 70008,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm(e.signIn(t, browser(t), tenantA, adminUPN))
				e.clock.Advance(10*time.Minute + time.Second)
				return f
			},
		},
		{
			name: "redirect URI differs from authorize", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 500112,
			setup: func(t *testing.T, e *env) url.Values {
				f := codeForm(e.signIn(t, browser(t), tenantA, adminUPN))
				f.Set("redirect_uri", "http://127.0.0.1/other")
				return f
			},
		},
		{
			name: "malformed code", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 9002313,
			setup: func(t *testing.T, e *env) url.Values { return codeForm("not-a-code", "v") },
		},
		{
			name: "refresh after revokeSignInSessions", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 50173, wantSuberror: "bad_token",
			setup: func(t *testing.T, e *env) url.Values {
				tok := e.signedInTokens(t, adminUPN)
				if err := e.p.RevokeUser(tenantA, "11111111-0000-0000-0000-000000000001"); err != nil {
					t.Fatalf("RevokeUser: %v", err)
				}
				return refreshForm(tok["refresh_token"].(string))
			},
		},
		{
			name: "refresh inactive over 90 days", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 700082, wantSuberror: "bad_token",
			setup: func(t *testing.T, e *env) url.Values {
				tok := e.signedInTokens(t, adminUPN)
				e.clock.Advance(91 * 24 * time.Hour)
				return refreshForm(tok["refresh_token"].(string))
			},
		},
		{
			name: "refresh after consent withdrawn", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 65001, wantSuberror: "consent_required",
			setup: func(t *testing.T, e *env) url.Values {
				tok := e.signedInTokens(t, adminUPN)
				if err := e.p.RevokeApp(tenantA, clientID); err != nil {
					t.Fatalf("RevokeApp: %v", err)
				}
				return refreshForm(tok["refresh_token"].(string))
			},
		},
		{
			name: "refresh with a wider scope", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 70000,
			setup: func(t *testing.T, e *env) url.Values {
				tok := e.signedInTokens(t, adminUPN)
				f := refreshForm(tok["refresh_token"].(string))
				f.Set("scope", "User.ReadWrite.All offline_access")
				return f
			},
		},
		{
			name: "refresh of a disabled user", tenant: tenantA, wantStatus: 400, wantError: "invalid_grant", wantCode: 50057,
			setup: func(t *testing.T, e *env) url.Values {
				tok := e.signedInTokens(t, adminUPN)
				e.dir.setEnabled("11111111-0000-0000-0000-000000000001", false)
				return refreshForm(tok["refresh_token"].(string))
			},
		},
		{
			name: "client credentials on common", tenant: "common", wantStatus: 400, wantError: "invalid_request", wantCode: 9001023,
			setup: func(t *testing.T, e *env) url.Values { return ccForm(defaultGraph) },
		},
		{
			name: "client credentials on organizations", tenant: "organizations", wantStatus: 400, wantError: "invalid_request", wantCode: 9001023,
			setup: func(t *testing.T, e *env) url.Values { return ccForm(defaultGraph) },
		},
		{
			name: "client credentials with a dynamic scope", tenant: tenantA, wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012,
			setup: func(t *testing.T, e *env) url.Values { return ccForm("https://graph.microsoft.com/User.Read.All") },
		},
		{
			name: "client credentials without scope", tenant: tenantA, wantStatus: 400, wantError: "invalid_request", wantCode: 900144,
			setup: func(t *testing.T, e *env) url.Values { return ccForm("") },
		},
	}
	descRe := regexp.MustCompile(`^AADSTS(\d+): .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			status, got, _ := e.postToken(t, tc.tenant, tc.setup(t, e))
			if status != tc.wantStatus || got.Error != tc.wantError || firstCode(got) != tc.wantCode || got.Suberror != tc.wantSuberror {
				t.Fatalf("got %d %s %v suberror %q, want %d %s %d suberror %q (%s)",
					status, got.Error, got.ErrorCodes, got.Suberror, tc.wantStatus, tc.wantError, tc.wantCode, tc.wantSuberror, got.ErrorDescription)
			}
			m := descRe.FindStringSubmatch(got.ErrorDescription)
			if m == nil || m[1] != strconv.Itoa(tc.wantCode) {
				t.Errorf("error_description = %q, want Microsoft's AADSTS%d layout", got.ErrorDescription, tc.wantCode)
			}
			if got.TraceID == "" || got.CorrelationID == "" || got.Timestamp == "" || !strings.HasSuffix(got.ErrorURI, "/error?code="+strconv.Itoa(tc.wantCode)) {
				t.Errorf("diagnostic fields missing: %+v", got)
			}
		})
	}
}

const defaultGraph = "https://graph.microsoft.com/.default"

func ccForm(scope string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// signedInTokens signs the user in on tenant A in a fresh browser and
// redeems the code.
func (e *env) signedInTokens(t *testing.T, user string) map[string]any {
	t.Helper()
	code, v := e.signIn(t, browser(t), tenantA, user)
	return e.redeem(t, code, v)
}

// TestAuthorizeErrors: before the redirect URI is trusted, errors are pages
// (never redirects); after, they go back to the app with error and state.
func TestAuthorizeErrors(t *testing.T) {
	base := func() url.Values {
		return url.Values{
			"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
			"scope": {"openid User.Read"}, "state": {"s"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
		}
	}
	tests := []struct {
		name      string
		tenant    string
		change    func(url.Values)
		wantPage  string // AADSTS code on an error page
		wantError string // error on the redirect
	}{
		{name: "unknown tenant", tenant: "nowhere.example", change: func(url.Values) {}, wantPage: "AADSTS90002"},
		{name: "unknown client", tenant: tenantA, change: func(v url.Values) { v.Set("client_id", "99999999-0000-0000-0000-000000000000") }, wantPage: "AADSTS700016"},
		{name: "missing client", tenant: tenantA, change: func(v url.Values) { v.Del("client_id") }, wantPage: "AADSTS900144"},
		{name: "redirect URI not registered", tenant: tenantA, change: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1/callback/") }, wantPage: "AADSTS50011"},
		{name: "plain PKCE", tenant: tenantA, change: func(v url.Values) { v.Set("code_challenge_method", "plain") }, wantError: "invalid_request"},
		{name: "implicit flow", tenant: tenantA, change: func(v url.Values) { v.Set("response_type", "token") }, wantError: "unsupported_response_type"},
		{name: "no scope", tenant: tenantA, change: func(v url.Values) { v.Del("scope") }, wantError: "invalid_request"},
		{name: "unknown scope", tenant: tenantA, change: func(v url.Values) { v.Set("scope", "openid Nope.Read") }, wantError: "invalid_scope"},
		{name: "prompt none without session", tenant: tenantA, change: func(v url.Values) { v.Set("prompt", "none") }, wantError: "login_required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := base()
			tc.change(v)
			c := browser(t)
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Get(e.srv.URL + "/" + tc.tenant + "/oauth2/v2.0/authorize?" + v.Encode())
			if err != nil {
				t.Fatalf("GET authorize: %v", err)
			}
			body := readBody(t, resp)
			if tc.wantPage != "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, tc.wantPage+"</strong>") {
					t.Errorf("got %d location %q, want an error page with %s:\n%s", resp.StatusCode, resp.Header.Get("Location"), tc.wantPage, body)
				}
				return
			}
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("status %d, want a redirect: %v", resp.StatusCode, err)
			}
			if q := loc.Query(); q.Get("error") != tc.wantError || q.Get("state") != "s" || !strings.HasPrefix(q.Get("error_description"), "AADSTS") {
				t.Errorf("redirect = %s, want error=%s with state and an AADSTS description", loc, tc.wantError)
			}
		})
	}
}

func TestVerifyAccessTokenRefusals(t *testing.T) {
	e := newEnv(t)
	code, v := e.signIn(t, browser(t), tenantA, adminUPN)
	tok := e.redeem(t, code, v)

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	other, err := identity.New(identity.Options{Directory: e.dir, Now: e.clock.Now, Key: otherKey})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	other.RegisterApp(identity.App{ClientID: clientID, ClientSecret: secret, HomeTenantID: tenantA})
	srv2 := newServerFor(t, other)
	status, _, foreign := postTokenTo(t, srv2, tenantA, ccForm(defaultGraph))
	if status != http.StatusOK {
		t.Fatalf("foreign provider token: status %d", status)
	}

	tests := []struct {
		name, token, want string
	}{
		{"garbage", "not-a-jwt", "IDX14100"},
		{"three garbage parts", "a.b.c", "IDX14100"},
		{"signed by another key", foreign["access_token"].(string), "Invalid signature"},
		{"id token is not for Graph", tok["id_token"].(string), "Invalid audience"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.p.VerifyAccessToken(tc.token)
			var te *identity.TokenError
			if !errors.As(err, &te) || te.Code != "InvalidAuthenticationToken" || !strings.Contains(te.Message, tc.want) {
				t.Errorf("VerifyAccessToken = %v, want InvalidAuthenticationToken containing %q", err, tc.want)
			}
		})
	}
	t.Run("disabled user", func(t *testing.T) {
		e.dir.setEnabled("11111111-0000-0000-0000-000000000001", false)
		defer e.dir.setEnabled("11111111-0000-0000-0000-000000000001", true)
		if _, err := e.p.VerifyAccessToken(tok["access_token"].(string)); err == nil {
			t.Error("token of a disabled user accepted")
		}
	})
}

func TestIsAdminOnly(t *testing.T) {
	tests := []struct {
		scope string
		want  bool
	}{
		{"User.Read", false},
		{"User.ReadBasic.All", false},
		{"openid", false},
		{"offline_access", false},
		{"User.Read.All", true},
		{"https://graph.microsoft.com/GroupMember.Read.All", true},
		{"group.readwrite.all", true},
		{"Organization.Read.All", true},
		{"LicenseAssignment.ReadWrite.All", true},
		{"Directory.ReadWrite.All", true},
		{"Unknown.Scope", false},
	}
	for _, tc := range tests {
		t.Run(tc.scope, func(t *testing.T) {
			if got := identity.IsAdminOnly(tc.scope); got != tc.want {
				t.Errorf("IsAdminOnly(%q) = %v, want %v", tc.scope, got, tc.want)
			}
		})
	}
}

func TestCanConsentForTenant(t *testing.T) {
	tests := []struct {
		roles []string
		want  bool
	}{
		{nil, false},
		{[]string{"User Administrator"}, false},
		{[]string{"Global Administrator"}, true},
		{[]string{"Privileged Role Administrator"}, true},
		{[]string{"Groups Administrator", "cloud application administrator"}, true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.roles, "+"), func(t *testing.T) {
			if got := identity.CanConsentForTenant(identity.User{Roles: tc.roles}); got != tc.want {
				t.Errorf("CanConsentForTenant(%v) = %v, want %v", tc.roles, got, tc.want)
			}
		})
	}
}

// BenchmarkVerifyAccessToken measures the per-request cost the simulator's
// Graph handlers pay.
func BenchmarkVerifyAccessToken(b *testing.B) {
	e := newEnv(b)
	status, _, ok := e.postToken(b, tenantA, ccForm(defaultGraph))
	if status != http.StatusOK {
		b.Fatalf("client credentials: status %d", status)
	}
	raw := ok["access_token"].(string)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.p.VerifyAccessToken(raw); err != nil {
			b.Fatal(err)
		}
	}
}
