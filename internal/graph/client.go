// Package graph is tenantlink's own small, typed Microsoft Graph v1.0
// client. It owns the wire contracts the Office 365 connector relies on —
// paging, advanced queries, $batch, delta queries, member binds, licences —
// and Graph's throttling rules (Retry-After, backoff with full jitter, a
// Pacer fed by x-ms-throttle-limit-percentage, x-ms-throttle-priority), and
// turns Graph's error bodies into one *Error type with errors.Is kinds.
// Only the office365 connector imports it; it knows nothing of tenantlink's
// domain types.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// DefaultBaseURL is Graph's root; the simulator replaces it in tests.
const DefaultBaseURL = "https://graph.microsoft.com"

// Backoff bounds when Graph throttles without a Retry-After header.
const (
	backoffBase = time.Second
	backoffCap  = 60 * time.Second
	// InteractiveRetryBudget bounds how long an interactive request
	// (x-ms-throttle-priority normal or high: a person or a process step
	// waits for it) keeps retrying throttled or unavailable answers: a
	// retry whose wait would end later than this after the request's first
	// attempt is not made, and the last answer's error is returned. With
	// the answers' own time it keeps an operation against an outage under
	// 30 s; background work (priority low, or none) retries MaxRetries
	// times as before.
	InteractiveRetryBudget = 20 * time.Second
	// minWait keeps full jitter (which can draw 0) and "Retry-After: 0"
	// from turning into a hot loop against a struggling service.
	minWait = 100 * time.Millisecond
)

// Config configures a Client. The zero value talks to the real Graph with
// http.DefaultClient, which carries no token: pass an oauth2 client.
type Config struct {
	BaseURL    string       // default DefaultBaseURL; requests go to BaseURL + "/v1.0/…"
	HTTPClient *http.Client // carries auth (e.g. an oauth2.Transport); default http.DefaultClient
	MaxRetries int          // retries after a throttled answer or a GET connection error; default 6, <0 means none
	// Concurrency bounds the $batch envelopes in flight at once; default 4.
	Concurrency int
	Logger      *slog.Logger
	// Sleep waits d or until ctx is done; injectable so tests never sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for backoff jitter.
	Rand func() float64
	// Now turns an HTTP-date Retry-After into a duration, and is the
	// clock of the Pacer New makes when Pacer is nil.
	Now func() time.Time
	// Pacer spaces requests by Graph's x-ms-throttle-limit-percentage
	// (pacer.go). Share one between the clients of one app+tenant; nil
	// gives the client its own.
	Pacer *Pacer
	// RetryBudget replaces InteractiveRetryBudget (0 keeps it).
	RetryBudget time.Duration
}

// Stats counts traffic since New, for benchmarks and the simulator's
// throttling tests.
type Stats struct {
	Requests  int64 // HTTP round trips ($batch envelope = 1)
	Retries   int64 // requests (or batch items) sent again after a throttled answer or connection error
	Throttled int64 // answers (or batch items) with 429, 503 or 504
	// Paced is the time requests waited for the Pacer, summed over
	// concurrent requests.
	Paced time.Duration
}

// Client is a Graph v1.0 client, safe for concurrent use.
type Client struct {
	base        string // BaseURL + "/v1.0"
	hc          *http.Client
	maxRetries  int
	concurrency int
	log         *slog.Logger
	sleep       func(context.Context, time.Duration) error
	rand        func() float64
	now         func() time.Time
	pacer       *Pacer
	budget      time.Duration

	requests, retries, throttled, pacedNanos atomic.Int64
}

// New returns a Client for cfg, filling defaults.
func New(cfg Config) *Client {
	c := &Client{
		base:        strings.TrimRight(cfg.BaseURL, "/"),
		hc:          cfg.HTTPClient,
		maxRetries:  cfg.MaxRetries,
		concurrency: cfg.Concurrency,
		log:         cfg.Logger,
		sleep:       cfg.Sleep,
		rand:        cfg.Rand,
		now:         cfg.Now,
		pacer:       cfg.Pacer,
		budget:      cfg.RetryBudget,
	}
	if c.budget <= 0 {
		c.budget = InteractiveRetryBudget
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	c.base += "/v1.0"
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 6
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.concurrency <= 0 {
		c.concurrency = 4
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.pacer == nil {
		c.pacer = NewPacer(c.now)
	}
	return c
}

// Stats returns the request counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load(),
		Paced: time.Duration(c.pacedNanos.Load())}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// request is one Graph call before retries.
type request struct {
	method   string
	url      string // absolute
	body     []byte // nil for none; kept so retries can resend it
	eventual bool   // send ConsistencyLevel: eventual
	accept   string
	prefer   string // the Prefer header, e.g. "return=minimal"
	// items is the number of Graph requests a $batch envelope carries:
	// the pacer's permits. Its items' answers carry the throttling
	// headers, so envelope reads them, not do.
	items int
	// retry marks an envelope resent after waiting out its items'
	// Retry-After: the pacer's hold is that same wait.
	retry bool
}

// endpoint builds an absolute URL from a path under /v1.0 and an encoded
// query (which may be empty).
func (c *Client) endpoint(path, query string) string {
	if query == "" {
		return c.base + path
	}
	return c.base + path + "?" + query
}

// opPath is the path after /v1.0, for error messages and logs: the query
// may carry user data and is long, so it is left out.
func opPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	p := u.EscapedPath()
	if i := strings.Index(p, "/v1.0/"); i >= 0 {
		p = p[i+len("/v1.0"):]
	}
	if up, err := url.PathUnescape(p); err == nil {
		p = up
	}
	return p
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable ||
		status == http.StatusGatewayTimeout
}

// backoff is exponential with full jitter (AWS "full jitter"): a uniform
// draw in (0, min(cap, base·2^attempt)], floored at minWait.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := float64(backoffCap)
	if attempt < 30 {
		ceil = math.Min(ceil, float64(backoffBase)*math.Pow(2, float64(attempt)))
	}
	d := time.Duration(c.rand() * ceil)
	return max(d, minWait)
}

// retryAfter parses Retry-After: seconds (Graph has sent floats such as
// 2.128) or an HTTP-date. ok is false when absent or unparseable.
func (c *Client) retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, false
		}
		return max(time.Duration(s*float64(time.Second)), minWait), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.now()), minWait), true
	}
	return 0, false
}

// giveUpAt is when an interactive request first sent at start stops
// retrying; the zero time for background work, which retries
// MaxRetries times.
func (c *Client) giveUpAt(ctx context.Context, start time.Time) time.Time {
	switch priorityOf(ctx) {
	case PriorityNormal, PriorityHigh:
		return start.Add(c.budget)
	}
	return time.Time{}
}

// pastBudget reports whether waiting d now would end after giveUp.
func (c *Client) pastBudget(giveUp time.Time, d time.Duration) bool {
	return !giveUp.IsZero() && c.now().Add(d).After(giveUp)
}

// wait sleeps before a retry, honouring ctx.
func (c *Client) wait(ctx context.Context, op string, d time.Duration) error {
	if err := c.sleep(ctx, d); err != nil {
		return fmt.Errorf("graph: %s: waiting to retry: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("graph: %s: waiting to retry: %w", op, err)
	}
	return nil
}

// do sends r, retrying throttled answers (and connection errors on GETs),
// and returns a 2xx response whose body the caller must close. Any other
// answer becomes an *Error.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	op := r.method + " " + opPath(r.url)
	giveUp := c.giveUpAt(ctx, c.now())
	for attempt := 0; ; attempt++ {
		if err := c.pace(ctx, max(r.items, 1), r.retry || attempt > 0); err != nil {
			return nil, fmt.Errorf("graph: %s: waiting for the pacer: %w", op, err)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, r.url, bodyReader(r.body))
		if err != nil {
			return nil, fmt.Errorf("graph: %s: %w", op, err)
		}
		accept := r.accept
		if accept == "" {
			accept = "application/json"
		}
		req.Header.Set("Accept", accept)
		if r.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if r.eventual {
			req.Header.Set("ConsistencyLevel", "eventual")
		}
		if r.prefer != "" {
			req.Header.Set("Prefer", r.prefer)
		}
		if p := priorityOf(ctx); p != "" {
			req.Header.Set("x-ms-throttle-priority", string(p))
		}
		c.requests.Add(1)
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("graph: %s: %w", op, ctx.Err())
			}
			// Only reads are safe to resend blindly after a broken
			// connection: a write may have been applied.
			if r.method != http.MethodGet || attempt >= c.maxRetries {
				return nil, fmt.Errorf("graph: %s: %w", op, err)
			}
			d := c.backoff(attempt)
			if c.pastBudget(giveUp, d) {
				return nil, fmt.Errorf("graph: %s: %w", op, err)
			}
			c.log.WarnContext(ctx, "graph connection error, retrying", "op", op, "attempt", attempt+1, "wait", d, "err", err)
			if err := c.wait(ctx, op, d); err != nil {
				return nil, err
			}
			c.retries.Add(1)
			continue
		}
		if r.items == 0 {
			c.pacer.Observe(parseUsage(resp.Header.Get("x-ms-throttle-limit-percentage")))
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if retryable(resp.StatusCode) {
			c.throttled.Add(1)
			if attempt < c.maxRetries {
				d, ok := c.retryAfter(resp.Header.Get("Retry-After"))
				if !ok {
					d = c.backoff(attempt)
				}
				if c.pastBudget(giveUp, d) {
					c.log.WarnContext(ctx, "graph still refusing, giving up: an interactive request does not wait longer",
						"op", op, "status", resp.StatusCode, "attempt", attempt+1, "budget", c.budget)
					return nil, newError(r.method, opPath(r.url), resp.StatusCode, body, resp.Header.Get)
				}
				c.pacer.Throttled(d)
				c.log.WarnContext(ctx, "graph throttled, retrying", "op", op, "status", resp.StatusCode,
					"attempt", attempt+1, "wait", d, "scope", resp.Header.Get("x-ms-throttle-scope"))
				if err := c.wait(ctx, op, d); err != nil {
					return nil, err
				}
				c.retries.Add(1)
				continue
			}
		}
		return nil, newError(r.method, opPath(r.url), resp.StatusCode, body, resp.Header.Get)
	}
}

func bodyReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}

// drainClose lets the connection be reused.
func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}

// call sends r and decodes a JSON answer into out (nil to ignore it).
// Decoding uses the json v2 prototype: about three times faster than
// encoding/json on a 999-user page and less garbage (bench_test.go), which
// is what a 100,000-user import spends its CPU on.
func (c *Client) call(ctx context.Context, r request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("graph: %s %s: reading response: %w", r.method, opPath(r.url), err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := jsonv2.Unmarshal(b, out); err != nil {
		return fmt.Errorf("graph: %s %s: decoding response: %w", r.method, opPath(r.url), err)
	}
	return nil
}

// jsonBody marshals v for a request body.
func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("graph: encoding request: %w", err)
	}
	return b, nil
}
