package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
