// Package store defines tenantlink's storage contract: one interface that
// every backend (SQLite, PostgreSQL) implements and that the conformance
// suite in storetest checks. Secrets handed to the store (data source
// credentials, OAuth verifiers) are encrypted by the backend with the
// keyring it was opened with; tokens and passwords arrive already hashed.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/tenantlink/tenantlink"
)

// Sentinel errors. Backends wrap them (errors.Is works) inside a
// *tenantlink.Error carrying the matching code and a readable message.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is the storage contract.
//
// Conventions every backend follows (storetest checks them):
//   - Create* fills an empty ID (a UUIDv7 string, so ids sort by creation)
//     and zero CreatedAt/UpdatedAt, Created/Modified, AuditEntry.At and
//     APIToken.CreatedAt from the store's clock, writing them back into the
//     argument. Update* likewise fills a zero UpdatedAt/Modified (a
//     non-zero one is stored as given, so services keep their own clock).
//   - Times keep microsecond precision and come back in UTC.
//   - Lists never come back nil: no match is an empty slice. Roles, Groups,
//     Members and Security lists read back as empty slices, not nil.
//   - Unknown ids give a *tenantlink.Error with code ENOTFOUND wrapping
//     ErrNotFound; unique names/emails/hashes give ECONFLICT wrapping
//     ErrConflict; missing required fields give EINVALID.
//   - Case-insensitive means Unicode case folding (strings.ToLower), the same
//     on every backend.
type Store interface {
	// Directory users. Email is unique (case-insensitive), and so is Source
	// (data source, object id) when set. UpdateUser writes every field but
	// ID, CreatedAt and Groups. DeleteUser also removes the user's group
	// memberships, sessions and API tokens.
	CreateUser(ctx context.Context, u *tenantlink.User) error
	GetUser(ctx context.Context, id string) (*tenantlink.User, error)
	GetUserByEmail(ctx context.Context, email string) (*tenantlink.User, error)
	GetUserBySource(ctx context.Context, datasource, objectID string) (*tenantlink.User, error)
	ListUsers(ctx context.Context, f UserFilter) ([]*tenantlink.User, error)
	UpdateUser(ctx context.Context, u *tenantlink.User) error
	DeleteUser(ctx context.Context, id string) error

	// Directory groups. Name is unique (case-insensitive). Members are
	// stored with the group, in the caller's order, and must be existing
	// user ids (ENOTFOUND otherwise); User.Groups is filled from them on
	// read, ordered by group id. ListGroups orders by name.
	CreateGroup(ctx context.Context, g *tenantlink.Group) error
	GetGroup(ctx context.Context, id string) (*tenantlink.Group, error)
	ListGroups(ctx context.Context) ([]*tenantlink.Group, error)
	UpdateGroup(ctx context.Context, g *tenantlink.Group) error
	DeleteGroup(ctx context.Context, id string) error

	// Data sources. Name is unique (case-insensitive). Search matches name
	// or type, case-insensitively, anywhere in the text; results are ordered
	// by name. An empty Status is stored as StatusIncomplete. Deleting a
	// data source deletes its credential.
	CreateDataSource(ctx context.Context, ds *tenantlink.DataSource) error
	GetDataSource(ctx context.Context, id string) (*tenantlink.DataSource, error)
	ListDataSources(ctx context.Context, search string) ([]*tenantlink.DataSource, error)
	UpdateDataSource(ctx context.Context, ds *tenantlink.DataSource) error
	DeleteDataSource(ctx context.Context, id string) error

	// Credentials are a connector's opaque secret blob for a data source
	// (for Office 365: refresh token, tenant, scopes). Stored encrypted.
	// GetCredential returns ErrNotFound when none is stored; so does
	// DeleteCredential, and PutCredential for an unknown data source.
	PutCredential(ctx context.Context, datasourceID string, secret []byte) error
	GetCredential(ctx context.Context, datasourceID string) ([]byte, error)
	DeleteCredential(ctx context.Context, datasourceID string) error

	// Pending OAuth authorizations, single use: TakeOAuthState deletes the
	// row it returns and returns ErrNotFound for unknown or expired states.
	PutOAuthState(ctx context.Context, s *OAuthState) error
	TakeOAuthState(ctx context.Context, state string, now time.Time) (*OAuthState, error)

	// Browser sessions, keyed by the SHA-256 of the cookie value. GetSession
	// returns ErrNotFound once now reaches ExpiresAt. DeleteSession of an
	// unknown session is not an error (signing out twice is harmless).
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, idHash string, now time.Time) (*Session, error)
	DeleteSession(ctx context.Context, idHash string) error
	DeleteUserSessions(ctx context.Context, userID string) error

	// API tokens, keyed by the SHA-256 of the token. ListAPITokens orders
	// oldest first.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	GetAPIToken(ctx context.Context, hash string) (*APIToken, error)
	ListAPITokens(ctx context.Context, userID string) ([]*APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error

	// Audit log, append-only, listed newest first (by append order).
	AppendAudit(ctx context.Context, e *tenantlink.AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*tenantlink.AuditEntry, error)

	// Settings: small JSON documents by key (e.g. "sso").
	GetSetting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error

	// InTx runs fn in one transaction: fn's Store sees and makes changes
	// that commit together when fn returns nil and roll back otherwise
	// (including on panic). InTx on fn's Store joins the same transaction.
	// Use only fn's Store inside fn: the outer one may wait for the
	// transaction's lock. On PostgreSQL a failed statement aborts the
	// transaction, so return the first error rather than carry on.
	InTx(ctx context.Context, fn func(Store) error) error

	Ping(ctx context.Context) error
	Close() error
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Search     string // matches email or display name, case-insensitive
	DataSource string // only users imported from this data source
	Limit      int    // 0 = no limit
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	Target string
	Limit  int // 0 = 100
}

// OAuthState is a pending browser authorization (data source authorize,
// admin consent or SSO sign-in).
type OAuthState struct {
	State        string
	Purpose      string // "authorize", "adminconsent", "sso"
	DataSourceID string
	UserID       string
	Nonce        string
	Verifier     string // PKCE code verifier: secret, stored encrypted
	ReturnTo     string
	ExpiresAt    time.Time
}

// Session is a signed-in browser session.
type Session struct {
	IDHash    string
	UserID    string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIToken is a per-user automation token.
type APIToken struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"`
	Prefix    string    `json:"prefix"` // first characters, to recognise it in lists
	CreatedAt time.Time `json:"createdAt"`
	LastUsed  time.Time `json:"lastUsed,omitzero"`
}
