// Package identity owns the simulated Microsoft identity platform
// (login.microsoftonline.com): OpenID Connect discovery and keys, the
// authorize endpoint with its server-rendered sign-in and consent pages, the
// admin-consent endpoint, the token endpoint (authorization_code with PKCE,
// refresh_token, client_credentials) and the RS256 tokens it issues.
//
// It speaks Microsoft's wire contracts closely enough that unmodified
// golang.org/x/oauth2 and coreos/go-oidc clients work against it. Directory
// state (tenants, users, passwords) stays with the caller behind Directory;
// this package keeps only what the identity platform itself remembers: app
// registrations, consents, codes, refresh tokens and sign-in sessions. It is
// kept in memory; State and Options.Restore carry what must outlive a
// restart (see state.go), and Options.OnChange tells the caller when that
// changed.
package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Tenant is a Microsoft Entra tenant as the identity platform sees it.
type Tenant struct{ ID, Domain, DisplayName string }

// User is a directory account that can sign in.
type User struct {
	ID, TenantID, UserPrincipalName, DisplayName, GivenName, Surname, Mail string
	Enabled                                                                bool
	Roles                                                                  []string // directory role display names, e.g. "Global Administrator", "User Administrator"
}

// Directory is the simulator's state as identity sees it (implemented by
// package m365sim). Implementations must be safe for concurrent use.
type Directory interface {
	TenantByIDOrDomain(s string) (Tenant, bool)          // tenant GUID or verified domain, case-insensitive
	UserBySignInName(tenantID, name string) (User, bool) // UPN or mail, case-insensitive
	UserByID(tenantID, id string) (User, bool)
	CheckPassword(tenantID, userID, password string) bool
}

// App is an app registration.
type App struct {
	ClientID, ClientSecret, DisplayName, HomeTenantID string
	RedirectURIs                                      []string
	MultiTenant                                       bool

	// DelegatedPermissions and ApplicationPermissions are the app's
	// configured Microsoft Graph permissions (requiredResourceAccess): what
	// a "/.default" scope stands for, at the admin-consent endpoint and at
	// authorize. Short names, e.g. "User.Read.All". When both are empty the
	// app is treated as configured with DefaultPermissions for both kinds,
	// so a bare registration still works in the simulator.
	DelegatedPermissions, ApplicationPermissions []string
}

// DefaultPermissions are the Graph permissions an App without configured
// permissions is assumed to have: tenantlink's least-privilege read and
// write sets (docs/SPEC.md §4).
var DefaultPermissions = []string{
	"User.Read.All", "GroupMember.Read.All", "Organization.Read.All",
	"Group.ReadWrite.All", "GroupMember.ReadWrite.All", "User.ReadWrite.All",
	"LicenseAssignment.ReadWrite.All",
}

// Options configures a Provider.
type Options struct {
	Directory Directory
	Now       func() time.Time // default time.Now; the simulator passes a clock it can advance
	Key       *rsa.PrivateKey  // optional; generated (2048-bit) when nil
	Logger    *slog.Logger

	// Restore, when set, is a State saved by an earlier Provider: its
	// signing key and certificate, app registrations, consents, refresh
	// token grants, sessions and revocations replace Key and the empty
	// start, so tokens issued before a restart stay valid.
	Restore *State
	// OnChange, when set, is called after anything State covers changed.
	// It may be called with the provider's lock held, so it must not call
	// back into the Provider; it should only schedule a save.
	OnChange func()
}

// AccessToken is what VerifyAccessToken learned from a valid Graph token.
type AccessToken struct {
	TenantID, ObjectID, AppID string
	Scopes, Roles             []string
	ExpiresAt                 time.Time
}

// TokenError is why a Graph access token was refused. Graph answers it with
// 401 and error code Code (always "InvalidAuthenticationToken") and Message
// as its error message.
type TokenError struct {
	Code, Message string
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Message }

// Lifetimes the identity platform applies (Microsoft's defaults).
const (
	accessTokenLifetime  = 3599 * time.Second
	idTokenLifetime      = time.Hour
	codeLifetime         = 10 * time.Minute
	refreshMaxInactive   = 90 * 24 * time.Hour
	flowLifetime         = time.Hour
	sessionLifetime      = 90 * 24 * time.Hour
	sessionCookieName    = "ESTSAUTHPERSISTENT"
	graphResource        = "https://graph.microsoft.com"
	graphAppID           = "00000003-0000-0000-c000-000000000000"
	defaultScope         = "https://graph.microsoft.com/.default"
	tenantCommon         = "common"
	tenantOrganizations  = "organizations"
	tenantIDPlaceholder  = "{tenantid}"
	maxFlowsBeforeExpiry = 10000
)

// Provider is the simulated identity platform. It is safe for concurrent use.
type Provider struct {
	dir    Directory
	now    func() time.Time
	log    *slog.Logger
	signer *keySigner

	onChange func()

	mu   sync.Mutex
	base string
	apps map[string]App // by lower-case client id
	// seq orders every grant, session and token against revocations, so
	// that revoking and signing in again within the same clock tick (tests
	// use frozen clocks) still tells old from new.
	seq           uint64
	tenantConsent map[string]*consent        // tenantID|clientID
	userConsent   map[string]map[string]bool // tenantID|clientID|userID → delegated scopes
	codes         map[string]*authCode
	refresh       map[string]*refreshGrant
	flows         map[string]*flow
	sessions      map[string]*session
	revoked       map[string]revocation // tenantID|userID
	issued        map[string]uint64     // access token uti → seq
}

type consent struct {
	delegated map[string]bool
	roles     map[string]bool
}

type revocation struct {
	seq uint64
	at  time.Time
}

type session struct {
	tenantID, userID string
	seq              uint64
	authTime         time.Time
	expires          time.Time
}

// New returns a Provider over o.Directory.
func New(o Options) (*Provider, error) {
	if o.Directory == nil {
		return nil, errors.New("identity: Options.Directory is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Restore != nil {
		return restore(o, *o.Restore)
	}
	key := o.Key
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("identity: generate signing key: %w", err)
		}
	}
	s, err := newKeySigner(key, o.Now())
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	p := &Provider{dir: o.Directory, now: o.Now, log: o.Logger, signer: s, base: "http://127.0.0.1", apps: map[string]App{}, onChange: o.OnChange}
	p.resetLocked()
	return p, nil
}

// changed tells the owner that persisted state changed.
func (p *Provider) changed() {
	if p.onChange != nil {
		p.onChange()
	}
}

// SetBaseURL sets the authority root the provider advertises, e.g.
// "http://127.0.0.1:8081"; a tenant's issuer is {base}/{tid}/v2.0. It is
// separate from New because the listener's address is often known only
// after the Handler is mounted.
func (p *Provider) SetBaseURL(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base = strings.TrimRight(u, "/")
}

func (p *Provider) baseURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.base
}

// RegisterApp adds or replaces an app registration.
func (p *Provider) RegisterApp(a App) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.apps[strings.ToLower(a.ClientID)] = a
	p.changed()
}

func (p *Provider) app(clientID string) (App, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.apps[strings.ToLower(clientID)]
	return a, ok
}

// GrantConsent records tenant-wide consent to clientID in tenantID, as an
// administrator would in the Entra admin center: delegated permissions for
// every user and application permissions (app roles) for the app itself.
// Names may be short ("User.Read.All") or full Graph URIs. It adds to any
// consent already given.
func (p *Provider) GrantConsent(tenantID, clientID string, delegated []string, appRoles []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grantTenantLocked(strings.ToLower(tenantID), clientID, delegated, appRoles)
	p.changed()
}

func (p *Provider) grantTenantLocked(tenantID, clientID string, delegated, roles []string) {
	k := tenantID + "|" + strings.ToLower(clientID)
	c := p.tenantConsent[k]
	if c == nil {
		c = &consent{delegated: map[string]bool{}, roles: map[string]bool{}}
		p.tenantConsent[k] = c
	}
	for _, s := range delegated {
		c.delegated[canonicalPermission(s)] = true
	}
	for _, s := range roles {
		c.roles[canonicalPermission(s)] = true
	}
}

// RevokeUser does what Graph's revokeSignInSessions does: the user's
// refresh tokens and sign-in sessions stop working, and (as with continuous
// access evaluation) access tokens issued before now are refused by
// VerifyAccessToken. A later sign-in works again.
func (p *Provider) RevokeUser(tenantID, userIDOrUPN string) error {
	t, ok := p.dir.TenantByIDOrDomain(tenantID)
	if !ok {
		return fmt.Errorf("identity: revoke user: tenant %q not found", tenantID)
	}
	u, ok := p.dir.UserByID(t.ID, userIDOrUPN)
	if !ok {
		u, ok = p.dir.UserBySignInName(t.ID, userIDOrUPN)
	}
	if !ok {
		return fmt.Errorf("identity: revoke user: user %q not found in tenant %s", userIDOrUPN, t.ID)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	p.revoked[userKey(t.ID, u.ID)] = revocation{seq: p.seq, at: p.now()}
	for id, s := range p.sessions {
		if strings.EqualFold(s.tenantID, t.ID) && strings.EqualFold(s.userID, u.ID) {
			delete(p.sessions, id)
		}
	}
	p.changed()
	p.log.Info("identity: user sessions revoked", slog.String("tenant", t.ID), slog.String("user", u.ID))
	return nil
}

// RevokeApp withdraws the tenant's consent to clientID, delegated and
// application alike, tenant-wide and per user. Refresh tokens then fail
// with AADSTS65001 and client credentials yield no roles; access tokens
// already issued stay valid until they expire, as at Microsoft.
func (p *Provider) RevokeApp(tenantID, clientID string) error {
	t, ok := p.dir.TenantByIDOrDomain(tenantID)
	if !ok {
		return fmt.Errorf("identity: revoke app: tenant %q not found", tenantID)
	}
	if _, ok := p.app(clientID); !ok {
		return fmt.Errorf("identity: revoke app: application %q not registered", clientID)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := strings.ToLower(t.ID) + "|" + strings.ToLower(clientID)
	delete(p.tenantConsent, prefix)
	for k := range p.userConsent {
		if strings.HasPrefix(k, prefix+"|") {
			delete(p.userConsent, k)
		}
	}
	p.changed()
	p.log.Info("identity: app consent withdrawn", slog.String("tenant", t.ID), slog.String("client_id", clientID))
	return nil
}

// Reset forgets grants, codes, refresh tokens, sessions, consents and
// revocations. App registrations and the signing key stay.
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked()
	p.changed()
}

func (p *Provider) resetLocked() {
	p.tenantConsent = map[string]*consent{}
	p.userConsent = map[string]map[string]bool{}
	p.codes = map[string]*authCode{}
	p.refresh = map[string]*refreshGrant{}
	p.flows = map[string]*flow{}
	p.sessions = map[string]*session{}
	p.revoked = map[string]revocation{}
	p.issued = map[string]uint64{}
}

// nextSeqLocked stamps a new grant, session or token.
func (p *Provider) nextSeqLocked() uint64 {
	p.seq++
	return p.seq
}

func userKey(tenantID, userID string) string {
	return strings.ToLower(tenantID) + "|" + strings.ToLower(userID)
}

// revokedLocked reports whether something stamped seq for the user predates
// a revocation.
func (p *Provider) revokedLocked(tenantID, userID string, seq uint64) (revocation, bool) {
	r, ok := p.revoked[userKey(tenantID, userID)]
	return r, ok && seq <= r.seq
}

// Handler serves the identity platform's paths and 404 otherwise.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", p.serveKeys)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", p.serveAuthorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", p.serveAuthorize)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", p.serveAdminConsent)
	mux.HandleFunc("GET /{tenant}/adminconsent", p.serveAdminConsent)
	mux.HandleFunc("POST /{tenant}/login", p.serveLogin)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", p.serveToken)
	return mux
}
