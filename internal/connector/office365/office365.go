// Package office365 is the Office 365 connector. It owns everything
// Microsoft-specific about authorizing a data source and keeping its grant
// alive: the delegated authorization code flow (PKCE, state, nonce,
// multi-tenant id token validation with tenant pinning, the administrator
// role check), the application mode (admin consent, then client
// credentials), the per-data-source token cache with single-flight refresh
// and refresh-token rotation, the mapping of Microsoft identity errors
// (AADSTS codes) to messages a person can act on, the connection test, and
// single sign-on (an OpenID Connect sign-in that only accepts accounts of
// the data source's own tenant).
//
// Nothing outside this package sees a Microsoft type: callers pass
// tenantlink types in and get connector types (and, for operations, an
// authorized *graph.Client) out.
package office365

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// Defaults are the real Microsoft endpoints; the simulator replaces them.
const (
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultGraphURL  = "https://graph.microsoft.com"
)

// graphResource prefixes delegated scopes. It is Graph's resource
// identifier, not its network address, so it stays the same when GraphURL
// points at the simulator.
const graphResource = "https://graph.microsoft.com/"

// Authorization purposes recorded in connector.Pending.
const (
	PurposeAuthorize    = "authorize"
	PurposeAdminConsent = "adminconsent"
)

// oidcScopes are requested with every delegated authorization: an id token
// to learn and pin the tenant, and a refresh token to keep the grant alive.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// Least-privilege Graph permissions (docs/SPEC.md §4).
var (
	readScopes  = []string{"User.Read.All", "GroupMember.Read.All", "Organization.Read.All"}
	writeScopes = []string{"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "User.ReadWrite.All", "LicenseAssignment.ReadWrite.All"}
)

// Config configures the connector. Every upstream URL is a field with the
// real default, which is what lets the simulator stand in for Microsoft.
type Config struct {
	Authority    string // default DefaultAuthority
	GraphURL     string // default DefaultGraphURL
	ClientID     string
	ClientSecret string // never logged
	HTTPClient   *http.Client
	Now          func() time.Time
	Logger       *slog.Logger
}

// Connector is the Office 365 connector. It implements connector.Connector,
// connector.Authorizer, connector.Tester and connector.SignInProvider and
// is safe for concurrent use.
type Connector struct {
	cfg Config
	hc  *http.Client
	now func() time.Time
	log *slog.Logger

	// flight makes concurrent callers of one data source share a single
	// token request: Microsoft rotates the refresh token on every use, so
	// two parallel refreshes would race to save different tokens.
	flight singleflight.Group

	mu    sync.Mutex
	cache map[string]*accessToken // by data source id

	// pacers space Graph requests by Graph's throttling headers, one per
	// tenant (the limits are per app+tenant), shared by every client.
	pmu    sync.Mutex
	pacers map[string]*graph.Pacer
}

var (
	_ connector.Connector  = (*Connector)(nil)
	_ connector.Authorizer = (*Connector)(nil)
	_ connector.Tester     = (*Connector)(nil)
)

// New returns a Connector for cfg, filling defaults.
func New(cfg Config) *Connector {
	cfg.Authority = strings.TrimRight(cfg.Authority, "/")
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	cfg.GraphURL = strings.TrimRight(cfg.GraphURL, "/")
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	c := &Connector{cfg: cfg, hc: cfg.HTTPClient, now: cfg.Now, log: cfg.Logger, cache: map[string]*accessToken{}}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Info describes the connector in the catalogue.
func (c *Connector) Info() connector.Info {
	return connector.Info{
		Type:        tenantlink.ConnectorOffice365,
		Title:       "Office 365",
		Description: "Read users' profiles, update users, groups and licences in Microsoft 365, and sign in with Microsoft Entra ID.",
		Icon:        "/static/connectors/office365.svg",
	}
}

// RequiredScopes is the Graph permissions ds needs in its current settings,
// as bare permission names (User.Read.All), the form Grant.Scopes uses, so
// the service can tell when turning on read/write needs re-authorization.
func (c *Connector) RequiredScopes(ds *tenantlink.DataSource) []string {
	s := slices.Clone(readScopes)
	if ds != nil && ds.Settings.ReadWrite {
		s = append(s, writeScopes...)
	}
	return s
}

// mode is ds's authorization mode; delegated is the default.
func mode(ds *tenantlink.DataSource) string {
	if ds != nil && ds.Settings.AuthMode == tenantlink.AuthApplication {
		return tenantlink.AuthApplication
	}
	return tenantlink.AuthDelegated
}

// delegatedScopes is what the authorize request asks for.
func (c *Connector) delegatedScopes(perms []string) []string {
	out := make([]string, 0, len(perms)+len(oidcScopes))
	for _, p := range perms {
		out = append(out, graphResource+p)
	}
	return append(out, oidcScopes...)
}

// grantedPermissions turns a token response's scope string into bare Graph
// permission names, dropping the OpenID Connect scopes.
func grantedPermissions(scope string) []string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if slices.Contains(oidcScopes, s) {
			continue
		}
		if len(s) > len(graphResource) && strings.EqualFold(s[:len(graphResource)], graphResource) {
			s = s[len(graphResource):]
		} else if strings.Contains(s, "://") {
			continue // another resource's scope
		}
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, s) }) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// missing returns the entries of need not in have, case-insensitively.
func missing(have, need []string) []string {
	var out []string
	for _, n := range need {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, n) }) {
			out = append(out, n)
		}
	}
	return out
}

// tenantSegment is the authority path segment for ds: the pinned tenant
// once known, else "organizations" (work and school accounts of any
// tenant; the tenant is learnt at sign-in).
func tenantSegment(ds *tenantlink.DataSource) string {
	if ds != nil && isGUID(ds.Account) {
		return strings.ToLower(ds.Account)
	}
	return "organizations"
}

// isGUID reports whether s has the 8-4-4-4-12 hex form of a tenant id.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
				return false
			}
		}
	}
	return true
}
