package syncui_test

// Fakes for the fast tests of the pages (pages_test.go): the services
// behind syncui.Deps and package web's Config, each embedding the
// interface it stands in for (a method no test expects panics) and
// recording its calls in one log. No database, no simulator, no browser.
//
// The fakes refuse as the services do (docs/decisions/0023): groups,
// group sync and tasks need the Administrator role, checked before any
// look-up, so a user without it gets the same 403 for a group that
// exists and one that does not.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/syncui"
	"github.com/tenantlink/tenantlink/internal/web/webtest"
)

// The fakes' viewers: an Administrator, a plain user, and no one.
var (
	adminViewer = webtest.Viewer{User: &tenantlink.User{ID: "u-admin", Email: "admin@example.com", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleAdministrator}}, Cookie: "admin-cookie", CSRF: "admin-csrf"}
	userViewer = webtest.Viewer{User: &tenantlink.User{ID: "u-bob", Email: "bob@example.com", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleUser}}, Cookie: "bob-cookie", CSRF: "bob-csrf"}
	anonymous = webtest.Viewer{}
)

// fakeDirectory knows the two viewers' sessions, their users and Ann,
// and the groups in groups.
type fakeDirectory struct {
	webtest.Directory
	log    *webtest.Calls
	users  map[string]*tenantlink.User
	groups map[string]*tenantlink.Group
}

func (f *fakeDirectory) GetGroup(_ context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error) {
	f.log.Add("GetGroup %s", id)
	if err := webtest.RequireAdmin(p, "reading groups"); err != nil {
		return nil, err
	}
	if g, ok := f.groups[id]; ok {
		return g, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "group %q not found", id)
}

func (f *fakeDirectory) GetUser(_ context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error) {
	f.log.Add("GetUser %s", id)
	if p.User.ID != id {
		if err := webtest.RequireAdmin(p, "reading other users"); err != nil {
			return nil, err
		}
	}
	if u, ok := f.users[id]; ok {
		return u, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "user %q not found", id)
}

// fakeDataSources is the menu's list: one data source for everyone.
type fakeDataSources struct {
	web.DataSources
}

func (fakeDataSources) List(context.Context, *tenantlink.Principal, string) ([]*tenantlink.DataSource, error) {
	return []*tenantlink.DataSource{{ID: "ds1", Name: "Contoso"}}, nil
}

// fakeTasks is the scheduler: tasks by id; a task or group in already
// has a run queued.
type fakeTasks struct {
	web.Tasks
	log     *webtest.Calls
	tasks   map[string]*tasks.Task
	already map[string]bool
	// refuse is the error SyncGroup answers for a group, if any.
	refuse map[string]error
}

func (f *fakeTasks) ListTasks(_ context.Context, p *tenantlink.Principal) ([]*tasks.Task, error) {
	f.log.Add("ListTasks")
	if err := webtest.RequireAdmin(p, "scheduled tasks"); err != nil {
		return nil, err
	}
	var out []*tasks.Task
	for _, t := range f.tasks {
		out = append(out, t)
	}
	return out, nil
}

func (f *fakeTasks) RunNow(_ context.Context, p *tenantlink.Principal, id string) (*tasks.Enqueued, error) {
	f.log.Add("RunNow %s", id)
	if err := webtest.RequireAdmin(p, "scheduled tasks"); err != nil {
		return nil, err
	}
	if _, ok := f.tasks[id]; !ok {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "task %q not found", id)
	}
	return &tasks.Enqueued{JobID: 1, Already: f.already[id]}, nil
}

func (f *fakeTasks) TaskForGroup(_ context.Context, p *tenantlink.Principal, groupID string) (*tasks.Task, error) {
	f.log.Add("TaskForGroup %s", groupID)
	for _, t := range f.tasks {
		if t.Target == groupID {
			return t, nil
		}
	}
	return nil, nil
}

func (f *fakeTasks) SyncGroup(_ context.Context, p *tenantlink.Principal, groupID string, confirm, full bool) (*tasks.Enqueued, error) {
	f.log.Add("SyncGroup %s confirm=%t full=%t", groupID, confirm, full)
	if err := webtest.RequireAdmin(p, "group member sync"); err != nil {
		return nil, err
	}
	if err := f.refuse[groupID]; err != nil {
		return nil, err
	}
	return &tasks.Enqueued{JobID: 2, Already: f.already[groupID]}, nil
}

// fakeSync is the sync engine: settings are kept in saved (only what
// it accepted), runs by group.
type fakeSync struct {
	web.GroupSync
	log   *webtest.Calls
	saved map[string]tenantlink.SyncSettings
	runs  map[string][]*groupsync.Run
}

func (f *fakeSync) SourceChoices(_ context.Context, p *tenantlink.Principal) ([]*tenantlink.DataSource, error) {
	f.log.Add("SourceChoices")
	return []*tenantlink.DataSource{{ID: "ds1", Name: "Contoso"}}, nil
}

func (f *fakeSync) Runs(_ context.Context, p *tenantlink.Principal, groupID string, limit int) ([]*groupsync.Run, error) {
	f.log.Add("Runs %s %d", groupID, limit)
	if err := webtest.RequireAdmin(p, "group member sync"); err != nil {
		return nil, err
	}
	return f.runs[groupID], nil
}

func (f *fakeSync) DryRun(_ context.Context, p *tenantlink.Principal, groupID string, full bool) (*groupsync.Run, error) {
	f.log.Add("DryRun %s full=%t", groupID, full)
	if err := webtest.RequireAdmin(p, "group member sync"); err != nil {
		return nil, err
	}
	return &groupsync.Run{ID: "dry", GroupID: groupID, DryRun: true, Status: "succeeded",
		Counts:  groupsync.Counts{Created: 1},
		Changes: []groupsync.Change{{Action: groupsync.ActionCreate, DisplayName: "Cy New", Email: "cy@example.com"}}}, nil
}

func (f *fakeSync) Stop(_ context.Context, p *tenantlink.Principal, groupID, runID string) (*groupsync.Run, error) {
	f.log.Add("Stop %s %s", groupID, runID)
	if err := webtest.RequireAdmin(p, "group member sync"); err != nil {
		return nil, err
	}
	for _, r := range f.runs[groupID] {
		if r.ID == runID {
			if r.Status != "running" {
				return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "The run is no longer running (%s).", r.Status)
			}
			return &groupsync.Run{ID: runID, GroupID: groupID, Status: "stopped"}, nil
		}
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "run %q not found", runID)
}

// SaveSettings accepts the data source ds1 only, and answers a webhook
// URL when the schedule is on demand (as the scheduler does once).
func (f *fakeSync) SaveSettings(_ context.Context, p *tenantlink.Principal, groupID string, in tenantlink.SyncSettings) (*groupsync.Settings, error) {
	f.log.Add("SaveSettings %s", groupID)
	if err := webtest.RequireAdmin(p, "group member sync"); err != nil {
		return nil, err
	}
	if in.Enabled && in.DataSource != "ds1" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "data source %q not found", in.DataSource)
	}
	f.saved[groupID] = in
	v := &groupsync.Settings{GroupID: groupID, Settings: &in}
	var s tasks.Schedule
	if err := json.Unmarshal(in.Schedule, &s); err == nil && s.Kind == tasks.OnDemand {
		v.Task = &tasks.Task{ID: "t-new", WebhookURL: "https://tl.example/hooks/tasks/t-new/SECRET"}
	}
	return v, nil
}

// fakeStack is syncui's routes and package web's (the JSON API the
// pages' script polls) on the same fakes, wired as package app wires
// the services.
type fakeStack struct {
	handler http.Handler
	log     *webtest.Calls
	dir     *fakeDirectory
	tasks   *fakeTasks
	sync    *fakeSync
	// told are the groups web.SyncAPI.Saved was told about.
	told []string
}

func newFakeStack(t *testing.T) *fakeStack {
	t.Helper()
	log := &webtest.Calls{}
	finished := webtest.Now.Add(-time.Hour)
	st := &fakeStack{log: log,
		dir: &fakeDirectory{Directory: webtest.Directory{Viewers: []webtest.Viewer{adminViewer, userViewer}}, log: log,
			users: map[string]*tenantlink.User{
				"u-ann":            {ID: "u-ann", Email: "ann@example.com"},
				userViewer.User.ID: userViewer.User,
			},
			groups: map[string]*tenantlink.Group{
				"g1": {ID: "g1", Name: "Sales", Members: []string{"u-ann", "u-bob"},
					Sync: &tenantlink.SyncSettings{Enabled: true, DataSource: "ds1", SourceGroup: "Sales team", MissingUsers: "disable", Realtime: true,
						Schedule: json.RawMessage(`{"kind":"daily","time":"06:00"}`)}},
				"g2": {ID: "g2", Name: "Off"},
			}},
		tasks: &fakeTasks{log: log,
			tasks:   map[string]*tasks.Task{"t1": {ID: "t1", Name: "Sync Sales", Kind: "sync", Target: "g1", Enabled: true, ScheduleText: "daily at 06:00", Status: "succeeded"}},
			already: map[string]bool{},
			refuse:  map[string]error{"g2": tenantlink.Errorf(tenantlink.EINVALID, "Group member sync is off for this group.")}},
		sync: &fakeSync{log: log, saved: map[string]tenantlink.SyncSettings{},
			runs: map[string][]*groupsync.Run{"g1": {
				{ID: "r-running", GroupID: "g1", Status: "running", StartedAt: webtest.Now.Add(-time.Minute), Seen: 40, Total: 100, Counts: groupsync.Counts{Created: 3}},
				{ID: "r-done", GroupID: "g1", Status: "succeeded", Full: true, StartedAt: finished.Add(-time.Minute), FinishedAt: &finished, Counts: groupsync.Counts{Updated: 2, Unchanged: 7}},
			}}},
	}
	api := &web.SyncAPI{Tasks: st.tasks, Sync: st.sync, Directory: st.dir,
		Saved: func(_ context.Context, groupID string, _ *tenantlink.SyncSettings) {
			st.told = append(st.told, groupID)
		}}
	dss := fakeDataSources{}
	s := web.New(web.Config{Directory: st.dir, DataSources: dss, Sync: api, Now: func() time.Time { return webtest.Now }})
	s.Mount(syncui.Routes(syncui.Deps{Tasks: api.Tasks, Sync: api.Sync, Settings: api, Directory: api.Directory, DataSources: dss})...)
	st.handler = s.Handler()
	return st
}

// do sends a request as v (webtest.Do).
func (st *fakeStack) do(t *testing.T, v webtest.Viewer, method, target string, form url.Values, header ...string) webtest.Answer {
	t.Helper()
	return webtest.Do(t, st.handler, v, method, target, form, header...)
}
