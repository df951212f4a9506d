// Package sqlstore implements store.Store on database/sql for two dialects,
// SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx). It
// owns the schema and its embedded migrations, and it is where secrets meet
// the disk: credentials and PKCE verifiers are sealed with the keyring before
// they are written, and nothing else secret arrives unhashed.
//
// One implementation serves both dialects because the SQL they need is the
// same apart from column types (which live in the per-dialect migrations) and
// a few conversions (timestamps, error codes) kept in this file.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Dialect names, as returned by DB.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

//go:embed migrations
var migrationFS embed.FS

// migrateLockKey is the PostgreSQL advisory lock that serialises migrations
// when several tenantlink processes start at once against one database.
const migrateLockKey int64 = 0x74656e616e746c6b // "tenantlk"

// DB is a store.Store backed by SQLite or PostgreSQL.
//
// The store fills ID (a UUIDv7 string, so ids sort by creation) when a
// created record's ID is empty, and CreatedAt/UpdatedAt, Created/Modified,
// AuditEntry.At and APIToken.CreatedAt from Now when they are zero, on
// create and (UpdatedAt/Modified) on update alike. Times are stored with
// microsecond precision and read back in UTC.
type DB struct {
	// Now is the store's clock; tests replace it to control timestamps.
	Now func() time.Time

	db      *sql.DB
	dialect string
	keys    *secrets.Keyring
	logger  *slog.Logger

	q     querier    // db or tx
	tx    *sql.Tx    // non-nil inside InTx
	stmts *stmtCache // nil on PostgreSQL, whose driver caches statements itself
	bulk  *lruStmts  // the sync's multi-row statements on SQLite (see bulkExec); nil on PostgreSQL
}

var _ store.Store = (*DB)(nil)

// querier is what *sql.DB and *sql.Tx share, so every method runs unchanged
// inside or outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open connects to the database named by dsn, applies pending migrations
// and returns the store. dsn is "sqlite:PATH" or "postgres://…". keys seals
// the secrets the store writes; it is required.
func Open(ctx context.Context, dsn string, keys *secrets.Keyring, logger *slog.Logger) (*DB, error) {
	if keys == nil {
		return nil, errors.New("sqlstore: open: a keyring is required to store secrets")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sqldb, dialect, err := openSQL(dsn)
	if err != nil {
		return nil, err
	}
	if err := retryBusy(ctx, func() error { return sqldb.PingContext(ctx) }); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("sqlstore: connect to %s: %w", dialect, err)
	}
	applied, err := migrate(ctx, sqldb, dialect)
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	for _, v := range applied {
		logger.Info("applied database migration", "dialect", dialect, "version", v)
	}
	db := &DB{
		Now:     time.Now,
		db:      sqldb,
		dialect: dialect,
		keys:    keys,
		logger:  logger,
	}
	db.q = sqldb
	if dialect == DialectSQLite {
		db.stmts = &stmtCache{m: map[string]*sql.Stmt{}}
		db.bulk = &lruStmts{max: maxBulkStmts}
	}
	return db, nil
}

// Migrate applies pending migrations to the database named by dsn and
// returns the versions it applied (none when the schema is current).
func Migrate(ctx context.Context, dsn string) (applied []string, err error) {
	sqldb, dialect, err := openSQL(dsn)
	if err != nil {
		return nil, err
	}
	defer sqldb.Close()
	return migrate(ctx, sqldb, dialect)
}

// SQL returns the underlying pool, for components (the job queue) that share
// the database.
func (db *DB) SQL() *sql.DB { return db.db }

// Dialect returns DialectSQLite or DialectPostgres.
func (db *DB) Dialect() string { return db.dialect }

// Ping checks the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close closes the pool. Inside InTx it is an error: the transaction's owner
// closes nothing.
func (db *DB) Close() error {
	if db.tx != nil {
		return errors.New("sqlstore: Close called inside InTx")
	}
	if db.stmts != nil {
		db.stmts.close()
	}
	if db.bulk != nil {
		db.bulk.close()
	}
	return db.db.Close()
}

// InTx runs fn in one transaction. A nested InTx (fn calling InTx on the
// store it was given) joins the outer transaction. On PostgreSQL a failed
// statement aborts the whole transaction, so fn should return the first
// error rather than carry on.
func (db *DB) InTx(ctx context.Context, fn func(store.Store) error) error {
	if db.tx != nil {
		return fn(db)
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	txdb := *db
	txdb.q, txdb.tx = tx, tx
	// Roll back on every way out but a successful commit: an error, a panic,
	// or runtime.Goexit (t.Fatal inside fn), any of which would otherwise
	// leave SQLite's write lock held.
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := fn(&txdb); err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// withTx runs a multi-statement operation atomically, joining the current
// transaction when there is one.
func (db *DB) withTx(ctx context.Context, fn func(*DB) error) error {
	return db.InTx(ctx, func(s store.Store) error { return fn(s.(*DB)) })
}

func parseDSN(dsn string) (driver, dialect, conn string) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(dsn, "sqlite:")
		p = strings.TrimPrefix(p, "//") // tolerate sqlite:///abs/path
		return "sqlite", DialectSQLite, p
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "pgx", DialectPostgres, dsn
	}
	return "", "", ""
}

func openSQL(dsn string) (*sql.DB, string, error) {
	driver, dialect, conn := parseDSN(dsn)
	switch dialect {
	case DialectSQLite:
		if conn == "" || strings.ContainsAny(conn, "?#") || conn == ":memory:" {
			return nil, "", fmt.Errorf("sqlstore: sqlite DSN needs a file path without '?' or '#', got %q", dsn)
		}
		if err := prepareSQLiteFile(conn); err != nil {
			return nil, "", err
		}
		// _txlock=immediate: every transaction takes the write lock at BEGIN,
		// so two writers queue on busy_timeout instead of one failing with
		// SQLITE_BUSY when its read lock cannot be upgraded.
		//
		// The rest is for bulk writes (a group sync stores 999 users per
		// transaction, spread over several random-keyed indexes), measured
		// with BenchmarkSyncPage and BenchmarkSync100k: the default 2 MB
		// page cache spilled dirty pages mid-transaction and re-read index
		// pages with pread (32 MB, per connection, filled only as pages are
		// used; 64 MB was no faster and cost RSS); statement journals went
		// to temporary files (temp_store in memory); and checkpointing
		// every 1,000 WAL pages copied most commits back into the database
		// straight away (8,192 pages, 32 MB of WAL, lets pages rewritten by
		// consecutive commits be copied once). mmap made no measurable
		// difference and is left off.
		q := "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)" +
			"&_pragma=wal_autocheckpoint(8192)&_txlock=immediate"
		if tracing() {
			driver = "sqlite-locktrace" // see TraceLocks
		}
		sqldb, err := sql.Open(driver, "file:"+conn+q)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
		return sqldb, dialect, nil
	case DialectPostgres:
		sqldb, err := sql.Open(driver, conn)
		if err != nil {
			// pgx's parse errors can quote the DSN, password included.
			return nil, "", errors.New("sqlstore: open postgres: invalid DSN")
		}
		return sqldb, dialect, nil
	}
	scheme, _, _ := strings.Cut(dsn, ":")
	return nil, "", fmt.Errorf("sqlstore: unsupported database %q: want sqlite:PATH or postgres://…", scheme)
}

// prepareSQLiteFile creates the database file owner-only before SQLite does,
// because it holds password hashes and sealed secrets and SQLite would create
// it (and its -wal/-shm files, which copy its mode) world-readable.
func prepareSQLiteFile(p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("sqlstore: create database directory: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: create database file: %w", err)
	}
	return f.Close()
}

type migration struct {
	version string
	sql     string
}

func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration: %w", err)
		}
		ms = append(ms, migration{version: strings.TrimSuffix(e.Name(), ".sql"), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies pending migrations, each in its own transaction together
// with its schema_migrations row, so a crash leaves each one all or nothing.
func migrate(ctx context.Context, sqldb *sql.DB, dialect string) (applied []string, err error) {
	ms, err := migrations(dialect)
	if err != nil {
		return nil, err
	}
	var conn *sql.Conn
	err = retryBusy(ctx, func() (err error) {
		conn, err = sqldb.Conn(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if dialect == DialectPostgres {
		// Session-level lock on this one connection: a second process blocks
		// here until the first has finished, then finds nothing to do.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return nil, fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	}
	// In a transaction: on SQLite that is BEGIN IMMEDIATE, which waits for
	// the write lock (busy_timeout); a bare statement that reads and then
	// writes fails at once with SQLITE_BUSY when another process wrote in
	// between.
	createTable := `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`
	if err := execInTx(ctx, conn, createTable); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		done, err := applyMigration(ctx, conn, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

func execInTx(ctx context.Context, conn *sql.Conn, query string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, query); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// retryBusy runs fn again while SQLite answers SQLITE_BUSY without
// waiting, for up to busyRetryFor. Opening a connection sets WAL mode,
// which needs a lock SQLite does not wait for: several processes starting
// on a new database at once met it.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyRetryFor)
	wait := 5 * time.Millisecond
	for {
		err := fn()
		var le *sqlite.Error
		if err == nil || !errors.As(err, &le) || le.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// busyRetryFor matches the busy_timeout SQLite itself waits.
const busyRetryFor = 10 * time.Second

func applyMigration(ctx context.Context, conn *sql.Conn, m migration) (applied bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: begin: %w", m.version, err)
	}
	defer func() {
		if err != nil || !applied {
			tx.Rollback()
		}
	}()
	// Checked inside the transaction: on SQLite the immediate lock is what
	// keeps a second process from applying the same migration.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", m.version, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", m.version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.version, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: record: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: commit: %w", m.version, err)
	}
	return true, nil
}

// now is the store's clock at the precision both backends keep.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// stamp returns the caller's timestamp at stored precision, or now when it
// is zero: services stamp with their own injected clock, and the store's
// clock only fills in for callers that leave it to the store.
func stamp(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// ts converts a time to the column representation of the dialect: unix
// microseconds on SQLite, timestamptz on PostgreSQL.
func (db *DB) ts(t time.Time) any { return TimeValue(db.dialect, t) }

// TimeValue converts t to a timestamp column's value in dialect: unix
// microseconds on SQLite, timestamptz on PostgreSQL. Other packages that
// share the database (the job queue's tasks table) use it so that every
// table stores time the same way.
func TimeValue(dialect string, t time.Time) any {
	if dialect == DialectSQLite {
		return t.UnixMicro()
	}
	return t.UTC()
}

// tsPtr is ts for nullable columns.
func (db *DB) tsPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return db.ts(*t)
}

// NullTime scans either dialect's timestamp column (see TimeValue).
type NullTime struct {
	T     time.Time
	Valid bool
}

type dbTime = NullTime

// Scan implements sql.Scanner.
func (t *NullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = NullTime{}
	case int64:
		*t = NullTime{T: time.UnixMicro(x).UTC(), Valid: true}
	case time.Time:
		*t = NullTime{T: x.UTC(), Valid: true}
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", v)
	}
	return nil
}

func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.T
	return &v
}

func notFound(format string, args ...any) error {
	return &tenantlink.Error{Code: tenantlink.ENOTFOUND, Message: fmt.Sprintf(format, args...), Err: store.ErrNotFound}
}

func conflict(format string, args ...any) error {
	return &tenantlink.Error{Code: tenantlink.ECONFLICT, Message: fmt.Sprintf(format, args...), Err: store.ErrConflict}
}

func invalid(format string, args ...any) error {
	return &tenantlink.Error{Code: tenantlink.EINVALID, Message: fmt.Sprintf(format, args...)}
}

// constraint classifies a driver error as a unique or foreign-key violation
// and names the index or constraint involved, for both drivers.
func constraint(err error) (kind, name string) {
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// SQLite names columns, not indexes: "UNIQUE constraint failed: users.email_lower".
			_, cols, _ := strings.Cut(le.Error(), "failed: ")
			if le.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return "unique", "pkey " + cols
			}
			return "unique", cols
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return "foreign", ""
		}
		return "", ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			if strings.HasSuffix(pe.ConstraintName, "_pkey") {
				return "unique", "pkey " + pe.ConstraintName
			}
			return "unique", pe.ConstraintName
		case "23503":
			return "foreign", pe.ConstraintName
		}
	}
	return "", ""
}

func isUnique(err error) bool { k, _ := constraint(err); return k == "unique" }

func isForeign(err error) bool { k, _ := constraint(err); return k == "foreign" }

func isPkey(err error) bool {
	k, name := constraint(err)
	return k == "unique" && strings.HasPrefix(name, "pkey ")
}

// likePattern turns a search string into a LIKE pattern matching it anywhere,
// with LIKE's own wildcards taken literally (used with ESCAPE '\').
func likePattern(s string) string {
	return "%" + escapeLike(strings.ToLower(s)) + "%"
}

// prefixPattern is a LIKE pattern matching lower-cased values that start
// with s, its wildcards taken literally.
func prefixPattern(s string) string { return escapeLike(strings.ToLower(s)) + "%" }

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// stmtCache keeps SQLite statements prepared: modernc does not cache them,
// and re-parsing the SQL was half the CPU of a bulk user import. Statement
// texts are constant (limits are parameters), so the cache stays small; it
// stops growing at maxCachedStmts as a guard.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxCachedStmts = 256

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	if len(c.m) >= maxCachedStmts {
		return nil, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// stmt returns the cached statement for query, bound to the transaction when
// there is one, or nil when statements are not cached.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if db.stmts == nil {
		return nil, nil
	}
	st, err := db.stmts.get(ctx, db.db, query)
	if err != nil || st == nil {
		return nil, err
	}
	if db.tx != nil {
		// Reuses the statement already prepared on the transaction's
		// connection; closed with the transaction.
		return db.tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.q.ExecContext(ctx, query, args...)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.q.QueryContext(ctx, query, args...)
}

// rowErr is a Scan target for a failed prepare, so queryRow keeps
// *sql.Row's calling convention (the error surfaces from Scan).
type rowErr struct{ err error }

func (r rowErr) Scan(...any) error { return r.err }

func (db *DB) queryRow(ctx context.Context, query string, args ...any) interface{ Scan(...any) error } {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return rowErr{err}
	}
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.q.QueryRowContext(ctx, query, args...)
}
