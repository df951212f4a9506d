package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/metrics"
)

// fullServer is a Server with every optional service present (as fakes
// that are never called), so that its table has every row of package web.
func fullServer(t *testing.T) *Server {
	t.Helper()
	m := metrics.New(func(context.Context) ([]*tenantlink.DataSource, error) { return nil, nil })
	return New(Config{
		Directory: newFakeDirectory(testNow), DataSources: &fakeDataSources{},
		SSO: struct{ SSO }{}, Processes: struct{ Processes }{}, GraphHooks: struct{ GraphHooks }{},
		Sync: &SyncAPI{Tasks: &fakeTasks{}, Sync: &fakeSync{}}, Metrics: m,
	})
}

var param = regexp.MustCompile(`\{[^}]*\}`)

// example is a request path that the route's pattern matches.
func example(rt Route) (method, path string) {
	method, path = rt.Method, param.ReplaceAllString(strings.TrimSuffix(rt.Path, "{$}"), "x")
	if method == "" {
		method = "GET"
	}
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "x"
	}
	return method, path
}

// TestRouteTableComplete checks the table against what is served: every
// row is reachable (its example request lands on its own pattern, no row
// shadows another), nothing answers outside the table, and the OpenAPI
// document describes exactly the rows with a summary — every API and hook
// row.
func TestRouteTableComplete(t *testing.T) {
	s := fullServer(t)
	rows := map[string]Route{}
	for _, rt := range s.Routes() {
		if _, dup := rows[rt.Pattern()]; dup {
			t.Errorf("route %s is in the table twice", rt.Pattern())
		}
		rows[rt.Pattern()] = rt
		method, path := example(rt)
		_, got := s.mux.Handler(httptest.NewRequest(method, path, nil))
		if got != rt.Pattern() {
			t.Errorf("%s %s lands on %q, want its row %q", method, path, got, rt.Pattern())
		}
		if (rt.Kind == API || rt.Kind == Hook) && rt.Method != "" && rt.Summary == "" {
			t.Errorf("%s route %s has no summary for the OpenAPI document", rt.Kind, rt.Pattern())
		}
	}
	for _, path := range []string{"/nowhere", "/login", "/static/app.css"} {
		if _, got := s.mux.Handler(httptest.NewRequest("GET", path, nil)); got != "" {
			t.Errorf("GET %s lands on %q, which package web's table does not list", path, got)
		}
	}

	var documented, described []string
	for _, rt := range s.Routes() {
		if rt.Summary != "" {
			documented = append(documented, strings.ToLower(rt.Method)+" "+rt.Path)
		}
	}
	for path, item := range s.OpenAPIDocument()["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			described = append(described, method+" "+path)
		}
	}
	slices.Sort(documented)
	slices.Sort(described)
	if diff := cmp.Diff(documented, described); diff != "" {
		t.Errorf("OpenAPI operations differ from the documented rows (-rows +document):\n%s", diff)
	}
	for _, want := range []string{"GET /api/v1/tasks", "POST /hooks/graph/{datasource}", "GET /auth/sso/login", "GET /api/v1/instances/{id}", "GET /metrics", "GET /oauth/callback", "/api/"} {
		if _, ok := rows[want]; !ok {
			t.Errorf("the table has no row %s", want)
		}
	}
}

// TestRouteTableOptional leaves the optional services out: their rows go.
func TestRouteTableOptional(t *testing.T) {
	s := New(Config{Directory: newFakeDirectory(testNow), DataSources: &fakeDataSources{}})
	for _, rt := range s.Routes() {
		for _, prefix := range []string{"/api/v1/settings/sso", "/auth/sso/", "/api/v1/processes", "/api/v1/instances", "/api/v1/tasks", "/hooks/", "/metrics"} {
			if strings.HasPrefix(rt.Path, prefix) {
				t.Errorf("route %s without its service", rt.Pattern())
			}
		}
	}
}

// TestMountRefuses: a row that cannot be right stops the program at
// start, not at the first request.
func TestMountRefuses(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request) error { return nil }
	plain := http.NotFoundHandler()
	for _, tt := range []struct {
		name string
		rt   Route
	}{
		{"API route without summary", Route{Method: "GET", Path: "/api/v1/x", Kind: API, Access: SignedIn, Handler: h}},
		{"hook without summary", Route{Method: "POST", Path: "/hooks/x", Kind: Hook, Access: Secret, Handler: h}},
		{"page with a summary", Route{Method: "GET", Path: "/x", Kind: Page, Access: SignedIn, Handler: h, Summary: "x"}},
		{"page without handler", Route{Method: "GET", Path: "/x", Kind: Page, Access: SignedIn}},
		{"asset with a wrapped handler", Route{Method: "GET", Path: "/x", Kind: Asset, Access: Public, Handler: h}},
		{"probe without handler", Route{Method: "GET", Path: "/x", Kind: Probe, Access: Public}},
		{"no access", Route{Method: "GET", Path: "/x", Kind: Page, Handler: h}},
		{"no kind", Route{Method: "GET", Path: "/x", Access: Public, Handler: h}},
		{"relative path", Route{Method: "GET", Path: "x", Kind: Asset, Access: Public, Plain: plain}},
		{"served twice", Route{Method: "GET", Path: "/healthz", Kind: Probe, Access: Public, Plain: plain}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{Directory: newFakeDirectory(testNow), DataSources: &fakeDataSources{}})
			defer func() {
				if recover() == nil {
					t.Errorf("Mount(%+v) did not panic", tt.rt)
				}
			}()
			s.Mount(tt.rt)
		})
	}
}
