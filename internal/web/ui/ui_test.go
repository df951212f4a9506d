package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

func TestSignIn(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)

	tests := []struct {
		name         string
		form         url.Values
		wantStatus   int
		wantLocation string
		wantBody     string
	}{
		{"good password goes to next", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {"/users?x=1"}}, http.StatusSeeOther, "/users?x=1", ""},
		{"no next goes to data sources", url.Values{"email": {"admin@example.com"}, "password": {testPassword}}, http.StatusSeeOther, "/datasources", ""},
		{"other site in next is ignored", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {"//evil.example/x"}}, http.StatusSeeOther, "/datasources", ""},
		{"backslash trick in next is ignored", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {"/\\evil.example"}}, http.StatusSeeOther, "/datasources", ""},
		{"absolute URL in next is ignored", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {"https://evil.example/"}}, http.StatusSeeOther, "/datasources", ""},
		{"wrong password shows the form again", url.Values{"email": {"admin@example.com"}, "password": {"nope"}}, http.StatusUnauthorized, "", "Email or password is incorrect."},
		{"empty fields", url.Values{"email": {""}, "password": {""}}, http.StatusBadRequest, "", "Enter your email and password."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.anonymous(t)
			tc.form.Set("csrf", b.loginCSRF())
			got := b.post("/login", tc.form, false)
			if got.Status != tc.wantStatus || got.Location != tc.wantLocation {
				t.Fatalf("POST /login: got %d %q, want %d %q", got.Status, got.Location, tc.wantStatus, tc.wantLocation)
			}
			if !strings.Contains(got.Body, tc.wantBody) {
				t.Errorf("body lacks %q:\n%s", tc.wantBody, got.Body)
			}
			if tc.wantBody != "" && !strings.Contains(got.Body, `role="alert"`) {
				t.Errorf("the error is not announced with role=alert:\n%s", got.Body)
			}
		})
	}

	t.Run("anonymous pages redirect to sign-in", func(t *testing.T) {
		got := e.anonymous(t).get("/datasources?search=a")
		if want := "/login?next=" + url.QueryEscape("/datasources?search=a"); got.Status != http.StatusSeeOther || got.Location != want {
			t.Errorf("GET /datasources: got %d %q, want 303 %q", got.Status, got.Location, want)
		}
	})

	t.Run("too many failures are rate limited", func(t *testing.T) {
		// Its own stack: the limiter also counts per client address, and
		// every test client is 127.0.0.1.
		e := mustOpenEnv(t, envConfig{})
		e.mustCreateUser(t, "victim@example.com", tenantlink.RoleUser)
		b := e.anonymous(t)
		var got response
		for range 6 {
			got = b.post("/login", url.Values{"email": {"victim@example.com"}, "password": {"wrong"}, "csrf": {b.loginCSRF()}}, false)
		}
		if got.Status != http.StatusTooManyRequests || !strings.Contains(got.Body, "Too many failed sign-ins") {
			t.Errorf("6th wrong password: got %d, want 429 with the limiter's message; body:\n%s", got.Status, got.Body)
		}
	})

	t.Run("sign out ends the session", func(t *testing.T) {
		b := e.mustSignIn(t, "admin@example.com")
		if got := b.post("/logout", nil, true); got.Status != http.StatusSeeOther || got.Location != "/login" {
			t.Fatalf("POST /logout: got %d %q, want 303 /login", got.Status, got.Location)
		}
		if got := b.get("/datasources"); got.Status != http.StatusSeeOther {
			t.Errorf("GET /datasources after sign-out: got %d, want 303 to sign-in", got.Status)
		}
	})
}

func TestGoldenPages(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	e.mustCreateDataSource(t, admin, "Contoso directory", true)
	ready := e.mustCreateDataSource(t, admin, "Fabrikam <HR>", false)
	// Make one authorized and ready, with the reminder due: authorized
	// almost six months before testNow.
	ctx := context.Background()
	at := testNow.AddDate(0, 0, -170)
	by := at.AddDate(0, 0, 180)
	ready.Status, ready.StatusMessage = tenantlink.StatusReady, "Connection test succeeded"
	ready.AuthorizedAt, ready.ReauthorizeBy, ready.AuthorizedBy = &at, &by, "admin@contoso.onmicrosoft.com"
	if err := e.Store.UpdateDataSource(ctx, ready); err != nil {
		t.Fatal(err)
	}
	// Its real-time subscriptions: one working, one refused.
	exp := testNow.Add(48 * time.Hour)
	for _, r := range []*store.GraphSubscription{
		{DataSourceID: ready.ID, Resource: "users", SubscriptionID: "sub-users", ClientState: "state", ExpiresAt: &exp, Status: store.SubscriptionActive, UpdatedAt: testNow},
		{DataSourceID: ready.ID, Resource: "groups", Status: store.SubscriptionFailed, Message: "The tenant's subscription quota is reached, so changes arrive with the scheduled sync only.", UpdatedAt: testNow},
	} {
		if err := e.Store.PutGraphSubscription(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	b := e.mustSignIn(t, "admin@example.com")

	tests := []struct{ name, path string }{
		{"datasource_list", "/datasources"},
		{"datasource_list_search", "/datasources?search=fabrikam"},
		{"datasource_catalogue", "/datasources/new"},
		{"datasource_new", "/datasources/new/office365"},
		{"datasource_details", "/datasources/" + ready.ID + "?notice=saved"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.get(tc.path)
			if got.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200; body:\n%s", tc.path, got.Status, got.Body)
			}
			checkGolden(t, tc.name, got.Body)
		})
	}
}

func TestDataSourceList(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	for _, n := range []string{"Sales tenant", "Support tenant", "Archive"} {
		e.mustCreateDataSource(t, admin, n, false)
	}
	b := e.mustSignIn(t, "admin@example.com")
	tests := []struct {
		search string
		want   []string
	}{
		{"", []string{"Archive", "Sales tenant", "Support tenant"}},
		{"tenant", []string{"Sales tenant", "Support tenant"}},
		{"SALES", []string{"Sales tenant"}},
		{"office", []string{"Archive", "Sales tenant", "Support tenant"}}, // matches the type
		{"nothing like it", nil},
	}
	for _, tc := range tests {
		t.Run("search="+tc.search, func(t *testing.T) {
			got := b.get("/datasources?search=" + url.QueryEscape(tc.search))
			if got.Status != http.StatusOK {
				t.Fatalf("status %d, want 200", got.Status)
			}
			var names []string
			for _, n := range []string{"Archive", "Sales tenant", "Support tenant"} {
				if strings.Contains(got.Body, `">`+n+`</a>`) {
					names = append(names, n)
				}
			}
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("listed data sources (-want +got):\n%s", diff)
			}
			if tc.want == nil && !strings.Contains(got.Body, "No data source matches") {
				t.Errorf("empty result lacks its explanation:\n%s", got.Body)
			}
		})
	}
}

func TestForbiddenPages(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	e.mustCreateUser(t, "user@example.com", tenantlink.RoleUser)
	e.mustCreateUser(t, "dsadmin@example.com", tenantlink.RoleManageDatasources)
	ds := e.mustCreateDataSource(t, admin, "Contoso", false)
	user := e.mustSignIn(t, "user@example.com")
	dsadmin := e.mustSignIn(t, "dsadmin@example.com")

	tests := []struct {
		name     string
		b        *browser
		method   string
		path     string
		wantCode int
		wantMsg  string
	}{
		{"user: list of what they may use", user, "GET", "/datasources", 200, `href="/datasources/` + ds.ID + `/operations"`},
		{"user: catalogue", user, "GET", "/datasources/new", 403, "Administrator or Manage datasources role"},
		{"user: new form", user, "GET", "/datasources/new/office365", 403, "Administrator or Manage datasources role"},
		{"user: create", user, "POST", "/datasources/new/office365", 403, "Administrator or Manage datasources role"},
		{"user: details", user, "GET", "/datasources/" + ds.ID, 403, "Administrator or Manage datasources role"},
		{"user: delete", user, "POST", "/datasources/" + ds.ID + "/delete", 403, "Administrator or Manage datasources role"},
		{"user: users", user, "GET", "/users", 403, "needs the Administrator role"},
		{"user: groups", user, "GET", "/groups", 403, "needs the Administrator role"},
		{"manage datasources: users", dsadmin, "GET", "/users", 403, "needs the Administrator role"},
		{"manage datasources: add user", dsadmin, "POST", "/users", 403, "needs the Administrator role"},
		{"manage datasources: list", dsadmin, "GET", "/datasources", 200, "Datasource management"},
		{"manage datasources: security page", dsadmin, "GET", "/datasources/" + ds.ID + "/security", 200, "Connection administrators"},
		{"unknown data source", dsadmin, "GET", "/datasources/nope", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got response
			if tc.method == "GET" {
				got = tc.b.get(tc.path)
			} else {
				got = tc.b.post(tc.path, url.Values{"name": {"x"}, "email": {"x@example.com"}}, true)
			}
			if got.Status != tc.wantCode {
				t.Fatalf("%s %s: status %d, want %d; body:\n%s", tc.method, tc.path, got.Status, tc.wantCode, got.Body)
			}
			if !strings.Contains(got.Body, tc.wantMsg) {
				t.Errorf("body lacks %q:\n%s", tc.wantMsg, got.Body)
			}
		})
	}

	t.Run("Users menu entry only for Administrators", func(t *testing.T) {
		if got := dsadmin.get("/datasources"); strings.Contains(got.Body, `href="/users"`) {
			t.Errorf("a Manage datasources holder sees the Users menu entry")
		}
		if got := e.mustSignIn(t, "admin@example.com").get("/datasources"); !strings.Contains(got.Body, `href="/users"`) {
			t.Errorf("an Administrator does not see the Users menu entry")
		}
	})
}

func TestCSRF(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	ds := e.mustCreateDataSource(t, admin, "Contoso", false)
	b := e.mustSignIn(t, "admin@example.com")
	posts := []struct {
		path string
		form url.Values
	}{
		{"/datasources/new/office365", url.Values{"name": {"Sneaky"}}},
		{"/datasources/" + ds.ID, url.Values{"name": {"Renamed"}}},
		{"/datasources/" + ds.ID + "/delete", nil},
		{"/datasources/" + ds.ID + "/security", url.Values{"admins": {admin.ID}}},
		{"/users", url.Values{"email": {"new@example.com"}}},
		{"/tokens", url.Values{"name": {"sneaky"}}},
		{"/account/password", url.Values{"currentPassword": {testPassword}, "newPassword": {"sneaky password"}, "confirmPassword": {"sneaky password"}}},
		{"/logout", nil},
	}
	for _, tc := range posts {
		t.Run(tc.path, func(t *testing.T) {
			got := b.post(tc.path, tc.form, false)
			if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "CSRF") {
				t.Errorf("POST %s without token: got %d, want 403 naming the CSRF token; body:\n%s", tc.path, got.Status, got.Body)
			}
		})
	}
	got, err := e.Store.GetDataSource(context.Background(), ds.ID)
	if err != nil || got.Name != "Contoso" {
		t.Errorf("after refused posts: data source %+v, %v; want it unchanged", got, err)
	}
}

func TestDataSourceForm(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	b := e.mustSignIn(t, "admin@example.com")
	ctx := context.Background()

	created := b.post("/datasources/new/office365", url.Values{"name": {"Contoso"}, "readWrite": {"on"}, "authMode": {"delegated"}, "action": {"save"}}, true)
	if created.Status != http.StatusSeeOther || !strings.HasSuffix(created.Location, "?notice=saved") {
		t.Fatalf("create: got %d %q, want 303 to the details page with the saved notice", created.Status, created.Location)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(created.Location, "/datasources/"), "?notice=saved")
	ds, err := e.Store.GetDataSource(ctx, id)
	if err != nil {
		t.Fatalf("created data source: %v", err)
	}
	if got, want := ds.Settings, (tenantlink.DataSourceSettings{ReadWrite: true, AuthMode: "delegated"}); got != want {
		t.Errorf("created settings: got %+v, want %+v", got, want)
	}
	page := b.get(created.Location)
	if !strings.Contains(page.Body, `role="status">Details saved successfully</p>`) {
		t.Errorf("details page lacks the saved notification:\n%s", page.Body)
	}

	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantLoc    string
		wantBody   []string
		check      func(t *testing.T, ds *tenantlink.DataSource)
	}{
		{
			name: "save turns a box off", form: url.Values{"name": {"Contoso 2"}, "authMode": {"delegated"}, "action": {"save"}},
			wantStatus: 303, wantLoc: "/datasources/" + id + "?notice=saved",
			check: func(t *testing.T, ds *tenantlink.DataSource) {
				if ds.Name != "Contoso 2" || ds.Settings.ReadWrite {
					t.Errorf("after save: name %q readWrite %v, want \"Contoso 2\" false", ds.Name, ds.Settings.ReadWrite)
				}
			},
		},
		{
			name: "empty name comes back with the error and the input", form: url.Values{"name": {""}, "singleSignOn": {"on"}, "action": {"save"}},
			wantStatus: 400, wantBody: []string{`role="alert">Display name is required.</p>`, `id="singleSignOn" name="singleSignOn" type="checkbox" checked`},
			check: func(t *testing.T, ds *tenantlink.DataSource) {
				if ds.Name != "Contoso 2" || ds.Settings.SingleSignOn {
					t.Errorf("a refused save changed the data source: %+v", ds)
				}
			},
		},
		{
			name: "test connection before authorizing", form: url.Values{"name": {"Contoso 2"}, "action": {"test"}},
			wantStatus: 303, wantLoc: "/datasources/" + id + "?notice=tested",
			check: func(t *testing.T, ds *tenantlink.DataSource) {
				if ds.Status != tenantlink.StatusIncomplete {
					t.Errorf("status %q, want incomplete", ds.Status)
				}
			},
		},
		{
			name: "security saves first", form: url.Values{"name": {"Contoso 3"}, "action": {"security"}},
			wantStatus: 303, wantLoc: "/datasources/" + id + "/security",
			check: func(t *testing.T, ds *tenantlink.DataSource) {
				if ds.Name != "Contoso 3" {
					t.Errorf("name %q, want Contoso 3", ds.Name)
				}
			},
		},
		{
			name: "authorize without JavaScript redirects the window to Microsoft", form: url.Values{"name": {"Contoso 3"}, "action": {"authorize"}},
			wantStatus: 303, wantLoc: "https://login.example.test/organizations/oauth2/v2.0/authorize?",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.post("/datasources/"+id, tc.form, true)
			if got.Status != tc.wantStatus || !strings.HasPrefix(got.Location, tc.wantLoc) {
				t.Fatalf("got %d %q, want %d %q…; body:\n%s", got.Status, got.Location, tc.wantStatus, tc.wantLoc, got.Body)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(got.Body, w) {
					t.Errorf("body lacks %q:\n%s", w, got.Body)
				}
			}
			if tc.check != nil {
				ds, err := e.Store.GetDataSource(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, ds)
			}
		})
	}

	t.Run("tested notice shows the test's message as an alert", func(t *testing.T) {
		got := b.get("/datasources/" + id + "?notice=tested")
		if !strings.Contains(got.Body, `role="alert">Not authorized yet: click Authorize.</p>`) {
			t.Errorf("page lacks the test outcome:\n%s", got.Body)
		}
	})
	t.Run("unknown notice codes say nothing", func(t *testing.T) {
		got := b.get("/datasources/" + id + "?notice=%3Cscript%3E")
		if strings.Contains(got.Body, `class="notice`) {
			t.Errorf("an unknown notice code rendered a notification:\n%s", got.Body)
		}
	})
	t.Run("duplicate name on a new data source keeps the form", func(t *testing.T) {
		got := b.post("/datasources/new/office365", url.Values{"name": {"Contoso 3"}, "readWrite": {"on"}, "action": {"save"}}, true)
		if got.Status != http.StatusConflict || !strings.Contains(got.Body, `role="alert"`) || !strings.Contains(got.Body, `value="Contoso 3"`) {
			t.Errorf("got %d, want 409 with an alert and the typed name; body:\n%s", got.Status, got.Body)
		}
	})
	t.Run("authorize on a new data source saves it first", func(t *testing.T) {
		got := b.post("/datasources/new/office365", url.Values{"name": {"Fresh"}, "action": {"authorize"}}, true)
		if got.Status != http.StatusSeeOther || !strings.HasPrefix(got.Location, "https://login.example.test/") {
			t.Fatalf("got %d %q, want 303 to the authority", got.Status, got.Location)
		}
		all, err := e.Store.ListDataSources(ctx, "Fresh")
		if err != nil || len(all) != 1 {
			t.Errorf("data sources named Fresh: %d, %v; want 1", len(all), err)
		}
	})
}

func TestDeleteWithConfirmPage(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	ds := e.mustCreateDataSource(t, admin, "Doomed", false)
	b := e.mustSignIn(t, "admin@example.com")

	list := b.get("/datasources")
	if !strings.Contains(list.Body, `aria-label="Delete Doomed"`) {
		t.Fatalf("list lacks the Bin button named \"Delete Doomed\":\n%s", list.Body)
	}
	confirm := b.get("/datasources/" + ds.ID + "/delete")
	if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "Delete the data source <strong>Doomed</strong>?") {
		t.Fatalf("confirm page: %d\n%s", confirm.Status, confirm.Body)
	}
	if _, err := e.Store.GetDataSource(context.Background(), ds.ID); err != nil {
		t.Fatalf("showing the confirm page deleted the data source: %v", err)
	}
	got := b.post("/datasources/"+ds.ID+"/delete", nil, true)
	if got.Status != http.StatusSeeOther || got.Location != "/datasources?notice=deleted" {
		t.Fatalf("POST delete: got %d %q, want 303 /datasources?notice=deleted", got.Status, got.Location)
	}
	if _, err := e.Store.GetDataSource(context.Background(), ds.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: GetDataSource error %v, want ErrNotFound", err)
	}
	after := b.get(got.Location)
	if strings.Contains(after.Body, ">Doomed</a>") || !strings.Contains(after.Body, "Data source deleted") {
		t.Errorf("list after delete:\n%s", after.Body)
	}
}

func TestSecurity(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	alice := e.mustCreateUser(t, "alice@example.com", tenantlink.RoleManageDatasources)
	ds := e.mustCreateDataSource(t, admin, "Contoso", false)
	b := e.mustSignIn(t, "admin@example.com")

	got := b.post("/datasources/"+ds.ID+"/security", url.Values{"admins": {alice.ID}, "users": {alice.ID, admin.ID}, "writers": {alice.ID}}, true)
	if got.Status != http.StatusSeeOther || got.Location != "/datasources/"+ds.ID+"?notice=security" {
		t.Fatalf("POST security: got %d %q; body:\n%s", got.Status, got.Location, got.Body)
	}
	sec, err := e.DS.GetSecurity(context.Background(), tenantlink.System, ds.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := tenantlink.Security{Admins: []string{alice.ID}, Users: []string{admin.ID, alice.ID}, Writers: []string{alice.ID}}
	want.Users = slices.Sorted(slices.Values(want.Users)) // the service keeps lists sorted
	if diff := cmp.Diff(want, *sec); diff != "" {
		t.Errorf("stored security (-want +got):\n%s", diff)
	}
	for _, path := range []string{"/datasources/" + ds.ID + "/security", "/datasources/" + ds.ID} {
		page := b.get(path)
		if !strings.Contains(page.Body, `id="writers-u-`+alice.ID+`" name="writers" value="`+alice.ID+`" checked`) {
			t.Errorf("%s does not show alice ticked as connection writer:\n%s", path, page.Body)
		}
		if !strings.Contains(page.Body, `id="admins-u-`+alice.ID+`" name="admins" value="`+alice.ID+`" checked`) {
			t.Errorf("%s does not show alice ticked as connection administrator:\n%s", path, page.Body)
		}
		if strings.Contains(page.Body, `id="admins-u-`+admin.ID+`" name="admins" value="`+admin.ID+`" checked`) {
			t.Errorf("%s shows admin ticked as connection administrator", path)
		}
	}
	bad := b.post("/datasources/"+ds.ID+"/security", url.Values{"admins": {"nobody"}}, true)
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, "neither a directory user nor a group") {
		t.Errorf("unknown entry: got %d; body:\n%s", bad.Status, bad.Body)
	}
}

func TestUsersAndGroups(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	b := e.mustSignIn(t, "admin@example.com")
	ctx := context.Background()

	got := b.post("/users", url.Values{"email": {"new@example.com"}, "givenName": {"New"}, "surname": {"Person"}, "password": {testPassword}, "roles": {"User", "Manage datasources"}}, true)
	if got.Status != http.StatusSeeOther || got.Location != "/users?notice=created" {
		t.Fatalf("add user: got %d %q; body:\n%s", got.Status, got.Location, got.Body)
	}
	u, err := e.Store.GetUserByEmail(ctx, "new@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]tenantlink.Role{tenantlink.RoleManageDatasources, tenantlink.RoleUser}, u.Roles); diff != "" || u.DisplayName != "New Person" {
		t.Errorf("created user: display name %q, roles diff (-want +got):\n%s", u.DisplayName, diff)
	}

	bad := b.post("/users", url.Values{"email": {"not an address"}, "givenName": {"Kept"}}, true)
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, "is not a valid address") || !strings.Contains(bad.Body, `value="Kept"`) {
		t.Errorf("bad email: got %d; body:\n%s", bad.Status, bad.Body)
	}

	got = b.post("/users/"+u.ID, url.Values{"roles": {"Administrator"}}, true) // active unticked
	if got.Status != http.StatusSeeOther {
		t.Fatalf("update user: got %d; body:\n%s", got.Status, got.Body)
	}
	u, err = e.Store.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Active || !u.HasRole(tenantlink.RoleAdministrator) || u.HasRole(tenantlink.RoleUser) {
		t.Errorf("after update: active %v roles %v, want inactive Administrator", u.Active, u.Roles)
	}

	self := b.post("/users/"+admin.ID, url.Values{"roles": {"User"}, "active": {"on"}}, true)
	if self.Status != http.StatusConflict || !strings.Contains(self.Body, "cannot remove the Administrator role from yourself") {
		t.Errorf("demoting yourself: got %d; body:\n%s", self.Status, self.Body)
	}

	list := b.get("/users")
	for _, want := range []string{"new@example.com", "admin@example.com", `aria-label="Save new@example.com"`} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("/users lacks %q", want)
		}
	}

	name, roles, members := "Helpdesk", []tenantlink.Role{tenantlink.RoleManageDatasources}, []string{u.ID}
	g, err := e.Dir.CreateGroup(ctx, tenantlink.System, directory.GroupInput{Name: &name, Roles: &roles, Members: &members})
	if err != nil {
		t.Fatal(err)
	}
	groups := b.get("/groups")
	// The name leads to the group's page (member sync, package syncui).
	for _, want := range []string{`<th scope="row"><a href="/groups/` + g.ID + `">Helpdesk</a></th>`, "<td>Manage datasources</td>", "<li>new@example.com</li>"} {
		if !strings.Contains(groups.Body, want) {
			t.Errorf("/groups lacks %q:\n%s", want, groups.Body)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	b := e.anonymous(t)
	tests := []struct{ path, wantType, wantText string }{
		{"/static/app.css", "text/css", ".badge-ready"},
		{"/static/app.js", "text/javascript", "tenantlink-authorize"},
		{"/static/callback.js", "text/javascript", "window.opener"},
		{"/static/page.js", "text/javascript", "data-confirm-unsaved"},
		{"/static/connectors/office365.svg", "image/svg+xml", "<svg"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got := b.get(tc.path)
			if got.Status != http.StatusOK || !strings.HasPrefix(got.Header.Get("Content-Type"), tc.wantType) || !strings.Contains(got.Body, tc.wantText) {
				t.Errorf("GET %s: %d %q, want 200 %s containing %q", tc.path, got.Status, got.Header.Get("Content-Type"), tc.wantType, tc.wantText)
			}
		})
	}
	if got := b.get("/static/nope.js"); got.Status != http.StatusNotFound {
		t.Errorf("missing asset: status %d, want 404", got.Status)
	}
}

// The clock matters to the reminder: a data source authorized long ago
// shows it, one authorized recently does not.
func TestReminderBanner(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	b := e.mustSignIn(t, "admin@example.com")
	tests := []struct {
		name string
		age  time.Duration
		want bool
	}{
		{"authorized yesterday", 24 * time.Hour, false},
		{"authorized 170 days ago", 170 * 24 * time.Hour, true},
		{"past the date", 200 * 24 * time.Hour, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := e.mustCreateDataSource(t, admin, "DS "+string(rune('A'+i)), false)
			at := testNow.Add(-tc.age)
			by := at.AddDate(0, 0, 180)
			ds.Status, ds.AuthorizedAt, ds.ReauthorizeBy, ds.AuthorizedBy = tenantlink.StatusReady, &at, &by, "admin@contoso.example"
			if err := e.Store.UpdateDataSource(context.Background(), ds); err != nil {
				t.Fatal(err)
			}
			page := b.get("/datasources/" + ds.ID)
			if got := strings.Contains(page.Body, "Re-authorization is due by"); got != tc.want {
				t.Errorf("reminder shown: got %v, want %v", got, tc.want)
			}
			if !strings.Contains(page.Body, ">Re-Authorize</button>") {
				t.Errorf("an authorized data source's button is not Re-Authorize")
			}
		})
	}
}

// TestDataSourceSubscriptionStates: the data source page shows each
// real-time subscription's state as the realtime service names it, with
// the reason of a failure; a data source without any shows no table.
func TestDataSourceSubscriptionStates(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	ds := e.mustCreateDataSource(t, admin, "Contoso", false)
	other := e.mustCreateDataSource(t, admin, "Fabrikam", false)
	ctx := context.Background()
	b := e.mustSignIn(t, "admin@example.com")
	if got := b.get("/datasources/" + other.ID); strings.Contains(got.Body, `id="ds-subscriptions"`) {
		t.Errorf("a data source without subscriptions shows the table:\n%s", got.Body)
	}
	soon, later := testNow.Add(30*time.Minute), testNow.Add(72*time.Hour)
	for _, tc := range []struct {
		name string
		row  store.GraphSubscription
		want string // the row's data-state and what it must say
		says string
	}{
		{"active", store.GraphSubscription{SubscriptionID: "s1", ClientState: "x", ExpiresAt: &later, Status: store.SubscriptionActive}, "active", "users"},
		{"expiring", store.GraphSubscription{SubscriptionID: "s1", ClientState: "x", ExpiresAt: &soon, Status: store.SubscriptionActive}, "expiring", "users"},
		{"reauthorizing", store.GraphSubscription{SubscriptionID: "s1", ClientState: "x", ExpiresAt: &later, Status: store.SubscriptionReauthorizing,
			Message: "Microsoft 365 asked for reauthorization."}, "reauthorizing", "Microsoft 365 asked for reauthorization."},
		{"failed and why", store.GraphSubscription{Status: store.SubscriptionFailed, Message: "Permission refused."}, "failed", "Permission refused."},
		{"pending", store.GraphSubscription{}, "pending", "users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.row
			r.DataSourceID, r.Resource, r.UpdatedAt = ds.ID, "users", testNow
			if err := e.Store.PutGraphSubscription(ctx, &r); err != nil {
				t.Fatal(err)
			}
			got := b.get("/datasources/" + ds.ID)
			if got.Status != http.StatusOK {
				t.Fatalf("status %d", got.Status)
			}
			i := strings.Index(got.Body, `<tr data-state="`+tc.want+`">`)
			if i < 0 {
				t.Fatalf("no %s row in the subscriptions table:\n%s", tc.want, got.Body)
			}
			if row := got.Body[i:min(len(got.Body), i+400)]; !strings.Contains(row, tc.says) {
				t.Errorf("%s row lacks %q: %s", tc.want, tc.says, row)
			}
			subs, err := e.Store.ListGraphSubscriptions(ctx, ds.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range subs {
				if err := e.Store.DeleteGraphSubscription(ctx, s.ID); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
