package office365

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

// ssoDataSource is an authorized data source of tenant with SSO on.
func ssoDataSource(tenant string) *tenantlink.DataSource {
	ds := newDataSource("sso1", tenantlink.AuthDelegated, false)
	ds.Settings.SingleSignOn = true
	ds.Account = tenant
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ds.AuthorizedAt = &at
	return ds
}

func TestBeginSignIn(t *testing.T) {
	const tid = "11111111-2222-4333-8444-555555555555"
	c := New(Config{Authority: "https://login.example/", ClientID: "app-id", ClientSecret: "s3cret"})
	raw, p, err := c.BeginSignIn(context.Background(), ssoDataSource(strings.ToUpper(tid)), redirectURL)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, "https://login.example/"+tid+"/oauth2/v2.0/authorize"; got != want {
		t.Errorf("authorize endpoint = %s, want the tenant's %s", got, want)
	}
	q := u.Query()
	got := map[string]string{}
	for k := range q {
		got[k] = q.Get(k)
	}
	want := map[string]string{
		"client_id": "app-id", "response_type": "code", "redirect_uri": redirectURL, "scope": "openid profile email",
		"code_challenge_method": "S256", "code_challenge": got["code_challenge"], "response_mode": "query",
		"state": p.State, "nonce": p.Nonce,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authorize query (-want +got):\n%s", diff)
	}
	if p.Purpose != PurposeSignIn || p.Verifier == "" || len(p.State) < 32 || len(p.Nonce) < 32 || got["code_challenge"] == "" {
		t.Errorf("pending = %+v (challenge %q), want purpose %q, a verifier, long state and nonce", p, got["code_challenge"], PurposeSignIn)
	}

	for _, tt := range []struct {
		name string
		edit func(*tenantlink.DataSource)
		msg  string
	}{
		{"single sign-on off", func(ds *tenantlink.DataSource) { ds.Settings.SingleSignOn = false }, "Single-Sign-On turned on"},
		{"never authorized", func(ds *tenantlink.DataSource) { ds.Account, ds.AuthorizedAt = "", nil }, "not authorized yet"},
		{"another connector type", func(ds *tenantlink.DataSource) { ds.Type = "salesforce" }, "needs an Office 365 data source"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds := ssoDataSource(tid)
			tt.edit(ds)
			_, _, err := c.BeginSignIn(context.Background(), ds, redirectURL)
			if got := tenantlink.ErrorCode(err); got != tenantlink.EINVALID || !strings.Contains(tenantlink.ErrorMessage(err), tt.msg) {
				t.Errorf("BeginSignIn = %v (code %q), want invalid containing %q", err, got, tt.msg)
			}
		})
	}
}

func TestCompleteSignIn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := ssoDataSource(e.facts.TenantID)
	begin := func(t *testing.T) (string, connector.Pending) {
		t.Helper()
		u, p, err := e.conn.BeginSignIn(ctx, ds, redirectURL)
		if err != nil {
			t.Fatal(err)
		}
		return u, p
	}

	t.Run("member of the tenant", func(t *testing.T) {
		u, p := begin(t)
		id, err := e.conn.CompleteSignIn(ctx, ds, p, redirectURL, signIn(t, u, e.facts.MemberUser, e.facts.MemberPassword))
		if err != nil {
			t.Fatalf("CompleteSignIn: %v", err)
		}
		if !isGUID(id.ObjectID) || id.TenantID != strings.ToLower(e.facts.TenantID) || !strings.EqualFold(id.UPN, e.facts.MemberUser) || id.DisplayName == "" {
			t.Errorf("identity = %+v, want a GUID object id, tenant %s, UPN %s and a name", id, e.facts.TenantID, e.facts.MemberUser)
		}
	})

	other, err := e.sim.AddTenant("fabrikam.onmicrosoft.com", 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		complete func(t *testing.T) (*connector.ExternalIdentity, error)
		code     string
		contains []string
	}{
		{"state mismatch", func(t *testing.T) (*connector.ExternalIdentity, error) {
			u, p := begin(t)
			q := signIn(t, u, e.facts.MemberUser, e.facts.MemberPassword)
			q.Set("state", "forged")
			return e.conn.CompleteSignIn(ctx, ds, p, redirectURL, q)
		}, tenantlink.EINVALID, []string{"state mismatch", "sign in again"}},
		{"nonce mismatch", func(t *testing.T) (*connector.ExternalIdentity, error) {
			u, p := begin(t)
			q := signIn(t, u, e.facts.MemberUser, e.facts.MemberPassword)
			p.Nonce = "another-sign-in"
			return e.conn.CompleteSignIn(ctx, ds, p, redirectURL, q)
		}, tenantlink.EINVALID, []string{"nonce mismatch", "sign in again"}},
		{"code replayed", func(t *testing.T) (*connector.ExternalIdentity, error) {
			u, p := begin(t)
			q := signIn(t, u, e.facts.MemberUser, e.facts.MemberPassword)
			if _, err := e.conn.CompleteSignIn(ctx, ds, p, redirectURL, q); err != nil {
				t.Fatalf("first CompleteSignIn: %v", err)
			}
			return e.conn.CompleteSignIn(ctx, ds, p, redirectURL, q)
		}, tenantlink.EINVALID, []string{"AADSTS54005", "Sign in again"}},
		{"authorization pending, not a sign-in", func(t *testing.T) (*connector.ExternalIdentity, error) {
			u, p := begin(t)
			q := signIn(t, u, e.facts.MemberUser, e.facts.MemberPassword)
			p.Purpose = PurposeAuthorize
			return e.conn.CompleteSignIn(ctx, ds, p, redirectURL, q)
		}, tenantlink.EINVALID, []string{"state mismatch"}},
		{"declined at Microsoft", func(t *testing.T) (*connector.ExternalIdentity, error) {
			_, p := begin(t)
			q := url.Values{"state": {p.State}, "error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}}
			return e.conn.CompleteSignIn(ctx, ds, p, redirectURL, q)
		}, tenantlink.EFORBIDDEN, []string{"cancelled or declined", "AADSTS65004"}},
		{"user of another tenant", func(t *testing.T) (*connector.ExternalIdentity, error) {
			u, p := begin(t)
			u = strings.Replace(u, "/"+e.facts.TenantID+"/", "/"+other.TenantID+"/", 1)
			return e.conn.CompleteSignIn(ctx, ds, p, redirectURL, signIn(t, u, other.MemberUser, other.MemberPassword))
		}, tenantlink.EFORBIDDEN, []string{other.TenantID, "accepts only accounts of tenant " + strings.ToLower(e.facts.TenantID)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.complete(t)
			if id != nil || tenantlink.ErrorCode(err) != tt.code {
				t.Fatalf("CompleteSignIn = %+v, %v; want no identity and code %q", id, err, tt.code)
			}
			for _, s := range tt.contains {
				if msg := tenantlink.ErrorMessage(err); !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}

	t.Run("the tenant's own endpoint refuses another tenant's account", func(t *testing.T) {
		u, _ := begin(t)
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		loc, err := identitytest.SignIn(&http.Client{Jar: jar}, u, other.MemberUser, other.MemberPassword)
		if err == nil && loc.Query().Get("code") != "" {
			t.Errorf("tenant %s's authorize endpoint issued a code to %s of another tenant (%s)", e.facts.TenantID, other.MemberUser, loc)
		}
	})
}
