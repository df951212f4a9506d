package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// BenchmarkRealtime measures real-time group member sync end to end, in
// issue 13's scenario (docs/PERFORMANCE.md): a group synced in real time
// from a 10,000-member source group of the tenant, the simulator batching
// notifications for 1 s, then TENANTLINK_BENCH_CHANGES (default 200)
// changes made through /_sim/ evenly over TENANTLINK_BENCH_SPAN (default
// 60s), in turn: a user added to the source group, a member removed from
// it (the sync's missingUsers is disable: the user shows disabled), a
// member renamed. Reported: p50, p95 and max from each change to
// when tenantlink's API shows it (sampled every 100 ms), the same per kind
// of change, the Graph HTTP requests tenantlink made after the initial
// import and the requests inside them ($batch items counted one by one,
// every other request once), and the real-time runs started.
//
// TENANTLINK_BENCH_SOURCE=all measures the all-users variant instead (an
// all-users sync; the changes are users created). TENANTLINK_REALTIME_WINDOW
// sets the coalescing window (default: the product's);
// TENANTLINK_BENCH_OVERRIDE=1 turns the sync's override on (members
// removed upstream leave the local group); TENANTLINK_BENCH_LOG=file
// writes tenantlink's log and every Graph request there;
// TENANTLINK_BENCH_BACKEND=postgres stores in PostgreSQL
// (TENANTLINK_TEST_POSTGRES) instead of SQLite;
// TENANTLINK_BENCH_LOCKTRACE=file (SQLite) writes there every transaction
// that waited for or held the write lock over 50 ms, and every slower
// statement outside one, and reports the longest wait and hold
// (sqlstore.TraceLocks: the store's and River's transactions alike).
//
//	go test -run '^$' -bench BenchmarkRealtime -benchtime 1x ./internal/realtime/
func BenchmarkRealtime(b *testing.B) {
	changes, span := 200, 60*time.Second
	if v, err := strconv.Atoi(os.Getenv("TENANTLINK_BENCH_CHANGES")); err == nil && v > 0 {
		changes = v
	}
	if v, err := time.ParseDuration(os.Getenv("TENANTLINK_BENCH_SPAN")); err == nil && v > 0 {
		span = v
	}
	var window time.Duration
	if v, err := time.ParseDuration(os.Getenv("TENANTLINK_REALTIME_WINDOW")); err == nil && v > 0 {
		window = v
	}
	allUsers := os.Getenv("TENANTLINK_BENCH_SOURCE") == "all"
	var locks *sqlstore.LockTrace
	if path := os.Getenv("TENANTLINK_BENCH_LOCKTRACE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		locks = sqlstore.TraceLocks(f, 50*time.Millisecond)
	}
	for range b.N {
		b.StopTimer()
		var counter graphCounter
		o := testenv.Options{Users: 10, Groups: 1, RunJobs: true, NotificationDelay: time.Second,
			Realtime: app.RealtimeConfig{Window: window}, SimHandler: counter.wrap}
		if allUsers {
			o.Users = 10000
		}
		o.Backend = os.Getenv("TENANTLINK_BENCH_BACKEND")          // "postgres": TENANTLINK_TEST_POSTGRES
		if path := os.Getenv("TENANTLINK_BENCH_LOG"); path != "" { // tenantlink's log, for a closer look
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			o.Logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
			counter.log = o.Logger.With("component", "bench")
		}
		e := testenv.New(b, o)
		bench := &rtBench{e: e, n: changes, allUsers: allUsers, override: os.Getenv("TENANTLINK_BENCH_OVERRIDE") != ""}
		bench.setUp(b)
		graphBefore := counter.snapshot()
		runsBefore := realtimeRuns(b, e, bench.group)

		bench.changed = make([]time.Time, changes)
		bench.seen = make([]time.Time, changes)
		done := make(chan struct{})
		go bench.observe(b, done)
		b.StartTimer()
		for i := range changes {
			bench.change(b, i)
			time.Sleep(span / time.Duration(changes))
		}
		select {
		case <-done:
		case <-time.After(3 * time.Minute):
			b.Fatalf("not every change reached tenantlink within 3 minutes; missing: %v; simulator: %+v", bench.missing(), e.Sim.NotificationStats())
		}
		b.StopTimer()
		graph := counter.snapshot()
		runs, longest := realtimeRunStats(b, e, bench.group)
		runs -= runsBefore
		all := bench.latencies(-1)
		b.ReportMetric(pct(all, 0.50).Seconds(), "p50_s")
		b.ReportMetric(pct(all, 0.95).Seconds(), "p95_s")
		b.ReportMetric(all[len(all)-1].Seconds(), "max_s")
		if !allUsers {
			for k, name := range []string{"add", "remove", "rename"} {
				l := bench.latencies(k)
				b.ReportMetric(pct(l, 0.95).Seconds(), name+"_p95_s")
			}
		}
		http, items := graph.http-graphBefore.http, graph.items-graphBefore.items
		b.ReportMetric(float64(http), "graph_http")
		b.ReportMetric(float64(http)/float64(changes), "graph_http/change")
		b.ReportMetric(float64(items), "graph_requests")
		b.ReportMetric(float64(items)/float64(changes), "graph_requests/change")
		b.ReportMetric(float64(runs), "runs")
		b.ReportMetric(longest.Seconds(), "longest_run_s")
		st := e.Sim.NotificationStats()
		b.ReportMetric(float64(st.Posts), "notification_posts")
		b.ReportMetric(float64(st.Failed+st.Throttled+st.ThrottleDropped), "notifications_late")
		// Posts the receiver did not answer 2xx within Graph's 3 s (its
		// 503s included), whatever the reason.
		b.ReportMetric(float64(st.Failed), "notifications_failed")
		if locks != nil {
			wait, waitWho := locks.MaxWait()
			hold, holdWho := locks.MaxHold()
			b.Logf("longest lock wait %v (%s); longest hold %v (%s)", wait, waitWho, hold, holdWho)
			b.ReportMetric(wait.Seconds(), "max_lock_wait_s")
			b.ReportMetric(hold.Seconds(), "max_lock_hold_s")
			b.ReportMetric(float64(locks.Failures()), "begin_failures")
		}
		e.Close()
	}
}

// rtBench is one run of the scenario.
type rtBench struct {
	e        *testenv.Env
	n        int
	allUsers bool
	override bool
	src      string   // the tenant's source group
	group    string   // the local group
	subject  []string // change i's user id in the tenant (group variant)

	mu      sync.Mutex
	changed []time.Time
	seen    []time.Time
}

// setUp builds the tenant and the synced group, runs the initial full
// import and waits for both subscriptions.
func (r *rtBench) setUp(b *testing.B) {
	e := r.e
	ds := e.AuthorizedDataSource(e.Admin.In(b), "Contoso", nil)
	source := "*"
	if !r.allUsers {
		// 10,000 members: the changes' subjects (rtbench…; those to be
		// added are not members yet) and fillers.
		var members []string
		newUser := func(upn, name string) string {
			var u struct{ ID string }
			if err := json.Unmarshal(e.SimControl(b, "POST", "/_sim/users", map[string]any{"userPrincipalName": upn, "displayName": name}), &u); err != nil {
				b.Fatal(err)
			}
			return u.ID
		}
		r.subject = make([]string, r.n)
		for i := range r.n {
			r.subject[i] = newUser(fmt.Sprintf("rtbench%d", i), fmt.Sprintf("RT bench %d", i))
			if i%3 != 0 {
				members = append(members, r.subject[i])
			}
		}
		for i := 0; len(members) < 10000; i++ {
			members = append(members, newUser(fmt.Sprintf("rtmember%d", i), fmt.Sprintf("RT member %d", i)))
		}
		var g struct{ ID string }
		if err := json.Unmarshal(e.SimControl(b, "POST", "/_sim/groups", map[string]any{"displayName": "RT source", "members": members}), &g); err != nil {
			b.Fatal(err)
		}
		r.src, source = g.ID, g.ID
	}
	var g struct{ ID string }
	e.Admin.In(b).Must(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": "Real time"}, &g)
	r.group = g.ID
	e.Admin.In(b).Must(http.StatusOK, "PUT", "/api/v1/groups/"+g.ID+"/sync", map[string]any{
		"enabled": true, "datasource": ds.ID, "sourceGroup": source, "override": r.override, "missingUsers": "disable", "realtime": true}, nil)
	e.Admin.In(b).Must(http.StatusAccepted, "POST", "/api/v1/groups/"+g.ID+"/sync", nil, nil)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		subs, err := e.App.Store.ListGraphSubscriptions(context.Background(), ds.ID)
		if err != nil {
			b.Fatal(err)
		}
		var runs struct {
			Value []struct{ Status string } `json:"value"`
		}
		e.Admin.In(b).Must(http.StatusOK, "GET", "/api/v1/groups/"+g.ID+"/sync/runs", nil, &runs)
		if len(subs) == 2 && len(runs.Value) > 0 && runs.Value[0].Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("initial import or subscriptions not done in 5 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Let the notifications of the set-up itself (if any) pass.
	time.Sleep(3 * time.Second)
}

// change makes change i through /_sim/ and notes when.
func (r *rtBench) change(b *testing.B, i int) {
	r.mu.Lock()
	r.changed[i] = time.Now()
	r.mu.Unlock()
	e := r.e
	switch {
	case r.allUsers:
		e.SimControl(b, "POST", "/_sim/users", map[string]any{"userPrincipalName": fmt.Sprintf("rtbench%d", i), "displayName": fmt.Sprintf("RT bench %d", i)})
	case i%3 == 0:
		e.SimControl(b, "POST", "/_sim/groups/"+r.src+"/members/"+r.subject[i], nil)
	case i%3 == 1:
		e.SimControl(b, "DELETE", "/_sim/groups/"+r.src+"/members/"+r.subject[i], nil)
	default:
		e.SimControl(b, "PATCH", "/_sim/users/"+r.subject[i], map[string]any{"displayName": fmt.Sprintf("RT renamed %d", i)})
	}
}

// done says whether tenantlink's API shows change i in u.
func (r *rtBench) done(i int, displayName string, active bool, groups []string) bool {
	switch {
	case r.allUsers:
		return true // listed at all
	case i%3 == 0:
		return slices.Contains(groups, r.group)
	case i%3 == 1: // disabled (missingUsers: disable); with override also out of the group
		return !active && (!r.override || !slices.Contains(groups, r.group))
	}
	return displayName == fmt.Sprintf("RT renamed %d", i)
}

// observe polls tenantlink's API every 100 ms until every change shows.
func (r *rtBench) observe(b *testing.B, done chan<- struct{}) {
	defer close(done)
	for {
		var out struct {
			Value []struct {
				Email, DisplayName string
				Active             bool
				Groups             []string
			} `json:"value"`
		}
		r.e.Admin.In(b).Must(http.StatusOK, "GET", "/api/v1/users?search=rtbench&limit=1000", nil, &out)
		now := time.Now()
		n := 0
		r.mu.Lock()
		for _, u := range out.Value {
			var i int
			if _, err := fmt.Sscanf(u.Email, "rtbench%d@", &i); err == nil && i < r.n && r.seen[i].IsZero() && !r.changed[i].IsZero() &&
				r.done(i, u.DisplayName, u.Active, u.Groups) {
				r.seen[i] = now
			}
		}
		for i := range r.seen {
			if !r.seen[i].IsZero() {
				n++
			}
		}
		r.mu.Unlock()
		if n == r.n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// missing names the changes not seen yet.
func (r *rtBench) missing() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i := range r.n {
		if r.seen[i].IsZero() {
			out = append(out, fmt.Sprintf("%d(%s)", i, []string{"add", "remove", "rename"}[i%3]))
		}
	}
	return out
}

// latencies are the sorted latencies of changes of kind k (i%3; -1: all).
func (r *rtBench) latencies(k int) []time.Duration {
	var out []time.Duration
	for i := range r.n {
		if k < 0 || i%3 == k {
			out = append(out, r.seen[i].Sub(r.changed[i]))
		}
	}
	slices.Sort(out)
	return out
}

func pct(lat []time.Duration, p float64) time.Duration {
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

// graphCounter counts the Graph requests the simulator answers: HTTP
// requests to /v1.0/, and the requests inside them ($batch items one by
// one — Graph evaluates each against its limits —, every other request
// once).
type graphCounter struct {
	http, items atomic.Int64
	// log, when set, gets a line per request (TENANTLINK_BENCH_LOG).
	log *slog.Logger
}

type graphCount struct{ http, items int64 }

func (c *graphCounter) snapshot() graphCount {
	return graphCount{c.http.Load(), c.items.Load()}
}

func (c *graphCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/") {
			c.http.Add(1)
			n := int64(1)
			if r.URL.Path == "/v1.0/$batch" {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				var in struct{ Requests []struct{ URL string } }
				if json.Unmarshal(body, &in) == nil {
					n = int64(len(in.Requests))
				}
				if c.log != nil {
					for _, it := range in.Requests {
						c.log.Info("graph batch item", "path", strings.SplitN(it.URL, "?", 2)[0])
					}
				}
			}
			if c.log != nil {
				c.log.Info("graph request", "method", r.Method, "path", r.URL.Path)
			}
			c.items.Add(n)
		}
		h.ServeHTTP(w, r)
	})
}

func realtimeRuns(tb testing.TB, e *testenv.Env, groupID string) int {
	n, _ := realtimeRunStats(tb, e, groupID)
	return n
}

// realtimeRunStats counts a group's real-time runs and their longest
// duration.
func realtimeRunStats(tb testing.TB, e *testenv.Env, groupID string) (int, time.Duration) {
	tb.Helper()
	var out struct {
		Value []struct {
			Trigger    string
			StartedAt  time.Time
			FinishedAt *time.Time
		} `json:"value"`
	}
	e.Admin.In(tb).Must(http.StatusOK, "GET", "/api/v1/groups/"+groupID+"/sync/runs?limit=500", nil, &out)
	n, longest := 0, time.Duration(0)
	for _, r := range out.Value {
		if r.Trigger == "realtime" {
			n++
			if r.FinishedAt != nil {
				longest = max(longest, r.FinishedAt.Sub(r.StartedAt))
			}
		}
	}
	return n, longest
}
