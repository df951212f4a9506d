package m365sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tenantlink/tenantlink/m365sim/identity"
	"github.com/tenantlink/tenantlink/m365sim/odata"
)

// graphError is an error Graph answers with its documented body.
type graphError struct {
	status  int
	code    string
	message string
	details []map[string]string
	headers map[string]string
	inner   map[string]any // extra innerError members (throttling)
}

func (e *graphError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func gerr(status int, code, format string, a ...any) *graphError {
	return &graphError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

func notFound(id string) *graphError {
	return gerr(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func badRequest(format string, a ...any) *graphError {
	return gerr(400, "Request_BadRequest", format, a...)
}

var errInsufficient = gerr(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

// perm lists the permissions any one of which allows an operation, per
// Graph's permission tables (least privileged first).
type perm struct {
	delegated, app []string
	// basic lists delegated permissions that allow only basic properties
	// (User.ReadBasic.All).
	basic []string
}

var (
	readWriteDir  = []string{"Directory.ReadWrite.All"}
	permUsersRead = perm{
		delegated: []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		app:       []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		basic:     []string{"User.ReadBasic.All"},
	}
	permMe = perm{
		delegated: []string{"User.Read", "User.ReadWrite", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		basic:     []string{"User.ReadBasic.All"},
	}
	permMemberOf = perm{
		delegated: []string{"GroupMember.Read.All", "Group.Read.All", "User.Read.All", "Directory.Read.All", "GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"GroupMember.Read.All", "Group.Read.All", "User.Read.All", "Directory.Read.All", "GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permMyMemberOf = perm{delegated: append([]string{"User.Read"}, permMemberOf.delegated...)}
	permGroupsRead = perm{
		delegated: []string{"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permGroupCreate = perm{
		delegated: []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permGroupWrite   = perm{delegated: []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}, app: []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}}
	permMembersWrite = perm{
		delegated: []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permSkus = perm{
		delegated: []string{"Organization.Read.All", "LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		app:       []string{"Organization.Read.All", "LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
	}
	permAssign = perm{
		delegated: []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permLicenseDetails = perm{
		delegated: []string{"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		app:       []string{"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
	}
	permMyLicenseDetails = perm{delegated: append([]string{"User.Read"}, permLicenseDetails.delegated...)}
	permUserWrite        = perm{delegated: []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}, app: []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}}
	permMeWrite          = perm{delegated: []string{"User.ReadWrite", "User.ReadWrite.All", "Directory.ReadWrite.All"}}
	permOrg              = perm{
		delegated: []string{"User.Read", "Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permAny = perm{} // checked per item (e.g. $batch)
)

// req is one Graph request in flight.
type req struct {
	s         *Server
	w         http.ResponseWriter
	r         *http.Request
	t         *tenant
	tok       *identity.AccessToken
	delegated bool
	basic     bool // only User.ReadBasic.All: basic user properties
	reqID     string
	clientID  string
	q         url.Values
	base      string // Graph root, e.g. http://127.0.0.1:8081/v1.0
}

func (s *Server) graphHandler() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, p perm, fn func(*req) error) {
		mux.Handle(pattern, s.graphRoute(pattern, p, fn))
	}
	h("GET /v1.0/users", permUsersRead, (*req).listUsers)
	h("GET /v1.0/users/$count", permUsersRead, (*req).countUsers)
	h("GET /v1.0/users/delta", permUsersRead, (*req).usersDelta)
	h("GET /v1.0/users/{id}", permUsersRead, (*req).getUser)
	h("PATCH /v1.0/users/{id}", permUserWrite, (*req).patchUser)
	h("GET /v1.0/users/{id}/memberOf", permMemberOf, (*req).memberOf)
	h("POST /v1.0/users/{id}/assignLicense", permAssign, (*req).assignLicense)
	h("GET /v1.0/users/{id}/licenseDetails", permLicenseDetails, (*req).licenseDetails)
	h("GET /v1.0/me", permMe, (*req).getUser)
	h("PATCH /v1.0/me", permMeWrite, (*req).patchUser)
	h("GET /v1.0/me/memberOf", permMyMemberOf, (*req).memberOf)
	h("POST /v1.0/me/assignLicense", permAssign, (*req).assignLicense)
	h("GET /v1.0/me/licenseDetails", permMyLicenseDetails, (*req).licenseDetails)
	h("GET /v1.0/groups", permGroupsRead, (*req).listGroups)
	h("GET /v1.0/groups/$count", permGroupsRead, (*req).countGroups)
	h("POST /v1.0/groups", permGroupCreate, (*req).createGroup)
	h("GET /v1.0/groups/delta", permGroupsRead, (*req).groupsDelta)
	h("GET /v1.0/groups/{id}", permGroupsRead, (*req).getGroup)
	h("PATCH /v1.0/groups/{id}", permMembersWrite, (*req).patchGroup)
	h("DELETE /v1.0/groups/{id}", permGroupWrite, (*req).deleteGroupSoft)
	h("GET /v1.0/groups/{id}/members", permGroupsRead, (*req).listMembers)
	h("GET /v1.0/groups/{id}/members/$count", permGroupsRead, (*req).countMembers)
	h("POST /v1.0/groups/{id}/members/$ref", permMembersWrite, (*req).addMember)
	h("DELETE /v1.0/groups/{id}/members/{member}/$ref", permMembersWrite, (*req).removeMember)
	h("GET /v1.0/subscribedSkus", permSkus, (*req).listSkus)
	h("GET /v1.0/subscribedSkus/{id}", permSkus, (*req).getSku)
	h("GET /v1.0/organization", permOrg, (*req).organization)
	// Life cycle, managers, nested membership, group licensing
	// (lifecycle.go, nested.go, grouplicensing.go).
	h("POST /v1.0/users", permUserWrite, (*req).createUser)
	h("DELETE /v1.0/users/{id}", permUserWrite, (*req).deleteUserSoft)
	h("GET /v1.0/users/{id}/manager", permUsersRead, (*req).getManager)
	h("PUT /v1.0/users/{id}/manager/$ref", permUserWrite, (*req).putManager)
	h("DELETE /v1.0/users/{id}/manager/$ref", permUserWrite, (*req).deleteManager)
	h("GET /v1.0/users/{id}/directReports", permUsersRead, (*req).directReports)
	h("GET /v1.0/users/{id}/transitiveMemberOf", permMemberOf, (*req).transitiveMemberOf)
	h("GET /v1.0/users/{id}/transitiveMemberOf/{cast}", permMemberOf, (*req).transitiveMemberOf)
	h("POST /v1.0/users/{id}/checkMemberGroups", permMemberOf, func(rq *req) error { return rq.checkMember("groupIds")() })
	h("POST /v1.0/users/{id}/checkMemberObjects", permMemberOf, func(rq *req) error { return rq.checkMember("ids")() })
	h("GET /v1.0/groups/{id}/transitiveMembers", permGroupsRead, (*req).transitiveMembers)
	h("GET /v1.0/groups/{id}/transitiveMembers/{cast}", permGroupsRead, (*req).transitiveMembers)
	h("GET /v1.0/groups/{id}/memberOf", permGroupsRead, (*req).groupMemberOf)
	h("POST /v1.0/groups/{id}/assignLicense", permGroupLicence, (*req).groupAssignLicense)
	h("GET /v1.0/directory/deletedItems/{x}", permDeletedRead, (*req).deletedItems)
	h("POST /v1.0/directory/deletedItems/{id}/restore", permRestore, (*req).restoreDeleted)
	h("DELETE /v1.0/directory/deletedItems/{id}", permRestore, (*req).purgeDeletedItem)
	h("POST /v1.0/$batch", permAny, (*req).batch)
	s.subscriptionRoutes(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		normalizePath(r.URL) // delta(), microsoft.graph.delta, members/graph.user (sdk.go)
		if _, pattern := mux.Handler(r); pattern == "" {
			rq := s.newReq(w, r)
			seg := strings.TrimPrefix(r.URL.Path, "/v1.0/")
			if i := strings.LastIndex(seg, "/"); i >= 0 {
				seg = seg[i+1:]
			}
			rq.fail(gerr(400, "BadRequest", "Resource not found for the segment '%s'.", seg))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) newReq(w http.ResponseWriter, r *http.Request) *req {
	rq := &req{s: s, w: w, r: r, q: r.URL.Query(), reqID: uuid.NewString()}
	rq.clientID = r.Header.Get("client-request-id")
	if rq.clientID == "" {
		rq.clientID = rq.reqID
	}
	base := s.baseURL
	if base == "" {
		base = "http://" + r.Host
	}
	rq.base = base + "/v1.0"
	w.Header().Set("request-id", rq.reqID)
	w.Header().Set("client-request-id", rq.clientID)
	return rq
}

// graphRoute wraps a handler with what every Graph call goes through:
// request ids, token validation, permission checks, throttling, counting.
func (s *Server) graphRoute(pattern string, p perm, fn func(*req) error) http.Handler {
	write := !strings.HasPrefix(pattern, "GET ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.newReq(w, r)
		// Graph reports the cost on every answer, refusals included.
		w.Header().Set("x-ms-resource-unit", strconv.Itoa(ruCost(pattern, rq.q)))
		s.ctl.count(pattern, write && pattern != "POST /v1.0/$batch")
		if err := rq.authenticate(p); err != nil {
			rq.fail(err)
			return
		}
		if err := decodeBody(r); err != nil { // Content-Encoding (sdk.go)
			rq.fail(err)
			return
		}
		if pattern != "POST /v1.0/$batch" {
			if err := s.thr.take(rq, pattern, write); err != nil {
				s.ctl.countThrottled()
				rq.fail(err)
				return
			}
		}
		if err := fn(rq); err != nil {
			rq.fail(err)
		}
	})
}

func (rq *req) authenticate(p perm) error {
	h := rq.r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(h, "bearer ")
	}
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return gerr(401, "InvalidAuthenticationToken", "Access token is empty.")
	}
	tok, err := rq.s.idp.VerifyAccessToken(raw)
	if err != nil {
		var te *identity.TokenError
		if errors.As(err, &te) {
			code := te.Code
			if code == "" {
				code = "InvalidAuthenticationToken"
			}
			return gerr(401, code, "%s", te.Message)
		}
		return gerr(401, "InvalidAuthenticationToken", "Access token validation failure.")
	}
	rq.tok = tok
	rq.delegated = len(tok.Scopes) > 0
	rq.s.mu.RLock()
	rq.t = rq.s.tenantByID(tok.TenantID)
	rq.s.mu.RUnlock()
	if rq.t == nil {
		return gerr(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	if p.delegated == nil && p.app == nil && p.basic == nil {
		return nil
	}
	granted := tok.Roles
	allowed := p.app
	if rq.delegated {
		granted, allowed = tok.Scopes, p.delegated
	} else if p.app == nil && p.delegated != nil {
		return badRequest("/me request is only valid with delegated authentication flow.")
	}
	if hasAny(granted, allowed) {
		return nil
	}
	if rq.delegated && hasAny(granted, p.basic) {
		rq.basic = true
		return nil
	}
	return errInsufficient
}

func hasAny(granted, allowed []string) bool {
	for _, g := range granted {
		for _, a := range allowed {
			if strings.EqualFold(g, a) {
				return true
			}
		}
	}
	return false
}

func (rq *req) fail(err error) {
	var ge *graphError
	if !errors.As(err, &ge) {
		var oe *odata.Error
		if errors.As(err, &oe) {
			ge = &graphError{status: oe.Status, code: oe.Code, message: oe.Message}
		} else {
			rq.s.logger.Error("m365sim: graph handler", "path", rq.r.URL.Path, "err", err)
			ge = gerr(500, "generalException", "An internal server error occurred.")
		}
	}
	for k, v := range ge.headers {
		rq.w.Header().Set(k, v)
	}
	inner := obj{}
	for k, v := range ge.inner {
		inner = append(inner, kv{k, v})
	}
	inner = append(inner, kv{"date", rq.s.now().UTC().Format("2006-01-02T15:04:05")}, kv{"request-id", rq.reqID}, kv{"client-request-id", rq.clientID})
	e := obj{{"code", ge.code}, {"message", ge.message}}
	if len(ge.details) > 0 {
		e = append(e, kv{"details", ge.details})
	}
	e = append(e, kv{"innerError", inner})
	rq.json(ge.status, obj{{"error", e}})
}

func (rq *req) json(status int, body any) {
	buf, err := appendJSON(make([]byte, 0, 4096), body)
	if err != nil {
		rq.s.logger.Error("m365sim: encode response", "err", err)
		status = 500
		buf = []byte(`{"error":{"code":"generalException","message":"encode"}}`)
	}
	buf = append(buf, '\n')
	rq.w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	rq.w.WriteHeader(status)
	rq.w.Write(buf)
}

func (rq *req) noContent() error {
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rq *req) text(status int, s string) {
	rq.w.Header().Set("Content-Type", "text/plain")
	rq.w.WriteHeader(status)
	rq.w.Write([]byte(s))
}

func (rq *req) context(fragment string) string {
	return rq.base + "/$metadata#" + fragment
}

func (rq *req) eventual() bool {
	return strings.EqualFold(strings.TrimSpace(rq.r.Header.Get("ConsistencyLevel")), "eventual")
}

// me resolves the user a /me or /users/{id} path addresses.
func (rq *req) targetUser() (*user, error) {
	if rq.r.PathValue("id") == "" {
		if !rq.delegated {
			return nil, badRequest("/me request is only valid with delegated authentication flow.")
		}
		if u := rq.t.userByID[rq.tok.ObjectID]; u != nil {
			return u, nil
		}
		return nil, notFound(rq.tok.ObjectID)
	}
	id := rq.r.PathValue("id")
	if u := rq.t.userRef(id); u != nil {
		return u, nil
	}
	return nil, notFound(id)
}

// obj is a JSON object that keeps its keys in order, as Graph's do.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) { return appendJSON(nil, o) }

// appendJSON encodes the simulator's response values directly; going
// through encoding/json for every property made a 999-user page several
// times slower (it re-validates and compacts each MarshalJSON result).
func appendJSON(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case obj:
		b = append(b, '{')
		for i, p := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p.k)
			b = append(b, ':')
			if b, err = appendJSON(b, p.v); err != nil {
				return nil, fmt.Errorf("field %s: %w", p.k, err)
			}
		}
		return append(b, '}'), nil
	case []obj:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e)
		}
		return append(b, ']'), nil
	case json.RawMessage:
		return append(b, x...), nil
	}
	m, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, m...), nil
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func (o obj) get(k string) (any, bool) {
	for _, p := range o {
		if p.k == k {
			return p.v, true
		}
	}
	return nil, false
}

func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
