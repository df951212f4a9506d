// Package ui owns tenantlink's server-rendered web UI: the sign-in page,
// data source administration (list, connector catalogue, the Office 365
// details page with its Authorize popup, security settings), the "Run an
// operation" panel for a data source's connection users, and the
// directory's users and groups pages, the single sign-on settings page
// and the sign-in page's Sign in with Microsoft, plus the static assets those pages
// and the OAuth callback page load. Pages call the same datasource and
// directory service methods as the JSON API, so both refuse and allow
// exactly the same things. Every flow works without JavaScript except the
// authorization popup, which falls back to a full-window redirect.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are the services the pages call.
type Deps struct {
	Server      *web.Server
	Directory   *directory.Service
	DataSources *datasource.Service
	SSO         *sso.Service // nil: no single sign-on button or settings page
	Now         func() time.Time
	Logger      *slog.Logger
}

// handler holds the parsed templates and the dependencies of every page.
type handler struct {
	Deps
	pages map[string]*template.Template
}

// Register registers every page and /static/ on d.Server.
func Register(d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Deps: d, pages: mustParsePages()}
	s := d.Server
	s.Handle("GET /static/", staticHandler())

	s.HandlePage("GET /login", true, h.showLogin)
	s.HandlePage("POST /login", true, h.login)
	s.HandlePage("POST /logout", false, h.logout)
	s.HandlePage("GET /{$}", false, h.home)

	s.HandlePage("GET /datasources", false, h.listDataSources)
	s.HandlePage("GET /datasources/new", false, h.showCatalogue)
	// One literal path per connector type: a {type} wildcard here would
	// collide with /datasources/{id}/security and friends in ServeMux.
	for _, info := range d.DataSources.Catalogue() {
		s.HandlePage("GET /datasources/new/"+info.Type, false, h.newDataSource(info.Type))
		s.HandlePage("POST /datasources/new/"+info.Type, false, h.createDataSource(info.Type))
	}
	s.HandlePage("GET /datasources/{id}", false, h.showDataSource)
	s.HandlePage("POST /datasources/{id}", false, h.saveDataSource)
	s.HandlePage("GET /datasources/{id}/delete", false, h.confirmDelete)
	s.HandlePage("POST /datasources/{id}/delete", false, h.deleteDataSource)
	s.HandlePage("GET /datasources/{id}/security", false, h.showSecurity)
	s.HandlePage("POST /datasources/{id}/security", false, h.saveSecurity)
	s.HandlePage("GET /datasources/{id}/operations", false, h.showOperations)
	s.HandlePage("POST /datasources/{id}/operations", false, h.runOperation)

	s.HandlePage("GET /users", false, h.listUsers)
	s.HandlePage("POST /users", false, h.createUser)
	s.HandlePage("POST /users/{id}", false, h.updateUser)
	s.HandlePage("GET /groups", false, h.listGroups)
	if d.SSO != nil {
		s.HandlePage("GET /settings/sso", false, h.showSSOSettings)
		s.HandlePage("POST /settings/sso", false, h.saveSSOSettings)
	}
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Assets are embedded in the binary, so they change only with a
		// new release; a short max-age keeps upgrades visible quickly.
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// page is what every template receives: the layout's needs plus the
// page's own data.
type page struct {
	Title     string
	Nav       string // which nav entry is current
	Principal *tenantlink.Principal
	CSRF      string
	Notices   []notice
	Data      any
	sso       bool
}

// notice is a notification shown at the top of the page. Errors are
// announced with role=alert, everything else with role=status.
type notice struct {
	Message string
	Error   bool
}

func (p page) IsAdmin() bool { return p.Principal.Has(tenantlink.RoleAdministrator) }

// HasSSO reports whether the single sign-on settings page exists, for
// the Administration menu.
func (p page) HasSSO() bool { return p.sso }

func (h *handler) newPage(r *http.Request, title, nav string, data any) *page {
	return &page{Title: title, Nav: nav, Principal: web.PrincipalFrom(r.Context()), CSRF: web.CSRFToken(r.Context()), Data: data, sso: h.SSO != nil}
}

// render executes a page into a buffer first, so that a template error
// becomes a clean error page instead of half a page.
func (h *handler) render(w http.ResponseWriter, status int, name string, p *page) error {
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("render %s: no such page template", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

func mustParsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		files := []string{"templates/layout.html", n}
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		files = append(files, partials...)
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, files...))
	}
	return pages
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2 Jan 2006 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.UTC().Format("2 Jan 2006 15:04 UTC")
		}
		return ""
	},
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"cell": cell,
	"statusClass": func(s tenantlink.Status) string {
		switch s {
		case tenantlink.StatusReady:
			return "badge-ready"
		case tenantlink.StatusTestFailed:
			return "badge-failed"
		case tenantlink.StatusReauthorize:
			return "badge-reauthorize"
		default:
			return "badge-incomplete"
		}
	},
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"hasRole": func(list []tenantlink.Role, r tenantlink.Role) bool {
		for _, x := range list {
			if x == r {
				return true
			}
		}
		return false
	},
	"roles": func(list []tenantlink.Role) string {
		s := make([]string, len(list))
		for i, r := range list {
			s[i] = string(r)
		}
		return strings.Join(s, ", ")
	},
	"allRoles": func() []tenantlink.Role { return tenantlink.Roles },
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"choices": func(field string, selected []string, users []*tenantlink.User, groups []*tenantlink.Group) choiceList {
		return choiceList{Field: field, Selected: selected, Users: users, Groups: groups}
	},
}

// choiceList is one checkbox list of the Security form.
type choiceList struct {
	Field    string
	Selected []string
	Users    []*tenantlink.User
	Groups   []*tenantlink.Group
}

// formBool reads a checkbox: browsers send only checked boxes.
func formBool(r *http.Request, name string) bool {
	v := r.PostFormValue(name)
	return v == "on" || v == "true" || v == "1"
}

// safeNext keeps post-sign-in redirects on this site: only a relative path
// is accepted, never "//host" or "/\host", which browsers treat as another
// origin.
func safeNext(next string) string {
	const fallback = "/datasources"
	if next == "" || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return fallback
	}
	if strings.ContainsAny(next, "\r\n\t\x00") || strings.Contains(next, "\\") {
		return fallback
	}
	return next
}

// fieldError is a service refusal that belongs next to the form that
// caused it (bad input, a name already taken) rather than on an error page.
func fieldError(err error) bool {
	switch tenantlink.ErrorCode(err) {
	case tenantlink.EINVALID, tenantlink.ECONFLICT:
		return true
	}
	return false
}
