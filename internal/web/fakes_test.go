package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/store"
)

// The fakes stand in for the services behind Config's interfaces: each
// embeds its interface (a method a test did not expect panics) and
// implements what the tests here call. No database, no simulator.

// fakeDirectory knows one user, Ann, with one API token and one session.
type fakeDirectory struct {
	Directory
	now      time.Time
	sessions map[string]*store.Session // by cookie hash
	ended    []string
	created  int
	audited  []string
	users    map[string]*tenantlink.User
	// listed is the filter ListUsers was called with.
	listed *store.UserFilter
}

const (
	annToken  = "tl_ann-token"
	annCookie = "ann-session-cookie-value"
	annCSRF   = "ann-csrf"
)

var ann = &tenantlink.User{ID: "u-ann", Email: "ann@example.com", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}

func newFakeDirectory(now time.Time) *fakeDirectory {
	return &fakeDirectory{now: now,
		sessions: map[string]*store.Session{auth.HashToken(annCookie): {IDHash: auth.HashToken(annCookie), UserID: ann.ID, CSRFToken: annCSRF, ExpiresAt: now.Add(time.Hour)}},
		users:    map[string]*tenantlink.User{ann.ID: ann},
	}
}

func (f *fakeDirectory) Authenticate(_ context.Context, raw string) (*tenantlink.User, error) {
	if raw != annToken {
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "The API token is not valid.")
	}
	return ann, nil
}

func (f *fakeDirectory) Principal(_ context.Context, u *tenantlink.User, via string) (*tenantlink.Principal, error) {
	return &tenantlink.Principal{User: u, Roles: u.Roles, Via: via}, nil
}

func (f *fakeDirectory) Session(_ context.Context, idHash string, now time.Time) (*store.Session, *tenantlink.User, error) {
	s, ok := f.sessions[idHash]
	if !ok || !now.Before(s.ExpiresAt) {
		return nil, nil, nil
	}
	return s, f.users[s.UserID], nil
}

func (f *fakeDirectory) CreateSession(_ context.Context, s *store.Session) error {
	f.created++
	f.sessions[s.IDHash] = s
	return nil
}

func (f *fakeDirectory) EndSession(_ context.Context, idHash string) error {
	f.ended = append(f.ended, idHash)
	delete(f.sessions, idHash)
	return nil
}

func (f *fakeDirectory) SignIn(_ context.Context, email, password, _ string) (*tenantlink.User, error) {
	if email != ann.Email || password != "right" {
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Email or password is incorrect.")
	}
	return ann, nil
}

func (f *fakeDirectory) AuditSignIn(_ context.Context, u *tenantlink.User, client string) error {
	f.audited = append(f.audited, u.ID+" from "+client)
	return nil
}

func (f *fakeDirectory) ListUsers(_ context.Context, _ *tenantlink.Principal, filter store.UserFilter) ([]*tenantlink.User, error) {
	f.listed = &filter
	return []*tenantlink.User{ann}, nil
}

// fakeDataSources answers for the data sources in byID; any other id is
// the error in errs under that id, else not found.
type fakeDataSources struct {
	DataSources
	byID    map[string]*tenantlink.DataSource
	errs    map[string]error
	created *datasource.Input
}

func (f *fakeDataSources) lookup(ref string) (*tenantlink.DataSource, error) {
	if err, ok := f.errs[ref]; ok {
		return nil, err
	}
	if ds, ok := f.byID[ref]; ok {
		return ds, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "data source %q not found", ref)
}

func (f *fakeDataSources) Get(_ context.Context, _ *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	return f.lookup(ref)
}

func (f *fakeDataSources) List(_ context.Context, _ *tenantlink.Principal, _ string) ([]*tenantlink.DataSource, error) {
	var out []*tenantlink.DataSource
	for _, ds := range f.byID {
		out = append(out, ds)
	}
	return out, nil
}

func (f *fakeDataSources) Create(_ context.Context, _ *tenantlink.Principal, in datasource.Input) (*tenantlink.DataSource, error) {
	f.created = &in
	return &tenantlink.DataSource{ID: "ds-new", Name: *in.Name, Type: *in.Type}, nil
}

func (f *fakeDataSources) Delete(_ context.Context, _ *tenantlink.Principal, ref string, _ bool) error {
	_, err := f.lookup(ref)
	return err
}

func (f *fakeDataSources) GetSecurity(_ context.Context, _ *tenantlink.Principal, ref string) (*tenantlink.Security, error) {
	ds, err := f.lookup(ref)
	if err != nil {
		return nil, err
	}
	return &ds.Security, nil
}

// testServer is a Server on the fakes, with a page and a form page of
// its own besides package web's routes, and its clock.
var testNow = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func testServer(t *testing.T) (*Server, *fakeDirectory, *fakeDataSources) {
	t.Helper()
	now := testNow
	dir := newFakeDirectory(now)
	dss := &fakeDataSources{byID: map[string]*tenantlink.DataSource{}, errs: map[string]error{}}
	s := New(Config{Directory: dir, DataSources: dss, Now: func() time.Time { return now }})
	s.Mount(
		Route{Method: "GET", Path: "/page", Kind: Page, Access: SignedIn, Handler: func(w http.ResponseWriter, r *http.Request) error {
			_, err := w.Write([]byte("hello " + PrincipalFrom(r.Context()).User.Email))
			return err
		}},
		Route{Method: "POST", Path: "/page", Kind: Page, Access: SignedIn, Handler: func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}},
		Route{Method: "GET", Path: "/page/{id}", Kind: Page, Access: SignedIn, Handler: func(w http.ResponseWriter, r *http.Request) error {
			_, err := dss.Get(r.Context(), PrincipalFrom(r.Context()), r.PathValue("id"))
			return err
		}},
	)
	return s, dir, dss
}

// do sends one request through the whole handler (headers, routing,
// authentication, CSRF, the error adapter).
func do(s *Server, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	return rec
}
