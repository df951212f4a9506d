package identity_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tenantlink/tenantlink/m365sim/identity"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

// TestAuthorizationCodeFlow drives the delegated flow the Office 365
// connector uses with unmodified x/oauth2 and go-oidc.
func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(e.ctx(), e.srv.Client())
	cfg := e.config(tenantA, readScopes...)
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "abc123"))

	got, err := identitytest.SignIn(browser(t), authURL, adminUPN, password)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if got.Query().Get("state") != "xyz" || got.Query().Get("code") == "" || got.Query().Get("session_state") == "" {
		t.Fatalf("redirect = %s, want code, state=xyz and session_state", got)
	}
	if want := redirectURI; got.Scheme+"://"+got.Host+got.Path != want {
		t.Errorf("redirected to %s, want %s", got, want)
	}

	tok, err := cfg.Exchange(ctx, got.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token although offline_access was requested")
	}
	if got, want := tok.Extra("expires_in"), float64(3599); got != want {
		t.Errorf("expires_in = %v, want %v", got, want)
	}
	wantScope := "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/GroupMember.Read.All https://graph.microsoft.com/Organization.Read.All openid profile email offline_access"
	if got := tok.Extra("scope"); got != wantScope {
		t.Errorf("scope = %v, want %v", got, wantScope)
	}

	// The id token verifies through discovery on the tenant's issuer, by
	// GUID and by verified domain alike.
	for _, tenant := range []string{tenantA, "contoso.onmicrosoft.com"} {
		t.Run("oidc via "+tenant, func(t *testing.T) {
			prov, err := oidc.NewProvider(ctx, e.srv.URL+"/"+tenant+"/v2.0")
			if tenant != tenantA {
				// Asked by domain, Microsoft's document names the GUID
				// issuer, which go-oidc refuses; clients use the GUID.
				var mismatch *oidc.IssuerMismatchError
				if !errors.As(err, &mismatch) {
					t.Fatalf("NewProvider by domain: err = %v, want an issuer mismatch", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewProvider: %v", err)
			}
			idt, err := prov.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, tok.Extra("id_token").(string))
			if err != nil {
				t.Fatalf("Verify id token: %v", err)
			}
			if idt.Nonce != "abc123" {
				t.Errorf("nonce = %q, want abc123", idt.Nonce)
			}
			var claims map[string]any
			if err := idt.Claims(&claims); err != nil {
				t.Fatalf("Claims: %v", err)
			}
			want := map[string]any{
				"aud": clientID, "iss": e.srv.URL + "/" + tenantA + "/v2.0", "tid": tenantA, "ver": "2.0",
				"oid": "11111111-0000-0000-0000-000000000001", "preferred_username": adminUPN,
				"name": "Adele Admin", "email": adminUPN, "nonce": "abc123",
			}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("id token %s = %v, want %v", k, claims[k], v)
				}
			}
			if sub, _ := claims["sub"].(string); sub == "" || sub == claims["oid"] {
				t.Errorf("sub = %q, want a pairwise identifier distinct from oid", sub)
			}
		})
	}

	at, err := e.p.VerifyAccessToken(tok.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	want := &identity.AccessToken{
		TenantID: tenantA, ObjectID: "11111111-0000-0000-0000-000000000001", AppID: clientID,
		Scopes:    []string{"User.Read.All", "GroupMember.Read.All", "Organization.Read.All", "openid", "profile", "email"},
		ExpiresAt: e.clock.Now().Add(3599 * time.Second),
	}
	if diff := cmp.Diff(want, at); diff != "" {
		t.Errorf("access token (-want +got):\n%s", diff)
	}

	// Refreshing returns a new refresh token each time, and the chain keeps
	// working.
	rt := tok.RefreshToken
	for i := range 3 {
		e.clock.Advance(2 * time.Hour)
		next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if next.RefreshToken == "" || next.RefreshToken == rt {
			t.Fatalf("refresh %d returned refresh token %q, want a new one", i, next.RefreshToken)
		}
		if _, err := e.p.VerifyAccessToken(next.AccessToken); err != nil {
			t.Fatalf("refreshed access token refused: %v", err)
		}
		rt = next.RefreshToken
	}
}

// TestOrganizationsEndpoint checks what a multi-tenant client sees: the
// {tenantid} issuer template, and each tenant's own tid and issuer signed
// by the same keys.
func TestOrganizationsEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(e.ctx(), e.srv.Client())
	base := e.srv.URL

	if _, err := oidc.NewProvider(ctx, base+"/organizations/v2.0"); err == nil {
		t.Fatal("oidc.NewProvider on organizations succeeded, want an issuer mismatch (the issuer is a template)")
	}
	var doc struct {
		Issuer, JWKSURI, AuthURL, TokenURL string
	}
	d := fetchJSON(t, e.srv.Client(), base+"/organizations/v2.0/.well-known/openid-configuration")
	doc.Issuer, doc.JWKSURI = d["issuer"].(string), d["jwks_uri"].(string)
	if want := base + "/{tenantid}/v2.0"; doc.Issuer != want {
		t.Fatalf("organizations issuer = %q, want %q", doc.Issuer, want)
	}
	// go-oidc without InsecureIssuerURLContext: build the provider from the
	// document, skip go-oidc's fixed issuer check, then require iss to be
	// the template with the token's own tid substituted.
	prov := (&oidc.ProviderConfig{IssuerURL: doc.Issuer, JWKSURL: doc.JWKSURI, AuthURL: d["authorization_endpoint"].(string), TokenURL: d["token_endpoint"].(string), Algorithms: []string{"RS256"}}).NewProvider(ctx)
	verifier := prov.Verifier(&oidc.Config{ClientID: clientID, SkipIssuerCheck: true})

	var kids []string
	for _, tc := range []struct{ user, tid string }{{adminUPN, tenantA}, {otherUPN, tenantB}} {
		t.Run(tc.tid, func(t *testing.T) {
			code, v := e.signIn(t, browser(t), "organizations", tc.user)
			status, te, ok := e.postToken(t, "organizations", codeForm(code, v))
			if status != http.StatusOK {
				t.Fatalf("redeem: %d %s", status, te.ErrorDescription)
			}
			idt, err := verifier.Verify(ctx, ok["id_token"].(string))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var c struct {
				Tid string `json:"tid"`
			}
			if err := idt.Claims(&c); err != nil {
				t.Fatalf("Claims: %v", err)
			}
			if c.Tid != tc.tid {
				t.Errorf("tid = %q, want %q", c.Tid, tc.tid)
			}
			if want := strings.Replace(doc.Issuer, "{tenantid}", c.Tid, 1); idt.Issuer != want {
				t.Errorf("iss = %q, want %q", idt.Issuer, want)
			}
			at, err := e.p.VerifyAccessToken(ok["access_token"].(string))
			if err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if at.TenantID != tc.tid {
				t.Errorf("access token tenant = %q, want %q", at.TenantID, tc.tid)
			}
			keys := fetchJSON(t, e.srv.Client(), base+"/"+tc.tid+"/discovery/v2.0/keys")["keys"].([]any)
			k := keys[0].(map[string]any)
			if want := base + "/" + tc.tid + "/v2.0"; k["issuer"] != want {
				t.Errorf("key issuer = %v, want %v", k["issuer"], want)
			}
			kids = append(kids, k["kid"].(string))
		})
	}
	if len(kids) != 2 || kids[0] != kids[1] {
		t.Errorf("kids per tenant = %v, want the same key for both", kids)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	cc := func(tenant string) *clientcredentials.Config {
		return &clientcredentials.Config{
			ClientID: clientID, ClientSecret: secret,
			TokenURL:  e.srv.URL + "/" + tenant + "/oauth2/v2.0/token",
			Scopes:    []string{"https://graph.microsoft.com/.default"},
			AuthStyle: oauth2.AuthStyleInHeader,
		}
	}
	tok, err := cc(tenantA).Token(e.ctx())
	if err != nil {
		t.Fatalf("Token before consent: %v", err)
	}
	at, err := e.p.VerifyAccessToken(tok.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	if len(at.Roles) != 0 || len(at.Scopes) != 0 {
		t.Errorf("before consent roles = %v scopes = %v, want none", at.Roles, at.Scopes)
	}

	e.p.GrantConsent(tenantA, clientID, nil, []string{"https://graph.microsoft.com/User.Read.All", "group.read.all"})
	tok, err = cc("contoso.onmicrosoft.com").Token(e.ctx())
	if err != nil {
		t.Fatalf("Token after consent: %v", err)
	}
	at, err = e.p.VerifyAccessToken(tok.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	want := &identity.AccessToken{TenantID: tenantA, AppID: clientID, Roles: []string{"Group.Read.All", "User.Read.All"}, ExpiresAt: e.clock.Now().Add(3599 * time.Second)}
	if diff := cmp.Diff(want, at, cmpopts.IgnoreFields(identity.AccessToken{}, "ObjectID")); diff != "" {
		t.Errorf("app token (-want +got):\n%s", diff)
	}
	if at.ObjectID == "" {
		t.Error("app token has no service principal oid")
	}
	if _, ok := tok.Extra("refresh_token").(string); ok {
		t.Error("client credentials returned a refresh token")
	}

	if err := e.p.RevokeApp(tenantA, clientID); err != nil {
		t.Fatalf("RevokeApp: %v", err)
	}
	tok, err = cc(tenantA).Token(e.ctx())
	if err != nil {
		t.Fatalf("Token after revoke: %v", err)
	}
	if at, err := e.p.VerifyAccessToken(tok.AccessToken); err != nil || len(at.Roles) != 0 {
		t.Errorf("after RevokeApp roles = %v (err %v), want none", at, err)
	}
}

// TestAdminConsentEndpoint covers /adminconsent for an admin and a member.
func TestAdminConsentEndpoint(t *testing.T) {
	tests := []struct {
		name, path, user string
		want             url.Values
		wantCode         string // first AADSTS code in error_description
	}{
		{
			name: "admin v2", path: "/organizations/v2.0/adminconsent", user: adminUPN,
			want: url.Values{"admin_consent": {"True"}, "tenant": {tenantA}, "scope": {"https://graph.microsoft.com/.default"}, "state": {"s1"}},
		},
		{
			name: "admin legacy", path: "/" + tenantA + "/adminconsent", user: adminUPN,
			want: url.Values{"admin_consent": {"True"}, "tenant": {tenantA}, "scope": {"https://graph.microsoft.com/.default"}, "state": {"s1"}},
		},
		{
			name: "member", path: "/" + tenantA + "/v2.0/adminconsent", user: memberUPN,
			want:     url.Values{"admin_consent": {"True"}, "error": {"consent_required"}, "state": {"s1"}},
			wantCode: "AADSTS65004",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "state": {"s1"}}
			if strings.Contains(tc.path, "v2.0") {
				q.Set("scope", "https://graph.microsoft.com/.default")
			}
			got, err := identitytest.SignIn(browser(t), e.srv.URL+tc.path+"?"+q.Encode(), tc.user, password)
			if err != nil {
				t.Fatalf("SignIn: %v", err)
			}
			gq := got.Query()
			if tc.wantCode != "" {
				if desc := gq.Get("error_description"); !strings.HasPrefix(desc, tc.wantCode+":") {
					t.Errorf("error_description = %q, want prefix %s", desc, tc.wantCode)
				}
				gq.Del("error_description")
				gq.Del("error_uri")
			}
			if diff := cmp.Diff(tc.want, gq); diff != "" {
				t.Errorf("redirect query (-want +got):\n%s", diff)
			}
			tok, err := (&clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: e.srv.URL + "/" + tenantA + "/oauth2/v2.0/token", Scopes: []string{"https://graph.microsoft.com/.default"}}).Token(e.ctx())
			if err != nil {
				t.Fatalf("client credentials: %v", err)
			}
			at, err := e.p.VerifyAccessToken(tok.AccessToken)
			if err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if consented := tc.wantCode == ""; consented != (len(at.Roles) == len(identity.DefaultPermissions)) {
				t.Errorf("roles after admin consent = %v, consented %v", at.Roles, consented)
			}
		})
	}
}

// TestMemberNeedsAdminApproval: a member cannot consent to admin-only
// permissions; once an admin consented for the organization, they can sign
// in without a consent page.
func TestMemberNeedsAdminApproval(t *testing.T) {
	e := newEnv(t)
	u := e.config(tenantA, readScopes...).AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	body := walkTo(t, e, browser(t), u, memberUPN, 3)
	for _, want := range []string{"Need admin approval", "needs permission to access resources in your organization that only an admin can grant", "Return to the application without granting consent"} {
		if !strings.Contains(body, want) {
			t.Errorf("approval page lacks %q", want)
		}
	}
	got, err := identitytest.SignIn(browser(t), u, memberUPN, password)
	if err != nil {
		t.Fatalf("SignIn member: %v", err)
	}
	q := got.Query()
	if q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS90094: ") || q.Get("state") != "st" || q.Get("code") != "" {
		t.Fatalf("member redirect = %s, want error=access_denied AADSTS90094 with state and no code", got)
	}

	// A user-consentable request needs only the member's own consent.
	ub := e.config(tenantA, "openid", "User.Read").AuthCodeURL("st2")
	if page := walkTo(t, e, browser(t), ub, memberUPN, 3); !strings.Contains(page, "Permissions requested") || strings.Contains(page, "Consent on behalf of your organization") {
		t.Errorf("member consent page for User.Read: want Permissions requested without the organization checkbox")
	}

	// The admin's consent on behalf of the organization covers the member.
	if page := walkTo(t, e, browser(t), u, adminUPN, 3); !strings.Contains(page, "Consent on behalf of your organization") {
		t.Errorf("admin consent page lacks the organization checkbox")
	}
	e.signIn(t, browser(t), tenantA, adminUPN)
	if page := walkTo(t, e, browser(t), u, memberUPN, 3); !strings.HasPrefix(page, "redirect: "+redirectURI+"?code=") {
		t.Errorf("member after organization-wide consent got %.200q, want a redirect with a code", page)
	}
	e.signIn(t, browser(t), tenantA, memberUPN)
}

// TestSignInSession: "Stay signed in? Yes" lets a later authorize skip the
// pages, unless prompt=login.
func TestSignInSession(t *testing.T) {
	e := newEnv(t)
	c := browser(t)
	e.signIn(t, c, tenantA, adminUPN)

	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := e.config(tenantA, readScopes...).AuthCodeURL("again")
	resp, err := nc.Get(u)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize with session = %d %v, want 302 with a code", resp.StatusCode, loc)
	}

	resp, err = nc.Get(e.config(tenantA, readScopes...).AuthCodeURL("again", oauth2.SetAuthURLParam("prompt", "login")))
	if err != nil {
		t.Fatalf("GET authorize prompt=login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("prompt=login status = %d, want the sign-in page (200)", resp.StatusCode)
	}

	if err := e.p.RevokeUser(tenantA, adminUPN); err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	resp, err = nc.Get(u)
	if err != nil {
		t.Fatalf("GET authorize after revoke: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("authorize after RevokeUser status = %d, want the sign-in page (200)", resp.StatusCode)
	}
}

func TestSignInPageErrors(t *testing.T) {
	tests := []struct {
		name, user, password string
		want                 []string
	}{
		{"wrong password", adminUPN, "nope", []string{"Your account or password is incorrect.", "AADSTS50126"}},
		{"unknown account", "nobody@contoso.onmicrosoft.com", password, []string{"This username may be incorrect"}},
		{"unknown domain", "nobody@example.org", password, []string{"This username may be incorrect"}},
		{"disabled account", disabledUPN, password, []string{"AADSTS50057", "disabled"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.config("organizations", "openid").AuthCodeURL("s")
			got, err := identitytest.SignIn(browser(t), u, tc.user, tc.password)
			if err == nil {
				t.Fatalf("SignIn = %s, want an error", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRevokeUser(t *testing.T) {
	e := newEnv(t)
	code, v := e.signIn(t, browser(t), tenantA, adminUPN)
	tok := e.redeem(t, code, v)
	if _, err := e.p.VerifyAccessToken(tok["access_token"].(string)); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	if err := e.p.RevokeUser(tenantA, "ADMIN@contoso.onmicrosoft.com"); err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	_, err := e.p.VerifyAccessToken(tok["access_token"].(string))
	var te *identity.TokenError
	if !errors.As(err, &te) || te.Code != "InvalidAuthenticationToken" || !strings.Contains(te.Message, "TokensRevoked") {
		t.Errorf("VerifyAccessToken after revoke = %v, want InvalidAuthenticationToken TokensRevoked", err)
	}
	status, body, _ := e.postToken(t, tenantA, refreshForm(tok["refresh_token"].(string)))
	if status != http.StatusBadRequest || body.Error != "invalid_grant" || firstCode(body) != 50173 {
		t.Errorf("refresh after revoke = %d %s %v, want 400 invalid_grant 50173", status, body.Error, body.ErrorCodes)
	}
	// Signing in again, even within the same clock tick, works.
	code, v = e.signIn(t, browser(t), tenantA, adminUPN)
	tok = e.redeem(t, code, v)
	if _, err := e.p.VerifyAccessToken(tok["access_token"].(string)); err != nil {
		t.Errorf("token after new sign-in refused: %v", err)
	}
	if err := e.p.RevokeUser(tenantA, "nobody"); err == nil {
		t.Error("RevokeUser(unknown) = nil, want an error")
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	e := newEnv(t)
	code, v := e.signIn(t, browser(t), tenantA, adminUPN)
	tok := e.redeem(t, code, v)
	e.clock.Advance(3598 * time.Second)
	if _, err := e.p.VerifyAccessToken(tok["access_token"].(string)); err != nil {
		t.Fatalf("token refused before expiry: %v", err)
	}
	e.clock.Advance(2 * time.Second)
	_, err := e.p.VerifyAccessToken(tok["access_token"].(string))
	var te *identity.TokenError
	if !errors.As(err, &te) || !strings.Contains(te.Message, "expired") {
		t.Errorf("VerifyAccessToken after expiry = %v, want an expired TokenError", err)
	}
}

func TestReset(t *testing.T) {
	e := newEnv(t)
	code, v := e.signIn(t, browser(t), tenantA, adminUPN)
	tok := e.redeem(t, code, v)
	e.p.Reset()
	status, body, _ := e.postToken(t, tenantA, refreshForm(tok["refresh_token"].(string)))
	if status != http.StatusBadRequest || body.Error != "invalid_grant" {
		t.Errorf("refresh after Reset = %d %s, want 400 invalid_grant", status, body.Error)
	}
	// Consent is gone too: the admin sees the consent page again.
	u := e.config(tenantA, readScopes...).AuthCodeURL("s")
	if page := walkTo(t, e, browser(t), u, adminUPN, 3); !strings.Contains(page, "Permissions requested") {
		t.Error("after Reset the admin is not asked for consent again")
	}
}

func firstCode(b tokenError) int {
	if len(b.ErrorCodes) == 0 {
		return 0
	}
	return b.ErrorCodes[0]
}

var _ = context.Background
