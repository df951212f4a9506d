package m365sim

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// controls holds what the /_sim/ endpoints configure or observe: injected
// faults and request statistics.
type controls struct {
	mu        sync.Mutex
	faults    []*fault
	routes    map[string]int
	throttled int
	writes    int
	faulted   int
}

type fault struct {
	re         *regexp.Regexp
	Path       string `json:"path"`
	Status     int    `json:"status"`
	Count      int    `json:"count"` // remaining; 0 means every time
	RetryAfter int    `json:"retryAfter"`
	LatencyMs  int    `json:"latencyMs"`
	unlimited  bool
}

func newControls() *controls { return &controls{routes: map[string]int{}} }

func (c *controls) reset() {
	c.mu.Lock()
	c.faults, c.routes, c.throttled, c.writes, c.faulted = nil, map[string]int{}, 0, 0, 0
	c.mu.Unlock()
}

func (c *controls) count(route string, write bool) {
	c.mu.Lock()
	c.routes[route]++
	if write {
		c.writes++
	}
	c.mu.Unlock()
}

func (c *controls) countThrottled() {
	c.mu.Lock()
	c.throttled++
	c.mu.Unlock()
}

// match returns the fault to apply to path, consuming one use.
func (c *controls) match(path string) *fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults {
		if !f.re.MatchString(path) {
			continue
		}
		if !f.unlimited {
			f.Count--
			if f.Count <= 0 {
				c.faults = append(c.faults[:i:i], c.faults[i+1:]...)
			}
		}
		c.faulted++
		cp := *f
		return &cp
	}
	return nil
}

// injectFault answers r with a configured fault and reports whether it did.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, path string) bool {
	f := s.ctl.match(path)
	if f == nil {
		return false
	}
	if f.LatencyMs > 0 {
		select {
		case <-time.After(time.Duration(f.LatencyMs) * time.Millisecond):
		case <-r.Context().Done():
			return true
		}
	}
	if f.Status == 0 {
		return false // latency only
	}
	rq := s.newReq(w, r)
	var e *graphError
	switch f.Status {
	case 429:
		e = gerr(429, "TooManyRequests", "Please retry again later.")
		e.inner = map[string]any{"code": "429", "message": "Please retry after", "status": "429"}
		s.ctl.countThrottled()
	case 503:
		e = gerr(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	case 504:
		e = gerr(504, "gatewayTimeout", "The gateway timed out.")
	case 401:
		e = gerr(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
	case 403:
		e = errInsufficient
	case 404:
		e = gerr(404, "Request_ResourceNotFound", "Resource does not exist.")
	default:
		e = gerr(f.Status, "generalException", "%s", http.StatusText(f.Status))
	}
	if f.RetryAfter > 0 || f.Status == 429 {
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		e2 := *e
		e2.headers = map[string]string{"Retry-After": strconv.Itoa(ra)}
		e = &e2
	}
	rq.fail(e)
	return true
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func ctlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func ctlError(w http.ResponseWriter, status int, format string, a ...any) {
	ctlJSON(w, status, map[string]any{"error": map[string]string{"message": fmt.Sprintf(format, a...)}})
}

// controlHandler serves /_sim/: the simulator's own test hooks, not part of
// Microsoft's API. They take no token, so they answer loopback callers only.
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_sim/revoke", s.ctlRevoke)
	mux.HandleFunc("POST /_sim/faults", s.ctlAddFault)
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ctl.mu.Lock()
		s.ctl.faults = nil
		s.ctl.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/stats", s.ctlStats)
	mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/users", s.ctlCreateUser)
	mux.HandleFunc("PATCH /_sim/users/{id}", s.ctlPatchUser)
	mux.HandleFunc("DELETE /_sim/users/{id}", s.ctlDeleteUser)
	mux.HandleFunc("POST /_sim/groups", s.ctlCreateGroup)
	mux.HandleFunc("PATCH /_sim/groups/{id}", s.ctlPatchGroup)
	mux.HandleFunc("DELETE /_sim/groups/{id}", s.ctlDeleteGroup)
	mux.HandleFunc("POST /_sim/groups/{id}/members/{userId}", s.ctlMember(true))
	mux.HandleFunc("DELETE /_sim/groups/{id}/members/{userId}", s.ctlMember(false))
	mux.HandleFunc("POST /_sim/tenants", s.ctlAddTenant)
	mux.HandleFunc("POST /_sim/clock", s.ctlClock)
	mux.HandleFunc("GET /_sim/facts", func(w http.ResponseWriter, r *http.Request) { ctlJSON(w, 200, s.Facts()) })
	s.notificationControls(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) {
			ctlError(w, http.StatusForbidden, "control endpoints answer loopback clients only")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func decodeCtl(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		ctlError(w, http.StatusBadRequest, "invalid JSON body: %v", err)
		return false
	}
	return true
}

// ctlTenant picks the tenant a control call addresses: ?tenant=<id or
// domain>, else the first.
func (s *Server) ctlTenant(r *http.Request) *tenant {
	if v := r.URL.Query().Get("tenant"); v != "" {
		return s.tenantByID(v)
	}
	return s.tenants[0]
}

func (s *Server) ctlRevoke(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User   string `json:"user"`
		App    bool   `json:"app"`
		Tenant string `json:"tenant"`
	}
	if !decodeCtl(w, r, &in) {
		return
	}
	s.mu.RLock()
	t := s.tenants[0]
	if in.Tenant != "" {
		t = s.tenantByID(in.Tenant)
	}
	s.mu.RUnlock()
	if t == nil {
		ctlError(w, 404, "unknown tenant %q", in.Tenant)
		return
	}
	var err error
	switch {
	case in.User != "":
		err = s.idp.RevokeUser(t.ID, in.User)
		if err == nil {
			s.mu.RLock()
			u := t.userRef(in.User)
			s.mu.RUnlock()
			if u != nil {
				s.notif.grantRevoked(t.ID, "", u.ID) // lifecycle notification (notify.go)
			}
		}
	case in.App:
		err = s.idp.RevokeApp(t.ID, s.opts.ClientID)
		if err == nil {
			s.notif.grantRevoked(t.ID, s.opts.ClientID, "")
		}
	default:
		ctlError(w, 400, `give {"user":"<upn or id>"} or {"app":true}`)
		return
	}
	if err != nil {
		ctlError(w, 404, "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlAddFault(w http.ResponseWriter, r *http.Request) {
	var f fault
	if !decodeCtl(w, r, &f) {
		return
	}
	re, err := regexp.Compile(f.Path)
	if err != nil {
		ctlError(w, 400, "path: %v", err)
		return
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		ctlError(w, 400, "status must be 4xx or 5xx")
		return
	}
	f.re, f.unlimited = re, f.Count <= 0
	s.ctl.mu.Lock()
	s.ctl.faults = append(s.ctl.faults, &f)
	s.ctl.mu.Unlock()
	ctlJSON(w, http.StatusCreated, f)
}

// Stats is what GET /_sim/stats reports.
type Stats struct {
	Routes    map[string]int `json:"routes"`
	Requests  int            `json:"requests"`
	Throttled int            `json:"throttled"`
	Writes    int            `json:"writes"`
	Faults    int            `json:"faults"`
}

// Stats returns request counts per route since start or the last reset.
func (s *Server) Stats() Stats {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	st := Stats{Routes: map[string]int{}, Throttled: s.ctl.throttled, Writes: s.ctl.writes, Faults: s.ctl.faulted}
	for k, v := range s.ctl.routes {
		st.Routes[k] = v
		st.Requests += v
	}
	return st
}

func (s *Server) ctlStats(w http.ResponseWriter, r *http.Request) { ctlJSON(w, 200, s.Stats()) }

// CreateUser adds a user the way an administrator would in the portal;
// the change shows in users/delta.
// ctlLookup resolves, with s.mu held, the tenant a control call addresses
// and the user and group its path names (by the path values userParam and
// groupParam; "" for none). It answers 404 itself and then returns false.
func (s *Server) ctlLookup(w http.ResponseWriter, r *http.Request, userParam, groupParam string) (*tenant, *user, *group, bool) {
	t := s.ctlTenant(r)
	if t == nil {
		ctlError(w, 404, "unknown tenant")
		return nil, nil, nil, false
	}
	var g *group
	if groupParam != "" {
		if g = t.groupByID[strings.ToLower(r.PathValue(groupParam))]; g == nil {
			ctlError(w, 404, "no group %s", r.PathValue(groupParam))
			return nil, nil, nil, false
		}
	}
	var u *user
	if userParam != "" {
		if u = t.userRef(r.PathValue(userParam)); u == nil {
			ctlError(w, 404, "no user %s", r.PathValue(userParam))
			return nil, nil, nil, false
		}
	}
	return t, u, g, true
}

func (s *Server) ctlCreateUser(w http.ResponseWriter, r *http.Request) {
	var raw map[string]json.RawMessage
	if !decodeCtl(w, r, &raw) {
		return
	}
	var upn string
	if v, ok := raw["userPrincipalName"]; ok {
		json.Unmarshal(v, &upn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, _, ok := s.ctlLookup(w, r, "", "")
	if !ok {
		return
	}
	if upn == "" {
		ctlError(w, 400, "userPrincipalName is required")
		return
	}
	if !strings.Contains(upn, "@") {
		upn += "@" + t.Domain
	}
	if t.userByUPN[strings.ToLower(upn)] != nil {
		ctlError(w, 409, "user %s already exists", upn)
		return
	}
	u := &user{ID: t.gen.guid(), UserPrincipalName: upn, Mail: upn, AccountEnabled: true, Created: s.nowLocked(), PreferredLanguage: "en-US"}
	if err := applyUserPatch(u, raw, true); err != nil {
		ctlError(w, 400, "%v", err)
		return
	}
	if u.DisplayName == "" {
		u.DisplayName = strings.SplitN(upn, "@", 2)[0]
	}
	if v, ok := raw["roles"]; ok {
		json.Unmarshal(v, &u.Roles)
	}
	t.insertUser(u, true)
	ctlJSON(w, 201, render(u.get, append(append([]string{}, defaultUserProps...), "accountEnabled", "usageLocation", "department", "createdDateTime")))
}

func (s *Server) nowLocked() time.Time { return s.now() }

func (s *Server) ctlPatchUser(w http.ResponseWriter, r *http.Request) {
	var raw map[string]json.RawMessage
	if !decodeCtl(w, r, &raw) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, u, _, ok := s.ctlLookup(w, r, "id", "")
	if !ok {
		return
	}
	c := *u
	if err := applyUserPatch(&c, raw, true); err != nil {
		ctlError(w, 400, "%v", err)
		return
	}
	// A rename (Entra ID lets administrators change a userPrincipalName;
	// the object id stays).
	if v, ok := raw["userPrincipalName"]; ok {
		var upn string
		if err := json.Unmarshal(v, &upn); err != nil || !strings.Contains(upn, "@") {
			ctlError(w, 400, "userPrincipalName must be a string with an @")
			return
		}
		if o := t.userByUPN[strings.ToLower(upn)]; o != nil && o != u {
			ctlError(w, 409, "user %s already exists", upn)
			return
		}
		c.UserPrincipalName = upn
	}
	t.unindexUPN(u)
	before := *u
	*u = c
	t.indexUPN(u)
	t.record(change{id: u.ID, props: changedProps(before.get, u.get, userTracked)})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, u, _, ok := s.ctlLookup(w, r, "id", "")
	if !ok {
		return
	}
	t.deleteUser(u, false)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlCreateGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DisplayName  string   `json:"displayName"`
		Description  string   `json:"description"`
		MailNickname string   `json:"mailNickname"`
		Unified      bool     `json:"unified"`
		Visibility   string   `json:"visibility"`
		Members      []string `json:"members"`
	}
	if !decodeCtl(w, r, &in) {
		return
	}
	if in.DisplayName == "" {
		ctlError(w, 400, "displayName is required")
		return
	}
	if in.MailNickname == "" {
		in.MailNickname = nicknameFrom(in.DisplayName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, _, ok := s.ctlLookup(w, r, "", "")
	if !ok {
		return
	}
	g := &group{ID: t.gen.guid(), DisplayName: in.DisplayName, Description: in.Description, MailNickname: in.MailNickname,
		GroupTypes: []string{}, SecurityEnabled: !in.Unified, Visibility: in.Visibility, Created: s.nowLocked(), memberSet: map[string]struct{}{}}
	if in.Unified {
		g.GroupTypes, g.MailEnabled, g.Mail = []string{"Unified"}, true, in.MailNickname+"@"+t.Domain
		if g.Visibility == "" {
			g.Visibility = "Public"
		}
	}
	for _, m := range in.Members {
		u := t.userRef(m)
		if u == nil {
			ctlError(w, 404, "no user %s", m)
			return
		}
		g.addMember(u.ID)
	}
	t.insertGroup(g, true)
	ctlJSON(w, 201, render(g.get, defaultGroupProps))
}

func (s *Server) ctlPatchGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DisplayName, Description, Visibility *string
	}
	if !decodeCtl(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, g, ok := s.ctlLookup(w, r, "", "id")
	if !ok {
		return
	}
	before := *g
	if in.DisplayName != nil {
		g.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.Visibility != nil {
		g.Visibility = *in.Visibility
	}
	t.record(change{group: true, id: g.ID, props: changedProps(before.get, g.get, groupTracked)})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlDeleteGroup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, g, ok := s.ctlLookup(w, r, "", "id")
	if !ok {
		return
	}
	t.deleteGroup(g, false)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlMember(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		t, u, g, ok := s.ctlLookup(w, r, "userId", "id")
		if !ok {
			return
		}
		changed := g.removeMember(u.ID)
		if add {
			if changed {
				g.addMember(u.ID) // restore: it was already a member
				ctlError(w, 409, "%s is already a member", u.UserPrincipalName)
				return
			}
			changed = g.addMember(u.ID)
		} else if !changed {
			ctlError(w, 404, "%s is not a member", u.UserPrincipalName)
			return
		}
		t.record(change{group: true, id: g.ID, member: u.ID, memberAdded: add})
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) ctlAddTenant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Domain string `json:"domain"`
		Users  int    `json:"users"`
		Seed   int64  `json:"seed"`
	}
	if !decodeCtl(w, r, &in) {
		return
	}
	tf, err := s.AddTenant(in.Domain, in.Users, in.Seed)
	if err != nil {
		ctlError(w, 400, "%v", err)
		return
	}
	ctlJSON(w, 201, tf)
}

func (s *Server) ctlClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Advance string `json:"advance"`
	}
	if !decodeCtl(w, r, &in) {
		return
	}
	d, err := time.ParseDuration(in.Advance)
	if err != nil || d < 0 {
		ctlError(w, 400, "advance: want a positive Go duration such as \"168h\"")
		return
	}
	s.Advance(d)
	ctlJSON(w, 200, map[string]string{"now": s.now().UTC().Format(time.RFC3339)})
}

// Advance moves the simulator's clock forward, e.g. to expire delta tokens
// or refresh tokens in tests. Deleted items whose retention ran out are
// purged at once (and notified).
func (s *Server) Advance(d time.Duration) {
	s.offset.Add(int64(d))
	s.purgeExpired()
}
