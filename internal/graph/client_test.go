package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sleeper records the waits a Client asks for instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// testServer serves one handler at a time, so what handlers record can
// be read by the test after Sync without a data race.
type testServer struct {
	*httptest.Server
	mu sync.Mutex
}

// Sync orders everything handlers did so far before what follows.
func (s *testServer) Sync() {
	s.mu.Lock()
	s.mu.Unlock() //nolint:staticcheck // an empty critical section is the point
}

// newTestClient serves h on loopback and returns a Client pointed at it
// whose waits are recorded, never slept.
func newTestClient(tb testing.TB, h http.Handler) (*Client, *sleeper, *testServer) {
	tb.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(ts.Close)
	sl := &sleeper{}
	c := New(Config{BaseURL: ts.URL, HTTPClient: ts.Client(), Sleep: sl.Sleep, Rand: func() float64 { return 0.5 }})
	return c, sl, ts
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestListUsersPaging(t *testing.T) {
	var mu sync.Mutex
	var got []string // request URI and ConsistencyLevel per page
	var srvURL string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.RequestURI()+" CL="+r.Header.Get("ConsistencyLevel"))
		mu.Unlock()
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			// A nextLink carrying its own odd query must be followed as is.
			writeJSON(w, 200, `{"@odata.count":5,"value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"`+srvURL+`/v1.0/users?$select=id&$skiptoken=A%2BB&x=1"}`)
		case "A+B":
			writeJSON(w, 200, `{"value":[{"id":"3"},{"id":"4"}],"@odata.nextLink":"`+srvURL+`/v1.0/users?$skiptoken=C"}`)
		case "C":
			writeJSON(w, 200, `{"value":[{"id":"5"}]}`)
		}
	})
	c, _, srv := newTestClient(t, h)
	srvURL = srv.URL

	var ids []string
	var pages int
	err := c.ListUsers(context.Background(), Query{Select: []string{"id"}, Filter: "endsWith(mail,'@contoso.com')", Advanced: true},
		func(us []User) error {
			pages++
			for _, u := range us {
				ids = append(ids, u.ID)
			}
			return nil
		})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	srv.Sync()
	if diff := cmp.Diff([]string{"1", "2", "3", "4", "5"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	want := []string{
		"/v1.0/users?$select=id&$filter=endsWith%28mail%2C%27%40contoso.com%27%29&$top=999&$count=true CL=eventual",
		"/v1.0/users?$select=id&$skiptoken=A%2BB&x=1 CL=eventual",
		"/v1.0/users?$skiptoken=C CL=eventual",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestListQueryEncoding(t *testing.T) {
	tests := []struct {
		name string
		q    Query
		want url.Values
		cl   string
	}{
		{"defaults", Query{}, url.Values{"$select": {strings.Join(UserFields, ",")}, "$top": {"999"}}, ""},
		{"top and max", Query{Select: []string{"id"}, Top: 50, Max: 10}, url.Values{"$select": {"id"}, "$top": {"10"}}, ""},
		{"search implies eventual", Query{Select: []string{"id"}, Search: `"displayName:wa"`, OrderBy: "displayName"},
			url.Values{"$select": {"id"}, "$search": {`"displayName:wa"`}, "$orderby": {"displayName"}, "$top": {"999"}}, "eventual"},
		{"count without header", Query{Select: []string{"id"}, Count: true}, url.Values{"$select": {"id"}, "$top": {"999"}, "$count": {"true"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotQ url.Values
			var gotCL string
			c, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotQ, gotCL = r.URL.Query(), r.Header.Get("ConsistencyLevel")
				writeJSON(w, 200, `{"value":[]}`)
			}))
			if err := c.ListUsers(context.Background(), tt.q, func([]User) error { return nil }); err != nil {
				t.Fatal(err)
			}
			srv.Sync()
			if diff := cmp.Diff(tt.want, gotQ); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if gotCL != tt.cl {
				t.Errorf("ConsistencyLevel = %q, want %q", gotCL, tt.cl)
			}
		})
	}
}

func TestListMaxStopsEarly(t *testing.T) {
	var calls int
	var srvURL string
	c, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, 200, `{"value":[{"id":"a"},{"id":"b"},{"id":"c"}],"@odata.nextLink":"`+srvURL+`/v1.0/groups?$skiptoken=x"}`)
	}))
	srvURL = srv.URL
	var got []string
	err := c.ListGroups(context.Background(), Query{Max: 5, Top: 3}, func(gs []Group) error {
		for _, g := range gs {
			got = append(got, g.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Sync()
	if diff := cmp.Diff([]string{"a", "b", "c", "a", "b"}, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if calls != 2 {
		t.Errorf("calls = %d, want 2", calls)
	}
}

func TestCountUsers(t *testing.T) {
	var gotCL, gotURI string
	c, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCL, gotURI = r.Header.Get("ConsistencyLevel"), r.URL.RequestURI()
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "893")
	}))
	n, err := c.CountUsers(context.Background(), "accountEnabled eq true")
	if err != nil {
		t.Fatal(err)
	}
	srv.Sync()
	if n != 893 {
		t.Errorf("count = %d, want 893", n)
	}
	if gotCL != "eventual" {
		t.Errorf("ConsistencyLevel = %q, want eventual", gotCL)
	}
	if want := "/v1.0/users/$count?$filter=accountEnabled%20eq%20true"; gotURI != want {
		t.Errorf("request = %q, want %q", gotURI, want)
	}
}

// throttle answers the first n requests with status and header, then 200.
func throttle(n int, status int, retryAfter string) (http.Handler, func() int) {
	var calls atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := int(calls.Add(1))
		if k <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeJSON(w, status, `{"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"request-id":"r-1"}}}`)
			return
		}
		writeJSON(w, 200, `{"id":"u1"}`)
	}), func() int { return int(calls.Load()) }
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       []time.Duration
	}{
		{"integer", 429, "10", []time.Duration{10 * time.Second}},
		{"float", 429, "2.128", []time.Duration{2128 * time.Millisecond}},
		{"http date", 503, now.Add(7 * time.Second).Format(http.TimeFormat), []time.Duration{7 * time.Second}},
		{"zero is floored", 429, "0", []time.Duration{minWait}},
		{"504 twice", 504, "1", []time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, calls := throttle(len(tt.want), tt.status, tt.retryAfter)
			c, sl, _ := newTestClient(t, h)
			c.now = func() time.Time { return now }
			u, err := c.GetUser(context.Background(), "u1", nil)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if u.ID != "u1" {
				t.Errorf("id = %q, want u1", u.ID)
			}
			if diff := cmp.Diff(tt.want, sl.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if got, want := calls(), len(tt.want)+1; got != want {
				t.Errorf("calls = %d, want %d", got, want)
			}
			st := c.Stats()
			if want := (Stats{Requests: int64(len(tt.want) + 1), Retries: int64(len(tt.want)), Throttled: int64(len(tt.want))}); st != want {
				t.Errorf("stats = %+v, want %+v", st, want)
			}
		})
	}
}

func TestBackoffWithoutRetryAfter(t *testing.T) {
	for _, r := range []float64{0, 0.3, 0.999} {
		t.Run(fmt.Sprint(r), func(t *testing.T) {
			h, _ := throttle(100, 429, "")
			c, sl, _ := newTestClient(t, h)
			c.rand = func() float64 { return r }
			_, err := c.GetUser(context.Background(), "u1", nil)
			if !errors.Is(err, ErrThrottled) {
				t.Fatalf("err = %v, want ErrThrottled", err)
			}
			waits := sl.Waits()
			if len(waits) != 6 {
				t.Fatalf("waits = %d, want 6 (MaxRetries)", len(waits))
			}
			for i, d := range waits {
				ceil := min(backoffCap, backoffBase<<i)
				if d < minWait || d > ceil {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, d, minWait, ceil)
				}
				if want := max(time.Duration(r*float64(ceil)), minWait); d != want {
					t.Errorf("wait %d = %v, want %v (full jitter of %v)", i, d, want, ceil)
				}
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.Status != 429 || ge.Code != "TooManyRequests" {
				t.Errorf("err = %#v, want *Error 429 TooManyRequests", err)
			}
		})
	}
}

func TestBackoffCap(t *testing.T) {
	c := New(Config{Rand: func() float64 { return 0.9999 }})
	for attempt := 0; attempt < 64; attempt++ {
		if d := c.backoff(attempt); d > backoffCap || d < minWait {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", attempt, d, minWait, backoffCap)
		}
	}
}

func TestCancelDuringWait(t *testing.T) {
	h, calls := throttle(100, 429, "3600")
	srv := httptest.NewServer(h)
	defer srv.Close()
	// The real timer-based Sleep: cancellation must cut an hour's wait short.
	c := New(Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.GetUser(ctx, "u1", nil)
		errc <- err
	}()
	for c.Stats().Throttled == 0 {
		runtime.Gosched()
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GetUser still waiting after cancel")
	}
	if n := calls(); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func TestConnectionErrorRetriesOnlyGET(t *testing.T) {
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := calls.Add(1)
		if k == 1 {
			// Drop the connection mid-request.
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"id":"u1"}`)
		} else {
			w.WriteHeader(204)
		}
	})
	t.Run("GET retried", func(t *testing.T) {
		calls.Store(0)
		c, sl, _ := newTestClient(t, h)
		if _, err := c.GetUser(context.Background(), "u1", nil); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if n := calls.Load(); len(sl.Waits()) != 1 || n != 2 {
			t.Errorf("waits %v, calls %d; want 1 wait, 2 calls", sl.Waits(), n)
		}
	})
	t.Run("POST not retried", func(t *testing.T) {
		calls.Store(0)
		c, sl, _ := newTestClient(t, h)
		err := c.AddMember(context.Background(), "g1", "u1")
		if err == nil {
			t.Fatal("AddMember succeeded after a dropped connection; want the error")
		}
		if n := calls.Load(); len(sl.Waits()) != 0 || n != 1 {
			t.Errorf("waits %v, calls %d; want no wait, 1 call", sl.Waits(), n)
		}
	})
}

func TestErrorMapping(t *testing.T) {
	body := func(code, msg string) string {
		return `{"error":{"code":"` + code + `","message":"` + msg + `","innerError":{"date":"2024-01-01T00:00:00","request-id":"req-42","client-request-id":"c"}}}`
	}
	tests := []struct {
		name   string
		status int
		body   string
		call   func(*Client) error
		kind   error
		want   Error // Kind compared separately
	}{
		{"user not found", 404, body("Request_ResourceNotFound", "Resource 'x' does not exist or one of its queried reference-property objects are not present."),
			func(c *Client) error { _, err := c.GetUser(context.Background(), "x", nil); return err }, ErrNotFound,
			Error{Op: "GET /users/x", Status: 404, Code: "Request_ResourceNotFound", Message: "Resource 'x' does not exist or one of its queried reference-property objects are not present.", RequestID: "req-42"}},
		{"already a member", 400, body("Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'."),
			func(c *Client) error { return c.AddMember(context.Background(), "g", "u") }, ErrAlreadyExists,
			Error{Op: "POST /groups/g/members/$ref", Status: 400, Code: "Request_BadRequest", Message: "One or more added object references already exist for the following modified properties: 'members'.", RequestID: "req-42"}},
		{"nickname conflict", 400, `{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property mailNickname already exists.","details":[{"target":"mailNickname","code":"ObjectConflict"}]}}`,
			func(c *Client) error {
				_, err := c.CreateGroup(context.Background(), NewGroup{DisplayName: "x", MailNickname: "x", MailEnabled: true, GroupTypes: []string{"Unified"}})
				return err
			}, ErrAlreadyExists,
			Error{Op: "POST /groups", Status: 400, Code: "Request_BadRequest", Message: "Another object with the same value for property mailNickname already exists."}},
		{"not a member", 404, body("Request_ResourceNotFound", "gone"),
			func(c *Client) error { return c.RemoveMember(context.Background(), "g", "u") }, ErrNotFound,
			Error{Op: "DELETE /groups/g/members/u/$ref", Status: 404, Code: "Request_ResourceNotFound", Message: "gone", RequestID: "req-42"}},
		{"forbidden names permission", 403, body("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
			func(c *Client) error {
				_, err := c.AssignLicense(context.Background(), "u", []AssignedLicense{{SkuID: "s"}}, nil)
				return err
			}, ErrForbidden,
			Error{Op: "POST /users/u/assignLicense", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation.", RequestID: "req-42", Permission: "LicenseAssignment.ReadWrite.All"}},
		{"forbidden list users", 403, body("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
			func(c *Client) error {
				return c.ListUsers(context.Background(), Query{}, func([]User) error { return nil })
			}, ErrForbidden,
			Error{Op: "GET /users", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation.", RequestID: "req-42", Permission: "User.Read.All"}},
		{"bad request verbatim", 400, body("Request_BadRequest", "License assignment cannot be done for user with invalid usage location."),
			func(c *Client) error {
				_, err := c.AssignLicense(context.Background(), "u", nil, []string{"s"})
				return err
			}, ErrBadRequest,
			Error{Op: "POST /users/u/assignLicense", Status: 400, Code: "Request_BadRequest", Message: "License assignment cannot be done for user with invalid usage location.", RequestID: "req-42"}},
		{"unsupported query", 400, body("Request_UnsupportedQuery", "Unsupported Query."),
			func(c *Client) error {
				return c.ListGroups(context.Background(), Query{Filter: "displayName ne 'x'"}, func([]Group) error { return nil })
			}, ErrBadRequest,
			Error{Op: "GET /groups", Status: 400, Code: "Request_UnsupportedQuery", Message: "Unsupported Query.", RequestID: "req-42"}},
		{"unauthorized", 401, body("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
			func(c *Client) error { _, err := c.Me(context.Background()); return err }, ErrUnauthorized,
			Error{Op: "GET /me", Status: 401, Code: "InvalidAuthenticationToken", Message: "Access token has expired or is not yet valid.", RequestID: "req-42"}},
		{"delta expired", 400, body("syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again."),
			func(c *Client) error {
				_, err := c.UsersDelta(context.Background(), "", nil, func(DeltaPage) error { return nil })
				return err
			}, ErrDeltaExpired,
			Error{Op: "GET /users/delta", Status: 400, Code: "syncStateNotFound", Message: "The sync state generation is not found. The delta token is expired and data must be synchronized again.", RequestID: "req-42"}},
		{"server error", 500, body("generalException", "boom"),
			func(c *Client) error { return c.DeleteGroup(context.Background(), "g") }, ErrServer,
			Error{Op: "DELETE /groups/g", Status: 500, Code: "generalException", Message: "boom", RequestID: "req-42"}},
		{"not json", 502, "bad gateway",
			func(c *Client) error { _, err := c.Organization(context.Background()); return err }, ErrServer,
			Error{Op: "GET /organization", Status: 502, Message: "bad gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, tt.body)
			}))
			err := tt.call(c)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.kind)
			}
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("err = %T, want *Error", err)
			}
			got := *ge
			got.Kind = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Op: "GET /users", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation.", Permission: "User.Read.All", Kind: ErrForbidden}
	want := "graph: GET /users: 403 Authorization_RequestDenied: Insufficient privileges to complete the operation. (the app needs the User.Read.All permission)"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestPermissionFor(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"GET", "/users", "User.Read.All"},
		{"GET", "/users/$count", "User.Read.All"},
		{"GET", "/users/delta", "User.Read.All"},
		{"PATCH", "/users/u", "User.ReadWrite.All"},
		{"GET", "/groups", "GroupMember.Read.All"},
		{"GET", "/groups/g/members", "GroupMember.Read.All"},
		{"GET", "/users/u/memberOf", "GroupMember.Read.All"},
		{"POST", "/groups", "Group.ReadWrite.All"},
		{"DELETE", "/groups/g", "Group.ReadWrite.All"},
		{"PATCH", "/groups/g", "GroupMember.ReadWrite.All"},
		{"POST", "/groups/g/members/$ref", "GroupMember.ReadWrite.All"},
		{"DELETE", "/groups/g/members/u/$ref", "GroupMember.ReadWrite.All"},
		{"GET", "/subscribedSkus", "Organization.Read.All"},
		{"GET", "/organization", "Organization.Read.All"},
		{"POST", "/users/u/assignLicense", "LicenseAssignment.ReadWrite.All"},
		{"GET", "/users/u/licenseDetails", "User.Read.All"},
		{"GET", "/me", "User.Read"},
		{"GET", "/sites", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got := permissionFor(tt.method, tt.path); got != tt.want {
				t.Errorf("permissionFor = %q, want %q", got, tt.want)
			}
		})
	}
}
