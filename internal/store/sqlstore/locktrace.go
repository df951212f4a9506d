package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// LockTrace measures, on SQLite, how long transactions wait for the write
// lock (BEGIN IMMEDIATE) and hold it (BEGIN to COMMIT or ROLLBACK), and
// how long statements outside a transaction take (their own lock wait
// included), for every connection of the pools opened after TraceLocks —
// the store's and River's, which share it. It is a diagnostic for
// benchmarks (BenchmarkRealtime's TENANTLINK_BENCH_LOCKTRACE), not for
// production: each call pays a stack walk.
type LockTrace struct {
	w         io.Writer
	threshold time.Duration

	mu       sync.Mutex
	maxWait  time.Duration
	maxHold  time.Duration
	waitWho  string
	holdWho  string
	failures int
}

var (
	lockTraceMu sync.Mutex
	lockTrace   *LockTrace
)

// TraceLocks makes SQLite databases opened from now on report to the
// returned trace, which writes a line to w for each transaction that
// waits or holds longer than threshold and each statement outside a
// transaction slower than it. It is process-wide; call it once.
func TraceLocks(w io.Writer, threshold time.Duration) *LockTrace {
	lockTraceMu.Lock()
	defer lockTraceMu.Unlock()
	if lockTrace == nil {
		lockTrace = &LockTrace{w: w, threshold: threshold}
		sql.Register("sqlite-locktrace", traceDriver{&sqlite.Driver{}})
	}
	return lockTrace
}

func tracing() bool {
	lockTraceMu.Lock()
	defer lockTraceMu.Unlock()
	return lockTrace != nil
}

// MaxWait is the longest a transaction waited for the write lock, and
// the code that began it.
func (t *LockTrace) MaxWait() (time.Duration, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maxWait, t.waitWho
}

// MaxHold is the longest a transaction held the write lock, and the code
// that began it.
func (t *LockTrace) MaxHold() (time.Duration, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maxHold, t.holdWho
}

// Failures counts BEGINs that gave up (busy_timeout or context).
func (t *LockTrace) Failures() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures
}

func (t *LockTrace) printf(format string, args ...any) {
	fmt.Fprintf(t.w, time.Now().UTC().Format("15:04:05.000")+" "+format+"\n", args...)
}

func (t *LockTrace) begun(who string, wait time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait > t.maxWait {
		t.maxWait, t.waitWho = wait, who
	}
	if err != nil {
		t.failures++
		t.printf("BEGIN failed after %v: %s: %v", wait.Round(time.Millisecond), who, err)
	}
}

func (t *LockTrace) ended(who string, wait, hold time.Duration, stmts int, inStmts time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if hold > t.maxHold {
		t.maxHold, t.holdWho = hold, who
	}
	if wait > t.threshold || hold > t.threshold {
		t.printf("TX wait=%v hold=%v statements=%d in statements=%v: %s", wait.Round(time.Millisecond),
			hold.Round(time.Millisecond), stmts, inStmts.Round(time.Millisecond), who)
	}
}

func (t *LockTrace) statement(q string, d time.Duration) {
	if d <= t.threshold {
		return
	}
	q, _, _ = strings.Cut(strings.TrimSpace(q), "\n")
	t.mu.Lock()
	defer t.mu.Unlock()
	t.printf("STMT %v %q: %s", d.Round(time.Millisecond), q, caller())
}

// caller names the tenantlink and River functions on the stack.
func caller() string {
	pcs := make([]uintptr, 48)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for len(out) < 5 {
		f, more := frames.Next()
		fn := f.Function
		if (strings.Contains(fn, "tenantlink/internal/") || strings.Contains(fn, "riverqueue/")) && !strings.Contains(fn, "sqlstore.(*trace") {
			out = append(out, fn[strings.LastIndex(fn, "/")+1:])
		}
		if !more {
			break
		}
	}
	return strings.Join(out, " < ")
}

type traceDriver struct{ d driver.Driver }

func (d traceDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return &traceConn{Conn: c}, nil
}

// traceConn wraps a modernc connection; database/sql uses one connection
// from one goroutine at a time, so its fields need no lock.
type traceConn struct {
	driver.Conn
	tx      *traceTx
	stmts   int
	inStmts time.Duration
}

func (c *traceConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	who := caller()
	start := time.Now()
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	lockTrace.begun(who, time.Since(start), err)
	if err != nil {
		return nil, err
	}
	c.tx = &traceTx{Tx: tx, c: c, who: who, wait: time.Since(start), begun: time.Now()}
	c.stmts, c.inStmts = 0, 0
	return c.tx, nil
}

func (c *traceConn) did(q string, start time.Time) {
	d := time.Since(start)
	if c.tx != nil {
		c.stmts++
		c.inStmts += d
		return
	}
	lockTrace.statement(q, d)
}

func (c *traceConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &traceStmt{Stmt: st, c: c, q: q}, nil
}

func (c *traceConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	start := time.Now()
	defer c.did(q, start)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *traceConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	start := time.Now()
	defer c.did(q, start)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *traceConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *traceConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *traceConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

type traceTx struct {
	driver.Tx
	c     *traceConn
	who   string
	wait  time.Duration
	begun time.Time
}

func (t *traceTx) end() {
	lockTrace.ended(t.who, t.wait, time.Since(t.begun), t.c.stmts, t.c.inStmts)
	t.c.tx = nil
}

func (t *traceTx) Commit() error {
	defer t.end()
	return t.Tx.Commit()
}

func (t *traceTx) Rollback() error {
	defer t.end()
	return t.Tx.Rollback()
}

type traceStmt struct {
	driver.Stmt
	c *traceConn
	q string
}

func (s *traceStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	start := time.Now()
	defer s.c.did(s.q, start)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *traceStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	start := time.Now()
	defer s.c.did(s.q, start)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
