package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink/internal/store"
)

// ListTasksByTarget returns the scheduled tasks of kind whose target is
// one of targets, ordered by name.
func (db *DB) ListTasksByTarget(ctx context.Context, kind string, targets []string) ([]*store.TaskRef, error) {
	out := []*store.TaskRef{}
	for part := range slices.Chunk(dedupe(targets), maxBatch) {
		rows, err := db.query(ctx, `SELECT id, name, kind, target, enabled FROM tasks WHERE kind = $1 AND target IN (`+inList(2, len(part))+`)`,
			strArgs([]any{kind}, part)...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list tasks: %w", err)
		}
		for rows.Next() {
			var t store.TaskRef
			if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &t.Target, &t.Enabled); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: scan task: %w", err)
			}
			out = append(out, &t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list tasks: %w", err)
		}
	}
	sortTasks(out)
	return out, nil
}

func sortTasks(ts []*store.TaskRef) {
	slices.SortFunc(ts, func(a, b *store.TaskRef) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
}

// DisableTasks disables the tasks with the given ids and clears their
// next run, so that no replica's ticker enqueues them again.
func (db *DB) DisableTasks(ctx context.Context, ids []string, at time.Time) (int, error) {
	return db.execIn(ctx, "disable tasks", `UPDATE tasks SET enabled = $1, next_run = NULL, updated_at = $2 WHERE (enabled = $3 OR next_run IS NOT NULL) AND id IN (`,
		[]any{false, db.ts(stamp(at, db.now())), true}, ids)
}
