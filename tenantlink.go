// Package tenantlink holds the domain types shared by every part of the
// service: directory users and groups, data sources and their statuses,
// audit entries, and the one error type whose codes the HTTP layer maps to
// status codes. It imports nothing from the rest of the module.
package tenantlink

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Role is a directory role (docs/SPEC.md §3).
type Role string

// The roles a directory user or group can hold.
const (
	RoleUser              Role = "User"
	RoleAdministrator     Role = "Administrator"
	RoleManageDatasources Role = "Manage datasources"
	RoleDesignProcess     Role = "Design business process"
)

// Roles lists every role in display order.
var Roles = []Role{RoleUser, RoleAdministrator, RoleManageDatasources, RoleDesignProcess}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// User is a directory user: someone who signs in to tenantlink.
type User struct {
	ID           string      `json:"id"`
	Email        string      `json:"email"`
	DisplayName  string      `json:"displayName"`
	GivenName    string      `json:"givenName"`
	Surname      string      `json:"surname"`
	JobTitle     string      `json:"jobTitle,omitempty"`
	Department   string      `json:"department,omitempty"`
	Active       bool        `json:"active"`
	Roles        []Role      `json:"roles"`
	Groups       []string    `json:"groups"`
	Source       *UserSource `json:"source,omitempty"`
	PasswordHash string      `json:"-"`
	CreatedAt    time.Time   `json:"createdAt"`
	UpdatedAt    time.Time   `json:"updatedAt"`
}

// UserSource links a user to the Microsoft object it came from. A person is
// identified by Tenant and ObjectID together (both stable, lower-case ids):
// two data sources connected to the same tenant see the same person, and
// DataSource records the one that first imported or linked the user.
type UserSource struct {
	DataSource string `json:"datasource"`
	ObjectID   string `json:"objectId"`
	Tenant     string `json:"tenantId,omitempty"`
}

// HasRole reports whether the user holds role r directly.
func (u *User) HasRole(r Role) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Group is a directory group.
type Group struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Roles     []Role        `json:"roles"`
	Members   []string      `json:"members"`
	Sync      *SyncSettings `json:"sync,omitempty"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

// SyncSettings configures a group member sync (docs/SPEC.md §6).
type SyncSettings struct {
	Enabled      bool            `json:"enabled"`
	DataSource   string          `json:"datasource"`
	SourceGroup  string          `json:"sourceGroup"`
	Override     bool            `json:"override"`
	MissingUsers string          `json:"missingUsers"`
	Schedule     json.RawMessage `json:"schedule,omitempty"`
	// Realtime keeps change-notification subscriptions on the data source
	// so that a change in the tenant starts an incremental run within
	// seconds (package realtime); the schedule still runs.
	Realtime bool `json:"realtime,omitempty"`
}

// Status is a data source's status (docs/SPEC.md §4).
type Status string

// The four data source statuses.
const (
	StatusIncomplete   Status = "incomplete"
	StatusReady        Status = "ready"
	StatusTestFailed   Status = "test failed"
	StatusReauthorize  Status = "re-authorization required"
	ConnectorOffice365        = "office365"
)

// DataSource is a named, configured connection of one connector type.
type DataSource struct {
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	Type          string             `json:"type"`
	Status        Status             `json:"status"`
	StatusMessage string             `json:"statusMessage,omitempty"`
	Settings      DataSourceSettings `json:"settings"`
	Security      Security           `json:"-"`
	Created       time.Time          `json:"created"`
	Modified      time.Time          `json:"modified"`
	ModifiedBy    string             `json:"modifiedBy"`
	AuthorizedBy  string             `json:"authorizedBy,omitempty"`
	AuthorizedAt  *time.Time         `json:"authorizedAt,omitempty"`
	ReauthorizeBy *time.Time         `json:"reauthorizeBy,omitempty"`
	// Account is the upstream account the grant belongs to (for Office 365
	// the tenant id), set once authorized.
	Account string `json:"account,omitempty"`
	// GrantedScopes are the upstream permissions covered by the stored grant.
	GrantedScopes []string `json:"grantedScopes,omitempty"`
}

// DataSourceSettings are the connector settings of a data source. Only the
// Office 365 connector exists; its settings are docs/SPEC.md §4's.
type DataSourceSettings struct {
	ReadWrite    bool   `json:"readWrite"`
	SingleSignOn bool   `json:"singleSignOn"`
	AuthMode     string `json:"authMode"`
	// ReauthorizeDays overrides the re-authorization reminder period
	// (default 180 days after authorization).
	ReauthorizeDays int `json:"reauthorizeDays,omitempty"`
}

// Authorization modes.
const (
	AuthDelegated   = "delegated"
	AuthApplication = "application"
)

// Security holds a data source's security settings. Entries are directory
// user or group ids. Empty Admins means any Administrator or Manage
// datasources holder; empty Users means any signed-in user. Writers are
// the connection writers: besides the connection administrators, the only
// ones who may run write operations; empty means nobody else.
type Security struct {
	Admins  []string `json:"admins"`
	Users   []string `json:"users"`
	Writers []string `json:"writers"`
}

// AuditEntry records one state change.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
	// ActorID is the acting directory user's id ("" for the system and
	// for entries written before it was recorded): who may read an entry
	// is decided by it, never by the Actor text.
	ActorID string `json:"actorId,omitempty"`
}

// Error codes. The HTTP layer maps each to one status code in one place.
const (
	EINVALID      = "invalid"           // 400
	EUNAUTHORIZED = "unauthorized"      // 401
	EFORBIDDEN    = "forbidden"         // 403
	ENOTFOUND     = "not_found"         // 404
	ECONFLICT     = "conflict"          // 409
	ETOOLARGE     = "too_large"         // 413
	ETOOMANY      = "too_many_requests" // 429
	EUPSTREAM     = "upstream"          // 502
	EUNAVAILABLE  = "unavailable"       // 503
	EINTERNAL     = "internal"          // 500
)

// Error is the application error: a code for machines, a message for people.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for other errors and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for internal errors (whose details stay in the logs).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Principal is who is acting: a signed-in directory user with the roles
// held directly and through groups. A nil *Principal is nobody.
type Principal struct {
	User  *User
	Roles []Role // effective roles: the user's and its groups'
	Via   string // "session", "token", "cli", "system"
}

// Has reports whether the principal holds role r.
func (p *Principal) Has(r Role) bool {
	if p == nil || p.User == nil {
		return false
	}
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// ID is the acting user's id, or "system".
func (p *Principal) ID() string {
	if p == nil || p.User == nil {
		return "system"
	}
	return p.User.ID
}

// Name is how the principal appears in audit entries and "Modified By".
func (p *Principal) Name() string {
	if p == nil || p.User == nil {
		return "system"
	}
	if p.User.Email != "" {
		return p.User.Email
	}
	return p.User.ID
}

// InAny reports whether the principal is one of ids, directly or through
// one of its groups.
func (p *Principal) InAny(ids []string) bool {
	if p == nil || p.User == nil {
		return false
	}
	for _, id := range ids {
		if id == p.User.ID {
			return true
		}
		for _, g := range p.User.Groups {
			if g == id {
				return true
			}
		}
	}
	return false
}

// System is the principal of background work (schedules, the CLI).
var System = &Principal{Via: "system"}

// SubscriptionState is the state of one upstream change-notification
// subscription that real-time sync keeps for a data source, as pages and
// the API show it.
type SubscriptionState struct {
	Resource  string     `json:"resource"`
	State     string     `json:"state"` // active, expiring, reauthorizing, failed, pending
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	Message   string     `json:"message,omitempty"`
	UpdatedAt time.Time  `json:"updatedAt"`
}
