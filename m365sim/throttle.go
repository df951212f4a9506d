package m365sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The throttling model follows Microsoft's "Identity and access service
// limits" in "Microsoft Graph service-specific throttling limits",
// https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
// (graph-contracts.md section 11). Graph meters identity requests with
// token buckets:
//
//	limit                    resource units                 writes
//	application+tenant pair  S 3,500 / M 5,000 / L 8,000    3,000 per 150 s
//	                         per 10 s (tenant under 50,
//	                         50–500, over 500 users)
//	application (all tenants) 150,000 per 20 s              70,000 per 5 min
//	tenant (all applications) not applicable                18,000 per 5 min
//
// A request is refused with 429 when any bucket it draws on is short; it
// is charged to all of them otherwise. Every answer carries
// x-ms-resource-unit (the request's cost); x-ms-throttle-limit-percentage
// appears once a bucket is more than 0.8 used ("returned only when the
// application consumed more than 0.8 of its limit", from 0.8 to 1.8), and
// a 429 carries x-ms-throttle-scope (<Scope>/<Limit>/<ApplicationId>/
// <TenantId>) and x-ms-throttle-information (ResourceUnitLimitExceeded,
// WriteLimitExceeded). The page does not say how many decimals the
// percentage has; the simulator sends two.
//
// x-ms-throttle-priority is not modelled: the page says it "does not
// change the limits", only which requests Graph sheds first under load,
// and the simulator has no load of its own.
type throttler struct {
	now   func() time.Time
	scale float64 // windows are divided by it (Options.ThrottleTimeScale)
	mu    sync.Mutex
	b     map[string]*bucket // by limit name and key
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newThrottler(now func() time.Time, scale float64) *throttler {
	if scale <= 0 {
		scale = 1
	}
	return &throttler{now: now, scale: scale, b: map[string]*bucket{}}
}

func (t *throttler) reset() {
	t.mu.Lock()
	t.b = map[string]*bucket{}
	t.mu.Unlock()
}

// limit is one documented quota.
type limit struct {
	name   string        // bucket namespace
	scope  string        // x-ms-throttle-scope's <Scope>/<Limit>
	info   string        // x-ms-throttle-information
	amount float64       // units per window
	window time.Duration // before ThrottleTimeScale
	writes bool          // draws on the write cost, else on resource units
}

const (
	ruWindow        = 10 * time.Second
	writeLimit      = 3000
	writeWindow     = 150 * time.Second
	tenantWrites    = 18000
	tenantWindow    = 5 * time.Minute
	appRULimit      = 150000
	appRUWindow     = 20 * time.Second
	appWriteLimit   = 70000
	appWriteWindow  = 5 * time.Minute
	throttleNear    = 0.8 // x-ms-throttle-limit-percentage appears above this
	throttleMaxUsed = 1.8 // and is documented to range up to this
)

// WriteLimit writes per WriteWindow (divided by Options.ThrottleTimeScale)
// is the application+tenant write quota the simulator enforces, for
// benchmarks that compute the least time a run of writes can take.
const (
	WriteLimit  = writeLimit
	WriteWindow = writeWindow
)

// ruLimit is the application+tenant resource-unit quota per 10 s for a
// tenant of users users: S under 50, M 50 to 500, L above 500.
func ruLimit(users int) float64 {
	switch {
	case users < 50:
		return 3500
	case users <= 500:
		return 5000
	}
	return 8000
}

// limits lists the buckets a request of a tenant with users users draws on.
func limits(users int) []limit {
	return []limit{
		{"app+tenant/ru", "Tenant_Application/ReadWrite", "ResourceUnitLimitExceeded", ruLimit(users), ruWindow, false},
		{"app+tenant/write", "Tenant_Application/Write", "WriteLimitExceeded", writeLimit, writeWindow, true},
		{"tenant/write", "Tenant/Write", "WriteLimitExceeded", tenantWrites, tenantWindow, true},
		{"app/ru", "Application/ReadWrite", "ResourceUnitLimitExceeded", appRULimit, appRUWindow, false},
		{"app/write", "Application/Write", "WriteLimitExceeded", appWriteLimit, appWriteWindow, true},
	}
}

// baseCost is the documented table of base request costs (resource units,
// write cost) for identity paths, relative to /v1.0 with ids as {id}.
// "Any requests not listed have a base cost of 1", and a write cost of 1
// for POST, PATCH, PUT and DELETE. Paths the simulator does not serve are
// listed too, so the table reads like the page.
var baseCost = map[string][2]int{
	"GET applications":                              {2, 0},
	"GET applications/{id}/extensionProperties":     {2, 0},
	"GET contracts":                                 {3, 0},
	"POST directoryObjects/getByIds":                {3, 0},
	"GET domains/{id}/domainNameReferences":         {4, 0},
	"POST getObjectsById":                           {3, 0},
	"GET groups/{id}/members":                       {3, 0},
	"GET groups/{id}/transitiveMembers":             {5, 0},
	"POST isMemberOf":                               {4, 0},
	"POST me/checkMemberGroups":                     {4, 0},
	"POST me/checkMemberObjects":                    {4, 0},
	"POST me/getMemberGroups":                       {2, 0},
	"POST me/getMemberObjects":                      {2, 0},
	"GET me/licenseDetails":                         {2, 0},
	"GET me/memberOf":                               {2, 0},
	"GET me/ownedObjects":                           {2, 0},
	"GET me/transitiveMemberOf":                     {2, 0},
	"GET oauth2PermissionGrants":                    {2, 0},
	"GET oauth2PermissionGrants/{id}":               {2, 0},
	"GET servicePrincipals/{id}/appRoleAssignments": {2, 0},
	"GET subscribedSkus":                            {3, 0},
	"GET users":                                     {2, 0},
}

// costs is a request's (resource units, writes): the base cost of its
// route, "$select decreases cost by 1", "$expand increases cost by 1",
// "$top with a value of less than 20 decreases cost by 1", never below 1.
// A cost for a path starting with me/ "also applies to equivalent requests
// starting with users/{id | userPrincipalName}/". pattern is the mux
// pattern ("GET /v1.0/users/{id}/memberOf").
func costs(pattern string, q map[string][]string) (ru, writes int) {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimPrefix(path, "/v1.0/")
	if rest, ok := strings.CutPrefix(path, "users/{id}/"); ok {
		path = "me/" + rest
	}
	c, ok := baseCost[method+" "+path]
	if !ok {
		c = [2]int{1, 0}
		if method != "GET" {
			c[1] = 1
		}
	}
	ru = c[0]
	if _, ok := q["$select"]; ok {
		ru--
	}
	if _, ok := q["$expand"]; ok {
		ru++
	}
	if v, ok := q["$top"]; ok && len(v) > 0 {
		if n, err := strconv.Atoi(v[0]); err == nil && n < 20 {
			ru--
		}
	}
	return max(ru, 1), c[1]
}

// ruCost is a request's resource-unit cost (x-ms-resource-unit).
func ruCost(pattern string, q map[string][]string) int {
	ru, _ := costs(pattern, q)
	return ru
}

// take charges one request; it returns a 429 graphError when a bucket it
// draws on is short. x-ms-resource-unit is set either way. write is false
// for the $batch envelope's own reads; otherwise the write cost comes from
// the table.
func (t *throttler) take(rq *req, pattern string, write bool) error {
	ru, wc := costs(pattern, rq.q)
	if !write {
		wc = 0
	}
	rq.w.Header().Set("x-ms-resource-unit", strconv.Itoa(ru))
	if !rq.s.opts.Throttle {
		return nil
	}
	rq.s.mu.RLock()
	users := len(rq.t.users)
	rq.s.mu.RUnlock()
	app, tenant := rq.tok.AppID, rq.t.ID
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	type draw struct {
		l    limit
		b    *bucket
		need float64
	}
	var draws []draw
	for _, l := range limits(users) {
		need := float64(ru)
		if l.writes {
			need = float64(wc)
		}
		if need == 0 {
			continue
		}
		key := l.name + "/" + app + "/" + tenant
		switch {
		case strings.HasPrefix(l.name, "tenant/"):
			key = l.name + "/" + tenant
		case strings.HasPrefix(l.name, "app/"):
			key = l.name + "/" + app
		}
		draws = append(draws, draw{l, t.fill(key, l.amount, t.window(l.window), now), need})
	}
	for _, d := range draws {
		if d.b.tokens >= d.need {
			continue
		}
		rate := d.l.amount / t.window(d.l.window).Seconds()
		secs := max(int(math.Ceil((d.need-d.b.tokens)/rate)), 1)
		used := math.Min((d.l.amount-d.b.tokens+d.need)/d.l.amount, throttleMaxUsed)
		e := gerr(429, "TooManyRequests", "Please retry again later.")
		e.inner = map[string]any{"code": "429", "message": "Please retry after", "status": "429"}
		e.headers = map[string]string{
			"Retry-After":                    fmt.Sprint(secs),
			"x-ms-throttle-scope":            d.l.scope + "/" + app + "/" + tenant,
			"x-ms-throttle-information":      d.l.info,
			"x-ms-throttle-limit-percentage": strconv.FormatFloat(used, 'f', 2, 64),
		}
		return e
	}
	used := 0.0
	for _, d := range draws {
		d.b.tokens -= d.need
		used = math.Max(used, 1-d.b.tokens/d.l.amount)
	}
	if used > throttleNear {
		rq.w.Header().Set("x-ms-throttle-limit-percentage", strconv.FormatFloat(used, 'f', 2, 64))
	}
	return nil
}

// window is a documented window shortened by Options.ThrottleTimeScale.
func (t *throttler) window(w time.Duration) time.Duration {
	return time.Duration(float64(w) / t.scale)
}

// fill returns key's bucket, refilled continuously for the time since it
// was last used (a full bucket when new).
func (t *throttler) fill(key string, limit float64, window time.Duration, now time.Time) *bucket {
	b := t.b[key]
	if b == nil {
		b = &bucket{tokens: limit, last: now}
		t.b[key] = b
		return b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(limit, b.tokens+el.Seconds()*limit/window.Seconds())
		b.last = now
	}
	return b
}
