package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxBatch is Graph's limit of requests per $batch envelope.
const maxBatch = 20

// BatchRequest is one request inside $batch. URL is relative to /v1.0
// ("/users/{id}" or "users?$count=true"). Body, when set, is sent as JSON
// with Content-Type application/json unless Headers say otherwise.
type BatchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

// BatchResponse is Graph's answer to one BatchRequest.
type BatchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`

	method, url string // of the request, for Err
}

// Err is nil for a 2xx answer, else the item's *Error.
func (r BatchResponse) Err() error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	path := r.url
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return newError(r.method, path, r.Status, r.Body, r.header)
}

func (r BatchResponse) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Batch sends reqs through $batch, 20 per envelope, and returns one
// response per request in the order of reqs. Items Graph answers with 429,
// 503 or 504 are sent again on their own (with items that failed only
// because they depend on them), after the longest of their Retry-After, up
// to MaxRetries; the rest are final. Envelopes run concurrently (up to
// Config.Concurrency) unless some request has DependsOn, in which case they
// run in order and a dependency answered in an earlier envelope is
// resolved here: success drops it, failure answers the dependant 424.
// The error is for the call as a whole (an envelope refused, ctx done);
// per-item failures are in the responses.
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	seen := make(map[string]bool, len(reqs))
	sequential := false
	for _, r := range reqs {
		if r.ID == "" || seen[r.ID] {
			return nil, fmt.Errorf("graph: $batch: request ids must be unique and non-empty (%q)", r.ID)
		}
		seen[r.ID] = true
		if len(r.DependsOn) > 0 {
			sequential = true
		}
	}
	out := make([]BatchResponse, len(reqs))
	chunks := chunk(len(reqs), maxBatch)
	if sequential {
		done := make(map[string]BatchResponse, len(reqs))
		for _, ch := range chunks {
			res, err := c.envelope(ctx, reqs[ch[0]:ch[1]], done)
			if err != nil {
				return nil, err
			}
			for i, r := range res {
				done[r.ID] = r
				out[ch[0]+i] = r
			}
		}
		return out, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for _, ch := range chunks {
		g.Go(func() error {
			res, err := c.envelope(gctx, reqs[ch[0]:ch[1]], nil)
			if err != nil {
				return err
			}
			copy(out[ch[0]:ch[1]], res)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// chunk splits n items into [start,end) ranges of at most size.
func chunk(n, size int) [][2]int {
	var out [][2]int
	for i := 0; i < n; i += size {
		out = append(out, [2]int{i, min(i+size, n)})
	}
	return out
}

// envelope runs up to 20 requests to completion, retrying throttled items.
// done holds answers from earlier envelopes (sequential mode) so
// cross-envelope dependencies can be resolved locally.
func (c *Client) envelope(ctx context.Context, reqs []BatchRequest, done map[string]BatchResponse) ([]BatchResponse, error) {
	final := make(map[string]BatchResponse, len(reqs))
	pending := make([]BatchRequest, 0, len(reqs))
	prio := priorityOf(ctx)
	for _, r := range reqs {
		r.URL = c.relative(r.URL)
		if _, ok := headerValue(r.Headers, "x-ms-throttle-priority"); prio != "" && !ok {
			h := make(map[string]string, len(r.Headers)+1)
			maps.Copy(h, r.Headers)
			h["x-ms-throttle-priority"] = string(prio)
			r.Headers = h
		}
		if _, ok := headerValue(r.Headers, "Content-Type"); len(r.Body) > 0 && !ok {
			h := make(map[string]string, len(r.Headers)+1)
			maps.Copy(h, r.Headers)
			h["Content-Type"] = "application/json"
			r.Headers = h
		}
		pending = append(pending, r)
	}
	giveUp := c.giveUpAt(ctx, c.now())
	for attempt := 0; ; attempt++ {
		send := resolveDeps(pending, final, done)
		if len(send) > 0 {
			got, err := c.post(ctx, send, attempt > 0)
			if err != nil {
				return nil, err
			}
			c.observeItems(got)
			for _, r := range got {
				final[r.ID] = r
			}
		}
		retry, wait := c.throttledItems(pending, final)
		if len(retry) == 0 || attempt >= c.maxRetries {
			break
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if c.pastBudget(giveUp, wait) {
			break
		}
		c.log.WarnContext(ctx, "graph $batch items throttled, retrying", "items", len(retry), "attempt", attempt+1, "wait", wait)
		if err := c.wait(ctx, "POST /$batch", wait); err != nil {
			return nil, err
		}
		c.retries.Add(int64(len(retry)))
		for _, r := range retry {
			delete(final, r.ID)
		}
		pending = retry
	}
	out := make([]BatchResponse, len(reqs))
	for i, r := range reqs {
		res, ok := final[r.ID]
		if !ok {
			return nil, fmt.Errorf("graph: $batch: no response for request %q", r.ID)
		}
		res.method, res.url = r.Method, c.relative(r.URL)
		out[i] = res
	}
	return out, nil
}

// resolveDeps returns the requests of pending to send now. A dependency
// already answered (in this envelope's final or an earlier envelope's done)
// is dropped when it succeeded; when it failed the dependant is answered
// 424 here, as Graph would, without being sent.
func resolveDeps(pending []BatchRequest, final, done map[string]BatchResponse) []BatchRequest {
	inFlight := make(map[string]bool, len(pending))
	for _, r := range pending {
		inFlight[r.ID] = true
	}
	send := make([]BatchRequest, 0, len(pending))
	for _, r := range pending {
		var deps []string
		failed := ""
		for _, d := range r.DependsOn {
			if inFlight[d] {
				deps = append(deps, d)
				continue
			}
			prev, ok := final[d]
			if !ok {
				prev, ok = done[d]
			}
			if !ok {
				deps = append(deps, d) // unknown: let Graph judge it
				continue
			}
			if prev.Status < 200 || prev.Status >= 300 {
				failed = d
			}
		}
		if failed != "" {
			inFlight[r.ID] = false
			final[r.ID] = BatchResponse{ID: r.ID, Status: http.StatusFailedDependency,
				Body: json.RawMessage(fmt.Sprintf(`{"error":{"code":"FailedDependency","message":"request %s, which this one depends on, failed"}}`, jsonEscape(failed)))}
			continue
		}
		r.DependsOn = deps
		send = append(send, r)
	}
	return send
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// throttledItems picks the items of pending to send again — those answered
// 429/503/504 and those answered 424 because they depend on one — and the
// longest Retry-After among them (0 when none said).
func (c *Client) throttledItems(pending []BatchRequest, final map[string]BatchResponse) ([]BatchRequest, time.Duration) {
	again := map[string]bool{}
	var wait time.Duration
	for _, r := range pending {
		res := final[r.ID]
		if retryable(res.Status) {
			c.throttled.Add(1)
			again[r.ID] = true
			if d, ok := c.retryAfter(res.header("Retry-After")); ok && d > wait {
				wait = d
			}
		}
	}
	if len(again) == 0 {
		return nil, 0
	}
	// Dependants follow their dependency back into the queue; repeat until
	// stable because chains can be longer than one link.
	for changed := true; changed; {
		changed = false
		for _, r := range pending {
			if again[r.ID] || final[r.ID].Status != http.StatusFailedDependency {
				continue
			}
			if slices.ContainsFunc(r.DependsOn, func(d string) bool { return again[d] }) {
				again[r.ID] = true
				changed = true
			}
		}
	}
	var retry []BatchRequest
	for _, r := range pending {
		if again[r.ID] {
			retry = append(retry, r)
		}
	}
	return retry, wait
}

// post sends one envelope (retrying an envelope-level 429 in do).
func (c *Client) post(ctx context.Context, reqs []BatchRequest, retry bool) ([]BatchResponse, error) {
	body, err := jsonBody(struct {
		Requests []BatchRequest `json:"requests"`
	}{reqs})
	if err != nil {
		return nil, err
	}
	var out struct {
		Responses []BatchResponse `json:"responses"`
	}
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/$batch", ""), body: body, items: len(reqs), retry: retry}, &out); err != nil {
		return nil, err
	}
	return out.Responses, nil
}

// relative turns an absolute Graph URL (e.g. a nextLink) into the relative
// form $batch items need.
func (c *Client) relative(u string) string {
	if strings.HasPrefix(u, c.base) {
		u = strings.TrimPrefix(u, c.base)
	} else if i := strings.Index(u, "/v1.0/"); i >= 0 && strings.Contains(u[:i], "://") {
		u = u[i+len("/v1.0"):]
	}
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return u
}

func headerValue(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// observeItems feeds one envelope's answers to the pacer: the highest
// x-ms-throttle-limit-percentage among the items (Graph meters each item
// as a request of its own), and the longest Retry-After of throttled ones.
func (c *Client) observeItems(got []BatchResponse) {
	var used float64
	seen := false
	var hold time.Duration
	throttled := false
	for _, r := range got {
		if u, ok := parseUsage(r.header("x-ms-throttle-limit-percentage")); ok {
			used, seen = max(used, u), true
		}
		if retryable(r.Status) {
			throttled = true
			if d, ok := c.retryAfter(r.header("Retry-After")); ok {
				hold = max(hold, d)
			}
		}
	}
	c.pacer.Observe(used, seen)
	if throttled {
		c.pacer.Throttled(hold)
	}
}
