package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/store"
)

// The interfaces below are what the handlers use of the services, each
// defined here, where it is used: package app hands in the real services
// (directory.Service, datasource.Service, sso.Service, process.Service,
// the job scheduler, groupsync.Service), and the tests of this package
// small fakes that embed the interface and implement the methods a test
// needs.

// Sessions authenticates requests (directory.Service): API tokens,
// browser sessions, password sign-in, and the principal with its roles.
type Sessions interface {
	Authenticate(ctx context.Context, rawToken string) (*tenantlink.User, error)
	Principal(ctx context.Context, u *tenantlink.User, via string) (*tenantlink.Principal, error)
	// Session is the valid session with this cookie hash at now and its
	// active user, or nil, nil, nil.
	Session(ctx context.Context, idHash string, now time.Time) (*store.Session, *tenantlink.User, error)
	CreateSession(ctx context.Context, s *store.Session) error
	EndSession(ctx context.Context, idHash string) error
	SignIn(ctx context.Context, email, password, client string) (*tenantlink.User, error)
	AuditSignIn(ctx context.Context, u *tenantlink.User, client string) error
}

// Tokens are API tokens (directory.Service).
type Tokens interface {
	IssueToken(ctx context.Context, p *tenantlink.Principal, in directory.TokenInput) (string, *directory.Token, error)
	ListTokens(ctx context.Context, p *tenantlink.Principal) ([]*directory.Token, error)
	RevokeToken(ctx context.Context, p *tenantlink.Principal, id string) error
}

// Users are the directory's users (directory.Service).
type Users interface {
	ListUsers(ctx context.Context, p *tenantlink.Principal, f store.UserFilter) ([]*tenantlink.User, error)
	CreateUser(ctx context.Context, p *tenantlink.Principal, in directory.UserInput) (*tenantlink.User, error)
	GetUser(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error)
	UpdateUser(ctx context.Context, p *tenantlink.Principal, id string, in directory.UserInput) (*tenantlink.User, error)
	DeleteUser(ctx context.Context, p *tenantlink.Principal, id string) error
}

// Groups are the directory's groups (directory.Service).
type Groups interface {
	ListGroups(ctx context.Context, p *tenantlink.Principal) ([]*tenantlink.Group, error)
	CreateGroup(ctx context.Context, p *tenantlink.Principal, in directory.GroupInput) (*tenantlink.Group, error)
	GetGroup(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error)
	UpdateGroup(ctx context.Context, p *tenantlink.Principal, id string, in directory.GroupInput) (*tenantlink.Group, error)
	DeleteGroup(ctx context.Context, p *tenantlink.Principal, id string) error
}

// AuditLog is the audit log as each viewer may read it (directory.Service).
type AuditLog interface {
	ListAudit(ctx context.Context, p *tenantlink.Principal, f store.AuditFilter) ([]*tenantlink.AuditEntry, error)
}

// Directory is everything the handlers use of the directory service.
type Directory interface {
	Sessions
	Tokens
	Users
	Groups
	AuditLog
}

// DataSources is what the handlers use of the data source service
// (datasource.Service): the catalogue, CRUD, security settings,
// authorization and its callback, the connection test, operations and
// the licence report.
type DataSources interface {
	Catalogue() []connector.Info
	List(ctx context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error)
	Create(ctx context.Context, p *tenantlink.Principal, in datasource.Input) (*tenantlink.DataSource, error)
	Get(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error)
	Update(ctx context.Context, p *tenantlink.Principal, ref string, in datasource.Input) (*tenantlink.DataSource, error)
	Delete(ctx context.Context, p *tenantlink.Principal, ref string, force bool) error
	Authorize(ctx context.Context, p *tenantlink.Principal, ref string) (string, error)
	Callback(ctx context.Context, p *tenantlink.Principal, query url.Values) (*datasource.CallbackResult, error)
	Test(ctx context.Context, p *tenantlink.Principal, ref string) (*connector.TestResult, error)
	GetSecurity(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.Security, error)
	PutSecurity(ctx context.Context, p *tenantlink.Principal, ref string, sec tenantlink.Security) (*tenantlink.Security, error)
	Operations(ctx context.Context, p *tenantlink.Principal, ref string) ([]connector.Operation, error)
	RunOperation(ctx context.Context, p *tenantlink.Principal, ref, name string, inputs map[string]any) ([]connector.Item, error)
	LicenceReport(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, *connector.LicenceReport, error)
	ReclaimLicences(ctx context.Context, p *tenantlink.Principal, ref string) ([]datasource.ReclaimResult, error)
}

// SSO is single sign-on (sso.Service): its settings and the sign-in.
type SSO interface {
	Get(ctx context.Context, p *tenantlink.Principal) (sso.Settings, error)
	Put(ctx context.Context, p *tenantlink.Principal, in sso.Settings) (sso.Settings, error)
	Begin(ctx context.Context, next, client string) (authURL, state string, err error)
	Complete(ctx context.Context, q url.Values, browserState, client string) (*sso.Result, error)
}

// Processes are process definitions and their instances (process.Service).
type Processes interface {
	List(ctx context.Context, p *tenantlink.Principal) ([]*process.Process, error)
	Create(ctx context.Context, p *tenantlink.Principal, def process.Definition) (*process.Process, error)
	Get(ctx context.Context, p *tenantlink.Principal, id string) (*process.Process, error)
	Update(ctx context.Context, p *tenantlink.Principal, id string, def process.Definition) (*process.Process, error)
	Delete(ctx context.Context, p *tenantlink.Principal, id string) error
	Start(ctx context.Context, p *tenantlink.Principal, processID string, fields map[string]any) (*process.Instance, error)
	Instances(ctx context.Context, p *tenantlink.Principal, processID string, limit int) ([]*process.Instance, error)
	Instance(ctx context.Context, p *tenantlink.Principal, id string) (*process.Instance, error)
}

// GraphHooks takes Microsoft Graph change notifications in (package
// realtime).
type GraphHooks interface {
	Receive(ctx context.Context, datasourceID string, body []byte) error
}

// Metrics records requests and serves the Prometheus metrics
// (metrics.Metrics).
type Metrics interface {
	ObserveHTTP(method, route string, code int, d time.Duration)
	Handler() http.Handler
}
