package office365

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// TestCountSourceMembers: the count a sync shows its progress against is
// the number of users a full read then delivers — all users for "*", the
// user members of a group named by id or by display name — and an unknown
// group is refused as the read refuses it.
func TestCountSourceMembers(t *testing.T) {
	e := newEnv(t)
	ds := newDataSource("ds-count", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	ctx := context.Background()

	post := func(t *testing.T, path string, body any) string {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(e.facts.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: status %d (%v)", path, resp.StatusCode, err)
		}
		return out.ID
	}
	var members []string
	for i := range 4 {
		members = append(members, post(t, "/_sim/users", map[string]any{
			"userPrincipalName": fmt.Sprintf("count%d@%s", i, e.facts.TenantDomain), "displayName": fmt.Sprintf("Count %d", i), "password": "Sim-pw-1234!"}))
	}
	gid := post(t, "/_sim/groups", map[string]any{"displayName": "Counted staff", "members": members})

	read := func(t *testing.T, src string) int {
		t.Helper()
		n := 0
		if _, _, err := e.conn.ReadGroupMembers(ctx, ds, e.creds, src, "", func(us []connector.SourceUser, _ []string) error {
			n += len(us)
			return nil
		}); err != nil {
			t.Fatalf("ReadGroupMembers(%q): %v", src, err)
		}
		return n
	}
	for _, tt := range []struct{ name, src string }{
		{"all users", "*"},
		{"group by id", gid},
		{"group by name", "Counted staff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.conn.CountSourceMembers(ctx, ds, e.creds, tt.src)
			if err != nil {
				t.Fatalf("CountSourceMembers(%q): %v", tt.src, err)
			}
			if want := read(t, tt.src); got != want || got == 0 {
				t.Errorf("CountSourceMembers(%q) = %d, a full read delivers %d users", tt.src, got, want)
			}
		})
	}
	if got, _ := e.conn.CountSourceMembers(ctx, ds, e.creds, gid); got != len(members) {
		t.Errorf("the group's count = %d, want its %d members", got, len(members))
	}
	if _, err := e.conn.CountSourceMembers(ctx, ds, e.creds, "No such group"); tenantlink.ErrorCode(err) != tenantlink.EINVALID {
		t.Errorf("an unknown group: err %v, want EINVALID", err)
	}
}
