package apitest

import (
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestRevokedGrantSaysWhy revokes the grant at Microsoft and runs an
// operation: the first refusal makes the data source re-authorization
// required, and both the operation's error and the status message say
// that Microsoft refused the authorization and to click Re-Authorize, not
// that Microsoft could not be reached.
func TestRevokedGrantSaysWhy(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.SignIn(t, adminEmail, password)
	ds := e.AuthorizedDataSource(admin, "Revoked", nil)
	run := "/api/v1/datasources/" + ds.ID + "/operations/UserList"
	admin.Must(200, "POST", run, map[string]any{"inputs": map[string]any{"maxRows": 1}}, nil)

	e.SimControl(t, "POST", "/_sim/revoke", map[string]string{"user": e.Facts.AdminUser})
	r := admin.Do("POST", run, map[string]any{"inputs": map[string]any{"maxRows": 1}})
	got := r.APIError(t)
	for _, want := range []string{"Microsoft refused", "Re-Authorize"} {
		if !strings.Contains(got.Message, want) {
			t.Errorf("operation after revocation = %s, want a message containing %q", r, want)
		}
	}
	if strings.Contains(got.Message, "could not be reached") {
		t.Errorf("operation after revocation = %s, want no \"could not be reached\"", r)
	}
	st := wantStatus(t, admin, ds.ID, "re-authorization required", "Microsoft refused")
	if !strings.Contains(st.StatusMessage, "Re-Authorize") || strings.Contains(st.StatusMessage, "could not be reached") {
		t.Errorf("status message = %q, want it to name Microsoft's refusal and Re-Authorize", st.StatusMessage)
	}
}
