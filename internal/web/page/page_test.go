package page_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tenantlink/tenantlink/internal/web/page"
)

func TestWhen(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"time in UTC", at, "2 Mar 2026 08:30 UTC"},
		{"pointer", &at, "2 Mar 2026 08:30 UTC"},
		{"zero", time.Time{}, ""},
		{"nil pointer", (*time.Time)(nil), ""},
		{"not a time", "yesterday", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := page.When(tc.in, "2 Jan 2006 15:04 UTC"); got != tc.want {
				t.Errorf("When(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseAllAndRender(t *testing.T) {
	fsys := fstest.MapFS{
		"t/hello.html":  {Data: []byte(`{{define "content"}}<p>{{.Data}} {{template "sig"}} {{shout "x"}}</p>{{end}}`)},
		"t/_sig.html":   {Data: []byte(`{{define "sig"}}(sig){{end}}`)},
		"t/notes.txt":   {Data: []byte(`not a template`)},
		"t/broken.html": {Data: []byte(`{{define "content"}}{{.Data}{{end}}`)},
	}
	if _, err := page.ParseAll(fsys, "t", map[string]any{"shout": strings.ToUpper}); err == nil || !strings.Contains(err.Error(), "broken.html") {
		t.Fatalf("ParseAll with a broken page: error %v, want one naming broken.html", err)
	}
	delete(fsys, "t/broken.html")
	pages, err := page.ParseAll(fsys, "t", map[string]any{"shout": strings.ToUpper})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || pages["hello"] == nil {
		t.Fatalf("pages = %v, want only hello (partials are not pages)", pages)
	}
	site := &page.Site{}
	p := site.New(httptest.NewRequest("GET", "/", nil), "Hi <there>", "", "world")
	p.Notify("Saved", false)
	p.Notify("Broken", true)
	w := httptest.NewRecorder()
	if err := site.Render(w, 201, pages["hello"], p); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if w.Code != 201 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d, headers %v; want 201, HTML, no-store", w.Code, w.Header())
	}
	for _, want := range []string{
		"<title>Hi &lt;there&gt; – tenantlink</title>",
		"<p>world (sig) X</p>",
		`<p class="notice" role="status">Saved</p>`,
		`<p class="notice notice-error" role="alert">Broken</p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Administration") || strings.Contains(body, "Sign out") {
		t.Errorf("an anonymous page shows the menu or Sign out:\n%s", body)
	}
}
