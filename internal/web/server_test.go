package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestErrorStatus follows each kind of service error through a handler
// to the answer: the status (web.Status, the one mapping), the JSON body
// for the API, the HTML page for pages, and no internal detail.
func TestErrorStatus(t *testing.T) {
	s, _, dss := testServer(t)
	tests := []struct {
		err        error
		status     int
		code, body string
	}{
		{tenantlink.Errorf(tenantlink.EINVALID, "bad input"), 400, "invalid", "bad input"},
		{tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "who are you"), 401, "unauthorized", "who are you"},
		{tenantlink.Errorf(tenantlink.EFORBIDDEN, "not yours"), 403, "forbidden", "not yours"},
		{tenantlink.Errorf(tenantlink.ENOTFOUND, "no such thing"), 404, "not_found", "no such thing"},
		{tenantlink.Errorf(tenantlink.ECONFLICT, "in use"), 409, "conflict", "in use"},
		{tenantlink.Errorf(tenantlink.ETOOLARGE, "too big"), 413, "too_large", "too big"},
		{tenantlink.Errorf(tenantlink.ETOOMANY, "slow down"), 429, "too_many_requests", "slow down"},
		{tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft said no"), 502, "upstream", "Microsoft said no"},
		{tenantlink.Errorf(tenantlink.EUNAVAILABLE, "try later"), 503, "unavailable", "try later"},
		// Wrapped, the code still decides.
		{errors.Join(errors.New("context"), tenantlink.Errorf(tenantlink.ENOTFOUND, "wrapped")), 404, "not_found", "wrapped"},
		// Anything else is internal, and its text stays in the logs.
		{errors.New("pq: connection reset by peer"), 500, "internal", "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.body, func(t *testing.T) {
			dss.errs["x"] = tt.err
			rec := do(s, "GET", "/api/v1/datasources/x", "", "Authorization", "Bearer "+annToken)
			var got errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if rec.Code != tt.status || got.Error.Code != tt.code || got.Error.Message != tt.body {
				t.Errorf("API answer = %d %+v, want %d {%s %q}", rec.Code, got.Error, tt.status, tt.code, tt.body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("API Content-Type = %q, want JSON", ct)
			}
			page := do(s, "GET", "/page/x", "", "Cookie", SessionCookie+"="+annCookie)
			if tt.code == "unauthorized" {
				// A page that finds the caller signed out sends them to sign in.
				if page.Code != 303 || !strings.HasPrefix(page.Header().Get("Location"), "/login?next=") {
					t.Errorf("page answer = %d (Location %q), want the sign-in page", page.Code, page.Header().Get("Location"))
				}
			} else if want := pageSays(tt.code, tt.body); page.Code != tt.status || !strings.Contains(page.Body.String(), "<!doctype html>") || !strings.Contains(strings.ToLower(page.Body.String()), want) {
				t.Errorf("page answer = %d %s, want %d and an HTML page saying %q", page.Code, page.Body, tt.status, want)
			}
			if strings.Contains(rec.Body.String()+page.Body.String(), "connection reset") {
				t.Errorf("an internal error's detail reached the caller")
			}
		})
	}
}

// pageSays is what an error page shows of an error (lower case): the
// message, but for an internal error only that something went wrong.
func pageSays(code, message string) string {
	if code == tenantlink.EINTERNAL {
		return "something went wrong"
	}
	return strings.ToLower(message)
}

// TestAuthentication walks the ways a request is authenticated: API
// tokens, session cookies with and without the CSRF token, and anonymous
// callers of the API and of pages.
func TestAuthentication(t *testing.T) {
	bearer := []string{"Authorization", "Bearer " + annToken}
	cookie := []string{"Cookie", SessionCookie + "=" + annCookie}
	withCSRF := append(append([]string{}, cookie...), "X-CSRF-Token", annCSRF)
	form := append(append([]string{}, cookie...), "Content-Type", "application/x-www-form-urlencoded")
	tests := []struct {
		name, method, target, body string
		headers                    []string
		status                     int
		want                       string // in the body, or the Location
	}{
		{"anonymous API call", "GET", "/api/v1/session", "", nil, 401, "Sign in first"},
		{"API token", "GET", "/api/v1/session", "", bearer, 200, ann.Email},
		{"unknown API token", "GET", "/api/v1/session", "", []string{"Authorization", "Bearer tl_nope"}, 401, "not valid"},
		{"not a bearer token", "GET", "/api/v1/session", "", []string{"Authorization", "Basic YW5uOnB3"}, 401, `must be \"Bearer`},
		{"session cookie", "GET", "/api/v1/session", "", cookie, 200, annCSRF},
		{"unknown session cookie is anonymous", "GET", "/api/v1/session", "", []string{"Cookie", SessionCookie + "=stale"}, 401, "Sign in first"},
		{"session without CSRF token may not change", "DELETE", "/api/v1/session", "", cookie, 403, "CSRF"},
		{"session with a wrong CSRF token", "DELETE", "/api/v1/session", "", []string{"Cookie", SessionCookie + "=" + annCookie, "X-CSRF-Token", "guess"}, 403, "CSRF"},
		{"session with its CSRF token", "DELETE", "/api/v1/session", "", withCSRF, 204, ""},
		{"API token needs no CSRF token", "POST", "/api/v1/datasources", `{"name":"A","type":"office365"}`, bearer, 201, "ds-new"},
		{"public route, anonymous", "GET", "/api/v1/openapi.json", "", nil, 200, "openapi"},
		{"anonymous page GET goes to sign in", "GET", "/page?x=1", "", nil, 303, "/login?next=%2Fpage%3Fx%3D1"},
		{"anonymous page POST is refused", "POST", "/page", "", nil, 401, "You are signed out"},
		// The redirect would come back with the same header: a loop.
		{"page GET with a bad API token is refused, not sent to sign in", "GET", "/page", "", []string{"Authorization", "Bearer tl_nope"}, 401, "Sign in"},
		{"page with the session", "GET", "/page", "", cookie, 200, "hello " + ann.Email},
		{"page form without csrf field", "POST", "/page", "a=b", form, 403, "reload the page"},
		{"page form with csrf field", "POST", "/page", "csrf=" + annCSRF, form, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := testServer(t)
			rec := do(s, tt.method, tt.target, tt.body, tt.headers...)
			got := rec.Body.String() + rec.Header().Get("Location")
			if rec.Code != tt.status || !strings.Contains(got, tt.want) {
				t.Errorf("%s %s = %d %s, want %d containing %q", tt.method, tt.target, rec.Code, got, tt.status, tt.want)
			}
			if rec.Code == 401 && rec.Header().Get("Location") == "" && strings.HasPrefix(tt.target, "/api/") && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

// TestSessionLifecycle signs in through the JSON API (a session is
// created, its cookie set and the sign-in audited) and out again (the
// session ends, the cookie is cleared).
func TestSessionLifecycle(t *testing.T) {
	s, dir, _ := testServer(t)
	rec := do(s, "POST", "/api/v1/session", `{"email":"ann@example.com","password":"wrong"}`, "Content-Type", "application/json")
	if rec.Code != 401 || dir.created != 0 {
		t.Fatalf("wrong password = %d %s (sessions created %d), want 401 and none", rec.Code, rec.Body, dir.created)
	}
	rec = do(s, "POST", "/api/v1/session", `{"email":"ann@example.com","password":"right"}`, "Content-Type", "application/json")
	var out struct{ CSRFToken string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != 200 || err != nil || out.CSRFToken == "" {
		t.Fatalf("sign in = %d %s, want 200 with a CSRF token", rec.Code, rec.Body)
	}
	var raw string
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			raw = c.Value
		}
	}
	if raw == "" || dir.created != 1 || len(dir.audited) != 1 {
		t.Fatalf("cookie %q, sessions created %d, audited %v; want a cookie, one session, one audit entry", raw, dir.created, dir.audited)
	}
	rec = do(s, "DELETE", "/api/v1/session", "", "Cookie", SessionCookie+"="+raw, "X-CSRF-Token", out.CSRFToken)
	if rec.Code != 204 || len(dir.ended) != 1 {
		t.Fatalf("sign out = %d %s, ended %v; want 204 and the session ended", rec.Code, rec.Body, dir.ended)
	}
	if rec := do(s, "GET", "/api/v1/session", "", "Cookie", SessionCookie+"="+raw); rec.Code != 401 {
		t.Errorf("the ended session still works: %d", rec.Code)
	}
}

// TestDataSourceHandlers runs a few API handlers on the fake data source
// service: what they decode, what they answer, and bad input refused
// before any service call.
func TestDataSourceHandlers(t *testing.T) {
	bearer := []string{"Authorization", "Bearer " + annToken}
	t.Run("create answers 201 with its location", func(t *testing.T) {
		s, _, dss := testServer(t)
		rec := do(s, "POST", "/api/v1/datasources", `{"name":"Contoso","type":"office365"}`, bearer...)
		if rec.Code != 201 || rec.Header().Get("Location") != "/api/v1/datasources/ds-new" {
			t.Fatalf("create = %d %s (Location %q)", rec.Code, rec.Body, rec.Header().Get("Location"))
		}
		if dss.created == nil || *dss.created.Name != "Contoso" {
			t.Errorf("the service got %+v, want the decoded input", dss.created)
		}
	})
	t.Run("unknown fields are refused before the service", func(t *testing.T) {
		s, _, dss := testServer(t)
		rec := do(s, "POST", "/api/v1/datasources", `{"name":"Contoso","typo":1}`, bearer...)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `unknown field \"typo\"`) || dss.created != nil {
			t.Errorf("create with a typo = %d %s (service called: %v), want 400 naming the field", rec.Code, rec.Body, dss.created != nil)
		}
	})
	t.Run("security settings", func(t *testing.T) {
		s, _, dss := testServer(t)
		dss.byID["ds1"] = &tenantlink.DataSource{ID: "ds1", Security: tenantlink.Security{Admins: []string{"u1"}, Users: []string{}, Writers: []string{}}}
		rec := do(s, "GET", "/api/v1/datasources/ds1/security", "", bearer...)
		var got tenantlink.Security
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("get security = %d %s", rec.Code, rec.Body)
		}
		if diff := cmp.Diff(dss.byID["ds1"].Security, got); diff != "" {
			t.Errorf("security (-want +got):\n%s", diff)
		}
		if rec := do(s, "PUT", "/api/v1/datasources/ds1/security", `{"admins":[]}`, bearer...); rec.Code != 400 || !strings.Contains(rec.Body.String(), "both admins and users") {
			t.Errorf("put without users = %d %s, want 400", rec.Code, rec.Body)
		}
	})
	t.Run("force must be true or false", func(t *testing.T) {
		s, _, dss := testServer(t)
		dss.byID["ds1"] = &tenantlink.DataSource{ID: "ds1"}
		if rec := do(s, "DELETE", "/api/v1/datasources/ds1?force=yes", "", bearer...); rec.Code != 400 {
			t.Errorf("force=yes = %d %s, want 400", rec.Code, rec.Body)
		}
		if rec := do(s, "DELETE", "/api/v1/datasources/ds1?force=true", "", bearer...); rec.Code != 204 {
			t.Errorf("force=true = %d %s, want 204", rec.Code, rec.Body)
		}
	})
	t.Run("in use: 409 with the dependents", func(t *testing.T) {
		s, _, dss := testServer(t)
		deps := []datasource.Dependent{{Kind: "process", ID: "p1", Name: "Onboarding"}}
		dss.errs["ds1"] = inUseError(t, deps)
		rec := do(s, "DELETE", "/api/v1/datasources/ds1", "", bearer...)
		var got struct {
			Error struct {
				Code       string
				Dependents []datasource.Dependent
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 409 {
			t.Fatalf("delete in use = %d %s", rec.Code, rec.Body)
		}
		if got.Error.Code != "conflict" || !cmp.Equal(got.Error.Dependents, deps) {
			t.Errorf("delete in use = %+v, want conflict listing %v", got.Error, deps)
		}
	})
	t.Run("user list sort is checked before the service", func(t *testing.T) {
		s, dir, _ := testServer(t)
		if rec := do(s, "GET", "/api/v1/users?sort=age", "", bearer...); rec.Code != 400 || dir.listed != nil {
			t.Errorf("sort=age = %d %s (service called: %v), want 400", rec.Code, rec.Body, dir.listed != nil)
		}
		rec := do(s, "GET", "/api/v1/users?sort=name&limit=10&offset=20", "", bearer...)
		want := store.UserFilter{Sort: "name", Limit: 10, Offset: 20}
		if rec.Code != 200 || dir.listed == nil || !cmp.Equal(*dir.listed, want) {
			t.Errorf("list users = %d %s with %+v, want 200 with %+v", rec.Code, rec.Body, dir.listed, want)
		}
	})
}

// inUseError is the error datasource.Delete gives while dependents use
// the data source.
func inUseError(t *testing.T, deps []datasource.Dependent) error {
	t.Helper()
	err := &tenantlink.Error{Code: tenantlink.ECONFLICT, Message: "in use", Err: &datasource.InUseError{Dependents: deps}}
	if got, ok := datasource.AsInUse(err); !ok || len(got) != len(deps) {
		t.Fatalf("datasource.AsInUse does not read the fake's error: %v", err)
	}
	return err
}

// TestNoStoreThroughServices keeps handlers off the store: nothing in
// package web or its page packages reaches a store through a service's
// field.
func TestNoStoreThroughServices(t *testing.T) {
	out := grep(t, `\.Store\.`, ".", "./ui", "./syncui", "./processui", "./page")
	if out != "" {
		t.Errorf("handlers reach a store through a service's field:\n%s", out)
	}
}

// grep returns the lines of the non-test Go files in dirs that match
// pattern, as file:line: text.
func grep(t *testing.T, pattern string, dirs ...string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var out strings.Builder
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if re.MatchString(line) {
					fmt.Fprintf(&out, "%s:%d: %s\n", f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
	return out.String()
}

// TestReadiness: /readyz answers 503 while the database or the extra
// check fails, and 200 once both answer; /healthz answers regardless.
func TestReadiness(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	for _, tt := range []struct {
		name        string
		ping, ready error
		status      int
		want        string
	}{
		{"ready", nil, nil, 200, "ready"},
		{"database down", down, nil, 503, "database unavailable"},
		{"not ready otherwise", nil, errors.New("job queue not started"), 503, "job queue not started"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{Directory: newFakeDirectory(testNow), DataSources: &fakeDataSources{},
				Ping:  func(context.Context) error { return tt.ping },
				Ready: func(context.Context) error { return tt.ready }})
			if rec := do(s, "GET", "/readyz", ""); rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) || strings.Contains(rec.Body.String(), "refused") {
				t.Errorf("GET /readyz = %d %s, want %d %q", rec.Code, rec.Body, tt.status, tt.want)
			}
			if rec := do(s, "GET", "/healthz", ""); rec.Code != 200 {
				t.Errorf("GET /healthz = %d, want 200", rec.Code)
			}
		})
	}
}
