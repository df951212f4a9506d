package m365sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// throttler models Graph's identity and access limits (graph-contracts.md
// section 11) as token buckets per app+tenant: resource units per 10 s,
// sized by tenant, and writes per 150 s.
type throttler struct {
	now     func() time.Time
	mu      sync.Mutex
	ru      map[string]*bucket
	writes  map[string]*bucket
	enabled bool
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newThrottler(now func() time.Time) *throttler {
	return &throttler{now: now, ru: map[string]*bucket{}, writes: map[string]*bucket{}}
}

func (t *throttler) reset() {
	t.mu.Lock()
	t.ru, t.writes = map[string]*bucket{}, map[string]*bucket{}
	t.mu.Unlock()
}

// ruCost is a request's resource-unit cost per the documented table.
func ruCost(pattern string, q map[string][]string) int {
	method, path, _ := strings.Cut(pattern, " ")
	if method != "GET" {
		return 1
	}
	cost := 1
	switch path {
	case "/v1.0/users":
		cost = 2
	case "/v1.0/subscribedSkus":
		cost = 3
	case "/v1.0/groups/{id}/members":
		cost = 3
	case "/v1.0/me/licenseDetails", "/v1.0/users/{id}/licenseDetails":
		cost = 2
	}
	if _, ok := q["$select"]; ok {
		cost--
	}
	if _, ok := q["$expand"]; ok {
		cost++
	}
	if v, ok := q["$top"]; ok {
		if n, err := strconv.Atoi(v[0]); err == nil && n < 20 {
			cost--
		}
	}
	return max(cost, 1)
}

func ruLimit(users int) float64 {
	switch {
	case users < 50:
		return 3500
	case users <= 500:
		return 5000
	}
	return 8000
}

const (
	ruWindow     = 10 * time.Second
	writeLimit   = 3000
	writeWindow  = 150 * time.Second
	throttleNear = 0.8
)

// take charges one request; it returns a 429 graphError when a bucket is
// empty. x-ms-resource-unit is set either way.
func (t *throttler) take(rq *req, pattern string, write bool) error {
	cost := ruCost(pattern, rq.q)
	rq.w.Header().Set("x-ms-resource-unit", strconv.Itoa(cost))
	if !rq.s.opts.Throttle {
		return nil
	}
	rq.s.mu.RLock()
	limit := ruLimit(len(rq.t.users))
	rq.s.mu.RUnlock()
	key := rq.tok.AppID + "/" + rq.t.ID
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	rb := t.fill(t.ru, key, limit, ruWindow, now)
	var wb *bucket
	if write {
		wb = t.fill(t.writes, key, writeLimit, writeWindow, now)
	}
	throttled := func(info string, b *bucket, need, lim float64, win time.Duration) error {
		wait := (need - b.tokens) / (lim / win.Seconds())
		secs := int(math.Ceil(wait))
		if secs < 1 {
			secs = 1
		}
		e := gerr(429, "TooManyRequests", "Please retry again later.")
		e.inner = map[string]any{"code": "429", "message": "Please retry after", "status": "429"}
		e.headers = map[string]string{
			"Retry-After":                    fmt.Sprint(secs),
			"x-ms-throttle-scope":            "Tenant_Application/ReadWrite/" + rq.tok.AppID + "/" + rq.t.ID,
			"x-ms-throttle-information":      info,
			"x-ms-throttle-limit-percentage": "1.0",
		}
		return e
	}
	if rb.tokens < float64(cost) {
		return throttled("ResourceUnitLimitExceeded", rb, float64(cost), limit, ruWindow)
	}
	if wb != nil && wb.tokens < 1 {
		return throttled("WriteLimitExceeded", wb, 1, writeLimit, writeWindow)
	}
	rb.tokens -= float64(cost)
	used := 1 - rb.tokens/limit
	if wb != nil {
		wb.tokens--
		used = math.Max(used, 1-wb.tokens/writeLimit)
	}
	if used > throttleNear {
		rq.w.Header().Set("x-ms-throttle-limit-percentage", strconv.FormatFloat(used, 'f', 1, 64))
	}
	return nil
}

func (t *throttler) fill(m map[string]*bucket, key string, limit float64, window time.Duration, now time.Time) *bucket {
	b := m[key]
	if b == nil {
		b = &bucket{tokens: limit, last: now}
		m[key] = b
		return b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(limit, b.tokens+el.Seconds()*limit/window.Seconds())
		b.last = now
	}
	return b
}
