package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel kinds. Every error the client returns for a Graph answer is an
// *Error whose Kind is one of these, so callers branch with errors.Is and
// still get Microsoft's code and message from the *Error.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrForbidden     = errors.New("forbidden")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrBadRequest    = errors.New("bad request")
	ErrThrottled     = errors.New("throttled")
	// ErrUnavailable is a 503 or 504 that did not clear: Microsoft's
	// service (or its gateway) is down or overloaded, which is not the
	// tenant's request rate and is not fixed by sending less.
	ErrUnavailable  = errors.New("service unavailable")
	ErrDeltaExpired = errors.New("delta token expired")
	ErrServer       = errors.New("server error")
)

// Error is Graph's error answer to one request (or one $batch item).
type Error struct {
	Op        string // method and path, e.g. "GET /users"; never the query, which can be long
	Status    int
	Code      string // Graph's error.code, e.g. Request_ResourceNotFound
	Message   string // Graph's error.message, verbatim
	RequestID string
	// Permission is the least-privileged Graph permission the endpoint
	// needs, inferred from the request, set on 403 answers only.
	Permission string
	// Location is the restart URL Graph sends with a 410 on delta queries.
	Location string
	Kind     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Permission != "" {
		b.WriteString(" (the app needs the ")
		b.WriteString(e.Permission)
		b.WriteString(" permission)")
	}
	return b.String()
}

// Unwrap exposes Kind so errors.Is(err, ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Kind }

// errorBody is Graph's error envelope.
type errorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
		Details []struct {
			Code   string `json:"code"`
			Target string `json:"target"`
		} `json:"details"`
	} `json:"error"`
}

// newError builds the *Error for a non-2xx answer. header may be nil (batch
// items carry a flat map, passed through hdr).
func newError(method, path string, status int, body []byte, hdr func(string) string) *Error {
	e := &Error{Op: method + " " + path, Status: status}
	var eb errorBody
	detailConflict := false
	if len(body) > 0 && json.Unmarshal(body, &eb) == nil {
		e.Code = eb.Error.Code
		e.Message = eb.Error.Message
		e.RequestID = eb.Error.InnerError.RequestID
		for _, d := range eb.Error.Details {
			if d.Code == "ObjectConflict" {
				detailConflict = true
			}
		}
	} else if len(body) > 0 && len(body) < 512 {
		e.Message = strings.TrimSpace(string(body))
	}
	if hdr != nil {
		if e.RequestID == "" {
			e.RequestID = hdr("request-id")
		}
		e.Location = hdr("Location")
	}
	code := strings.ToLower(e.Code)
	switch {
	case status == http.StatusGone,
		code == "syncstatenotfound", code == "resyncrequired", code == "syncstateinvalid":
		e.Kind = ErrDeltaExpired
	case status == http.StatusNotFound, e.Code == "Request_ResourceNotFound":
		e.Kind = ErrNotFound
	case status == http.StatusConflict, detailConflict,
		status == http.StatusBadRequest && strings.Contains(e.Message, "already exist"):
		// Graph answers a duplicate member or nickname with 400, not 409;
		// its message is the only stable signal.
		e.Kind = ErrAlreadyExists
	case status == http.StatusUnauthorized:
		e.Kind = ErrUnauthorized
	case status == http.StatusForbidden:
		e.Kind = ErrForbidden
		e.Permission = permissionFor(method, path)
	case status == http.StatusTooManyRequests:
		e.Kind = ErrThrottled
	case status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		e.Kind = ErrUnavailable
	case status >= 400 && status < 500:
		e.Kind = ErrBadRequest
	default:
		e.Kind = ErrServer
	}
	return e
}

// permissionFor names the least-privileged permission (graph-contracts.md
// sections 1–9) for the endpoints this client calls, so a 403 tells an
// administrator what to grant. Unknown endpoints give "".
func permissionFor(method, path string) string {
	path = strings.TrimPrefix(path, "/v1.0")
	seg := strings.Split(strings.Trim(path, "/"), "/")
	last := seg[len(seg)-1]
	has := func(s string) bool {
		for _, x := range seg {
			if x == s {
				return true
			}
		}
		return false
	}
	write := method != http.MethodGet
	switch {
	case seg[0] == "directory" && write:
		// Restoring a user needs User.ReadWrite.All, a group Group.ReadWrite.All.
		return "User.ReadWrite.All or Group.ReadWrite.All"
	case seg[0] == "directory":
		return "User.Read.All or Group.ReadWrite.All"
	case has("manager") && write:
		return "User.ReadWrite.All"
	case seg[0] == "subscribedSkus", seg[0] == "organization":
		return "Organization.Read.All"
	case last == "assignLicense":
		return "LicenseAssignment.ReadWrite.All"
	case last == "licenseDetails":
		return "User.Read.All"
	case has("members") && write, seg[0] == "groups" && method == http.MethodPatch:
		return "GroupMember.ReadWrite.All"
	case seg[0] == "groups" && write:
		return "Group.ReadWrite.All"
	case seg[0] == "groups", has("memberOf"), has("transitiveMemberOf"), last == "checkMemberGroups":
		return "GroupMember.Read.All"
	case seg[0] == "users" && write:
		return "User.ReadWrite.All"
	case seg[0] == "users":
		return "User.Read.All"
	case seg[0] == "me":
		return "User.Read"
	}
	return ""
}
