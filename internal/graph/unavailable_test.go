package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stepClock is a clock that only moves when the client sleeps.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *stepClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

// TestErrorKinds: only 429 is throttling; a 503 or 504 is Microsoft
// being unavailable.
func TestErrorKinds(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{429, ErrThrottled},
		{503, ErrUnavailable},
		{504, ErrUnavailable},
		{500, ErrServer},
		{502, ErrServer},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			err := newError("GET", "/users", tt.status, nil, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("newError(%d) kind = %v, want %v", tt.status, err.Kind, tt.want)
			}
			if tt.want != ErrThrottled && errors.Is(err, ErrThrottled) {
				t.Errorf("newError(%d) is ErrThrottled", tt.status)
			}
		})
	}
}

// TestInteractiveGiveUp: against a Graph that answers 503 to everything,
// an interactive request (priority normal or high) stops retrying before
// its waits pass the budget, while background work (low, or no priority)
// makes all MaxRetries retries. The clock only moves by the waits.
func TestInteractiveGiveUp(t *testing.T) {
	tests := []struct {
		name     string
		prio     Priority
		status   int
		rand     float64
		wantWait time.Duration // total waited
		retries  int
		kind     error
	}{
		// Backoff with rand 0.5: 0.5, 1, 2, 4, 8, 16 s. The 6th (16 s)
		// would end at 31.5 s > 20 s.
		{"normal 503", PriorityNormal, 503, 0.5, 15500 * time.Millisecond, 5, ErrUnavailable},
		{"high 504", PriorityHigh, 504, 0.5, 15500 * time.Millisecond, 5, ErrUnavailable},
		// rand 0.99: 0.99, 1.98, 3.96, 7.92 (=14.85), next 15.84 → past 20 s.
		{"normal 503 long waits", PriorityNormal, 503, 0.99, 14850 * time.Millisecond, 4, ErrUnavailable},
		{"normal 429", PriorityNormal, 429, 0.5, 15500 * time.Millisecond, 5, ErrThrottled},
		{"low 503", PriorityLow, 503, 0.5, 31500 * time.Millisecond, 6, ErrUnavailable},
		{"none 503", "", 503, 0.5, 31500 * time.Millisecond, 6, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, calls := throttle(1000, tt.status, "")
			c, _, _ := newTestClient(t, h)
			clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			c.now, c.sleep, c.pacer = clk.Now, clk.Sleep, NewPacer(clk.Now)
			c.rand = func() float64 { return tt.rand }
			start := clk.Now()
			ctx := context.Background()
			if tt.prio != "" {
				ctx = WithPriority(ctx, tt.prio)
			}
			_, err := c.GetUser(ctx, "u1", nil)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if got := clk.Now().Sub(start); got != tt.wantWait {
				t.Errorf("waited %v, want %v", got, tt.wantWait)
			}
			if got := calls(); got != tt.retries+1 {
				t.Errorf("requests = %d, want %d", got, tt.retries+1)
			}
			if tt.prio == PriorityNormal && clk.Now().Sub(start) > InteractiveRetryBudget {
				t.Errorf("interactive request waited %v, past the budget %v", clk.Now().Sub(start), InteractiveRetryBudget)
			}
		})
	}
}

// TestInteractiveGiveUpRetryAfter: a Retry-After longer than what is left
// of the budget ends the retries at once.
func TestInteractiveGiveUpRetryAfter(t *testing.T) {
	h, calls := throttle(1000, 503, "8")
	c, _, _ := newTestClient(t, h)
	clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.now, c.sleep, c.pacer = clk.Now, clk.Sleep, NewPacer(clk.Now)
	start := clk.Now()
	_, err := c.GetUser(WithPriority(context.Background(), PriorityNormal), "u1", nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	// 8 + 8 = 16 s; a third wait would end at 24 s.
	if diff := cmp.Diff(16*time.Second, clk.Now().Sub(start)); diff != "" {
		t.Errorf("waited (-want +got): %s", diff)
	}
	if got := calls(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

// TestInteractiveGiveUpBatch: $batch items answered 503 are retried within
// the same budget, then come back unavailable.
func TestInteractiveGiveUpBatch(t *testing.T) {
	for _, tt := range []struct {
		name     string
		prio     Priority
		envelope int           // envelopes sent
		waited   time.Duration // total
	}{
		// Backoff with rand 0.5: 0.5, 1, 2, 4, 8 = 15.5 s; the next (16 s) would pass 20 s.
		{"normal", PriorityNormal, 6, 15500 * time.Millisecond},
		{"low", PriorityLow, 7, 31500 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bs := &batchServer{item: func(r BatchRequest, seen int) BatchResponse {
				if r.ID == "b" {
					res := tooMany(r.ID, "")
					res.Status = 503
					return res
				}
				return ok(r.ID)
			}}
			c, _, _ := newTestClient(t, bs)
			clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			c.now, c.sleep, c.pacer = clk.Now, clk.Sleep, NewPacer(clk.Now)
			got, err := c.Batch(WithPriority(context.Background(), tt.prio), gets("a", "b"))
			if err != nil {
				t.Fatal(err)
			}
			if err := got[1].Err(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("b Err() = %v, want ErrUnavailable", err)
			}
			if got[0].Err() != nil {
				t.Errorf("a Err() = %v, want nil", got[0].Err())
			}
			if n := len(bs.envelopeIDs()); n != tt.envelope {
				t.Errorf("envelopes = %d, want %d", n, tt.envelope)
			}
			if w := clk.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); w != tt.waited {
				t.Errorf("waited %v, want %v", w, tt.waited)
			}
		})
	}
}
