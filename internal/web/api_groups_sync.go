package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/jobs"
	"github.com/tenantlink/tenantlink/internal/store"
)

// SyncAPI wires the group member sync and scheduled task endpoints. The
// sync engine is reached through functions so that this package does not
// depend on it; package app adapts groupsync.Service to them.
type SyncAPI struct {
	Tasks     *jobs.Scheduler
	Store     store.Store
	Directory *directory.Service
	Now       func() time.Time
	// Validate checks a group's sync settings (data source exists and is
	// usable, source group, missing-users policy) before anything is
	// stored; its errors are EINVALID with a message for people.
	Validate func(ctx context.Context, p *tenantlink.Principal, groupID string, s *tenantlink.SyncSettings) error
	// DryRun runs a sync that changes nothing and returns its run record.
	DryRun func(ctx context.Context, p *tenantlink.Principal, groupID string, full bool) (any, error)
	// Runs lists a group's sync runs, newest first.
	Runs func(ctx context.Context, p *tenantlink.Principal, groupID string, limit int) (any, error)
	// Stop stops a running sync run of the group (Administrator only)
	// and returns its record.
	Stop func(ctx context.Context, p *tenantlink.Principal, groupID, runID string) (any, error)
	// Saved is told a group's sync settings were stored (package
	// realtime brings the data source's subscriptions in step); nil: no one.
	Saved func(ctx context.Context, groupID string, s *tenantlink.SyncSettings)
}

// RegisterSync registers the scheduled task, webhook and group sync
// routes. It is called by package app after New, because these routes
// need the job queue, which the Server's Config does not carry.
func (s *Server) RegisterSync(d SyncAPI) {
	s.registerTasks(d)
	s.api("GET", "/api/v1/groups/{id}/sync", "A group's sync settings and its scheduled task.", false, d.getGroupSync(s))
	s.api("PUT", "/api/v1/groups/{id}/sync", "Set a group's sync settings ({\"enabled\",\"datasource\",\"sourceGroup\",\"override\",\"missingUsers\",\"schedule\"}); turning sync on creates its hourly task.", false, d.putGroupSync(s))
	s.api("POST", "/api/v1/groups/{id}/sync", "Run a group member sync now (?dryRun=true answers what would change; ?confirm=true passes the safety threshold; ?full=true ignores the cursor).", false, d.postGroupSync(s))
	s.api("GET", "/api/v1/groups/{id}/sync/runs", "A group's sync run history, newest first (?limit=, default 20).", false, d.listGroupSyncRuns)
	s.api("POST", "/api/v1/groups/{id}/sync/runs/{runId}/stop", "Stop a running sync run (a stuck or unwanted one): it ends as stopped, changes already applied stay.", false, d.stopGroupSyncRun)
}

func (d SyncAPI) stopGroupSyncRun(w http.ResponseWriter, r *http.Request) error {
	if d.Stop == nil {
		return tenantlink.Errorf(tenantlink.EUNAVAILABLE, "stopping sync runs is not available in this build")
	}
	run, err := d.Stop(r.Context(), principal(r), r.PathValue("id"), r.PathValue("runId"))
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

// GroupSyncView is a group's sync settings with its scheduled task.
type GroupSyncView struct {
	GroupID  string                   `json:"groupId"`
	Settings *tenantlink.SyncSettings `json:"settings"`
	Task     *jobs.Task               `json:"task"`
}

func (d SyncAPI) getGroupSync(s *Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := d.GroupSync(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, v)
	}
}

func (d SyncAPI) putGroupSync(s *Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in tenantlink.SyncSettings
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
		v, err := d.SaveGroupSync(r.Context(), principal(r), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, v)
	}
}

// SaveGroupSync sets a group's sync settings (Administrator only). It
// validates everything first (schedule, then the sync engine's checks),
// so bad input stores nothing; then it stores the settings with their
// audit entry and brings the group's task in step: sync on creates the
// task (hourly unless the settings' schedule says otherwise), off disables
// it. The API and the group page both call it.
func (d SyncAPI) SaveGroupSync(ctx context.Context, p *tenantlink.Principal, groupID string, in tenantlink.SyncSettings) (*GroupSyncView, error) {
	g, err := d.Directory.GetGroup(ctx, p, groupID)
	if err != nil {
		return nil, err
	}
	sched, err := jobs.ParseSchedule(in.Schedule)
	if err != nil {
		return nil, err
	}
	switch in.MissingUsers {
	case "":
		in.MissingUsers = "keep"
	case "keep", "disable", "remove":
	default:
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "missingUsers must be keep, disable or remove, not %q", in.MissingUsers)
	}
	norm, err := json.Marshal(sched)
	if err != nil {
		return nil, fmt.Errorf("encode schedule: %w", err)
	}
	in.Schedule = norm
	if d.Validate != nil {
		if err := d.Validate(ctx, p, g.ID, &in); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	// Settings, task and both audit entries in one transaction: the
	// group's row is written first, so concurrent saves queue on it and
	// each reads the task the previous one left.
	var t *jobs.Task
	err = d.Store.InTx(ctx, func(tx store.Store) error {
		cur, err := tx.GetGroup(ctx, g.ID)
		if err != nil {
			return err
		}
		settings := in
		cur.Sync, cur.UpdatedAt = &settings, now
		if err := tx.UpdateGroup(ctx, cur); err != nil {
			return err
		}
		g = cur
		detail := fmt.Sprintf("%s: sync %s, data source %s, source %q, override %v, missing users %s, %s",
			cur.Name, onOff(in.Enabled), in.DataSource, in.SourceGroup, in.Override, in.MissingUsers, sched.String())
		if err := directory.Audit(ctx, tx, now, p, "group.sync.settings", "group:"+cur.ID, "ok", detail); err != nil {
			return err
		}
		t, err = d.Tasks.SetGroupSyncIn(ctx, tx, p, g.ID, g.Name, in.Enabled, &sched)
		return err
	})
	if err != nil {
		if tenantlink.ErrorCode(err) != tenantlink.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("set sync settings: %w", err)
	}
	if d.Saved != nil {
		d.Saved(ctx, g.ID, g.Sync)
	}
	return &GroupSyncView{GroupID: g.ID, Settings: g.Sync, Task: t}, nil
}

// GroupSync returns a group's sync settings and task (Administrator only).
func (d SyncAPI) GroupSync(ctx context.Context, p *tenantlink.Principal, groupID string) (*GroupSyncView, error) {
	g, err := d.Directory.GetGroup(ctx, p, groupID)
	if err != nil {
		return nil, err
	}
	t, err := d.Tasks.TaskForGroup(ctx, p, g.ID)
	if err != nil {
		return nil, err
	}
	return &GroupSyncView{GroupID: g.ID, Settings: g.Sync, Task: t}, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (d SyncAPI) postGroupSync(s *Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		return d.runGroupSync(s, w, r)
	}
}

func (d SyncAPI) runGroupSync(s *Server, w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
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
		if d.DryRun == nil {
			return tenantlink.Errorf(tenantlink.EUNAVAILABLE, "dry runs are not available in this build")
		}
		run, err := d.DryRun(r.Context(), p, id, full)
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

func (d SyncAPI) listGroupSyncRuns(w http.ResponseWriter, r *http.Request) error {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return tenantlink.Errorf(tenantlink.EINVALID, "?limit must be a number from 1 to 500, not %q", v)
		}
		limit = n
	}
	if d.Runs == nil {
		return tenantlink.Errorf(tenantlink.EUNAVAILABLE, "sync runs are not available in this build")
	}
	runs, err := d.Runs(r.Context(), principal(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": runs})
}
