package groupsync_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/m365sim"
)

// simMode is where BenchmarkSync100k's simulator runs: "process" (a
// `tenantlink m365sim` subprocess, so that the resident set measured is
// tenantlink's alone) or "inprocess" (the older set-up: one process, no
// build, the simulator's 100,000-user tenant counted in the RSS). It is a
// test binary flag: go test ./internal/groupsync/ -bench … -args
// -groupsync.sim=inprocess.
var simMode = flag.String("groupsync.sim", "process", "BenchmarkSync100k's simulator: process or inprocess")

// BenchmarkSync100k imports a 100,000-user tenant ("*") into one directory
// group over a simulator with Graph's latency (100 ms a request) and
// throttling, on SQLite and on PostgreSQL, and reports:
//   - full_users/s and full_s, next to floor_s: the same pages fetched and
//     decoded without storing anything (what Graph paging alone costs), and
//     full/floor, their ratio;
//   - full_requests: Graph requests of the full run;
//   - peak_heap_MB: the heap's growth over the run (with an in-process
//     simulator its tenant is excluded by measuring from after seeding);
//   - peak_rss_MB: the process's peak resident set during the full run
//     (Linux), and rss_growth_MB, how much of it the full run added. With
//     -groupsync.sim=process (the default) the simulator is another
//     process, so this is tenantlink's own (store, connector, sync and the
//     test binary's runtime); sim_rss_MB is the simulator's peak. The
//     peak is reset before the full run, but run one sub-benchmark per
//     process (-bench 'Sync100k/sqlite') to be sure nothing earlier counts;
//   - incr_s, incr_requests and incr_%: an incremental run after 1% of the
//     users changed through /_sim/, as a share of the full run's time.
func BenchmarkSync100k(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchSync100k(b, be.dsn) })
	}
}

func benchSync100k(b *testing.B, dsn func(testing.TB) string) {
	const users = 100_000
	for b.Loop() {
		var e *env
		switch *simMode {
		case "process":
			e = newEnvProcess(b, dsn(b), testenv.SimProcessOptions{Users: users, Groups: 1, Latency: 100 * time.Millisecond, Throttle: true})
		case "inprocess":
			e = newEnv(b, dsn(b), m365sim.Options{Users: users, Groups: 1, Latency: 100 * time.Millisecond, Throttle: true})
		default:
			b.Fatalf("-groupsync.sim=%q, want process or inprocess", *simMode)
		}
		g := e.syncedGroup(b, "Everyone", "*", false, groupsync.MissingKeep)

		floor := fetchFloor(b, e)

		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		peak := sampleHeap()
		rssReset := resetPeakRSS()
		rss0 := rssNow()
		req0 := e.stats(b).Requests
		start := time.Now()
		r := e.run(b, g, groupsync.RunOptions{Trigger: "cli"})
		full := time.Since(start)
		fullReq := e.stats(b).Requests - req0
		heapPeak := peak()
		rss := peakRSS()
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
		req1 := e.stats(b).Requests
		start = time.Now()
		r = e.run(b, g, groupsync.RunOptions{Trigger: "cli"})
		incr := time.Since(start)
		incrReq := e.stats(b).Requests - req1
		if r.Status != store.RunSucceeded || r.Full || r.Counts.Updated != len(ids) {
			b.Fatalf("incremental run = %s full=%v %+v %v", r.Status, r.Full, r.Counts, r.Errors)
		}

		b.ReportMetric(float64(users)/full.Seconds(), "full_users/s")
		b.ReportMetric(full.Seconds(), "full_s")
		b.ReportMetric(floor.Seconds(), "floor_s")
		b.ReportMetric(full.Seconds()/floor.Seconds(), "full/floor")
		b.ReportMetric(float64(fullReq), "full_requests")
		b.ReportMetric(float64(heapPeak-base.HeapAlloc)/(1<<20), "peak_heap_MB")
		if rssReset && rss > 0 {
			b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MB")
			b.ReportMetric(float64(rss-min(rss0, rss))/(1<<20), "rss_growth_MB")
		}
		if e.simProc != nil {
			if r := e.simProc.PeakRSS(); r > 0 {
				b.ReportMetric(float64(r)/(1<<20), "sim_rss_MB")
			}
		}
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

// resetPeakRSS resets the process's peak resident set (Linux), so
// peakRSS then reports the full run's. With an in-process simulator it
// includes the simulator and its tenant: an upper bound on tenantlink's
// own.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is the process's peak resident set in bytes (VmHWM), or 0 when
// the system does not say.
func peakRSS() uint64 { return testenv.ProcStatus("/proc/self/status", "VmHWM:") }

// rssNow is the process's resident set in bytes (VmRSS), or 0.
func rssNow() uint64 { return testenv.ProcStatus("/proc/self/status", "VmRSS:") }

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
