package identity

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// refreshGrant is what a refresh token stands for. Refresh tokens are
// opaque, as Microsoft's are; each use issues a new one, which restarts the
// 90-day inactivity window.
type refreshGrant struct {
	clientID, tenantID, userID string
	graph, oidc                []string
	issued, authTime           time.Time
	authSeq                    uint64
}

type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// serveToken is the token endpoint.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	t, generic, ok := p.resolveTenant(seg)
	if !ok {
		p.writeJSONError(w, r, errTenantNotFound(seg))
		return
	}
	if err := r.ParseForm(); err != nil {
		p.writeJSONError(w, r, newSTSError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."))
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	if grant == "" {
		p.writeJSONError(w, r, errMissingParam("grant_type"))
		return
	}
	switch grant {
	case "authorization_code", "refresh_token", "client_credentials":
	default:
		p.writeJSONError(w, r, newSTSError(http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '%s'.", grant))
		return
	}
	a, e := p.authenticateClient(r, t)
	if e != nil {
		p.writeJSONError(w, r, e)
		return
	}
	var resp *tokenResponse
	switch grant {
	case "authorization_code":
		resp, e = p.redeemCode(r, t, generic, a)
	case "refresh_token":
		resp, e = p.redeemRefresh(r, t, generic, a)
	case "client_credentials":
		if generic {
			e = newSTSError(http.StatusBadRequest, "invalid_request", 9001023,
				"The grant type is not supported over the /common or /organizations endpoints. Please use a tenant-specific endpoint.")
		} else {
			resp, e = p.clientCredentials(r, t, a)
		}
	}
	if e != nil {
		p.writeJSONError(w, r, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient accepts client_secret in the body or HTTP Basic, as
// Microsoft does. Every app in the simulator is a confidential client.
func (p *Provider) authenticateClient(r *http.Request, t Tenant) (App, *stsError) {
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else if body := r.PostForm.Get("client_id"); body != "" && !strings.EqualFold(body, clientID) {
		return App{}, newSTSError(http.StatusBadRequest, "invalid_request", 900144, "The client_id in the request body does not match the client authenticated.")
	}
	if clientID == "" {
		return App{}, errMissingParam("client_id")
	}
	a, ok := p.app(clientID)
	if !ok || (t.ID != "" && !p.appAllowedIn(a, t.ID)) {
		name := t.DisplayName
		if name == "" {
			name = r.PathValue("tenant")
		}
		return App{}, errAppNotFound(clientID, name)
	}
	if secret == "" {
		return App{}, errNoSecret()
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.ClientSecret)) != 1 {
		p.log.Info("identity: bad client secret", slog.String("client_id", a.ClientID))
		return App{}, errBadSecret(a.ClientID)
	}
	return a, nil
}

func (p *Provider) redeemCode(r *http.Request, t Tenant, generic bool, a App) (*tokenResponse, *stsError) {
	f := r.PostForm
	code := f.Get("code")
	if code == "" {
		return nil, errMissingParam("code")
	}
	now := p.now()
	p.mu.Lock()
	c, ok := p.codes[code]
	if !ok || !strings.EqualFold(c.clientID, a.ClientID) || (!generic && !strings.EqualFold(c.tenantID, t.ID)) {
		p.mu.Unlock()
		return nil, errMalformedGrant()
	}
	if c.redeemed {
		p.mu.Unlock()
		return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 54005,
			"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	}
	if now.Sub(c.issued) > codeLifetime {
		delete(p.codes, code)
		p.mu.Unlock()
		return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 70008,
			"The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	// The code is spent by this attempt whatever happens next, so a leaked
	// code cannot be retried with guessed verifiers.
	c.redeemed = true
	p.mu.Unlock()
	if got := f.Get("redirect_uri"); got != c.redirectURI {
		return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 500112,
			"The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", got, c.redirectURI)
	}
	if c.challenge != "" {
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 501481,
				"The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	g := &refreshGrant{clientID: a.ClientID, tenantID: c.tenantID, userID: c.userID, graph: c.graph, oidc: c.oidc, authTime: c.authTime, authSeq: c.authSeq}
	return p.issueDelegated(g, a, c.nonce, now)
}

func (p *Provider) redeemRefresh(r *http.Request, t Tenant, generic bool, a App) (*tokenResponse, *stsError) {
	f := r.PostForm
	rt := f.Get("refresh_token")
	if rt == "" {
		return nil, errMissingParam("refresh_token")
	}
	now := p.now()
	p.mu.Lock()
	g, ok := p.refresh[secretKey(rt)]
	if !ok || !strings.EqualFold(g.clientID, a.ClientID) || (!generic && !strings.EqualFold(g.tenantID, t.ID)) {
		p.mu.Unlock()
		return nil, errMalformedGrant()
	}
	if rev, revoked := p.revokedLocked(g.tenantID, g.userID, g.authSeq); revoked {
		p.mu.Unlock()
		e := newSTSError(http.StatusBadRequest, "invalid_grant", 50173,
			"The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
			g.authTime.UTC().Format("2006-01-02T15:04:05.0000000Z"), rev.at.UTC().Format("2006-01-02T15:04:05.0000000Z"))
		e.suberror = "bad_token"
		return nil, e
	}
	if inactive := now.Sub(g.issued); inactive > refreshMaxInactive {
		delete(p.refresh, secretKey(rt))
		p.mu.Unlock()
		e := newSTSError(http.StatusBadRequest, "invalid_grant", 700082,
			"The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.",
			g.issued.UTC().Format("2006-01-02T15:04:05.0000000Z"))
		e.suberror = "bad_token"
		return nil, e
	}
	base := strings.ToLower(g.tenantID) + "|" + strings.ToLower(g.clientID)
	tc := p.tenantConsent[base]
	uc := p.userConsent[base+"|"+strings.ToLower(g.userID)]
	p.mu.Unlock()

	graph, oidc := g.graph, g.oidc
	if raw := f.Get("scope"); raw != "" {
		sr := parseScopes(raw)
		if len(sr.unknown) > 0 {
			return nil, errInvalidScope(strings.Join(sr.unknown, " "))
		}
		if sr.hasDefault {
			sr.graph = g.graph
		}
		for _, s := range sr.graph {
			if !contains(g.graph, s) {
				return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 70000,
					"The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.")
			}
		}
		graph = sr.graph
		oidc = intersect(sr.oidc, g.oidc)
		if !contains(oidc, "offline_access") && contains(g.oidc, "offline_access") {
			// Without offline_access Microsoft would send no new refresh
			// token; keep the grant's so the chain stays usable.
			oidc = append(oidc, "offline_access")
		}
	}
	for _, s := range graph {
		if !((tc != nil && tc.delegated[s]) || uc[s]) {
			return nil, errConsentRequired(a.ClientID, a.DisplayName)
		}
	}
	if tc == nil && uc == nil {
		return nil, errConsentRequired(a.ClientID, a.DisplayName)
	}
	ng := *g
	ng.graph, ng.oidc = graph, oidc
	return p.issueDelegated(&ng, a, "", now)
}

// issueDelegated mints the token response for a user grant and, with
// offline_access, a new refresh token.
func (p *Provider) issueDelegated(g *refreshGrant, a App, nonce string, now time.Time) (*tokenResponse, *stsError) {
	t, ok := p.dir.TenantByIDOrDomain(g.tenantID)
	if !ok {
		return nil, errTenantNotFound(g.tenantID)
	}
	u, ok := p.dir.UserByID(t.ID, g.userID)
	if !ok {
		return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 50034,
			"The user account {EUII Hidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", t.ID)
	}
	if !u.Enabled {
		return nil, newSTSError(http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.")
	}
	at, err := p.delegatedAccessToken(t, u, a, g.graph, g.oidc, now)
	if err != nil {
		return nil, p.internal(err)
	}
	resp := &tokenResponse{
		TokenType:    "Bearer",
		Scope:        responseScope(g.graph, g.oidc),
		ExpiresIn:    int(accessTokenLifetime / time.Second),
		ExtExpiresIn: int(accessTokenLifetime / time.Second),
		AccessToken:  at,
		ClientInfo:   clientInfo(u.ID, t.ID),
	}
	if contains(g.oidc, "openid") {
		if resp.IDToken, err = p.idToken(t, u, a, g.oidc, nonce, now); err != nil {
			return nil, p.internal(err)
		}
	}
	if contains(g.oidc, "offline_access") {
		rt := "1.A" + randomToken(64)
		ng := *g
		ng.issued = now
		p.mu.Lock()
		p.refresh[secretKey(rt)] = &ng
		p.mu.Unlock()
		p.changed()
		resp.RefreshToken = rt
	}
	p.log.Info("identity: delegated tokens issued", slog.String("tenant", t.ID), slog.String("client_id", a.ClientID), slog.String("user", u.ID))
	return resp, nil
}

func (p *Provider) clientCredentials(r *http.Request, t Tenant, a App) (*tokenResponse, *stsError) {
	scope := r.PostForm.Get("scope")
	if scope == "" {
		return nil, errMissingParam("scope")
	}
	for _, s := range strings.Fields(scope) {
		if !strings.EqualFold(s, defaultScope) && !strings.EqualFold(s, graphAppID+"/.default") {
			return nil, newSTSError(http.StatusBadRequest, "invalid_scope", 1002012,
				"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", s)
		}
	}
	p.mu.Lock()
	tc := p.tenantConsent[strings.ToLower(t.ID)+"|"+strings.ToLower(a.ClientID)]
	var roles []string
	if tc != nil {
		for role := range tc.roles {
			roles = append(roles, role)
		}
	}
	p.mu.Unlock()
	if tc == nil && !strings.EqualFold(a.HomeTenantID, t.ID) {
		// No service principal in a foreign tenant until someone consents.
		return nil, errAppNotFound(a.ClientID, t.DisplayName)
	}
	sortStrings(roles)
	now := p.now()
	at, err := p.appAccessToken(t, a, roles, now)
	if err != nil {
		return nil, p.internal(err)
	}
	p.log.Info("identity: app token issued", slog.String("tenant", t.ID), slog.String("client_id", a.ClientID), slog.Int("roles", len(roles)))
	return &tokenResponse{
		TokenType:    "Bearer",
		ExpiresIn:    int(accessTokenLifetime / time.Second),
		ExtExpiresIn: int(accessTokenLifetime / time.Second),
		AccessToken:  at,
	}, nil
}

func (p *Provider) internal(err error) *stsError {
	p.log.Error("identity: token issuance failed", slog.Any("err", err))
	return newSTSError(http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
}

// responseScope is the token response's scope: Graph permissions as full
// URIs, OpenID scopes bare, as Microsoft answers.
func responseScope(graph, oidc []string) string {
	var out []string
	for _, s := range graph {
		out = append(out, graphResource+"/"+s)
	}
	if len(graph) == 0 {
		out = append(out, graphResource+"/User.Read")
	}
	out = append(out, oidc...)
	return strings.Join(out, " ")
}

// clientInfo is MSAL's client_info: base64url JSON of uid and utid.
func clientInfo(uid, utid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"uid":"` + uid + `","utid":"` + utid + `"}`))
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
