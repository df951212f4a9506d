package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// PurposeLink marks pending links (a Microsoft sign-in waiting for the
// local password of the account it would be linked to) in the OAuth state
// table.
const PurposeLink = "sso_link"

// LinkTTL is how long a pending link waits for the password, and
// LinkAttempts how many wrong passwords it takes before it is dropped
// (each also counts against the sign-in limiter, which the local sign-in
// shares).
const (
	LinkTTL      = 10 * time.Minute
	LinkAttempts = 3
)

const msgLinkAgain = "This confirmation is unknown, expired or already used: sign in with Microsoft again."

// pendingLink is what a pending link remembers. It is stored sealed (in
// the state's secret field), since it names accounts.
type pendingLink struct {
	DataSource string    `json:"datasource"`
	UserID     string    `json:"userId"`
	Tenant     string    `json:"tenant"`
	ObjectID   string    `json:"objectId"`
	Name       string    `json:"name"` // the Microsoft account, for the audit log
	Attempts   int       `json:"attempts"`
	Expires    time.Time `json:"expires"`
	Next       string    `json:"next"`
}

// LinkPrompt is a pending link as the confirmation page shows it. Token
// is single use and goes to the browser (a cookie): every view and every
// answer spends it and hands out the next. CSRF goes into the form.
type LinkPrompt struct {
	Email string // the tenantlink account whose password is asked for
	Token string
	CSRF  string
}

// putLink stores p under a new token.
func (s *Service) putLink(ctx context.Context, st store.Store, p pendingLink) (*LinkPrompt, error) {
	u, err := st.GetUser(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("sso: pending link: %w", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("sso: pending link: %w", err)
	}
	out := &LinkPrompt{Email: u.Email, Token: rand.Text(), CSRF: rand.Text()}
	err = st.PutOAuthState(ctx, &store.OAuthState{State: out.Token, Purpose: PurposeLink, DataSourceID: p.DataSource,
		UserID: p.UserID, Nonce: out.CSRF, Verifier: string(b), ReturnTo: p.Next, ExpiresAt: p.Expires})
	if err != nil {
		return nil, fmt.Errorf("sso: pending link: %w", err)
	}
	return out, nil
}

// takeLink spends token and returns its pending link and form token.
func (s *Service) takeLink(ctx context.Context, token string) (*pendingLink, string, error) {
	if token == "" || len(token) > 512 {
		return nil, "", tenantlink.Errorf(tenantlink.EINVALID, msgLinkAgain)
	}
	st, err := s.Store.TakeOAuthState(ctx, token, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", tenantlink.Errorf(tenantlink.EINVALID, msgLinkAgain)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sso: pending link: %w", err)
	}
	var p pendingLink
	if st.Purpose != PurposeLink || json.Unmarshal([]byte(st.Verifier), &p) != nil {
		return nil, "", tenantlink.Errorf(tenantlink.EINVALID, msgLinkAgain)
	}
	return &p, st.Nonce, nil
}

// Link shows the pending link token names, spending token: the prompt
// returned carries its successor.
func (s *Service) Link(ctx context.Context, token string) (*LinkPrompt, error) {
	p, _, err := s.takeLink(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.putLink(ctx, s.Store, *p)
}

// ConfirmLink links the pending Microsoft account to the local account
// once password is that account's. client is the caller's address, for
// the limiter and the audit log. A wrong password is counted by the
// sign-in limiter under the same keys as the local sign-in, audited, and
// answered with a new prompt while attempts remain (nil otherwise).
func (s *Service) ConfirmLink(ctx context.Context, token, csrf, password, client string) (*Result, *LinkPrompt, error) {
	p, want, err := s.takeLink(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if csrf == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(want)) != 1 {
		return nil, nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "This confirmation form does not belong to this sign-in: sign in with Microsoft again.")
	}
	u, err := s.Store.GetUser(ctx, p.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, tenantlink.Errorf(tenantlink.EINVALID, msgLinkAgain)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sso: confirm link: %w", err)
	}
	deny := func(reason string) error {
		who := &tenantlink.Principal{User: &tenantlink.User{Email: p.Name}}
		return directory.Audit(ctx, s.Store, s.now(), who, "user.link", "user:"+u.ID, "denied",
			fmt.Sprintf("single sign-on as %s (object id %s) from %s: %s", p.Name, p.ObjectID, client, reason))
	}
	lim := s.limiter()
	emailKey := "email:" + strings.ToLower(strings.TrimSpace(u.Email))
	for _, key := range []string{emailKey, "client:" + client} {
		if ok, wait := lim.Allowed(key); !ok {
			next, err := s.putLink(ctx, s.Store, *p)
			if err != nil {
				return nil, nil, err
			}
			if err := deny("too many failed sign-ins"); err != nil {
				return nil, nil, err
			}
			return nil, next, tenantlink.Errorf(tenantlink.ETOOMANY, "Too many failed sign-ins. Try again in %s.", wait.Round(time.Second))
		}
	}
	if !auth.CheckPasswordOrDummy(u.PasswordHash, password) {
		lim.Fail(emailKey)
		lim.Fail("client:" + client)
		p.Attempts--
		if err := deny(fmt.Sprintf("wrong password for %s (%d attempts left)", u.Email, p.Attempts)); err != nil {
			return nil, nil, err
		}
		if p.Attempts <= 0 {
			return nil, nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "The password is incorrect, and this sign-in has no attempts left: sign in with Microsoft again.")
		}
		next, err := s.putLink(ctx, s.Store, *p)
		if err != nil {
			return nil, nil, err
		}
		return nil, next, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "The password is incorrect.")
	}
	lim.Succeed(emailKey)

	set, err := s.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	ds, _, err := s.activeDataSource(ctx, set)
	if err != nil {
		return nil, nil, err
	}
	if ds.ID != p.DataSource || !strings.EqualFold(ds.Account, p.Tenant) {
		return nil, nil, tenantlink.Errorf(tenantlink.EINVALID, "The single sign-on settings changed during this sign-in: sign in again.")
	}
	var refusal error
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		now := s.now()
		u, err := tx.GetUser(ctx, p.UserID)
		if err != nil {
			return err
		}
		switch other, err := tx.GetUserByExternalID(ctx, p.Tenant, p.ObjectID); {
		case !u.Active:
			refusal = tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgInactive)
		case u.Source != nil:
			refusal = tenantlink.Errorf(tenantlink.ECONFLICT, "The tenantlink user %s was linked to another Microsoft account meanwhile: ask an administrator.", u.Email)
		case err == nil:
			refusal = tenantlink.Errorf(tenantlink.ECONFLICT, "Your Microsoft account was linked to the tenantlink user %s meanwhile: sign in with Microsoft again.", other.Email)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if refusal != nil {
			return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: u}, "user.link", "user:"+u.ID, "denied", tenantlink.ErrorMessage(refusal))
		}
		u.Source = &tenantlink.UserSource{DataSource: ds.ID, ObjectID: p.ObjectID, Tenant: p.Tenant}
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		pr := &tenantlink.Principal{User: u}
		if err := directory.Audit(ctx, tx, now, pr, "user.link", "user:"+u.ID, "ok",
			fmt.Sprintf("linked at single sign-on to Microsoft account %s (object id %s, tenant %s) of data source %q, confirmed with its tenantlink password", p.Name, p.ObjectID, p.Tenant, ds.Name)); err != nil {
			return err
		}
		return directory.Audit(ctx, tx, now, pr, "session.create", "user:"+u.ID, "ok",
			fmt.Sprintf("single sign-on as %s (object id %s) from %s", p.Name, p.ObjectID, client))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sso: confirm link: %w", err)
	}
	if refusal != nil {
		return nil, nil, refusal
	}
	u, err = s.Store.GetUser(ctx, p.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("sso: confirm link: %w", err)
	}
	next := p.Next
	if next == "" {
		next = SafeNext("")
	}
	return &Result{User: u, Next: next, Linked: true}, nil, nil
}
