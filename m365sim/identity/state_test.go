package identity_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/m365sim/identity"
)

func TestStateRestore(t *testing.T) {
	e := newEnv(t)
	var changes atomic.Int64
	// newEnv's provider has no OnChange; this one runs the same flows.
	p, err := identity.New(identity.Options{Directory: e.dir, Now: e.clock.Now, Key: sharedKey(t), OnChange: func() { changes.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	e.p, e.srv = p, newServerFor(t, p)
	p.RegisterApp(identity.App{ClientID: clientID, ClientSecret: secret, DisplayName: "tenantlink", HomeTenantID: tenantA, RedirectURIs: []string{redirectURI}, MultiTenant: true})

	code, verifier := e.signIn(t, browser(t), tenantA, adminUPN)
	rt, _ := e.redeem(t, code, verifier)["refresh_token"].(string)
	if rt == "" {
		t.Fatal("no refresh token")
	}
	p.GrantConsent(tenantB, clientID, []string{"User.Read.All"}, []string{"Group.ReadWrite.All"})
	if err := p.RevokeUser(tenantA, memberUPN); err != nil {
		t.Fatal(err)
	}
	if changes.Load() == 0 {
		t.Errorf("OnChange was never called while consents, grants and revocations changed")
	}

	st, err := p.State()
	if err != nil {
		t.Fatalf("State: %v", err)
	}
	if len(st.RefreshGrants) == 0 || len(st.Sessions) == 0 || len(st.Consents) != 2 || len(st.Revocations) != 1 {
		t.Fatalf("State has %d grants, %d sessions, %d consents, %d revocations; want some of each (2 consents, 1 revocation)",
			len(st.RefreshGrants), len(st.Sessions), len(st.Consents), len(st.Revocations))
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), rt) {
		t.Errorf("State holds the refresh token in clear")
	}

	p2, err := identity.New(identity.Options{Directory: e.dir, Now: e.clock.Now, Restore: &st})
	if err != nil {
		t.Fatalf("New with Restore: %v", err)
	}
	srv2 := newServerFor(t, p2)
	st2, err := p2.State()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st2, st); diff != "" {
		t.Errorf("State after Restore (-got +want):\n%s", diff)
	}
	status, te, ok := postTokenTo(t, srv2, tenantA, refreshForm(rt))
	if status != http.StatusOK {
		t.Fatalf("refresh on the restored provider: %d %s %s", status, te.Error, te.ErrorDescription)
	}
	at, _ := ok["access_token"].(string)
	if _, err := p.VerifyAccessToken(at); err != nil {
		t.Errorf("a token from the restored provider does not verify with the original key: %v", err)
	}
}

func TestRestoreRefusesBrokenState(t *testing.T) {
	e := newEnv(t)
	good, err := e.p.State()
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := x509.MarshalPKCS8PrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*identity.State)
		want   string
	}{
		{"garbage key", func(s *identity.State) { s.Key = []byte("nope") }, "signing key"},
		{"certificate of another key", func(s *identity.State) { s.Key = otherKey }, "not the signing key's"},
		{"garbage certificate", func(s *identity.State) { s.Certificate = []byte("nope") }, "signing certificate"},
		{"app without client id", func(s *identity.State) { s.Apps = append(s.Apps, identity.App{}) }, "no client id"},
		{"grant without hash", func(s *identity.State) {
			s.RefreshGrants = []identity.RefreshGrantState{{TokenHash: "abc", ClientID: clientID, TenantID: tenantA, UserID: "u"}}
		}, "refresh token grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := good
			st.Apps = append([]identity.App(nil), good.Apps...)
			tt.change(&st)
			_, err := identity.New(identity.Options{Directory: e.dir, Restore: &st})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(Restore) = %v, want an error about %q", err, tt.want)
			}
		})
	}
}
