package groupsync_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
)

// BenchmarkSync100k imports a 100,000-user tenant ("*") into one directory
// group over a simulator with Graph's latency (100 ms a request) and
// throttling, on SQLite, and reports:
//   - full_users/s and full_s, next to floor_s: the same pages fetched and
//     decoded without storing anything (what Graph paging alone costs), and
//     full/floor, their ratio;
//   - full_requests: Graph requests of the full run;
//   - peak_heap_MB: the heap's growth over the run (the simulator's tenant,
//     in the same process, is excluded by measuring from after it was
//     seeded);
//   - incr_s, incr_requests and incr_%: an incremental run after 1% of the
//     users changed through /_sim/, as a share of the full run's time.
func BenchmarkSync100k(b *testing.B) {
	const users = 100_000
	for b.Loop() {
		e := newEnv(b, backends[0].dsn(b), m365sim.Options{Users: users, Groups: 1, Latency: 100 * time.Millisecond, Throttle: true})
		g := e.syncedGroup(b, "Everyone", "*", false, groupsync.MissingKeep)

		floor := fetchFloor(b, e)

		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		peak := sampleHeap()
		req0 := e.sim.Stats().Requests
		start := time.Now()
		r := e.run(b, g, groupsync.RunOptions{Trigger: "cli"})
		full := time.Since(start)
		fullReq := e.sim.Stats().Requests - req0
		heapPeak := peak()
		if r.Status != store.RunSucceeded || r.Counts.Created != users {
			b.Fatalf("full run = %s %+v %v", r.Status, r.Counts, r.Errors)
		}

		// 1% of the users change.
		ids := e.someUserIDs(b, users/100)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i, id := range ids {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				e.control(b, "PATCH", "/_sim/users/"+id, map[string]any{"jobTitle": fmt.Sprintf("Changed %d", i)}, nil)
			}()
		}
		wg.Wait()
		req1 := e.sim.Stats().Requests
		start = time.Now()
		r = e.run(b, g, groupsync.RunOptions{Trigger: "cli"})
		incr := time.Since(start)
		incrReq := e.sim.Stats().Requests - req1
		if r.Status != store.RunSucceeded || r.Full || r.Counts.Updated != len(ids) {
			b.Fatalf("incremental run = %s full=%v %+v %v", r.Status, r.Full, r.Counts, r.Errors)
		}

		b.ReportMetric(float64(users)/full.Seconds(), "full_users/s")
		b.ReportMetric(full.Seconds(), "full_s")
		b.ReportMetric(floor.Seconds(), "floor_s")
		b.ReportMetric(full.Seconds()/floor.Seconds(), "full/floor")
		b.ReportMetric(float64(fullReq), "full_requests")
		b.ReportMetric(float64(heapPeak-base.HeapAlloc)/(1<<20), "peak_heap_MB")
		b.ReportMetric(incr.Seconds(), "incr_s")
		b.ReportMetric(float64(incrReq), "incr_requests")
		b.ReportMetric(100*incr.Seconds()/full.Seconds(), "incr_%")
	}
}

// fetchFloor pages through the same users the full run reads, storing
// nothing.
func fetchFloor(b *testing.B, e *env) time.Duration {
	b.Helper()
	conn := e.dss.Connectors["office365"].(connector.DirectoryReader)
	start := time.Now()
	_, _, err := conn.ReadGroupMembers(context.Background(), e.ds, e.dss.Credentials(), "*", "",
		func([]connector.SourceUser, []string) error { return nil })
	if err != nil {
		b.Fatalf("floor read: %v", err)
	}
	return time.Since(start)
}

// sampleHeap samples HeapAlloc every 20 ms until the returned function is
// called, which returns the peak.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); <-done; return peak.Load() }
}

// someUserIDs returns n imported users' object ids.
func (e *env) someUserIDs(b *testing.B, n int) []string {
	b.Helper()
	us, err := e.st.ListUsers(context.Background(), store.UserFilter{DataSource: e.ds.ID, Limit: n})
	must(b, err)
	out := make([]string, 0, n)
	for _, u := range us {
		out = append(out, u.Source.ObjectID)
	}
	return out
}
