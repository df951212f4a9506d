package processui_test

// Fakes for the fast tests of the process pages (pages_test.go): the
// services behind processui.Deps and package web's Config, each
// embedding the interface it stands in for (a method no test expects
// panics) and logging its calls. No database, no simulator, no browser.
//
// The fakes refuse as process.Service does (docs/decisions/0023):
// creating, editing and deleting need a design role (403); everyone may
// read processes; an instance is visible to its starter and to
// designers, and to anyone else is not found, like an unknown id.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/processui"
	"github.com/tenantlink/tenantlink/internal/web/webtest"
)

// The fakes' viewers: a process designer and a plain user.
var (
	designer = webtest.Viewer{User: &tenantlink.User{ID: "u-dee", Email: "dee@example.com", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleUser, tenantlink.RoleDesignProcess}}, Cookie: "dee-cookie", CSRF: "dee-csrf"}
	plainUser = webtest.Viewer{User: &tenantlink.User{ID: "u-bob", Email: "bob@example.com", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleUser}}, Cookie: "bob-cookie", CSRF: "bob-csrf"}
)

// fakeDataSources knows one data source, Contoso (ds1).
type fakeDataSources struct {
	web.DataSources
	log *webtest.Calls
}

var contoso = &tenantlink.DataSource{ID: "ds1", Name: "Contoso"}

func (f fakeDataSources) List(context.Context, *tenantlink.Principal, string) ([]*tenantlink.DataSource, error) {
	f.log.Add("DataSources.List")
	return []*tenantlink.DataSource{contoso}, nil
}

func (f fakeDataSources) Get(_ context.Context, _ *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	f.log.Add("DataSources.Get %s", ref)
	if ref == contoso.ID {
		return contoso, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "data source %q not found", ref)
}

// fakeProcesses keeps processes and instances in maps; only what it
// accepted is stored.
type fakeProcesses struct {
	log       *webtest.Calls
	processes map[string]*process.Process
	instances map[string]*process.Instance
	// started are the fields of accepted starts.
	started []map[string]any
}

func (f *fakeProcesses) List(_ context.Context, _ *tenantlink.Principal) ([]*process.Process, error) {
	f.log.Add("List")
	var out []*process.Process
	for _, id := range []string{"p1", "p2"} {
		if p, ok := f.processes[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeProcesses) Get(_ context.Context, _ *tenantlink.Principal, id string) (*process.Process, error) {
	f.log.Add("Get %s", id)
	if p, ok := f.processes[id]; ok {
		return p, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "process %q not found", id)
}

func validate(def process.Definition) error {
	if strings.TrimSpace(def.Name) == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "A process needs a name.")
	}
	return nil
}

func (f *fakeProcesses) Create(_ context.Context, p *tenantlink.Principal, def process.Definition) (*process.Process, error) {
	f.log.Add("Create %s", def.Name)
	if err := process.CanDesign(p); err != nil {
		return nil, err
	}
	if err := validate(def); err != nil {
		return nil, err
	}
	pr := &process.Process{ID: "p-new", Definition: def}
	f.processes[pr.ID] = pr
	return pr, nil
}

func (f *fakeProcesses) Update(_ context.Context, p *tenantlink.Principal, id string, def process.Definition) (*process.Process, error) {
	f.log.Add("Update %s", id)
	if err := process.CanDesign(p); err != nil {
		return nil, err
	}
	if err := validate(def); err != nil {
		return nil, err
	}
	pr := &process.Process{ID: id, Definition: def}
	f.processes[id] = pr
	return pr, nil
}

func (f *fakeProcesses) Delete(_ context.Context, p *tenantlink.Principal, id string) error {
	f.log.Add("Delete %s", id)
	if err := process.CanDesign(p); err != nil {
		return err
	}
	if _, ok := f.processes[id]; !ok {
		return tenantlink.Errorf(tenantlink.ENOTFOUND, "process %q not found", id)
	}
	delete(f.processes, id)
	return nil
}

// Start refuses a start without a department, as a required field.
func (f *fakeProcesses) Start(_ context.Context, p *tenantlink.Principal, processID string, fields map[string]any) (*process.Instance, error) {
	f.log.Add("Start %s", processID)
	if v, _ := fields["department"].(string); v == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Department is required.")
	}
	f.started = append(f.started, fields)
	return &process.Instance{ID: "i-new", Process: processID}, nil
}

func (f *fakeProcesses) Instances(_ context.Context, p *tenantlink.Principal, processID string, limit int) ([]*process.Instance, error) {
	f.log.Add("Instances %s %d", processID, limit)
	var out []*process.Instance
	for _, id := range []string{"i-bob", "i-carol"} {
		in := f.instances[id]
		if (processID == "" || in.Process == processID) && (in.StartedBy == p.User.ID || process.CanDesign(p) == nil) {
			out = append(out, in)
		}
	}
	return out, nil
}

func (f *fakeProcesses) Instance(_ context.Context, p *tenantlink.Principal, id string) (*process.Instance, error) {
	f.log.Add("Instance %s", id)
	in, ok := f.instances[id]
	if !ok || in.StartedBy != p.User.ID && process.CanDesign(p) != nil {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "process instance %q not found", id)
	}
	return in, nil
}

// onboarding is p1: a required text, a checkbox, a table and a field
// only rules fill.
var onboarding = process.Definition{Name: "Onboarding", Description: "New starters.",
	Fields: []process.Field{
		{Name: "department", Label: "Department", Type: process.TypeText, Required: true},
		{Name: "manager", Label: "Is a manager", Type: process.TypeBoolean},
		{Name: "groups", Label: "Groups", Type: process.TypeTable, Columns: []process.Column{{Name: "id"}}},
		{Name: "account", Label: "Account", Type: process.TypeText, ReadOnly: true},
	},
	Rules: []process.Rule{{Title: "Find the groups", DataSource: "ds1", Operation: "FindGroups"}},
}

// fakeStack is processui's routes on the fakes, behind package web's
// authentication, CSRF and error pages.
type fakeStack struct {
	handler http.Handler
	log     *webtest.Calls
	procs   *fakeProcesses
}

func newFakeStack(t *testing.T) *fakeStack {
	t.Helper()
	log := &webtest.Calls{}
	started := webtest.Now.Add(-time.Hour)
	procs := &fakeProcesses{log: log,
		processes: map[string]*process.Process{
			"p1": {ID: "p1", Definition: onboarding},
			"p2": {ID: "p2", Definition: process.Definition{Name: "Leavers",
				Trigger: &process.Trigger{Event: process.EventMemberRemoved, DataSource: "ds1", Group: "Staff"}}},
		},
		instances: map[string]*process.Instance{
			"i-bob": {ID: "i-bob", Process: "p1", ProcessName: "Onboarding", Status: process.StatusSucceeded, StartedBy: plainUser.User.ID, StartedAt: started,
				Fields: map[string]any{"department": "Sales", "manager": true, "account": "bob.new@example.com"},
				Rules:  []process.Outcome{{Title: "Find the groups", Operation: "FindGroups", Outcome: "succeeded", Items: 2}}},
			"i-carol": {ID: "i-carol", Process: "p1", ProcessName: "Onboarding", Status: process.StatusSucceeded, StartedBy: "u-carol", StartedAt: started,
				Fields: map[string]any{"department": "Carol's secret"}},
		},
	}
	dss := fakeDataSources{log: log}
	s := web.New(web.Config{Directory: webtest.Directory{Viewers: []webtest.Viewer{designer, plainUser}}, DataSources: dss, Now: func() time.Time { return webtest.Now }})
	s.Mount(processui.Routes(processui.Deps{Processes: procs, DataSources: dss})...)
	return &fakeStack{handler: s.Handler(), log: log, procs: procs}
}

// do sends a request as v (webtest.Do).
func (st *fakeStack) do(t *testing.T, v webtest.Viewer, method, target string, form url.Values) webtest.Answer {
	t.Helper()
	return webtest.Do(t, st.handler, v, method, target, form)
}
