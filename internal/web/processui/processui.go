// Package processui owns the process pages: the Processes list
// (/processes), a process's start page with a form generated from its
// fields (/processes/{id}), the definition editor for designers (JSON in
// a textarea, validation problems shown above it) and the instance page
// (/instances/{id}) with the final fields and each rule's outcome. The
// pages call the same process.Service methods as the JSON API, work
// without JavaScript and use package page's layout and menu and package
// ui's stylesheet.
package processui

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

// Deps are what the pages call: package app hands in the services
// (process.Service, datasource.Service), the tests of this package small
// fakes.
type Deps struct {
	Processes   Processes
	DataSources DataSources
	Logger      *slog.Logger
}

// Processes is what the pages call of the process service
// (process.Service): the same methods as the JSON API.
type Processes interface {
	List(ctx context.Context, p *tenantlink.Principal) ([]*process.Process, error)
	Create(ctx context.Context, p *tenantlink.Principal, def process.Definition) (*process.Process, error)
	Get(ctx context.Context, p *tenantlink.Principal, id string) (*process.Process, error)
	Update(ctx context.Context, p *tenantlink.Principal, id string, def process.Definition) (*process.Process, error)
	Delete(ctx context.Context, p *tenantlink.Principal, id string) error
	Start(ctx context.Context, p *tenantlink.Principal, processID string, fields map[string]any) (*process.Instance, error)
	Instances(ctx context.Context, p *tenantlink.Principal, processID string, limit int) ([]*process.Instance, error)
	Instance(ctx context.Context, p *tenantlink.Principal, id string) (*process.Instance, error)
}

// DataSources is what the pages read of the data sources
// (datasource.Service): the ones the viewer may use (the menu, the
// editor's example) and one by id or name (a trigger's data source).
type DataSources interface {
	List(ctx context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error)
	Get(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error)
}

type handler struct {
	Deps
	pages map[string]*template.Template
	site  *page.Site
}

// Routes is this package's part of the route table (see web.Route).
func Routes(d Deps) []web.Route {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Deps: d, pages: page.MustParseAll(templateFS, "templates", funcs),
		site: &page.Site{UsableDataSources: d.DataSources.List, Logger: d.Logger}}
	const get, post, in = "GET", "POST", web.SignedIn
	return []web.Route{
		{Method: get, Path: "/processes", Kind: web.Page, Access: in, Handler: h.list},
		{Method: get, Path: "/processes/new", Kind: web.Page, Access: in, Handler: h.newProcess},
		{Method: post, Path: "/processes", Kind: web.Page, Access: in, Handler: h.create},
		{Method: get, Path: "/processes/{id}", Kind: web.Page, Access: in, Handler: h.show},
		{Method: post, Path: "/processes/{id}/start", Kind: web.Page, Access: in, Handler: h.start},
		{Method: get, Path: "/processes/{id}/edit", Kind: web.Page, Access: in, Handler: h.edit},
		{Method: post, Path: "/processes/{id}/edit", Kind: web.Page, Access: in, Handler: h.save},
		{Method: post, Path: "/processes/{id}/delete", Kind: web.Page, Access: in, Handler: h.remove},
		{Method: get, Path: "/instances/{id}", Kind: web.Page, Access: in, Handler: h.instance},
	}
}

var funcs = template.FuncMap{
	"cell": cell,
	"rows": func(v any) []map[string]any {
		list, _ := v.([]any)
		out := make([]map[string]any, 0, len(list))
		for _, r := range list {
			if m, ok := r.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	},
	"index1": func(i int) int { return i + 1 },
}

// cell shows a field value as text: numbers without exponent, booleans
// as Yes/No, empty as nothing.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// notice is a notification at the top of a page.
type notice = page.Notice

// view is a process page: the shared page plus what the process
// templates ask of the viewer.
type view struct{ *page.Page }

// CanDesign reports whether the viewer may create and edit processes.
func (v view) CanDesign() bool { return process.CanDesign(v.Principal) == nil }

func (h *handler) newPage(r *http.Request, title string, data any) view {
	return view{h.site.New(r, title, "processes", data)}
}

func (h *handler) render(w http.ResponseWriter, status int, name string, v view) error {
	return h.site.Render(w, status, h.pages[name], v)
}

// refused reports whether err is one the page shows next to the form
// (bad input, a conflict) rather than as an error page.
func refused(err error) bool {
	switch tenantlink.ErrorCode(err) {
	case tenantlink.EINVALID, tenantlink.ECONFLICT:
		return true
	}
	return false
}

type listData struct {
	Processes []*process.Process
	Instances []*process.Instance
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	p := h.newPage(r, "Processes", nil)
	list, err := h.Processes.List(r.Context(), p.Principal)
	if err != nil {
		return err
	}
	// Recent instances the viewer may see: their own, or all for designers.
	inst, err := h.Processes.Instances(r.Context(), p.Principal, "", 20)
	if err != nil {
		return err
	}
	p.Data = listData{Processes: list, Instances: inst}
	if r.URL.Query().Get("done") == "deleted" {
		p.Notices = append(p.Notices, notice{Message: "Process deleted."})
	}
	return h.render(w, http.StatusOK, "process_list", p)
}

// formField is one generated form control.
type formField struct {
	process.Field
	ID    string // HTML id
	Input string // the form name: "f." + field name
	Value string // as text for the control
	Check bool   // boolean fields
}

type startData struct {
	Process   *process.Process
	Form      []formField
	Instances []*process.Instance
	// Trigger says in words when the process starts by itself ("" when
	// it has no trigger).
	Trigger string
}

// eventWords are the trigger events as the pages say them.
var eventWords = map[string]string{
	process.EventMemberAdded:   "a user joins",
	process.EventMemberRemoved: "a user leaves",
	process.EventUserCreated:   "a user is created",
	process.EventUserDisabled:  "a user is disabled",
}

// triggerText describes a trigger, naming its data source as the viewer
// may see it (its id otherwise).
func (h *handler) triggerText(r *http.Request, t *process.Trigger) string {
	if t == nil {
		return ""
	}
	ds := t.DataSource
	if d, err := h.DataSources.Get(r.Context(), web.PrincipalFrom(r.Context()), t.DataSource); err == nil {
		ds = d.Name
	}
	words := eventWords[t.Event]
	if words == "" {
		words = t.Event
	}
	out := fmt.Sprintf("Starts by itself when %s", words)
	if t.Group != "" {
		out += fmt.Sprintf(" in group %q", t.Group)
		if t.GroupID != "" && !strings.EqualFold(t.GroupID, t.Group) {
			out += " (" + t.GroupID + ")"
		}
	}
	return out + fmt.Sprintf(" of data source %s, as a group member sync of it sees it (event %s).", ds, t.Event)
}

func formFields(def *process.Definition, values map[string]string) []formField {
	out := make([]formField, 0, len(def.Fields))
	for _, f := range def.Fields {
		if f.ReadOnly {
			continue
		}
		ff := formField{Field: f, ID: "f-" + f.Name, Input: "f." + f.Name}
		v, ok := values[f.Name]
		if !ok && f.Default != nil {
			if f.Type == process.TypeTable {
				b, _ := json.Marshal(f.Default)
				v = string(b)
			} else {
				v = cell(f.Default)
			}
		}
		ff.Value = v
		if f.Type == process.TypeBoolean {
			ff.Check = ok && v != "" && v != "false" || !ok && f.Default == true
		}
		out = append(out, ff)
	}
	return out
}

func (h *handler) startPage(w http.ResponseWriter, r *http.Request, status int, values map[string]string, errMsg string) error {
	ctx := r.Context()
	p := h.newPage(r, "", nil)
	pr, err := h.Processes.Get(ctx, p.Principal, r.PathValue("id"))
	if err != nil {
		return err
	}
	inst, err := h.Processes.Instances(ctx, p.Principal, pr.ID, 20)
	if err != nil {
		return err
	}
	p.Title = pr.Name
	p.Data = startData{Process: pr, Form: formFields(&pr.Definition, values), Instances: inst, Trigger: h.triggerText(r, pr.Trigger)}
	if errMsg != "" {
		p.Notices = append(p.Notices, notice{Message: errMsg, Error: true})
	}
	switch r.URL.Query().Get("done") {
	case "created":
		p.Notices = append(p.Notices, notice{Message: "Process created."})
	case "saved":
		p.Notices = append(p.Notices, notice{Message: "Process saved."})
	}
	return h.render(w, status, "process_start", p)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) error {
	return h.startPage(w, r, http.StatusOK, nil, "")
}

// start reads the generated form: text as submitted (the service converts
// numbers, dates and booleans), an unticked checkbox as false and a table
// as its JSON rows.
func (h *handler) start(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := web.PrincipalFrom(ctx)
	pr, err := h.Processes.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	values := map[string]string{}
	submitted := map[string]any{}
	for _, f := range pr.Fields {
		if f.ReadOnly {
			continue
		}
		raw, given := r.PostForm["f."+f.Name]
		v := ""
		if given && len(raw) > 0 {
			v = raw[0]
		}
		values[f.Name] = v
		switch f.Type {
		case process.TypeBoolean:
			submitted[f.Name] = given && v != "" && v != "false"
		case process.TypeTable:
			if strings.TrimSpace(v) == "" {
				continue
			}
			var rows any
			if err := json.Unmarshal([]byte(v), &rows); err != nil {
				return h.startPage(w, r, http.StatusBadRequest, values,
					fmt.Sprintf("%s: give the rows as a JSON array of objects keyed by column (%s).", f.Title(), err.Error()))
			}
			submitted[f.Name] = rows
		default:
			if given {
				submitted[f.Name] = v
			}
		}
	}
	inst, err := h.Processes.Start(ctx, p, pr.ID, submitted)
	if refused(err) {
		return h.startPage(w, r, http.StatusBadRequest, values, tenantlink.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/instances/"+inst.ID, http.StatusSeeOther)
	return nil
}

type editData struct {
	Process *process.Process // nil for a new process
	JSON    string
	Example string
}

func indent(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// example is the starting point of a new definition: one field, one rule.
func (h *handler) example(r *http.Request) string {
	dsID := "<data source id>"
	if list, err := h.DataSources.List(r.Context(), web.PrincipalFrom(r.Context()), ""); err == nil && len(list) > 0 {
		dsID = list[0].ID
	}
	q := "{{department}}"
	return indent(process.Definition{
		Name:   "New process",
		Fields: []process.Field{{Name: "department", Label: "Department", Type: process.TypeText, Required: true}, {Name: "groups", Label: "Groups", Type: process.TypeTable, Columns: []process.Column{{Name: "id"}, {Name: "displayName", Label: "Name"}}}},
		Rules: []process.Rule{{Title: "Find the department's groups", DataSource: dsID, Operation: "FindGroups",
			Inputs:  map[string]process.Source{"query": {Text: &q}},
			Success: map[string]process.Source{"groups": {Rows: process.RowsOverride}}}},
	})
}

func (h *handler) editPage(w http.ResponseWriter, r *http.Request, status int, pr *process.Process, body, errMsg string) error {
	p := h.newPage(r, "New process", nil)
	if pr != nil {
		p.Title = "Edit " + pr.Name
	}
	if err := process.CanDesign(p.Principal); err != nil {
		return err
	}
	p.Data = editData{Process: pr, JSON: body, Example: h.example(r)}
	if errMsg != "" {
		p.Notices = append(p.Notices, notice{Message: errMsg, Error: true})
	}
	return h.render(w, status, "process_edit", p)
}

func (h *handler) newProcess(w http.ResponseWriter, r *http.Request) error {
	// Permission first: nothing is read for a viewer who may not design.
	if err := process.CanDesign(web.PrincipalFrom(r.Context())); err != nil {
		return err
	}
	return h.editPage(w, r, http.StatusOK, nil, h.example(r), "")
}

// definitionFromForm decodes the textarea strictly, as the API does.
func definitionFromForm(r *http.Request) (string, process.Definition, error) {
	body := r.PostFormValue("definition")
	var def process.Definition
	if len(body) > web.MaxBody {
		return body, def, tenantlink.Errorf(tenantlink.ETOOLARGE, "the definition is larger than %d bytes", web.MaxBody)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return body, def, tenantlink.Errorf(tenantlink.EINVALID, "The definition is not valid JSON for a process: %s", err.Error())
	}
	if dec.More() {
		return body, def, tenantlink.Errorf(tenantlink.EINVALID, "The definition must be one JSON object.")
	}
	return body, def, nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	if err := process.CanDesign(p); err != nil {
		return err
	}
	body, def, err := definitionFromForm(r)
	if err == nil {
		var pr *process.Process
		pr, err = h.Processes.Create(r.Context(), p, def)
		if err == nil {
			http.Redirect(w, r, "/processes/"+pr.ID+"?done=created", http.StatusSeeOther)
			return nil
		}
	}
	if refused(err) {
		return h.editPage(w, r, http.StatusBadRequest, nil, body, tenantlink.ErrorMessage(err))
	}
	return err
}

func (h *handler) edit(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	if err := process.CanDesign(p); err != nil {
		return err
	}
	pr, err := h.Processes.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.editPage(w, r, http.StatusOK, pr, indent(pr.Definition), "")
}

func (h *handler) save(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	if err := process.CanDesign(p); err != nil {
		return err
	}
	pr, err := h.Processes.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	body, def, err := definitionFromForm(r)
	if err == nil {
		_, err = h.Processes.Update(r.Context(), p, pr.ID, def)
		if err == nil {
			http.Redirect(w, r, "/processes/"+pr.ID+"?done=saved", http.StatusSeeOther)
			return nil
		}
	}
	if refused(err) {
		return h.editPage(w, r, http.StatusBadRequest, pr, body, tenantlink.ErrorMessage(err))
	}
	return err
}

func (h *handler) remove(w http.ResponseWriter, r *http.Request) error {
	if err := h.Processes.Delete(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/processes?done=deleted", http.StatusSeeOther)
	return nil
}

// instanceField pairs a field's definition with its final value.
type instanceField struct {
	process.Field
	Value any
}

type instanceData struct {
	Instance *process.Instance
	Process  *process.Process
	Fields   []instanceField
}

func (h *handler) instance(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := h.newPage(r, "Instance", nil)
	in, err := h.Processes.Instance(ctx, p.Principal, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := instanceData{Instance: in}
	if pr, err := h.Processes.Get(ctx, p.Principal, in.Process); err == nil {
		d.Process = pr
		for _, f := range pr.Fields {
			d.Fields = append(d.Fields, instanceField{Field: f, Value: in.Fields[f.Name]})
		}
	}
	if d.Process == nil {
		// The definition changed shape or is unreadable: show the values
		// by name rather than nothing.
		for _, k := range sortedKeys(in.Fields) {
			d.Fields = append(d.Fields, instanceField{Field: process.Field{Name: k, Type: process.TypeText}, Value: in.Fields[k]})
		}
	}
	p.Title = in.ProcessName + " – instance"
	p.Data = d
	return h.render(w, http.StatusOK, "instance", p)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
