package ui_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
)

var menuLinkRE = regexp.MustCompile(`<li><a href="([^"]*)"[^>]*>([^<]*)</a></li>`)

// menu is the Administration menu of a page: label -> link.
func menu(tb testing.TB, body string) map[string]string {
	tb.Helper()
	i, j := strings.Index(body, `<details class="menu"`), strings.Index(body, "</details>")
	if i < 0 || j < i {
		tb.Fatalf("page has no Administration menu:\n%s", body)
	}
	out := map[string]string{}
	for _, m := range menuLinkRE.FindAllStringSubmatch(body[i:j], -1) {
		out[m[2]] = m[1]
	}
	return out
}

func TestMenu(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	user := e.mustCreateUser(t, "user@example.com", tenantlink.RoleUser)
	e.mustCreateUser(t, "outsider@example.com", tenantlink.RoleUser)
	e.mustCreateUser(t, "manager@example.com", tenantlink.RoleManageDatasources)
	e.mustCreateUser(t, "designer@example.com", tenantlink.RoleDesignProcess)
	ds := e.mustCreateDataSource(t, admin, "Contoso", false)
	// Only user@ is a connection user: the others without a data source
	// role have no data source to use.
	if _, err := e.DS.PutSecurity(context.Background(), e.mustPrincipal(t, admin), ds.ID, tenantlink.Security{Users: []string{user.ID}}); err != nil {
		t.Fatal(err)
	}

	all := map[string]string{"Data sources": "/datasources", "Users": "/users", "Groups": "/groups",
		"Scheduled tasks": "/tasks", "Processes": "/processes", "Single sign-on": "/settings/sso", "API tokens": "/tokens", "Audit log": "/audit"}
	tests := []struct {
		email string
		want  []string
	}{
		{"admin@example.com", []string{"Data sources", "Users", "Groups", "Scheduled tasks", "Processes", "Single sign-on", "API tokens", "Audit log"}},
		// Everyone has an audit log: their own actions.
		{"manager@example.com", []string{"Data sources", "Processes", "API tokens", "Audit log"}},
		{"user@example.com", []string{"Data sources", "Processes", "API tokens", "Audit log"}},
		{"outsider@example.com", []string{"Processes", "API tokens", "Audit log"}},
		{"designer@example.com", []string{"Processes", "API tokens", "Audit log"}},
	}
	for _, tc := range tests {
		t.Run(tc.email, func(t *testing.T) {
			got := menu(t, e.mustSignIn(t, tc.email).get("/datasources").Body)
			want := map[string]string{}
			for _, l := range tc.want {
				want[l] = all[l]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("menu (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("the current page is marked", func(t *testing.T) {
		b := e.mustSignIn(t, "admin@example.com")
		for path, href := range map[string]string{"/datasources": "/datasources", "/users": "/users", "/groups": "/groups", "/audit": "/audit"} {
			if body := b.get(path).Body; !strings.Contains(body, `<a href="`+href+`" aria-current="page">`) {
				t.Errorf("GET %s: menu entry %s is not marked current", path, href)
			}
		}
	})
}

func TestDataSourceListForConnectionUsers(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	user := e.mustCreateUser(t, "user@example.com", tenantlink.RoleUser)
	other := e.mustCreateUser(t, "other@example.com", tenantlink.RoleUser)
	e.mustCreateUser(t, "outsider@example.com", tenantlink.RoleUser)
	ctx := context.Background()
	mine := e.mustCreateDataSource(t, admin, "Mine", false)
	theirs := e.mustCreateDataSource(t, admin, "Theirs", false)
	for ds, users := range map[*tenantlink.DataSource][]string{mine: {user.ID}, theirs: {other.ID}} {
		if _, err := e.DS.PutSecurity(ctx, e.mustPrincipal(t, admin), ds.ID, tenantlink.Security{Users: users}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a connection user sees their data sources, leading to operations", func(t *testing.T) {
		got := e.mustSignIn(t, "user@example.com").get("/datasources")
		if got.Status != http.StatusOK {
			t.Fatalf("GET /datasources: status %d, want 200; body:\n%s", got.Status, got.Body)
		}
		checkGolden(t, "datasource_list_user", got.Body)
		for _, want := range []string{`href="/datasources/` + mine.ID + `/operations"`, ">Mine<"} {
			if !strings.Contains(got.Body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		for _, unwanted := range []string{"Theirs", theirs.ID, "/datasources/new", "Delete", `href="/datasources/` + mine.ID + `"`} {
			if strings.Contains(got.Body, unwanted) {
				t.Errorf("page shows %q to a connection user", unwanted)
			}
		}
	})
	t.Run("a user of none sees an explanation", func(t *testing.T) {
		got := e.mustSignIn(t, "outsider@example.com").get("/datasources")
		if got.Status != http.StatusOK || !strings.Contains(got.Body, "No data source is shared with you yet") {
			t.Errorf("GET /datasources: status %d, want 200 explaining that nothing is shared; body:\n%s", got.Status, got.Body)
		}
		if strings.Contains(got.Body, "Mine") || strings.Contains(got.Body, "Theirs") {
			t.Errorf("a user of no data source is shown one:\n%s", got.Body)
		}
	})
	t.Run("the operations page the list leads to opens", func(t *testing.T) {
		b := e.mustSignIn(t, "user@example.com")
		if got := b.get("/datasources/" + mine.ID + "/operations"); got.Status != http.StatusOK {
			t.Errorf("GET operations of Mine: status %d, want 200", got.Status)
		}
		// Not theirs to see: not found, as an unknown id (decision 0023).
		if got := b.get("/datasources/" + theirs.ID + "/operations"); got.Status != http.StatusNotFound {
			t.Errorf("GET operations of Theirs: status %d, want 404", got.Status)
		}
	})
}
