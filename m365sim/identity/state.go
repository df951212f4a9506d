package identity

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// State is what the identity platform remembers across a restart: the
// signing key (so tokens issued before still verify and the JWKS does not
// change), app registrations, consents, refresh token grants, sign-in
// sessions and revocations. Authorization codes, sign-in flows in progress
// and the per-token revocation stamps are not part of it: they live minutes,
// and a token without a stamp is judged by its iat instead.
//
// Refresh tokens and session cookies are kept only as SHA-256 (TokenHash,
// IDHash), in memory as in State, so a saved State holds no usable token.
// It does hold the signing key and the apps' client secrets: store it
// readable by its owner only.
type State struct {
	Key           []byte              `json:"key"`         // PKCS #8 DER of the RSA signing key
	Certificate   []byte              `json:"certificate"` // DER of the certificate the JWKS publishes (its thumbprint is the kid)
	Seq           uint64              `json:"seq"`
	Apps          []App               `json:"apps"`
	Consents      []ConsentState      `json:"consents,omitempty"`
	UserConsents  []UserConsentState  `json:"userConsents,omitempty"`
	RefreshGrants []RefreshGrantState `json:"refreshGrants,omitempty"`
	Sessions      []SessionState      `json:"sessions,omitempty"`
	Revocations   []RevocationState   `json:"revocations,omitempty"`
}

// ConsentState is a tenant-wide consent (admin consent).
type ConsentState struct {
	TenantID  string   `json:"tenantId"`
	ClientID  string   `json:"clientId"`
	Delegated []string `json:"delegated,omitempty"`
	Roles     []string `json:"roles,omitempty"`
}

// UserConsentState is one user's consent to an app.
type UserConsentState struct {
	TenantID string   `json:"tenantId"`
	ClientID string   `json:"clientId"`
	UserID   string   `json:"userId"`
	Scopes   []string `json:"scopes"`
}

// RefreshGrantState is what one refresh token stands for.
type RefreshGrantState struct {
	TokenHash string    `json:"tokenHash"` // hex SHA-256 of the refresh token
	ClientID  string    `json:"clientId"`
	TenantID  string    `json:"tenantId"`
	UserID    string    `json:"userId"`
	Graph     []string  `json:"graph,omitempty"`
	OIDC      []string  `json:"oidc,omitempty"`
	Issued    time.Time `json:"issued"`
	AuthTime  time.Time `json:"authTime"`
	AuthSeq   uint64    `json:"authSeq"`
}

// SessionState is a sign-in session (the ESTSAUTHPERSISTENT cookie).
type SessionState struct {
	IDHash   string    `json:"idHash"` // hex SHA-256 of the cookie value
	TenantID string    `json:"tenantId"`
	UserID   string    `json:"userId"`
	Seq      uint64    `json:"seq"`
	AuthTime time.Time `json:"authTime"`
	Expires  time.Time `json:"expires"`
}

// RevocationState is a user's revokeSignInSessions.
type RevocationState struct {
	TenantID string    `json:"tenantId"`
	UserID   string    `json:"userId"`
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
}

// secretKey is how refresh tokens and session cookies are looked up: their
// SHA-256, so neither memory dumps of the maps nor a saved State hold them.
func secretKey(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// State returns a snapshot of what Options.Restore takes back, in a stable
// order. Refresh grants past the 90-day inactivity window and expired
// sessions are left out: they could never be used again.
func (p *Provider) State() (State, error) {
	key, err := x509.MarshalPKCS8PrivateKey(p.signer.key)
	if err != nil {
		return State{}, fmt.Errorf("identity: state: encode signing key: %w", err)
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := State{Key: key, Certificate: append([]byte(nil), p.signer.cert...), Seq: p.seq}
	for _, a := range p.apps {
		a.RedirectURIs = append([]string(nil), a.RedirectURIs...)
		a.DelegatedPermissions = append([]string(nil), a.DelegatedPermissions...)
		a.ApplicationPermissions = append([]string(nil), a.ApplicationPermissions...)
		st.Apps = append(st.Apps, a)
	}
	sort.Slice(st.Apps, func(i, j int) bool {
		return strings.ToLower(st.Apps[i].ClientID) < strings.ToLower(st.Apps[j].ClientID)
	})
	for k, c := range p.tenantConsent {
		parts := strings.Split(k, "|")
		st.Consents = append(st.Consents, ConsentState{TenantID: parts[0], ClientID: parts[1], Delegated: setList(c.delegated), Roles: setList(c.roles)})
	}
	sort.Slice(st.Consents, func(i, j int) bool {
		return st.Consents[i].TenantID+"|"+st.Consents[i].ClientID < st.Consents[j].TenantID+"|"+st.Consents[j].ClientID
	})
	for k, scopes := range p.userConsent {
		parts := strings.Split(k, "|")
		st.UserConsents = append(st.UserConsents, UserConsentState{TenantID: parts[0], ClientID: parts[1], UserID: parts[2], Scopes: setList(scopes)})
	}
	sort.Slice(st.UserConsents, func(i, j int) bool {
		a, b := st.UserConsents[i], st.UserConsents[j]
		return a.TenantID+"|"+a.ClientID+"|"+a.UserID < b.TenantID+"|"+b.ClientID+"|"+b.UserID
	})
	for h, g := range p.refresh {
		if now.Sub(g.issued) > refreshMaxInactive {
			continue
		}
		st.RefreshGrants = append(st.RefreshGrants, RefreshGrantState{
			TokenHash: h, ClientID: g.clientID, TenantID: g.tenantID, UserID: g.userID,
			Graph: append([]string(nil), g.graph...), OIDC: append([]string(nil), g.oidc...),
			Issued: g.issued, AuthTime: g.authTime, AuthSeq: g.authSeq,
		})
	}
	sort.Slice(st.RefreshGrants, func(i, j int) bool { return st.RefreshGrants[i].TokenHash < st.RefreshGrants[j].TokenHash })
	for h, s := range p.sessions {
		if now.After(s.expires) {
			continue
		}
		st.Sessions = append(st.Sessions, SessionState{IDHash: h, TenantID: s.tenantID, UserID: s.userID, Seq: s.seq, AuthTime: s.authTime, Expires: s.expires})
	}
	sort.Slice(st.Sessions, func(i, j int) bool { return st.Sessions[i].IDHash < st.Sessions[j].IDHash })
	for k, r := range p.revoked {
		parts := strings.Split(k, "|")
		st.Revocations = append(st.Revocations, RevocationState{TenantID: parts[0], UserID: parts[1], Seq: r.seq, At: r.at})
	}
	sort.Slice(st.Revocations, func(i, j int) bool {
		return st.Revocations[i].TenantID+"|"+st.Revocations[i].UserID < st.Revocations[j].TenantID+"|"+st.Revocations[j].UserID
	})
	return st, nil
}

func setList(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// restore builds a Provider from a saved State.
func restore(o Options, st State) (*Provider, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("identity: restore: "+format, a...)
	}
	k, err := x509.ParsePKCS8PrivateKey(st.Key)
	if err != nil {
		return nil, bad("signing key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, bad("signing key is a %T, want RSA", k)
	}
	cert, err := x509.ParseCertificate(st.Certificate)
	if err != nil {
		return nil, bad("signing certificate: %w", err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, bad("the signing certificate is not the signing key's")
	}
	signer, err := keySignerFor(key, st.Certificate)
	if err != nil {
		return nil, bad("%w", err)
	}
	p := &Provider{dir: o.Directory, now: o.Now, log: o.Logger, signer: signer, base: "http://127.0.0.1", apps: map[string]App{}, onChange: o.OnChange}
	p.resetLocked()
	p.seq = st.Seq
	for _, a := range st.Apps {
		if a.ClientID == "" {
			return nil, bad("an app registration has no client id")
		}
		p.apps[strings.ToLower(a.ClientID)] = a
	}
	for _, c := range st.Consents {
		if c.TenantID == "" || c.ClientID == "" {
			return nil, bad("a consent lacks its tenant or client id")
		}
		p.tenantConsent[strings.ToLower(c.TenantID)+"|"+strings.ToLower(c.ClientID)] = &consent{delegated: setOf(c.Delegated), roles: setOf(c.Roles)}
	}
	for _, c := range st.UserConsents {
		if c.TenantID == "" || c.ClientID == "" || c.UserID == "" {
			return nil, bad("a user consent lacks its tenant, client or user id")
		}
		p.userConsent[strings.ToLower(c.TenantID)+"|"+strings.ToLower(c.ClientID)+"|"+strings.ToLower(c.UserID)] = setOf(c.Scopes)
	}
	for _, g := range st.RefreshGrants {
		if !isHash(g.TokenHash) || g.ClientID == "" || g.TenantID == "" || g.UserID == "" {
			return nil, bad("a refresh token grant lacks its hash, client, tenant or user id")
		}
		p.refresh[g.TokenHash] = &refreshGrant{
			clientID: g.ClientID, tenantID: g.TenantID, userID: g.UserID, graph: g.Graph, oidc: g.OIDC,
			issued: g.Issued, authTime: g.AuthTime, authSeq: g.AuthSeq,
		}
	}
	for _, s := range st.Sessions {
		if !isHash(s.IDHash) || s.TenantID == "" || s.UserID == "" {
			return nil, bad("a session lacks its hash, tenant or user id")
		}
		p.sessions[s.IDHash] = &session{tenantID: s.TenantID, userID: s.UserID, seq: s.Seq, authTime: s.AuthTime, expires: s.Expires}
	}
	for _, r := range st.Revocations {
		if r.TenantID == "" || r.UserID == "" {
			return nil, bad("a revocation lacks its tenant or user id")
		}
		p.revoked[userKey(r.TenantID, r.UserID)] = revocation{seq: r.Seq, at: r.At}
	}
	return p, nil
}

func isHash(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
