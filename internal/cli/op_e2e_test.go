package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/cli"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

const e2eDSName = "Contoso"

// opEnv is testenv's world with one Office 365 data source authorized for
// read and write and an Administrator's API token.
type opEnv struct {
	*testenv.Env
	DSID  string
	Token string
	// session is the Administrator's browser session (cookie and CSRF).
	session *apiCaller
}

type opEnvOptions struct {
	Users, Groups int
	// SimHandler, when set, wraps the simulator's handler.
	SimHandler func(http.Handler) http.Handler
}

func startOpEnv(tb testing.TB, o opEnvOptions) *opEnv {
	tb.Helper()
	te := testenv.New(tb, testenv.Options{Users: o.Users, Groups: o.Groups, SimHandler: o.SimHandler})
	e := &opEnv{Env: te, session: &apiCaller{te.Admin}}
	e.DSID = te.AuthorizedDataSource(te.Admin, e2eDSName, map[string]any{"readWrite": true}).ID
	e.Token = te.Admin.NewToken().Token
	return e
}

// tokenClient is a client using only the Administrator's API token.
func (e *opEnv) tokenClient(tb testing.TB) *apiCaller {
	tb.Helper()
	return &apiCaller{testenv.TokenClient(tb, e.URL, e.Token)}
}

// apiCaller sets up and checks what the CLI did through the API.
type apiCaller struct{ *testenv.Client }

func (c *apiCaller) mustDo(want int, method, path string, body, out any) {
	c.Must(want, method, path, body, out)
}

// runCLI runs `tenantlink args...` in process, as the binary would.
func runCLI(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// opJSON runs an operation with --output json and decodes its items.
func (e *opEnv) opJSON(tb testing.TB, args ...string) []map[string]any {
	tb.Helper()
	argv := append([]string{"op", e2eDSName}, args...)
	argv = append(argv, "--server", e.URL, "--output", "json")
	code, stdout, stderr := runCLI(tb, argv...)
	if code != 0 {
		tb.Fatalf("tenantlink %s: exit %d; stderr: %s", strings.Join(argv, " "), code, stderr)
	}
	var out struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		tb.Fatalf("tenantlink %s: output is not JSON (%v):\n%s", strings.Join(argv, " "), err, stdout)
	}
	return out.Items
}

func TestOpEndToEnd(t *testing.T) {
	e := startOpEnv(t, opEnvOptions{})
	t.Setenv("TENANTLINK_TOKEN", e.Token)

	// The tenant's users and its group, as the CLI lists them.
	users := e.opJSON(t, "UserList")
	if len(users) < 3 {
		t.Fatalf("UserList: %d users, want at least 3", len(users))
	}
	groups := e.opJSON(t, "GroupList")
	if len(groups) != 1 {
		t.Fatalf("GroupList: %d groups, want the simulator's 1", len(groups))
	}
	groupName := groups[0]["displayName"].(string)
	// Two users other than the administrator who signed in.
	var pick []map[string]any
	for _, u := range users {
		if !strings.EqualFold(u["userPrincipalName"].(string), e.Facts.AdminUser) && len(pick) < 2 {
			pick = append(pick, u)
		}
	}
	target := pick[0]
	upn := target["userPrincipalName"].(string)

	t.Run("FindUsers as a table", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "op", e2eDSName, "FindUsers", "query="+upn, "field=userPrincipalName", "match=equals", "--server", e.URL)
		if code != 0 {
			t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("got %d lines, want header, one row and the count:\n%s", len(lines), stdout)
		}
		header := strings.Fields(lines[0])
		if len(header) < 3 || header[0] != "ID" || header[1] != "USERPRINCIPALNAME" || header[2] != "DISPLAYNAME" {
			t.Errorf("header = %q, want ID USERPRINCIPALNAME DISPLAYNAME … (the declared outputs in order)", lines[0])
		}
		if row := strings.Fields(lines[1]); len(row) < 2 || row[0] != target["id"] || row[1] != upn {
			t.Errorf("row = %q, want %s %s …", lines[1], target["id"], upn)
		}
		if got, want := lines[2], "(1 item(s))"; got != want {
			t.Errorf("count line = %q, want %q", got, want)
		}
	})

	t.Run("FindUsers as JSON", func(t *testing.T) {
		got := e.opJSON(t, "FindUsers", "query="+upn, "field=userPrincipalName", "match=equals")
		want := []map[string]any{target}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("items (-UserList's record +FindUsers'):\n%s", diff)
		}
	})

	t.Run("AddUserToGroup is idempotent", func(t *testing.T) {
		args := []string{"AddUserToGroup", "user=" + pick[0]["userPrincipalName"].(string), "user=" + pick[1]["id"].(string), "group=" + groupName}
		for _, want := range []string{"added", "already a member"} {
			items := e.opJSON(t, args...)
			var got []string
			for _, it := range items {
				got = append(got, fmt.Sprint(it["result"]))
				if it["groupId"] != groups[0]["id"] {
					t.Errorf("item %v: groupId %v, want %v", it, it["groupId"], groups[0]["id"])
				}
			}
			if diff := cmp.Diff([]string{want, want}, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		}
	})

	tests := []struct {
		name       string
		args       []string
		token      string
		wantCode   int
		wantStderr []string
	}{
		{"unknown input", []string{"op", e2eDSName, "FindUsers", "query=a", "colour=blue"}, e.Token, 1,
			[]string{`Find Users has no input "colour"`, "its inputs are query, field, match, maxRows", "HTTP 400"}},
		{"bad enum", []string{"op", e2eDSName, "FindUsers", "query=a", "match=fuzzy"}, e.Token, 1,
			[]string{`Input "match" must be one of startsWith, equals, contains`}},
		{"unknown operation", []string{"op", e2eDSName, "DeleteEverything"}, e.Token, 1,
			[]string{`no operation "DeleteEverything"`, "tenantlink op"}},
		{"unknown data source", []string{"op", "Fabrikam", "UserList"}, e.Token, 1,
			[]string{`no data source named "Fabrikam"`}},
		{"no token", []string{"op", e2eDSName, "UserList"}, "", 1,
			[]string{"an API token is required", "TENANTLINK_TOKEN"}},
		{"revoked or wrong token", []string{"op", e2eDSName, "UserList"}, "tl_not-a-token", 1,
			[]string{"HTTP 401"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TENANTLINK_TOKEN", tc.token)
			code, stdout, stderr := runCLI(t, append(tc.args, "--server", e.URL)...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", stdout)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, w)
				}
			}
		})
	}
}
