package ui_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web"
)

// failing is a test-only page that fails with the error its {code} names,
// so that every status's error page can be seen in the real layout.
func failing() web.Route {
	errs := map[string]error{
		"400": tenantlink.Errorf(tenantlink.EINVALID, "name is required"),
		"409": tenantlink.Errorf(tenantlink.ECONFLICT, "a group named Sales already exists"),
		"429": tenantlink.Errorf(tenantlink.ETOOMANY, "Too many attempts: wait a minute."),
		"502": tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft Graph answered 400 Bad Request."),
		"503": tenantlink.Errorf(tenantlink.EUNAVAILABLE, "Microsoft 365 is unavailable right now (HTTP 503 from Microsoft Graph) — try again in a few minutes."),
		"500": errors.New("sqlite: database disk image is malformed (table users)"),
	}
	return web.Route{Method: "GET", Path: "/test/fail/{code}", Kind: web.Page, Access: web.SignedIn, Handler: func(w http.ResponseWriter, r *http.Request) error {
		return errs[r.PathValue("code")]
	}}
}

var requestIDRE = regexp.MustCompile(`<code class="reference">[0-9a-f]+</code>`)

// TestErrorPages: an error on a page is the normal layout (the menu as the
// viewer may use it, who is signed in), a title and message in the
// viewer's terms and ways back; an internal error shows only a reference,
// which the log has with the detail.
func TestErrorPages(t *testing.T) {
	var log bytes.Buffer
	f := newDirectoryFixtureWith(t, envConfig{Routes: []web.Route{failing()}, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	admin := f.e.mustSignIn(t, "admin@example.com")
	plain := f.e.mustSignIn(t, "plain@example.com")
	// Restricted has connection users, and the plain user is not one: he
	// may not see it at all.
	restricted := f.e.mustCreateDataSource(t, f.admin, "Restricted", false)
	if _, err := f.e.DS.PutSecurity(context.Background(), f.e.mustPrincipal(t, f.admin), restricted.ID, tenantlink.Security{Admins: []string{f.admin.ID}, Users: []string{f.admin.ID}, Writers: []string{}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		b       *browser
		path    string
		referer string
		status  int
		golden  string   // compared with testdata/<golden>.golden
		want    []string // in the body
		notWant []string
	}{
		{name: "403 a plain user on an Administrator's page", b: plain, path: "/users", status: 403, golden: "error_403",
			want: []string{"<title>You do not have access to this page – tenantlink</title>", "Listing users needs the Administrator role.",
				"Signed in as", `href="/tokens"`, `<a href="/">Home</a>`},
			notWant: []string{`href="/users"`, `href="/groups"`, "Something went wrong"}},
		{name: "404 an address that is no page", b: plain, path: "/no/such/page", status: 404,
			want: []string{"<title>Not found – tenantlink</title>", "There is no page at /no/such/page. It may have been deleted, or you may not have access to it.", "Signed in as"}},
		{name: "404 an address that is no page, anonymous", b: f.e.anonymous(t), path: "/datasources/x/nothing", status: 404,
			want: []string{"There is no page at /datasources/x/nothing."}, notWant: []string{"Signed in as", "Administration"}},
		{name: "404 an unknown group", b: admin, path: "/groups/no-such-group/edit", referer: "/groups", status: 404, golden: "error_404",
			want: []string{"<title>Not found – tenantlink</title>", "not found. It may have been deleted, or the address is wrong.", `<a href="/groups">Back to the previous page</a>`,
				`href="/groups" aria-current="page"`}},
		{name: "500 tells nothing but the reference", b: admin, path: "/test/fail/500", status: 500, golden: "error_500",
			want:    []string{"Something went wrong on our side", `<code class="reference">`, "Signed in as"},
			notWant: []string{"malformed", "sqlite"}},
		{name: "400", b: admin, path: "/test/fail/400", status: 400, want: []string{"This request could not be used", "Name is required."}},
		{name: "409", b: admin, path: "/test/fail/409", status: 409, want: []string{"This could not be done", "A group named Sales already exists."}},
		{name: "429", b: admin, path: "/test/fail/429", status: 429, want: []string{"Too many requests", "wait a minute"}},
		{name: "502", b: admin, path: "/test/fail/502", status: 502, want: []string{"Microsoft 365 refused the request", "answered 400"}},
		{name: "503", b: admin, path: "/test/fail/503", status: 503, want: []string{"Unavailable right now", "try again in a few minutes"}},
		// Decision 0023: a data source the viewer may not see is as unknown
		// as one that does not exist.
		{name: "404 a data source the viewer may not see", b: plain, path: "/datasources/" + restricted.ID, status: 404,
			want: []string{"Not found", "not found. It may have been deleted, or you may not have access to it."}, notWant: []string{"Restricted"}},
		{name: "404 an unknown data source", b: plain, path: "/datasources/" + restricted.ID + "x", status: 404,
			want: []string{"Not found", "not found. It may have been deleted, or you may not have access to it."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", tt.b.base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.referer != "" {
				req.Header.Set("Referer", tt.b.base+tt.referer)
			}
			got := tt.b.do(req)
			if got.Status != tt.status {
				t.Fatalf("GET %s = %d, want %d; body:\n%s", tt.path, got.Status, tt.status, got.Body)
			}
			for _, w := range append(tt.want, "<!doctype html>", `<link rel="stylesheet" href="/static/app.css">`) {
				if !strings.Contains(got.Body, w) {
					t.Errorf("GET %s lacks %q:\n%s", tt.path, w, got.Body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got.Body, w) {
					t.Errorf("GET %s shows %q:\n%s", tt.path, w, got.Body)
				}
			}
			if tt.status == 500 {
				id := got.Header.Get("X-Request-Id")
				if !strings.Contains(got.Body, `<code class="reference">`+id+`</code>`) || !strings.Contains(log.String(), "request_id="+id) || !strings.Contains(log.String(), "malformed") {
					t.Errorf("reference %q: not on the page, or not in the log with the detail:\n%s", id, log.String())
				}
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, requestIDRE.ReplaceAllString(got.Body, `<code class="reference">REQUEST-ID</code>`))
			}
		})
	}

	// A form sent after the session ended: signed out, with a way back in.
	if got := f.e.anonymous(t).post("/tokens", nil, false); got.Status != http.StatusUnauthorized ||
		!strings.Contains(got.Body, "<h1>You are signed out</h1>") || !strings.Contains(got.Body, `<a href="/login?next=%2F">Sign in</a>`) || strings.Contains(got.Body, "Bearer") {
		t.Errorf("a signed-out form = %d:\n%s", got.Status, got.Body)
	}

	// The unknown id and the forbidden one read the same but for the id.
	a := plain.get("/datasources/" + restricted.ID)
	b := plain.get("/datasources/ds-unknown")
	if strings.ReplaceAll(a.Body, restricted.ID, "ID") != strings.ReplaceAll(b.Body, "ds-unknown", "ID") {
		t.Errorf("a forbidden data source's page differs from an unknown one's:\n%s\n---\n%s", a.Body, b.Body)
	}
}
