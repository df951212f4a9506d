// Package riverdb opens River's client on tenantlink's database: the
// SQLite driver on the app's database/sql pool, or pgx on PostgreSQL. It
// is the only place the job queue meets SQL drivers, so package jobs (and
// everything that imports it) stays free of them.
package riverdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/tenantlink/tenantlink/internal/jobs"
)

// Dialects, the same names as sqlstore's.
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// riverMigrateLockKey serialises River's migrations when several replicas
// start at once on one PostgreSQL database ("tlriver").
const riverMigrateLockKey int64 = 0x746c7269766572

// Opener returns the queue opener for tenantlink's database: db is its
// pool (sqlstore's DB.SQL()) and dialect "sqlite" or "postgres". On
// PostgreSQL River gets its own pgx pool opened from dsn, because its
// driver needs pgx natively. Migrations run under a lock on PostgreSQL
// and in one immediate transaction on SQLite, so replicas starting
// together do not race.
func Opener(db *sql.DB, dialect, dsn string) jobs.QueueOpener {
	return func(ctx context.Context, rcfg *river.Config) (jobs.Queue, func(), error) {
		switch dialect {
		case dialectSQLite:
			drv := riversqlite.New(db)
			if err := migrateSQLite(ctx, db, drv); err != nil {
				return nil, nil, err
			}
			c, err := river.NewClient(drv, rcfg)
			if err != nil {
				return nil, nil, fmt.Errorf("jobs: river client: %w", err)
			}
			return c, nil, nil
		case dialectPostgres:
			pool, err := pgxpool.New(ctx, dsn)
			if err != nil {
				// pgx's parse errors can quote the DSN, password included.
				return nil, nil, errors.New("jobs: open postgres pool: invalid DSN")
			}
			drv := riverpgxv5.New(pool)
			if err := migratePostgres(ctx, pool, drv); err != nil {
				pool.Close()
				return nil, nil, err
			}
			c, err := river.NewClient(drv, rcfg)
			if err != nil {
				pool.Close()
				return nil, nil, fmt.Errorf("jobs: river client: %w", err)
			}
			return c, pool.Close, nil
		}
		return nil, nil, fmt.Errorf("jobs: unsupported dialect %q", dialect)
	}
}

func migrateSQLite(ctx context.Context, db *sql.DB, drv *riversqlite.Driver) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: river migrations: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: river migrations: commit: %w", err)
	}
	return nil
}

// migratePostgres applies River's migrations one transaction each (one
// of them adds an enum value that a later statement uses, which
// PostgreSQL refuses inside a single transaction), holding a session lock
// so replicas starting together take turns.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, drv *riverpgxv5.Driver) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", riverMigrateLockKey); err != nil {
		return fmt.Errorf("jobs: river migrations: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrateLockKey)
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	return nil
}
