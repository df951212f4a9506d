package apitest

import (
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// unknownID stands for every path parameter of a request that names
// nothing.
const unknownID = "0123456789abcdef0123456789abcdef"

// TestUnknownAndForbiddenAlike asks every {id} route of the API, as a
// plain User (no role beyond User, listed nowhere) and as a data source
// manager left out of a data source's lists, once with ids that name
// nothing and once with ids of things the caller may not see: the
// two answers must be the same status and body (with the id itself read
// as "ID"), so that the answer never tells an unknown id from a forbidden
// one (docs/decisions/0023-permission-first.md).
func TestUnknownAndForbiddenAlike(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	fx := newAccessFixture(t, e)
	callers := map[string]*client{"User": fx.callers["User"].NewToken(), "not listed": fx.callers["not listed"].NewToken()}

	_, token, err := e.App.Directory.CreateToken(t.Context(), tenantlink.System, fx.targetUser, "someone else's")
	if err != nil {
		t.Fatal(err)
	}
	run := &store.SyncRun{GroupID: fx.stopGroup, Trigger: "schedule", Result: []byte(`{}`), StartedAt: time.Now(), HeartbeatAt: time.Now()}
	if err := e.App.DB.CreateSyncRun(t.Context(), run, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	restrictedProcess := fx.processes[fx.restricted.ID]

	// known names, per route, the ids (in path order) of things the plain
	// User may not see or act on; body is what the request sends.
	type row struct {
		known []string
		body  any
	}
	ds := []string{fx.restricted.ID}
	rows := map[string]row{
		"DELETE /api/v1/tokens/{id}":                      {[]string{token.ID}, nil},
		"GET /api/v1/datasources/{id}":                    {ds, nil},
		"PATCH /api/v1/datasources/{id}":                  {ds, map[string]any{"name": "Renamed"}},
		"DELETE /api/v1/datasources/{id}":                 {ds, nil},
		"POST /api/v1/datasources/{id}/authorize":         {ds, nil},
		"POST /api/v1/datasources/{id}/test":              {ds, nil},
		"GET /api/v1/datasources/{id}/security":           {ds, nil},
		"PUT /api/v1/datasources/{id}/security":           {ds, map[string]any{"admins": []string{}, "users": []string{}}},
		"GET /api/v1/datasources/{id}/operations":         {ds, nil},
		"POST /api/v1/datasources/{id}/operations/{name}": {[]string{fx.restricted.ID, "UserList"}, map[string]any{"inputs": map[string]any{"maxRows": 1}}},
		"GET /api/v1/datasources/{id}/licences/report":    {ds, nil},
		"POST /api/v1/datasources/{id}/licences/reclaim":  {ds, nil},
		"GET /api/v1/users/{id}":                          {[]string{fx.targetUser}, nil},
		"PATCH /api/v1/users/{id}":                        {[]string{fx.targetUser}, map[string]any{"displayName": "Renamed"}},
		"DELETE /api/v1/users/{id}":                       {[]string{fx.targetUser}, nil},
		"GET /api/v1/groups/{id}":                         {[]string{fx.group}, nil},
		"PATCH /api/v1/groups/{id}":                       {[]string{fx.group}, map[string]any{"name": "Renamed"}},
		"DELETE /api/v1/groups/{id}":                      {[]string{fx.group}, nil},
		"GET /api/v1/groups/{id}/sync":                    {[]string{fx.syncGroup}, nil},
		"PUT /api/v1/groups/{id}/sync":                    {[]string{fx.syncGroup}, map[string]any{"enabled": false, "datasource": fx.open.ID, "sourceGroup": "*", "missingUsers": "keep"}},
		"POST /api/v1/groups/{id}/sync":                   {[]string{fx.syncGroup}, nil},
		"GET /api/v1/groups/{id}/sync/runs":               {[]string{fx.stopGroup}, nil},
		"POST /api/v1/groups/{id}/sync/runs/{runId}/stop": {[]string{fx.stopGroup, run.ID}, nil},
		"GET /api/v1/tasks/{id}":                          {[]string{fx.task}, nil},
		"PATCH /api/v1/tasks/{id}":                        {[]string{fx.task}, map[string]any{"name": "Renamed"}},
		"DELETE /api/v1/tasks/{id}":                       {[]string{fx.task}, nil},
		"POST /api/v1/tasks/{id}/run":                     {[]string{fx.task}, nil},
		"PUT /api/v1/processes/{id}":                      {[]string{restrictedProcess}, processDefinition("Renamed", fx.restricted.ID)},
		"DELETE /api/v1/processes/{id}":                   {[]string{restrictedProcess}, nil},
		"GET /api/v1/instances/{id}":                      {[]string{fx.instance}, nil},
		"POST /hooks/tasks/{id}/{secret}":                 {[]string{fx.task, "not-the-secret"}, nil},
	}
	// Routes whose {id} every signed-in user may see: a refusal there may
	// say so (403), because the caller knows the thing exists.
	visible := map[string]string{
		"GET /api/v1/processes/{id}":            "every signed-in user reads process definitions",
		"GET /api/v1/processes/{id}/instances":  "every signed-in user lists a process's instances (their own)",
		"POST /api/v1/processes/{id}/instances": "the process is visible; starting it needs the data source",
		"POST /hooks/graph/{datasource}":        "answers 202 to everybody, whatever the id",
	}

	// A data source's name works wherever its id does (decision 0019): a
	// name the caller may not see answers as a name that names nothing.
	t.Run("data source by name", func(t *testing.T) {
		for name, caller := range callers {
			known := caller.In(t).Do("GET", "/api/v1/datasources/"+fx.restricted.Name, nil)
			unknown := caller.In(t).Do("GET", "/api/v1/datasources/No such source", nil)
			kb := strings.ReplaceAll(string(known.Body), fx.restricted.Name, "NAME")
			ub := strings.ReplaceAll(string(unknown.Body), "No such source", "NAME")
			if known.Status != 404 || known.Status != unknown.Status || kb != ub {
				t.Errorf("as %s: hidden name %s, unknown name %s; want the same 404", name, known, unknown)
			}
		}
	})

	for _, rt := range matrixRoutes(e) {
		route := rt.Method + " " + rt.Path
		if !strings.Contains(rt.Path, "{") {
			continue
		}
		if _, ok := visible[route]; ok {
			continue
		}
		r, ok := rows[route]
		if !ok {
			t.Errorf("route %s takes an id but has no row here: add one (or say why every caller may see it)", route)
			continue
		}
		for name, caller := range callers {
			t.Run(route+" as "+name, func(t *testing.T) {
				var known, unknown []string
				for _, part := range strings.Split(rt.Path, "/") {
					if strings.HasPrefix(part, "{") {
						unknown = append(unknown, unknownID)
					}
				}
				known = r.known
				if len(known) != len(unknown) {
					t.Fatalf("row has %d ids, the path %d", len(known), len(unknown))
				}
				ask := func(ids []string) (int, string) {
					path := rt.Path
					for _, id := range ids {
						path = path[:strings.Index(path, "{")] + id + path[strings.Index(path, "}")+1:]
					}
					resp := caller.In(t).Do(rt.Method, path, r.body)
					body := string(resp.Body)
					for _, id := range ids {
						body = strings.ReplaceAll(body, id, "ID")
					}
					return resp.Status, strings.TrimSpace(body)
				}
				ks, kb := ask(known)
				us, ub := ask(unknown)
				if ks != us || kb != ub {
					t.Errorf("forbidden id: %d %s\nunknown id:   %d %s\nwant the same answer", ks, kb, us, ub)
				}
				if ks < 400 {
					t.Errorf("forbidden id answered %d %s, want a refusal", ks, kb)
				}
			})
		}
	}
}
