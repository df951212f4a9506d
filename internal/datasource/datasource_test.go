package datasource_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newService is the service over a real SQLite store and the real Office
// 365 connector; nothing here reaches Microsoft.
func newService(tb testing.TB) (*datasource.Service, *[]string) {
	tb.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+tb.TempDir()+"/t.db", secretstest.NewTestKeyring(tb), nil)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	var changes []string
	s := &datasource.Service{
		Store:       st,
		Connectors:  map[string]connector.Connector{tenantlink.ConnectorOffice365: office365.New(office365.Config{ClientID: "c"})},
		CallbackURL: "http://127.0.0.1/oauth/callback",
		Now:         func() time.Time { return testNow },
		OnStatus: func(ds *tenantlink.DataSource, from tenantlink.Status) {
			changes = append(changes, fmt.Sprintf("%s→%s", from, ds.Status))
		},
	}
	return s, &changes
}

func ptr[T any](v T) *T { return &v }

func principal(id string, roles []tenantlink.Role, groups ...string) *tenantlink.Principal {
	return &tenantlink.Principal{User: &tenantlink.User{ID: id, Email: id + "@tenantlink.test", Groups: groups}, Roles: roles}
}

var (
	admin   = principal("admin", []tenantlink.Role{tenantlink.RoleAdministrator})
	manager = principal("manager", []tenantlink.Role{tenantlink.RoleManageDatasources})
	member  = principal("member", []tenantlink.Role{tenantlink.RoleUser}, "g-users")
	listed  = principal("listed", []tenantlink.Role{tenantlink.RoleManageDatasources}, "g-admins")
)

func TestAccessRules(t *testing.T) {
	open := &tenantlink.DataSource{Name: "Open"}
	restricted := &tenantlink.DataSource{Name: "Restricted", Security: tenantlink.Security{Admins: []string{"g-admins"}, Users: []string{"g-users", "direct"}}}
	written := &tenantlink.DataSource{Name: "Written", Security: tenantlink.Security{Admins: []string{"g-admins"}, Users: []string{"g-users"}, Writers: []string{"writer", "g-writers"}}}
	tests := []struct {
		name       string
		p          *tenantlink.Principal
		ds         *tenantlink.DataSource
		administer string // "" = allowed, else words of the refusal
		use        string
		write      string
	}{
		{"anonymous", nil, open, "Administrator or Manage datasources role", "Sign in", "Sign in"},
		{"system", tenantlink.System, restricted, "", "", ""},
		{"administrator, open", admin, open, "", "", ""},
		{"administrator always administers", admin, restricted, "", "not a connection user", "Connection writer rights"},
		{"manager, open", manager, open, "", "", ""},
		{"manager not listed", manager, restricted, "not a connection administrator", "not a connection user", "Connection writer rights"},
		{"manager listed through a group", listed, restricted, "", "not a connection user", "Connection writer rights"},
		{"member, open: reads, never writes", member, open, "Administrator or Manage datasources role", "", "Connection writer rights"},
		{"member listed through a group", member, restricted, "Administrator or Manage datasources role", "", "Connection writer rights"},
		{"user listed directly", principal("direct", nil), restricted, "Administrator or Manage datasources role", "", "Connection writer rights"},
		{"writer listed directly also reads", principal("writer", nil), written, "Administrator or Manage datasources role", "", ""},
		{"writer through a group", principal("someone", nil, "g-writers"), written, "Administrator or Manage datasources role", "", ""},
		{"connection administrator and user writes", principal("both", []tenantlink.Role{tenantlink.RoleManageDatasources}, "g-admins", "g-users"), written, "", "", ""},
	}
	check := func(t *testing.T, what string, err error, want string) {
		t.Helper()
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v, want allowed", what, err)
		case want != "" && (err == nil || !strings.Contains(tenantlink.ErrorMessage(err), want)):
			t.Errorf("%s: %v, want a refusal containing %q", what, err, want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, "CanAdminister", datasource.CanAdminister(tt.p, tt.ds), tt.administer)
			check(t, "CanUse", datasource.CanUse(tt.p, tt.ds), tt.use)
			check(t, "CanWrite", datasource.CanWrite(tt.p, tt.ds), tt.write)
		})
	}
}

func TestNameRules(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"plain", "Contoso", "Contoso", ""},
		{"trimmed", "  Contoso  ", "Contoso", ""},
		{"non-ASCII, 100 runes", strings.Repeat("é", 100), strings.Repeat("é", 100), ""},
		{"empty", "", "", "required"},
		{"blank", " \t ", "", "required"},
		{"101 runes", strings.Repeat("x", 101), "", "longer than 100"},
		{"newline", "Con\ntoso", "", "one line"},
		{"tab", "Con\ttoso", "", "one line"},
		{"NUL", "Con\x00toso", "", "one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			ds, err := s.Create(context.Background(), admin, datasource.Input{Name: ptr(tt.in), Type: ptr("office365")})
			if tt.err != "" {
				if tenantlink.ErrorCode(err) != tenantlink.EINVALID || !strings.Contains(tenantlink.ErrorMessage(err), tt.err) {
					t.Errorf("Create(%q) = %v, want invalid containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || ds.Name != tt.want {
				t.Fatalf("Create(%q) = %v, %v; want name %q", tt.in, ds, err, tt.want)
			}
			// Renaming follows the same rules, and names are unique
			// whatever their case.
			other, err := s.Create(context.Background(), admin, datasource.Input{Name: ptr("Other"), Type: ptr("office365")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Update(context.Background(), admin, other.ID, datasource.Input{Name: ptr(strings.ToUpper(tt.want))})
			if tenantlink.ErrorCode(err) != tenantlink.ECONFLICT {
				t.Errorf("renaming to %q = %v, want a conflict", strings.ToUpper(tt.want), err)
			}
		})
	}
}

func TestSecuritySettings(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	var users []string
	for _, e := range []string{"b@x.test", "a@x.test"} {
		u := &tenantlink.User{Email: e, Active: true}
		if err := s.Store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	g := &tenantlink.Group{Name: "Staff"}
	if err := s.Store.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Create(ctx, admin, datasource.Input{Name: ptr("Contoso"), Type: ptr("office365")})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = users[0]
	}
	tests := []struct {
		name string
		p    *tenantlink.Principal
		in   tenantlink.Security
		want *tenantlink.Security
		err  string
	}{
		{"nil lists are empty", admin, tenantlink.Security{}, &tenantlink.Security{Admins: []string{}, Users: []string{}, Writers: []string{}}, ""},
		{"sorted and deduplicated", admin, tenantlink.Security{Admins: []string{users[0], users[1], users[0]}, Users: []string{g.ID}, Writers: []string{users[1], g.ID, users[1]}},
			&tenantlink.Security{Admins: sortedPair(users[0], users[1]), Users: []string{g.ID}, Writers: sortedPair(users[1], g.ID)}, ""},
		{"unknown id", admin, tenantlink.Security{Admins: []string{"ghost"}}, nil, `"ghost" is neither a directory user nor a group`},
		{"unknown writer", admin, tenantlink.Security{Writers: []string{"ghost"}}, nil, `"ghost" is neither a directory user nor a group`},
		{"too many", admin, tenantlink.Security{Users: many}, nil, "at most 500"},
		{"member may not", member, tenantlink.Security{}, nil, "Administrator or Manage datasources role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Store.GetDataSource(ctx, ds.ID)
			got, err := s.PutSecurity(ctx, tt.p, ds.ID, tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(tenantlink.ErrorMessage(err), tt.err) {
					t.Errorf("PutSecurity = %v, want an error containing %q", err, tt.err)
				}
				after, _ := s.Store.GetDataSource(ctx, ds.ID)
				if diff := cmp.Diff(before.Security, after.Security); diff != "" {
					t.Errorf("refused change stored (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PutSecurity (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a manager who unlists themselves loses access", func(t *testing.T) {
		if _, err := s.PutSecurity(ctx, admin, ds.ID, tenantlink.Security{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutSecurity(ctx, manager, ds.ID, tenantlink.Security{Admins: []string{users[0]}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSecurity(ctx, manager, ds.ID); err == nil || !strings.Contains(err.Error(), "not a connection administrator") {
			t.Errorf("GetSecurity by the unlisted manager = %v, want refused", err)
		}
		if _, err := s.GetSecurity(ctx, admin, ds.ID); err != nil {
			t.Errorf("an Administrator always may: %v", err)
		}
	})
}

func sortedPair(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}

func TestSettingsAfterAuthorization(t *testing.T) {
	ctx := context.Background()
	at := testNow.Add(-time.Hour)
	read := []string{"GroupMember.Read.All", "Organization.Read.All", "User.Read.All"}
	all := append([]string{"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"}, read...)
	tests := []struct {
		name    string
		granted []string
		before  tenantlink.DataSourceSettings
		in      datasource.SettingsInput
		status  tenantlink.Status
		changes []string
	}{
		{"read/write on needs the write scopes", read, tenantlink.DataSourceSettings{AuthMode: "delegated"}, datasource.SettingsInput{ReadWrite: ptr(true)},
			tenantlink.StatusReauthorize, []string{"ready→re-authorization required"}},
		{"read/write on with a grant that covers it", all, tenantlink.DataSourceSettings{AuthMode: "delegated"}, datasource.SettingsInput{ReadWrite: ptr(true)},
			tenantlink.StatusReady, nil},
		{"read/write off", all, tenantlink.DataSourceSettings{AuthMode: "delegated", ReadWrite: true}, datasource.SettingsInput{ReadWrite: ptr(false)},
			tenantlink.StatusReady, nil},
		{"authorization mode changes", all, tenantlink.DataSourceSettings{AuthMode: "delegated"}, datasource.SettingsInput{AuthMode: ptr("application")},
			tenantlink.StatusReauthorize, []string{"ready→re-authorization required"}},
		{"single sign-on only", read, tenantlink.DataSourceSettings{AuthMode: "delegated"}, datasource.SettingsInput{SingleSignOn: ptr(true)},
			tenantlink.StatusReady, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, changes := newService(t)
			ds := &tenantlink.DataSource{Name: "Contoso", Type: "office365", Status: tenantlink.StatusReady, Settings: tt.before,
				AuthorizedAt: &at, AuthorizedBy: "admin@contoso", GrantedScopes: tt.granted}
			if err := s.Store.CreateDataSource(ctx, ds); err != nil {
				t.Fatal(err)
			}
			got, err := s.Update(ctx, admin, ds.ID, datasource.Input{Settings: &tt.in})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.status {
				t.Errorf("status = %q (%q), want %q", got.Status, got.StatusMessage, tt.status)
			}
			if diff := cmp.Diff(tt.changes, *changes); diff != "" {
				t.Errorf("status notifications (-want +got):\n%s", diff)
			}
			entries, err := s.Store.ListAudit(ctx, store.AuditFilter{Target: "datasource:" + ds.ID})
			if err != nil || len(entries) != 1 || entries[0].Action != "datasource.update" {
				t.Fatalf("audit = %+v, %v; want one datasource.update", entries, err)
			}
			if tt.status != tenantlink.StatusReady && !strings.Contains(entries[0].Detail, string(tt.status)) {
				t.Errorf("audit detail %q does not record the status change", entries[0].Detail)
			}
		})
	}
}

func TestReminder(t *testing.T) {
	at := testNow
	tests := []struct {
		name string
		days int
		mode string
		now  time.Time
		want bool
		by   *time.Time
	}{
		{"just authorized", 0, "delegated", at, false, ptr(at.AddDate(0, 0, 180))},
		{"15 days before", 0, "delegated", at.AddDate(0, 0, 165), false, ptr(at.AddDate(0, 0, 180))},
		{"13 days before", 0, "delegated", at.AddDate(0, 0, 167), true, ptr(at.AddDate(0, 0, 180))},
		{"overdue", 0, "delegated", at.AddDate(1, 0, 0), true, ptr(at.AddDate(0, 0, 180))},
		{"configured 30 days", 30, "delegated", at.AddDate(0, 0, 20), true, ptr(at.AddDate(0, 0, 30))},
		{"application mode never", 0, "application", at.AddDate(2, 0, 0), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newService(t)
			ds := &tenantlink.DataSource{Name: "Contoso", Type: "office365", Status: tenantlink.StatusReady, AuthorizedAt: &at,
				Settings: tenantlink.DataSourceSettings{AuthMode: tt.mode, ReauthorizeDays: tt.days}}
			if err := s.Store.CreateDataSource(ctx, ds); err != nil {
				t.Fatal(err)
			}
			// Any saved change recomputes the date from the settings.
			got, err := s.Update(ctx, admin, ds.ID, datasource.Input{Settings: &datasource.SettingsInput{ReauthorizeDays: ptr(tt.days)}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.by, got.ReauthorizeBy); diff != "" {
				t.Errorf("reauthorizeBy (-want +got):\n%s", diff)
			}
			if due := datasource.ReminderDue(got, tt.now); due != tt.want {
				t.Errorf("ReminderDue at %v = %v, want %v", tt.now, due, tt.want)
			}
		})
	}
}

func TestCheckOperation(t *testing.T) {
	read := connector.Operation{Name: "UserList", Label: "User List"}
	write := connector.Operation{Name: "AddUserToGroup", Label: "Add User to Group", Write: true}
	rw := &tenantlink.DataSource{Name: "RW", Settings: tenantlink.DataSourceSettings{ReadWrite: true}}
	ro := &tenantlink.DataSource{Name: "RO"}
	editor := &datasource.Delegate{Principal: admin, Name: `the last editor of process "P" (admin)`}
	gone := &datasource.Delegate{Name: `the last editor of process "P" (left)`}
	plain := &datasource.Delegate{Principal: member, Name: `the last editor of process "P" (member)`}
	tests := []struct {
		name string
		p    *tenantlink.Principal
		d    *datasource.Delegate
		ds   *tenantlink.DataSource
		op   connector.Operation
		want string
	}{
		{"member reads", member, nil, rw, read, ""},
		{"member may not write", member, nil, rw, write, "Connection writer rights"},
		{"administrator writes", admin, nil, rw, write, ""},
		{"read and write off", admin, nil, ro, write, "Read and write users & groups off"},
		{"member writes with the editor's grant", member, editor, rw, write, ""},
		{"editor's grant, read and write off", member, editor, ro, write, "Read and write users & groups off"},
		{"editor gone", member, gone, rw, write, "no longer an active user"},
		{"editor without the grant", member, plain, rw, write, "may no longer change Microsoft 365"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := datasource.CheckOperation(tt.p, tt.d, tt.ds, tt.op)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckOperation = %v, want allowed", err)
			case tt.want != "" && (tenantlink.ErrorCode(err) != tenantlink.EFORBIDDEN || !strings.Contains(tenantlink.ErrorMessage(err), tt.want)):
				t.Errorf("CheckOperation = %v, want 403 containing %q", err, tt.want)
			}
		})
	}
}
