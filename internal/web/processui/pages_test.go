package processui_test

// Fast tests of the process pages on fakes (fakes_test.go): what each
// viewer is shown, what the forms send or refuse, and where they lead.
// The whole handler runs (package web's authentication, CSRF and error
// pages included); the services are fakes that log their calls.

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/web/webtest"
)

// designOnly is the page a viewer without a design role gets for the
// editor, whatever the id.
const designOnly = "Designing processes needs the Administrator or Design business process role."

func TestPagesByViewer(t *testing.T) {
	for _, tt := range []struct {
		name    string
		as      webtest.Viewer
		path    string
		status  int
		want    []string
		notWant []string
		// calls are the service calls made, in order (nil: not checked).
		calls []string
	}{
		{name: "designer: list", as: designer, path: "/processes", status: 200,
			want: []string{`href="/processes/new"`, `<a href="/processes/p1">Onboarding</a>`, `<a href="/processes/p2">Leavers</a>`,
				`href="/instances/i-bob"`, `href="/instances/i-carol"`}},
		{name: "user: list without New process and others' instances", as: plainUser, path: "/processes", status: 200,
			want:    []string{`<a href="/processes/p1">Onboarding</a>`, `href="/instances/i-bob"`},
			notWant: []string{`href="/processes/new"`, `href="/instances/i-carol"`}},
		{name: "user: the start form", as: plainUser, path: "/processes/p1", status: 200,
			want: []string{"<h1>Onboarding</h1>", `name="f.department" type="text" value="" required`,
				`type="checkbox" id="f-manager" name="f.manager" value="true">`, `<textarea id="f-groups" name="f.groups"`,
				`action="/processes/p1/start"`, `name="csrf" value="bob-csrf"`, "Find the groups"},
			notWant: []string{`name="f.account"`, "Edit definition"},
			// The menu asks whether the viewer uses a data source.
			calls: []string{"Get p1", "Instances p1 20", "DataSources.List"}},
		{name: "designer: the start form links the editor", as: designer, path: "/processes/p1", status: 200,
			want: []string{`href="/processes/p1/edit">Edit definition`}},
		{name: "a trigger names its data source", as: plainUser, path: "/processes/p2", status: 200,
			want: []string{`Starts by itself when a user leaves in group &#34;Staff&#34; of data source Contoso`}},
		{name: "unknown process", as: plainUser, path: "/processes/nope", status: 404,
			want: []string{"Process &#34;nope&#34; not found"}, calls: []string{"Get nope"}},
		{name: "designer: the editor", as: designer, path: "/processes/p1/edit", status: 200,
			want: []string{"<title>Edit Onboarding", `&#34;name&#34;: &#34;Onboarding&#34;`, `&#34;datasource&#34;: &#34;ds1&#34;`}},
		{name: "designer: a new process starts from the example", as: designer, path: "/processes/new", status: 200,
			want: []string{"New process", `&#34;datasource&#34;: &#34;ds1&#34;`}},
		{name: "user: the editor of a known process", as: plainUser, path: "/processes/p1/edit", status: 403,
			want: []string{designOnly}, notWant: []string{"Onboarding"}, calls: []string{}},
		{name: "user: the editor of an unknown process alike", as: plainUser, path: "/processes/nope/edit", status: 403,
			want: []string{designOnly}, calls: []string{}},
		{name: "user: a new process", as: plainUser, path: "/processes/new", status: 403,
			want: []string{designOnly}, calls: []string{}},
		{name: "user: their own instance", as: plainUser, path: "/instances/i-bob", status: 200,
			want: []string{"<h1>Onboarding</h1>", "bob.new@example.com", `data-status="succeeded"`, "Find the groups"}},
		{name: "user: someone else's instance is not found", as: plainUser, path: "/instances/i-carol", status: 404,
			want: []string{"Process instance &#34;i-carol&#34; not found"}, notWant: []string{"Carol&#39;s secret"},
			calls: []string{"Instance i-carol"}},
		{name: "user: an unknown instance alike", as: plainUser, path: "/instances/nope", status: 404,
			want: []string{"Process instance &#34;nope&#34; not found"}, calls: []string{"Instance nope"}},
		{name: "designer: anyone's instance", as: designer, path: "/instances/i-carol", status: 200,
			want: []string{"Carol&#39;s secret"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			got := st.do(t, tt.as, "GET", tt.path, nil)
			if got.Status != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, got.Status, tt.status, got.Body)
			}
			webtest.CheckBody(t, got.Body, tt.want, tt.notWant)
			webtest.CheckCalls(t, tt.calls, *st.log)
		})
	}
}

// TestUnknownAndForbiddenAlike: a viewer who may not see a thing cannot
// tell it from one that does not exist — the pages answer the same,
// but for the id read back.
func TestUnknownAndForbiddenAlike(t *testing.T) {
	for _, pair := range [][2]string{
		{"/instances/i-carol", "/instances/nope"},
		{"/processes/p1/edit", "/processes/nope/edit"},
	} {
		st := newFakeStack(t)
		known, unknown := st.do(t, plainUser, "GET", pair[0], nil), st.do(t, plainUser, "GET", pair[1], nil)
		idOf := func(p string) string { return strings.Split(p, "/")[2] }
		known.Body = strings.ReplaceAll(known.Body, idOf(pair[0]), "ID")
		unknown.Body = strings.ReplaceAll(unknown.Body, idOf(pair[1]), "ID")
		if diff := cmp.Diff(unknown, known); diff != "" {
			t.Errorf("%s and %s differ (-unknown +known):\n%s", pair[0], pair[1], diff)
		}
	}
}

// TestStartForm: the generated form is read as the service expects
// (text as typed, a checkbox as a boolean, a table as its rows); a table
// that is not JSON is refused before starting, a refusal of the service
// is shown next to the values, and a start leads to its instance.
func TestStartForm(t *testing.T) {
	for _, tt := range []struct {
		name     string
		as       webtest.Viewer
		path     string
		form     url.Values
		status   int
		location string
		want     []string
		// started are the fields of the accepted start (nil: none).
		started map[string]any
		// tried: the page called Start at all.
		tried bool
	}{
		{name: "started", as: plainUser, path: "/processes/p1/start",
			form:   url.Values{"f.department": {"Sales"}, "f.manager": {"true"}, "f.groups": {`[{"id":"g1"}]`}},
			status: 303, location: "/instances/i-new", tried: true,
			started: map[string]any{"department": "Sales", "manager": true, "groups": []any{map[string]any{"id": "g1"}}}},
		{name: "an unticked box is false, an empty table left out", as: plainUser, path: "/processes/p1/start",
			form:   url.Values{"f.department": {"Sales"}, "f.groups": {"  "}},
			status: 303, location: "/instances/i-new", tried: true,
			started: map[string]any{"department": "Sales", "manager": false}},
		{name: "a read-only field is not read from the form", as: plainUser, path: "/processes/p1/start",
			form:   url.Values{"f.department": {"Sales"}, "f.account": {"forged"}},
			status: 303, location: "/instances/i-new", tried: true,
			started: map[string]any{"department": "Sales", "manager": false}},
		{name: "a table that is not JSON is refused before starting", as: plainUser, path: "/processes/p1/start",
			form:   url.Values{"f.department": {"Sales"}, "f.groups": {"g1, g2"}},
			status: 400,
			want:   []string{`role="alert">Groups: give the rows as a JSON array`, `name="f.groups" rows="4" aria-describedby="f-groups-hint">g1, g2</textarea>`, `value="Sales"`}},
		{name: "the service's refusal is shown with the values", as: plainUser, path: "/processes/p1/start",
			form:   url.Values{"f.department": {""}, "f.manager": {"true"}},
			status: 400, tried: true,
			want: []string{`role="alert">Department is required.`, `name="f.manager" value="true" checked>`}},
		{name: "an unknown process starts nothing", as: plainUser, path: "/processes/nope/start",
			form: url.Values{"f.department": {"Sales"}}, status: 404, want: []string{"Process &#34;nope&#34; not found"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			got := st.do(t, tt.as, "POST", tt.path, tt.form)
			webtest.CheckAnswer(t, "POST", tt.path, got, tt.status, tt.location)
			webtest.CheckBody(t, got.Body, tt.want, nil)
			if st.log.Has("Start") != tt.tried {
				t.Errorf("Start called: %t, want %t (calls %q)", !tt.tried, tt.tried, *st.log)
			}
			var want []map[string]any
			if tt.started != nil {
				want = []map[string]any{tt.started}
			}
			if diff := cmp.Diff(want, st.procs.started); diff != "" {
				t.Errorf("started (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEditorForms: the JSON editor stores a definition it can read and
// redirects, and otherwise shows why next to the text as typed, having
// stored nothing; a viewer without a design role stores nothing.
func TestEditorForms(t *testing.T) {
	const good = `{"name": "Movers", "fields": [{"name": "department", "type": "text"}], "rules": []}`
	movers := process.Definition{Name: "Movers", Fields: []process.Field{{Name: "department", Type: process.TypeText}}, Rules: []process.Rule{}}
	for _, tt := range []struct {
		name     string
		as       webtest.Viewer
		path     string
		form     url.Values
		status   int
		location string
		want     []string
		// stored is the definition under id afterwards (nil: none).
		id     string
		stored *process.Definition
		// call is a call that must (or, with !, must not) have been made.
		call string
	}{
		{name: "create", as: designer, path: "/processes", form: url.Values{"definition": {good}},
			status: 303, location: "/processes/p-new?done=created", id: "p-new", stored: &movers, call: "Create Movers"},
		{name: "create: not JSON", as: designer, path: "/processes", form: url.Values{"definition": {`{"name": "Movers",`}},
			status: 400, id: "p-new", call: "!Create",
			want: []string{`role="alert">The definition is not valid JSON for a process`, `>{&#34;name&#34;: &#34;Movers&#34;,</textarea>`}},
		{name: "create: an unknown field", as: designer, path: "/processes", form: url.Values{"definition": {`{"name": "Movers", "steps": []}`}},
			status: 400, id: "p-new", call: "!Create", want: []string{`unknown field &#34;steps&#34;`}},
		{name: "create: two objects", as: designer, path: "/processes", form: url.Values{"definition": {`{"name": "A"} {"name": "B"}`}},
			status: 400, id: "p-new", call: "!Create", want: []string{"The definition must be one JSON object."}},
		{name: "create: refused by the service", as: designer, path: "/processes", form: url.Values{"definition": {`{"name": " "}`}},
			status: 400, id: "p-new", call: "Create", want: []string{`role="alert">A process needs a name.`}},
		{name: "create: user without a design role", as: plainUser, path: "/processes", form: url.Values{"definition": {good}},
			status: 403, id: "p-new", call: "!Create", want: []string{designOnly}},
		{name: "save", as: designer, path: "/processes/p1/edit", form: url.Values{"definition": {good}},
			status: 303, location: "/processes/p1?done=saved", id: "p1", stored: &movers, call: "Update p1"},
		{name: "save: refused by the service keeps the old one", as: designer, path: "/processes/p1/edit", form: url.Values{"definition": {`{"name": ""}`}},
			status: 400, id: "p1", stored: &onboarding, call: "Update p1", want: []string{"A process needs a name.", "<title>Edit Onboarding"}},
		{name: "save: unknown process", as: designer, path: "/processes/nope/edit", form: url.Values{"definition": {good}},
			status: 404, id: "nope", call: "!Update"},
		{name: "save: user without a design role", as: plainUser, path: "/processes/p1/edit", form: url.Values{"definition": {good}},
			status: 403, id: "p1", stored: &onboarding, call: "!Get", want: []string{designOnly}},
		{name: "delete", as: designer, path: "/processes/p1/delete",
			status: 303, location: "/processes?done=deleted", id: "p1", call: "Delete p1"},
		{name: "delete: user without a design role", as: plainUser, path: "/processes/p1/delete",
			status: 403, id: "p1", stored: &onboarding, call: "Delete p1", want: []string{designOnly}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			got := st.do(t, tt.as, "POST", tt.path, tt.form)
			webtest.CheckAnswer(t, "POST", tt.path, got, tt.status, tt.location)
			webtest.CheckBody(t, got.Body, tt.want, nil)
			if call, not := strings.CutPrefix(tt.call, "!"); st.log.Has(call) == not {
				t.Errorf("call %q made: %t, want %t (calls %q)", call, not, !not, *st.log)
			}
			pr, ok := st.procs.processes[tt.id]
			switch {
			case tt.stored == nil && ok:
				t.Errorf("%s stored as %+v, want nothing", tt.id, pr.Definition)
			case tt.stored != nil && !ok:
				t.Errorf("%s not stored, want %+v", tt.id, *tt.stored)
			case tt.stored != nil:
				if diff := cmp.Diff(*tt.stored, pr.Definition); diff != "" {
					t.Errorf("%s stored (-want +got):\n%s", tt.id, diff)
				}
			}
		})
	}
}
