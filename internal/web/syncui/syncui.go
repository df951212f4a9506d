// Package syncui owns the pages of scheduled work: the Scheduled tasks
// list (/tasks: name, schedule, last run, next run, status, Run now) and a
// group's page (/groups/{id}) with its Group member sync settings form and
// run history, whose progress a small script refreshes every 2 s from the
// runs API. The pages call the same methods as the JSON API (web.SyncAPI,
// the job scheduler) and work without JavaScript. They use package page's
// layout and menu and package ui's stylesheet.
package syncui

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/sync.js
var syncJS []byte

// Deps are what the pages call: package app hands in the services of
// the JSON API's web.SyncAPI and the data source service, the tests of
// this package small fakes.
type Deps struct {
	Tasks     Tasks
	Sync      Sync
	Settings  Settings
	Directory Directory
	// DataSources lists the data sources the viewer may use, for the
	// menu (datasource.Service).
	DataSources DataSources
	Logger      *slog.Logger
	// Subscriptions lists a data source's real-time subscriptions with
	// their state (package realtime); nil shows none.
	Subscriptions func(ctx context.Context, datasourceID string) ([]tenantlink.SubscriptionState, error)
}

// Tasks is what the pages call of the job scheduler (jobs.Scheduler, the
// JSON API's web.SyncAPI.Tasks).
type Tasks interface {
	ListTasks(ctx context.Context, p *tenantlink.Principal) ([]*tasks.Task, error)
	RunNow(ctx context.Context, p *tenantlink.Principal, id string) (*tasks.Enqueued, error)
	TaskForGroup(ctx context.Context, p *tenantlink.Principal, groupID string) (*tasks.Task, error)
	SyncGroup(ctx context.Context, p *tenantlink.Principal, groupID string, confirm, full bool) (*tasks.Enqueued, error)
}

// Sync is what the group page calls of the sync engine
// (groupsync.Service, the JSON API's web.SyncAPI.Sync): the data sources
// the form offers, the run history, dry runs and stopping a run.
type Sync interface {
	SourceChoices(ctx context.Context, p *tenantlink.Principal) ([]*tenantlink.DataSource, error)
	Runs(ctx context.Context, p *tenantlink.Principal, groupID string, limit int) ([]*groupsync.Run, error)
	DryRun(ctx context.Context, p *tenantlink.Principal, groupID string, full bool) (*groupsync.Run, error)
	Stop(ctx context.Context, p *tenantlink.Principal, groupID, runID string) (*groupsync.Run, error)
}

// Settings saves a group's sync settings. Package app hands in the JSON
// API's web.SyncAPI, whose SaveSettings also tells real time the settings
// changed, so that the page and the API save the same way (not the sync
// engine's own SaveSettings, which does not).
type Settings interface {
	SaveSettings(ctx context.Context, p *tenantlink.Principal, groupID string, in tenantlink.SyncSettings) (*groupsync.Settings, error)
}

// Directory is what the group page reads of the directory
// (directory.Service): the group, and its members' emails.
type Directory interface {
	GetGroup(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error)
	GetUser(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error)
}

// DataSources is what the menu reads of the data sources
// (datasource.Service).
type DataSources interface {
	List(ctx context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error)
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
	h := &handler{Deps: d, pages: page.MustParseAll(templateFS, "templates", nil),
		site: &page.Site{UsableDataSources: d.DataSources.List, Logger: d.Logger}}
	return []web.Route{
		{Method: "GET", Path: "/syncui/sync.js", Kind: web.Asset, Access: web.Public, Plain: http.HandlerFunc(serveSyncJS)},
		{Method: "GET", Path: "/tasks", Kind: web.Page, Access: web.SignedIn, Handler: h.listTasks},
		{Method: "POST", Path: "/tasks/{id}/run", Kind: web.Page, Access: web.SignedIn, Handler: h.runTask},
		{Method: "GET", Path: "/groups/{id}", Kind: web.Page, Access: web.SignedIn, Handler: h.showGroup},
		{Method: "POST", Path: "/groups/{id}/sync", Kind: web.Page, Access: web.SignedIn, Handler: h.saveGroupSync},
		{Method: "POST", Path: "/groups/{id}/sync/run", Kind: web.Page, Access: web.SignedIn, Handler: h.runGroupSync},
		{Method: "POST", Path: "/groups/{id}/sync/runs/{runId}/stop", Kind: web.Page, Access: web.SignedIn, Handler: h.stopGroupSyncRun},
	}
}

func serveSyncJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(syncJS)
}

// notice is a notification at the top of a page.
type notice = page.Notice

func (h *handler) newPage(r *http.Request, title, nav string, data any) *page.Page {
	return h.site.New(r, title, nav, data)
}

func (h *handler) render(w http.ResponseWriter, status int, name string, p *page.Page) error {
	return h.site.Render(w, status, h.pages[name], p)
}

type tasksData struct{ Tasks []*tasks.Task }

func (h *handler) listTasks(w http.ResponseWriter, r *http.Request) error {
	p := h.newPage(r, "Scheduled tasks", "tasks", nil)
	list, err := h.Tasks.ListTasks(r.Context(), p.Principal)
	if err != nil {
		return err
	}
	p.Data = tasksData{Tasks: list}
	switch r.URL.Query().Get("done") {
	case "queued":
		p.Notices = append(p.Notices, notice{Message: "The run is queued."})
	case "already":
		p.Notices = append(p.Notices, notice{Message: "A run of this task is already queued or running."})
	}
	return h.render(w, http.StatusOK, "tasks", p)
}

func (h *handler) runTask(w http.ResponseWriter, r *http.Request) error {
	e, err := h.Tasks.RunNow(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	done := "queued"
	if e.Already {
		done = "already"
	}
	http.Redirect(w, r, "/tasks?done="+done, http.StatusSeeOther)
	return nil
}

type option struct{ Value, Label string }

// shownMembers is how many members the group page lists.
const shownMembers = 50

type groupData struct {
	Group       *tenantlink.Group
	Form        tenantlink.SyncSettings
	Schedule    tasks.Schedule
	Task        *tasks.Task
	WebhookURL  string
	DataSources []*tenantlink.DataSource
	Runs        []*groupsync.Run
	DryRun      *groupsync.Run
	// DryLists are the dry run's people per action, under its notice.
	DryLists []dryList
	Kinds    []option
	Weekdays []string
	// Subscriptions are the real-time subscriptions of the sync's data
	// source; Members the group's first members (emails) and their count.
	Subscriptions []tenantlink.SubscriptionState
	Members       []string
	MemberCount   int
}

// dryList is who a dry run would change one way: Changes, the first
// groupsync.MaxChanges by name, of Count.
type dryList struct {
	Action, Title string
	Count         int
	Changes       []groupsync.Change
}

// dryLists are the tables a dry run shows: who would be created,
// disabled, removed, taken out of the group; an action with no one has
// no table.
func dryLists(run *groupsync.Run) []dryList {
	c := run.Counts
	var out []dryList
	for _, l := range []dryList{
		{Action: groupsync.ActionCreate, Title: "Would be created", Count: c.Created},
		{Action: groupsync.ActionDisable, Title: "Would be disabled", Count: c.Disabled},
		{Action: groupsync.ActionRemove, Title: "Would be removed", Count: c.Removed},
		{Action: groupsync.ActionLeaveGroup, Title: "Would be taken out of the group", Count: c.LeftGroup},
	} {
		l.Changes = run.ChangesOf(l.Action)
		l.Count = max(l.Count, len(l.Changes))
		if l.Count > 0 {
			out = append(out, l)
		}
	}
	return out
}

var kinds = []option{
	{tasks.EveryMinutes, "Every N minutes"}, {tasks.Hourly, "Hourly"}, {tasks.Daily, "Daily"}, {tasks.Weekly, "Weekly"},
	{tasks.Monthly, "Monthly"}, {tasks.Once, "One time"}, {tasks.OnDemand, "On demand (webhook)"},
}

var weekdayNames = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// groupData loads what the group page shows; form, when non-nil, is the
// submitted settings to show back after a refusal.
func (h *handler) groupData(r *http.Request, id string, form *tenantlink.SyncSettings, sched *tasks.Schedule) (*groupData, error) {
	ctx := r.Context()
	p := web.PrincipalFrom(ctx)
	g, err := h.Directory.GetGroup(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &groupData{Group: g, Kinds: kinds, Weekdays: weekdayNames, Schedule: tasks.DefaultSchedule()}
	if g.Sync != nil {
		d.Form = *g.Sync
		if s, err := tasks.ParseSchedule(g.Sync.Schedule); err == nil {
			d.Schedule = s
		}
	}
	if form != nil {
		d.Form = *form
	}
	if sched != nil {
		d.Schedule = *sched
	}
	if d.Task, err = h.Tasks.TaskForGroup(ctx, p, g.ID); err != nil {
		return nil, err
	}
	if d.DataSources, err = h.Sync.SourceChoices(ctx, p); err != nil {
		return nil, err
	}
	if d.Runs, err = h.Sync.Runs(ctx, p, g.ID, 20); err != nil {
		return nil, err
	}
	if h.Subscriptions != nil && g.Sync != nil && g.Sync.Realtime && g.Sync.DataSource != "" {
		if d.Subscriptions, err = h.Subscriptions(ctx, g.Sync.DataSource); err != nil {
			return nil, err
		}
	}
	d.MemberCount = len(g.Members)
	for _, id := range g.Members[:min(len(g.Members), shownMembers)] {
		if u, err := h.Directory.GetUser(ctx, p, id); err == nil {
			d.Members = append(d.Members, u.Email)
		}
	}
	return d, nil
}

func (h *handler) showGroup(w http.ResponseWriter, r *http.Request) error {
	d, err := h.groupData(r, r.PathValue("id"), nil, nil)
	if err != nil {
		return err
	}
	p := h.newPage(r, d.Group.Name, "groups", d)
	p.Script = "/syncui/sync.js"
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notices = append(p.Notices, notice{Message: "Sync settings saved."})
	case "queued":
		p.Notices = append(p.Notices, notice{Message: "The sync is queued; its progress appears below."})
	case "already":
		p.Notices = append(p.Notices, notice{Message: "A sync of this group is already queued or running."})
	case "stopped":
		p.Notices = append(p.Notices, notice{Message: "The run was stopped; changes it already applied stay."})
	}
	return h.render(w, http.StatusOK, "group_sync", p)
}

// scheduleFromForm reads the schedule fields; only the chosen kind's
// fields are kept, so hidden leftovers of another kind do not make the
// schedule invalid.
func scheduleFromForm(r *http.Request) (tasks.Schedule, error) {
	s := tasks.Schedule{Kind: r.PostFormValue("kind"), TimeZone: strings.TrimSpace(r.PostFormValue("timeZone"))}
	num := func(name string) (int, error) {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, tenantlink.Errorf(tenantlink.EINVALID, "schedule: %s must be a whole number, not %q", name, v)
		}
		return n, nil
	}
	var err error
	switch s.Kind {
	case tasks.EveryMinutes:
		s.Every, err = num("every")
	case tasks.Hourly:
		s.Minute, err = num("minute")
	case tasks.Daily:
		s.Time, s.WeekdaysOnly = strings.TrimSpace(r.PostFormValue("time")), r.PostFormValue("weekdaysOnly") != ""
	case tasks.Weekly:
		s.Time, s.Weekday = strings.TrimSpace(r.PostFormValue("time")), r.PostFormValue("weekday")
	case tasks.Monthly:
		s.Time = strings.TrimSpace(r.PostFormValue("time"))
		s.Day, err = num("day")
	case tasks.Once:
		s.At = strings.TrimSpace(r.PostFormValue("at"))
	}
	if err != nil {
		return s, err
	}
	return s, s.Validate()
}

func (h *handler) saveGroupSync(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	in := tenantlink.SyncSettings{
		Enabled:      r.PostFormValue("enabled") != "",
		DataSource:   r.PostFormValue("datasource"),
		SourceGroup:  r.PostFormValue("sourceGroup"),
		Override:     r.PostFormValue("override") != "",
		MissingUsers: r.PostFormValue("missingUsers"),
		Realtime:     r.PostFormValue("realtime") != "",
	}
	sched, err := scheduleFromForm(r)
	if err == nil {
		raw, _ := json.Marshal(sched)
		in.Schedule = raw
		var v *groupsync.Settings
		v, err = h.Settings.SaveSettings(r.Context(), web.PrincipalFrom(r.Context()), id, in)
		if err == nil {
			if v.Task != nil && v.Task.WebhookURL != "" {
				// The secret is shown once: render instead of redirecting,
				// so it never lands in a URL or the browser history.
				return h.renderGroup(w, r, id, nil, nil, v.Task.WebhookURL, "Sync settings saved; the scheduled task was created.", false)
			}
			http.Redirect(w, r, "/groups/"+id+"?done=saved", http.StatusSeeOther)
			return nil
		}
	}
	if tenantlink.ErrorCode(err) != tenantlink.EINVALID {
		return err
	}
	return h.renderGroup(w, r, id, &in, &sched, "", tenantlink.ErrorMessage(err), true)
}

func (h *handler) renderGroup(w http.ResponseWriter, r *http.Request, id string, form *tenantlink.SyncSettings, sched *tasks.Schedule, webhook, msg string, isErr bool) error {
	d, err := h.groupData(r, id, form, sched)
	if err != nil {
		return err
	}
	d.WebhookURL = webhook
	p := h.newPage(r, d.Group.Name, "groups", d)
	p.Script = "/syncui/sync.js"
	p.Notices = append(p.Notices, notice{Message: msg, Error: isErr})
	status := http.StatusOK
	if isErr {
		status = http.StatusBadRequest
	}
	return h.render(w, status, "group_sync", p)
}

func (h *handler) runGroupSync(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := web.PrincipalFrom(r.Context())
	mode := r.PostFormValue("mode")
	if mode == "dry" {
		run, err := h.Sync.DryRun(r.Context(), p, id, false)
		if refused(err) {
			return h.renderGroup(w, r, id, nil, nil, "", tenantlink.ErrorMessage(err), true)
		}
		if err != nil {
			return err
		}
		d, err := h.groupData(r, id, nil, nil)
		if err != nil {
			return err
		}
		d.DryRun, d.DryLists = run, dryLists(run)
		pg := h.newPage(r, d.Group.Name, "groups", d)
		pg.Script = "/syncui/sync.js"
		return h.render(w, http.StatusOK, "group_sync", pg)
	}
	if _, err := h.Directory.GetGroup(r.Context(), p, id); err != nil {
		return err
	}
	e, err := h.Tasks.SyncGroup(r.Context(), p, id, mode == "confirm", false)
	if refused(err) {
		return h.renderGroup(w, r, id, nil, nil, "", tenantlink.ErrorMessage(err), true)
	}
	if err != nil {
		return err
	}
	done := "queued"
	if e.Already {
		done = "already"
	}
	http.Redirect(w, r, "/groups/"+id+"?done="+done, http.StatusSeeOther)
	return nil
}

// refused is an error the group page shows in place (the run cannot
// start, or the run to stop is no longer running), not an error page.
func refused(err error) bool {
	c := tenantlink.ErrorCode(err)
	return c == tenantlink.EINVALID || c == tenantlink.ECONFLICT
}

func (h *handler) stopGroupSyncRun(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	_, err := h.Sync.Stop(r.Context(), web.PrincipalFrom(r.Context()), id, r.PathValue("runId"))
	if refused(err) {
		return h.renderGroup(w, r, id, nil, nil, "", tenantlink.ErrorMessage(err), true)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/groups/"+id+"?done=stopped", http.StatusSeeOther)
	return nil
}
