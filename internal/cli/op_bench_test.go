package cli_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	benchRate     = flag.Int("opbench.rate", 200, "BenchmarkOperationAPIOverhead: requests per second on each path")
	benchDuration = flag.Duration("opbench.duration", 10*time.Second, "BenchmarkOperationAPIOverhead: how long the load runs")
)

// graphCapture records the Graph requests tenantlink sends the simulator
// while armed, so that the benchmark can send exactly the same request
// (URL, headers, access token) directly.
type graphCapture struct {
	armed atomic.Bool
	mu    sync.Mutex
	reqs  []*http.Request
}

func (c *graphCapture) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.armed.Load() && strings.HasPrefix(r.URL.Path, "/v1.0/") {
			c.mu.Lock()
			c.reqs = append(c.reqs, r.Clone(r.Context()))
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// BenchmarkOperationAPIOverhead measures what tenantlink adds to a Graph
// call (issue 4: at most 5 ms at p99 under 200 requests/s). tenantlink and
// the simulator run over loopback, with no simulated latency and no
// throttling. At a fixed rate, open loop, it calls POST
// /api/v1/datasources/{id}/operations/FindUsers with an API token and, in
// the same run and at the same rate, sends the one Graph request that
// operation makes straight to the simulator with tenantlink's own access
// token. The p99 difference is the operation API's overhead.
//
//	go test ./internal/cli -run '^$' -bench OperationAPIOverhead -benchtime 1x
func BenchmarkOperationAPIOverhead(b *testing.B) {
	capture := &graphCapture{}
	e := startOpEnv(b, opEnvOptions{Users: 50, Groups: 5, SimHandler: capture.wrap})
	api := e.tokenClient(b)

	var users struct{ Items []map[string]any }
	api.mustDo(http.StatusOK, "POST", "/api/v1/datasources/"+e.DSID+"/operations/UserList", map[string]any{"inputs": map[string]any{"maxRows": 1}}, &users)
	if len(users.Items) != 1 {
		b.Fatalf("UserList maxRows=1: %d items, want 1", len(users.Items))
	}
	// A small query: one user's full display name, matched from its start.
	query := users.Items[0]["displayName"].(string)
	opPath := "/api/v1/datasources/" + e.DSID + "/operations/FindUsers"
	opBody, err := json.Marshal(map[string]any{"inputs": map[string]any{"query": query}})
	if err != nil {
		b.Fatal(err)
	}

	capture.armed.Store(true)
	var found struct{ Count int }
	api.mustDo(http.StatusOK, "POST", opPath, json.RawMessage(opBody), &found)
	capture.armed.Store(false)
	if found.Count < 1 {
		b.Fatalf("FindUsers %q found nothing", query)
	}
	if len(capture.reqs) != 1 {
		b.Fatalf("FindUsers made %d Graph requests, want exactly 1 to replay", len(capture.reqs))
	}
	graphReq := capture.reqs[0]
	graphURL := e.Facts.URL + graphReq.URL.RequestURI()
	b.Logf("FindUsers query %q → %s %s", query, graphReq.Method, graphReq.URL.RequestURI())

	// Keep-alive clients with room for bursts: connection setup is not
	// what is being measured.
	newClient := func() *http.Client {
		return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	}
	apiClient, graphClient := newClient(), newClient()

	callAPI := func() error {
		req, err := http.NewRequest(http.MethodPost, e.URL+opPath, bytes.NewReader(opBody))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+e.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		return do(apiClient, req)
	}
	callGraph := func() error {
		req, err := http.NewRequest(graphReq.Method, graphURL, nil)
		if err != nil {
			return err
		}
		req.Header = graphReq.Header.Clone()
		return do(graphClient, req)
	}

	// Warm up both paths (connections, token cache, prepared statements).
	if _, _, errs := load(*benchRate, time.Second, callAPI, callGraph); errs > 0 {
		b.Fatalf("warm-up: %d failed requests", errs)
	}

	b.ResetTimer()
	for range b.N {
		apiLat, graphLat, errs := load(*benchRate, *benchDuration, callAPI, callGraph)
		if errs > 0 {
			b.Fatalf("%d failed requests", errs)
		}
		a, g := percentiles(apiLat), percentiles(graphLat)
		b.ReportMetric(ms(a[0]), "api-p50-ms")
		b.ReportMetric(ms(a[1]), "api-p95-ms")
		b.ReportMetric(ms(a[2]), "api-p99-ms")
		b.ReportMetric(ms(g[0]), "graph-p50-ms")
		b.ReportMetric(ms(g[1]), "graph-p95-ms")
		b.ReportMetric(ms(g[2]), "graph-p99-ms")
		b.ReportMetric(ms(a[2]-g[2]), "overhead-p99-ms")
		b.ReportMetric(float64(len(apiLat)), "requests/path")
		b.Logf("%d requests per path at %d/s: API p50 %.2f p95 %.2f p99 %.2f ms; Graph p50 %.2f p95 %.2f p99 %.2f ms; p99 overhead %.2f ms",
			len(apiLat), *benchRate, ms(a[0]), ms(a[1]), ms(a[2]), ms(g[0]), ms(g[1]), ms(g[2]), ms(a[2]-g[2]))
	}
}

// do sends req and reads the whole answer, failing on anything but 200.
func do(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return nil
}

// load fires both calls once per tick, open loop: a slow answer never
// delays the next request, as with independent clients. It returns each
// path's latencies and how many requests failed.
func load(rate int, d time.Duration, callAPI, callGraph func() error) (apiLat, graphLat []time.Duration, errs int) {
	n := int(d.Seconds() * float64(rate))
	apiLat, graphLat = make([]time.Duration, n), make([]time.Duration, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	fire := func(call func() error, out *time.Duration) {
		defer wg.Done()
		start := time.Now()
		if err := call(); err != nil {
			failed.Add(1)
		}
		*out = time.Since(start)
	}
	interval := time.Second / time.Duration(rate)
	t0 := time.Now()
	for i := range n {
		time.Sleep(time.Until(t0.Add(time.Duration(i) * interval)))
		wg.Add(2)
		go fire(callAPI, &apiLat[i])
		go fire(callGraph, &graphLat[i])
	}
	wg.Wait()
	return apiLat, graphLat, int(failed.Load())
}

// percentiles returns p50, p95 and p99 (nearest rank).
func percentiles(l []time.Duration) [3]time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s)) + 0.5)
		return s[min(max(i-1, 0), len(s)-1)]
	}
	return [3]time.Duration{at(0.50), at(0.95), at(0.99)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
