package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// keySigner holds the signing key and the self-signed certificate that the
// JWKS publishes, as Microsoft publishes its keys with x5c and x5t.
type keySigner struct {
	key    *rsa.PrivateKey
	cert   []byte // DER
	kid    string // Microsoft uses the certificate thumbprint as kid too
	signer jose.Signer
}

func newKeySigner(key *rsa.PrivateKey, now time.Time) (*keySigner, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create signing certificate: %w", err)
	}
	return keySignerFor(key, der)
}

// keySignerFor signs with key and publishes der, the certificate made for
// it (by newKeySigner, or restored from a saved State).
func keySignerFor(key *rsa.PrivateKey, der []byte) (*keySigner, error) {
	sum := sha1.Sum(der) // x5t is defined as the SHA-1 thumbprint
	kid := base64.RawURLEncoding.EncodeToString(sum[:])
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		return nil, fmt.Errorf("create token signer: %w", err)
	}
	return &keySigner{key: key, cert: der, kid: kid, signer: signer}, nil
}

func (s *keySigner) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return obj.CompactSerialize()
}

// pairwiseSub is the id token's sub: stable per user and app, different
// across apps, as the id token reference describes.
func pairwiseSub(tenantID, userID, clientID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(tenantID + "|" + userID + "|" + clientID)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// servicePrincipalID is the object id of clientID's service principal in a
// tenant: stable, so app-only tokens always carry the same oid.
func servicePrincipalID(tenantID, clientID string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("serviceprincipal:"+strings.ToLower(tenantID)+"/"+strings.ToLower(clientID))).String()
}

func (p *Provider) stsIssuer(tenantID string) string {
	return "https://sts.windows.net/" + tenantID + "/"
}

func (p *Provider) v2Issuer(tenantID string) string { return p.baseURL() + "/" + tenantID + "/v2.0" }

// delegatedAccessToken mints a v1.0 Graph access token for a user.
func (p *Provider) delegatedAccessToken(t Tenant, u User, a App, graphScopes, oidc []string, now time.Time) (string, error) {
	var scp []string
	scp = append(scp, graphScopes...)
	for _, s := range oidc {
		if s != "offline_access" {
			scp = append(scp, s)
		}
	}
	if len(scp) == 0 {
		scp = []string{"User.Read"}
	}
	uti := p.recordIssued()
	claims := map[string]any{
		"aud":             graphResource,
		"iss":             p.stsIssuer(t.ID),
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(accessTokenLifetime).Unix(),
		"acr":             "1",
		"amr":             []string{"pwd"},
		"app_displayname": a.DisplayName,
		"appid":           a.ClientID,
		"appidacr":        "1",
		"family_name":     u.Surname,
		"given_name":      u.GivenName,
		"idtyp":           "user",
		"name":            u.DisplayName,
		"oid":             u.ID,
		"scp":             strings.Join(scp, " "),
		"sub":             pairwiseSub(t.ID, u.ID, graphAppID),
		"tid":             t.ID,
		"unique_name":     u.UserPrincipalName,
		"upn":             u.UserPrincipalName,
		"uti":             uti,
		"ver":             "1.0",
		"wids":            wids(u),
	}
	return p.signer.sign(claims)
}

// appAccessToken mints a v1.0 Graph access token for the app itself.
func (p *Provider) appAccessToken(t Tenant, a App, roles []string, now time.Time) (string, error) {
	sp := servicePrincipalID(t.ID, a.ClientID)
	uti := p.recordIssued()
	claims := map[string]any{
		"aud":             graphResource,
		"iss":             p.stsIssuer(t.ID),
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(accessTokenLifetime).Unix(),
		"app_displayname": a.DisplayName,
		"appid":           a.ClientID,
		"appidacr":        "1",
		"idp":             p.stsIssuer(t.ID),
		"idtyp":           "app",
		"oid":             sp,
		"sub":             sp,
		"tid":             t.ID,
		"uti":             uti,
		"ver":             "1.0",
	}
	if len(roles) > 0 {
		claims["roles"] = roles
	}
	return p.signer.sign(claims)
}

// idToken mints a v2.0 id token per the id token claims reference.
func (p *Provider) idToken(t Tenant, u User, a App, oidc []string, nonce string, now time.Time) (string, error) {
	claims := map[string]any{
		"aud": a.ClientID,
		"iss": p.v2Issuer(t.ID),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(idTokenLifetime).Unix(),
		"sub": pairwiseSub(t.ID, u.ID, a.ClientID),
		"tid": t.ID,
		"uti": uuid.NewString(),
		"ver": "2.0",
	}
	has := func(s string) bool {
		for _, x := range oidc {
			if x == s {
				return true
			}
		}
		return false
	}
	if has("profile") {
		claims["oid"] = u.ID
		claims["name"] = u.DisplayName
		claims["preferred_username"] = u.UserPrincipalName
	}
	if has("email") {
		if u.Mail != "" {
			claims["email"] = u.Mail
		}
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return p.signer.sign(claims)
}

// recordIssued stamps an access token so that a later revocation can refuse
// it even within the same clock second.
func (p *Provider) recordIssued() string {
	uti := strings.TrimRight(base64.RawURLEncoding.EncodeToString(uuidBytes()), "=")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issued[uti] = p.nextSeqLocked()
	return uti
}

func uuidBytes() []byte {
	u := uuid.New()
	return u[:]
}

// accessClaims is what VerifyAccessToken reads from a token.
type accessClaims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Exp   int64    `json:"exp"`
	Nbf   int64    `json:"nbf"`
	Iat   int64    `json:"iat"`
	Tid   string   `json:"tid"`
	Oid   string   `json:"oid"`
	AppID string   `json:"appid"`
	Scp   string   `json:"scp"`
	Roles []string `json:"roles"`
	Idtyp string   `json:"idtyp"`
	Uti   string   `json:"uti"`
}

// Graph's messages for refused tokens.
const (
	msgTokenMalformed   = "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format."
	msgTokenSignature   = "Access token validation failure. Invalid signature."
	msgTokenAudience    = "Access token validation failure. Invalid audience."
	msgTokenIssuer      = "Access token validation failure. Invalid issuer."
	msgTokenExpired     = "Lifetime validation failed, the token is expired."
	msgTokenNotYetValid = "Lifetime validation failed, the token is not yet valid."
	msgTokenRevoked     = "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokensRevoked"
	msgUserDisabled     = "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: UserDisabled"
)

func invalidToken(msg string) *TokenError {
	return &TokenError{Code: "InvalidAuthenticationToken", Message: msg}
}

// VerifyAccessToken checks a Graph access token the way Graph does: our
// signature, Graph as audience, the tenant's sts issuer, lifetime, and
// (continuous access evaluation) that the user was neither revoked after
// the token was issued nor disabled or deleted since. A refusal is a
// *TokenError for Graph's 401 InvalidAuthenticationToken answer.
func (p *Provider) VerifyAccessToken(raw string) (*AccessToken, error) {
	raw = strings.TrimSpace(raw)
	if strings.Count(raw, ".") != 2 {
		return nil, invalidToken(msgTokenMalformed)
	}
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, invalidToken(msgTokenMalformed)
	}
	if len(obj.Signatures) != 1 || obj.Signatures[0].Header.KeyID != p.signer.kid {
		return nil, invalidToken(msgTokenSignature)
	}
	payload, err := obj.Verify(&p.signer.key.PublicKey)
	if err != nil {
		return nil, invalidToken(msgTokenSignature)
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalidToken(msgTokenMalformed)
	}
	if c.Aud != graphResource && c.Aud != graphAppID && c.Aud != graphResource+"/" {
		return nil, invalidToken(msgTokenAudience)
	}
	if c.Tid == "" || c.Iss != p.stsIssuer(c.Tid) {
		return nil, invalidToken(msgTokenIssuer)
	}
	if _, ok := p.dir.TenantByIDOrDomain(c.Tid); !ok {
		return nil, invalidToken(msgTokenIssuer)
	}
	now := p.now()
	if now.Unix() >= c.Exp {
		return nil, invalidToken(msgTokenExpired)
	}
	if now.Unix() < c.Nbf-300 { // Microsoft allows five minutes of clock skew
		return nil, invalidToken(msgTokenNotYetValid)
	}
	if c.Idtyp != "app" {
		u, ok := p.dir.UserByID(c.Tid, c.Oid)
		if !ok || !u.Enabled {
			return nil, invalidToken(msgUserDisabled)
		}
		p.mu.Lock()
		seq, known := p.issued[c.Uti]
		r, wasRevoked := p.revoked[userKey(c.Tid, c.Oid)]
		p.mu.Unlock()
		if wasRevoked && ((known && seq <= r.seq) || (!known && c.Iat <= r.at.Unix())) {
			return nil, invalidToken(msgTokenRevoked)
		}
	}
	var scopes []string
	if c.Scp != "" {
		scopes = strings.Fields(c.Scp)
	}
	at := &AccessToken{
		TenantID:  c.Tid,
		ObjectID:  c.Oid,
		AppID:     c.AppID,
		Scopes:    scopes,
		Roles:     c.Roles,
		ExpiresAt: time.Unix(c.Exp, 0).UTC(),
	}
	return at, nil
}
