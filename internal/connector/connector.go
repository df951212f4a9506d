// Package connector defines what tenantlink asks of a connector type, as
// small capability interfaces checked by type assertion (in the manner of
// dex's connectors). Connector packages (office365) implement them; nothing
// outside a connector package knows its upstream's types.
package connector

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/tenantlink/tenantlink"
)

// Info describes a connector type in the catalogue.
type Info struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Icon        string `json:"icon"` // path of an SVG served by the web UI
}

// Connector is what every connector type provides.
type Connector interface {
	Info() Info
}

// CredentialStore persists a data source's opaque, connector-defined secret
// blob. The implementation encrypts it at rest. Connectors call Save when
// the upstream rotates a credential (e.g. a refresh token).
type CredentialStore interface {
	Load(ctx context.Context, datasourceID string) ([]byte, error)
	Save(ctx context.Context, datasourceID string, secret []byte) error
}

// Pending is what a connector needs to finish a browser authorization; the
// caller stores it (the Verifier encrypted) under State and hands it back
// on the callback.
type Pending struct {
	State    string
	Nonce    string
	Verifier string
	Purpose  string // "authorize", "adminconsent" or "sso"
}

// Grant is the outcome of a completed authorization.
type Grant struct {
	Secret       []byte   // connector-defined credential blob, to be stored encrypted
	Account      string   // upstream account (Office 365: tenant id)
	AuthorizedBy string   // upstream identity that granted it (UPN), or "application"
	Scopes       []string // upstream permissions covered
	At           time.Time
}

// Authorizer is a connector authorized through a browser redirect.
type Authorizer interface {
	// BeginAuthorize returns the URL to open in the popup and what must be
	// kept until the callback. redirectURL is tenantlink's callback.
	BeginAuthorize(ctx context.Context, ds *tenantlink.DataSource, redirectURL string) (string, Pending, error)
	// CompleteAuthorize redeems the callback. It returns a *tenantlink.Error
	// with a message a person can act on when the upstream refused (not an
	// administrator, consent denied, wrong tenant, …).
	CompleteAuthorize(ctx context.Context, ds *tenantlink.DataSource, p Pending, redirectURL string, callback url.Values) (*Grant, error)
}

// ExternalIdentity is the person an upstream directory says signed in,
// as single sign-on reads it from a verified id token. ObjectID is the
// upstream's immutable key for the person (for Office 365 the Entra object
// id, equal to the Graph user id), the one a directory user is linked by;
// Email and UPN are mutable and only used to find a user not linked yet.
type ExternalIdentity struct {
	ObjectID    string
	TenantID    string
	Email       string
	UPN         string
	DisplayName string
	GivenName   string
	Surname     string
}

// SignInProvider is a connector people can sign in to tenantlink with
// (single sign-on): an OpenID Connect code flow against the data source's
// own directory. Only the data source's directory may vouch for a person:
// an identity from anywhere else is refused, however well signed.
type SignInProvider interface {
	// BeginSignIn returns the URL to send the browser to and what must be
	// kept (the Verifier encrypted) until the callback. It refuses a data
	// source that cannot sign people in (single sign-on off, never
	// authorized, so its directory is unknown).
	BeginSignIn(ctx context.Context, ds *tenantlink.DataSource, redirectURL string) (string, Pending, error)
	// CompleteSignIn redeems the callback and returns who signed in. Every
	// refusal is a *tenantlink.Error with a message a person can act on.
	CompleteSignIn(ctx context.Context, ds *tenantlink.DataSource, p Pending, redirectURL string, callback url.Values) (*ExternalIdentity, error)
}

// TestResult is the outcome of a connection test.
type TestResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	// Reauthorize is set when the upstream refused the stored grant.
	Reauthorize bool `json:"-"`
}

// Tester checks that a data source's stored credential works.
type Tester interface {
	Test(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore) TestResult
}

// ErrReauthorize is wrapped by errors meaning the upstream refused the
// stored grant (revoked, expired, consent removed): the data source needs
// re-authorization and nothing should be retried blindly.
var ErrReauthorize = errors.New("re-authorization required")

// ErrNotAuthorized is wrapped when no credential is stored yet.
var ErrNotAuthorized = errors.New("not authorized")

// Param declares an operation input or output.
type Param struct {
	Name        string   `json:"name"`
	Label       string   `json:"label"`
	Type        string   `json:"type"` // "string", "integer", "boolean", "user", "users", "group", "licence", "list"
	Required    bool     `json:"required,omitempty"`
	Default     string   `json:"default,omitempty"`
	Options     []string `json:"options,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Operation declares a named action.
type Operation struct {
	Name    string  `json:"name"`  // path name: UserList
	Label   string  `json:"label"` // display: User List
	Write   bool    `json:"write"`
	Inputs  []Param `json:"inputs"`
	Outputs []Param `json:"outputs"`
}

// Item is one flat output record keyed by output name.
type Item map[string]any

// Operator runs operations.
type Operator interface {
	Operations() []Operation
	Run(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, name string, inputs map[string]any) ([]Item, error)
}

// SourceUser is a user as an upstream directory reports it, mapped to the
// fields a directory import keeps. ObjectID is the upstream's stable key.
type SourceUser struct {
	ObjectID, Email, DisplayName, GivenName, Surname, JobTitle, Department string
	Enabled                                                                bool
	// AttributesOnly marks an incremental attribute change of a user whose
	// membership of the source group the reader did not check (a directory's
	// user change feed covers every user): apply it to a user already
	// imported as a member, never import it. Full reads and membership
	// additions leave it false.
	AttributesOnly bool
	// Partial marks an incremental change that carries only the fields
	// that changed (Microsoft Graph's minimal delta answers): Fields names
	// them, and the others keep the values imported before. A partial
	// change never carries Email alone from half the information (the
	// reader reads such users in full). Full reads and membership
	// additions are never partial.
	Partial bool
	Fields  SourceFields
}

// SourceFields is a set of SourceUser fields.
type SourceFields uint8

// The SourceUser fields a partial change can carry.
const (
	FieldEmail SourceFields = 1 << iota
	FieldDisplayName
	FieldGivenName
	FieldSurname
	FieldJobTitle
	FieldDepartment
	FieldEnabled
)

// Has reports whether u carries field f: always for a change that is not
// partial.
func (u *SourceUser) Has(f SourceFields) bool { return !u.Partial || u.Fields&f != 0 }

// DirectoryReader is a connector that can read a group's members for a
// group member sync.
type DirectoryReader interface {
	// ReadGroupMembers streams the members of sourceGroup ("*" = all users) — a full read when cursor is "", else
	// the changes since cursor; upserted users and removed object ids (left the group or deleted) in pages;
	// returns the new cursor to store only after the caller has committed the pages, and whether it was a full read.
	// An expired cursor falls back to a full read by itself (full=true).
	ReadGroupMembers(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, sourceGroup, cursor string,
		page func(users []SourceUser, removed []string) error) (newCursor string, full bool, err error)
}

// MemberCounter is a DirectoryReader that can say, before a full read,
// how many users it will deliver for sourceGroup ("*" = all users): the
// group's user members, or the tenant's users. The answer may lag the
// read by a little (Office 365 counts from an eventually consistent
// index), so callers use it to show progress, never to decide anything.
type MemberCounter interface {
	CountSourceMembers(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, sourceGroup string) (int, error)
}

// DirectoryAccount is an account as the upstream directory itself holds
// it, read with a data source's stored grant rather than taken from a
// token's claims.
type DirectoryAccount struct {
	ObjectID string
	// SignInName is the account's current sign-in name (Office 365: the
	// userPrincipalName), lower-case.
	SignInName string
	// DomainVerified says SignInName's domain is one the directory's owner
	// has proven to own (Office 365: organization.verifiedDomains), so the
	// address belongs to the organization and not to whoever typed it.
	// Guests (#EXT#) are never verified.
	DomainVerified bool
	// Domains are the directory's verified domains, lower-case, for messages.
	Domains []string
}

// AccountReader is a connector that can say who an upstream account is,
// through the data source's stored grant. Single sign-on uses it once, to
// decide whether an account may be linked to an existing user.
type AccountReader interface {
	ReadAccount(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, objectID string) (*DirectoryAccount, error)
}

// ScopeRequirer is a connector that says which upstream permissions a data
// source needs; package datasource reports a grant that does not cover
// them.
type ScopeRequirer interface {
	RequiredScopes(ds *tenantlink.DataSource) []string
}

// SourceGroupResolver is a connector that can check a sync's source group
// against the tenant (a name or id), so a group that does not exist, or a
// name several groups share, is refused when the settings are saved. It
// returns the group's id.
type SourceGroupResolver interface {
	ResolveSourceGroup(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, sourceGroup string) (string, error)
}

// SubscriptionRequest asks an upstream to notify tenantlink of changes to
// a resource ("users" or "groups") until ExpiresAt.
type SubscriptionRequest struct {
	Resource        string
	NotificationURL string
	LifecycleURL    string
	// ClientState is the per-subscription secret the upstream echoes in
	// every notification.
	ClientState string
	ExpiresAt   time.Time
}

// Subscription is an upstream change-notification subscription.
type Subscription struct {
	ID        string
	Resource  string
	ExpiresAt time.Time
}

// Notification is one change notification (or lifecycle event) as the
// connector parsed it from the upstream's webhook body. Nothing in it is
// trusted until ClientState matches the stored secret of SubscriptionID.
type Notification struct {
	SubscriptionID string
	ClientState    string
	TenantID       string
	// LifecycleEvent is set on lifecycle notifications
	// ("reauthorizationRequired", "subscriptionRemoved", "missed").
	LifecycleEvent string
	ChangeType     string // "updated", "deleted", "created"
	Kind           string // "user" or "group"
	ObjectID       string
	// MembersAdded and MembersRemoved are a group's membership changes
	// when the upstream says them.
	MembersAdded, MembersRemoved []string
}

// ErrSubscriptionGone is wrapped when the upstream no longer knows a
// subscription (expired or deleted): create a new one.
var ErrSubscriptionGone = errors.New("subscription gone")

// ErrSubscriptionQuota is wrapped when the upstream refuses a new
// subscription because a quota is reached.
var ErrSubscriptionQuota = errors.New("subscription quota reached")

// Subscriber is a connector that can subscribe to change notifications
// (real-time group member sync).
type Subscriber interface {
	Subscribe(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, req SubscriptionRequest) (*Subscription, error)
	// RenewSubscription moves the expiry; ErrSubscriptionGone when the
	// upstream answers that the subscription does not exist.
	RenewSubscription(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, id string, expires time.Time) (time.Time, error)
	ReauthorizeSubscription(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, id string) error
	Unsubscribe(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore, id string) error
	// ParseNotifications reads a webhook body (at most a few hundred
	// notifications); an unreadable body is an error.
	ParseNotifications(body []byte) ([]Notification, error)
	// SubscriptionLifetime is how long ahead an expiry may be asked.
	SubscriptionLifetime() time.Duration
}

// ChangeHints is what change notifications said about the changes a
// DirectoryReader's next incremental read will find. Hints are never
// the truth — the reader's delta is — only a way to ask for less: a reader
// may prefetch what the hints name in the same round trip as its delta
// reads, and must read anything they do not cover the usual way. A read
// without hints reads everything it would have read.
type ChangeHints struct {
	// AddedMembers are upstream object ids said to have joined the source
	// group since the last read.
	AddedMembers []string
	// FollowUp says another read follows as soon as a notification
	// arrives (a real-time run): a member the read finds added without a
	// hint — its notification is still on its way — may be left to that
	// read, which will have the hint, rather than cost a request of its
	// own now. The reader keeps such members in its cursor.
	FollowUp bool
}

type hintsKey struct{}

// WithChangeHints returns ctx carrying h for DirectoryReader.ReadGroupMembers.
func WithChangeHints(ctx context.Context, h ChangeHints) context.Context {
	return context.WithValue(ctx, hintsKey{}, h)
}

// ChangeHintsFrom returns the hints ctx carries (zero when none).
func ChangeHintsFrom(ctx context.Context) ChangeHints {
	h, _ := ctx.Value(hintsKey{}).(ChangeHints)
	return h
}
