package apitest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// snapshot is everything the API can show an Administrator: a refused
// request must leave all of it as it was.
type snapshot struct {
	DataSources []map[string]any
	Security    map[string]any
	Users       []map[string]any
	Groups      []map[string]any
	AuditLen    int
	GroupSync   map[string]any
	SSO         map[string]any
	Tokens      []map[string]any
}

func takeSnapshot(tb testing.TB, admin *client) snapshot {
	tb.Helper()
	var s snapshot
	var list struct{ Value []map[string]any }
	admin.Must(200, "GET", "/api/v1/datasources", nil, &list)
	s.DataSources = list.Value
	s.Security = map[string]any{}
	for _, ds := range list.Value {
		var sec map[string]any
		id := ds["id"].(string)
		admin.Must(200, "GET", "/api/v1/datasources/"+id+"/security", nil, &sec)
		s.Security[id] = sec
	}
	var users, groups struct{ Value []map[string]any }
	admin.Must(200, "GET", "/api/v1/users", nil, &users)
	admin.Must(200, "GET", "/api/v1/groups", nil, &groups)
	s.Users, s.Groups = users.Value, groups.Value
	s.GroupSync = map[string]any{}
	for _, g := range groups.Value {
		var sync map[string]any
		admin.Must(200, "GET", "/api/v1/groups/"+g["id"].(string)+"/sync", nil, &sync)
		s.GroupSync[g["id"].(string)] = sync
	}
	admin.Must(200, "GET", "/api/v1/settings/sso", nil, &s.SSO)
	var tokens struct{ Value []map[string]any }
	admin.Must(200, "GET", "/api/v1/tokens", nil, &tokens)
	for _, tk := range tokens.Value {
		delete(tk, "lastUsedAt") // moves with every use of the Administrator's token
	}
	s.Tokens = tokens.Value
	s.AuditLen = len(audit(tb, admin))
	return s
}

func TestBadInput(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testBadInput(t, backend) })
	}
}

func testBadInput(t *testing.T, backend string) {
	e := testenv.New(t, testenv.Options{Backend: backend})
	session := e.SignIn(t, adminEmail, password)
	admin := session.NewToken()
	ds := admin.CreateDataSource("Contoso", nil)
	ds2 := admin.CreateDataSource("Fabrikam", nil)
	var user, group struct{ ID string }
	admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "jane@tenantlink.test", "password": password}, &user)
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Staff", "members": []string{user.ID}}, &group)
	admin.Must(200, "PUT", "/api/v1/datasources/"+ds2.ID+"/security", map[string]any{"admins": []string{}, "users": []string{group.ID}}, nil)

	huge := `{"name":"` + strings.Repeat("a", 1<<20+10) + `","type":"office365"}`
	const unknownID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	type badCase struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		code    string
		msg     string
	}
	// generic are the body errors every JSON endpoint must refuse alike.
	generic := func(method, path string) []badCase {
		return []badCase{
			{"malformed JSON", method, path, `{"name":`, nil, 400, "invalid", "malformed JSON"},
			{"syntax error", method, path, `{"name" "x"}`, nil, 400, "invalid", "malformed JSON"},
			{"unknown field", method, path, `{"nmae":"x"}`, nil, 400, "invalid", `unknown field "nmae"`},
			{"not an object", method, path, `["x"]`, nil, 400, "invalid", "must be a JSON object"},
			{"two objects", method, path, `{} {}`, nil, 400, "invalid", "exactly one JSON object"},
			{"empty body", method, path, "", nil, 400, "invalid", "body is empty"},
			{"wrong Content-Type", method, path, `{}`, []string{"Content-Type", "text/plain"}, 400, "invalid", "Content-Type must be application/json"},
			{"form Content-Type", method, path, `name=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, "invalid", "Content-Type must be application/json"},
			{"oversize", method, path, huge, nil, 413, "too_large", "larger than"},
			{"null body", method, path, `null`, nil, 400, "invalid", "must be a JSON object, not null"},
			{"string body", method, path, `"x"`, nil, 400, "invalid", "must be a JSON object, not a string"},
			{"number body", method, path, `5`, nil, 400, "invalid", "must be a JSON object, not a number"},
			{"duplicate key", method, path, `{"name":"a","name":"b"}`, nil, 400, "invalid", `duplicate field "name"`},
			{"duplicate key deep", method, path, `{"x":[{"y":{"k":1,"k":2}}]}`, nil, 400, "invalid", `duplicate field "x[0].y.k"`},
		}
	}
	var cases []badCase
	for _, ep := range []struct{ method, path string }{
		{"POST", "/api/v1/session"}, {"POST", "/api/v1/tokens"},
		{"POST", "/api/v1/datasources"}, {"PATCH", "/api/v1/datasources/{ds}"}, {"PUT", "/api/v1/datasources/{ds}/security"},
		{"POST", "/api/v1/datasources/{ds}/operations/UserList"},
		{"POST", "/api/v1/users"}, {"PATCH", "/api/v1/users/{user}"},
		{"POST", "/api/v1/groups"}, {"PATCH", "/api/v1/groups/{group}"},
		{"PUT", "/api/v1/groups/{group}/sync"}, {"PUT", "/api/v1/settings/sso"},
		{"POST", "/api/v1/processes"}, {"POST", "/api/v1/tasks"},
	} {
		for _, c := range generic(ep.method, ep.path) {
			if ep.path == "/api/v1/tokens" && c.name == "empty body" {
				continue // an empty body asks for a token with the default name
			}
			c.name = ep.method + " " + ep.path + ": " + c.name
			cases = append(cases, c)
		}
	}
	cases = append(cases, []badCase{
		// Sessions and tokens.
		{"session without password", "POST", "/api/v1/session", map[string]any{"email": adminEmail}, nil, 400, "invalid", "email and password are required"},
		// Login CSRF: a page on another site can send a body without a
		// Content-Type without a preflight; browsers label it cross-site.
		{"session without Content-Type", "POST", "/api/v1/session", map[string]any{"email": adminEmail, "password": password}, []string{"Content-Type", ""}, 400, "invalid", "Content-Type must be application/json"},
		{"session from another site", "POST", "/api/v1/session", map[string]any{"email": adminEmail, "password": password}, []string{"Sec-Fetch-Site", "cross-site"}, 403, "forbidden", "other sites"},
		{"session email wrong type", "POST", "/api/v1/session", map[string]any{"email": 5, "password": "x"}, nil, 400, "invalid", `field "email" must be a string`},
		{"token name wrong type", "POST", "/api/v1/tokens", map[string]any{"name": true}, nil, 400, "invalid", `field "name" must be a string`},
		{"token name too long", "POST", "/api/v1/tokens", map[string]any{"name": strings.Repeat("n", 101)}, nil, 400, "invalid", "longer than 100"},
		{"token expiresInDays zero", "POST", "/api/v1/tokens", map[string]any{"expiresInDays": 0}, nil, 400, "invalid", "expiresInDays must be between 1 and 3650"},
		{"token expiresInDays too far", "POST", "/api/v1/tokens", map[string]any{"expiresInDays": 3651}, nil, 400, "invalid", "expiresInDays must be between 1 and 3650"},
		{"token expiresInDays not a number", "POST", "/api/v1/tokens", map[string]any{"expiresInDays": "7"}, nil, 400, "invalid", `"expiresInDays" must be a number`},
		{"token expiresAt not offered", "POST", "/api/v1/tokens", map[string]any{"expiresAt": "2030-01-01T00:00:00Z"}, nil, 400, "invalid", `unknown field "expiresAt"`},
		{"revoke unknown token", "DELETE", "/api/v1/tokens/" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"revokeTokens without a password", "PATCH", "/api/v1/users/{user}", map[string]any{"revokeTokens": true}, nil, 400, "invalid", "go with a new password"},
		{"own password without the current one", "PATCH", "/api/v1/users/{admin}", map[string]any{"password": "a new good password"}, nil, 400, "invalid", "current password"},
		{"own password, wrong current one", "PATCH", "/api/v1/users/{admin}", map[string]any{"password": "a new good password", "currentPassword": "not my password"}, nil, 400, "invalid", "not your current password"},

		// Invisible and control characters in names.
		{"token name bidi", "POST", "/api/v1/tokens", map[string]any{"name": "ci\u202Egnp.exe"}, nil, 400, "invalid", "invisible or control characters"},
		{"user displayName bidi", "POST", "/api/v1/users", map[string]any{"email": "new@tenantlink.test", "displayName": "Jane\u2066 Admin"}, nil, 400, "invalid", "invisible or control characters"},
		{"user surname zero width", "PATCH", "/api/v1/users/{user}", map[string]any{"surname": "Do\u200Be"}, nil, 400, "invalid", "invisible or control characters"},
		{"group name RLO", "POST", "/api/v1/groups", map[string]any{"name": "Staff\u202E"}, nil, 400, "invalid", "invisible or control characters"},
		{"group rename BOM", "PATCH", "/api/v1/groups/{group}", map[string]any{"name": "\uFEFFStaff"}, nil, 400, "invalid", "invisible or control characters"},
		{"datasource name LRI", "POST", "/api/v1/datasources", map[string]any{"name": "Contoso\u2067", "type": "office365"}, nil, 400, "invalid", "invisible or control characters"},
		{"process name bidi", "POST", "/api/v1/processes", map[string]any{"name": "On\u202Dboard", "fields": []any{}, "rules": []any{}}, nil, 400, "invalid", "invisible or control characters"},
		{"task name bidi", "POST", "/api/v1/tasks", map[string]any{"kind": "sync", "target": "{group}", "name": "Nightly\u200F"}, nil, 400, "invalid", "invisible or control characters"},

		// Data sources.
		{"datasource without name", "POST", "/api/v1/datasources", map[string]any{"type": "office365"}, nil, 400, "invalid", "Display name is required"},
		{"datasource blank name", "POST", "/api/v1/datasources", map[string]any{"name": "  ", "type": "office365"}, nil, 400, "invalid", "Display name is required"},
		{"datasource name too long", "POST", "/api/v1/datasources", map[string]any{"name": strings.Repeat("x", 101), "type": "office365"}, nil, 400, "invalid", "longer than 100"},
		{"datasource name two lines", "POST", "/api/v1/datasources", map[string]any{"name": "a\nb", "type": "office365"}, nil, 400, "invalid", "one line"},
		{"datasource without type", "POST", "/api/v1/datasources", map[string]any{"name": "X"}, nil, 400, "invalid", "type is required"},
		{"datasource unknown type", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "salesforce"}, nil, 400, "invalid", `unknown connector type "salesforce"`},
		{"datasource duplicate name", "POST", "/api/v1/datasources", map[string]any{"name": "CONTOSO", "type": "office365"}, nil, 409, "conflict", "CONTOSO"},
		{"datasource duplicate name, spaces", "POST", "/api/v1/datasources", map[string]any{"name": " contoso ", "type": "office365"}, nil, 409, "conflict", "contoso"},
		{"datasource invalid authMode", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "office365", "settings": map[string]any{"authMode": "magic"}}, nil, 400, "invalid", `settings.authMode must be "delegated" or "application", not "magic"`},
		{"datasource authMode wrong type", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "office365", "settings": map[string]any{"authMode": 1}}, nil, 400, "invalid", `"settings.authMode" must be a string`},
		{"datasource readWrite wrong type", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "office365", "settings": map[string]any{"readWrite": "yes"}}, nil, 400, "invalid", `"settings.readWrite" must be true or false`},
		{"datasource unknown setting", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "office365", "settings": map[string]any{"readwrite": true}}, nil, 400, "invalid", `unknown field "settings.readwrite"`},
		{"datasource profiles off", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "office365", "settings": map[string]any{"readAllProfiles": false}}, nil, 400, "invalid", "always on"},
		{"datasource reauthorizeDays", "POST", "/api/v1/datasources", map[string]any{"name": "X", "type": "office365", "settings": map[string]any{"reauthorizeDays": 5000}}, nil, 400, "invalid", "reauthorizeDays must be between"},
		{"patch unknown datasource", "PATCH", "/api/v1/datasources/" + unknownID, map[string]any{"name": "X"}, nil, 404, "not_found", unknownID},
		{"patch datasource not an id", "PATCH", "/api/v1/datasources/nope", map[string]any{"name": "X"}, nil, 404, "not_found", "nope"},
		{"patch duplicate name", "PATCH", "/api/v1/datasources/{ds}", map[string]any{"name": "fabrikam"}, nil, 409, "conflict", "fabrikam"},
		{"patch invalid authMode", "PATCH", "/api/v1/datasources/{ds}", map[string]any{"name": "Renamed", "settings": map[string]any{"readWrite": true, "authMode": "Delegated"}}, nil, 400, "invalid", `not "Delegated"`},
		{"patch type", "PATCH", "/api/v1/datasources/{ds}", map[string]any{"type": "salesforce"}, nil, 400, "invalid", "type of a data source cannot change"},
		{"get unknown datasource", "GET", "/api/v1/datasources/" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"get datasource not an id", "GET", "/api/v1/datasources/%20x", nil, nil, 404, "not_found", "x"},
		{"delete unknown datasource", "DELETE", "/api/v1/datasources/" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"authorize unknown datasource", "POST", "/api/v1/datasources/" + unknownID + "/authorize", nil, nil, 404, "not_found", unknownID},
		{"test unknown datasource", "POST", "/api/v1/datasources/" + unknownID + "/test", nil, nil, 404, "not_found", unknownID},
		{"search too long", "GET", "/api/v1/datasources?search=" + strings.Repeat("s", 201), nil, nil, 400, "invalid", "search is longer than 200"},
		{"security unknown user", "PUT", "/api/v1/datasources/{ds}/security", map[string]any{"admins": []string{unknownID}, "users": []string{}}, nil, 400, "invalid", unknownID},
		{"security unknown group", "PUT", "/api/v1/datasources/{ds}/security", map[string]any{"admins": []string{}, "users": []string{"{group}", "no-such-group"}}, nil, 400, "invalid", "no-such-group"},
		{"security missing list", "PUT", "/api/v1/datasources/{ds}/security", map[string]any{"admins": []string{}}, nil, 400, "invalid", "both admins and users are required"},
		{"security wrong type", "PUT", "/api/v1/datasources/{ds}/security", map[string]any{"admins": "{user}", "users": []string{}}, nil, 400, "invalid", `"admins" must be an array`},
		{"security unknown datasource", "PUT", "/api/v1/datasources/" + unknownID + "/security", map[string]any{"admins": []string{}, "users": []string{}}, nil, 404, "not_found", unknownID},
		{"operation unknown", "POST", "/api/v1/datasources/{ds}/operations/Nope", map[string]any{"inputs": map[string]any{}}, nil, 404, "not_found", `no operation "Nope"`},
		{"operation inputs wrong type", "POST", "/api/v1/datasources/{ds}/operations/UserList", map[string]any{"inputs": []any{1}}, nil, 400, "invalid", `"inputs" must be an object`},

		// Users.
		{"user without email", "POST", "/api/v1/users", map[string]any{"password": password}, nil, 400, "invalid", "email is required"},
		{"user bad email", "POST", "/api/v1/users", map[string]any{"email": "no-at-sign"}, nil, 400, "invalid", `email "no-at-sign" is not a valid address`},
		{"user email with name", "POST", "/api/v1/users", map[string]any{"email": "Jane <jane2@tenantlink.test>"}, nil, 400, "invalid", "is not a valid address"},
		{"user weak password", "POST", "/api/v1/users", map[string]any{"email": "new@tenantlink.test", "password": "short"}, nil, 400, "invalid", "at least 10 characters"},
		{"user duplicate email", "POST", "/api/v1/users", map[string]any{"email": "JANE@tenantlink.test"}, nil, 409, "conflict", "jane@tenantlink.test"},
		{"user unknown role", "POST", "/api/v1/users", map[string]any{"email": "new@tenantlink.test", "roles": []string{"Owner"}}, nil, 400, "invalid", `unknown role "Owner"`},
		{"user roles wrong type", "POST", "/api/v1/users", map[string]any{"email": "new@tenantlink.test", "roles": "User"}, nil, 400, "invalid", `"roles" must be an array`},
		{"user active wrong type", "POST", "/api/v1/users", map[string]any{"email": "new@tenantlink.test", "active": "yes"}, nil, 400, "invalid", `"active" must be true or false`},
		{"user name too long", "POST", "/api/v1/users", map[string]any{"email": "new@tenantlink.test", "displayName": strings.Repeat("n", 300)}, nil, 400, "invalid", "displayName is longer than 256"},
		{"patch unknown user", "PATCH", "/api/v1/users/" + unknownID, map[string]any{"displayName": "X"}, nil, 404, "not_found", unknownID},
		{"patch user bad email", "PATCH", "/api/v1/users/{user}", map[string]any{"displayName": "Changed", "email": "jane@"}, nil, 400, "invalid", "is not a valid address"},
		{"patch user weak password", "PATCH", "/api/v1/users/{user}", map[string]any{"displayName": "Changed", "password": "123"}, nil, 400, "invalid", "at least 10 characters"},
		{"patch user duplicate email", "PATCH", "/api/v1/users/{user}", map[string]any{"displayName": "Changed", "email": "Admin@TenantLink.test"}, nil, 409, "conflict", "admin@tenantlink.test"},
		{"get unknown user", "GET", "/api/v1/users/" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"delete unknown user", "DELETE", "/api/v1/users/" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"users by unknown datasource", "GET", "/api/v1/users?datasource=" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"users bad sort", "GET", "/api/v1/users?sort=age", nil, nil, 400, "invalid", `sort must be email or name, not "age"`},
		{"users bad offset", "GET", "/api/v1/users?limit=5&offset=-1", nil, nil, 400, "invalid", "offset must be a whole number"},
		{"users offset without limit", "GET", "/api/v1/users?offset=5", nil, nil, 400, "invalid", "offset needs a limit"},

		// Groups.
		{"group without name", "POST", "/api/v1/groups", map[string]any{"roles": []string{}}, nil, 400, "invalid", "name is required"},
		{"group blank name", "POST", "/api/v1/groups", map[string]any{"name": " "}, nil, 400, "invalid", "name must not be empty"},
		{"group duplicate name", "POST", "/api/v1/groups", map[string]any{"name": "STAFF"}, nil, 409, "conflict", "STAFF"},
		{"group unknown member", "POST", "/api/v1/groups", map[string]any{"name": "New", "members": []string{unknownID}}, nil, 400, "invalid", unknownID},
		{"group unknown role", "POST", "/api/v1/groups", map[string]any{"name": "New", "roles": []string{"Root"}}, nil, 400, "invalid", `unknown role "Root"`},
		{"patch unknown group", "PATCH", "/api/v1/groups/" + unknownID, map[string]any{"name": "X"}, nil, 404, "not_found", unknownID},
		{"patch group unknown member", "PATCH", "/api/v1/groups/{group}", map[string]any{"name": "Renamed", "members": []string{"{user}", "ghost"}}, nil, 400, "invalid", "ghost"},
		{"get unknown group", "GET", "/api/v1/groups/" + unknownID, nil, nil, 404, "not_found", unknownID},
		{"delete unknown group", "DELETE", "/api/v1/groups/" + unknownID, nil, nil, 404, "not_found", unknownID},

		// Audit and unknown paths.
		{"audit limit not a number", "GET", "/api/v1/audit?limit=ten", nil, nil, 400, "invalid", "limit must be a whole number"},
		{"audit limit too big", "GET", "/api/v1/audit?limit=5000", nil, nil, 400, "invalid", "limit must be a whole number between 1 and 1000"},
		{"audit limit zero", "GET", "/api/v1/audit?limit=0", nil, nil, 400, "invalid", "limit must be a whole number"},
		{"audit from not a date", "GET", "/api/v1/audit?from=yesterday", nil, nil, 400, "invalid", `from must be an ISO 8601 date (2026-12-02) or date and time (2026-12-02T16:53:00Z), not "yesterday"`},
		{"audit to without zone", "GET", "/api/v1/audit?to=2026-12-02T16:53", nil, nil, 400, "invalid", "to must be an ISO 8601 date"},
		{"audit from after to", "GET", "/api/v1/audit?from=2026-12-03&to=2026-12-02", nil, nil, 400, "invalid", "from must be before to"},
		{"audit before not an id", "GET", "/api/v1/audit?before=abc", nil, nil, 400, "invalid", `before must be an audit entry id (a positive whole number), not "abc"`},
		{"audit after negative", "GET", "/api/v1/audit?after=-3", nil, nil, 400, "invalid", "after must be an audit entry id"},
		{"audit before and after", "GET", "/api/v1/audit?before=5&after=2", nil, nil, 400, "invalid", "use before or after, not both"},
		{"unknown API path", "GET", "/api/v1/nothing", nil, nil, 404, "not_found", "no API path GET /api/v1/nothing"},
	}...)

	fill := func(s string) string {
		return strings.NewReplacer("{ds}", ds.ID, "{user}", user.ID, "{group}", group.ID, "{admin}", admin.UserID).Replace(s)
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			admin := admin.In(t)
			before := takeSnapshot(t, admin)
			body := tt.body
			switch b := body.(type) {
			case string:
				body = fill(b)
			case map[string]any:
				// Placeholders inside lists.
				for k, v := range b {
					if str, ok := v.(string); ok {
						b[k] = fill(str)
					}
					if l, ok := v.([]string); ok {
						out := make([]string, len(l))
						for i, s := range l {
							out[i] = fill(s)
						}
						b[k] = out
					}
				}
			}
			r := admin.Do(tt.method, fill(tt.path), body, tt.headers...)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %s, want %d", tt.method, tt.path, r, tt.status)
			}
			got := r.APIError(t)
			if got.Code != tt.code || !strings.Contains(got.Message, fill(tt.msg)) {
				t.Errorf("error = %+v, want code %q and a message containing %q", got, tt.code, fill(tt.msg))
			}
			if diff := cmp.Diff(before, takeSnapshot(t, admin)); diff != "" {
				t.Errorf("a refused request changed what is stored (-before +after):\n%s", diff)
			}
		})
	}

	// The same with a session: the refusal comes before anything is kept.
	t.Run("session", func(t *testing.T) {
		admin := admin.In(t)
		before := takeSnapshot(t, admin)
		r := session.In(t).Do("POST", "/api/v1/datasources", map[string]any{"name": "contoso", "type": "office365"})
		if r.Status != 409 {
			t.Errorf("duplicate name with a session = %s, want 409", r)
		}
		if diff := cmp.Diff(before, takeSnapshot(t, admin)); diff != "" {
			t.Errorf("a refused request changed what is stored (-before +after):\n%s", diff)
		}
	})
}
