package graph

import (
	"container/heap"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time            { return c.t }
func (c *fakeClock) add(d time.Duration)       { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock                 { return &fakeClock{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }
func (c *fakeClock) since(t time.Time) float64 { return c.t.Sub(t).Seconds() }

// run hands out permits at perSecond for d, one at a time.
func runAt(p *Pacer, clk *fakeClock, perSecond float64, d time.Duration) {
	step := time.Duration(float64(time.Second) / perSecond)
	for end := clk.t.Add(d); clk.t.Before(end); clk.add(step) {
		p.Reserve(1)
	}
}

func TestPacerSteps(t *testing.T) {
	type obs struct {
		used float64
		ok   bool
	}
	// Callers ran at 100 requests a second for 5 s before each sequence,
	// so the pacer's running rate (1 s average) is about 100.
	tests := []struct {
		name string
		seq  []obs
		want float64 // rate after the sequence; 0 = unpaced
	}{
		{"no header: unpaced", []obs{{0, false}, {0, false}}, 0},
		{"just over 80 %: the running rate", []obs{{0.8, true}}, 100},
		{"halfway to 95 %: half of it", []obs{{0.875, true}}, 50},
		{"95 % and above: all but stopped", []obs{{0.8, true}, {0.95, true}}, 1},
		{"over the limit: all but stopped", []obs{{1.3, true}}, 1},
		{"the running rate when pacing began is kept", []obs{{0.9, true}, {0.85, true}}, 100.0 * 2 / 3},
		{"an answer without the header ends pacing", []obs{{0.9, true}, {0, false}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			p := NewPacer(clk.now)
			runAt(p, clk, 100, 5*time.Second)
			for _, o := range tc.seq {
				clk.add(10 * time.Millisecond)
				p.Observe(o.used, o.ok)
			}
			if got := p.Rate(); math.Abs(got-tc.want) > 0.02*tc.want+1e-9 {
				t.Errorf("rate = %.2f, want %.2f", got, tc.want)
			}
		})
	}
}

// TestPacerSpacesPermits: a paced pacer hands out permits 1/rate apart,
// n at a time for an envelope of n requests.
func TestPacerSpacesPermits(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(clk.now)
	runAt(p, clk, 100, 5*time.Second)
	p.Observe(0.875, true) // about 50 a second
	r := p.Rate()
	var got []time.Duration
	for _, n := range []int{1, 20, 1} {
		got = append(got, p.Reserve(n).Round(time.Millisecond))
	}
	step := func(n float64) time.Duration {
		return time.Duration(n / r * float64(time.Second)).Round(time.Millisecond)
	}
	want := []time.Duration{0, step(1), step(21)}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("waits (-got +want):\n%s", diff)
	}
}

func TestPacerHold(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(clk.now)
	if d := p.Reserve(20); d != 0 {
		t.Fatalf("unpaced Reserve = %v, want 0", d)
	}
	p.Throttled(3 * time.Second)
	clk.add(time.Second)
	got := []time.Duration{p.Reserve(1), p.reserve(1, true)}
	if diff := cmp.Diff(got, []time.Duration{2 * time.Second, 0}); diff != "" {
		t.Errorf("waits (-got +want): other requests wait out the Retry-After, the retried one not again:\n%s", diff)
	}
	clk.add(3 * time.Second)
	if d := p.Reserve(1); d != 0 {
		t.Errorf("Reserve after the hold = %v, want 0", d)
	}
}

func TestPacerIdle(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(clk.now)
	runAt(p, clk, 100, 5*time.Second)
	p.Observe(0.9, true)
	if p.Rate() == 0 {
		t.Fatal("not paced after the header")
	}
	clk.add(paceIdle + time.Second)
	if d := p.Reserve(1); d != 0 || p.Rate() != 0 {
		t.Errorf("after %v idle: wait %v rate %v, want unpaced", paceIdle, d, p.Rate())
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{{"", 0, false}, {"0.8", 0.8, true}, {" 1.25 ", 1.25, true}, {"1.8", 1.8, true}, {"85", 0.85, true}, {"x", 0, false}, {"-1", 0, false}, {"NaN", 0, false}}
	for _, tc := range tests {
		got, ok := parseUsage(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseUsage(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// bucketSim is a discrete-event model of Graph's token bucket and of
// workers that each send an envelope of n requests, wait latency for the
// answer and send the next, through a Pacer on the same fake clock.
type bucketSim struct {
	limit, perSec float64 // bucket size, refill per second
	tokens        float64
	last          time.Time
}

func (b *bucketSim) take(now time.Time, n int) (ok int, used float64, retryAfter time.Duration) {
	b.tokens = math.Min(b.limit, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
	b.last = now
	for range n {
		if b.tokens < 1 {
			return ok, math.Min((b.limit-b.tokens+1)/b.limit, 1.8), time.Duration(math.Ceil((1-b.tokens)/b.perSec)) * time.Second
		}
		b.tokens--
		ok++
	}
	return ok, 1 - b.tokens/b.limit, 0
}

type event struct {
	at      time.Time
	kind    int // evSend, evAnswer, evRetry
	n       int // requests in the envelope
	ok      int // of them accepted (evAnswer)
	used    float64
	retryIn time.Duration
	seq     int
}

const (
	evSend = iota
	evAnswer
	evRetry
)

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if e[i].at.Equal(e[j].at) {
		return e[i].seq < e[j].seq
	}
	return e[i].at.Before(e[j].at)
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// TestPacerKeepsUnderTheBucket runs N writes against write buckets of
// Graph's shape, as the client does them (workers sending envelopes of n
// requests through the pacer; throttled requests resent after their
// Retry-After), and checks the pacer's promise: at most 1 % of requests
// answered 429, and the run within 1.1× its floor — the time to earn the
// writes a full bucket does not hold, (N − limit) / refill, or the
// unthrottled time when that is longer.
func TestPacerKeepsUnderTheBucket(t *testing.T) {
	tests := []struct {
		name             string
		limit, perSec    float64
		workers, n, reqs int
		latency          time.Duration
		wantPaced        bool
	}{
		{"Graph's writes, 3,000 per 150 s, 10,000 writes", 3000, 20, 4, 20, 10000, 100 * time.Millisecond, true},
		{"windows shortened 10 times", 3000, 200, 4, 20, 10000, 100 * time.Millisecond, true},
		{"single requests, 8 at a time, fast answers", 3000, 200, 8, 1, 10000, 5 * time.Millisecond, true},
		{"slow answers", 3000, 200, 8, 20, 10000, 400 * time.Millisecond, true},
		{"many envelopes in flight", 3000, 200, 16, 20, 10000, 50 * time.Millisecond, true},
		{"resource units, 8,000 per 10 s, 40,000 requests", 8000, 800, 8, 20, 40000, 100 * time.Millisecond, true},
		{"a run the bucket holds is not slowed", 3000, 200, 4, 20, 2000, 100 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			start := clk.t
			p := NewPacer(clk.now)
			b := &bucketSim{limit: tc.limit, perSec: tc.perSec, tokens: tc.limit, last: clk.t}
			left, throttled, seq := tc.reqs, 0, 0
			paced := false
			q := &events{}
			push := func(e event) {
				seq++
				e.seq = seq
				heap.Push(q, e)
			}
			send := func(n int, retry bool) {
				d := p.reserve(n, retry)
				paced = paced || d > 0
				push(event{at: clk.t.Add(d), kind: evSend, n: n})
			}
			next := func() {
				if left > 0 {
					n := min(tc.n, left)
					left -= n
					send(n, false)
				}
			}
			for range tc.workers {
				next()
			}
			for q.Len() > 0 {
				e := heap.Pop(q).(event)
				clk.t = e.at
				switch e.kind {
				case evSend:
					ok, used, ra := b.take(clk.t, e.n)
					push(event{at: clk.t.Add(tc.latency), kind: evAnswer, n: e.n, ok: ok, used: used, retryIn: ra})
				case evAnswer:
					p.Observe(e.used, e.used > 0.8)
					if k := e.n - e.ok; k > 0 {
						throttled += k
						p.Throttled(e.retryIn)
						push(event{at: clk.t.Add(e.retryIn), kind: evRetry, n: k})
						continue
					}
					next()
				case evRetry:
					send(e.n, true)
				}
			}
			took := clk.since(start)
			unthrottled := math.Ceil(float64(tc.reqs)/float64(tc.n*tc.workers)) * tc.latency.Seconds()
			floor := math.Max((float64(tc.reqs)-tc.limit)/tc.perSec, unthrottled)
			t.Logf("took %.1f s, floor %.1f s (%.3f×), %d of %d answered 429", took, floor, took/floor, throttled, tc.reqs)
			if took > 1.1*floor {
				t.Errorf("took %.1f s, want at most 1.1 × the floor %.1f s", took, floor)
			}
			if throttled*100 > tc.reqs {
				t.Errorf("%d of %d requests answered 429, want at most 1 %%", throttled, tc.reqs)
			}
			if paced != tc.wantPaced {
				t.Errorf("paced = %v, want %v", paced, tc.wantPaced)
			}
		})
	}
}

// TestPriorityHeader: a context marked with WithPriority sends
// x-ms-throttle-priority on plain requests, on $batch envelopes and on
// every item inside them; an unmarked one sends none.
func TestPriorityHeader(t *testing.T) {
	for _, prio := range []Priority{"", PriorityLow, PriorityNormal} {
		t.Run(string(prio)+"-", func(t *testing.T) {
			var got []string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("x-ms-throttle-priority"))
				if r.URL.Path == "/v1.0/$batch" {
					var in struct{ Requests []BatchRequest }
					if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
						t.Error(err)
					}
					out := []BatchResponse{}
					for _, it := range in.Requests {
						got = append(got, "item "+it.ID+" "+it.Headers["x-ms-throttle-priority"])
						out = append(out, ok(it.ID))
					}
					b, _ := json.Marshal(map[string]any{"responses": out})
					writeJSON(w, 200, string(b))
					return
				}
				writeJSON(w, 200, `{"id":"1"}`)
			})
			c, _, ts := newTestClient(t, h)
			ctx := context.Background()
			if prio != "" {
				ctx = WithPriority(ctx, prio)
			}
			if _, err := c.GetGroup(ctx, "1", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Batch(ctx, gets("a", "b")); err != nil {
				t.Fatal(err)
			}
			ts.Sync()
			p := string(prio)
			want := []string{"GET /v1.0/groups/1 " + p, "POST /v1.0/$batch " + p, "item a " + p, "item b " + p}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("requests (-got +want):\n%s", diff)
			}
		})
	}
}

// TestClientPacesFromHeaders: the client feeds x-ms-throttle-limit-
// percentage to its pacer from plain answers and from $batch items, and
// then waits between requests before any 429.
func TestClientPacesFromHeaders(t *testing.T) {
	tests := []struct {
		name string
		call func(c *Client) error
		h    http.HandlerFunc
	}{
		{"plain answers", func(c *Client) error { _, err := c.GetGroup(context.Background(), "1", nil); return err },
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-ms-throttle-limit-percentage", "0.90")
				writeJSON(w, 200, `{"id":"1"}`)
			}},
		{"batch items", func(c *Client) error { _, err := c.Batch(context.Background(), gets("a")); return err },
			func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, `{"responses":[{"id":"a","status":200,"headers":{"x-ms-throttle-limit-percentage":"0.9"},"body":{}}]}`)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, sl, _ := newTestClient(t, tc.h)
			for range 5 {
				if err := tc.call(c); err != nil {
					t.Fatal(err)
				}
			}
			if c.pacer.Rate() == 0 {
				t.Fatal("pacer not engaged by x-ms-throttle-limit-percentage 0.9")
			}
			if len(sl.Waits()) == 0 || c.Stats().Paced == 0 {
				t.Errorf("waits %v, paced %v: want the client to wait between requests", sl.Waits(), c.Stats().Paced)
			}
			if c.Stats().Throttled != 0 {
				t.Errorf("throttled = %d, want 0", c.Stats().Throttled)
			}
		})
	}
}
