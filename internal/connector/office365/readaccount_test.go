package office365

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// TestReadAccount checks that single sign-on learns an account's
// userPrincipalName from the directory, and whether the tenant has
// verified its domain, through the data source's grant.
func TestReadAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("acct1", tenantlink.AuthDelegated, false)
	ds.Settings.SingleSignOn = true
	e.mustAuthorize(t, ds)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ds.AuthorizedAt = &at
	domain := strings.ToLower(e.facts.TenantDomain)

	addUser := func(t *testing.T, upn, mail string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"userPrincipalName": upn, "mail": mail, "password": "Sim-pw-1234!", "displayName": "X"})
		resp, err := http.Post(e.facts.URL+"/_sim/users", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("create %s: status %d (%v)", upn, resp.StatusCode, err)
		}
		return out.ID
	}
	for _, tt := range []struct {
		name, upn, mail string
		verified        bool
	}{
		{"verified domain", "Ver.User@" + domain, "admin@tenantlink.test", true},
		{"unverified domain", "someone@unverified.example", "", false},
		{"guest", "guest_mail.example#EXT#@" + domain, "guest@mail.example", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := addUser(t, tt.upn, tt.mail)
			got, err := e.conn.ReadAccount(ctx, ds, e.creds, id)
			if err != nil {
				t.Fatalf("ReadAccount: %v", err)
			}
			want := &connector.DirectoryAccount{ObjectID: strings.ToLower(id), SignInName: strings.ToLower(tt.upn), DomainVerified: tt.verified, Domains: []string{domain}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadAccount (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no grant", func(t *testing.T) {
		other := *ds
		other.ID = "never-authorized"
		_, err := e.conn.ReadAccount(ctx, &other, e.creds, "00000000-0000-0000-0000-000000000001")
		if tenantlink.ErrorCode(err) != tenantlink.EUNAVAILABLE || !strings.Contains(tenantlink.ErrorMessage(err), "cannot read the account") {
			t.Errorf("ReadAccount without a grant = %v, want EUNAVAILABLE saying the account cannot be read", err)
		}
	})
}
