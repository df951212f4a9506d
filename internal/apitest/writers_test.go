package apitest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// simGroup creates a group in the simulated tenant and returns its id.
func simGroup(t *testing.T, e *env, name string) string {
	t.Helper()
	var g struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": name}), &g); err != nil || g.ID == "" {
		t.Fatalf("create simulated group %s: %v", name, err)
	}
	return g.ID
}

// TestOrdinaryUserCannotWrite is the incident: with single sign-on any
// employee is a signed-in User, and a data source with blank security
// lists and Read and write on let her change the tenant with the
// administrator's grant. Reads stay open to her; writes need a grant.
func TestOrdinaryUserCannotWrite(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.SignIn(t, adminEmail, password)
	ds := e.AuthorizedDataSource(admin, "Contoso", map[string]any{"readWrite": true})
	it := simGroup(t, e, "IT")
	user := e.User(t)
	base := "/api/v1/datasources/" + ds.ID + "/operations/"

	user.Must(200, "POST", base+"UserList", map[string]any{"inputs": map[string]any{"maxRows": 1}}, nil)
	for _, op := range []struct {
		name   string
		inputs map[string]any
	}{
		{"AddUserToGroup", map[string]any{"user": e.Facts.MemberUser, "group": it}},
		{"AssignLicenceToUser", map[string]any{"user": e.Facts.MemberUser, "licence": "Microsoft 365 E5", "usageLocation": "IE"}},
	} {
		r := user.Do("POST", base+op.name, map[string]any{"inputs": op.inputs})
		if r.Status != 403 {
			t.Errorf("%s as an ordinary User = %s, want 403", op.name, r)
			continue
		}
		if got := r.APIError(t); got.Code != "forbidden" || !strings.Contains(got.Message, "Connection writer") {
			t.Errorf("%s as an ordinary User = %s, want 403 naming Connection writer rights", op.name, r)
		}
	}
}
