package graph

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Graph's identity and access limits are token buckets per app+tenant
// (resource units per 10 s, writes per 150 s). Each answer past 80 % of a
// bucket carries x-ms-throttle-limit-percentage, the share of the limit in
// use, from 0.8 to 1.8 ("returned only when the application consumed more
// than 0.8 of its limit … can be used by the callers to set up an alert
// and take action"):
// https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
//
// A Pacer turns that signal into a request rate, so a long run of writes
// settles just under the bucket's refill rate instead of running into 429s,
// without knowing the limit or the window (they differ by limit and tenant
// size, and Microsoft says they may change). The algorithm
// (docs/decisions/0014-graph-throttling.md):
//
//   - Unpaced while answers carry no header: below 80 % of every limit
//     there is nothing to slow down for.
//   - On the first header the pacer notes top, the rate the client was
//     running at (an exponentially weighted rate of the permits it handed
//     out, time constant demandTau), and from then on sends at
//     top × (paceStop − usage) / (paceStop − 0.8): the full rate at 80 %,
//     nothing at paceStop (0.95), in proportion between. Usage then settles
//     where that rate equals the bucket's refill rate, whatever the limit:
//     a proportional controller of a token bucket's level, which, unlike
//     one with an integral term, cannot wind up and oscillate when the
//     answers that carry the level lag the requests that changed it. The
//     5 % left above paceStop absorbs the requests already in flight.
//   - A 429 holds every request of the pacer until its Retry-After.
//   - An answer without the header (usage back under 80 %), or paceIdle
//     without a request, ends pacing.
//
// Permits are for Graph requests, so a $batch envelope of 20 items takes
// 20. One Pacer is meant to be shared by every client of one app+tenant
// (the office365 connector keeps one per tenant): the limits are per
// app+tenant, not per client.
type Pacer struct {
	now func() time.Time

	mu        sync.Mutex
	rate      float64   // permits per second; 0 = unpaced
	top       float64   // the rate when pacing began
	next      time.Time // earliest start of the next permit
	hold      time.Time // no permits before (a 429's Retry-After)
	demand    float64   // EWMA of permits per second handed out
	lastGrant time.Time
}

// Pacer tuning; see the type's comment.
const (
	paceStart = 0.8  // x-ms-throttle-limit-percentage appears above this
	paceStop  = 0.95 // the rate is paceMin of top from here
	paceMin   = 0.01
	demandTau = time.Second
	paceIdle  = 10 * time.Second
)

// NewPacer returns an unpaced Pacer reading time from now (time.Now when
// nil).
func NewPacer(now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{now: now}
}

// Reserve takes n permits and returns how long the caller must wait
// before sending (0 for now).
func (p *Pacer) Reserve(n int) time.Duration { return p.reserve(n, false) }

// reserve is Reserve; a retry that has already waited out its own
// Retry-After passes afterHold so the hold does not delay it twice.
func (p *Pacer) reserve(n int, afterHold bool) time.Duration {
	if n < 1 {
		n = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.lastGrant.IsZero() {
		idle := now.Sub(p.lastGrant)
		if idle > paceIdle {
			p.rate = 0
		}
		if idle > 0 {
			p.demand *= math.Exp(-idle.Seconds() / demandTau.Seconds())
		}
	}
	p.demand += float64(n) / demandTau.Seconds()
	p.lastGrant = now
	start := now
	if !afterHold && p.hold.After(start) {
		start = p.hold
	}
	if p.rate > 0 {
		if p.next.After(start) {
			start = p.next
		}
		p.next = start.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	}
	return start.Sub(now)
}

// Observe feeds back one answer: used is its x-ms-throttle-limit-percentage
// and ok whether it had one.
func (p *Pacer) Observe(used float64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !ok {
		p.rate = 0
		return
	}
	if p.rate == 0 {
		p.top = math.Max(p.demand, 1)
	}
	share := (paceStop - used) / (paceStop - paceStart)
	p.rate = p.top * math.Min(math.Max(share, paceMin), 1)
}

// Throttled records a 429 (or 503, 504) with its Retry-After: no other
// request is sent before it has passed; the throttled one waits it out
// itself and is then resent without waiting again.
func (p *Pacer) Throttled(retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.now().Add(retryAfter); h.After(p.hold) {
		p.hold = h
	}
}

// Rate is the current pace in requests per second, 0 when unpaced.
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// parseUsage reads x-ms-throttle-limit-percentage. Microsoft documents a
// fraction from 0.8 to 1.8; a value above 2 is read as a percentage (80
// for 0.8) in case a service sends that form.
func parseUsage(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if f > 2 {
		f /= 100
	}
	return f, true
}

// Priority is the x-ms-throttle-priority of a request: which requests
// Graph throttles first when it must ("low priority requests will be
// throttled first, normal priority requests second, and high priority
// requests last. Using the priority request header does not change the
// limits.").
type Priority string

// The documented values.
const (
	PriorityLow    Priority = "low"    // background work: throttling it causes no user-visible failure
	PriorityNormal Priority = "normal" // the default
	PriorityHigh   Priority = "high"   // throttling it causes user-visible failures
)

type priorityKey struct{}

// WithPriority returns ctx whose Graph requests carry
// x-ms-throttle-priority: p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityOf(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p
}

// pace waits for n permits of the client's pacer; afterHold as in
// reserve.
func (c *Client) pace(ctx context.Context, n int, afterHold bool) error {
	d := c.pacer.reserve(n, afterHold)
	if d <= 0 {
		return nil
	}
	c.pacedNanos.Add(int64(d))
	if err := c.sleep(ctx, d); err != nil {
		return err
	}
	return ctx.Err()
}
