package office365

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// personalTenant is the tenant of personal Microsoft accounts, which
// cannot administer an organization.
const personalTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// oauthConfig is the authorization code flow against tenant's endpoints.
func (c *Connector) oauthConfig(tenant, redirectURL string, scopes []string) *oauth2.Config {
	base := c.cfg.Authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0"
	return &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		// In-params, so a refused secret costs one request, not the two
		// that x/oauth2's auto-detection would send.
		Endpoint:    oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirectURL,
		Scopes:      scopes,
	}
}

// BeginAuthorize returns the Microsoft URL to open in the popup: the
// authorize endpoint (delegated) or the admin-consent endpoint
// (application). Until the data source is authorized the tenant is not
// known, so the organizations authority lets any work account sign in;
// afterwards the tenant's own endpoints pin it.
func (c *Connector) BeginAuthorize(ctx context.Context, ds *tenantlink.DataSource, redirectURL string) (string, connector.Pending, error) {
	if c.cfg.ClientID == "" {
		return "", connector.Pending{}, tenantlink.Errorf(tenantlink.EINVALID, "The Office 365 connector has no client id: set --ms-client-id.")
	}
	state := randomString(32)
	tenant := tenantSegment(ds)
	if mode(ds) == tenantlink.AuthApplication {
		q := url.Values{
			"client_id":    {c.cfg.ClientID},
			"scope":        {graphResource + ".default"},
			"redirect_uri": {redirectURL},
			"state":        {state},
		}
		u := c.cfg.Authority + "/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + q.Encode()
		return u, connector.Pending{State: state, Purpose: PurposeAdminConsent}, nil
	}
	nonce := randomString(32)
	verifier := oauth2.GenerateVerifier()
	conf := c.oauthConfig(tenant, redirectURL, c.delegatedScopes(c.RequiredScopes(ds)))
	u := conf.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("response_mode", "query"),
		// The browser may hold a session for another account or tenant
		// than the administrator's.
		oauth2.SetAuthURLParam("prompt", "select_account"),
	)
	return u, connector.Pending{State: state, Nonce: nonce, Verifier: verifier, Purpose: PurposeAuthorize}, nil
}

// CompleteAuthorize redeems the callback of BeginAuthorize. Every refusal
// is a *tenantlink.Error whose message says what to do, and nothing is
// returned (so nothing is stored) unless the grant is fully checked.
func (c *Connector) CompleteAuthorize(ctx context.Context, ds *tenantlink.DataSource, p connector.Pending, redirectURL string, callback url.Values) (*connector.Grant, error) {
	got := callback.Get("state")
	if p.State == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.State)) != 1 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The sign-in answer does not belong to this authorization (state mismatch): start again with Authorize.")
	}
	if te := callbackError(callback); te != nil {
		c.log.InfoContext(ctx, "microsoft refused the authorization", "datasource", ds.ID, "error", te.Code, "aadsts", te.aadsts())
		return nil, authorizeError(te, redirectURL)
	}
	switch {
	case p.Purpose == PurposeAdminConsent && mode(ds) == tenantlink.AuthApplication:
		return c.completeAdminConsent(ctx, ds, callback)
	case p.Purpose == PurposeAuthorize && mode(ds) == tenantlink.AuthDelegated:
		return c.completeDelegated(ctx, ds, p, redirectURL, callback)
	}
	return nil, tenantlink.Errorf(tenantlink.EINVALID, "The authorization mode of this data source changed while signing in: start again with Authorize.")
}

// idClaims are the id token claims tenantlink reads.
type idClaims struct {
	Issuer            string `json:"iss"`
	TenantID          string `json:"tid"`
	ObjectID          string `json:"oid"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	GivenName         string `json:"given_name"`  // optional claim
	FamilyName        string `json:"family_name"` // optional claim
}

// What a person should do after a refused id token, by flow.
const (
	againAuthorize = "start again with Authorize"
	againSignIn    = "sign in again"
)

func (c *Connector) completeDelegated(ctx context.Context, ds *tenantlink.DataSource, p connector.Pending, redirectURL string, callback url.Values) (*connector.Grant, error) {
	code := callback.Get("code")
	if code == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Microsoft's answer has neither a code nor an error: start again with Authorize.")
	}
	if p.Verifier == "" || p.Nonce == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The authorization lost its PKCE verifier or nonce: start again with Authorize.")
	}
	required := c.RequiredScopes(ds)
	// The code carries the tenant it was issued in, so it is redeemed at
	// the generic endpoint whatever authority BeginAuthorize used; the id
	// token's tid then pins the tenant, even if Account was set meanwhile.
	conf := c.oauthConfig("organizations", redirectURL, c.delegatedScopes(required))
	tok, err := conf.Exchange(c.oauthContext(ctx), code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return nil, c.exchangeError(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft returned no id token, so the tenant cannot be checked: start again with Authorize.")
	}
	claims, err := c.verifyIDToken(ctx, rawID, p.Nonce, againAuthorize)
	if err != nil {
		return nil, err
	}
	if ds.Account != "" && !strings.EqualFold(claims.TenantID, ds.Account) {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"You signed in to Microsoft tenant %s, but this data source belongs to tenant %s: sign in with an administrator of tenant %s, or create a new data source for the other tenant.",
			claims.TenantID, ds.Account, ds.Account)
	}
	if tok.RefreshToken == "" {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft returned no refresh token (was offline_access refused?): start again with Authorize.")
	}
	who := claims.PreferredUsername
	if who == "" {
		who = claims.Email
	}
	if who == "" {
		who = claims.ObjectID
	}
	scope, _ := tok.Extra("scope").(string)
	granted := grantedPermissions(scope)
	if scope == "" {
		granted = slices.Clone(required)
	}
	if miss := missing(granted, required); len(miss) > 0 {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"Microsoft granted tenantlink only %s; it also needs %s. Ask a Global Administrator to click Authorize and accept all the permissions.",
			listOrNone(granted), strings.Join(miss, ", "))
	}
	gc := graph.New(graph.Config{BaseURL: c.cfg.GraphURL, HTTPClient: c.staticClient(tok.AccessToken), Logger: c.log, Now: c.now, MaxRetries: 2})
	if err := c.checkAdmin(ctx, gc, who); err != nil {
		return nil, err
	}
	now := c.now()
	s := &secret{
		V: secretVersion, Mode: tenantlink.AuthDelegated, Grant: randomString(16), Tenant: strings.ToLower(claims.TenantID),
		RefreshToken: tok.RefreshToken, Scopes: granted, By: who, ObjectID: claims.ObjectID, At: now,
	}
	b, err := s.marshal()
	if err != nil {
		return nil, err
	}
	// The connection test follows at once: let it use this access token
	// instead of spending the new refresh token.
	c.remember(ds.ID, &accessToken{grant: s.Grant, value: tok.AccessToken, expiry: c.tokenExpiry(tok), granted: granted})
	c.log.InfoContext(ctx, "office365 authorized", "datasource", ds.ID, "tenant", s.Tenant, "by", who, "mode", s.Mode)
	return &connector.Grant{Secret: b, Account: s.Tenant, AuthorizedBy: who, Scopes: granted, At: now}, nil
}

// tokenExpiry measures tok's lifetime on the injected clock.
func (c *Connector) tokenExpiry(tok *oauth2.Token) time.Time {
	if tok.ExpiresIn > 0 {
		return c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if !tok.Expiry.IsZero() {
		return tok.Expiry
	}
	return c.now().Add(time.Hour)
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "no Graph permission"
	}
	return strings.Join(s, ", ")
}

// exchangeError maps a failed code redemption.
func (c *Connector) exchangeError(err error) error {
	te, ok := asTokenError(err)
	if !ok {
		return c.refreshError(err, "redeem the sign-in code")
	}
	if cerr, ok := configError(te); ok {
		return cerr
	}
	switch n := te.aadsts(); {
	case n == 54005 || n == 70008 || n == 70000 || te.Code == "invalid_grant":
		return &tenantlink.Error{
			Code:    tenantlink.EINVALID,
			Message: fmt.Sprintf("Microsoft refused the sign-in code (%s): %s. Start again with Authorize.", te.ref(), te.summary()),
			Err:     te,
		}
	}
	return c.refreshError(err, "redeem the sign-in code")
}

// verifyIDToken validates a multi-tenant id token. The organizations
// discovery document names the literal issuer
// https://login.microsoftonline.com/{tenantid}/v2.0, which no token
// carries, so the token's tid (a GUID) selects the tenant's own discovery
// document, whose issuer must then match the token's exactly. again is
// what the messages tell the person to do (the flows share this check).
func (c *Connector) verifyIDToken(ctx context.Context, raw, nonce, again string) (*idClaims, error) {
	tid, err := unverifiedTenant(raw)
	if err != nil {
		return nil, &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: "Microsoft's id token is malformed: " + again + ".", Err: err}
	}
	if !isGUID(tid) {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft's id token names no valid tenant (tid %q): %s.", tid, again)
	}
	if strings.EqualFold(tid, personalTenant) {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "You signed in with a personal Microsoft account: sign in with a work account of the organization's Microsoft 365 tenant.")
	}
	octx := oidc.ClientContext(ctx, c.hc)
	issuer := c.cfg.Authority + "/" + strings.ToLower(tid) + "/v2.0"
	provider, err := oidc.NewProvider(octx, issuer)
	if err != nil {
		return nil, &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: fmt.Sprintf("Cannot read the OpenID configuration of Microsoft tenant %s: %s", tid, netReason(err)), Err: err}
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: c.now}).Verify(octx, raw)
	if err != nil {
		return nil, &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: "Microsoft's id token failed validation: " + again + ".", Err: fmt.Errorf("office365: verify id token: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The sign-in answer does not belong to this sign-in (nonce mismatch): %s.", again)
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("office365: id token claims: %w", err)
	}
	if !strings.EqualFold(claims.TenantID, tid) {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft's id token changed tenant during validation: %s.", again)
	}
	return &claims, nil
}

// unverifiedTenant reads tid from a JWT payload to choose the issuer to
// verify against; the signature and issuer are checked afterwards.
func unverifiedTenant(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("office365: id token is not a JWS compact serialization")
	}
	b, err := base64URLDecode(parts[1])
	if err != nil {
		return "", fmt.Errorf("office365: id token payload: %w", err)
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return "", fmt.Errorf("office365: id token payload: %w", err)
	}
	return claims.TID, nil
}

// completeAdminConsent checks Microsoft's admin-consent answer and proves
// it with an app-only token, whose roles say what was actually granted.
func (c *Connector) completeAdminConsent(ctx context.Context, ds *tenantlink.DataSource, callback url.Values) (*connector.Grant, error) {
	if !strings.EqualFold(callback.Get("admin_consent"), "true") {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, notAdminMessage, "admin consent was not given")
	}
	tenant := strings.ToLower(callback.Get("tenant"))
	if !isGUID(tenant) {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft's admin-consent answer names no valid tenant (%q): start again with Authorize.", callback.Get("tenant"))
	}
	if ds.Account != "" && !strings.EqualFold(tenant, ds.Account) {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"Consent was given in Microsoft tenant %s, but this data source belongs to tenant %s: sign in with an administrator of tenant %s.",
			tenant, ds.Account, ds.Account)
	}
	t, err := c.appToken(ctx, tenant)
	if err != nil {
		return nil, err
	}
	required := c.RequiredScopes(ds)
	roles := slices.Clone(t.granted)
	slices.Sort(roles)
	if miss := missing(roles, required); len(miss) > 0 {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"The admin consent gives tenantlink %s but it also needs the application permissions %s: add them to tenantlink's app registration (API permissions), then click Authorize again.",
			listOrNone(roles), strings.Join(miss, ", "))
	}
	now := c.now()
	s := &secret{V: secretVersion, Mode: tenantlink.AuthApplication, Grant: randomString(16), Tenant: tenant, Scopes: roles, By: "application", At: now}
	b, err := s.marshal()
	if err != nil {
		return nil, err
	}
	t.grant = s.Grant
	c.remember(ds.ID, t)
	c.log.InfoContext(ctx, "office365 authorized", "datasource", ds.ID, "tenant", tenant, "mode", s.Mode)
	return &connector.Grant{Secret: b, Account: tenant, AuthorizedBy: "application", Scopes: roles, At: now}, nil
}
