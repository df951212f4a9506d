package ui

import (
	"context"
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

// The interfaces below are what the pages of this package call, each
// with only the methods some page uses (docs/decisions/0023). Package app
// hands in the real services unchanged (directory.Service for Accounts,
// Tokens, Audit, Users and Groups; datasource.Service for DataSources,
// Operations and Licences; sso.Service; web.Server), the fast tests
// fakes that record their calls (fakes_test.go). A page that needs a new
// method adds it here.

// Server is what the pages use of package web's server (*web.Server):
// the error page every page package shares, the sign-in form's CSRF
// cookie, browser sessions and the single sign-on link cookie.
type Server interface {
	SetErrorPage(f web.ErrorPageFunc)
	LoginCSRF(w http.ResponseWriter, r *http.Request) string
	CheckLoginCSRF(r *http.Request) error
	StartSession(w http.ResponseWriter, r *http.Request, u *tenantlink.User) (*store.Session, error)
	EndSession(w http.ResponseWriter, r *http.Request) error
	SetSSOLinkCookie(w http.ResponseWriter, token string)
}

// Accounts is password sign-in (directory.Service): the sign-in page.
type Accounts interface {
	SignIn(ctx context.Context, email, password, client string) (*tenantlink.User, error)
	AuditSignIn(ctx context.Context, u *tenantlink.User, client string) error
}

// Tokens are API tokens (directory.Service): the tokens page and its
// revoke question.
type Tokens interface {
	ListTokens(ctx context.Context, p *tenantlink.Principal) ([]*directory.Token, error)
	IssueToken(ctx context.Context, p *tenantlink.Principal, in directory.TokenInput) (string, *directory.Token, error)
	Token(ctx context.Context, p *tenantlink.Principal, id string) (*directory.Token, error)
	RevokeToken(ctx context.Context, p *tenantlink.Principal, id string) error
}

// Audit is the audit log as each viewer may read it, and which of its
// targets still exist (directory.Service): the audit page.
type Audit interface {
	ListAudit(ctx context.Context, p *tenantlink.Principal, f store.AuditFilter) ([]*tenantlink.AuditEntry, error)
	AuditTargets(ctx context.Context, p *tenantlink.Principal, targets []string) (map[string]directory.AuditTarget, error)
}

// Users are the directory's users (directory.Service): the users pages,
// group members and candidates, and the password change (UpdateUser on
// the viewer themselves).
type Users interface {
	ListUsers(ctx context.Context, p *tenantlink.Principal, f store.UserFilter) ([]*tenantlink.User, error)
	CreateUser(ctx context.Context, p *tenantlink.Principal, in directory.UserInput) (*tenantlink.User, error)
	GetUser(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error)
	UpdateUser(ctx context.Context, p *tenantlink.Principal, id string, in directory.UserInput) (*tenantlink.User, error)
}

// Groups are the directory's groups (directory.Service): the groups
// pages, a user's groups, the SSO settings' bypass group.
type Groups interface {
	ListGroups(ctx context.Context, p *tenantlink.Principal) ([]*tenantlink.Group, error)
	CreateGroup(ctx context.Context, p *tenantlink.Principal, in directory.GroupInput) (*tenantlink.Group, error)
	GetGroup(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error)
	UpdateGroup(ctx context.Context, p *tenantlink.Principal, id string, in directory.GroupInput) (*tenantlink.Group, error)
	AddGroupMembers(ctx context.Context, p *tenantlink.Principal, groupID string, userIDs []string) (*tenantlink.Group, error)
	RemoveGroupMembers(ctx context.Context, p *tenantlink.Principal, groupID string, userIDs []string) (*tenantlink.Group, error)
	DeleteGroup(ctx context.Context, p *tenantlink.Principal, id string) error
}

// DataSources is data source administration (datasource.Service): the
// list (and every page's menu), the catalogue, the details page with
// Authorize and Test, security settings and delete.
type DataSources interface {
	Catalogue() []connector.Info
	List(ctx context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error)
	Create(ctx context.Context, p *tenantlink.Principal, in datasource.Input) (*tenantlink.DataSource, error)
	Get(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error)
	Update(ctx context.Context, p *tenantlink.Principal, ref string, in datasource.Input) (*tenantlink.DataSource, error)
	Delete(ctx context.Context, p *tenantlink.Principal, ref string, force bool) error
	Dependents(ctx context.Context, p *tenantlink.Principal, ref string) ([]datasource.Dependent, error)
	Authorize(ctx context.Context, p *tenantlink.Principal, ref string) (string, error)
	Test(ctx context.Context, p *tenantlink.Principal, ref string) (*connector.TestResult, error)
	GetSecurity(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.Security, error)
	SecurityChoices(ctx context.Context, p *tenantlink.Principal, id string) ([]*tenantlink.User, []*tenantlink.Group, error)
	PutSecurity(ctx context.Context, p *tenantlink.Principal, ref string, sec tenantlink.Security) (*tenantlink.Security, error)
}

// Operations is the "Run an operation" panel (datasource.Service).
type Operations interface {
	Operations(ctx context.Context, p *tenantlink.Principal, id string) ([]connector.Operation, error)
	Check(ctx context.Context, p *tenantlink.Principal, id, name string) error
	RunOperation(ctx context.Context, p *tenantlink.Principal, id, name string, inputs map[string]any) ([]connector.Item, error)
}

// Licences is the licence report and its reclaim (datasource.Service).
type Licences interface {
	LicenceReport(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.DataSource, *connector.LicenceReport, error)
	ReclaimLicences(ctx context.Context, p *tenantlink.Principal, id string) ([]datasource.ReclaimResult, error)
}

// SSO is single sign-on (sso.Service): the sign-in page's button and
// automatic redirect, the settings page, the account link confirmation.
type SSO interface {
	Current(ctx context.Context) (sso.Settings, error)
	Get(ctx context.Context, p *tenantlink.Principal) (sso.Settings, error)
	Put(ctx context.Context, p *tenantlink.Principal, in sso.Settings) (sso.Settings, error)
	Link(ctx context.Context, token string) (*sso.LinkPrompt, error)
	ConfirmLink(ctx context.Context, token, csrf, password, client string) (*sso.Result, *sso.LinkPrompt, error)
}
