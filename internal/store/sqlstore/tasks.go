package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenantlink/tenantlink/internal/store"
)

const taskColumns = `id, name, kind, target, schedule, enabled, webhook_hash, next_run, last_run_at, last_status, last_message, created_at, updated_at`

func (db *DB) scanTask(row interface{ Scan(...any) error }) (*store.Task, error) {
	var (
		t                       store.Task
		sched                   string
		next, last, created, up dbTime
	)
	if err := row.Scan(&t.ID, &t.Name, &t.Kind, &t.Target, &sched, &t.Enabled, &t.WebhookHash, &next, &last,
		&t.LastStatus, &t.LastMessage, &created, &up); err != nil {
		return nil, err
	}
	t.Schedule, t.NextRun, t.LastRunAt, t.CreatedAt, t.UpdatedAt = []byte(sched), next.ptr(), last.ptr(), created.T, up.T
	return &t, nil
}

// GetTask returns one scheduled task.
func (db *DB) GetTask(ctx context.Context, id string) (*store.Task, error) {
	t, err := db.scanTask(db.queryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no scheduled task %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get task: %w", err)
	}
	return t, nil
}

// TaskFor returns the task of kind for target.
func (db *DB) TaskFor(ctx context.Context, kind, target string) (*store.Task, error) {
	t, err := db.scanTask(db.queryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE kind = $1 AND target = $2`, kind, target))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no %s task for %q", kind, target)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get task: %w", err)
	}
	return t, nil
}

// CreateTask inserts a task; its id must be set.
func (db *DB) CreateTask(ctx context.Context, t *store.Task) error {
	if t.ID == "" {
		t.ID = newID()
	}
	now := db.now()
	t.CreatedAt, t.UpdatedAt = stamp(t.CreatedAt, now), stamp(t.UpdatedAt, now)
	_, err := db.exec(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		t.ID, t.Name, t.Kind, t.Target, string(t.Schedule), t.Enabled, t.WebhookHash, db.tsPtr(t.NextRun), db.tsPtr(t.LastRunAt),
		t.LastStatus, t.LastMessage, db.ts(t.CreatedAt), db.ts(t.UpdatedAt))
	switch {
	case isPkey(err):
		return conflict("a task with id %q already exists", t.ID)
	case isUnique(err):
		return conflict("a %s task for %q already exists", t.Kind, t.Target)
	case err != nil:
		return fmt.Errorf("sqlstore: create task: %w", err)
	}
	return nil
}

// UpdateTask writes a task's name, schedule, enabled flag, webhook hash,
// next run and updated time.
func (db *DB) UpdateTask(ctx context.Context, t *store.Task) error {
	t.UpdatedAt = stamp(t.UpdatedAt, db.now())
	res, err := db.exec(ctx, `UPDATE tasks SET name = $1, schedule = $2, enabled = $3, webhook_hash = $4, next_run = $5,
		updated_at = $6 WHERE id = $7`,
		t.Name, string(t.Schedule), t.Enabled, t.WebhookHash, db.tsPtr(t.NextRun), db.ts(t.UpdatedAt), t.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: update task: %w", err)
	}
	if err := mustAffect(res, "update task"); err != nil {
		return notFoundOr(err, "no scheduled task %q", t.ID)
	}
	return nil
}

func (db *DB) queryTasks(ctx context.Context, op, where string, args ...any) ([]*store.Task, error) {
	rows, err := db.query(ctx, `SELECT `+taskColumns+` FROM tasks `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	defer rows.Close()
	out := []*store.Task{}
	for rows.Next() {
		t, err := db.scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return out, nil
}

// ListTasks returns every scheduled task by name.
func (db *DB) ListTasks(ctx context.Context) ([]*store.Task, error) {
	return db.queryTasks(ctx, "list tasks", `ORDER BY name, id`)
}

// DueTasks returns the enabled tasks whose next run is at or before now.
func (db *DB) DueTasks(ctx context.Context, now time.Time) ([]*store.Task, error) {
	return db.queryTasks(ctx, "find due tasks", `WHERE enabled = $1 AND next_run IS NOT NULL AND next_run <= $2 ORDER BY next_run, id`,
		true, db.ts(now))
}

// DeleteTask deletes one task.
func (db *DB) DeleteTask(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM tasks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete task: %w", err)
	}
	if err := mustAffect(res, "delete task"); err != nil {
		return notFoundOr(err, "no scheduled task %q", id)
	}
	return nil
}

// DeleteTasksFor deletes the tasks of kind for target.
func (db *DB) DeleteTasksFor(ctx context.Context, kind, target string) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM tasks WHERE kind = $1 AND target = $2`, kind, target)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete tasks of %s: %w", target, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete tasks of %s: %w", target, err)
	}
	return int(n), nil
}

// AdvanceTask moves a task's next run on from due, if it still holds due.
func (db *DB) AdvanceTask(ctx context.Context, id string, due time.Time, next *time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE tasks SET next_run = $1 WHERE id = $2 AND next_run = $3`, db.tsPtr(next), id, db.ts(due))
	if err != nil {
		return false, fmt.Errorf("sqlstore: plan next run of task %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: plan next run of task %s: %w", id, err)
	}
	return n > 0, nil
}

// RecordTaskRun stores a run's outcome on its task.
func (db *DB) RecordTaskRun(ctx context.Context, id string, at time.Time, status, message string) error {
	if _, err := db.exec(ctx, `UPDATE tasks SET last_run_at = $1, last_status = $2, last_message = $3 WHERE id = $4`,
		db.ts(at), status, message, id); err != nil {
		return fmt.Errorf("sqlstore: record run of task %s: %w", id, err)
	}
	return nil
}

// MarkTaskQueued shows a queued run without hiding a running one.
func (db *DB) MarkTaskQueued(ctx context.Context, id string) error {
	if _, err := db.exec(ctx, `UPDATE tasks SET last_status = $1 WHERE id = $2 AND last_status <> $3`,
		store.RunQueued, id, store.RunRunning); err != nil {
		return fmt.Errorf("sqlstore: mark task %s queued: %w", id, err)
	}
	return nil
}
