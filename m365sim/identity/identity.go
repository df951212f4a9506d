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
// registrations, consents, codes, refresh tokens and sign-in sessions.
package identity

import (
	"crypto/rsa"
	"log/slog"
	"net/http"
	"time"
)

// Tenant is a Microsoft Entra tenant as the identity platform sees it.
type Tenant struct{ ID, Domain, DisplayName string }

// User is a directory account that can sign in.
type User struct {
	ID, TenantID, UserPrincipalName, DisplayName, GivenName, Surname, Mail string
	Enabled                                                                bool
	Roles                                                                  []string // directory role display names, e.g. "Global Administrator"
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
}

// Options configures a Provider.
type Options struct {
	Directory Directory
	Now       func() time.Time // default time.Now; the simulator passes a clock it can advance
	Key       *rsa.PrivateKey  // optional; generated (2048-bit) when nil
	Logger    *slog.Logger
}

// AccessToken is what VerifyAccessToken learned from a valid Graph token.
type AccessToken struct {
	TenantID, ObjectID, AppID string
	Scopes, Roles             []string
	ExpiresAt                 time.Time
}

// TokenError is why a Graph access token was refused. Graph answers it with
// 401 and error code Code (InvalidAuthenticationToken).
type TokenError struct {
	Code, Message string
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Message }

// Provider is the simulated identity platform.
type Provider struct{}

// New returns a Provider.
func New(o Options) (*Provider, error) { return &Provider{}, nil }

// SetBaseURL sets the authority root, e.g. "http://127.0.0.1:8081".
func (p *Provider) SetBaseURL(u string) {}

// RegisterApp adds or replaces an app registration.
func (p *Provider) RegisterApp(a App) {}

// Handler serves the identity platform's paths and 404 otherwise.
func (p *Provider) Handler() http.Handler { return http.NotFoundHandler() }

// VerifyAccessToken checks a Graph access token.
func (p *Provider) VerifyAccessToken(raw string) (*AccessToken, error) {
	return nil, &TokenError{Code: "InvalidAuthenticationToken", Message: "not implemented"}
}

// GrantConsent records tenant-wide consent.
func (p *Provider) GrantConsent(tenantID, clientID string, delegated []string, appRoles []string) {}

// RevokeUser revokes a user's sessions and tokens.
func (p *Provider) RevokeUser(tenantID, userIDOrUPN string) error { return nil }

// RevokeApp withdraws the tenant's consent to an app.
func (p *Provider) RevokeApp(tenantID, clientID string) error { return nil }

// Reset forgets grants, codes, sessions and consents.
func (p *Provider) Reset() {}

// IsAdminOnly reports whether a delegated permission needs admin consent.
func IsAdminOnly(scope string) bool { return false }

// CanConsentForTenant reports whether u may grant tenant-wide consent.
func CanConsentForTenant(u User) bool { return false }
