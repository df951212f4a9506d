package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// BenchmarkRealtime measures real-time group member sync end to end
// (docs/PERFORMANCE.md): an all-users sync of a 10,000-user tenant with
// real time on, the simulator batching notifications for 1 s, then
// TENANTLINK_BENCH_CHANGES (default 200) users created through /_sim/
// spread evenly over TENANTLINK_BENCH_SPAN (default 60s). Reported: p50,
// p95 and max from each change to when tenantlink's API lists the user
// (sampled every 100 ms), Graph requests tenantlink made after the
// initial import, and the real-time runs started.
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
	for range b.N {
		b.StopTimer()
		if os.Getenv("TENANTLINK_REALTIME_WINDOW") == "" {
			b.Setenv("TENANTLINK_REALTIME_WINDOW", "2s")
		}
		e := testenv.New(b, testenv.Options{Users: 10000, Groups: 1, RunJobs: true, NotificationDelay: time.Second})
		ds := e.AuthorizedDataSource(e.Admin.In(b), "Contoso", nil)
		var g struct{ ID string }
		e.Admin.In(b).Must(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": "Everyone"}, &g)
		e.Admin.In(b).Must(http.StatusOK, "PUT", "/api/v1/groups/"+g.ID+"/sync", map[string]any{
			"enabled": true, "datasource": ds.ID, "sourceGroup": "*", "missingUsers": "keep", "realtime": true}, nil)
		// The initial full import, then wait for the subscriptions.
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
		graphBefore := graphRequests(b, e)
		runsBefore := realtimeRuns(b, e, g.ID)

		changed := make([]time.Time, changes)
		seen := make([]time.Time, changes)
		var mu sync.Mutex
		done := make(chan struct{})
		go func() { // the observer: tenantlink's API, every 100 ms
			defer close(done)
			for {
				var out struct {
					Value []struct{ Email string } `json:"value"`
				}
				e.Admin.In(b).Must(http.StatusOK, "GET", "/api/v1/users?search=rtbench&limit=1000", nil, &out)
				now := time.Now()
				n := 0
				mu.Lock()
				for _, u := range out.Value {
					var i int
					if _, err := fmt.Sscanf(u.Email, "rtbench%d@", &i); err == nil && i < changes && seen[i].IsZero() && !changed[i].IsZero() {
						seen[i] = now
					}
				}
				for i := range seen {
					if !seen[i].IsZero() {
						n++
					}
				}
				mu.Unlock()
				if n == changes {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		b.StartTimer()
		for i := range changes {
			mu.Lock()
			changed[i] = time.Now()
			mu.Unlock()
			e.SimControl(b, "POST", "/_sim/users", map[string]any{"userPrincipalName": fmt.Sprintf("rtbench%d", i), "displayName": fmt.Sprintf("RT bench %d", i)})
			time.Sleep(span / time.Duration(changes))
		}
		select {
		case <-done:
		case <-time.After(3 * time.Minute):
			b.Fatal("not every change reached tenantlink within 3 minutes")
		}
		b.StopTimer()
		lat := make([]time.Duration, changes)
		for i := range lat {
			lat[i] = seen[i].Sub(changed[i])
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		graph := graphRequests(b, e) - graphBefore
		runs := realtimeRuns(b, e, g.ID) - runsBefore
		b.ReportMetric(pct(0.50).Seconds(), "p50_s")
		b.ReportMetric(pct(0.95).Seconds(), "p95_s")
		b.ReportMetric(lat[len(lat)-1].Seconds(), "max_s")
		b.ReportMetric(float64(graph), "graph_requests")
		b.ReportMetric(float64(graph)/float64(changes), "graph_requests/change")
		b.ReportMetric(float64(runs), "runs")
		e.Close()
	}
}

func graphRequests(tb testing.TB, e *testenv.Env) float64 {
	tb.Helper()
	mfs, err := e.App.Metrics.Registry.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "tenantlink_graph_requests_total" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func realtimeRuns(tb testing.TB, e *testenv.Env, groupID string) int {
	tb.Helper()
	var out struct {
		Value []struct{ Trigger string } `json:"value"`
	}
	e.Admin.In(tb).Must(http.StatusOK, "GET", "/api/v1/groups/"+groupID+"/sync/runs?limit=500", nil, &out)
	n := 0
	for _, r := range out.Value {
		if r.Trigger == "realtime" {
			n++
		}
	}
	return n
}

var _ = json.Marshal
