package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
	"github.com/tenantlink/tenantlink/m365sim"
)

// The benchmarks run against a simulator with Graph's documented
// throttling on and 100 ms added to every request, so round trips, not
// CPU, dominate as they do against the real service. `make bench` runs
// each once (-benchtime 1x); docs/PERFORMANCE.md has the figures.
const benchLatency = 100 * time.Millisecond

func benchTenant(b *testing.B, users int) *tenant {
	b.Helper()
	return startTenant(b, tenantOpts{users: users, groups: 1, latency: benchLatency, throttle: true, sleep: true})
}

// heapPeak samples the heap while work runs and reports the highest
// allocation above where it started: the transient memory of the work
// (the simulator's own state is already in the baseline).
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak - base
	}
}

// simStats reads /_sim/stats, as an operator would.
func (t *tenant) simStats(tb testing.TB) m365sim.Stats {
	tb.Helper()
	var st m365sim.Stats
	t.ctl(tb, http.MethodGet, "/_sim/stats", nil, &st)
	return st
}

// benchList runs list over the tenant b.N times and reports requests,
// the simulator's count and memory. peak-heap-MB is the highest heap seen
// while listing, above the start: it includes the simulator's garbage (it
// runs in this process) and the collector's slack, which grows with the
// simulator's live state. live-heap-MB is what listing keeps alive: one
// more untimed run collects garbage after every page and records the
// largest live heap above the start. list calls page after each page.
func benchList(b *testing.B, tn *tenant, wantRows int, requests func() int64, list func(page func()) (int, error)) {
	b.Helper()
	if requests == nil {
		requests = func() int64 { return tn.g.Stats().Requests }
	}
	g0, r0, s0 := tn.g.Stats(), requests(), tn.simStats(b)
	stop := heapPeak()
	b.ResetTimer()
	for b.Loop() {
		n, err := list(func() {})
		if err != nil {
			b.Fatal(err)
		}
		if n != wantRows {
			b.Fatalf("got %d rows, want %d", n, wantRows)
		}
	}
	b.StopTimer()
	peak := stop()
	g1, r1, s1 := tn.g.Stats(), requests(), tn.simStats(b)
	runs := float64(b.N)
	b.ReportMetric(float64(r1-r0)/runs, "requests/op")
	b.ReportMetric(float64(s1.Requests-s0.Requests)/runs, "sim-requests/op")
	b.ReportMetric(float64(g1.Retries-g0.Retries)/runs, "retries/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")

	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base, live := m.HeapAlloc, m.HeapAlloc
	if _, err := list(func() {
		runtime.GC()
		runtime.ReadMemStats(&m)
		live = max(live, m.HeapAlloc)
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(live-base)/(1<<20), "live-heap-MB")
}

func userListBench(b *testing.B, users int) {
	tn := benchTenant(b, users)
	env := tn.env(false)
	benchList(b, tn, users, nil, func(page func()) (int, error) {
		n := 0
		err := Stream(context.Background(), env, UserList, nil, func(p []connector.Item) error {
			n += len(p)
			page()
			return nil
		})
		return n, err
	})
}

// BenchmarkUserList100k lists every user of a 100,000-user tenant through
// the UserList operation (streamed, as the API serves it).
func BenchmarkUserList100k(b *testing.B) { userListBench(b, 100000) }

// BenchmarkUserList10k is the same on a tenant ten times smaller, to show
// that memory does not grow with the tenant.
func BenchmarkUserList10k(b *testing.B) { userListBench(b, 10000) }

// BenchmarkUserListFloor fetches the same pages as UserList with a bare
// net/http loop following @odata.nextLink: the least any client can do.
func BenchmarkUserListFloor(b *testing.B) {
	const users = 100000
	tn := benchTenant(b, users)
	hc := tn.tokenClient()
	first := tn.sim.URL() + "/v1.0/users?$select=" + strings.Join(userSelect, ",") + "&$top=999"
	var requests int64
	benchList(b, tn, users, func() int64 { return requests }, func(page func()) (int, error) {
		n := 0
		for link := first; link != ""; {
			resp, err := hc.Get(link)
			if err != nil {
				return n, err
			}
			requests++
			if resp.StatusCode == http.StatusTooManyRequests {
				s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
				resp.Body.Close()
				time.Sleep(time.Duration(max(s, 1)) * time.Second)
				continue
			}
			var p struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil {
				return n, err
			}
			n += len(p.Value)
			link = p.NextLink
			page()
		}
		return n, nil
	})
}

// BenchmarkUserListNaive is what a straightforward client does: Graph's
// default page of 100 and every default property.
func BenchmarkUserListNaive(b *testing.B) {
	const users = 100000
	tn := benchTenant(b, users)
	benchList(b, tn, users, nil, func(page func()) (int, error) {
		n := 0
		err := tn.g.ListUsers(context.Background(), graph.Query{Top: 100, Select: []string{}}, func(p []graph.User) error {
			for i := range p {
				_ = userRecord(&p[i])
			}
			n += len(p)
			page()
			return nil
		})
		return n, err
	})
}

// BenchmarkAddMembers10k adds 10,000 users to one group through
// AddUserToGroup and then checks the group holds exactly them.
func BenchmarkAddMembers10k(b *testing.B) {
	const n = 10000
	tn := benchTenant(b, n+10)
	users := tn.users(b)[:n]
	refs := make([]string, n)
	for i, u := range users {
		refs[i] = u.ID
	}
	env := tn.env(true)
	for b.Loop() {
		b.StopTimer()
		group := tn.addGroup(b, map[string]any{"displayName": fmt.Sprintf("Big %d", time.Now().UnixNano())})
		g0, s0 := tn.g.Stats(), tn.simStats(b)
		b.StartTimer()
		items, err := Run(context.Background(), env, AddUserToGroup, map[string]any{"user": refs, "group": group})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		g1, s1 := tn.g.Stats(), tn.simStats(b)
		for _, it := range items {
			if it["result"] != ResultAdded {
				b.Fatalf("item %v: want added", it)
			}
		}
		members := tn.members(b, group)
		seen := make(map[string]bool, len(members))
		for _, m := range members {
			seen[m] = true
		}
		if len(members) != n || len(seen) != n {
			b.Fatalf("group has %d members (%d distinct), want %d: lost or duplicated members", len(members), len(seen), n)
		}
		reqs := g1.Requests - g0.Requests
		if reqs > 520 {
			b.Errorf("took %d requests, want at most 520", reqs)
		}
		b.ReportMetric(float64(reqs), "requests/op")
		b.ReportMetric(float64(s1.Requests-s0.Requests), "sim-requests/op")
		b.ReportMetric(float64(g1.Retries-g0.Retries), "retries/op")
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/member")
}

// BenchmarkAddMembersOneByOne is the baseline: one POST members/$ref per
// user, four at a time (the Graph client's $batch concurrency). At 100 ms
// a request and Graph's write limit it would take many minutes for 10,000
// users, so it runs on TENANTLINK_BENCH_NAIVE_MEMBERS users (default
// 1,000) and reports the time per member.
func BenchmarkAddMembersOneByOne(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("TENANTLINK_BENCH_NAIVE_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	tn := benchTenant(b, n+10)
	users := tn.users(b)[:n]
	const concurrency = 4
	for b.Loop() {
		b.StopTimer()
		group := tn.addGroup(b, map[string]any{"displayName": fmt.Sprintf("Big %d", time.Now().UnixNano())})
		g0 := tn.g.Stats()
		b.StartTimer()
		var wg sync.WaitGroup
		ids := make(chan string)
		errs := make(chan error, n)
		for range concurrency {
			wg.Go(func() {
				for id := range ids {
					if err := tn.g.AddMember(context.Background(), group, id); err != nil {
						errs <- err
					}
				}
			})
		}
		for _, u := range users {
			ids <- u.ID
		}
		close(ids)
		wg.Wait()
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		if got := len(tn.members(b, group)); got != n {
			b.Fatalf("group has %d members, want %d", got, n)
		}
		b.ReportMetric(float64(tn.g.Stats().Requests-g0.Requests), "requests/op")
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "members")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/member")
}

// assignTimeScale shortens the simulator's throttling windows for
// BenchmarkAssignLicence10k: at 10, Graph's 3,000 writes per 150 s become
// 3,000 per 15 s, so the writing takes about 40 s instead of about 6
// minutes while the bucket keeps its documented size.
const assignTimeScale = 10

// BenchmarkAssignLicence10k assigns a licence to 10,000 users through
// AssignLicenceToUser (user lookups, the usage location set where missing,
// then the assignments, all in $batch envelopes) against the simulator
// with Graph's throttling on and its windows shortened assignTimeScale
// times. The write quota sets a floor no client can beat: a full bucket
// holds WriteLimit writes and refills at WriteLimit per window, so W
// writes take at least (W − WriteLimit) / (WriteLimit / window). It
// reports the time from the first write to the end against that floor
// (x-floor) and the share of Graph requests answered 429, and fails above
// 1.1× or 1 %: the client paces itself by x-ms-throttle-limit-percentage
// instead of running into the limit. The lookups before the first write
// are reported apart (lookup-s): the write quota does not bound them, and
// the simulator answers "id in" filters by scanning every user, which
// Graph does not.
func BenchmarkAssignLicence10k(b *testing.B) {
	const n = 10000
	tn := startTenant(b, tenantOpts{users: n + 10, groups: 1, latency: benchLatency, throttle: true, sleep: true, timeScale: assignTimeScale})
	refs := make([]string, n)
	for i, u := range tn.users(b)[:n] {
		refs[i] = u.ID
	}
	skus, err := tn.g.SubscribedSKUs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	// The seeded tenant's third SKU has units for everyone and none used.
	sku := skus[2]
	if available(&sku) < n {
		b.Fatalf("%s has %d units available, want %d", sku.SkuPartNumber, available(&sku), n)
	}
	window := time.Duration(float64(m365sim.WriteWindow) / assignTimeScale)
	perSecond := float64(m365sim.WriteLimit) / window.Seconds()
	env := tn.env(true)
	for run := 0; b.Loop(); run++ {
		b.StopTimer()
		// Remove the licence again so every run assigns n (untimed), and
		// let the write bucket fill up again.
		if run > 0 {
			if _, err := Run(context.Background(), env, RemoveLicenceFromUser, map[string]any{"user": refs, "licence": sku.SkuID}); err != nil {
				b.Fatal(err)
			}
			time.Sleep(window)
		}
		g0, s0 := tn.g.Stats(), tn.simStats(b)
		firstWrite := make(chan time.Time, 1)
		stopWatch := make(chan struct{})
		go func() {
			for {
				select {
				case <-stopWatch:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if tn.sim.Stats().Writes > s0.Writes {
					firstWrite <- time.Now()
					return
				}
			}
		}()
		start := time.Now()
		b.StartTimer()
		items, err := Run(context.Background(), env, AssignLicenceToUser, map[string]any{"user": refs, "licence": sku.SkuID, "usageLocation": "IE"})
		b.StopTimer()
		end := time.Now()
		close(stopWatch)
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range items {
			if it["result"] != ResultAssigned {
				b.Fatalf("item %v: want assigned", it)
			}
		}
		var writing time.Time
		select {
		case writing = <-firstWrite:
		default:
			b.Fatal("no write seen")
		}
		took := end.Sub(writing)
		g1, s1 := tn.g.Stats(), tn.simStats(b)
		throttled := s1.Throttled - s0.Throttled
		// Graph requests: $batch items and plain requests, not envelopes.
		requests := (s1.Requests - s0.Requests) - (s1.Routes["POST /v1.0/$batch"] - s0.Routes["POST /v1.0/$batch"])
		writes := (s1.Writes - s0.Writes) - throttled // accepted writes (a throttled read only lowers the floor)
		floor := time.Duration(math.Max(0, float64(writes-m365sim.WriteLimit)) / perSecond * float64(time.Second))
		ratio := took.Seconds() / floor.Seconds()
		share := 100 * float64(throttled) / float64(requests)
		b.ReportMetric(float64(writes), "writes/op")
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(took.Seconds(), "writing-s")
		b.ReportMetric(writing.Sub(start).Seconds(), "lookup-s")
		b.ReportMetric(ratio, "x-floor")
		b.ReportMetric(float64(throttled), "429s/op")
		b.ReportMetric(share, "%429")
		b.ReportMetric(float64(g1.Requests-g0.Requests), "requests/op")
		b.ReportMetric((g1.Paced - g0.Paced).Seconds(), "paced-s")
		b.Logf("%d writes in %v from the first write, %.3f× the floor %v; %d of %d Graph requests answered 429; lookups %v",
			writes, took.Round(time.Millisecond), ratio, floor, throttled, requests, writing.Sub(start).Round(time.Millisecond))
		if ratio > 1.1 {
			b.Errorf("writing took %v for %d writes, %.3f× the floor %v; want at most 1.1×", took, writes, ratio, floor)
		}
		if share > 1 {
			b.Errorf("%d of %d Graph requests answered 429 (%.2f %%), want at most 1 %%", throttled, requests, share)
		}
		b.StartTimer()
	}
}
