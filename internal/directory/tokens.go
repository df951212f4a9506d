package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/store"
)

// MaxTokenDays is the longest expiry a token may be given, in days.
const MaxTokenDays = 3650

// TokenTouchEvery is how often a token's last use is written at most:
// a token in steady use costs one write a minute, not one per request.
const TokenTouchEvery = time.Minute

// TokenInput creates an API token. ExpiresInDays: 0 never expires.
type TokenInput struct {
	UserID        string // "" for the principal's own user
	Name          string
	ExpiresInDays int
}

// Token is an API token as lists show it: never its secret.
type Token struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	UserID     string    `json:"userId"`
	Owner      string    `json:"owner"` // the owner's email
	CreatedAt  time.Time `json:"createdAt"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	Expired    bool      `json:"expired"`
}

// IssueToken creates an API token for the principal's own user (or, for an
// Administrator or the CLI, for in.UserID), optionally expiring after
// in.ExpiresInDays days. The raw token is returned once.
func (s *Service) IssueToken(ctx context.Context, p *tenantlink.Principal, in TokenInput) (string, *Token, error) {
	if p == nil || (p.User == nil && p != tenantlink.System) {
		return "", nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "sign in first")
	}
	userID := in.UserID
	if userID == "" {
		if p.User == nil {
			return "", nil, tenantlink.Errorf(tenantlink.EINVALID, "say whose token it is")
		}
		userID = p.User.ID
	}
	if p.User == nil || p.User.ID != userID {
		if err := requireAdmin(p, "creating tokens for other users"); err != nil {
			return "", nil, err
		}
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "API token"
	}
	if err := checkText("name", name, 100); err != nil {
		return "", nil, err
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > MaxTokenDays {
		return "", nil, tenantlink.Errorf(tenantlink.EINVALID, "expiresInDays must be between 1 and %d (leave it out for a token that does not expire)", MaxTokenDays)
	}
	raw, hash := auth.NewToken("tl_")
	now := s.Now()
	t := &store.APIToken{UserID: userID, Name: name, Hash: hash, Prefix: raw[:7], CreatedAt: now}
	detail := name
	if in.ExpiresInDays > 0 {
		t.ExpiresAt = now.Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)
		detail += fmt.Sprintf(", expires in %d days", in.ExpiresInDays)
	}
	var owner string
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		owner = u.Email
		if err := tx.CreateAPIToken(ctx, t); err != nil {
			return err
		}
		return Audit(ctx, tx, t.CreatedAt, p, "token.create", "user:"+userID, "ok", detail)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return raw, s.tokenView(t, owner), nil
}

func (s *Service) tokenView(t *store.APIToken, owner string) *Token {
	return &Token{ID: t.ID, Name: t.Name, Prefix: t.Prefix, UserID: t.UserID, Owner: owner, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsed, Expired: expired(t, s.Now())}
}

func expired(t *store.APIToken, now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// ListTokens lists the principal's own tokens; an Administrator's list
// holds every user's. Secrets are never part of it.
func (s *Service) ListTokens(ctx context.Context, p *tenantlink.Principal) ([]*Token, error) {
	var (
		list []*store.APIToken
		err  error
	)
	switch {
	case p == tenantlink.System || p.Has(tenantlink.RoleAdministrator):
		list, err = s.Store.ListAllAPITokens(ctx)
	case p != nil && p.User != nil:
		list, err = s.Store.ListAPITokens(ctx, p.User.ID)
	default:
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "sign in first")
	}
	if err != nil {
		return nil, err
	}
	owners := map[string]string{}
	out := make([]*Token, 0, len(list))
	for _, t := range list {
		email, ok := owners[t.UserID]
		if !ok {
			u, err := s.Store.GetUser(ctx, t.UserID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if u != nil {
				email = u.Email
			}
			owners[t.UserID] = email
		}
		out = append(out, s.tokenView(t, email))
	}
	return out, nil
}

// errNoToken is the one answer for a token that is unknown or not the
// caller's to see: nobody learns which ids exist.
func errNoToken(id string) error {
	return tenantlink.Errorf(tenantlink.ENOTFOUND, "API token %q not found", id)
}

// Token reads one token (never its secret) by the rule RevokeToken
// applies: the principal's own, or anyone's for an Administrator; someone
// else's is "not found" for the others, exactly as an unknown id.
func (s *Service) Token(ctx context.Context, p *tenantlink.Principal, id string) (*Token, error) {
	if p == nil || (p.User == nil && p != tenantlink.System) {
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "sign in first")
	}
	admin := p == tenantlink.System || p.Has(tenantlink.RoleAdministrator)
	t, err := s.Store.GetAPITokenByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !admin && t.UserID != p.User.ID) {
		return nil, errNoToken(id)
	}
	if err != nil {
		return nil, err
	}
	var owner string
	u, err := s.Store.GetUser(ctx, t.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if u != nil {
		owner = u.Email
	}
	return s.tokenView(t, owner), nil
}

// RevokeToken deletes a token: the principal's own, or anyone's for an
// Administrator. Someone else's token is "not found" for the others.
func (s *Service) RevokeToken(ctx context.Context, p *tenantlink.Principal, id string) error {
	if p == nil || (p.User == nil && p != tenantlink.System) {
		return tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "sign in first")
	}
	admin := p == tenantlink.System || p.Has(tenantlink.RoleAdministrator)
	return s.Store.InTx(ctx, func(tx store.Store) error {
		t, err := tx.GetAPITokenByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !admin && t.UserID != p.User.ID) {
			return errNoToken(id)
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteAPIToken(ctx, id); err != nil {
			return err
		}
		return Audit(ctx, tx, s.Now(), p, "token.revoke", "user:"+t.UserID, "ok", t.Name+" ("+t.Prefix+"…)")
	})
}

// Authenticate resolves an API token to its active user. Unknown,
// expired and deactivated users' tokens get the same answer. A use is
// recorded at most once per TokenTouchEvery.
func (s *Service) Authenticate(ctx context.Context, raw string) (*tenantlink.User, error) {
	invalid := tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "The API token is not valid.")
	t, err := s.Store.GetAPIToken(ctx, auth.HashToken(raw))
	if err != nil {
		return nil, invalid
	}
	now := s.Now()
	if expired(t, now) {
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "The API token has expired.")
	}
	u, err := s.Store.GetUser(ctx, t.UserID)
	if err != nil || !u.Active {
		return nil, invalid
	}
	if notBefore := now.Add(-TokenTouchEvery); t.LastUsed.Before(notBefore) {
		if err := s.Store.TouchAPIToken(ctx, t.ID, now, notBefore); err != nil {
			// Last use is a hint for the owner; failing to write it must
			// not refuse the request.
			if s.Logger != nil {
				s.Logger.Warn("record API token use", "token", t.ID, "err", err)
			}
		}
	}
	return u, nil
}
