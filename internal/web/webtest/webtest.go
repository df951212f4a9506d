// Package webtest is what the fast page tests of the page packages
// (internal/web/ui, syncui, processui) share: signed-in viewers of the
// fakes and the fake directory that knows their sessions, the call log
// the fakes write, a request through the whole handler as a viewer, and
// the checks of a page's body and of the calls made.
//
// Test code only: internal/testenv's TestNotImportedByProduct fails when
// anything the tenantlink binary is built from imports it.
package webtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

// Now is the fakes' clock.
var Now = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// Viewer is a signed-in user of the fakes, with a session cookie and its
// CSRF token. The zero Viewer is anonymous.
type Viewer struct {
	User   *tenantlink.User
	Cookie string
	CSRF   string
}

// Calls is the log every fake writes to: "Method arg…".
type Calls []string

// Add logs a call.
func (c *Calls) Add(format string, args ...any) { *c = append(*c, fmt.Sprintf(format, args...)) }

// Has reports whether a logged call starts with prefix.
func (c Calls) Has(prefix string) bool {
	return slices.ContainsFunc(c, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// Directory is the part of web.Directory that signs the viewers in: the
// session of each one's cookie, and a principal with the user's roles.
// A fake directory embeds it; a method neither defines panics.
type Directory struct {
	web.Directory
	Viewers []Viewer
}

// Session answers the session of the viewer whose cookie hashes to
// idHash, or none.
func (d Directory) Session(_ context.Context, idHash string, _ time.Time) (*store.Session, *tenantlink.User, error) {
	for _, v := range d.Viewers {
		if v.Cookie != "" && idHash == auth.HashToken(v.Cookie) {
			return &store.Session{IDHash: idHash, UserID: v.User.ID, CSRFToken: v.CSRF}, v.User, nil
		}
	}
	return nil, nil, nil
}

// Principal is u with its own roles.
func (Directory) Principal(_ context.Context, u *tenantlink.User, via string) (*tenantlink.Principal, error) {
	return &tenantlink.Principal{User: u, Roles: u.Roles, Via: via}, nil
}

// RequireAdmin refuses as the services do what needs the Administrator
// role: "<what> needs the Administrator role", 403.
func RequireAdmin(p *tenantlink.Principal, what string) error {
	if p.Has(tenantlink.RoleAdministrator) {
		return nil
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s needs the Administrator role", what)
}

// Answer is what a request got back.
type Answer struct {
	Status   int
	Location string
	Body     string
}

// Do sends a request to h as v: a GET, or a form POST carrying v's CSRF
// token in the form (as the pages do) unless form already has one. The
// header arguments are name, value pairs.
func Do(t testing.TB, h http.Handler, v Viewer, method, target string, form url.Values, header ...string) Answer {
	t.Helper()
	var r *http.Request
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		if _, ok := form["csrf"]; !ok {
			form.Set("csrf", v.CSRF)
		}
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if v.Cookie != "" {
		r.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: v.Cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return Answer{Status: rec.Code, Location: rec.Header().Get("Location"), Body: rec.Body.String()}
}

// CheckAnswer stops the test when the request method target got another
// status than status, or another Location than location ("" for none).
func CheckAnswer(t testing.TB, method, target string, got Answer, status int, location string) {
	t.Helper()
	if got.Status != status || got.Location != location {
		t.Fatalf("%s %s = %d (Location %q), want %d (%q)\n%s", method, target, got.Status, got.Location, status, location, got.Body)
	}
}

// CheckBody reports each of want the page body lacks and each of
// notWant it shows.
func CheckBody(t testing.TB, body string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q:\n%s", w, body)
		}
	}
	for _, w := range notWant {
		if strings.Contains(body, w) {
			t.Errorf("the page shows %q, which it must not:\n%s", w, body)
		}
	}
}

// CheckCalls compares the calls made with want, in order; a nil want is
// not checked, and an empty one matches no calls.
func CheckCalls(t testing.TB, want []string, got Calls) {
	t.Helper()
	if want == nil {
		return
	}
	if diff := cmp.Diff(want, []string(got), cmpEmpty); diff != "" {
		t.Errorf("service calls (-want +got):\n%s", diff)
	}
}

// cmpEmpty treats a nil and an empty call log alike.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })
