package jobs_test

// Tests with real tenantlink processes: the binary is built once, `serve`
// runs as subprocesses against one database and the Microsoft 365
// simulator (in-process, over loopback), and the tests look at the
// database the processes share.

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/m365sim"
)

// world is a simulator, a database holding an authorized Office 365 data
// source and a group whose member sync imports all users, and what a
// `serve` process needs to join them.
type world struct {
	Sim     *m365sim.Server
	Facts   m365sim.Facts
	DB      string // DSN
	KeyFile string
	Secret  string // client secret file
	GroupID string
	DSID    string
	Token   string
}

// newWorld seeds the database through testenv (package app, exactly as
// serve wires it) and closes tenantlink again, leaving the database and
// the simulator to subprocesses.
func newWorld(tb testing.TB, dsn string, users int, schedule string) *world {
	tb.Helper()
	e := testenv.New(tb, testenv.Options{Users: users, Groups: 1, Seed: 11, DB: dsn})
	w := &world{Sim: e.Sim, Facts: e.Facts, DB: e.DB, KeyFile: filepath.Join(e.DataDir, "secret.key"), Secret: filepath.Join(tb.TempDir(), "client-secret")}
	if err := os.WriteFile(w.Secret, []byte(w.Facts.ClientSecret), 0o600); err != nil {
		tb.Fatal(err)
	}
	c := e.Admin
	w.DSID = e.AuthorizedDataSource(c, "Contoso", nil).ID
	var g struct{ ID string }
	c.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Everyone at Contoso"}, &g)
	w.GroupID = g.ID
	c.Must(200, "PUT", "/api/v1/groups/"+g.ID+"/sync", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "*",
		"missingUsers": "disable", "schedule": json.RawMessage(schedule)}, nil)
	w.Token = c.NewToken().Token
	e.Close()
	return w
}

// proc is one `tenantlink serve` subprocess.
type proc struct {
	cmd   *exec.Cmd
	URL   string
	lines chan string // stderr (logs), line by line
	done  chan struct{}
}

func (w *world) serve(tb testing.TB, env ...string) *proc {
	tb.Helper()
	addr := testenv.FreeAddr(tb)
	cmd := exec.Command(testenv.Binary(tb), "serve", "--addr", addr, "--data", tb.TempDir(), "--db", w.DB,
		"--key-file", w.KeyFile, "--ms-authority", w.Facts.URL, "--ms-graph", w.Facts.URL,
		"--ms-client-id", w.Facts.ClientID, "--ms-client-secret-file", w.Secret)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &proc{cmd: cmd, URL: "http://" + addr, lines: make(chan string, 10000), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is reading: drop
			}
		}
		cmd.Wait()
	}()
	tb.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(p.URL + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			tb.Fatalf("tenantlink serve exited early: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
	}
	tb.Fatal("tenantlink serve did not answer /healthz within 30s")
	return nil
}

// kill ends the process with SIGKILL: no shutdown, no cleanup.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// openDB opens the shared database for the test's own queries.
func openDB(tb testing.TB, dsn string) (*sql.DB, string) {
	tb.Helper()
	driver, conn, ph := "pgx", dsn, "$1"
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, conn = "sqlite", "file:"+p+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, ph
}

func count(tb testing.TB, db *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestTwoProcessesShareTheQueue runs two `serve` processes on one
// PostgreSQL database, both ticking every 100 ms, and makes the group's
// sync task due several times: each due time must give exactly one run.
func TestTwoProcessesShareTheQueue(t *testing.T) {
	dsn := testenv.PostgresDatabase(t)
	w := newWorld(t, dsn, 30, `{"kind":"minutes","every":60}`)
	env := []string{"TENANTLINK_JOBS_TICK=100ms", "TENANTLINK_JOBS_RETRY_BASE=100ms", "TENANTLINK_JOBS_CONFLICT_WAIT=200ms"}
	a, b := w.serve(t, env...), w.serve(t, env...)
	db, _ := openDB(t, dsn)
	var taskID string
	if err := db.QueryRow(`SELECT id FROM tasks WHERE target = $1`, w.GroupID).Scan(&taskID); err != nil {
		t.Fatalf("the group's task: %v", err)
	}
	runs := func() int {
		return count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND trigger_kind = 'schedule' AND NOT dry_run`, w.GroupID)
	}
	const ticks = 4
	for i := 1; i <= ticks; i++ {
		// Make the task due now, as the clock reaching next_run would.
		if _, err := db.Exec(`UPDATE tasks SET next_run = now() - interval '1 second' WHERE id = $1`, taskID); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 20*time.Second, fmt.Sprintf("scheduled run %d to finish", i), func() bool {
			return count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND trigger_kind = 'schedule' AND status <> 'running'`, w.GroupID) >= i
		})
		// Both replicas have ticked many times since the task was due.
		time.Sleep(500 * time.Millisecond)
		if got := runs(); got != i {
			t.Fatalf("after %d due times: %d scheduled runs, want %d", i, got, i)
		}
		var next time.Time
		if err := db.QueryRow(`SELECT next_run FROM tasks WHERE id = $1`, taskID).Scan(&next); err != nil || !next.After(time.Now()) {
			t.Fatalf("after run %d: next_run = %v (%v), want a time in the future", i, next, err)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'group_sync' AND args->>'taskId' = $1`, taskID); got != ticks {
		t.Errorf("queued jobs = %d, want %d (one per due time)", got, ticks)
	}
	if got := count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'succeeded'`, w.GroupID); got != ticks {
		t.Errorf("succeeded runs = %d, want %d", got, ticks)
	}
	if got := count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID); got == 0 {
		t.Error("no users imported")
	}
	t.Run("pages, webhook and bad input over HTTP", func(t *testing.T) {
		c := testenv.SignIn(t, a.URL, testenv.AdminEmail, testenv.Password)
		for _, tt := range []struct{ path, want string }{
			{"/tasks", "Group member sync: Everyone at Contoso"},
			{"/tasks", "Every 60 minutes"},
			{"/groups/" + w.GroupID, `id="sync-runs"`},
			{"/groups/" + w.GroupID, `value="*"`},
		} {
			if body := c.Get(tt.path); !strings.Contains(body, tt.want) {
				t.Errorf("GET %s lacks %q", tt.path, tt.want)
			}
		}
		anon := testenv.TokenClient(t, b.URL, "")
		anon.Must(404, "POST", "/hooks/tasks/"+taskID+"/not-the-secret", nil, nil)
		c.Must(400, "PUT", "/api/v1/groups/"+w.GroupID+"/sync", map[string]any{"enabled": true, "datasource": w.DSID,
			"sourceGroup": "*", "schedule": map[string]any{"kind": "weekly", "time": "25:00"}}, nil)
		var v struct{ Task struct{ ScheduleText string } }
		c.Must(200, "GET", "/api/v1/groups/"+w.GroupID+"/sync", nil, &v)
		if v.Task.ScheduleText != "Every 60 minutes" {
			t.Errorf("schedule after a refused change = %q, want it unchanged", v.Task.ScheduleText)
		}
	})
	// Both processes served the same queue: the task list is the same.
	for _, p := range []*proc{a, b} {
		c := testenv.TokenClient(t, p.URL, w.Token)
		var list struct{ Value []struct{ ID, Status string } }
		c.Must(200, "GET", "/api/v1/tasks", nil, &list)
		if len(list.Value) != 1 || list.Value[0].ID != taskID || list.Value[0].Status != "succeeded" {
			t.Errorf("GET /api/v1/tasks on %s = %+v, want the one task, succeeded", p.URL, list.Value)
		}
	}
}

// TestCrashedImportCompletes imports a 20,000-user tenant in a `serve`
// process that is killed with SIGKILL mid-run, twice, at different
// points; after each restart the new process finds the run without
// heartbeat, closes it and queues a run that takes it over, and the sync
// picks up. Afterwards the directory must equal the source: every user
// once, with its object id, nothing missing — checked by counting and by
// a full `tenantlink import` that finds nothing to change.
func TestCrashedImportCompletes(t *testing.T) {
	const users = 20000
	w := newWorld(t, "", users, `{"kind":"onDemand"}`)
	// The killed run's record still says running; the restarted process
	// closes it once its heartbeat is older than the stale window and
	// queues a run that takes it over (River's own rescue, hours away by
	// default, plays no part). The window is shortened here so the test
	// takes seconds; TestKilledRunTakenOverWithDefaults runs the defaults.
	const staleAfter = 2 * time.Second
	env := []string{"TENANTLINK_JOBS_TICK=200ms", "TENANTLINK_JOBS_RETRY_BASE=100ms", "TENANTLINK_JOBS_CONFLICT_WAIT=300ms",
		"TENANTLINK_SYNC_STALE_AFTER=" + staleAfter.String()}
	db, _ := openDB(t, w.DB)

	p := w.serve(t, env...)
	c := testenv.TokenClient(t, p.URL, w.Token)
	c.Must(202, "POST", "/api/v1/groups/"+w.GroupID+"/sync", nil, nil)

	// Each page of users takes a while, so that the kills land mid-import
	// however large the batches the store commits.
	fault, err := http.Post(w.Facts.URL+"/_sim/faults", "application/json", strings.NewReader(`{"path":"/users","latencyMs":150}`))
	if err != nil || fault.StatusCode != http.StatusCreated {
		t.Fatalf("inject simulator latency: %v %v", err, fault)
	}
	fault.Body.Close()
	// Kill once the run has committed some users, then, after the
	// restart, once it has committed more: both points are mid-import.
	before := 0
	for i := range 2 {
		deadline := time.Now().Add(60 * time.Second)
		for count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID) <= before {
			if count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'succeeded'`, w.GroupID) > 0 {
				t.Fatalf("crash %d: the import finished before the kill; slow the simulator more", i+1)
			}
			if time.Now().After(deadline) {
				t.Fatalf("crash %d: no users committed within 60s", i+1)
			}
			time.Sleep(10 * time.Millisecond)
		}
		p.kill()
		imported := count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID)
		if imported >= users {
			t.Fatalf("crash %d: all %d users were already imported at the kill; slow the simulator more", i+1, imported)
		}
		t.Logf("crash %d: killed with %d of %d users imported", i+1, imported, users)
		before = imported
		// Let the stale window pass while no process runs: the restarted
		// process must take over by itself.
		time.Sleep(staleAfter + time.Second)
		if got := count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'running'`, w.GroupID); got != 1 {
			t.Fatalf("crash %d: %d running runs after the kill, want the dead one still marked running", i+1, got)
		}
		p = w.serve(t, env...)
	}
	deadline := time.Now().Add(50 * time.Second)
	for count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'succeeded' AND NOT dry_run`, w.GroupID) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 50s waiting for the import to succeed after the restarts; runs and jobs:\n%s\nlog:\n%s", dump(t, db), drain(p))
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	// Each restart took over the dead run by itself: no run is left
	// running, and the two killed ones are closed as failed.
	if got := count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'running'`, w.GroupID); got != 0 {
		t.Errorf("runs still marked running after the import succeeded = %d, want 0", got)
	}
	if got := count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'failed'`, w.GroupID); got != 2 {
		t.Errorf("failed runs = %d, want 2 (the runs of the killed processes, taken over)", got)
	}

	imported := count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID)
	distinct := count(t, db, `SELECT count(DISTINCT source_object_id) FROM users WHERE source_datasource = $1`, w.DSID)
	members := count(t, db, `SELECT count(*) FROM group_members WHERE group_id = $1`, w.GroupID)
	if imported != distinct || members != imported || imported < users {
		t.Errorf("after the crashes: %d imported users, %d distinct object ids, %d group members; want the same number, at least %d", imported, distinct, members, users)
	}
	out, err := exec.Command(testenv.Binary(t), "import", "--full", "--db", w.DB, "--data", t.TempDir(), "--key-file", w.KeyFile,
		"--ms-authority", w.Facts.URL, "--ms-graph", w.Facts.URL, "--ms-client-id", w.Facts.ClientID,
		"--ms-client-secret-file", w.Secret, "--log-level", "warn", "Everyone at Contoso").CombinedOutput()
	if err != nil {
		t.Fatalf("tenantlink import --full: %v\n%s", err, out)
	}
	want := fmt.Sprintf("succeeded: created 0, updated 0, unchanged %d, disabled 0, removed 0, left group 0", imported)
	if !strings.Contains(string(out), want) {
		t.Errorf("full re-import after the crashes printed:\n%s\nwant a line %q (the directory already equals the source)", out, want)
	}
}

// TestKilledRunTakenOverWithDefaults: a `serve` process is killed with
// SIGKILL mid-import and restarted with the production defaults (no
// tuning): River would not rescue the job for over two hours, but the
// restarted process finds the run without heartbeat after a minute,
// closes it saying why, and starts a run that takes it over — within two
// minutes of the kill — and completes the import.
func TestKilledRunTakenOverWithDefaults(t *testing.T) {
	const users = 20000
	w := newWorld(t, "", users, `{"kind":"onDemand"}`)
	db, _ := openDB(t, w.DB)
	p := w.serve(t)
	c := testenv.TokenClient(t, p.URL, w.Token)
	c.Must(202, "POST", "/api/v1/groups/"+w.GroupID+"/sync", nil, nil)
	fault, err := http.Post(w.Facts.URL+"/_sim/faults", "application/json", strings.NewReader(`{"path":"/users","latencyMs":150}`))
	if err != nil || fault.StatusCode != http.StatusCreated {
		t.Fatalf("inject simulator latency: %v %v", err, fault)
	}
	fault.Body.Close()
	testenv.WaitFor(t, 60*time.Second, "some users to be imported", func() bool {
		return count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID) > 0
	})
	p.kill()
	killed := time.Now()
	if n := count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID); n >= users {
		t.Fatalf("all %d users were imported at the kill; slow the simulator more", n)
	}
	var dead string
	if err := db.QueryRow(`SELECT id FROM sync_runs WHERE group_id = $1 AND status = 'running'`, w.GroupID).Scan(&dead); err != nil {
		t.Fatalf("the killed run: %v", err)
	}
	// River's leadership of the dead process lapses by itself (15 s
	// lease); the takeover does not depend on it.
	p = w.serve(t)
	testenv.WaitFor(t, 2*time.Minute, "a run taking over the dead one", func() bool {
		return count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND id <> $2`, w.GroupID, dead) > 0
	})
	took := time.Since(killed)
	t.Logf("taken over %v after the kill", took.Round(time.Second))
	if took > 2*time.Minute {
		t.Errorf("taken over %v after the kill, want within 2 minutes", took)
	}
	var status, result string
	if err := db.QueryRow(`SELECT status, result FROM sync_runs WHERE id = $1`, dead).Scan(&status, &result); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(result, "No heartbeat since") || !strings.Contains(result, "the process running it probably stopped") {
		t.Errorf("dead run = %s %s, want failed saying it had no heartbeat", status, result)
	}
	testenv.WaitFor(t, 60*time.Second, "the taking-over run to succeed", func() bool {
		return count(t, db, `SELECT count(*) FROM sync_runs WHERE group_id = $1 AND status = 'succeeded'`, w.GroupID) > 0
	})
	imported := count(t, db, `SELECT count(*) FROM users WHERE source_datasource = $1`, w.DSID)
	members := count(t, db, `SELECT count(*) FROM group_members WHERE group_id = $1`, w.GroupID)
	if imported < users || members != imported {
		t.Errorf("after the takeover: %d imported, %d members; want at least %d, equal", imported, members, users)
	}
}

// dump lists the sync runs and River jobs, for a failure message.
func dump(tb testing.TB, db *sql.DB) string {
	var b strings.Builder
	rows, err := db.Query(`SELECT id, status, trigger_kind, result FROM sync_runs ORDER BY started_at`)
	if err == nil {
		for rows.Next() {
			var id, st, tr, res string
			rows.Scan(&id, &st, &tr, &res)
			fmt.Fprintf(&b, "run %s %s %s %.300s\n", id, st, tr, res)
		}
		rows.Close()
	}
	rows, err = db.Query(`SELECT id, state, attempt, args FROM river_job ORDER BY id`)
	if err == nil {
		for rows.Next() {
			var id, attempt int
			var st, args string
			rows.Scan(&id, &st, &attempt, &args)
			fmt.Fprintf(&b, "job %d %s attempt %d %s\n", id, st, attempt, args)
		}
		rows.Close()
	}
	return b.String()
}

// drain returns the log lines a process has buffered.
func drain(p *proc) string {
	var b strings.Builder
	for {
		select {
		case l := <-p.lines:
			if strings.Contains(l, "sync") || strings.Contains(l, "ERROR") || strings.Contains(l, "WARN") {
				b.WriteString(l + "\n")
			}
		default:
			return b.String()
		}
	}
}
