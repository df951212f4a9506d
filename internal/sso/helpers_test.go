package sso_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

const (
	adminEmail = testenv.AdminEmail
	password   = testenv.Password
)

type (
	client     = testenv.Client
	response   = testenv.Response
	dataSource = testenv.DataSource
)

// env is testenv's world with one Office 365 data source with single
// sign-on on, authorized by the tenant's administrator.
type env struct {
	*testenv.Env
	admin *client // the bootstrap Administrator's API token
	DS    dataSource
}

func mustOpenEnv(tb testing.TB) *env {
	tb.Helper()
	te := testenv.New(tb, testenv.Options{Users: 4, Groups: 1, Seed: 11})
	e := &env{Env: te, admin: te.Admin.NewToken()}
	e.DS = te.AuthorizedDataSource(te.Admin, "Contoso", map[string]any{"singleSignOn": true})
	return e
}

// msUser is a user of the simulated tenant.
type msUser struct {
	ID       string `json:"id"`
	UPN      string `json:"userPrincipalName"`
	Mail     string `json:"mail"`
	Password string `json:"-"`
}

// addMSUser creates a user in a simulated tenant (tenant "" = the first).
func (e *env) addMSUser(tb testing.TB, tenant, upn, mail string) msUser {
	tb.Helper()
	pw := "Sim-" + upn + "-pw1!"
	body := map[string]any{"userPrincipalName": upn, "password": pw, "displayName": strings.Split(upn, "@")[0]}
	if mail != "" {
		body["mail"] = mail
	}
	path := "/_sim/users"
	if tenant != "" {
		path += "?tenant=" + url.QueryEscape(tenant)
	}
	u := msUser{Password: pw}
	if err := json.Unmarshal(e.SimControl(tb, "POST", path, body), &u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// settings puts the SSO settings as the Administrator.
func (e *env) settings(tb testing.TB, s map[string]any) {
	tb.Helper()
	e.admin.In(tb).Must(200, "PUT", "/api/v1/settings/sso", s, nil)
}

// startSSO opens /auth/sso/login in b and returns Microsoft's URL.
func (e *env) startSSO(tb testing.TB, b *client, next string) string {
	tb.Helper()
	path := "/auth/sso/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	r := b.In(tb).Do("GET", path, nil)
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), e.Facts.URL+"/") {
		tb.Fatalf("GET %s = %s (Location %q), want 302 to the simulator", path, r, r.Location())
	}
	return r.Location()
}

// ssoSignIn runs the whole single sign-on in b as the Microsoft user and
// returns tenantlink's answer to the callback.
func (e *env) ssoSignIn(tb testing.TB, b *client, user, pw, next string) response {
	tb.Helper()
	loc := testenv.MicrosoftSignIn(tb, e.startSSO(tb, b, next), user, pw)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.URL+"/auth/sso/callback" {
		tb.Fatalf("sign-in ended at %s, want %s/auth/sso/callback", got, e.URL)
	}
	return b.In(tb).Do("GET", loc.RequestURI(), nil)
}

// whoAmI is the user b's session belongs to, or "" when none.
func whoAmI(tb testing.TB, b *client) string {
	tb.Helper()
	r := b.In(tb).Do("GET", "/api/v1/session", nil)
	if r.Status != 200 {
		return ""
	}
	var out struct{ User tenantlink.User }
	r.Decode(tb, &out)
	return out.User.Email
}

func (e *env) user(tb testing.TB, id string) tenantlink.User {
	tb.Helper()
	var u tenantlink.User
	e.admin.In(tb).Must(200, "GET", "/api/v1/users/"+id, nil, &u)
	return u
}

func (e *env) usersByEmail(tb testing.TB, search string) []tenantlink.User {
	tb.Helper()
	var out struct{ Value []tenantlink.User }
	e.admin.In(tb).Must(200, "GET", "/api/v1/users?search="+url.QueryEscape(search), nil, &out)
	return out.Value
}

// hasAudit reports whether entries (newest first) hold action with outcome
// and a detail containing detail.
func hasAudit(entries []tenantlink.AuditEntry, action, outcome, detail string) bool {
	for _, a := range entries {
		if a.Action == action && a.Outcome == outcome && strings.Contains(a.Detail, detail) {
			return true
		}
	}
	return false
}

// errorMessage reads the message of an HTML refusal page or a JSON error.
func errorMessage(r response) string {
	if m := r.ErrorMessage(); m != "" {
		return m
	}
	return string(r.Body)
}
