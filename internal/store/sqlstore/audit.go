package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// AppendAudit appends e, filling At when zero and ID from the database.
func (db *DB) AppendAudit(ctx context.Context, e *tenantlink.AuditEntry) error {
	if e.Action == "" {
		return invalid("an audit entry needs an action")
	}
	at := e.At.UTC().Truncate(time.Microsecond)
	if e.At.IsZero() {
		at = db.now()
	}
	var id int64
	err := db.queryRow(ctx, `INSERT INTO audit (at, actor, action, target, outcome, detail, actor_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		db.ts(at), e.Actor, e.Action, e.Target, e.Outcome, e.Detail, e.ActorID).Scan(&id)
	if err != nil {
		return fmt.Errorf("sqlstore: append audit: %w", err)
	}
	e.ID, e.At = id, at
	return nil
}

// ListAudit returns entries newest first (by append order, which is what
// "newest" means when two share a timestamp). With AfterID it reads the
// Limit entries just newer than AfterID (ascending, so the closest ones)
// and returns them newest first too.
func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]*tenantlink.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Target != "" {
		add(`target = ?`, f.Target)
	}
	if f.Actor != "" {
		add(`lower(actor) LIKE ? ESCAPE '\'`, likePattern(f.Actor))
	}
	if f.ActorID != "" {
		add(`actor_id = ?`, f.ActorID)
	}
	if f.Action != "" {
		// A prefix: "group." lists every group action.
		add(`lower(action) LIKE ? ESCAPE '\'`, prefixPattern(f.Action))
	}
	if f.Outcome != "" {
		add(`outcome = ?`, f.Outcome)
	}
	if !f.From.IsZero() {
		add(`at >= ?`, db.ts(f.From.UTC().Truncate(time.Microsecond)))
	}
	if !f.To.IsZero() {
		add(`at < ?`, db.ts(f.To.UTC().Truncate(time.Microsecond)))
	}
	if f.BeforeID > 0 {
		add(`id < ?`, f.BeforeID)
	}
	order := "DESC"
	if f.AfterID > 0 {
		add(`id > ?`, f.AfterID)
		order = "ASC"
	}
	q := `SELECT id, at, actor, action, target, outcome, detail, actor_id FROM audit`
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY id %s LIMIT $%d`, order, len(args))
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	defer rows.Close()
	out := []*tenantlink.AuditEntry{}
	for rows.Next() {
		var (
			e  tenantlink.AuditEntry
			at dbTime
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Detail, &e.ActorID); err != nil {
			return nil, fmt.Errorf("sqlstore: scan audit: %w", err)
		}
		e.At = at.T
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	if order == "ASC" {
		slices.Reverse(out)
	}
	return out, nil
}

// GetSetting returns the JSON document stored under key.
func (db *DB) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v string
	err := db.queryRow(ctx, `SELECT value FROM settings WHERE name = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("setting %q not found", key)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get setting: %w", err)
	}
	return []byte(v), nil
}

// PutSetting stores value under key, replacing any previous value.
func (db *DB) PutSetting(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return invalid("a setting needs a key")
	}
	_, err := db.exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, string(value), db.ts(db.now()))
	if err != nil {
		return fmt.Errorf("sqlstore: put setting: %w", err)
	}
	return nil
}
