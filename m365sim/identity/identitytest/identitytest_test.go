package identitytest_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/m365sim/identity"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

const (
	tid      = "6e8d2c4a-1111-4a5b-9c3d-aaaaaaaaaaaa"
	client   = "0a1b2c3d-4e5f-4a6b-8c7d-000000000001"
	callback = "http://127.0.0.1/cb"
)

type oneUser struct{}

var admin = identity.User{ID: "u1", TenantID: tid, UserPrincipalName: "admin@contoso.test", DisplayName: "Admin", Enabled: true, Roles: []string{"Global Administrator"}}

func (oneUser) TenantByIDOrDomain(s string) (identity.Tenant, bool) {
	t := identity.Tenant{ID: tid, Domain: "contoso.test"}
	return t, strings.EqualFold(s, t.ID) || strings.EqualFold(s, t.Domain)
}
func (oneUser) UserBySignInName(t, name string) (identity.User, bool) {
	return admin, strings.EqualFold(name, admin.UserPrincipalName)
}
func (oneUser) UserByID(t, id string) (identity.User, bool) { return admin, id == admin.ID }
func (oneUser) CheckPassword(t, id, pw string) bool         { return pw == "pw" }

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	p, err := identity.New(identity.Options{Directory: oneUser{}})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	p.SetBaseURL(srv.URL)
	p.RegisterApp(identity.App{ClientID: client, ClientSecret: "s", DisplayName: "app", HomeTenantID: tid, RedirectURIs: []string{callback}})
	return srv
}

func jarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func TestSignIn(t *testing.T) {
	srv := newServer(t)
	authorize := func(extra url.Values) string {
		q := url.Values{"client_id": {client}, "response_type": {"code"}, "redirect_uri": {callback}, "scope": {"openid User.Read"}, "state": {"st"}}
		for k, v := range extra {
			q[k] = v
		}
		return srv.URL + "/" + tid + "/oauth2/v2.0/authorize?" + q.Encode()
	}
	tests := []struct {
		name      string
		url       string
		password  string
		wantURL   string // scheme://host/path of the result
		wantKeys  []string
		wantError string
	}{
		{name: "query", url: authorize(nil), password: "pw", wantURL: callback, wantKeys: []string{"code", "session_state", "state"}},
		{name: "form_post", url: authorize(url.Values{"response_mode": {"form_post"}}), password: "pw", wantURL: callback, wantKeys: []string{"code", "session_state", "state"}},
		{name: "wrong password", url: authorize(nil), password: "bad", wantError: "AADSTS50126"},
		{name: "error page", url: strings.Replace(authorize(nil), "%2Fcb", "%2Fnope", 1), password: "pw", wantError: "AADSTS50011"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identitytest.SignIn(jarClient(t), tc.url, admin.UserPrincipalName, tc.password)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("SignIn error = %v, want one mentioning %s", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("SignIn: %v", err)
			}
			if base := got.Scheme + "://" + got.Host + got.Path; base != tc.wantURL {
				t.Errorf("final URL %s, want %s", base, tc.wantURL)
			}
			var keys []string
			for k := range got.Query() {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if diff := cmp.Diff(tc.wantKeys, keys); diff != "" {
				t.Errorf("query keys (-want +got):\n%s", diff)
			}
		})
	}
}
