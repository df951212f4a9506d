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
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are the services the pages call, each behind an interface
// declared in this package (services.go) with only the methods the pages
// use.
type Deps struct {
	Server      Server
	Accounts    Accounts
	Tokens      Tokens
	Audit       Audit
	Users       Users
	Groups      Groups
	DataSources DataSources
	Operations  Operations
	Licences    Licences
	SSO         SSO // nil: no single sign-on button or settings page
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

// Routes is this package's part of the route table (see web.Route):
// every page and /static/.
func Routes(d Deps) []web.Route {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Deps: d, pages: page.MustParseAll(templateFS, "templates", funcs),
		site: &page.Site{UsableDataSources: d.DataSources.List, Logger: d.Logger}}
	if d.Server != nil {
		// Every page's errors, whichever package serves it, are shown in
		// the layout this package's pages share.
		d.Server.SetErrorPage(h.site.ErrorPage)
	}
	const get, post, in, public = "GET", "POST", web.SignedIn, web.Public
	rs := []web.Route{
		{Method: get, Path: "/static/", Kind: web.Asset, Access: public, Plain: staticHandler()},
		{Method: get, Path: "/login", Kind: web.Page, Access: public, Handler: h.showLogin},
		{Method: post, Path: "/login", Kind: web.Page, Access: public, Handler: h.login},
		{Method: post, Path: "/logout", Kind: web.Page, Access: in, Handler: h.logout},
		{Method: get, Path: "/{$}", Kind: web.Page, Access: in, Handler: h.home},
		{Method: get, Path: "/datasources", Kind: web.Page, Access: in, Handler: h.listDataSources},
		{Method: get, Path: "/datasources/new", Kind: web.Page, Access: in, Handler: h.showCatalogue},
	}
	// One literal path per connector type: a {type} wildcard here would
	// collide with /datasources/{id}/security and friends in ServeMux.
	for _, info := range d.DataSources.Catalogue() {
		rs = append(rs,
			web.Route{Method: get, Path: "/datasources/new/" + info.Type, Kind: web.Page, Access: in, Handler: h.newDataSource(info.Type)},
			web.Route{Method: post, Path: "/datasources/new/" + info.Type, Kind: web.Page, Access: in, Handler: h.createDataSource(info.Type)},
		)
	}
	rs = append(rs, []web.Route{
		{Method: get, Path: "/datasources/{id}", Kind: web.Page, Access: in, Handler: h.showDataSource},
		{Method: post, Path: "/datasources/{id}", Kind: web.Page, Access: in, Handler: h.saveDataSource},
		{Method: get, Path: "/datasources/{id}/delete", Kind: web.Page, Access: in, Handler: h.confirmDelete},
		{Method: post, Path: "/datasources/{id}/delete", Kind: web.Page, Access: in, Handler: h.deleteDataSource},
		{Method: get, Path: "/datasources/{id}/security", Kind: web.Page, Access: in, Handler: h.showSecurity},
		{Method: post, Path: "/datasources/{id}/security", Kind: web.Page, Access: in, Handler: h.saveSecurity},
		{Method: get, Path: "/datasources/{id}/operations", Kind: web.Page, Access: in, Handler: h.showOperations},
		{Method: post, Path: "/datasources/{id}/operations", Kind: web.Page, Access: in, Handler: h.runOperation},
		{Method: get, Path: "/datasources/{id}/licences", Kind: web.Page, Access: in, Handler: h.showLicences},
		{Method: post, Path: "/datasources/{id}/licences/reclaim", Kind: web.Page, Access: in, Handler: h.reclaimLicences},
		{Method: get, Path: "/users", Kind: web.Page, Access: in, Handler: h.listUsers},
		{Method: post, Path: "/users", Kind: web.Page, Access: in, Handler: h.createUser},
		{Method: get, Path: "/users/{id}", Kind: web.Page, Access: in, Handler: h.showUser},
		{Method: post, Path: "/users/{id}", Kind: web.Page, Access: in, Handler: h.updateUser},
		{Method: get, Path: "/groups", Kind: web.Page, Access: in, Handler: h.listGroups},
		{Method: post, Path: "/groups", Kind: web.Page, Access: in, Handler: h.createGroup},
		// GET /groups/{id} is the group's sync page (package syncui); the
		// directory side of a group lives under it.
		{Method: get, Path: "/groups/{id}/edit", Kind: web.Page, Access: in, Handler: h.showGroupEdit},
		{Method: post, Path: "/groups/{id}/edit", Kind: web.Page, Access: in, Handler: h.saveGroup},
		{Method: post, Path: "/groups/{id}/members", Kind: web.Page, Access: in, Handler: h.addGroupMembers},
		{Method: post, Path: "/groups/{id}/members/remove", Kind: web.Page, Access: in, Handler: h.removeGroupMembers},
		{Method: get, Path: "/groups/{id}/delete", Kind: web.Page, Access: in, Handler: h.confirmGroupDelete},
		{Method: post, Path: "/groups/{id}/delete", Kind: web.Page, Access: in, Handler: h.deleteGroup},
		{Method: get, Path: "/audit", Kind: web.Page, Access: in, Handler: h.showAudit},
		{Method: get, Path: "/tokens", Kind: web.Page, Access: in, Handler: h.showTokens},
		{Method: post, Path: "/tokens", Kind: web.Page, Access: in, Handler: h.createToken},
		{Method: get, Path: "/tokens/{id}/revoke", Kind: web.Page, Access: in, Handler: h.confirmRevokeToken},
		{Method: post, Path: "/tokens/{id}/revoke", Kind: web.Page, Access: in, Handler: h.revokeToken},
		{Method: post, Path: "/account/password", Kind: web.Page, Access: in, Handler: h.changePassword},
		// Any other address (every method: a method-less "/" is the only
		// catch-all that the "/api/" fallback still overrides) is the
		// layout's 404 page, not ServeMux's bare text.
		{Path: "/", Kind: web.Page, Access: public, Handler: h.noPage},
	}...)
	if d.SSO != nil {
		rs = append(rs, []web.Route{
			{Method: get, Path: "/settings/sso", Kind: web.Page, Access: in, Handler: h.showSSOSettings},
			{Method: post, Path: "/settings/sso", Kind: web.Page, Access: in, Handler: h.saveSSOSettings},
			{Method: get, Path: "/signed-out", Kind: web.Page, Access: public, Handler: h.signedOut},
			{Method: get, Path: "/auth/sso/link", Kind: web.Page, Access: public, Handler: h.showSSOLink},
			{Method: post, Path: "/auth/sso/link", Kind: web.Page, Access: public, Handler: h.confirmSSOLink},
		}...)
	}
	return rs
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
