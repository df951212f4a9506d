package cli_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestAdminSSODisable checks that `tenantlink admin sso disable`, run on
// the server's shell against the database of a running tenantlink,
// restores the local sign-in that auto redirect had closed, and audits it.
func TestAdminSSODisable(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 2, Groups: 1, Seed: 5})
	admin := e.Admin.NewToken()
	ds := e.AuthorizedDataSource(e.Admin, "Contoso", map[string]any{"singleSignOn": true})
	var staff, g struct{ ID string }
	admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "staff@tenantlink.test", "password": testenv.Password}, &staff)
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Bypass", "members": []string{e.Admin.UserID}}, &g)
	admin.Must(200, "PUT", "/api/v1/settings/sso", map[string]any{"enabled": true, "datasource": ds.ID, "autoRedirect": true, "bypassGroup": g.ID, "createUsers": true}, nil)
	signIn := func() int {
		return e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": "staff@tenantlink.test", "password": testenv.Password}).Status
	}
	if got := signIn(); got != http.StatusForbidden {
		t.Fatalf("local sign-in under auto redirect = %d, want 403", got)
	}
	flags := []string{"--db", e.DB, "--key-file", e.App.Config.KeyFile}

	code, stdout, stderr := runCLI(t, append([]string{"admin", "sso", "show"}, flags...)...)
	var shown sso.Settings
	if code != 0 || json.Unmarshal([]byte(stdout), &shown) != nil {
		t.Fatalf("admin sso show: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if want := (sso.Settings{Enabled: true, DataSource: ds.ID, AutoRedirect: true, BypassGroup: g.ID, CreateUsers: true}); shown != want {
		t.Errorf("admin sso show = %+v, want %+v", shown, want)
	}

	code, stdout, stderr = runCLI(t, append([]string{"admin", "sso", "disable"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "single sign-on disabled") {
		t.Fatalf("admin sso disable: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var got sso.Settings
	admin.Must(200, "GET", "/api/v1/settings/sso", nil, &got)
	if diff := cmp.Diff(sso.Settings{DataSource: ds.ID, BypassGroup: g.ID, CreateUsers: true}, got); diff != "" {
		t.Errorf("settings after disable (-want +got):\n%s", diff)
	}
	if got := signIn(); got != http.StatusOK {
		t.Errorf("local sign-in after disable = %d, want 200", got)
	}
	found := false
	for _, a := range e.Audit(t) {
		if a.Action == "sso.settings" && a.Outcome == "ok" && strings.Contains(a.Detail, "tenantlink admin sso disable") {
			found = true
		}
	}
	if !found {
		t.Error("no sso.settings audit entry naming tenantlink admin sso disable")
	}
}
