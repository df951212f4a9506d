package office365

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
)

func TestConnectionTestFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("ds-test", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)

	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name        string
		faults      []map[string]any
		edit        func(*Config)
		dsID        string
		wantOK      bool
		contains    []string
		wantRefresh int // refresh requests the test makes with an empty cache
	}{
		{name: "organization forbidden, users readable",
			faults: []map[string]any{{"path": "^/v1.0/organization$", "status": 403}},
			wantOK: true, contains: []string{"Connection test succeeded"}, wantRefresh: 1},
		{name: "Graph refuses the permissions",
			faults:      []map[string]any{{"path": "^/v1.0/(organization|users)$", "status": 403}},
			contains:    []string{"Microsoft Graph answered 403", "User.Read.All", "Re-authorize"},
			wantRefresh: 1},
		{name: "Graph keeps refusing the token",
			faults:      []map[string]any{{"path": "^/v1.0/organization$", "status": 401}},
			contains:    []string{"Microsoft Graph answered 401", "InvalidAuthenticationToken"},
			wantRefresh: 2}, // the first token, then one more after the 401
		{name: "sign-in service unreachable",
			edit:        func(c *Config) { c.Authority = closedURL },
			contains:    []string{"Cannot reach Microsoft's sign-in service at " + closedURL},
			wantRefresh: 1}, // attempted
		{name: "Graph unreachable",
			edit:        func(c *Config) { c.GraphURL = closedURL },
			contains:    []string{"cannot reach Microsoft Graph at " + closedURL},
			wantRefresh: 1},
		{name: "never authorized", dsID: "ds-none",
			contains: []string{"Not authorized yet: click Authorize."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.NewRequest(http.MethodDelete, e.facts.URL+"/_sim/faults", nil)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := http.DefaultClient.Do(resp); err == nil {
				r.Body.Close()
			}
			for _, f := range tt.faults {
				e.control(t, "/_sim/faults", f)
			}
			c, cnt := e.connector(func(c *Config) {
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			d := *ds
			if tt.dsID != "" {
				d.ID = tt.dsID
			}
			res := c.Test(ctx, &d, e.creds)
			if res.OK != tt.wantOK || res.Reauthorize {
				t.Errorf("Test = %+v, want OK %v and no re-authorization", res, tt.wantOK)
			}
			for _, s := range tt.contains {
				if !strings.Contains(res.Message, s) {
					t.Errorf("message %q does not contain %q", res.Message, s)
				}
			}
			if got := cnt.count("refresh_token"); got != tt.wantRefresh {
				t.Errorf("refresh requests = %d, want %d", got, tt.wantRefresh)
			}
		})
	}
}

// TestSecretsNotLogged runs the flows with debug logging and looks for
// every secret in the output.
func TestSecretsNotLogged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := e.connector(func(c *Config) { c.Logger = log })
	e.conn = c
	ds := newDataSource("ds-log", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	first := e.creds.secret(t, ds.ID).RefreshToken

	c2, _ := e.connector(func(c *Config) { c.Logger = log })
	if res := c2.Test(ctx, ds, e.creds); !res.OK {
		t.Fatalf("Test = %+v", res)
	}
	gc, err := c2.Client(ctx, ds, e.creds)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gc.Organization(ctx); err != nil {
		t.Fatal(err)
	}
	e.control(t, "/_sim/revoke", map[string]string{"user": e.facts.AdminUser})
	c3, _ := e.connector(func(c *Config) { c.Logger = log })
	if res := c3.Test(ctx, ds, e.creds); !res.Reauthorize {
		t.Fatalf("Test after revoke = %+v, want Reauthorize", res)
	}
	c4, _ := e.connector(func(c *Config) { c.Logger = log; c.ClientSecret = "wrong-secret-value" })
	c4.Test(ctx, ds, e.creds)

	out := buf.String()
	if !strings.Contains(out, "office365 authorized") {
		t.Fatalf("the log has no authorization line, so this test checks nothing:\n%s", out)
	}
	for name, s := range map[string]string{
		"client secret": e.facts.ClientSecret, "wrong client secret": "wrong-secret-value",
		"first refresh token": first, "rotated refresh token": e.creds.secret(t, ds.ID).RefreshToken,
		"admin password": e.facts.AdminPassword,
	} {
		if strings.Contains(out, s) {
			t.Errorf("the log contains the %s", name)
		}
	}
	if strings.Contains(out, "Bearer ") || strings.Contains(out, "eyJ") {
		t.Error("the log contains a token")
	}
}
