package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
)

// TestPageErrorWords follows each kind of refusal a page handler can
// return to the PageError the error page is given: the status, a title and
// a message in the viewer's terms, the reference of an internal error (the
// request id, also in the log and the X-Request-Id header), and never an
// internal error's detail.
func TestPageErrorWords(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		err     error
		status  int
		title   string
		message string // the whole message
	}{
		{"403 on a page", "GET", tenantlink.Errorf(tenantlink.EFORBIDDEN, "listing users needs the Administrator role"), 403,
			"You do not have access to this page", "Listing users needs the Administrator role."},
		{"403 on a form", "POST", tenantlink.Errorf(tenantlink.EFORBIDDEN, "Group member sync needs the Administrator role."), 403,
			"You may not do this", "Group member sync needs the Administrator role."},
		{"404", "GET", tenantlink.Errorf(tenantlink.ENOTFOUND, `group "g-1" not found`), 404,
			"Not found", `Group "g-1" not found. It may have been deleted, or you may not have access to it.`},
		{"400", "POST", tenantlink.Errorf(tenantlink.EINVALID, "name is required"), 400,
			"This request could not be used", "Name is required."},
		{"409", "POST", tenantlink.Errorf(tenantlink.ECONFLICT, "a group named Sales exists"), 409,
			"This could not be done", "A group named Sales exists."},
		{"413", "POST", tenantlink.Errorf(tenantlink.ETOOLARGE, "The form is larger than 1 MiB."), 413,
			"Too large", "The form is larger than 1 MiB."},
		{"429", "POST", tenantlink.Errorf(tenantlink.ETOOMANY, "Too many attempts: wait a minute."), 429,
			"Too many requests", "Too many attempts: wait a minute."},
		{"502", "GET", tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft Graph answered 400."), 502,
			"Microsoft 365 refused the request", "Microsoft Graph answered 400."},
		{"503", "GET", tenantlink.Errorf(tenantlink.EUNAVAILABLE, "Microsoft 365 is unavailable right now."), 503,
			"Unavailable right now", "Microsoft 365 is unavailable right now."},
		{"500", "GET", errors.New("pq: connection reset by peer at 10.0.0.7"), 500,
			"Something went wrong on our side", "tenantlink could not finish this request. The details are in the server log: give an administrator the reference below."},
		{"500 with a message", "GET", tenantlink.Errorf(tenantlink.EINTERNAL, "decrypt with key k-3: bad tag"), 500,
			"Something went wrong on our side", "tenantlink could not finish this request. The details are in the server log: give an administrator the reference below."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			s := New(Config{Directory: newFakeDirectory(testNow), DataSources: &fakeDataSources{}, Now: func() time.Time { return testNow },
				Logger: slog.New(slog.NewTextHandler(&log, nil))})
			s.Mount(Route{Method: tt.method, Path: "/boom", Kind: Page, Access: SignedIn, Handler: func(http.ResponseWriter, *http.Request) error { return tt.err }})
			var got *PageError
			var viewer *tenantlink.Principal
			s.SetErrorPage(func(w http.ResponseWriter, r *http.Request, e PageError) error {
				got, viewer = &e, PrincipalFrom(r.Context())
				w.WriteHeader(e.Status)
				return nil
			})
			body := ""
			if tt.method == "POST" {
				body = "csrf=" + annCSRF
			}
			rec := do(s, tt.method, "/boom", body, "Cookie", SessionCookie+"="+annCookie, "Content-Type", "application/x-www-form-urlencoded")
			if got == nil {
				t.Fatalf("the error page was not called; answer %d %s", rec.Code, rec.Body)
			}
			if rec.Code != tt.status || got.Status != tt.status || got.Title != tt.title || got.Message != tt.message {
				t.Errorf("page error = %d %+v, want %d %q %q", rec.Code, *got, tt.status, tt.title, tt.message)
			}
			if viewer == nil || viewer.User.ID != ann.ID {
				t.Errorf("the error page's viewer = %v, want Ann (the menu is hers)", viewer)
			}
			id := rec.Header().Get("X-Request-Id")
			if len(id) < 8 {
				t.Errorf("X-Request-Id = %q, want a request id", id)
			}
			if tt.status == 500 {
				if got.Reference != id {
					t.Errorf("reference = %q, want the request id %q", got.Reference, id)
				}
				if !strings.Contains(log.String(), "request_id="+id) || !strings.Contains(log.String(), tenantlink.ErrorMessage(tt.err)) && !strings.Contains(log.String(), tt.err.Error()) {
					t.Errorf("log lacks the request id %s and the error:\n%s", id, log.String())
				}
			} else if got.Reference != "" {
				t.Errorf("reference = %q on a %d, want none", got.Reference, tt.status)
			}
			if strings.Contains(got.Title+got.Message, "10.0.0.7") || strings.Contains(got.Title+got.Message, "bad tag") {
				t.Errorf("an internal error's detail reached the page: %+v", *got)
			}
		})
	}
}

// TestPageSignedOutWords: a form sent after the session ended is told so
// in a person's words with a way to sign in and come back, not the API's
// "session cookie or Authorization: Bearer".
func TestPageSignedOutWords(t *testing.T) {
	s, _, _ := testServer(t)
	var got *PageError
	s.SetErrorPage(func(w http.ResponseWriter, r *http.Request, e PageError) error {
		got = &e
		w.WriteHeader(e.Status)
		return nil
	})
	rec := do(s, "POST", "/page", "a=b", "Content-Type", "application/x-www-form-urlencoded", "Referer", "http://example.com/groups/g-1/edit?tab=members")
	if got == nil || rec.Code != 401 {
		t.Fatalf("signed-out form = %d, page error %v; want 401 and the error page", rec.Code, got)
	}
	if got.Title != "You are signed out" || strings.Contains(got.Message, "Bearer") || got.SignIn != "/login?next=%2Fgroups%2Fg-1%2Fedit%3Ftab%3Dmembers" {
		t.Errorf("signed-out page error = %+v, want a person's words and a sign-in link back to the form's page", *got)
	}
}

// TestErrorPageFallback is the page a Server without a layout's error page
// (SetErrorPage never called) shows: still the words, the reference and a
// way home, never the detail.
func TestErrorPageFallback(t *testing.T) {
	s, _, dss := testServer(t)
	dss.errs["x"] = errors.New("disk on fire")
	rec := do(s, "GET", "/page/x", "", "Cookie", SessionCookie+"="+annCookie)
	body := rec.Body.String()
	id := rec.Header().Get("X-Request-Id")
	for _, want := range []string{"<title>Something went wrong on our side – tenantlink</title>", "<code>" + id + "</code>", `<a href="/">`} {
		if !strings.Contains(body, want) {
			t.Errorf("fallback error page lacks %q:\n%s", want, body)
		}
	}
	if rec.Code != 500 || strings.Contains(body, "disk on fire") {
		t.Errorf("fallback = %d %s, want 500 without the detail", rec.Code, body)
	}
}

// TestPageCSRFWords: a page form without its CSRF token (expired session,
// another site) is told so in a person's terms, not the API's header name.
func TestPageCSRFWords(t *testing.T) {
	s, _, _ := testServer(t)
	rec := do(s, "POST", "/page", "a=b", "Cookie", SessionCookie+"="+annCookie, "Content-Type", "application/x-www-form-urlencoded")
	if rec.Code != 403 || strings.Contains(rec.Body.String(), "X-CSRF-Token") || !strings.Contains(rec.Body.String(), "reload the page") {
		t.Errorf("page form without CSRF = %d %s, want 403 telling to reload the page", rec.Code, rec.Body)
	}
	api := do(s, "DELETE", "/api/v1/session", "", "Cookie", SessionCookie+"="+annCookie)
	if api.Code != 403 || !strings.Contains(api.Body.String(), "X-CSRF-Token") {
		t.Errorf("API without CSRF = %d %s, want 403 naming X-CSRF-Token", api.Code, api.Body)
	}
}

// TestPanicOnAPageIsTheErrorPage: a page handler that panics answers the
// error page with the request id as reference (and the log has both);
// the API keeps its JSON.
func TestPanicOnAPageIsTheErrorPage(t *testing.T) {
	var log bytes.Buffer
	s := New(Config{Directory: newFakeDirectory(testNow), DataSources: &fakeDataSources{}, Now: func() time.Time { return testNow },
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	s.Mount(Route{Method: "GET", Path: "/boom", Kind: Page, Access: SignedIn, Handler: func(http.ResponseWriter, *http.Request) error { panic("nil map in the boom handler") }})
	var got *PageError
	s.SetErrorPage(func(w http.ResponseWriter, r *http.Request, e PageError) error {
		got = &e
		w.WriteHeader(e.Status)
		return nil
	})
	rec := do(s, "GET", "/boom", "", "Cookie", SessionCookie+"="+annCookie)
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != 500 || got == nil || got.Reference != id || got.Title != "Something went wrong on our side" {
		t.Fatalf("panic on a page = %d %+v, want 500 and the error page with reference %q", rec.Code, got, id)
	}
	if strings.Contains(got.Message, "nil map") || !strings.Contains(log.String(), "request_id="+id) || !strings.Contains(log.String(), "nil map in the boom handler") {
		t.Errorf("message %q or log lacks what it should:\n%s", got.Message, log.String())
	}
}
