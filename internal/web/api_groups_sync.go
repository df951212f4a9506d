package web

import (
	"context"
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
)

// SyncAPI wires the group member sync and scheduled task endpoints to
// their services: the job scheduler (Tasks) and the sync engine
// (GroupSync, package groupsync's Service). The pages (package syncui)
// call the same methods.
type SyncAPI struct {
	Tasks     Tasks
	Sync      GroupSync
	Directory SyncDirectory
	// Saved is told a group's sync settings were stored (package
	// realtime brings the data source's subscriptions in step); nil: no one.
	Saved func(ctx context.Context, groupID string, s *tenantlink.SyncSettings)
}

// SyncDirectory is what the group pages read of the directory
// (directory.Service): the group, and the members they list.
type SyncDirectory interface {
	GetGroup(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error)
	GetUser(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error)
}

// GroupSync is what the handlers use of the sync engine
// (groupsync.Service): settings, dry runs, run history, stopping a run
// and the data sources the settings form offers.
type GroupSync interface {
	Settings(ctx context.Context, p *tenantlink.Principal, groupID string) (*groupsync.Settings, error)
	SaveSettings(ctx context.Context, p *tenantlink.Principal, groupID string, in tenantlink.SyncSettings) (*groupsync.Settings, error)
	DryRun(ctx context.Context, p *tenantlink.Principal, groupID string, full bool) (*groupsync.Run, error)
	Runs(ctx context.Context, p *tenantlink.Principal, groupID string, limit int) ([]*groupsync.Run, error)
	Stop(ctx context.Context, p *tenantlink.Principal, groupID, runID string) (*groupsync.Run, error)
	SourceChoices(ctx context.Context, p *tenantlink.Principal) ([]*tenantlink.DataSource, error)
}

// Tasks is what the handlers use of the job scheduler (jobs.Scheduler):
// scheduled tasks, their runs and a group's sync task. An interface, so
// this package depends on neither River nor a SQL driver and its tests
// can use a fake.
type Tasks interface {
	ListTasks(ctx context.Context, p *tenantlink.Principal) ([]*tasks.Task, error)
	GetTask(ctx context.Context, p *tenantlink.Principal, id string) (*tasks.Task, error)
	CreateTask(ctx context.Context, p *tenantlink.Principal, in tasks.TaskInput) (*tasks.Task, error)
	UpdateTask(ctx context.Context, p *tenantlink.Principal, id string, in tasks.TaskInput) (*tasks.Task, error)
	DeleteTask(ctx context.Context, p *tenantlink.Principal, id string) error
	RunNow(ctx context.Context, p *tenantlink.Principal, id string) (*tasks.Enqueued, error)
	Webhook(ctx context.Context, id, secret string) (*tasks.Enqueued, error)
	TaskForGroup(ctx context.Context, p *tenantlink.Principal, groupID string) (*tasks.Task, error)
	SyncGroup(ctx context.Context, p *tenantlink.Principal, groupID string, confirm, full bool) (*tasks.Enqueued, error)
}

func (s *Server) stopGroupSyncRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.cfg.Sync.Sync.Stop(r.Context(), principal(r), r.PathValue("id"), r.PathValue("runId"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, run)
}

// boolQuery reads a true/false query parameter, refusing anything else
// rather than treating a typo as false.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	switch v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, tenantlink.Errorf(tenantlink.EINVALID, "?%s must be true or false, not %q", name, v)
}

func (s *Server) getGroupSync(w http.ResponseWriter, r *http.Request) error {
	v, err := s.cfg.Sync.Sync.Settings(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, v)
}

func (s *Server) putGroupSync(w http.ResponseWriter, r *http.Request) error {
	var in tenantlink.SyncSettings
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.cfg.Sync.SaveSettings(r.Context(), principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, v)
}

func (s *Server) runGroupSync(w http.ResponseWriter, r *http.Request) error {
	d, p := s.cfg.Sync, principal(r)
	dry, err := boolQuery(r, "dryRun")
	if err != nil {
		return err
	}
	confirm, err := boolQuery(r, "confirm")
	if err != nil {
		return err
	}
	full, err := boolQuery(r, "full")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if dry {
		if confirm {
			return tenantlink.Errorf(tenantlink.EINVALID, "?confirm applies to a real run, not a dry run")
		}
		run, err := d.Sync.DryRun(r.Context(), p, id, full)
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, run)
	}
	// Refuses unknown groups and non-administrators before queuing.
	if _, err := s.cfg.Directory.GetGroup(r.Context(), p, id); err != nil {
		return err
	}
	e, err := d.Tasks.SyncGroup(r.Context(), p, id, confirm, full)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, e)
}

func (s *Server) listGroupSyncRuns(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r.URL.Query(), 20, 500)
	if err != nil {
		return err
	}
	runs, err := s.cfg.Sync.Sync.Runs(r.Context(), principal(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": runs})
}

// SaveSettings stores a group's sync settings through the sync engine and
// then tells Saved, so the API and the group page save the same way.
func (d SyncAPI) SaveSettings(ctx context.Context, p *tenantlink.Principal, groupID string, in tenantlink.SyncSettings) (*groupsync.Settings, error) {
	v, err := d.Sync.SaveSettings(ctx, p, groupID, in)
	if err != nil {
		return nil, err
	}
	if d.Saved != nil {
		d.Saved(ctx, v.GroupID, v.Settings)
	}
	return v, nil
}
