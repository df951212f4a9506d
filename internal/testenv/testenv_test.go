package testenv_test

import (
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestNotImportedByProduct fails when anything the tenantlink binary is
// built from imports testenv or the other test-only packages: test
// helpers must never ship.
func TestNotImportedByProduct(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/tenantlink/tenantlink/cmd/tenantlink").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	testOnly := []string{
		"github.com/tenantlink/tenantlink/internal/testenv",
		"github.com/tenantlink/tenantlink/internal/web/webtest",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages, want the binary's whole tree:\n%s", len(deps), out)
	}
	for _, d := range deps {
		if slices.Contains(testOnly, d) {
			t.Errorf("cmd/tenantlink depends on %s: product code must not import test helpers", d)
		}
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name    string
		backend string
	}{
		{"sqlite", "sqlite"},
		{"postgres", "postgres"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testenv.New(t, testenv.Options{Backend: tc.backend})
			if !strings.HasPrefix(e.URL, "http://127.0.0.1:") || strings.HasSuffix(e.URL, ":0") {
				t.Fatalf("URL = %q, want a real loopback port", e.URL)
			}
			if got, want := strings.SplitN(e.DB, ":", 2)[0], map[string]string{"sqlite": "sqlite", "postgres": "postgres"}[tc.backend]; got != want {
				t.Errorf("DB scheme = %q, want %q", got, want)
			}

			t.Run("delegated as the tenant's administrator", func(t *testing.T) {
				ds := e.AuthorizedDataSource(e.Admin.In(t), "Delegated", map[string]any{"readWrite": true})
				if ds.Status != "ready" || ds.Settings.AuthMode != "delegated" {
					t.Errorf("data source = status %q mode %q, want ready, delegated", ds.Status, ds.Settings.AuthMode)
				}
			})
			t.Run("application mode", func(t *testing.T) {
				ds := e.AuthorizedDataSource(e.Admin.In(t), "Application", map[string]any{"authMode": "application"})
				if ds.Status != "ready" || ds.Settings.AuthMode != "application" {
					t.Errorf("data source = status %q mode %q, want ready, application", ds.Status, ds.Settings.AuthMode)
				}
			})
			t.Run("a non-administrator is refused", func(t *testing.T) {
				ds := e.Admin.In(t).CreateDataSource("Member", nil)
				cb := e.Authorize(e.Admin.In(t), ds.ID, e.Facts.MemberUser, e.Facts.MemberPassword)
				if cb.OK || cb.Message == "" {
					t.Errorf("callback = %+v, want a refusal with a message", cb)
				}
			})
			t.Run("users and tokens", func(t *testing.T) {
				u := e.User(t, "User")
				tok := u.NewToken()
				var me struct {
					User struct{ Email string }
				}
				u.Must(http.StatusOK, "GET", "/api/v1/session", nil, &me)
				if me.User.Email != u.Email {
					t.Errorf("session user = %q, want %q", me.User.Email, u.Email)
				}
				if r := tok.Do("GET", "/api/v1/users", nil); r.Status != http.StatusForbidden {
					t.Errorf("GET /api/v1/users as a User's token = %s, want 403", r)
				}
				if r := e.Anonymous(t).Do("GET", "/api/v1/datasources", nil); r.Status != http.StatusUnauthorized {
					t.Errorf("anonymous GET /api/v1/datasources = %s, want 401", r)
				}
			})
		})
	}
}

func TestReopen(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 3, Groups: 1, Seed: 3})
	ds := e.AuthorizedDataSource(e.Admin, "Contoso", nil)
	e.Close()
	again := testenv.New(t, testenv.Options{Reopen: e})
	if again.URL != e.URL {
		t.Errorf("reopened URL = %q, want the first's %q", again.URL, e.URL)
	}
	if got := again.Admin.GetDataSource(ds.ID); got.Name != "Contoso" || got.Status != "ready" {
		t.Errorf("after reopening: %q status %q, want Contoso ready", got.Name, got.Status)
	}
}

// TestSimProcess runs the simulator as a subprocess: tenantlink reaches it
// over loopback for a delegated authorization, and its stats count the
// Graph requests that made.
func TestSimProcess(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 5, Groups: 1, SimProcess: true})
	if e.Sim != nil || e.SimProcess == nil {
		t.Fatalf("Sim = %v, SimProcess = %v; want nil and a subprocess", e.Sim, e.SimProcess)
	}
	before := e.SimProcess.Stats(t).Requests
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", nil)
	if ds.Status != "ready" {
		t.Errorf("data source status = %q, want ready", ds.Status)
	}
	if got := e.SimProcess.Stats(t).Requests; got <= before {
		t.Errorf("simulator requests = %d after authorizing, want more than %d", got, before)
	}
	if e.SimProcess.PeakRSS() == 0 {
		t.Error("PeakRSS = 0, want the subprocess's peak resident set")
	}
}
