package office365

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// PurposeSignIn marks a pending single sign-on in connector.Pending (and
// in the stored OAuth state).
const PurposeSignIn = "sso"

// signInScopes are all single sign-on asks for: an id token naming the
// person (oid and names need profile, the email claim needs email) and no
// Graph permission, so signing in never asks a person to consent to
// tenantlink's directory access, and no refresh token is ever issued.
var signInScopes = []string{"openid", "profile", "email"}

var _ connector.SignInProvider = (*Connector)(nil)

// signInReady refuses a data source people cannot sign in with. The
// stored grant plays no part in signing in, so any authorized status
// qualifies: what matters is that authorizing taught us the tenant id,
// the only directory whose accounts may sign in.
func signInReady(ds *tenantlink.DataSource) error {
	switch {
	case ds == nil || ds.Type != tenantlink.ConnectorOffice365:
		return tenantlink.Errorf(tenantlink.EINVALID, "Single sign-on needs an Office 365 data source.")
	case !ds.Settings.SingleSignOn:
		return tenantlink.Errorf(tenantlink.EINVALID, "Data source %q does not have Enable Azure OpenID Connect Single-Sign-On turned on.", ds.Name)
	case !isGUID(ds.Account) || ds.AuthorizedAt == nil:
		return tenantlink.Errorf(tenantlink.EINVALID, "Data source %q is not authorized yet, so its Microsoft tenant is unknown: authorize it first.", ds.Name)
	}
	return nil
}

// BeginSignIn returns the authorize URL of the data source's own tenant:
// OpenID Connect code flow with PKCE (S256), state and nonce. No prompt is
// set, so a browser already signed in to Microsoft passes straight through.
func (c *Connector) BeginSignIn(ctx context.Context, ds *tenantlink.DataSource, redirectURL string) (string, connector.Pending, error) {
	if err := signInReady(ds); err != nil {
		return "", connector.Pending{}, err
	}
	if c.cfg.ClientID == "" {
		return "", connector.Pending{}, tenantlink.Errorf(tenantlink.EINVALID, "The Office 365 connector has no client id: set --ms-client-id.")
	}
	state, nonce, verifier := randomString(32), randomString(32), oauth2.GenerateVerifier()
	conf := c.oauthConfig(strings.ToLower(ds.Account), redirectURL, signInScopes)
	u := conf.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("response_mode", "query"),
	)
	return u, connector.Pending{State: state, Nonce: nonce, Verifier: verifier, Purpose: PurposeSignIn}, nil
}

// CompleteSignIn redeems the callback of BeginSignIn and returns who
// signed in, only once the id token is verified (signature, audience,
// expiry, nonce) and comes from the data source's tenant: tid equal to
// Account and iss exactly {Authority}/{tid}/v2.0. The code is redeemed at
// the organizations endpoint, as for authorization (decision 0004): the
// pin is the id token, so a code obtained in another tenant reaches this
// check and is refused with a message naming both tenants.
func (c *Connector) CompleteSignIn(ctx context.Context, ds *tenantlink.DataSource, p connector.Pending, redirectURL string, callback url.Values) (*connector.ExternalIdentity, error) {
	if err := signInReady(ds); err != nil {
		return nil, err
	}
	got := callback.Get("state")
	if p.State == "" || p.Purpose != PurposeSignIn || subtle.ConstantTimeCompare([]byte(got), []byte(p.State)) != 1 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The sign-in answer does not belong to this sign-in (state mismatch): sign in again.")
	}
	if te := callbackError(callback); te != nil {
		c.log.InfoContext(ctx, "microsoft refused the sign-in", "datasource", ds.ID, "error", te.Code, "aadsts", te.aadsts())
		return nil, signInError(te)
	}
	code := callback.Get("code")
	if code == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Microsoft's answer has neither a code nor an error: sign in again.")
	}
	if p.Verifier == "" || p.Nonce == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The sign-in lost its PKCE verifier or nonce: sign in again.")
	}
	conf := c.oauthConfig("organizations", redirectURL, signInScopes)
	tok, err := conf.Exchange(c.oauthContext(ctx), code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return nil, c.signInExchangeError(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft returned no id token, so who signed in cannot be checked: sign in again.")
	}
	claims, err := c.verifyIDToken(ctx, rawID, p.Nonce, againSignIn)
	if err != nil {
		return nil, err
	}
	tenant := strings.ToLower(ds.Account)
	if !strings.EqualFold(claims.TenantID, tenant) {
		c.log.InfoContext(ctx, "sign-in from another tenant refused", "datasource", ds.ID, "tenant", strings.ToLower(claims.TenantID), "want", tenant)
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"You signed in with an account of Microsoft tenant %s, but tenantlink's single sign-on accepts only accounts of tenant %s (data source %q): sign in with your account of that organization.",
			strings.ToLower(claims.TenantID), tenant, ds.Name)
	}
	if want := c.cfg.Authority + "/" + tenant + "/v2.0"; !strings.EqualFold(claims.Issuer, want) {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "Microsoft's id token was issued by %q, not by tenant %s's issuer %q: sign in again.", claims.Issuer, tenant, want)
	}
	if !isGUID(claims.ObjectID) {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft's id token names no object id (oid), so the account cannot be recognised: sign in again.")
	}
	c.log.InfoContext(ctx, "office365 sign-in", "datasource", ds.ID, "tenant", tenant, "oid", strings.ToLower(claims.ObjectID))
	return &connector.ExternalIdentity{
		ObjectID: strings.ToLower(claims.ObjectID), TenantID: tenant,
		Email: strings.TrimSpace(claims.Email), UPN: strings.TrimSpace(claims.PreferredUsername),
		DisplayName: strings.TrimSpace(claims.Name), GivenName: strings.TrimSpace(claims.GivenName), Surname: strings.TrimSpace(claims.FamilyName),
	}, nil
}

// signInError maps an error Microsoft returned on the sign-in redirect.
// The messages speak to a person signing in, not to an administrator
// authorizing a data source.
func signInError(te *tokenError) error {
	msg := ""
	code := tenantlink.EFORBIDDEN
	switch n := te.aadsts(); {
	case n == 65004 || te.Code == "access_denied" && n == 0:
		msg = fmt.Sprintf("The Microsoft sign-in was cancelled or declined (%s): sign in again.", te.ref())
	case n == 65001 || n == 90094 || n == 90095 || te.Code == "consent_required":
		msg = fmt.Sprintf("Your organization has not allowed tenantlink to sign you in with Microsoft (%s): ask an administrator to grant tenantlink consent in Microsoft Entra ID.", te.ref())
	case n == 50105:
		msg = "You are not assigned to tenantlink in your organization's Microsoft Entra ID (AADSTS50105): ask an administrator to assign you."
	case n == 50020 || n == 50034:
		msg = fmt.Sprintf("Your Microsoft account is not an account of the organization tenantlink signs in with (%s): sign in with your account of that organization.", te.ref())
	default:
		if cerr, ok := configError(te); ok {
			return cerr
		}
		code = tenantlink.EUPSTREAM
		msg = fmt.Sprintf("Microsoft refused the sign-in (%s)", te.ref())
		if s := te.summary(); s != "" {
			msg += ": " + s
		}
		msg += ". Sign in again."
	}
	return &tenantlink.Error{Code: code, Message: msg, Err: te}
}

// signInExchangeError maps a failed code redemption. Unlike a refresh,
// nothing stored is at stake: no error here means re-authorization.
func (c *Connector) signInExchangeError(err error) error {
	te, ok := asTokenError(err)
	if !ok {
		return &tenantlink.Error{
			Code:    tenantlink.EUNAVAILABLE,
			Message: fmt.Sprintf("Cannot reach Microsoft's sign-in service at %s to redeem the sign-in code: %s", c.cfg.Authority, netReason(err)),
			Err:     err,
		}
	}
	if cerr, ok := configError(te); ok {
		return cerr
	}
	if te.Status >= 500 || te.Code == "temporarily_unavailable" || te.Code == "server_error" {
		return &tenantlink.Error{
			Code:    tenantlink.EUNAVAILABLE,
			Message: fmt.Sprintf("Microsoft's sign-in service failed to redeem the sign-in code (%s): %s. Try again later.", te.ref(), te.summary()),
			Err:     te,
		}
	}
	code := tenantlink.EUPSTREAM
	if te.Code == "invalid_grant" {
		code = tenantlink.EINVALID
	}
	return &tenantlink.Error{
		Code:    code,
		Message: fmt.Sprintf("Microsoft refused the sign-in code (%s): %s. Sign in again.", te.ref(), te.summary()),
		Err:     te,
	}
}

var _ connector.AccountReader = (*Connector)(nil)

// ReadAccount reads the account objectID of ds's tenant with ds's stored
// grant: its userPrincipalName as Entra ID holds it (GET /users/{id}) and
// whether that name's domain is one of the tenant's verified domains
// (GET /organization, verifiedDomains). Unlike the id token's email claim,
// which Entra ID fills from the unverified mail attribute, a
// userPrincipalName can only be in a domain the tenant has proven to own.
// Guests (#EXT# names) are reported as not verified: their address is
// someone else's.
func (c *Connector) ReadAccount(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, objectID string) (*connector.DirectoryAccount, error) {
	if err := signInReady(ds); err != nil {
		return nil, err
	}
	if !isGUID(objectID) {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "%q is not an object id", objectID)
	}
	gc, err := c.client(ctx, ds, creds, 1)
	if err != nil {
		return nil, accountError(ds, err)
	}
	u, err := gc.GetUser(ctx, objectID, []string{"id", "userPrincipalName"})
	if err != nil {
		return nil, accountError(ds, err)
	}
	if !strings.EqualFold(u.ID, objectID) {
		return nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "Microsoft Graph answered account %s for object id %s", u.ID, objectID)
	}
	org, err := gc.Organization(ctx)
	if err != nil {
		return nil, accountError(ds, err)
	}
	out := &connector.DirectoryAccount{ObjectID: strings.ToLower(u.ID), SignInName: strings.ToLower(strings.TrimSpace(u.UserPrincipalName))}
	for _, d := range org.VerifiedDomains {
		out.Domains = append(out.Domains, strings.ToLower(d.Name))
	}
	at := strings.LastIndexByte(out.SignInName, '@')
	if at > 0 && !strings.Contains(out.SignInName, "#ext#") {
		domain := out.SignInName[at+1:]
		for _, d := range out.Domains {
			if d == domain {
				out.DomainVerified = true
			}
		}
	}
	return out, nil
}

// accountError says why ReadAccount could not read the account.
func accountError(ds *tenantlink.DataSource, err error) error {
	return &tenantlink.Error{Code: tenantlink.EUNAVAILABLE, Message: fmt.Sprintf("data source %q cannot read the account from Microsoft Graph: %s", ds.Name, graphReason(err)), Err: err}
}
