package identity

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

type flowKind int

const (
	flowAuthorize flowKind = iota
	flowAdminConsent
)

// flowStep is the page a sign-in flow is waiting on.
type flowStep int

const (
	stepUsername flowStep = iota
	stepPassword
	stepKMSI
	stepConsent
	stepAdminApproval
)

// flow is one browser sign-in in progress, kept server-side and named in
// each page by an opaque id (Microsoft's pages carry a similar "ctx").
type flow struct {
	id        string
	kind      flowKind
	tenantSeg string
	tenant    Tenant // zero until the user is known when tenantSeg is common/organizations
	clientID  string
	app       App

	redirectURI, state, nonce, responseMode, challenge, prompt, loginHint string

	oidc       []string // requested OpenID scopes
	graph      []string // delegated Graph permissions asked for (.default resolved)
	roles      []string // application permissions (admin consent with .default)
	scopeParam string   // echoed by the admin-consent success answer

	step     flowStep
	user     User
	authTime time.Time
	authSeq  uint64
	sessID   string
	errText  string // page-level error shown to the user
	errCode  string // the AADSTS line shown under it
	created  time.Time
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveAuthorize starts the authorization code flow.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, newSTSError(http.StatusBadRequest, "invalid_request", 90014, "The request was malformed: %v", err))
		return
	}
	q := r.Form
	f, ok := p.newFlow(w, r, flowAuthorize)
	if !ok {
		return
	}
	f.nonce = q.Get("nonce")
	f.responseMode = q.Get("response_mode")
	f.prompt = strings.ToLower(q.Get("prompt"))
	f.loginHint = q.Get("login_hint")

	switch rt := q.Get("response_type"); {
	case rt == "":
		p.redirectError(w, r, f, errMissingParam("response_type"))
		return
	case rt != "code":
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "unsupported_response_type", 700054,
			"response_type '%s' is not enabled for the application.", rt))
		return
	}
	switch f.responseMode {
	case "", "query", "fragment", "form_post":
	default:
		mode := f.responseMode
		f.responseMode = ""
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "invalid_request", 90011,
			"Request parameter 'response_mode' value '%s' is not supported. Use query, fragment or form_post.", mode))
		return
	}
	switch f.prompt {
	case "", "login", "none", "consent", "select_account":
	default:
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "invalid_request", 90023,
			"Unsupported 'prompt' value '%s'.", f.prompt))
		return
	}
	if q.Get("scope") == "" {
		p.redirectError(w, r, f, errMissingParam("scope"))
		return
	}
	sr := parseScopes(q.Get("scope"))
	if len(sr.unknown) > 0 {
		p.redirectError(w, r, f, errInvalidScope(strings.Join(sr.unknown, " ")))
		return
	}
	if sr.hasDefault && len(sr.graph) > 0 {
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope %s is not valid. static scope limit exceeded.", q.Get("scope")))
		return
	}
	f.oidc, f.graph = sr.oidc, sr.graph
	if sr.hasDefault {
		f.graph, _ = appPermissions(f.app)
	}
	f.challenge = q.Get("code_challenge")
	if method := q.Get("code_challenge_method"); f.challenge != "" || method != "" {
		// Microsoft also accepts "plain"; the simulator holds clients to
		// S256, which is all tenantlink sends.
		if method != "S256" {
			p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "invalid_request", 501491,
				"Invalid code_challenge_method '%s'. Only 'S256' is supported.", method))
			return
		}
		if len(f.challenge) != 43 {
			p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "invalid_request", 501491,
				"Invalid size of Code_Challenge parameter."))
			return
		}
	}
	p.continueFlow(w, r, f)
}

// serveAdminConsent starts the admin-consent flow (v2.0 and the older form
// without scope).
func (p *Provider) serveAdminConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, newSTSError(http.StatusBadRequest, "invalid_request", 90014, "The request was malformed: %v", err))
		return
	}
	f, ok := p.newFlow(w, r, flowAdminConsent)
	if !ok {
		return
	}
	scope := r.Form.Get("scope")
	if scope == "" {
		scope = defaultScope
	}
	f.scopeParam = scope
	sr := parseScopes(scope)
	if len(sr.unknown) > 0 {
		p.redirectError(w, r, f, errInvalidScope(strings.Join(sr.unknown, " ")))
		return
	}
	f.oidc, f.graph = sr.oidc, sr.graph
	if sr.hasDefault {
		d, a := appPermissions(f.app)
		f.graph = append(append([]string(nil), f.graph...), d...)
		f.roles = a
	}
	// Admin consent always asks for a fresh decision by a signed-in admin.
	f.prompt = "consent"
	p.continueFlow(w, r, f)
}

// newFlow validates what must be right before Microsoft trusts the redirect
// URI: tenant, client and redirect URI. Failures are error pages.
func (p *Provider) newFlow(w http.ResponseWriter, r *http.Request, kind flowKind) (*flow, bool) {
	seg := r.PathValue("tenant")
	t, _, ok := p.resolveTenant(seg)
	if !ok {
		p.errorPage(w, r, errTenantNotFound(seg))
		return nil, false
	}
	q := r.Form
	clientID := q.Get("client_id")
	if clientID == "" {
		p.errorPage(w, r, errMissingParam("client_id"))
		return nil, false
	}
	a, ok := p.app(clientID)
	dirName := seg
	if t.ID != "" {
		dirName = t.DisplayName
		if dirName == "" {
			dirName = t.Domain
		}
	}
	if !ok || (t.ID != "" && !a.MultiTenant && !strings.EqualFold(a.HomeTenantID, t.ID)) {
		p.errorPage(w, r, errAppNotFound(clientID, dirName))
		return nil, false
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" && len(a.RedirectURIs) == 1 {
		redirectURI = a.RedirectURIs[0]
	}
	if redirectURI == "" {
		p.errorPage(w, r, errMissingParam("redirect_uri"))
		return nil, false
	}
	if !slices.Contains(a.RedirectURIs, redirectURI) {
		p.errorPage(w, r, errRedirectMismatch(redirectURI, a.ClientID))
		return nil, false
	}
	if _, err := url.Parse(redirectURI); err != nil {
		p.errorPage(w, r, errRedirectMismatch(redirectURI, a.ClientID))
		return nil, false
	}
	now := p.now()
	f := &flow{
		id: randomToken(24), kind: kind, tenantSeg: seg, tenant: t, clientID: a.ClientID, app: a,
		redirectURI: redirectURI, state: q.Get("state"), created: now,
	}
	return f, true
}

// continueFlow picks the first page a new flow needs: none when a sign-in
// session already covers the user and consent is in place.
func (p *Provider) continueFlow(w http.ResponseWriter, r *http.Request, f *flow) {
	if f.prompt != "login" && f.prompt != "select_account" {
		if s, u, ok := p.sessionUser(r, f); ok {
			f.user, f.tenant, f.authTime, f.authSeq, f.sessID = u, mustTenant(p.dir, u.TenantID, f.tenant), s.authTime, s.seq, s.id
			p.saveFlow(f)
			p.afterSignIn(w, r, f)
			return
		}
	}
	if f.prompt == "none" {
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "login_required", 50058,
			"A silent sign-in request was sent but no user is signed in."))
		return
	}
	f.step = stepUsername
	p.saveFlow(f)
	p.renderFlow(w, f)
}

func mustTenant(d Directory, id string, fallback Tenant) Tenant {
	if t, ok := d.TenantByIDOrDomain(id); ok {
		return t
	}
	return fallback
}

func (p *Provider) saveFlow(f *flow) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if len(p.flows) > maxFlowsBeforeExpiry {
		for id, x := range p.flows {
			if now.Sub(x.created) > flowLifetime {
				delete(p.flows, id)
			}
		}
	}
	p.flows[f.id] = f
}

func (p *Provider) takeFlow(id string) (*flow, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.flows[id]
	if !ok || p.now().Sub(f.created) > flowLifetime {
		delete(p.flows, id)
		return nil, false
	}
	return f, true
}

func (p *Provider) dropFlow(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.flows, id)
}

type sessionRef struct {
	id       string
	seq      uint64
	authTime time.Time
}

// sessionUser returns the signed-in user from the session cookie, if the
// session is alive, unrevoked and fits the flow's tenant.
func (p *Provider) sessionUser(r *http.Request, f *flow) (sessionRef, User, bool) {
	c, err := r.Cookie(sessionCookieName)
	if err != nil {
		return sessionRef{}, User{}, false
	}
	p.mu.Lock()
	s, ok := p.sessions[secretKey(c.Value)]
	if ok {
		if _, revoked := p.revokedLocked(s.tenantID, s.userID, s.seq); revoked || p.now().After(s.expires) {
			delete(p.sessions, secretKey(c.Value))
			ok = false
		}
	}
	p.mu.Unlock()
	if !ok || (f.tenant.ID != "" && !strings.EqualFold(f.tenant.ID, s.tenantID)) {
		return sessionRef{}, User{}, false
	}
	u, ok := p.dir.UserByID(s.tenantID, s.userID)
	if !ok || !u.Enabled || !p.appAllowedIn(f.app, s.tenantID) {
		return sessionRef{}, User{}, false
	}
	return sessionRef{id: c.Value, seq: s.seq, authTime: s.authTime}, u, true
}

func (p *Provider) appAllowedIn(a App, tenantID string) bool {
	return a.MultiTenant || strings.EqualFold(a.HomeTenantID, tenantID)
}

// serveLogin handles every page's form post; the flow knows which page it
// is on, so a replayed or out-of-order post cannot skip a step.
func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, newSTSError(http.StatusBadRequest, "invalid_request", 90014, "The request was malformed: %v", err))
		return
	}
	f, ok := p.takeFlow(r.PostForm.Get("ctx"))
	if !ok {
		p.errorPage(w, r, newSTSError(http.StatusBadRequest, "invalid_request", 50089,
			"Authentication failed due to flow token expired. Have the user try signing-in again."))
		return
	}
	f.errText, f.errCode = "", ""
	action := r.PostForm.Get("action")
	switch f.step {
	case stepUsername:
		p.postUsername(w, r, f)
	case stepPassword:
		if action == "back" {
			f.step = stepUsername
			p.renderFlow(w, f)
			return
		}
		p.postPassword(w, r, f)
	case stepKMSI:
		if action == "yes" {
			p.startSession(w, f)
		}
		p.afterSignIn(w, r, f)
	case stepConsent:
		p.postConsent(w, r, f, action)
	case stepAdminApproval:
		if action == "switch" {
			f.step, f.user, f.loginHint = stepUsername, User{}, ""
			if f.tenantSeg != "" {
				if t, generic, _ := p.resolveTenant(f.tenantSeg); generic {
					f.tenant = t
				}
			}
			p.renderFlow(w, f)
			return
		}
		p.dropFlow(f.id)
		if f.kind == flowAdminConsent {
			p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "consent_required", 65004,
				"The resource owner or authorization server denied the request."))
			return
		}
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "access_denied", 90094,
			"The grant requires admin permission."))
	}
}

const (
	msgUnknownUser   = "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."
	msgWrongPassword = "Your account or password is incorrect. If you don't remember your password, reset it now."
	msgDisabled      = "Your account has been locked. Contact your support person to unlock it, then try again."
)

func (p *Provider) postUsername(w http.ResponseWriter, r *http.Request, f *flow) {
	name := strings.TrimSpace(r.PostForm.Get("loginfmt"))
	f.loginHint = name
	t := f.tenant
	if t.ID == "" {
		// Home realm discovery: the domain of the sign-in name picks the
		// tenant on the common and organizations endpoints.
		_, domain, found := strings.Cut(name, "@")
		var ok bool
		if t, ok = p.dir.TenantByIDOrDomain(domain); !found || !ok {
			f.errText, f.errCode = msgUnknownUser, "AADSTS50034"
			p.renderFlow(w, f)
			return
		}
	}
	u, ok := p.dir.UserBySignInName(t.ID, name)
	if name == "" || !ok {
		f.errText, f.errCode = msgUnknownUser, "AADSTS50034"
		if name == "" {
			f.errText, f.errCode = "Enter a valid email address, phone number, or Skype name.", ""
		}
		p.renderFlow(w, f)
		return
	}
	if !p.appAllowedIn(f.app, t.ID) {
		p.dropFlow(f.id)
		p.errorPage(w, r, errAppNotFound(f.clientID, t.DisplayName))
		return
	}
	f.tenant, f.user, f.step = t, u, stepPassword
	p.renderFlow(w, f)
}

func (p *Provider) postPassword(w http.ResponseWriter, r *http.Request, f *flow) {
	pw := r.PostForm.Get("passwd")
	if pw == "" {
		f.errText = "Please enter your password."
		p.renderFlow(w, f)
		return
	}
	if !p.dir.CheckPassword(f.tenant.ID, f.user.ID, pw) {
		f.errText, f.errCode = msgWrongPassword, "AADSTS50126: Error validating credentials due to invalid username or password."
		p.log.Info("identity: wrong password", slog.String("tenant", f.tenant.ID), slog.String("user", f.user.ID))
		p.renderFlow(w, f)
		return
	}
	// Re-read: the account may have changed since the username page.
	u, ok := p.dir.UserByID(f.tenant.ID, f.user.ID)
	if !ok {
		f.step, f.errText, f.errCode = stepUsername, msgUnknownUser, "AADSTS50034"
		p.renderFlow(w, f)
		return
	}
	if !u.Enabled {
		f.errText, f.errCode = msgDisabled, "AADSTS50057: The user account is disabled."
		p.renderFlow(w, f)
		return
	}
	p.mu.Lock()
	f.user, f.authTime, f.authSeq, f.step = u, p.now(), p.nextSeqLocked(), stepKMSI
	p.mu.Unlock()
	p.renderFlow(w, f)
}

func (p *Provider) startSession(w http.ResponseWriter, f *flow) {
	id := randomToken(32)
	p.mu.Lock()
	p.sessions[secretKey(id)] = &session{tenantID: f.tenant.ID, userID: f.user.ID, seq: f.authSeq, authTime: f.authTime, expires: p.now().Add(sessionLifetime)}
	p.mu.Unlock()
	p.changed()
	f.sessID = id
	http.SetCookie(w, &http.Cookie{Name: sessionCookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(sessionLifetime / time.Second)})
}

// afterSignIn decides, once the user is known, between consent pages and
// finishing.
func (p *Provider) afterSignIn(w http.ResponseWriter, r *http.Request, f *flow) {
	if f.kind == flowAdminConsent {
		if !CanConsentForTenant(f.user) || (len(f.roles) > 0 && !canGrantGraphAppRoles(f.user)) {
			f.step = stepAdminApproval
		} else {
			f.step = stepConsent
		}
		p.renderFlow(w, f)
		return
	}
	uncovered, consented := p.uncovered(f)
	if len(uncovered) == 0 && consented && f.prompt != "consent" {
		p.finishAuthorize(w, r, f)
		return
	}
	if f.prompt == "none" {
		p.dropFlow(f.id)
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "consent_required", 65001,
			"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", f.app.ClientID, f.app.DisplayName))
		return
	}
	needsAdmin := false
	for _, s := range uncovered {
		if IsAdminOnly(s) {
			needsAdmin = true
		}
	}
	if needsAdmin && !CanConsentForTenant(f.user) {
		f.step = stepAdminApproval
	} else {
		f.step = stepConsent
	}
	p.renderFlow(w, f)
}

// uncovered lists the flow's delegated permissions that neither the tenant
// nor the user has consented to, and whether any consent exists at all
// (without which even a sign-in-only request shows the consent page).
func (p *Provider) uncovered(f *flow) ([]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	base := strings.ToLower(f.tenant.ID) + "|" + strings.ToLower(f.clientID)
	tc := p.tenantConsent[base]
	uc := p.userConsent[base+"|"+strings.ToLower(f.user.ID)]
	consented := tc != nil || uc != nil
	var out []string
	for _, s := range f.graph {
		if (tc != nil && tc.delegated[s]) || uc[s] {
			continue
		}
		out = append(out, s)
	}
	return out, consented
}

func (p *Provider) postConsent(w http.ResponseWriter, r *http.Request, f *flow, action string) {
	if action != "accept" {
		p.dropFlow(f.id)
		p.redirectError(w, r, f, newSTSError(http.StatusBadRequest, "access_denied", 65004,
			"User declined to consent to access the app."))
		return
	}
	p.mu.Lock()
	base := strings.ToLower(f.tenant.ID) + "|" + strings.ToLower(f.clientID)
	switch {
	case f.kind == flowAdminConsent:
		p.grantTenantLocked(strings.ToLower(f.tenant.ID), f.clientID, append(f.graph, f.oidc...), f.roles)
	case r.PostForm.Get("ConsentOnBehalf") != "" && CanConsentForTenant(f.user):
		p.grantTenantLocked(strings.ToLower(f.tenant.ID), f.clientID, append(f.graph, f.oidc...), nil)
	default:
		k := base + "|" + strings.ToLower(f.user.ID)
		if p.userConsent[k] == nil {
			p.userConsent[k] = map[string]bool{}
		}
		for _, s := range append(f.graph, f.oidc...) {
			p.userConsent[k][s] = true
		}
	}
	p.mu.Unlock()
	p.changed()
	p.log.Info("identity: consent granted", slog.String("tenant", f.tenant.ID), slog.String("client_id", f.clientID), slog.String("user", f.user.ID))
	if f.kind == flowAdminConsent {
		p.dropFlow(f.id)
		q := url.Values{}
		q.Set("admin_consent", "True")
		q.Set("tenant", f.tenant.ID)
		q.Set("scope", f.scopeParam)
		if f.state != "" {
			q.Set("state", f.state)
		}
		p.respond(w, f, q)
		return
	}
	p.finishAuthorize(w, r, f)
}

// authCode is an issued, not yet redeemed authorization code.
type authCode struct {
	clientID, redirectURI, tenantID, userID string
	graph, oidc                             []string
	nonce, challenge                        string
	issued, authTime                        time.Time
	authSeq                                 uint64
	redeemed                                bool
}

func (p *Provider) finishAuthorize(w http.ResponseWriter, r *http.Request, f *flow) {
	p.dropFlow(f.id)
	code := "1.A" + randomToken(48)
	p.mu.Lock()
	p.codes[code] = &authCode{
		clientID: f.clientID, redirectURI: f.redirectURI, tenantID: f.tenant.ID, userID: f.user.ID,
		graph: f.graph, oidc: f.oidc, nonce: f.nonce, challenge: f.challenge,
		issued: p.now(), authTime: f.authTime, authSeq: f.authSeq,
	}
	p.mu.Unlock()
	q := url.Values{}
	q.Set("code", code)
	if f.state != "" {
		q.Set("state", f.state)
	}
	sessionState := f.sessID
	if sessionState == "" {
		sessionState = uuid.NewString()
	} else {
		sessionState = uuid.NewSHA1(uuid.NameSpaceOID, []byte(sessionState)).String()
	}
	q.Set("session_state", sessionState)
	p.log.Info("identity: authorization code issued", slog.String("tenant", f.tenant.ID), slog.String("client_id", f.clientID), slog.String("user", f.user.ID))
	p.respond(w, f, q)
}

// renderFlow shows the page for the flow's current step.
func (p *Provider) renderFlow(w http.ResponseWriter, f *flow) {
	p.saveFlow(f)
	d := flowPage{
		Ctx:       f.id,
		Action:    "/" + url.PathEscape(f.tenantSeg) + "/login",
		AppName:   f.app.DisplayName,
		LoginHint: f.loginHint,
		UserName:  f.user.UserPrincipalName,
		Error:     f.errText,
		ErrorCode: f.errCode,
	}
	if d.AppName == "" {
		d.AppName = f.app.ClientID
	}
	switch f.step {
	case stepUsername:
		d.Page = "username"
	case stepPassword:
		d.Page = "password"
	case stepKMSI:
		d.Page = "kmsi"
	case stepConsent:
		d.Page = "consent"
		d.AdminConsent = f.kind == flowAdminConsent
		d.OrgCheckbox = f.kind == flowAuthorize && CanConsentForTenant(f.user)
		for _, s := range f.oidc {
			d.Permissions = append(d.Permissions, permissionLine{Name: s, Description: describe(s)})
		}
		for _, s := range f.graph {
			d.Permissions = append(d.Permissions, permissionLine{Name: s, Description: describe(s), AdminOnly: IsAdminOnly(s)})
		}
		for _, s := range f.roles {
			d.Permissions = append(d.Permissions, permissionLine{Name: s, Description: describe(s) + " (application permission)", AdminOnly: true})
		}
	case stepAdminApproval:
		d.Page = "approval"
	default:
		panic(fmt.Sprintf("identity: flow in unknown step %d", f.step))
	}
	renderPage(w, http.StatusOK, d)
}
