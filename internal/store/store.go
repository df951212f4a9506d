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
	// GetUserByExternalID finds the user for a Microsoft object of a tenant
	// (tenant id + object id, the stable identity), whichever data source
	// imported or linked it.
	GetUserByExternalID(ctx context.Context, tenant, objectID string) (*tenantlink.User, error)
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
	// CountOAuthStates deletes every state expired at now, then counts the
	// remaining ones of purpose (single sign-on caps its pending sign-ins).
	CountOAuthStates(ctx context.Context, purpose string, now time.Time) (int, error)

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

	// Group member sync (see package groupsync). Imported users are keyed
	// by (data source, object id); every batch method takes up to a few
	// thousand items and runs a handful of multi-row statements, so a sync
	// of a large tenant costs a few statements per page, not per user.
	//
	// UpsertImportedUsers creates or updates users from one data source,
	// returning one outcome per input in order and filling each input's ID.
	// Only the mapped fields (email, names, job title, department, active)
	// of an existing user are written; roles and password stay. A user
	// whose email belongs to another user is a conflict and is not written
	// (a local user is never adopted). Users are keyed by Source.Tenant +
	// ObjectID when the batch's users carry a tenant (one tenant per call),
	// whichever data source imported them first; else by (datasource,
	// object id).
	UpsertImportedUsers(ctx context.Context, datasource string, users []*tenantlink.User) ([]ImportOutcome, error)
	// AddGroupMembers appends users to a group, skipping current members;
	// RemoveGroupMembers drops them. Both return how many changed.
	AddGroupMembers(ctx context.Context, groupID string, userIDs []string) (int, error)
	RemoveGroupMembers(ctx context.Context, groupID string, userIDs []string) (int, error)
	// SetUsersActive sets active on users whose value differs, stamping
	// UpdatedAt with at; DeleteUsers deletes users as DeleteUser does.
	// Unknown ids are skipped; both return how many changed.
	SetUsersActive(ctx context.Context, userIDs []string, active bool, at time.Time) (int, error)
	DeleteUsers(ctx context.Context, userIDs []string) (int, error)

	// Sync state: one per group (cursor and source identity), plus the
	// source group's members as last seen, each carrying the mark of the
	// run that last saw (or lost) it. Deleting the group deletes both.
	// GetSyncState returns ErrNotFound when the group never synced.
	GetSyncState(ctx context.Context, groupID string) (*SyncState, error)
	PutSyncState(ctx context.Context, s *SyncState) error
	DeleteSyncState(ctx context.Context, groupID string) error
	MarkSyncMembers(ctx context.Context, groupID, mark string, members []SyncMember) error
	SyncMembers(ctx context.Context, groupID string, f SyncMemberFilter) ([]SyncMember, error)
	DeleteSyncMembers(ctx context.Context, groupID string, objectIDs []string) (int, error)

	// Sync runs. CreateSyncRun inserts a running run and fails with
	// ECONFLICT while another run of the group is running, unless that
	// run's heartbeat is older than staleBefore (its process died): that
	// one is marked failed first. ListSyncRuns orders newest first.
	CreateSyncRun(ctx context.Context, r *SyncRun, staleBefore time.Time) error
	UpdateSyncRun(ctx context.Context, r *SyncRun) error
	GetSyncRun(ctx context.Context, id string) (*SyncRun, error)
	ListSyncRuns(ctx context.Context, groupID string, limit int) ([]*SyncRun, error)
	// UpdateSyncRun changes only a running run: once a run is closed (by
	// its own end, as dead, or stopped by an Administrator) it fails with
	// ErrNotFound, so a process that lost its run cannot reopen it.
	// HeartbeatSyncRun moves a running run's heartbeat to at and reports
	// false when the run is no longer running. StaleSyncRuns lists running
	// runs (of groupID, or of every group when it is "") whose heartbeat is
	// older than before. CloseSyncRun writes a running run's final status,
	// end and result — when beatBefore is set, only if its heartbeat is
	// still older — and reports false when it was not (any more) running.
	HeartbeatSyncRun(ctx context.Context, id string, at time.Time) (bool, error)
	StaleSyncRuns(ctx context.Context, groupID string, before time.Time) ([]*SyncRun, error)
	CloseSyncRun(ctx context.Context, r *SyncRun, beatBefore time.Time) (bool, error)
	// SyncTrackedElsewhere returns those of userIDs that the sync of a
	// group other than groupID still has: tracked there and not marked
	// gone. One statement per thousand ids.
	SyncTrackedElsewhere(ctx context.Context, groupID string, userIDs []string) ([]string, error)

	// Scheduled tasks (package jobs). (Kind, Target) is unique: a second
	// task for the same target is ECONFLICT. UpdateTask writes name,
	// schedule, enabled, webhook hash, next run and updated time.
	// GetTask and TaskFor return ErrNotFound when there is none.
	CreateTask(ctx context.Context, t *Task) error
	GetTask(ctx context.Context, id string) (*Task, error)
	TaskFor(ctx context.Context, kind, target string) (*Task, error)
	UpdateTask(ctx context.Context, t *Task) error

	// Processes (see package process). Name is unique (case-insensitive);
	// Definition is the process's JSON, stored and returned as given.
	// ListProcesses orders by name. Deleting a process deletes its
	// instances.
	CreateProcess(ctx context.Context, p *Process) error
	GetProcess(ctx context.Context, id string) (*Process, error)
	ListProcesses(ctx context.Context) ([]*Process, error)
	UpdateProcess(ctx context.Context, p *Process) error
	DeleteProcess(ctx context.Context, id string) error

	// Process instances. CreateProcessInstance needs an existing process
	// (ENOTFOUND otherwise); UpdateProcessInstance writes status, fields,
	// rules and finished time. ListProcessInstances orders newest first.
	CreateProcessInstance(ctx context.Context, in *ProcessInstance) error
	UpdateProcessInstance(ctx context.Context, in *ProcessInstance) error
	GetProcessInstance(ctx context.Context, id string) (*ProcessInstance, error)
	ListProcessInstances(ctx context.Context, f InstanceFilter) ([]*ProcessInstance, error)

	// Scheduled tasks, the little data source deletion needs (package jobs
	// owns the table). ListTasksByTarget returns the tasks of kind whose
	// target is one of targets, by name; DisableTasks disables tasks by id
	// and clears their next run, stamping updated_at with at, skipping
	// unknown ids and returning how many changed.
	ListTasksByTarget(ctx context.Context, kind string, targets []string) ([]*TaskRef, error)
	DisableTasks(ctx context.Context, ids []string, at time.Time) (int, error)

	// More scheduled tasks: the list, deletion, the ticker's due tasks
	// and run outcomes. ListTasks orders by name then id. DeleteTask
	// returns ErrNotFound for an unknown id; DeleteTasksFor deletes the
	// tasks of kind for target and says how many. DueTasks returns the
	// enabled tasks whose next run is at or before now, earliest first.
	// AdvanceTask moves a task's next run from due to next (nil: none) only
	// where it still holds due, and reports whether it did, so one
	// replica's tick wins. RecordTaskRun stores a run's outcome (time,
	// status, message); MarkTaskQueued sets the last status to RunQueued
	// unless it is RunRunning. Both ignore an unknown id.
	ListTasks(ctx context.Context) ([]*Task, error)
	DeleteTask(ctx context.Context, id string) error
	DeleteTasksFor(ctx context.Context, kind, target string) (int, error)
	DueTasks(ctx context.Context, now time.Time) ([]*Task, error)
	AdvanceTask(ctx context.Context, id string, due time.Time, next *time.Time) (bool, error)
	RecordTaskRun(ctx context.Context, id string, at time.Time, status, message string) error
	MarkTaskQueued(ctx context.Context, id string) error

	// InTx runs fn in one transaction: fn's Store sees and makes changes
	// that commit together when fn returns nil and roll back otherwise
	// (including on panic). InTx on fn's Store joins the same transaction.
	// Use only fn's Store inside fn: the outer one may wait for the
	// transaction's lock. On PostgreSQL a failed statement aborts the
	// transaction, so return the first error rather than carry on.
	InTx(ctx context.Context, fn func(Store) error) error

	Ping(ctx context.Context) error
	Close() error

	// More on API tokens. GetAPITokenByID reads one token by id;
	// ListAllAPITokens lists every user's tokens, oldest first.
	// TouchAPIToken sets LastUsed to at unless it is already at or after
	// notBefore (so a token in steady use costs one write a minute, and
	// replicas racing on it write once). DeleteUserAPITokens revokes all of
	// a user's tokens and returns how many there were.
	GetAPITokenByID(ctx context.Context, id string) (*APIToken, error)
	ListAllAPITokens(ctx context.Context) ([]*APIToken, error)
	TouchAPIToken(ctx context.Context, id string, at, notBefore time.Time) error
	DeleteUserAPITokens(ctx context.Context, userID string) (int, error)
	// DeleteOtherUserSessions signs a user out everywhere but the session
	// keepHash (the one changing its password).
	DeleteOtherUserSessions(ctx context.Context, userID, keepHash string) error

	// Change-notification subscriptions (package realtime), one per (data
	// source, resource). ClientState is sealed at rest. PutGraphSubscription
	// inserts or replaces the row of (DataSourceID, Resource), filling an
	// empty ID and UpdatedAt. ListGraphSubscriptions lists a data source's
	// ("" for all) by data source and resource. GetGraphSubscription finds
	// a row by the upstream subscription id (ErrNotFound when none).
	PutGraphSubscription(ctx context.Context, s *GraphSubscription) error
	ListGraphSubscriptions(ctx context.Context, datasourceID string) ([]*GraphSubscription, error)
	GetGraphSubscription(ctx context.Context, subscriptionID string) (*GraphSubscription, error)
	DeleteGraphSubscription(ctx context.Context, id string) error
	// MarkEventProcessed records an event's dedupe key and reports true
	// the first time only; keys recorded before olderThan are pruned.
	MarkEventProcessed(ctx context.Context, key string, at, olderThan time.Time) (bool, error)

	// Process event triggers (package process; decision 0024): the outbox
	// of events that start instances. AddProcessEvents inserts rows,
	// filling empty IDs and zero CreatedAt, and skips a row whose
	// (ProcessID, Key) is stored already; it returns how many it added
	// (an unknown process is ENOTFOUND). PendingProcessEvents lists rows
	// with no instance yet, oldest first (limit 0 = 100).
	// ClaimProcessEvent sets a pending row's InstanceID and reports false
	// when the row has one already (another worker started it); an
	// unknown id is ENOTFOUND.
	AddProcessEvents(ctx context.Context, events []*ProcessEvent) (int, error)
	PendingProcessEvents(ctx context.Context, limit int) ([]*ProcessEvent, error)
	ClaimProcessEvent(ctx context.Context, id, instanceID string) (bool, error)
	// GetMemberChange returns the last membership change stored for
	// (scope, objectID) (ErrNotFound when none). PutMemberChange stores c
	// only if the stored generation is still prevGen (0: no row yet) and
	// reports whether it did: of two writers that read the same
	// generation, one stores and the other gets false (decision 0024).
	GetMemberChange(ctx context.Context, scope, objectID string) (*MemberChange, error)
	PutMemberChange(ctx context.Context, c *MemberChange, prevGen int64) (bool, error)
	// PruneProcessEvents deletes the expired dedupe keys of started
	// process events ("process:" keys recorded before olderThan), then
	// the started outbox rows created before olderThan whose dedupe key
	// is gone, and returns how many rows it deleted. Pending rows stay.
	// PruneMemberChanges deletes the membership changes that are a
	// member.removed applied before olderThan, of a user no group member
	// sync tracks (no sync_members row with its object id) and with no
	// outbox row keyed by their scope and user left, and returns how many
	// (decision 0024: what is kept is what keeps a repeat from counting
	// as a new change).
	PruneProcessEvents(ctx context.Context, olderThan time.Time) (int, error)
	PruneMemberChanges(ctx context.Context, olderThan time.Time) (int, error)
}

// MemberChange is the last change of one tenant user's membership of one
// tenant group that group member syncs reported (package process keeps
// it so that one change starts a member trigger once, however many syncs
// observe it). Scope names the data source and the tenant group.
type MemberChange struct {
	Scope      string
	ObjectID   string
	Generation int64  // 1 for the first change stored, +1 for each next
	Kind       string // member.added or member.removed
	ChangedAt  time.Time
	RunID      string // the sync run that applied it
}

// ProcessEvent is a tenant event a process's trigger matched, waiting for
// (or started as) an instance. Event is package process's JSON.
type ProcessEvent struct {
	ID         string
	ProcessID  string
	Key        string // the event's identity: (ProcessID, Key) is unique
	Event      []byte
	CreatedAt  time.Time
	InstanceID string // "" while pending
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Search     string // matches email or display name, case-insensitive
	DataSource string // only users imported from this data source
	Limit      int    // 0 = no limit
	Offset     int    // skip this many (paging; with Limit)
	Sort       string // "email" (default) or "name": display name, then email
	Group      string // only members of this group
	NotGroup   string // only users who are not members of this group
	// IDs, when not nil, keeps only the users with these ids (none for an
	// empty list): one query for a page's worth of ids.
	IDs []string
}

// AuditFilter narrows ListAudit. Every field set must match. Entries come
// newest first; BeforeID and AfterID page through them by id (keyset).
type AuditFilter struct {
	Target string
	Limit  int // 0 = 100

	Actor    string    // the actor's name contains this (case-insensitive)
	ActorID  string    // only entries of this acting user id
	Action   string    // the action starts with this, case-insensitively ("group." for all group actions)
	Outcome  string    // exactly this outcome
	From     time.Time // at or after (zero: no bound)
	To       time.Time // before (zero: no bound)
	BeforeID int64     // only entries older than this id (the next page)
	AfterID  int64     // only entries newer than this id (the previous page): the Limit closest to it
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
	// ExpiresAt is when the token stops working; zero: never.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Outcomes of UpsertImportedUsers.
const (
	ImportCreated   = "created"
	ImportUpdated   = "updated"
	ImportUnchanged = "unchanged"
	ImportConflict  = "conflict" // email taken by another user: nothing written
)

// ImportOutcome is what UpsertImportedUsers did with one user. Before is
// the stored user before an update (nil otherwise), so callers can say
// what changed.
type ImportOutcome struct {
	ID      string
	Outcome string
	Before  *tenantlink.User
	// ConflictWith is the id of the user holding the email, on a conflict.
	ConflictWith string
}

// SyncState is a group member sync's position.
type SyncState struct {
	GroupID    string
	DataSource string
	// Source is the source group as configured ("*", an id or a name) when
	// Cursor was issued: a changed source makes the cursor meaningless.
	Source    string
	Cursor    string // connector-defined; secret-free (delta links)
	UpdatedAt time.Time
}

// SyncMember is one member of a sync's source group as last seen: the
// upstream object id, the directory user it was imported as, and the
// mark of the run that last saw it.
type SyncMember struct {
	ObjectID string
	UserID   string
	Mark     string
}

// SyncMemberFilter narrows SyncMembers. Results are ordered by object id;
// After pages through them.
type SyncMemberFilter struct {
	ObjectIDs []string // only these (at most a page's worth)
	Mark      string   // only members with this mark
	NotMark   string   // only members without this mark
	After     string   // object ids greater than this
	Limit     int      // 0 = no limit
}

// Sync run statuses, also a scheduled task's last-run status (with
// RunQueued while its job waits for a worker): the one vocabulary.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunStopped   = "stopped"
)

// SyncRun is a group member sync run's record. Result is the engine's
// JSON (counts, errors, changes), stored as given.
type SyncRun struct {
	ID          string
	GroupID     string
	Status      string
	Trigger     string
	DryRun      bool
	Full        bool
	StartedAt   time.Time
	FinishedAt  *time.Time
	HeartbeatAt time.Time
	Result      []byte
}

// Process is a stored process definition. Definition is the JSON the
// process service validated; the store does not look inside it.
type Process struct {
	ID         string
	Name       string
	Definition []byte
	CreatedBy  string
	ModifiedBy string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// EditorID is the directory user id of the last editor, whose write
	// grant the process's write operations use ("system" for the CLI).
	EditorID string
	// NeedsDataSource names a data source deleted while the process used
	// it; "" when the process can run.
	NeedsDataSource string
}

// TaskKindSync is the kind of a group member sync task, whose target is
// the directory group id (package jobs' KindSync).
const TaskKindSync = "sync"

// TaskRef is a scheduled task as data source deletion sees it (package
// jobs owns the tasks table and the full task).
type TaskRef struct {
	ID      string
	Name    string
	Kind    string
	Target  string
	Enabled bool
}

// Task is a scheduled task's row (package jobs gives it meaning).
// Schedule is the schedule's JSON; WebhookHash the SHA-256 of the webhook
// secret, never the secret.
type Task struct {
	ID          string
	Name        string
	Kind        string
	Target      string
	Schedule    []byte
	Enabled     bool
	WebhookHash string
	NextRun     *time.Time
	LastRunAt   *time.Time
	LastStatus  string
	LastMessage string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ProcessInstance is one run of a process: its fields and each rule's
// outcome as JSON documents, owned by the process service.
type ProcessInstance struct {
	ID        string
	ProcessID string
	Status    string
	StartedBy string // directory user id
	Fields    []byte // JSON object
	Rules     []byte // JSON array
	// Event is the tenant event that started the instance (JSON, package
	// process's); empty for an instance started from the form or API.
	Event      []byte
	StartedAt  time.Time
	FinishedAt *time.Time
}

// InstanceFilter narrows ListProcessInstances.
type InstanceFilter struct {
	ProcessID string // only this process's instances
	StartedBy string // only instances this user started
	Limit     int    // 0 = 100
}

// Subscription states.
const (
	SubscriptionActive        = "active"
	SubscriptionFailed        = "failed"
	SubscriptionReauthorizing = "reauthorizing"
)

// GraphSubscription is a change-notification subscription tenantlink
// keeps for a data source. ClientState is the secret the upstream echoes
// in each notification; it is stored sealed.
type GraphSubscription struct {
	ID             string
	DataSourceID   string
	Resource       string // "users" or "groups"
	SubscriptionID string // the upstream's id; "" while none exists
	ClientState    string
	ExpiresAt      *time.Time
	Status         string
	Message        string
	UpdatedAt      time.Time
}
