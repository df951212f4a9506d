package ui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/m365sim"
)

var panelRE = regexp.MustCompile(`(?s)<section class="card op-panel".*?</section>`)

// panelHTML is the "Run an operation" panel of a page, or "" when the
// page has none.
func panelHTML(page string) string { return panelRE.FindString(page) }

// TestOperationPanelGolden renders the panel as each kind of operation
// shapes it: text, select and number inputs (Find Users), a multi-line
// user list and a write warning (Add User to Group), selects without a
// default (Create Group), and no inputs at all (Licence Plan List).
func TestOperationPanelGolden(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	ds := e.mustCreateDataSource(t, admin, "Contoso", true)
	b := e.mustSignIn(t, "admin@example.com")

	tests := []struct{ name, path string }{
		{"op_panel_none", "/datasources/" + ds.ID + "/operations"},
		{"op_panel_find_users", "/datasources/" + ds.ID + "/operations?op=FindUsers"},
		{"op_panel_add_user_to_group", "/datasources/" + ds.ID + "?op=AddUserToGroup"},
		{"op_panel_create_group", "/datasources/" + ds.ID + "/operations?op=CreateGroup"},
		{"op_panel_licence_plan_list", "/datasources/" + ds.ID + "/operations?op=LicencePlanList"},
		{"op_panel_unknown", "/datasources/" + ds.ID + "/operations?op=DeleteEverything"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.get(tc.path)
			if got.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200; body:\n%s", tc.path, got.Status, got.Body)
			}
			panel := panelHTML(got.Body)
			if panel == "" {
				t.Fatalf("GET %s has no operation panel:\n%s", tc.path, got.Body)
			}
			checkGolden(t, tc.name, panel)
		})
	}

	t.Run("operations page", func(t *testing.T) {
		got := b.get("/datasources/" + ds.ID + "/operations?op=FindUsers")
		checkGolden(t, "datasource_operations", got.Body)
	})
}

// simEnv is the web stack with its Office 365 connector pointed at a
// running simulator, and one data source authorized read-only.
type simEnv struct {
	*env
	Facts m365sim.Facts
	Admin *tenantlink.User
	// Source is the authorized data source ("Contoso", read-only).
	Source *tenantlink.DataSource
}

func mustOpenSimEnv(t *testing.T) *simEnv {
	t.Helper()
	var facts m365sim.Facts
	e := mustOpenEnv(t, envConfig{Connectors: func(base string) map[string]connector.Connector {
		sim, err := m365sim.New(m365sim.Options{Users: 6, Groups: 2, Seed: 7, RedirectURIs: []string{base + "/oauth/callback"}})
		if err != nil {
			t.Fatalf("m365sim.New: %v", err)
		}
		if err := sim.Start("127.0.0.1:0"); err != nil {
			t.Fatalf("start simulator: %v", err)
		}
		t.Cleanup(func() { sim.Close() })
		facts = sim.Facts()
		return map[string]connector.Connector{tenantlink.ConnectorOffice365: office365.New(office365.Config{
			Authority: facts.URL, GraphURL: facts.URL, ClientID: facts.ClientID, ClientSecret: facts.ClientSecret,
			Logger: slog.New(slog.DiscardHandler),
		})}
	}})
	s := &simEnv{env: e, Facts: facts}
	s.Admin = e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	s.Source = e.mustCreateDataSource(t, s.Admin, "Contoso", false)
	s.mustAuthorize(t, e.mustSignIn(t, "admin@example.com"))
	return s
}

// mustAuthorize clicks Authorize without JavaScript, signs in at the
// simulator as its administrator and follows Microsoft's answer back.
func (s *simEnv) mustAuthorize(t *testing.T, b *browser) {
	t.Helper()
	got := b.post("/datasources/"+s.Source.ID, url.Values{"name": {s.Source.Name}, "action": {"authorize"}}, true)
	if got.Status != http.StatusSeeOther {
		t.Fatalf("Authorize: status %d, want 303; body:\n%s", got.Status, got.Body)
	}
	loc := testenv.MicrosoftSignIn(t, got.Location, s.Facts.AdminUser, s.Facts.AdminPassword)
	if cb := b.get(loc.RequestURI()); cb.Status != http.StatusOK {
		t.Fatalf("callback: status %d, want 200; body:\n%s", cb.Status, cb.Body)
	}
	ds, err := s.Store.GetDataSource(context.Background(), s.Source.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Status != tenantlink.StatusReady {
		t.Fatalf("after authorizing: status %q (%s), want ready", ds.Status, ds.StatusMessage)
	}
	s.Source = ds
}

func TestRunOperationForm(t *testing.T) {
	s := mustOpenSimEnv(t)
	ctx := context.Background()
	s.mustCreateUser(t, "user@example.com", tenantlink.RoleUser)
	s.mustCreateUser(t, "outsider@example.com", tenantlink.RoleManageDatasources)
	admin := s.mustSignIn(t, "admin@example.com")
	user := s.mustSignIn(t, "user@example.com")
	dsadmin := s.mustSignIn(t, "outsider@example.com")
	path := "/datasources/" + s.Source.ID + "/operations"
	// The simulator's administrator is a user of the tenant with a known
	// name; Find Users looks it up.
	upn := s.Facts.AdminUser

	tests := []struct {
		name       string
		b          *browser
		form       url.Values
		noCSRF     bool
		wantStatus int
		wantBody   []string
		golden     string
	}{
		{
			name: "read operation renders the rows", b: admin,
			form:       url.Values{"op": {"FindUsers"}, "in.query": {upn}, "in.field": {"userPrincipalName"}, "in.match": {"equals"}, "in.maxRows": {""}},
			wantStatus: 200, golden: "op_run_find_users",
			wantBody: []string{`role="status">1 item(s)</p>`, `<td class="wrap-any">` + upn + "</td>", `<script type="application/json" id="op-items">[{`, `value="` + upn + `"`},
		},
		{
			name: "a plain connection user runs it too", b: user,
			form:       url.Values{"op": {"LicencePlanList"}},
			wantStatus: 200, wantBody: []string{`item(s)</p>`, `<th scope="col" data-col="skuPartNumber">SKU part number</th>`},
		},
		{
			name: "write while read-only is refused next to the chooser", b: admin,
			form:       url.Values{"op": {"AddUserToGroup"}, "in.user": {"adele@contoso.example\r\nalex@contoso.example"}, "in.group": {"Sales"}},
			wantStatus: 403,
			wantBody: []string{`role="alert" id="op-error">Add User to Group changes Microsoft 365, but data source &#34;Contoso&#34; has Read and write users &amp; groups off: a connection administrator must turn it on (and re-authorize).</p>`,
				`Write operations are not offered while Read and write users &amp; groups is off`},
		},
		{
			name: "bad input comes back with the operation's message", b: admin,
			form:       url.Values{"op": {"UserList"}, "in.maxRows": {"0"}},
			wantStatus: 400, wantBody: []string{`role="alert" id="op-error">`, "maxRows", `value="0"`},
		},
		{
			name: "required input missing", b: admin,
			form:       url.Values{"op": {"FindUsers"}, "in.query": {"  "}},
			wantStatus: 400, wantBody: []string{`Find Users needs the input &#34;query&#34;`},
		},
		{
			name: "no operation chosen", b: admin, form: url.Values{},
			wantStatus: 400, wantBody: []string{`role="alert" id="op-error">Choose an operation to run.</p>`},
		},
		{
			name: "unknown operation", b: admin, form: url.Values{"op": {"DeleteEverything"}},
			wantStatus: 400, wantBody: []string{`has no operation &#34;DeleteEverything&#34;`},
		},
		{
			name: "without the CSRF token nothing runs", b: admin, noCSRF: true,
			form:       url.Values{"op": {"UserList"}},
			wantStatus: 403, wantBody: []string{"CSRF"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.b.post(path, tc.form, !tc.noCSRF)
			if got.Status != tc.wantStatus {
				t.Fatalf("POST %s: status %d, want %d; body:\n%s", path, got.Status, tc.wantStatus, got.Body)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(got.Body, w) {
					t.Errorf("body lacks %q:\n%s", w, panelHTML(got.Body))
				}
			}
			if tc.golden != "" {
				checkGolden(t, tc.golden, panelHTML(got.Body))
			}
		})
	}

	// Naming connection users shuts everyone else out, data source
	// administrators included.
	if _, err := s.env.DS.PutSecurity(ctx, tenantlink.System, s.Source.ID, tenantlink.Security{Users: []string{s.Admin.ID}}); err != nil {
		t.Fatal(err)
	}
	t.Run("someone who may not see the data source gets the 404 page", func(t *testing.T) {
		// Neither a connection user nor an administrator: the data source
		// is not there for them, as an unknown id (decision 0023).
		got := user.post(path, url.Values{"op": {"UserList"}}, true)
		if got.Status != http.StatusNotFound || !strings.Contains(got.Body, "not found") || panelHTML(got.Body) != "" {
			t.Errorf("POST %s: status %d, want the 404 page without the panel; body:\n%s", path, got.Status, got.Body)
		}
	})
	t.Run("not a connection user gets the 403 page", func(t *testing.T) {
		for _, b := range []*browser{dsadmin} {
			got := b.post(path, url.Values{"op": {"UserList"}}, true)
			if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "You are not a connection user of data source &#34;Contoso&#34;") {
				t.Errorf("POST %s: status %d, want 403 saying not a connection user; body:\n%s", path, got.Status, got.Body)
			}
			if panelHTML(got.Body) != "" {
				t.Errorf("the 403 page shows the operation panel")
			}
		}
	})
	t.Run("not a connection user: no panel on the details page", func(t *testing.T) {
		got := dsadmin.get("/datasources/" + s.Source.ID)
		if got.Status != http.StatusOK {
			t.Fatalf("details: status %d, want 200", got.Status)
		}
		if panelHTML(got.Body) != "" {
			t.Errorf("the details page shows the panel to a data source administrator who is not a connection user")
		}
		if got := dsadmin.get(path); got.Status != http.StatusForbidden {
			t.Errorf("GET %s: status %d, want 403", path, got.Status)
		}
	})
	t.Run("a connection user who is not an administrator uses the page", func(t *testing.T) {
		if _, err := s.env.DS.PutSecurity(ctx, tenantlink.System, s.Source.ID, tenantlink.Security{}); err != nil {
			t.Fatal(err)
		}
		if got := user.get("/datasources/" + s.Source.ID); got.Status != http.StatusForbidden {
			t.Errorf("details page for a plain user: status %d, want 403", got.Status)
		}
		got := user.get(path + "?op=FindUsers")
		if got.Status != http.StatusOK || !strings.Contains(panelHTML(got.Body), `id="op-in-query"`) {
			t.Errorf("GET %s?op=FindUsers: status %d, want 200 with the Find Users form; body:\n%s", path, got.Status, got.Body)
		}
		if strings.Contains(got.Body, "Data source settings") {
			t.Errorf("the page links a plain user to the settings they may not open")
		}
	})
}

// TestPanelOffersWhatTheViewerMayRun: on a read/write data source with
// blank security lists, a plain user is offered the read operations only
// and told why the write operations are missing; listing her as a
// connection writer offers them.
func TestPanelOffersWhatTheViewerMayRun(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	plain := e.mustCreateUser(t, "plain@example.com", tenantlink.RoleUser)
	ds := e.mustCreateDataSource(t, admin, "Contoso", true)
	b := e.mustSignIn(t, "plain@example.com")
	path := "/datasources/" + ds.ID + "/operations"
	const writes = `<optgroup label="Write (changes Office 365)">`
	const why = "Write operations need Connection writer rights — ask a connection administrator."

	got := b.get(path)
	panel := panelHTML(got.Body)
	if got.Status != http.StatusOK || strings.Contains(panel, writes) || !strings.Contains(panel, why) || !strings.Contains(panel, `value="UserList"`) {
		t.Errorf("GET %s as a plain user: status %d, want 200 with reads only and the reason writes are missing; panel:\n%s", path, got.Status, panel)
	}
	got = b.get(path + "?op=AddUserToGroup")
	if panel := panelHTML(got.Body); strings.Contains(panel, `id="op-run"`) || !strings.Contains(panel, "You may not run AddUserToGroup here: "+why) {
		t.Errorf("GET %s?op=AddUserToGroup as a plain user: want no form and the reason; panel:\n%s", path, panel)
	}
	got = b.post(path, url.Values{"op": {"AddUserToGroup"}, "in.user": {"x@contoso.example"}, "in.group": {"IT"}}, true)
	if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "Connection writer rights") {
		t.Errorf("POST AddUserToGroup as a plain user: status %d, want 403 naming Connection writer rights; panel:\n%s", got.Status, panelHTML(got.Body))
	}

	if _, err := e.DS.PutSecurity(context.Background(), tenantlink.System, ds.ID, tenantlink.Security{Writers: []string{plain.ID}}); err != nil {
		t.Fatal(err)
	}
	got = b.get(path)
	if panel := panelHTML(got.Body); !strings.Contains(panel, writes) || strings.Contains(panel, why) {
		t.Errorf("GET %s as a connection writer: want the write operations offered; panel:\n%s", path, panel)
	}
}
