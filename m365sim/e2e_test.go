package m365sim_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
	"golang.org/x/oauth2"
)

// delegatedToken runs the authorization code flow with PKCE through the
// sign-in pages, as tenantlink's browser popup would, with x/oauth2.
func delegatedToken(tb testing.TB, s *m365sim.Server, user, password string, scopes ...string) *oauth2.Token {
	tb.Helper()
	f := s.Facts()
	conf := oauth2.Config{
		ClientID: f.ClientID, ClientSecret: f.ClientSecret, RedirectURL: "http://127.0.0.1:9/callback",
		Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  f.URL + "/" + f.TenantID + "/oauth2/v2.0/authorize",
			TokenURL: f.URL + "/" + f.TenantID + "/oauth2/v2.0/token",
		},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier))
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	back, err := identitytest.SignIn(client, authURL, user, password)
	if err != nil {
		tb.Fatalf("sign in: %v", err)
	}
	if got := back.Query().Get("state"); got != "state-1" {
		tb.Fatalf("state = %q, want state-1 (redirect %s)", got, back)
	}
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		tb.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestAuthorizationCodeEndToEnd(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 20, Groups: 2, Seed: 2, RedirectURIs: []string{"http://127.0.0.1:9/callback"}})
	f := s.Facts()
	base := s.URL() + "/v1.0"
	tok := delegatedToken(t, s, f.AdminUser, f.AdminPassword, "openid", "profile", "offline_access", "User.Read.All", "GroupMember.Read.All")
	if tok.RefreshToken == "" {
		t.Errorf("no refresh token despite offline_access")
	}

	me := call(t, "GET", base+"/me", tok.AccessToken, nil)
	mustStatus(t, me, 200)
	if got, want := me.body["userPrincipalName"], f.AdminUser; got != want {
		t.Errorf("me = %v, want %v", got, want)
	}
	mo := call(t, "GET", base+"/me/memberOf", tok.AccessToken, nil)
	mustStatus(t, mo, 200)
	var role map[string]any
	for _, v := range mo.values() {
		if v["@odata.type"] == "#microsoft.graph.directoryRole" {
			role = v
		}
	}
	if role["displayName"] != "Global Administrator" || role["roleTemplateId"] != "62e90394-69f5-4237-9190-012177145e10" {
		t.Errorf("directory role = %v, want Global Administrator 62e90394-…", role)
	}
	// Read-only delegated token: writes are refused as Graph refuses them.
	r := call(t, "POST", base+"/groups", tok.AccessToken, map[string]any{"displayName": "x", "mailNickname": "x", "mailEnabled": false, "securityEnabled": true})
	code, msg := r.errorCode()
	if r.status != 403 || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
		t.Errorf("write with read scopes = %d %s %q, want 403 Authorization_RequestDenied", r.status, code, msg)
	}
	// A tampered token is a 401.
	r = call(t, "GET", base+"/me", tok.AccessToken[:len(tok.AccessToken)-4]+"AAAA", nil)
	if code, _ := r.errorCode(); r.status != 401 || code != "InvalidAuthenticationToken" {
		t.Errorf("tampered token = %d %s, want 401 InvalidAuthenticationToken", r.status, code)
	}

	// The member can sign in; /me/memberOf carries no directory role.
	mt := delegatedToken(t, s, f.MemberUser, f.MemberPassword, "openid", "profile", "User.Read")
	mo = call(t, "GET", base+"/me/memberOf", mt.AccessToken, nil)
	mustStatus(t, mo, 200)
	for _, v := range mo.values() {
		if strings.Contains(v["@odata.type"].(string), "directoryRole") {
			t.Errorf("member has a directory role: %v", v)
		}
	}
}
