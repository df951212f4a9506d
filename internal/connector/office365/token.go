package office365

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// secretVersion lets a later format read older blobs.
const secretVersion = 1

// secret is the credential blob this connector hands the service as
// Grant.Secret; the service stores it encrypted and gives it back through
// CredentialStore. Application mode keeps no refresh token: a fresh token
// comes from client credentials each time.
type secret struct {
	V    int    `json:"v"`
	Mode string `json:"mode"`
	// Grant identifies one authorization. Refresh-token rotation keeps it;
	// re-authorizing changes it, which invalidates cached access tokens.
	Grant        string    `json:"grant"`
	Tenant       string    `json:"tenant"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Scopes       []string  `json:"scopes"`
	By           string    `json:"by"`
	ObjectID     string    `json:"oid,omitempty"`
	At           time.Time `json:"at"`
}

// LogValue keeps the refresh token out of logs even if a secret is logged
// by mistake.
func (s secret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mode", s.Mode), slog.String("tenant", s.Tenant), slog.String("grant", s.Grant))
}

func (s *secret) marshal() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("office365: encode credential: %w", err)
	}
	return b, nil
}

// loadSecret reads and checks ds's stored credential.
func loadSecret(ctx context.Context, creds connector.CredentialStore, dsID string) (*secret, error) {
	if creds == nil {
		return nil, fmt.Errorf("office365: load credential: %w", connector.ErrNotAuthorized)
	}
	b, err := creds.Load(ctx, dsID)
	if err != nil {
		return nil, fmt.Errorf("office365: load credential: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("office365: load credential: empty: %w", connector.ErrNotAuthorized)
	}
	var s secret
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("office365: decode credential: %w", err)
	}
	if s.V != secretVersion || !isGUID(s.Tenant) {
		return nil, fmt.Errorf("office365: credential has version %d, tenant %q: %w", s.V, s.Tenant, connector.ErrNotAuthorized)
	}
	if s.Mode == tenantlink.AuthDelegated && s.RefreshToken == "" {
		return nil, &tenantlink.Error{
			Code:    tenantlink.EUPSTREAM,
			Message: "The stored authorization has no refresh token: click Re-Authorize.",
			Err:     connector.ErrReauthorize,
		}
	}
	return &s, nil
}

// accessToken is a cached Graph access token for one data source.
type accessToken struct {
	grant   string // secret.Grant it was issued for
	value   string
	expiry  time.Time
	granted []string // permissions (delegated scp or application roles)
}

// expiryMargin renews a token this long before Microsoft's expiry so a
// request never leaves with a token that dies in flight.
const expiryMargin = 2 * time.Minute

// refreshTimeout bounds one shared refresh: it runs detached from the
// first caller's context, which may be cancelled while others still wait.
const refreshTimeout = 30 * time.Second

// cached returns ds's cached token for grant unless it is expiring or is
// reject (a token Graph just refused).
func (c *Connector) cached(dsID, grant, reject string) *accessToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.cache[dsID]
	if t == nil || t.grant != grant || t.value == reject || !c.now().Add(expiryMargin).Before(t.expiry) {
		return nil
	}
	return t
}

func (c *Connector) remember(dsID string, t *accessToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cache[dsID] = t
}

// forget drops ds's cached token, e.g. before a re-authorization.
func (c *Connector) forget(dsID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, dsID)
}

// token returns an access token for ds's grant, refreshing at most once at
// a time per data source; reject names a token Graph refused, to force a
// new one.
func (c *Connector) token(ctx context.Context, dsID string, creds connector.CredentialStore, grant, reject string) (*accessToken, error) {
	if t := c.cached(dsID, grant, reject); t != nil {
		return t, nil
	}
	ch := c.flight.DoChan(dsID, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return c.renew(ctx, dsID, creds, reject)
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("office365: token: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*accessToken), nil
	}
}

// renew gets a new access token from Microsoft. It runs inside the single
// flight, so it reloads the credential: another process (or an earlier
// flight) may have rotated the refresh token since the caller loaded it.
func (c *Connector) renew(ctx context.Context, dsID string, creds connector.CredentialStore, reject string) (*accessToken, error) {
	s, err := loadSecret(ctx, creds, dsID)
	if err != nil {
		return nil, err
	}
	// A flight that finished just before this one started may already have
	// what the caller needs.
	if t := c.cached(dsID, s.Grant, reject); t != nil {
		return t, nil
	}
	log := c.log.With("datasource", dsID, "tenant", s.Tenant, "mode", s.Mode)
	var t *accessToken
	switch s.Mode {
	case tenantlink.AuthApplication:
		t, err = c.appToken(ctx, s.Tenant)
	default:
		t, err = c.refresh(ctx, dsID, creds, s, log)
	}
	if err != nil {
		if errors.Is(err, connector.ErrReauthorize) {
			c.forget(dsID)
			log.WarnContext(ctx, "microsoft refused the stored grant", "reason", tenantlink.ErrorMessage(err))
		}
		return nil, err
	}
	t.grant = s.Grant
	c.remember(dsID, t)
	return t, nil
}

// tokenResponse is the token endpoint's success answer.
type tokenResponse struct {
	TokenType    string          `json:"token_type"`
	Scope        string          `json:"scope"`
	ExpiresIn    json.RawMessage `json:"expires_in"` // a number, or a string from older endpoints
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
}

func (r *tokenResponse) lifetime() time.Duration {
	s := strings.Trim(string(r.ExpiresIn), `"`)
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return time.Hour
	}
	return time.Duration(n) * time.Second
}

// refresh redeems the stored refresh token and saves the rotated one.
// x/oauth2 cannot send the scope parameter on a refresh, which the v2
// endpoint uses to pick the resource, so the request is made here.
func (c *Connector) refresh(ctx context.Context, dsID string, creds connector.CredentialStore, s *secret, log *slog.Logger) (*accessToken, error) {
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"grant_type":    {"refresh_token"},
		"refresh_token": {s.RefreshToken},
		"scope":         {strings.Join(c.delegatedScopes(s.Scopes), " ")},
	}
	tr, err := c.postToken(ctx, s.Tenant, form)
	if err != nil {
		return nil, c.refreshError(err, "refresh the access token")
	}
	t := &accessToken{value: tr.AccessToken, expiry: c.now().Add(tr.lifetime()), granted: grantedPermissions(tr.Scope)}
	if tr.RefreshToken != "" && tr.RefreshToken != s.RefreshToken {
		s.RefreshToken = tr.RefreshToken
		b, err := s.marshal()
		if err != nil {
			return nil, err
		}
		// The old refresh token may stop working once a new one is used,
		// so a rotation that cannot be saved is a failure, not a warning.
		if err := creds.Save(ctx, dsID, b); err != nil {
			return nil, fmt.Errorf("office365: save rotated refresh token: %w", err)
		}
		log.DebugContext(ctx, "refresh token rotated and saved")
	}
	log.DebugContext(ctx, "access token refreshed", "expires", t.expiry)
	return t, nil
}

// postToken makes a token request to {Authority}/{tenant}/oauth2/v2.0/token.
func (c *Connector) postToken(ctx context.Context, tenant string, form url.Values) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL(tenant), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("office365: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("office365: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("office365: token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, tokenErrorFrom(resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("office365: decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return nil, errors.New("office365: token response has no access_token")
	}
	return &tr, nil
}

func (c *Connector) tokenURL(tenant string) string {
	return c.cfg.Authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// oauthContext makes x/oauth2 use the configured HTTP client.
func (c *Connector) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.hc)
}

// appToken gets an app-only token with client credentials; it needs the
// tenant-specific endpoint (organizations gives AADSTS9001023).
func (c *Connector) appToken(ctx context.Context, tenant string) (*accessToken, error) {
	cc := clientcredentials.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		TokenURL:     c.tokenURL(tenant),
		Scopes:       []string{graphResource + ".default"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cc.Token(c.oauthContext(ctx))
	if err != nil {
		return nil, c.refreshError(err, "get an app-only token")
	}
	exp := tok.Expiry
	if exp.IsZero() {
		exp = c.now().Add(time.Hour)
	} else if tok.ExpiresIn > 0 {
		// x/oauth2 computes Expiry from the wall clock; the injected clock
		// is the one the cache compares against.
		exp = c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return &accessToken{value: tok.AccessToken, expiry: exp, granted: tokenRoles(tok.AccessToken)}, nil
}

// tokenRoles reads the roles claim of an access token's payload, only to
// explain what an admin consent covers. It is not validation: clients must
// not validate Graph tokens, whose format is Microsoft's to change.
func tokenRoles(raw string) []string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return nil
	}
	return claims.Roles
}

// randomString returns n random bytes, base64url-encoded, for state,
// nonce and grant ids.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
