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
	"context"
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
	"github.com/tenantlink/tenantlink/internal/web/page"
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
	// Subscriptions lists a data source's real-time subscriptions with
	// their state (realtime.Service.States); nil: none shown.
	Subscriptions func(ctx context.Context, datasourceID string) ([]tenantlink.SubscriptionState, error)
	Now           func() time.Time
	Logger        *slog.Logger
}

// handler holds the parsed templates and the dependencies of every page.
type handler struct {
	Deps
	pages map[string]*template.Template
	site  *page.Site
}

// Register registers every page and /static/ on d.Server.
func Register(d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Deps: d, pages: page.MustParseAll(templateFS, "templates", funcs),
		site: &page.Site{UsableDataSources: d.DataSources.List, Logger: d.Logger}}
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
	s.HandlePage("GET /datasources/{id}/licences", false, h.showLicences)
	s.HandlePage("POST /datasources/{id}/licences/reclaim", false, h.reclaimLicences)

	s.HandlePage("GET /users", false, h.listUsers)
	s.HandlePage("POST /users", false, h.createUser)
	s.HandlePage("GET /users/{id}", false, h.showUser)
	s.HandlePage("POST /users/{id}", false, h.updateUser)
	s.HandlePage("GET /groups", false, h.listGroups)
	s.HandlePage("POST /groups", false, h.createGroup)
	// GET /groups/{id} is the group's sync page (package syncui); the
	// directory side of a group lives under it.
	s.HandlePage("GET /groups/{id}/edit", false, h.showGroupEdit)
	s.HandlePage("POST /groups/{id}/edit", false, h.saveGroup)
	s.HandlePage("POST /groups/{id}/members", false, h.addGroupMembers)
	s.HandlePage("POST /groups/{id}/members/remove", false, h.removeGroupMembers)
	s.HandlePage("GET /groups/{id}/delete", false, h.confirmGroupDelete)
	s.HandlePage("POST /groups/{id}/delete", false, h.deleteGroup)
	s.HandlePage("GET /audit", false, h.showAudit)
	s.HandlePage("GET /tokens", false, h.showTokens)
	s.HandlePage("POST /tokens", false, h.createToken)
	s.HandlePage("POST /tokens/{id}/revoke", false, h.revokeToken)
	s.HandlePage("POST /account/password", false, h.changePassword)
	if d.SSO != nil {
		s.HandlePage("GET /settings/sso", false, h.showSSOSettings)
		s.HandlePage("POST /settings/sso", false, h.saveSSOSettings)
		s.HandlePage("GET /signed-out", true, h.signedOut)
		s.HandlePage("GET /auth/sso/link", true, h.showSSOLink)
		s.HandlePage("POST /auth/sso/link", true, h.confirmSSOLink)
	}
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a folder (with or without its slash) is not found
		// rather than listed.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if fi, err := fs.Stat(sub, strings.TrimSuffix(name, "/")); name == "" || strings.HasSuffix(name, "/") || err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		// Assets are embedded in the binary, so they change only with a
		// new release; a short max-age keeps upgrades visible quickly.
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// notice is a notification at the top of a page.
type notice = page.Notice

func (h *handler) newPage(r *http.Request, title, nav string, data any) *page.Page {
	return h.site.New(r, title, nav, data)
}

func (h *handler) render(w http.ResponseWriter, status int, name string, p *page.Page) error {
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("render %s: no such page template", name)
	}
	return h.site.Render(w, status, t, p)
}

var funcs = template.FuncMap{
	"cell":      cell,
	"wrapClass": wrapClass,
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
	"add":      func(a, b int) int { return a + b },
	"outcomes": func() []string { return outcomes },
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
