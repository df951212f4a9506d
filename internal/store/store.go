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
type Store interface {
	// Directory users. Email is unique (case-insensitive).
	CreateUser(ctx context.Context, u *tenantlink.User) error
	GetUser(ctx context.Context, id string) (*tenantlink.User, error)
	GetUserByEmail(ctx context.Context, email string) (*tenantlink.User, error)
	GetUserBySource(ctx context.Context, datasource, objectID string) (*tenantlink.User, error)
	ListUsers(ctx context.Context, f UserFilter) ([]*tenantlink.User, error)
	UpdateUser(ctx context.Context, u *tenantlink.User) error
	DeleteUser(ctx context.Context, id string) error

	// Directory groups. Name is unique (case-insensitive). Members are
	// stored with the group; User.Groups is filled from them on read.
	CreateGroup(ctx context.Context, g *tenantlink.Group) error
	GetGroup(ctx context.Context, id string) (*tenantlink.Group, error)
	ListGroups(ctx context.Context) ([]*tenantlink.Group, error)
	UpdateGroup(ctx context.Context, g *tenantlink.Group) error
	DeleteGroup(ctx context.Context, id string) error

	// Data sources. Name is unique (case-insensitive). Search matches name
	// or type, case-insensitively, anywhere in the text.
	CreateDataSource(ctx context.Context, ds *tenantlink.DataSource) error
	GetDataSource(ctx context.Context, id string) (*tenantlink.DataSource, error)
	ListDataSources(ctx context.Context, search string) ([]*tenantlink.DataSource, error)
	UpdateDataSource(ctx context.Context, ds *tenantlink.DataSource) error
	DeleteDataSource(ctx context.Context, id string) error

	// Credentials are a connector's opaque secret blob for a data source
	// (for Office 365: refresh token, tenant, scopes). Stored encrypted.
	// GetCredential returns ErrNotFound when none is stored.
	PutCredential(ctx context.Context, datasourceID string, secret []byte) error
	GetCredential(ctx context.Context, datasourceID string) ([]byte, error)
	DeleteCredential(ctx context.Context, datasourceID string) error

	// Pending OAuth authorizations, single use: TakeOAuthState deletes the
	// row it returns and returns ErrNotFound for unknown or expired states.
	PutOAuthState(ctx context.Context, s *OAuthState) error
	TakeOAuthState(ctx context.Context, state string, now time.Time) (*OAuthState, error)

	// Browser sessions, keyed by the SHA-256 of the cookie value.
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, idHash string, now time.Time) (*Session, error)
	DeleteSession(ctx context.Context, idHash string) error
	DeleteUserSessions(ctx context.Context, userID string) error

	// API tokens, keyed by the SHA-256 of the token.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	GetAPIToken(ctx context.Context, hash string) (*APIToken, error)
	ListAPITokens(ctx context.Context, userID string) ([]*APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error

	// Audit log, newest first.
	AppendAudit(ctx context.Context, e *tenantlink.AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*tenantlink.AuditEntry, error)

	// Settings: small JSON documents by key (e.g. "sso").
	GetSetting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error

	// InTx runs fn in one transaction: fn's Store sees and makes changes
	// that commit together when fn returns nil and roll back otherwise.
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
