package identity_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, after replacing what changes per
// run (server address, flow ids, trace ids, times) with placeholders.
func golden(t *testing.T, e *env, name, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, e.srv.URL, "{base}")
	got = strings.ReplaceAll(got, strings.TrimPrefix(e.srv.URL, "http://"), "{host}")
	for _, r := range []struct{ re, with string }{
		{`name="ctx" value="[^"]+"`, `name="ctx" value="{ctx}"`},
		{`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, "{uuid}"},
		{`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`, "{timestamp}"},
	} {
		got = regexp.MustCompile(r.re).ReplaceAllString(got, r.with)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); rerun with -update if intended:\n%s", name, diff)
	}
}

// TestPagesGolden pins the rendered sign-in pages: element ids, labels and
// texts that browser automation and people rely on.
func TestPagesGolden(t *testing.T) {
	e := newEnv(t)
	auth := e.config(tenantA, "openid", "profile", "offline_access", "User.Read.All").AuthCodeURL("s", oauth2.S256ChallengeOption("v"+strings.Repeat("x", 50)))
	tests := []struct {
		name, user string
		steps      int
	}{
		{"username.html", adminUPN, 0},
		{"password.html", adminUPN, 1},
		{"kmsi.html", adminUPN, 2},
		{"consent-admin.html", adminUPN, 3},
		{"need-admin-approval.html", memberUPN, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, e, tc.name, walkTo(t, e, browser(t), auth, tc.user, tc.steps))
		})
	}
	t.Run("error-50011.html", func(t *testing.T) {
		resp, err := e.srv.Client().Get(strings.Replace(auth, "callback", "elsewhere", 1))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, e, "error-50011.html", readBody(t, resp))
	})
}

func TestDiscoveryGolden(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, tenant string }{
		{"discovery-tenant.json", "contoso.onmicrosoft.com"},
		{"discovery-organizations.json", "organizations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := fetchJSON(t, e.srv.Client(), e.srv.URL+"/"+tc.tenant+"/v2.0/.well-known/openid-configuration")
			b, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, e, tc.name, strings.ReplaceAll(string(b), tenantA, "{tid}")+"\n")
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		resp, err := e.srv.Client().Get(e.srv.URL + "/nowhere.example/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var body tokenError
		if err := json.Unmarshal([]byte(readBody(t, resp)), &body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 400 || body.Error != "invalid_tenant" || firstCode(body) != 90002 {
			t.Errorf("got %d %s %v, want 400 invalid_tenant 90002", resp.StatusCode, body.Error, body.ErrorCodes)
		}
	})
}
