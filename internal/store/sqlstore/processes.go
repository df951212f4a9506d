package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink/internal/store"
)

const processColumns = `id, name, definition, created_by, modified_by, created_at, updated_at, editor_id, needs_datasource`

// CreateProcess inserts a process definition.
func (db *DB) CreateProcess(ctx context.Context, p *store.Process) error {
	if strings.TrimSpace(p.Name) == "" {
		return invalid("a process needs a name")
	}
	if len(p.Definition) == 0 {
		return invalid("a process needs a definition")
	}
	id := p.ID
	if id == "" {
		id = newID()
	}
	now := db.now()
	created := stamp(p.CreatedAt, now)
	updated := stamp(p.UpdatedAt, created)
	_, err := db.exec(ctx, `INSERT INTO processes (id, name, name_lower, definition, created_by, modified_by, created_at, updated_at, editor_id, needs_datasource)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		id, p.Name, strings.ToLower(p.Name), string(p.Definition), p.CreatedBy, p.ModifiedBy, db.ts(created), db.ts(updated), p.EditorID, p.NeedsDataSource)
	if err != nil {
		return processWriteError("create process", p, id, err)
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, created, updated
	return nil
}

func processWriteError(op string, p *store.Process, id string, err error) error {
	switch {
	case isPkey(err):
		return conflict("a process with id %q already exists", id)
	case isUnique(err):
		return conflict("a process named %q already exists", p.Name)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// GetProcess reads a process definition.
func (db *DB) GetProcess(ctx context.Context, id string) (*store.Process, error) {
	ps, err := db.queryProcesses(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, notFound("process %q not found", id)
	}
	return ps[0], nil
}

// ListProcesses lists every process by name.
func (db *DB) ListProcesses(ctx context.Context) ([]*store.Process, error) {
	return db.queryProcesses(ctx, ``)
}

func (db *DB) queryProcesses(ctx context.Context, where string, args ...any) ([]*store.Process, error) {
	rows, err := db.query(ctx, `SELECT `+processColumns+` FROM processes `+where+` ORDER BY name_lower, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list processes: %w", err)
	}
	defer rows.Close()
	out := []*store.Process{}
	for rows.Next() {
		var (
			p        store.Process
			def      string
			cre, upd dbTime
		)
		if err := rows.Scan(&p.ID, &p.Name, &def, &p.CreatedBy, &p.ModifiedBy, &cre, &upd, &p.EditorID, &p.NeedsDataSource); err != nil {
			return nil, fmt.Errorf("sqlstore: scan process: %w", err)
		}
		p.Definition, p.CreatedAt, p.UpdatedAt = []byte(def), cre.T, upd.T
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list processes: %w", err)
	}
	return out, nil
}

// UpdateProcess writes a process's name, definition, modifier, editor and
// needs-a-data-source flag.
func (db *DB) UpdateProcess(ctx context.Context, p *store.Process) error {
	if strings.TrimSpace(p.Name) == "" {
		return invalid("a process needs a name")
	}
	if len(p.Definition) == 0 {
		return invalid("a process needs a definition")
	}
	now := stamp(p.UpdatedAt, db.now())
	res, err := db.exec(ctx, `UPDATE processes SET name = $2, name_lower = $3, definition = $4, modified_by = $5, updated_at = $6,
		editor_id = $7, needs_datasource = $8
		WHERE id = $1`, p.ID, p.Name, strings.ToLower(p.Name), string(p.Definition), p.ModifiedBy, db.ts(now), p.EditorID, p.NeedsDataSource)
	if err != nil {
		return processWriteError("update process", p, p.ID, err)
	}
	if err := mustAffect(res, "update process"); err != nil {
		return notFoundOr(err, "process %q not found", p.ID)
	}
	p.UpdatedAt = now
	return nil
}

// DeleteProcess deletes a process and, by cascade, its instances.
func (db *DB) DeleteProcess(ctx context.Context, id string) error {
	return db.withTx(ctx, func(tx *DB) error {
		// Explicit rather than trusting ON DELETE CASCADE alone: SQLite
		// enforces it only with foreign_keys on, which a database opened
		// by another tool may not have.
		if _, err := tx.exec(ctx, `DELETE FROM process_instances WHERE process_id = $1`, id); err != nil {
			return fmt.Errorf("sqlstore: delete process instances: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM process_events WHERE process_id = $1`, id); err != nil {
			return fmt.Errorf("sqlstore: delete process events: %w", err)
		}
		res, err := tx.exec(ctx, `DELETE FROM processes WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("sqlstore: delete process: %w", err)
		}
		return notFoundOr(mustAffect(res, "delete process"), "process %q not found", id)
	})
}

const instanceColumns = `id, process_id, status, started_by, fields, rules, started_at, finished_at, event`

// CreateProcessInstance inserts an instance of an existing process.
func (db *DB) CreateProcessInstance(ctx context.Context, in *store.ProcessInstance) error {
	if in.ProcessID == "" {
		return invalid("a process instance needs a process")
	}
	if in.Status == "" {
		return invalid("a process instance needs a status")
	}
	id := in.ID
	if id == "" {
		id = newID()
	}
	started := stamp(in.StartedAt, db.now())
	fields, rules := jsonOr(in.Fields, "{}"), jsonOr(in.Rules, "[]")
	_, err := db.exec(ctx, `INSERT INTO process_instances (`+instanceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, in.ProcessID, in.Status, in.StartedBy, fields, rules, db.ts(started), db.tsPtr(in.FinishedAt), string(in.Event))
	switch {
	case isPkey(err):
		return conflict("a process instance with id %q already exists", id)
	case isForeign(err):
		return notFound("process %q not found", in.ProcessID)
	case err != nil:
		return fmt.Errorf("sqlstore: create process instance: %w", err)
	}
	in.ID, in.StartedAt, in.Fields, in.Rules = id, started, []byte(fields), []byte(rules)
	return nil
}

func jsonOr(b []byte, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}

// UpdateProcessInstance writes an instance's status, fields, rules and
// finished time.
func (db *DB) UpdateProcessInstance(ctx context.Context, in *store.ProcessInstance) error {
	if in.Status == "" {
		return invalid("a process instance needs a status")
	}
	fields, rules := jsonOr(in.Fields, "{}"), jsonOr(in.Rules, "[]")
	var fin any
	if in.FinishedAt != nil {
		t := stamp(*in.FinishedAt, db.now())
		in.FinishedAt = &t
		fin = db.ts(t)
	}
	res, err := db.exec(ctx, `UPDATE process_instances SET status = $2, fields = $3, rules = $4, finished_at = $5 WHERE id = $1`,
		in.ID, in.Status, fields, rules, fin)
	if err != nil {
		return fmt.Errorf("sqlstore: update process instance: %w", err)
	}
	return notFoundOr(mustAffect(res, "update process instance"), "process instance %q not found", in.ID)
}

// GetProcessInstance reads one instance.
func (db *DB) GetProcessInstance(ctx context.Context, id string) (*store.ProcessInstance, error) {
	out, err := db.queryInstances(ctx, `WHERE id = $1`, ``, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, notFound("process instance %q not found", id)
	}
	return out[0], nil
}

// ListProcessInstances lists instances newest first.
func (db *DB) ListProcessInstances(ctx context.Context, f store.InstanceFilter) ([]*store.ProcessInstance, error) {
	var (
		conds []string
		args  []any
	)
	if f.ProcessID != "" {
		args = append(args, f.ProcessID)
		conds = append(conds, fmt.Sprintf("process_id = $%d", len(args)))
	}
	if f.StartedBy != "" {
		args = append(args, f.StartedBy)
		conds = append(conds, fmt.Sprintf("started_by = $%d", len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	return db.queryInstances(ctx, where, fmt.Sprintf(` LIMIT $%d`, len(args)), args...)
}

func (db *DB) queryInstances(ctx context.Context, where, tail string, args ...any) ([]*store.ProcessInstance, error) {
	rows, err := db.query(ctx, `SELECT `+instanceColumns+` FROM process_instances `+where+
		` ORDER BY started_at DESC, id DESC`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list process instances: %w", err)
	}
	defer rows.Close()
	out := []*store.ProcessInstance{}
	for rows.Next() {
		var (
			in            store.ProcessInstance
			fields, rules string
			event         string
			started, fin  dbTime
		)
		if err := rows.Scan(&in.ID, &in.ProcessID, &in.Status, &in.StartedBy, &fields, &rules, &started, &fin, &event); err != nil {
			return nil, fmt.Errorf("sqlstore: scan process instance: %w", err)
		}
		in.Fields, in.Rules, in.StartedAt, in.FinishedAt = []byte(fields), []byte(rules), started.T, fin.ptr()
		if event != "" {
			in.Event = []byte(event)
		}
		out = append(out, &in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list process instances: %w", err)
	}
	return out, nil
}

// AddProcessEvents inserts outbox rows, skipping those whose (process,
// key) is stored already, and returns how many it added.
func (db *DB) AddProcessEvents(ctx context.Context, events []*store.ProcessEvent) (int, error) {
	added := 0
	for _, e := range events {
		if e.ProcessID == "" || e.Key == "" || len(e.Event) == 0 {
			return added, invalid("a process event needs a process, a key and the event")
		}
		if e.ID == "" {
			e.ID = newID()
		}
		e.CreatedAt = stamp(e.CreatedAt, db.now())
		res, err := db.exec(ctx, `INSERT INTO process_events (id, process_id, event_key, event, created_at, instance_id)
			VALUES ($1, $2, $3, $4, $5, '') ON CONFLICT (process_id, event_key) DO NOTHING`,
			e.ID, e.ProcessID, e.Key, string(e.Event), db.ts(e.CreatedAt))
		switch {
		case isForeign(err):
			return added, notFound("process %q not found", e.ProcessID)
		case err != nil:
			return added, fmt.Errorf("sqlstore: add process event: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return added, fmt.Errorf("sqlstore: add process event: %w", err)
		}
		added += int(n)
	}
	return added, nil
}

// PendingProcessEvents lists the rows no instance was started for yet,
// oldest first.
func (db *DB) PendingProcessEvents(ctx context.Context, limit int) ([]*store.ProcessEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.query(ctx, `SELECT id, process_id, event_key, event, created_at, instance_id FROM process_events
		WHERE instance_id = '' ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending process events: %w", err)
	}
	defer rows.Close()
	out := []*store.ProcessEvent{}
	for rows.Next() {
		var (
			e     store.ProcessEvent
			event string
			cre   dbTime
		)
		if err := rows.Scan(&e.ID, &e.ProcessID, &e.Key, &event, &cre, &e.InstanceID); err != nil {
			return nil, fmt.Errorf("sqlstore: scan process event: %w", err)
		}
		e.Event, e.CreatedAt = []byte(event), cre.T
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: pending process events: %w", err)
	}
	return out, nil
}

// ClaimProcessEvent records the instance started for a pending row; false
// when the row has one already.
func (db *DB) ClaimProcessEvent(ctx context.Context, id, instanceID string) (bool, error) {
	if instanceID == "" {
		return false, invalid("claiming a process event needs the instance id")
	}
	res, err := db.exec(ctx, `UPDATE process_events SET instance_id = $2 WHERE id = $1 AND instance_id = ''`, id, instanceID)
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim process event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim process event: %w", err)
	}
	if n == 1 {
		return true, nil
	}
	var one int
	err = db.queryRow(ctx, `SELECT 1 FROM process_events WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, notFound("process event %q not found", id)
	case err != nil:
		return false, fmt.Errorf("sqlstore: claim process event: %w", err)
	}
	return false, nil
}

// GetMemberChange returns the last membership change stored for (scope,
// object id).
func (db *DB) GetMemberChange(ctx context.Context, scope, objectID string) (*store.MemberChange, error) {
	c := store.MemberChange{Scope: scope, ObjectID: objectID}
	var at dbTime
	err := db.queryRow(ctx, `SELECT generation, kind, changed_at, run_id FROM process_member_changes
		WHERE scope = $1 AND object_id = $2`, scope, objectID).Scan(&c.Generation, &c.Kind, &at, &c.RunID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no membership change of %q in %q", objectID, scope)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get membership change: %w", err)
	}
	c.ChangedAt = at.T
	return &c, nil
}

// PutMemberChange stores c if the stored generation is still prevGen (0:
// no row): an insert that skips an existing key, or an update conditional
// on the generation read, so that of two writers one wins on SQLite and
// PostgreSQL alike (PostgreSQL re-checks the condition on the row the
// other committed).
func (db *DB) PutMemberChange(ctx context.Context, c *store.MemberChange, prevGen int64) (bool, error) {
	if c.Scope == "" || c.ObjectID == "" || c.Kind == "" || c.Generation <= prevGen {
		return false, invalid("a membership change needs a scope, an object id, a kind and a generation past the stored one")
	}
	var (
		res sql.Result
		err error
	)
	if prevGen == 0 {
		res, err = db.exec(ctx, `INSERT INTO process_member_changes (scope, object_id, generation, kind, changed_at, run_id)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, object_id) DO NOTHING`,
			c.Scope, c.ObjectID, c.Generation, c.Kind, db.ts(c.ChangedAt), c.RunID)
	} else {
		res, err = db.exec(ctx, `UPDATE process_member_changes SET generation = $3, kind = $4, changed_at = $5, run_id = $6
			WHERE scope = $1 AND object_id = $2 AND generation = $7`,
			c.Scope, c.ObjectID, c.Generation, c.Kind, db.ts(c.ChangedAt), c.RunID, prevGen)
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: put membership change: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: put membership change: %w", err)
	}
	return n == 1, nil
}

// PruneProcessEvents deletes expired process dedupe keys, then the started
// outbox rows older than olderThan whose dedupe key is gone: a row is
// never deleted while its key could still mark a new row with the same key
// (a change whose generation restarted after PruneMemberChanges) as a
// duplicate.
func (db *DB) PruneProcessEvents(ctx context.Context, olderThan time.Time) (int, error) {
	ts := db.ts(olderThan)
	if _, err := db.exec(ctx, `DELETE FROM processed_events WHERE at < $1 AND event_key LIKE 'process:%'`, ts); err != nil {
		return 0, fmt.Errorf("sqlstore: prune process dedupe keys: %w", err)
	}
	res, err := db.exec(ctx, `DELETE FROM process_events WHERE instance_id <> '' AND created_at < $1
		AND NOT EXISTS (SELECT 1 FROM processed_events p
			WHERE p.event_key = 'process:' || process_events.process_id || ':' || process_events.event_key)`, ts)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune process events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune process events: %w", err)
	}
	return int(n), nil
}

// PruneMemberChanges deletes the old member.removed changes that no sync
// can report again (no sync_members row tracks the user) and whose outbox
// keys are all gone (a restarted generation cannot meet an old row's key).
// An old member.added is kept: it is what makes another sync's report of
// the same join a repeat.
func (db *DB) PruneMemberChanges(ctx context.Context, olderThan time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM process_member_changes
		WHERE kind = 'member.removed' AND changed_at < $1
		AND NOT EXISTS (SELECT 1 FROM sync_members m WHERE m.object_id = process_member_changes.object_id)
		AND NOT EXISTS (SELECT 1 FROM process_events e WHERE
			substr(e.event_key, 1, length('member.added:' || process_member_changes.scope || ':' || process_member_changes.object_id || ':g'))
				= 'member.added:' || process_member_changes.scope || ':' || process_member_changes.object_id || ':g'
			OR substr(e.event_key, 1, length('member.removed:' || process_member_changes.scope || ':' || process_member_changes.object_id || ':g'))
				= 'member.removed:' || process_member_changes.scope || ':' || process_member_changes.object_id || ':g')`,
		db.ts(olderThan))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune membership changes: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune membership changes: %w", err)
	}
	return int(n), nil
}
