package groupsync

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Tasks is what the sync settings need of the job scheduler
// (jobs.Scheduler): a group's task, read or brought in step inside the
// settings' store transaction.
type Tasks interface {
	TaskForGroup(ctx context.Context, p *tenantlink.Principal, groupID string) (*tasks.Task, error)
	SetGroupSyncIn(ctx context.Context, tx store.Store, p *tenantlink.Principal, groupID, groupName string, enabled bool, sched *tasks.Schedule) (*tasks.Task, error)
}

// Settings is a group's sync settings with its scheduled task.
type Settings struct {
	GroupID  string                   `json:"groupId"`
	Settings *tenantlink.SyncSettings `json:"settings"`
	Task     *tasks.Task              `json:"task"`
}

// Settings returns a group's sync settings and task (Administrator only).
func (s *Service) Settings(ctx context.Context, p *tenantlink.Principal, groupID string) (*Settings, error) {
	g, err := s.Directory.GetGroup(ctx, p, groupID)
	if err != nil {
		return nil, err
	}
	t, err := s.Tasks.TaskForGroup(ctx, p, g.ID)
	if err != nil {
		return nil, err
	}
	return &Settings{GroupID: g.ID, Settings: g.Sync, Task: t}, nil
}

// SaveSettings sets a group's sync settings (Administrator only). It
// validates everything first (schedule, missing-users policy, data source
// and source group), so bad input stores nothing; then it stores the
// settings with their audit entry and brings the group's task in step in
// the same transaction: sync on creates the task (hourly unless the
// settings' schedule says otherwise), off disables it. The API and the
// group page both call it.
func (s *Service) SaveSettings(ctx context.Context, p *tenantlink.Principal, groupID string, in tenantlink.SyncSettings) (*Settings, error) {
	g, err := s.Directory.GetGroup(ctx, p, groupID)
	if err != nil {
		return nil, err
	}
	sched, err := tasks.ParseSchedule(in.Schedule)
	if err != nil {
		return nil, err
	}
	switch in.MissingUsers {
	case "":
		in.MissingUsers = MissingKeep
	case MissingKeep, MissingDisable, MissingRemove:
	default:
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "missingUsers must be keep, disable or remove, not %q", in.MissingUsers)
	}
	norm, err := json.Marshal(sched)
	if err != nil {
		return nil, fmt.Errorf("encode schedule: %w", err)
	}
	in.Schedule = norm
	if err := ValidateSettings(ctx, s.Store, s.DataSources, p, &in); err != nil {
		return nil, err
	}
	now := s.now()
	// Settings, task and both audit entries in one transaction: the
	// group's row is written first, so concurrent saves queue on it and
	// each reads the task the previous one left.
	var t *tasks.Task
	err = s.Store.InTx(ctx, func(tx store.Store) error {
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
		t, err = s.Tasks.SetGroupSyncIn(ctx, tx, p, g.ID, g.Name, in.Enabled, &sched)
		return err
	})
	if err != nil {
		if tenantlink.ErrorCode(err) != tenantlink.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("set sync settings: %w", err)
	}
	return &Settings{GroupID: g.ID, Settings: g.Sync, Task: t}, nil
}

// DryRun runs a sync of the group that changes nothing and returns its
// record: what would be created, updated, disabled, removed.
func (s *Service) DryRun(ctx context.Context, p *tenantlink.Principal, groupID string, full bool) (*Run, error) {
	return s.Run(ctx, p, groupID, RunOptions{DryRun: true, Full: full, Trigger: "manual"})
}

// SourceChoices lists every data source a group's sync may read from, for
// the settings form (Administrator only).
func (s *Service) SourceChoices(ctx context.Context, p *tenantlink.Principal) ([]*tenantlink.DataSource, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	list, err := s.Store.ListDataSources(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list data sources: %w", err)
	}
	return list, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
