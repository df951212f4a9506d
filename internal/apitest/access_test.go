package apitest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/internal/web"
)

// columns are the callers of the access matrix, in the order of a row's
// want string. The role columns use a data source with empty security
// lists; the last four use one whose lists name a connection
// administrator (Manage datasources, no Administrator) and, through a
// group, a connection user.
var columns = []string{"anonymous", "User", "Design business process", "Manage datasources", "Administrator", "connection admin", "connection user", "not listed"}

// Why a caller is refused, as the 403 message must say.
const (
	needAdmin  = "Administrator role"
	needDSRole = "Administrator or Manage datasources role"
	needUser   = "not a connection user"
)

// accessRow is one route's expected status per column, and per refused
// column the words its 403 must contain (key "*" for all of them).
type accessRow struct {
	want string
	why  map[string]string
}

// A caller who may not see a thing at all — a data source they neither
// administer nor use ("not listed" on Restricted), someone else's
// instance — is told it is not found, exactly as for an unknown id
// (decision 0023); 403 is for what the caller can see but not act on.
var accessMatrix = map[string]accessRow{
	//                                         anon user design manage admin cadmin cuser nolist
	"POST /api/v1/session":   {"200 200 200 200 200 200 200 200", nil},
	"GET /api/v1/session":    {"401 200 200 200 200 200 200 200", nil},
	"DELETE /api/v1/session": {"401 204 204 204 204 204 204 204", nil},
	"POST /api/v1/tokens":    {"401 201 201 201 201 201 201 201", nil},
	"GET /api/v1/tokens":     {"401 200 200 200 200 200 200 200", nil},
	// Someone else's token: only an Administrator may revoke it; for the
	// others it does not exist (TestTokensAPI covers your own).
	"DELETE /api/v1/tokens/{id}":                      {"401 404 404 404 204 404 404 404", nil},
	"GET /api/v1/connectors":                          {"401 200 200 200 200 200 200 200", nil},
	"GET /api/v1/datasources":                         {"401 200 200 200 200 200 200 200", nil},
	"POST /api/v1/datasources":                        {"401 403 403 201 201 201 403 201", map[string]string{"*": needDSRole}},
	"GET /api/v1/datasources/{id}":                    {"401 200 200 200 200 200 200 404", nil},
	"GET /api/v1/datasources/{id}/operations":         {"401 200 200 200 200 200 200 404", nil},
	"POST /api/v1/datasources/{id}/operations/{name}": {"401 200 200 200 403 403 200 404", map[string]string{"*": needUser}},
	// The licence report reads like an operation; reclaiming writes, and
	// the matrix's data sources are read-only, so every connection user is
	// told to turn on Read and write (decision 0017).
	"GET /api/v1/datasources/{id}/licences/report": {"401 200 200 200 403 403 200 404", map[string]string{"*": needUser}},
	"POST /api/v1/datasources/{id}/licences/reclaim": {"401 403 403 403 403 403 403 404", map[string]string{"*": "Read and write",
		"Administrator": needUser, "connection admin": needUser}},
	"PATCH /api/v1/datasources/{id}":                  {"401 403 403 200 200 200 403 404", dsAdminWhy},
	"DELETE /api/v1/datasources/{id}":                 {"401 403 403 204 204 204 403 404", dsAdminWhy},
	"POST /api/v1/datasources/{id}/authorize":         {"401 403 403 200 200 200 403 404", dsAdminWhy},
	"POST /api/v1/datasources/{id}/test":              {"401 403 403 200 200 200 403 404", dsAdminWhy},
	"GET /api/v1/datasources/{id}/security":           {"401 403 403 200 200 200 403 404", dsAdminWhy},
	"PUT /api/v1/datasources/{id}/security":           {"401 403 403 200 200 200 403 404", dsAdminWhy},
	"GET /api/v1/users":                               {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"POST /api/v1/users":                              {"401 403 403 403 201 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/users/{id}":                          {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"PATCH /api/v1/users/{id}":                        {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"DELETE /api/v1/users/{id}":                       {"401 403 403 403 204 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/groups":                              {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"POST /api/v1/groups":                             {"401 403 403 403 201 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/groups/{id}":                         {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"PATCH /api/v1/groups/{id}":                       {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"DELETE /api/v1/groups/{id}":                      {"401 403 403 403 204 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/groups/{id}/sync":                    {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"PUT /api/v1/groups/{id}/sync":                    {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"POST /api/v1/groups/{id}/sync":                   {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/groups/{id}/sync/runs":               {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"POST /api/v1/groups/{id}/sync/runs/{runId}/stop": {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/tasks":                               {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"POST /api/v1/tasks":                              {"401 403 403 403 201 403 403 403", map[string]string{"*": needAdmin}},
	"GET /api/v1/tasks/{id}":                          {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"PATCH /api/v1/tasks/{id}":                        {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"DELETE /api/v1/tasks/{id}":                       {"401 403 403 403 204 403 403 403", map[string]string{"*": needAdmin}},
	"POST /api/v1/tasks/{id}/run":                     {"401 403 403 403 202 403 403 403", map[string]string{"*": needAdmin}},
	// The webhook's secret is its credential: a wrong one is an unknown
	// task for everybody, signed in or not.
	"POST /hooks/tasks/{id}/{secret}": {"404 404 404 404 404 404 404 404", nil},
	// Change notifications: clientState is the credential; a forged or
	// unknown notification is answered 202 like any other, for everybody.
	"POST /hooks/graph/{datasource}": {"202 202 202 202 202 202 202 202", nil},
	// Everyone reads the audit log; only Administrators see others' entries.
	"GET /api/v1/audit":        {"401 200 200 200 200 200 200 200", nil},
	"GET /api/v1/openapi.json": {"200 200 200 200 200 200 200 200", nil},
	"GET /api/v1/settings/sso": {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	"PUT /api/v1/settings/sso": {"401 403 403 403 200 403 403 403", map[string]string{"*": needAdmin}},
	// Browser routes of single sign-on, public: starting redirects anyone
	// to Microsoft; a callback without a state is bad input for anyone.
	"GET /auth/sso/login":    {"302 302 302 302 302 302 302 302", nil},
	"GET /auth/sso/callback": {"400 400 400 400 400 400 400 400", nil},
	// Processes: designing needs a role; starting needs being a connection
	// user of the process's data source (Open for the role columns,
	// Restricted for the others); an instance shows to its starter (the
	// bootstrap Administrator here) and to designers.
	"GET /api/v1/processes":                 {"401 200 200 200 200 200 200 200", nil},
	"POST /api/v1/processes":                {"401 403 201 403 201 403 403 403", map[string]string{"*": needDesign}},
	"GET /api/v1/processes/{id}":            {"401 200 200 200 200 200 200 200", nil},
	"PUT /api/v1/processes/{id}":            {"401 403 200 403 200 403 403 403", map[string]string{"*": needDesign}},
	"DELETE /api/v1/processes/{id}":         {"401 403 204 403 204 403 403 403", map[string]string{"*": needDesign}},
	"POST /api/v1/processes/{id}/instances": {"401 201 201 201 403 403 201 403", map[string]string{"*": needUser}},
	"GET /api/v1/processes/{id}/instances":  {"401 200 200 200 200 200 200 200", nil},
	"GET /api/v1/instances/{id}":            {"401 404 200 404 200 404 404 404", nil},
	// A browser route: anonymous browsers are sent to the sign-in page.
	"GET /oauth/callback": {"303 200 200 200 200 200 200 200", nil},
}

var dsAdminWhy = map[string]string{"*": needDSRole}

// accessFixture is the directory and data sources the matrix runs on.
type accessFixture struct {
	e          *env
	admin      *client // the bootstrap Administrator's token
	open       dataSource
	restricted dataSource
	sec        map[string][]string // restricted's security lists
	targetUser string
	group      string
	task       string
	syncGroup  string             // a group whose member sync is on
	syncTask   string             // syncGroup's task (running it needs a sync that can start)
	stopGroup  string             // a group whose stuck runs the stop row stops
	sso        dataSource         // the single sign-on data source
	callers    map[string]*client // by column, session clients
	processes  map[string]string  // process ids by data source id (see newProcesses)
	instance   string             // an instance the bootstrap Administrator started
	n          int
}

func newAccessFixture(t *testing.T, e *env) *accessFixture {
	t.Helper()
	fx := &accessFixture{e: e, admin: e.SignIn(t, adminEmail, password).NewToken(), callers: map[string]*client{}}
	roles := map[string][]string{
		"User": {"User"}, "Design business process": {"User", "Design business process"},
		"Manage datasources": {"User", "Manage datasources"}, "Administrator": {"User", "Administrator"},
		"connection admin": {"User", "Manage datasources"}, "connection user": {"User"}, "not listed": {"User", "Manage datasources"},
	}
	ids := map[string]string{}
	for i, col := range columns[1:] {
		email := fmt.Sprintf("caller%d@tenantlink.test", i)
		var u struct{ ID string }
		fx.admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": email, "password": password, "roles": roles[col]}, &u)
		ids[col] = u.ID
		fx.callers[col] = e.SignIn(t, email, password)
	}
	var g struct{ ID string }
	fx.admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Connection users", "members": []string{ids["connection user"]}}, &g)
	fx.group = g.ID
	var target struct{ ID string }
	fx.admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "target@tenantlink.test"}, &target)
	fx.targetUser = target.ID
	fx.open = fx.admin.CreateDataSource("Open", nil)
	fx.sec = map[string][]string{"admins": {ids["connection admin"]}, "users": {g.ID}}
	fx.restricted = fx.newDataSource(t, "Restricted")
	fx.task = fx.newTask(t, "Matrix task")
	var sg struct{ ID string }
	fx.admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Synced"}, &sg)
	fx.syncGroup = sg.ID
	// Ready data sources, so that running an operation shows access, not
	// a missing authorization.
	for _, ds := range []dataSource{fx.open, fx.restricted} {
		if cb := e.Authorize(fx.admin.In(t), ds.ID, e.Facts.AdminUser, e.Facts.AdminPassword); !cb.OK {
			t.Fatalf("authorize %s: %+v", ds.Name, cb)
		}
	}
	var view struct{ Task struct{ ID string } }
	fx.admin.Must(200, "PUT", "/api/v1/groups/"+fx.syncGroup+"/sync",
		map[string]any{"enabled": true, "datasource": fx.open.ID, "sourceGroup": "*", "missingUsers": "keep"}, &view)
	fx.syncTask = view.Task.ID
	fx.admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Stuck runs"}, &sg)
	fx.stopGroup = sg.ID
	// Single sign-on on (without auto redirect, so local sign-in stays open),
	// with a data source of its own: the PATCH row toggles Open's settings.
	fx.sso = fx.admin.CreateDataSource("SSO", map[string]any{"singleSignOn": true})
	if cb := e.Authorize(fx.admin.In(t), fx.sso.ID, e.Facts.AdminUser, e.Facts.AdminPassword); !cb.OK {
		t.Fatalf("authorize SSO: %+v", cb)
	}
	fx.admin.Must(200, "PUT", "/api/v1/settings/sso", map[string]any{"enabled": true, "datasource": fx.sso.ID}, nil)
	fx.newProcesses(t)
	return fx
}

func (fx *accessFixture) newDataSource(t *testing.T, name string) dataSource {
	t.Helper()
	ds := fx.admin.In(t).CreateDataSource(name, nil)
	if name != "Open" && !strings.HasPrefix(name, "open-") {
		fx.admin.In(t).Must(200, "PUT", "/api/v1/datasources/"+ds.ID+"/security", fx.sec, nil)
	}
	return ds
}

// target is the data source a column's requests use.
func (fx *accessFixture) target(col string) dataSource {
	switch col {
	case "Administrator", "connection admin", "connection user", "not listed":
		return fx.restricted
	}
	return fx.open
}

// request builds the request for route as col, creating what a
// destructive request consumes.
func (fx *accessFixture) request(t *testing.T, route, col string) (method, path string, body any) {
	t.Helper()
	fx.n++
	method, path, _ = strings.Cut(route, " ")
	ds := fx.target(col)
	unique := fmt.Sprintf("matrix%d", fx.n)
	switch route {
	case "POST /api/v1/session":
		email := adminEmail
		if c := fx.callers[col]; c != nil {
			email = c.Email
		}
		body = map[string]string{"email": email, "password": password}
	case "POST /api/v1/tokens":
		body = map[string]string{"name": unique}
	case "DELETE /api/v1/tokens/{id}":
		_, tk, err := fx.e.App.Directory.CreateToken(t.Context(), tenantlink.System, fx.targetUser, unique)
		if err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", tk.ID, 1)
	case "POST /api/v1/datasources":
		body = map[string]any{"name": unique, "type": "office365"}
	case "POST /api/v1/datasources/{id}/operations/{name}":
		path = strings.Replace(path, "{name}", "UserList", 1)
		body = map[string]any{"inputs": map[string]any{"maxRows": 1}}
	case "PATCH /api/v1/datasources/{id}":
		body = map[string]any{"settings": map[string]any{"singleSignOn": fx.n%2 == 0}}
	case "DELETE /api/v1/datasources/{id}":
		name := unique
		if ds.ID == fx.open.ID {
			name = "open-" + unique
		}
		ds = fx.newDataSource(t, name)
	case "PUT /api/v1/datasources/{id}/security":
		body = fx.sec
		if ds.ID == fx.open.ID {
			body = map[string][]string{"admins": {}, "users": {}}
		}
	case "POST /api/v1/users":
		body = map[string]any{"email": unique + "@tenantlink.test"}
	case "PATCH /api/v1/users/{id}":
		body = map[string]any{"displayName": unique}
	case "DELETE /api/v1/users/{id}":
		var u struct{ ID string }
		fx.admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": unique + "@tenantlink.test"}, &u)
		path = strings.Replace(path, "{id}", u.ID, 1)
	case "PUT /api/v1/groups/{id}/sync":
		body = map[string]any{"enabled": false, "datasource": fx.open.ID, "sourceGroup": "*", "missingUsers": "keep"}
	case "POST /api/v1/groups/{id}/sync":
		path = "/api/v1/groups/" + fx.syncGroup + "/sync?dryRun=true"
	case "POST /api/v1/tasks/{id}/run":
		path = "/api/v1/tasks/" + fx.syncTask + "/run"
	case "POST /api/v1/groups/{id}/sync/runs/{runId}/stop":
		// A run stuck as running; creating it closes the previous one.
		r := &store.SyncRun{GroupID: fx.stopGroup, Trigger: "schedule", Result: []byte(`{}`), StartedAt: time.Now(), HeartbeatAt: time.Now()}
		if err := fx.e.App.DB.CreateSyncRun(t.Context(), r, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		path = "/api/v1/groups/" + fx.stopGroup + "/sync/runs/" + r.ID + "/stop"
	case "POST /api/v1/tasks":
		// One sync task per group: each request gets a group of its own.
		var g struct{ ID string }
		fx.admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "task " + unique}, &g)
		body = map[string]any{"name": unique, "kind": "sync", "target": g.ID}
	case "PATCH /api/v1/tasks/{id}":
		body = map[string]any{"name": unique}
	case "DELETE /api/v1/tasks/{id}":
		path = strings.Replace(path, "{id}", fx.newTask(t, unique), 1)
	case "POST /hooks/tasks/{id}/{secret}":
		path = strings.NewReplacer("{id}", fx.task, "{secret}", "not-the-secret").Replace(path)
	case "POST /api/v1/groups":
		body = map[string]any{"name": unique}
	case "PUT /api/v1/settings/sso":
		body = map[string]any{"enabled": true, "datasource": fx.sso.ID, "createUsers": fx.n%2 == 0}
	case "PATCH /api/v1/groups/{id}":
		body = map[string]any{"name": "Connection users"}
	case "DELETE /api/v1/groups/{id}":
		var g struct{ ID string }
		fx.admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": unique}, &g)
		path = strings.Replace(path, "{id}", g.ID, 1)
	}
	if p, b, ok := fx.processRequest(t, route, col, unique); ok {
		path, body = p, b
	}
	switch {
	case strings.HasPrefix(path, "/api/v1/datasources/{id}"):
		path = strings.Replace(path, "{id}", ds.ID, 1)
	case strings.HasPrefix(path, "/api/v1/users/{id}"):
		path = strings.Replace(path, "{id}", fx.targetUser, 1)
	case strings.HasPrefix(path, "/api/v1/groups/{id}"):
		path = strings.Replace(path, "{id}", fx.group, 1)
	case strings.HasPrefix(path, "/api/v1/tasks/{id}"):
		path = strings.Replace(path, "{id}", fx.task, 1)
	}
	return method, path, body
}

// caller returns col's client for via ("session" or "token"). Signing out
// gets a session of its own, so that the others stay signed in.
func (fx *accessFixture) caller(t *testing.T, route, col, via string) *client {
	t.Helper()
	c := fx.callers[col]
	switch {
	case c == nil:
		return fx.e.Anonymous(t)
	case via == "token":
		return c.In(t).NewToken()
	case route == "DELETE /api/v1/session" || route == "POST /api/v1/session":
		// Signing in again replaces the jar's cookie and CSRF token.
		return fx.e.SignIn(t, c.Email, password)
	}
	return c.In(t)
}

func TestAccessMatrix(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	fx := newAccessFixture(t, e)

	routes := map[string]bool{}
	for _, rt := range matrixRoutes(e) {
		routes[rt.Method+" "+rt.Path] = true
	}
	for route := range routes {
		if _, ok := accessMatrix[route]; !ok {
			t.Errorf("route %s has no row in the access matrix: add one", route)
		}
	}
	for route, row := range accessMatrix {
		if !routes[route] {
			t.Errorf("access matrix row %s names no registered route", route)
			continue
		}
		want := strings.Fields(row.want)
		if len(want) != len(columns) {
			t.Fatalf("row %s has %d entries, want %d", route, len(want), len(columns))
		}
		t.Run(route, func(t *testing.T) {
			for i, col := range columns {
				for _, via := range []string{"session", "token"} {
					if col == "anonymous" && via == "token" {
						continue
					}
					c := fx.caller(t, route, col, via)
					method, path, body := fx.request(t, route, col)
					r := c.Do(method, path, body)
					code, _ := strconv.Atoi(want[i])
					if r.Status != code {
						t.Errorf("%s as %s (%s) = %s, want %d", path, col, via, r, code)
						continue
					}
					switch code {
					case 401:
						if got := r.APIError(t); got.Code != "unauthorized" || !strings.Contains(got.Message, "Sign in") {
							t.Errorf("%s as %s: 401 error %+v, want code unauthorized telling to sign in", path, col, got)
						}
					case 403:
						why := row.why[col]
						if why == "" {
							why = row.why["*"]
						}
						if got := r.APIError(t); got.Code != "forbidden" || why == "" || !strings.Contains(got.Message, why) {
							t.Errorf("%s as %s: 403 error %+v, want code forbidden with a message containing %q", path, col, got, why)
						}
					case 303:
						if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
							t.Errorf("%s as %s: redirect to %q, want the sign-in page", path, col, loc)
						}
					}
				}
			}
		})
	}

	t.Run("list shows what each caller may use or administer", func(t *testing.T) {
		for _, tt := range []struct {
			col  string
			want []string
		}{
			{"User", []string{"Open"}},
			{"Manage datasources", []string{"Open"}},
			{"not listed", []string{"Open"}},
			{"connection user", []string{"Open", "Restricted"}},
			{"connection admin", []string{"Open", "Restricted"}},
			{"Administrator", []string{"Open", "Restricted"}},
		} {
			var out struct{ Value []dataSource }
			fx.callers[tt.col].In(t).Must(200, "GET", "/api/v1/datasources?search=e", nil, &out)
			var got []string
			for _, ds := range out.Value {
				if ds.Name == "Open" || ds.Name == "Restricted" {
					got = append(got, ds.Name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%s sees %v, want %v", tt.col, got, tt.want)
			}
		}
	})
}

// TestCSRF checks that every unsafe route refuses a session without the
// CSRF token before doing anything, and that API tokens need none.
func TestCSRF(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	session := e.SignIn(t, adminEmail, password)
	token := session.NewToken()
	ds := session.CreateDataSource("CSRF", nil)
	before := len(audit(t, token))
	for _, rt := range matrixRoutes(e) {
		if rt.Method == "GET" {
			continue
		}
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			path := strings.ReplaceAll(rt.Path, "{id}", ds.ID)
			r := session.WithoutCSRF().In(t).Do(rt.Method, path, map[string]any{})
			if got := r.APIError(t); r.Status != 403 || !strings.Contains(got.Message, "CSRF") {
				t.Errorf("%s %s without X-CSRF-Token = %s, want 403 naming the CSRF token", rt.Method, path, r)
			}
		})
	}
	if got := len(audit(t, token)); got != before {
		t.Errorf("audit entries after refused requests = %d, want %d (nothing done)", got, before)
	}
	if got := session.GetDataSource(ds.ID); got.Name != "CSRF" {
		t.Errorf("data source after refused requests = %+v, want it unchanged", got)
	}
	t.Run("with the token", func(t *testing.T) {
		session.In(t).Must(201, "POST", "/api/v1/datasources", map[string]any{"name": "With CSRF", "type": "office365"}, nil)
	})
	t.Run("API token needs none", func(t *testing.T) {
		token.In(t).Must(201, "POST", "/api/v1/datasources", map[string]any{"name": "With token", "type": "office365"}, nil)
	})
	t.Run("wrong token", func(t *testing.T) {
		c := session.In(t)
		c.CSRF = "not-the-token"
		if r := c.Do("POST", "/api/v1/datasources", map[string]any{"name": "Wrong CSRF", "type": "office365"}); r.Status != 403 {
			t.Errorf("wrong X-CSRF-Token = %s, want 403", r)
		}
	})
}

// newTask creates a scheduled task syncing a new group.
func (fx *accessFixture) newTask(t *testing.T, name string) string {
	t.Helper()
	var g, task struct{ ID string }
	fx.admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "group of " + name}, &g)
	fx.admin.In(t).Must(201, "POST", "/api/v1/tasks", map[string]any{"name": name, "kind": "sync", "target": g.ID}, &task)
	if task.ID == "" {
		t.Fatal("created task has no id")
	}
	return task.ID
}

// matrixRoutes are the rows of the route table the access matrix and the
// CSRF test cover: the API, the hooks and the browser routes (pages,
// assets, probes and the /api/ fallback have tests of their own: package
// app's TestRouteTable).
func matrixRoutes(e *env) []web.Route {
	var out []web.Route
	for _, rt := range e.App.Web.Routes() {
		switch {
		case rt.Method == "", rt.Kind == web.Page, rt.Kind == web.Asset, rt.Kind == web.Probe:
			continue
		}
		out = append(out, rt)
	}
	return out
}
