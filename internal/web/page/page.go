// Package page owns what every server-rendered page of tenantlink shares:
// the layout (header with the product name, the Administration menu, the
// signed-in user and Sign out, notifications), the navigation model that
// decides which menu entries a viewer sees, the template functions common
// to all pages and the render helper. Packages ui, syncui and processui
// build their pages on it, so that the menu is the same everywhere and is
// decided in one place.
package page

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web"
)

//go:embed layout.html error.html
var layoutFS embed.FS

var errorTemplate = template.Must(template.New("error").Funcs(Funcs()).ParseFS(layoutFS, "layout.html", "error.html"))

// Notice is a notification shown at the top of the page. Errors are
// announced with role=alert, everything else with role=status.
type Notice struct {
	Message string
	Error   bool
}

// MenuItem is one entry of the Administration menu.
type MenuItem struct {
	Key   string // matched against Page.Nav to mark the current page
	Label string
	Href  string
}

// Page is what the layout needs plus the page's own Data. Packages that
// need more per-page methods embed it.
type Page struct {
	Title     string
	Nav       string // the Key of the menu entry this page belongs to
	Principal *tenantlink.Principal
	CSRF      string
	Notices   []Notice
	Script    string // an extra script for this page, if any
	Data      any

	ctx  context.Context
	site *Site
	menu struct {
		once  sync.Once
		items []MenuItem
	}
}

// IsAdmin reports whether the viewer is an Administrator.
func (p *Page) IsAdmin() bool { return p.Principal.Has(tenantlink.RoleAdministrator) }

// Menu is the Administration menu as the viewer may use it, worked out
// once per page.
func (p *Page) Menu() []MenuItem {
	p.menu.once.Do(func() { p.menu.items = p.site.menu(p.ctx, p.Principal) })
	return p.menu.items
}

// Notify adds a notification; isError marks it as an error.
func (p *Page) Notify(message string, isError bool) {
	p.Notices = append(p.Notices, Notice{Message: message, Error: isError})
}

// Site is the navigation model and renderer shared by every page package.
type Site struct {
	// UsableDataSources lists the data sources the viewer may use or
	// administer (datasource.Service.List). It decides whether a user
	// without a data source role sees Data sources: a connection user of
	// any data source does. Nil: only role holders see it.
	UsableDataSources func(ctx context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error)
	Logger            *slog.Logger
}

// New starts a page for request r.
func (s *Site) New(r *http.Request, title, nav string, data any) *Page {
	return &Page{Title: title, Nav: nav, Principal: web.PrincipalFrom(r.Context()), CSRF: web.CSRFToken(r.Context()), Data: data, ctx: r.Context(), site: s}
}

// The Administration menu, in order; who sees each entry is decided in
// menu.
var entries = []MenuItem{
	{"datasources", "Data sources", "/datasources"},
	{"users", "Users", "/users"},
	{"groups", "Groups", "/groups"},
	{"tasks", "Scheduled tasks", "/tasks"},
	{"processes", "Processes", "/processes"},
	{"sso", "Single sign-on", "/settings/sso"},
	{"tokens", "API tokens", "/tokens"},
	{"audit", "Audit log", "/audit"},
}

// menu keeps the entries p may use, so that nobody is shown a link that
// only answers 403. It mirrors the services' checks: directory, tasks and
// single sign-on are the Administrator's; data sources are for their
// managers and for anyone who is a connection user of one; every signed-in
// user may run processes and manage their API tokens.
func (s *Site) menu(ctx context.Context, p *tenantlink.Principal) []MenuItem {
	if p == nil || p.User == nil {
		return nil
	}
	admin := p.Has(tenantlink.RoleAdministrator)
	var out []MenuItem
	for _, e := range entries {
		var ok bool
		switch e.Key {
		case "datasources":
			ok = admin || p.Has(tenantlink.RoleManageDatasources) || s.usesDataSources(ctx, p)
		case "processes", "tokens":
			ok = true
		case "audit":
			// Everyone has an audit log: their own entries, or all of
			// them for an Administrator.
			ok = true
		default:
			ok = admin
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

func (s *Site) usesDataSources(ctx context.Context, p *tenantlink.Principal) bool {
	if s == nil || s.UsableDataSources == nil {
		return false
	}
	list, err := s.UsableDataSources(ctx, p, "")
	if err != nil {
		// The menu is not worth failing a page for; the entry is left out.
		s.logger().Warn("page: list data sources for the menu", "err", err)
		return false
	}
	return len(list) > 0
}

func (s *Site) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Render executes t's "layout" with v (a *Page, or a value embedding
// one) into a buffer first, so that a template error becomes a clean error
// page instead of half a page.
func (s *Site) Render(w http.ResponseWriter, status int, t *template.Template, v any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", t.Name(), err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// ErrorPage shows e in the layout: the menu as the viewer may use it, the
// signed-in user, what happened and the ways back (the page the viewer
// came from, the menu entry whose area the failed page belongs to, Home).
// Package ui sets it as the server's error page (web.Server.SetErrorPage).
func (s *Site) ErrorPage(w http.ResponseWriter, r *http.Request, e web.PageError) error {
	data := struct {
		web.PageError
		Section *MenuItem
	}{PageError: e}
	p := s.New(r, e.Title, "", &data)
	for _, m := range p.Menu() {
		if r.URL.Path == m.Href || strings.HasPrefix(r.URL.Path, m.Href+"/") {
			m := m
			data.Section, p.Nav = &m, m.Key
			break
		}
	}
	if data.Section != nil && data.Section.Href == e.Back {
		data.Section = nil // the same link twice
	}
	return s.Render(w, e.Status, errorTemplate, p)
}

// Funcs are the template functions every page may use.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"when": Time,
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
}

// TimeLayout is the one date format of the UI, in UTC on the server; the
// layout's script rewrites every <time data-local> into the same format in
// the viewer's time zone.
const TimeLayout = "2 Jan 2006, 15:04"

// Time renders a time.Time or *time.Time as <time data-local
// datetime="ISO 8601">2 Dec 2026, 16:53 UTC</time>, and the zero time or
// nil as nothing. Every page shows times through it, so that they look the
// same everywhere and move to the viewer's zone together.
func Time(t any) template.HTML {
	var v time.Time
	switch x := t.(type) {
	case time.Time:
		v = x
	case *time.Time:
		if x != nil {
			v = *x
		}
	}
	if v.IsZero() {
		return ""
	}
	v = v.UTC()
	return template.HTML(`<time data-local datetime="` + v.Format(time.RFC3339) + `">` + v.Format(TimeLayout) + ` UTC</time>`)
}

// When formats a time.Time or *time.Time in UTC with layout, and the zero
// time or nil as nothing.
func When(t any, layout string) string {
	switch v := t.(type) {
	case time.Time:
		if !v.IsZero() {
			return v.UTC().Format(layout)
		}
	case *time.Time:
		if v != nil && !v.IsZero() {
			return v.UTC().Format(layout)
		}
	}
	return ""
}

// ParseAll parses every dir/*.html of fsys as a page with the layout and
// the partials (files named _*.html), keyed by file name without ".html";
// funcs add to or replace Funcs.
func ParseAll(fsys fs.FS, dir string, funcs template.FuncMap) (map[string]*template.Template, error) {
	all := Funcs()
	for k, f := range funcs {
		all[k] = f
	}
	names, err := fs.Glob(fsys, path.Join(dir, "*.html"))
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(fsys, path.Join(dir, "_*.html"))
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(all).ParseFS(layoutFS, "layout.html")
		if err != nil {
			return nil, fmt.Errorf("parse layout: %w", err)
		}
		if t, err = t.ParseFS(fsys, append([]string{n}, partials...)...); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// MustParseAll is ParseAll for embedded templates, where an error is a
// bug caught by any test.
func MustParseAll(fsys fs.FS, dir string, funcs template.FuncMap) map[string]*template.Template {
	pages, err := ParseAll(fsys, dir, funcs)
	if err != nil {
		panic(err)
	}
	return pages
}
