package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

// opPanel feeds the "Run an operation" panel, on the details page and on
// the operations page of its own (for connection users who may not open
// the details page).
type opPanel struct {
	DS *tenantlink.DataSource
	// Here is the page the operation chooser reloads (GET ?op=).
	Here       string
	Operations []connector.Operation
	Selected   *connector.Operation
	// Values are the inputs as the form last carried them, as text.
	Values map[string]string
	Ran    bool
	Items  []connector.Item
	Error  string
	CSRF   string
	// WritesHidden says why the write operations are not offered (the
	// viewer's rights or the data source's Read and write setting); empty
	// when they are.
	WritesHidden string
}

// opsPageData feeds the operations page.
type opsPageData struct {
	Panel *opPanel
	// CanAdminister links back to the details page for those who may see it.
	CanAdminister bool
}

// Value is the text of input name to show in the form: what was sent,
// else the declared default.
func (p *opPanel) Value(in connector.Param) string {
	if v, ok := p.Values[in.Name]; ok {
		return v
	}
	return in.Default
}

// Reads and Writes split the declared operations for the chooser's
// option groups, so that the write operations stand apart.
func (p *opPanel) Reads() []connector.Operation  { return p.filter(false) }
func (p *opPanel) Writes() []connector.Operation { return p.filter(true) }

func (p *opPanel) filter(write bool) []connector.Operation {
	var out []connector.Operation
	for _, o := range p.Operations {
		if o.Write == write {
			out = append(out, o)
		}
	}
	return out
}

// RunAction is where the panel's Run form posts.
func (p *opPanel) RunAction() string {
	return "/datasources/" + url.PathEscape(p.DS.ID) + "/operations"
}

// OutputsJSON lists the selected operation's output columns for the
// script that renders results without a reload.
func (p *opPanel) OutputsJSON() string {
	if p.Selected == nil {
		return "[]"
	}
	type col struct {
		Name  string `json:"name"`
		Label string `json:"label"`
		Type  string `json:"type,omitempty"`
		// Wrap is the column's CSS class: "wrap-any" for ids and
		// addresses, which may break anywhere, "" for words.
		Wrap string `json:"wrap,omitempty"`
	}
	cols := make([]col, len(p.Selected.Outputs))
	for i, o := range p.Selected.Outputs {
		cols[i] = col{o.Name, o.Label, o.Type, wrapClass(o.Name)}
	}
	b, _ := json.Marshal(cols) // strings only: cannot fail
	return string(b)
}

// ItemsJSON is the result for the results script (paging, sorting,
// columns, downloads): json.Marshal escapes <, > and &, so the text
// cannot end the script element it sits in.
func (p *opPanel) ItemsJSON() template.JS {
	items := p.Items
	if items == nil {
		items = []connector.Item{}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return "[]"
	}
	return template.JS(b)
}

// wrapClass is the CSS class of an output column: ids and addresses are
// long unbroken tokens that may wrap anywhere; names and other words
// never break inside a word (the table scrolls sideways instead).
func wrapClass(name string) string {
	switch {
	case name == "id", strings.HasSuffix(name, "Id"), name == "userPrincipalName", name == "mail", name == "user",
		name == "skuId", name == "mailNickname":
		return "wrap-any"
	}
	return ""
}

// newOpPanel lists ds's operations and selects the one named op, if any.
// It returns nil when p may not run ds's operations, so that pages leave
// the panel out rather than show a form that can only be refused.
func (h *handler) newOpPanel(r *http.Request, ds *tenantlink.DataSource, here, op string) (*opPanel, error) {
	pr := web.PrincipalFrom(r.Context())
	if datasource.CanUse(pr, ds) != nil {
		return nil, nil
	}
	ops, err := h.Operations.Operations(r.Context(), pr, ds.ID)
	if tenantlink.ErrorCode(err) == tenantlink.EINVALID {
		return nil, nil // a connector type without operations
	}
	if err != nil {
		return nil, err
	}
	p := &opPanel{DS: ds, Here: here, Values: map[string]string{}, CSRF: web.CSRFToken(r.Context())}
	// Offer only what the viewer may run, and say why the rest is missing.
	for _, o := range ops {
		if !o.Write {
			p.Operations = append(p.Operations, o)
			continue
		}
		if err := datasource.CheckOperation(pr, nil, ds, o); err != nil {
			if p.WritesHidden == "" {
				p.WritesHidden = writesHidden(pr, ds)
			}
			continue
		}
		p.Operations = append(p.Operations, o)
	}
	if op != "" {
		for i := range p.Operations {
			if p.Operations[i].Name == op {
				p.Selected = &p.Operations[i]
			}
		}
		if p.Selected == nil && slices.ContainsFunc(ops, func(o connector.Operation) bool { return o.Name == op }) {
			p.Error = fmt.Sprintf("You may not run %s here: %s", op, p.WritesHidden)
		} else if p.Selected == nil {
			p.Error = fmt.Sprintf("Data source %q has no operation %q: choose one from the list.", ds.Name, op)
		}
	}
	return p, nil
}

// writesHidden is why the panel leaves out the write operations.
func writesHidden(pr *tenantlink.Principal, ds *tenantlink.DataSource) string {
	if datasource.CanWrite(pr, ds) != nil {
		return datasource.MsgNeedWriter
	}
	return "Write operations are not offered while Read and write users & groups is off in the data source's settings."
}

func (h *handler) showOperations(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	ds, err := h.DataSources.Get(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := datasource.CanUse(pr, ds); err != nil {
		return err
	}
	panel, err := h.newOpPanel(r, ds, "/datasources/"+url.PathEscape(ds.ID)+"/operations", r.URL.Query().Get("op"))
	if err != nil {
		return err
	}
	if panel == nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "%s data sources offer no operations.", ds.Type)
	}
	return h.renderOperations(w, r, http.StatusOK, panel)
}

func (h *handler) renderOperations(w http.ResponseWriter, r *http.Request, status int, panel *opPanel) error {
	d := opsPageData{Panel: panel, CanAdminister: datasource.CanAdminister(web.PrincipalFrom(r.Context()), panel.DS) == nil}
	p := h.newPage(r, "Operations of "+panel.DS.Name, "", d)
	p.Script = resultsScript
	return h.render(w, status, "datasource_operations", p)
}

// resultsScript pages, sorts and exports the panel's results.
const resultsScript = "/static/results.js"

// cell shows one output value as text: lists joined, booleans as Yes/No,
// anything else as JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return strings.Join(x, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ", ")
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = cell(rv.Index(i).Interface())
		}
		return strings.Join(parts, ", ")
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
