package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/store"
)

func requireAdmin(p *tenantlink.Principal, what string) error {
	if p == tenantlink.System || p.Has(tenantlink.RoleAdministrator) {
		return nil
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s needs the Administrator role", what)
}

func notFoundTask(id string) error {
	return tenantlink.Errorf(tenantlink.ENOTFOUND, "no scheduled task %q", id)
}

// st is the store tasks are read and written through: tx when the
// caller's transaction is given, else the scheduler's store.
func (s *Scheduler) st(tx store.Store) store.Store {
	if tx != nil {
		return tx
	}
	return s.cfg.Store
}

func taskFromStore(r *store.Task) (*Task, error) {
	t := &Task{ID: r.ID, Name: r.Name, Kind: r.Kind, Target: r.Target, Enabled: r.Enabled, NextRun: r.NextRun,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, WebhookHash: r.WebhookHash}
	if err := json.Unmarshal(r.Schedule, &t.Schedule); err != nil {
		return nil, fmt.Errorf("jobs: task %s: stored schedule: %w", t.ID, err)
	}
	t.ScheduleText = t.Schedule.String()
	if r.LastRunAt != nil || r.LastStatus != "" {
		t.LastRun = &LastRun{Status: r.LastStatus, Message: r.LastMessage}
		if r.LastRunAt != nil {
			t.LastRun.At = *r.LastRunAt
		}
	}
	t.Status = t.StatusText()
	return t, nil
}

func toStore(t *Task) (*store.Task, error) {
	sched, err := json.Marshal(t.Schedule)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode schedule: %w", err)
	}
	return &store.Task{ID: t.ID, Name: t.Name, Kind: t.Kind, Target: t.Target, Schedule: sched, Enabled: t.Enabled,
		WebhookHash: t.WebhookHash, NextRun: t.NextRun, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}, nil
}

func (s *Scheduler) getTask(ctx context.Context, id string) (*Task, error) {
	r, err := s.cfg.Store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundTask(id)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: get task: %w", err)
	}
	return taskFromStore(r)
}

// taskFor returns the task of kind for target, or nil.
func (s *Scheduler) taskFor(ctx context.Context, tx store.Store, kind, target string) (*Task, error) {
	r, err := s.st(tx).TaskFor(ctx, kind, target)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: get task: %w", err)
	}
	return taskFromStore(r)
}

func (s *Scheduler) listTasks(ctx context.Context) ([]*Task, error) {
	rows, err := s.cfg.Store.ListTasks(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: list tasks: %w", err)
	}
	out := make([]*Task, 0, len(rows))
	for _, r := range rows {
		t, err := taskFromStore(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Scheduler) insertTask(ctx context.Context, tx store.Store, t *Task) error {
	r, err := toStore(t)
	if err != nil {
		return err
	}
	if err := s.st(tx).CreateTask(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "a %s task for %q already exists", t.Kind, t.Target)
		}
		return fmt.Errorf("jobs: create task: %w", err)
	}
	return nil
}

func (s *Scheduler) updateTaskRow(ctx context.Context, tx store.Store, t *Task) error {
	r, err := toStore(t)
	if err != nil {
		return err
	}
	if err := s.st(tx).UpdateTask(ctx, r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFoundTask(t.ID)
		}
		return fmt.Errorf("jobs: update task: %w", err)
	}
	return nil
}

// recordRun stores a run's outcome on its task. A missing task (deleted
// meanwhile) is not an error: the run's own record stays in the history.
func (s *Scheduler) recordRun(ctx context.Context, taskID, status, message string, at time.Time) error {
	if taskID == "" {
		return nil
	}
	if len(message) > 500 {
		message = message[:500]
	}
	if err := s.cfg.Store.RecordTaskRun(ctx, taskID, at, status, message); err != nil {
		return fmt.Errorf("jobs: record run of task %s: %w", taskID, err)
	}
	return nil
}

// ListTasks lists every scheduled task by name (Administrator only).
func (s *Scheduler) ListTasks(ctx context.Context, p *tenantlink.Principal) ([]*Task, error) {
	if err := requireAdmin(p, "listing scheduled tasks"); err != nil {
		return nil, err
	}
	return s.listTasks(ctx)
}

// GetTask returns one task (Administrator only).
func (s *Scheduler) GetTask(ctx context.Context, p *tenantlink.Principal, id string) (*Task, error) {
	if err := requireAdmin(p, "reading scheduled tasks"); err != nil {
		return nil, err
	}
	return s.getTask(ctx, id)
}

// TaskForGroup returns the sync task of a directory group, or nil when the
// group has none (Administrator only).
func (s *Scheduler) TaskForGroup(ctx context.Context, p *tenantlink.Principal, groupID string) (*Task, error) {
	if err := requireAdmin(p, "reading scheduled tasks"); err != nil {
		return nil, err
	}
	return s.taskFor(ctx, nil, KindSync, groupID)
}

// CreateTask creates a task (Administrator only). Only sync tasks exist;
// their target must be a directory group. The answer carries the webhook
// URL, the only time its secret is shown.
func (s *Scheduler) CreateTask(ctx context.Context, p *tenantlink.Principal, in TaskInput) (*Task, error) {
	if err := requireAdmin(p, "creating scheduled tasks"); err != nil {
		return nil, err
	}
	kind := KindSync
	if in.Kind != nil {
		kind = *in.Kind
	}
	if kind != KindSync {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "kind must be %q (a group member sync), not %q", KindSync, kind)
	}
	if in.Target == nil || strings.TrimSpace(*in.Target) == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "target is required: the id of the directory group to sync")
	}
	target := strings.TrimSpace(*in.Target)
	name := ""
	if s.cfg.Groups != nil {
		g, err := s.cfg.Groups(ctx, target)
		if err != nil {
			if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
				return nil, tenantlink.Errorf(tenantlink.EINVALID, "target %q is not a directory group", target)
			}
			return nil, err
		}
		name = "Group member sync: " + g.Name
	}
	if in.Name != nil {
		name = *in.Name
	}
	sched := DefaultSchedule()
	if in.Schedule != nil {
		var err error
		if sched, err = ParseSchedule(*in.Schedule); err != nil {
			return nil, err
		}
	}
	enabled := true
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	t, err := s.createTask(ctx, nil, p, name, kind, target, sched, enabled)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "name must not be empty")
	}
	if len(name) > 200 {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "name must be at most 200 characters")
	}
	if err := tenantlink.CheckText("name", name); err != nil {
		return "", err
	}
	return name, nil
}

func (s *Scheduler) createTask(ctx context.Context, tx store.Store, p *tenantlink.Principal, name, kind, target string, sched Schedule, enabled bool) (*Task, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.checkOnce(sched, now); err != nil {
		return nil, err
	}
	raw, hash := auth.NewToken("")
	t := &Task{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Kind: kind, Target: target, Schedule: sched,
		Enabled: enabled, CreatedAt: now, UpdatedAt: now, WebhookHash: hash}
	if enabled {
		if next, ok := sched.Next(now, s.cfg.Location); ok {
			t.NextRun = &next
		}
	}
	if err := s.insertTask(ctx, tx, t); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, p, "task.create", t, t.Name+": "+t.Schedule.String()); err != nil {
		return nil, err
	}
	t.ScheduleText, t.Status = t.Schedule.String(), t.StatusText()
	t.WebhookURL = s.webhookURL(t.ID, raw)
	return t, nil
}

func (s *Scheduler) webhookURL(id, secret string) string {
	return s.cfg.PublicURL + "/hooks/tasks/" + id + "/" + secret
}

// UpdateTask changes a task's name, schedule or enabled flag (Administrator
// only). A new schedule or re-enabling plans the next run from now.
func (s *Scheduler) UpdateTask(ctx context.Context, p *tenantlink.Principal, id string, in TaskInput) (*Task, error) {
	if err := requireAdmin(p, "changing scheduled tasks"); err != nil {
		return nil, err
	}
	if in.Kind != nil || in.Target != nil {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "a task's kind and target cannot change: create another task")
	}
	t, err := s.getTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if t.Name, err = checkName(*in.Name); err != nil {
			return nil, err
		}
	}
	replan := false
	if in.Schedule != nil {
		if t.Schedule, err = ParseSchedule(*in.Schedule); err != nil {
			return nil, err
		}
		replan = true
	}
	if in.Enabled != nil && *in.Enabled != t.Enabled {
		t.Enabled = *in.Enabled
		replan = true
	}
	raw := ""
	if in.RotateWebhook {
		raw, t.WebhookHash = auth.NewToken("")
	}
	return s.saveTask(ctx, nil, p, t, replan, raw)
}

func (s *Scheduler) saveTask(ctx context.Context, tx store.Store, p *tenantlink.Principal, t *Task, replan bool, rawSecret string) (*Task, error) {
	now := s.now()
	if replan && t.Enabled {
		if err := s.checkOnce(t.Schedule, now); err != nil {
			return nil, err
		}
	}
	if replan {
		t.NextRun = nil
		if t.Enabled {
			if next, ok := t.Schedule.Next(now, s.cfg.Location); ok {
				t.NextRun = &next
			}
		}
	}
	t.UpdatedAt = now
	if err := s.updateTaskRow(ctx, tx, t); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("%s: %s, enabled %v", t.Name, t.Schedule.String(), t.Enabled)
	if rawSecret != "" {
		detail += ", webhook secret replaced"
	}
	if err := s.audit(ctx, tx, p, "task.update", t, detail); err != nil {
		return nil, err
	}
	t.ScheduleText, t.Status = t.Schedule.String(), t.StatusText()
	if rawSecret != "" {
		t.WebhookURL = s.webhookURL(t.ID, rawSecret)
	}
	return t, nil
}

// DeleteTask deletes a task (Administrator only); queued jobs of it still
// run once.
func (s *Scheduler) DeleteTask(ctx context.Context, p *tenantlink.Principal, id string) error {
	if err := requireAdmin(p, "deleting scheduled tasks"); err != nil {
		return err
	}
	t, err := s.getTask(ctx, id)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteTask(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFoundTask(id)
		}
		return fmt.Errorf("jobs: delete task: %w", err)
	}
	return s.audit(ctx, nil, p, "task.delete", t, t.Name)
}

// SetGroupSync keeps a group's sync task in step with its sync settings:
// turning sync on creates the task (every hour unless sched says
// otherwise) or re-enables it; turning it off disables it. A nil sched
// keeps an existing task's schedule. The answer carries the webhook URL
// when the task was created now.
func (s *Scheduler) SetGroupSync(ctx context.Context, p *tenantlink.Principal, groupID, groupName string, enabled bool, sched *Schedule) (*Task, error) {
	return s.SetGroupSyncIn(ctx, nil, p, groupID, groupName, enabled, sched)
}

// SetGroupSyncIn is SetGroupSync inside the caller's store transaction tx:
// the group's settings and its task (and both audit entries) commit
// together or not at all, so concurrent saves cannot leave settings that
// say off with the task on. A nil tx works outside a transaction.
func (s *Scheduler) SetGroupSyncIn(ctx context.Context, tx store.Store, p *tenantlink.Principal, groupID, groupName string, enabled bool, sched *Schedule) (*Task, error) {
	if err := requireAdmin(p, "changing a group's sync"); err != nil {
		return nil, err
	}
	t, err := s.taskFor(ctx, tx, KindSync, groupID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		if !enabled {
			return nil, nil
		}
		sc := DefaultSchedule()
		if sched != nil {
			sc = *sched
		}
		return s.createTask(ctx, tx, p, "Group member sync: "+groupName, KindSync, groupID, sc, true)
	}
	replan := t.Enabled != enabled
	t.Enabled = enabled
	if sched != nil && *sched != t.Schedule {
		t.Schedule, replan = *sched, true
	}
	if name := "Group member sync: " + groupName; groupName != "" && t.Name != name {
		t.Name = name
	}
	return s.saveTask(ctx, tx, p, t, replan, "")
}

// GroupDeleted removes a deleted group's sync task.
func (s *Scheduler) GroupDeleted(ctx context.Context, groupID string) error {
	if _, err := s.cfg.Store.DeleteTasksFor(ctx, KindSync, groupID); err != nil {
		return fmt.Errorf("jobs: delete task of group %s: %w", groupID, err)
	}
	return nil
}

// checkOnce refuses a one-time schedule whose time has passed: it would
// never run.
func (s *Scheduler) checkOnce(sched Schedule, now time.Time) error {
	if sched.Kind != Once {
		return nil
	}
	if _, ok := sched.Next(now, s.cfg.Location); !ok {
		return tenantlink.Errorf(tenantlink.EINVALID, "the one-time schedule (%s) is in the past: choose a time to come", sched.String())
	}
	return nil
}

// audit appends an audit entry: in tx when given (the change and its
// entry commit together), else through Config.Audit.
func (s *Scheduler) audit(ctx context.Context, tx store.Store, p *tenantlink.Principal, action string, t *Task, detail string) error {
	e := &tenantlink.AuditEntry{At: s.now(), Actor: p.Name(), Action: action, Target: "task:" + t.ID, Outcome: "ok", Detail: detail}
	if tx != nil {
		if err := tx.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("write audit entry: %w", err)
		}
		return nil
	}
	if s.cfg.Audit == nil {
		return nil
	}
	err := s.cfg.Audit(ctx, e)
	if err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}
