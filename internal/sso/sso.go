// Package sso owns single sign-on (docs/SPEC.md §7): the "sso"
// settings document (which Office 365 data source people sign in with,
// auto redirect, the bypass group, creating users at first sign-in), the
// sign-in flow's bookkeeping around the connector's OpenID Connect code
// flow (single-use state bound to the browser, return path), matching the
// Microsoft account to a directory user (by tenant id and object id; a
// user not linked yet is linked when the tenant has verified the
// userPrincipalName that equals its email, or when the person enters its
// local password; never by the email claim) or creating one, and the rule that keeps
// the local sign-in for the bypass group once auto redirect is on. Every
// sign-in, link and creation is audited. HTTP lives in package web; this
// package never sees a request.
package sso

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// SettingKey is the store setting holding Settings as JSON.
const SettingKey = "sso"

// Purpose marks single sign-on states in the OAuth state table.
const Purpose = "sso"

// StateTTL is how long a started sign-in may take: Microsoft's code lives
// about 10 minutes, and a sign-in page left open longer should start over.
const StateTTL = 10 * time.Minute

// Settings are the single sign-on settings (docs/SPEC.md §12).
type Settings struct {
	Enabled      bool   `json:"enabled"`
	DataSource   string `json:"datasource"`
	AutoRedirect bool   `json:"autoRedirect"`
	BypassGroup  string `json:"bypassGroup"`
	CreateUsers  bool   `json:"createUsers"`
}

// Messages people see; tests and pages match them.
const (
	MsgNotUser    = "Your Microsoft account is not a tenantlink user: ask an administrator."
	MsgUseSSO     = "Use Sign in with Microsoft."
	MsgInactive   = "Your tenantlink account is disabled: ask an administrator."
	MsgNotEnabled = "Single sign-on is not enabled: sign in with your email and password."
	// MsgConfirmLink heads the page that asks for a local password before
	// a Microsoft account is linked to an existing tenantlink account.
	MsgConfirmLink = "An account with this email exists. Enter its tenantlink password to link it."
	msgStateAgain  = "This sign-in answer is unknown, expired or already used: sign in again."
	msgOtherBrowse = "This sign-in was started in another browser: sign in again."
)

// Service runs single sign-on.
type Service struct {
	Store store.Store
	// Connectors are the connector types by type; the data source's must
	// implement connector.SignInProvider.
	Connectors map[string]connector.Connector
	// CallbackURL is the redirect URI Microsoft returns to
	// ({public URL}/auth/sso/callback).
	CallbackURL string
	Now         func() time.Time
	Logger      *slog.Logger
	// Credentials are the data sources' stored grants; linking an account
	// reads who it is through them (connector.AccountReader).
	Credentials connector.CredentialStore
	// Limiter counts wrong passwords on the link confirmation; the app
	// shares the local sign-in's, so both count against the same keys.
	Limiter *auth.Limiter
	// Starts limits the sign-ins one client address may start
	// (StartsPerMinute by default), and MaxPending caps the sign-ins
	// started and not finished, across all clients (DefaultMaxPending).
	Starts     *auth.Limiter
	MaxPending int

	once sync.Once
}

// Bounds on anonymous sign-in starts: each stores a state row until it is
// used or expires (StateTTL).
const (
	StartsPerMinute   = 100
	DefaultMaxPending = 10_000
)

func (s *Service) init() {
	s.once.Do(func() {
		if s.Limiter == nil {
			s.Limiter = auth.NewLimiter(5, 5*time.Minute)
		}
		if s.Starts == nil {
			s.Starts = auth.NewLimiter(StartsPerMinute, time.Minute)
		}
		if s.MaxPending <= 0 {
			s.MaxPending = DefaultMaxPending
		}
	})
}

func (s *Service) limiter() *auth.Limiter {
	s.init()
	return s.Limiter
}

func (s *Service) now() time.Time { return tenantlink.Now(s.Now) }

func (s *Service) log() *slog.Logger { return tenantlink.LoggerOr(s.Logger) }

func requireAdmin(p *tenantlink.Principal, what string) error {
	if p == tenantlink.System || p.Has(tenantlink.RoleAdministrator) {
		return nil
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s needs the Administrator role.", what)
}

// Current returns the stored settings (all off when none are stored)
// without an access check: the sign-in page and the local sign-in rule
// read them for anonymous callers.
func (s *Service) Current(ctx context.Context) (Settings, error) {
	return current(ctx, s.Store)
}

func current(ctx context.Context, st store.Store) (Settings, error) {
	var out Settings
	b, err := st.GetSetting(ctx, SettingKey)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("sso: read settings: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("sso: decode settings: %w", err)
	}
	return out, nil
}

// Get returns the settings (Administrator only).
func (s *Service) Get(ctx context.Context, p *tenantlink.Principal) (Settings, error) {
	if err := requireAdmin(p, "Reading the single sign-on settings"); err != nil {
		return Settings{}, err
	}
	return s.Current(ctx)
}

// Put validates and replaces the settings (Administrator only). Nothing
// is stored unless every field is valid.
func (s *Service) Put(ctx context.Context, p *tenantlink.Principal, in Settings) (Settings, error) {
	if err := requireAdmin(p, "Changing the single sign-on settings"); err != nil {
		return Settings{}, err
	}
	in.DataSource = strings.TrimSpace(in.DataSource)
	in.BypassGroup = strings.TrimSpace(in.BypassGroup)
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		if err := validate(ctx, tx, in); err != nil {
			return err
		}
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("sso: encode settings: %w", err)
		}
		if err := tx.PutSetting(ctx, SettingKey, b); err != nil {
			return err
		}
		return directory.Audit(ctx, tx, s.now(), p, "sso.settings", "settings:sso", "ok", string(b))
	})
	if err != nil {
		return Settings{}, fmt.Errorf("sso: save settings: %w", err)
	}
	return in, nil
}

// validate checks settings against the directory and data sources.
func validate(ctx context.Context, st store.Store, in Settings) error {
	if len(in.DataSource) > 100 || len(in.BypassGroup) > 100 {
		return tenantlink.Errorf(tenantlink.EINVALID, "datasource and bypassGroup are ids of at most 100 characters")
	}
	if in.Enabled && in.DataSource == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "datasource is required to enable single sign-on: choose an Office 365 data source with Enable Azure OpenID Connect Single-Sign-On on")
	}
	if in.DataSource != "" {
		ds, err := st.GetDataSource(ctx, in.DataSource)
		if errors.Is(err, store.ErrNotFound) {
			return tenantlink.Errorf(tenantlink.EINVALID, "datasource %q does not exist", in.DataSource)
		}
		if err != nil {
			return err
		}
		if in.Enabled {
			if err := qualifies(ds); err != nil {
				return err
			}
		}
	}
	if in.AutoRedirect && !in.Enabled {
		return tenantlink.Errorf(tenantlink.EINVALID, "autoRedirect needs single sign-on enabled")
	}
	if in.AutoRedirect && in.BypassGroup == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "autoRedirect needs a bypassGroup: its members keep the local sign-in (/login?local=1), so that tenantlink stays reachable when Microsoft is not")
	}
	if in.BypassGroup != "" {
		if _, err := st.GetGroup(ctx, in.BypassGroup); errors.Is(err, store.ErrNotFound) {
			return tenantlink.Errorf(tenantlink.EINVALID, "bypassGroup %q is not a directory group", in.BypassGroup)
		} else if err != nil {
			return err
		}
	}
	if in.Enabled && in.AutoRedirect {
		g, err := st.GetGroup(ctx, in.BypassGroup)
		if err != nil {
			return err
		}
		ok, err := canRescue(ctx, st, g)
		if err != nil {
			return err
		}
		if !ok {
			return tenantlink.Errorf(tenantlink.EINVALID, MsgNoRescuer, g.Name)
		}
	}
	return nil
}

// MsgNoRescuer refuses auto redirect whose bypass group could not let any
// Administrator in with a password.
const MsgNoRescuer = "autoRedirect needs an active Administrator with a tenantlink password in the bypass group %q: otherwise, once signed out, no Administrator could sign in without Microsoft. Add one to the group (and give it a password) first."

// canRescue reports whether g has a member who can sign in with a password
// and administer tenantlink: active, holding the Administrator role
// (directly or through a group) and with a local password.
func canRescue(ctx context.Context, st store.Store, g *tenantlink.Group) (bool, error) {
	for _, id := range g.Members {
		u, err := st.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if !u.Active || u.PasswordHash == "" {
			continue
		}
		admin, err := hasRole(ctx, st, u, tenantlink.RoleAdministrator)
		if err != nil {
			return false, err
		}
		if admin {
			return true, nil
		}
	}
	return false, nil
}

// hasRole reports whether u holds one of roles, directly or through a
// group.
func hasRole(ctx context.Context, st store.Store, u *tenantlink.User, roles ...tenantlink.Role) (bool, error) {
	if slices.ContainsFunc(roles, u.HasRole) {
		return true, nil
	}
	for _, gid := range u.Groups {
		g, err := st.GetGroup(ctx, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(roles, func(r tenantlink.Role) bool { return slices.Contains(g.Roles, r) }) {
			return true, nil
		}
	}
	return false, nil
}

// Disable turns single sign-on and auto redirect off, keeping the other
// settings, without the checks Put makes (the data source may be gone):
// the way back to local sign-in for everyone, from the server's shell
// (`tenantlink admin sso disable`) as the System principal, or for an
// Administrator.
func (s *Service) Disable(ctx context.Context, p *tenantlink.Principal, why string) (Settings, error) {
	if err := requireAdmin(p, "Disabling single sign-on"); err != nil {
		return Settings{}, err
	}
	var out Settings
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		cur, err := current(ctx, tx)
		if err != nil {
			return err
		}
		cur.Enabled, cur.AutoRedirect = false, false
		b, err := json.Marshal(cur)
		if err != nil {
			return fmt.Errorf("sso: encode settings: %w", err)
		}
		if err := tx.PutSetting(ctx, SettingKey, b); err != nil {
			return err
		}
		out = cur
		return directory.Audit(ctx, tx, s.now(), p, "sso.settings", "settings:sso", "ok", "disabled ("+why+"): "+string(b))
	})
	if err != nil {
		return Settings{}, fmt.Errorf("sso: disable: %w", err)
	}
	return out, nil
}

// qualifies says why ds cannot be the single sign-on data source.
func qualifies(ds *tenantlink.DataSource) error {
	switch {
	case ds.Type != tenantlink.ConnectorOffice365:
		return tenantlink.Errorf(tenantlink.EINVALID, "datasource %q is a %s data source; single sign-on needs an Office 365 one", ds.Name, ds.Type)
	case !ds.Settings.SingleSignOn:
		return tenantlink.Errorf(tenantlink.EINVALID, "datasource %q does not have Enable Azure OpenID Connect Single-Sign-On (settings.singleSignOn) on", ds.Name)
	case ds.AuthorizedAt == nil || ds.Account == "":
		return tenantlink.Errorf(tenantlink.EINVALID, "datasource %q is not authorized yet, so its Microsoft tenant is unknown: authorize it first", ds.Name)
	}
	return nil
}

// activeDataSource loads the configured data source and its provider,
// refusing when single sign-on is off or no longer configured right.
func (s *Service) activeDataSource(ctx context.Context, set Settings) (*tenantlink.DataSource, connector.SignInProvider, error) {
	if !set.Enabled || set.DataSource == "" {
		return nil, nil, tenantlink.Errorf(tenantlink.ENOTFOUND, MsgNotEnabled)
	}
	ds, err := s.Store.GetDataSource(ctx, set.DataSource)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, tenantlink.Errorf(tenantlink.EUNAVAILABLE, "Single sign-on is misconfigured (its data source was deleted): ask an administrator, or sign in with your email and password.")
	}
	if err != nil {
		return nil, nil, err
	}
	if err := qualifies(ds); err != nil {
		return nil, nil, &tenantlink.Error{Code: tenantlink.EUNAVAILABLE, Message: "Single sign-on is misconfigured: " + tenantlink.ErrorMessage(err) + ". Ask an administrator.", Err: err}
	}
	sp, ok := s.Connectors[ds.Type].(connector.SignInProvider)
	if !ok {
		return nil, nil, tenantlink.Errorf(tenantlink.EUNAVAILABLE, "%s data sources cannot sign people in.", ds.Type)
	}
	return ds, sp, nil
}

// Begin starts a sign-in: it returns the Microsoft URL to send the
// browser to and the state, which the caller binds to the browser (a
// cookie) and hands back to Complete. next is where to go afterwards; it
// is kept only if it is a path on this site.
//
// Anyone may start a sign-in, and each start stores a state, so starts are
// bounded: StartsPerMinute per client address, and MaxPending unfinished
// ones in all (expired states are dropped first). Past either bound the
// answer is ETOOMANY and nothing is stored.
func (s *Service) Begin(ctx context.Context, next, client string) (authURL, state string, err error) {
	set, err := s.Current(ctx)
	if err != nil {
		return "", "", err
	}
	ds, sp, err := s.activeDataSource(ctx, set)
	if err != nil {
		return "", "", err
	}
	s.init()
	key := "client:" + client
	if ok, wait := s.Starts.Allowed(key); !ok {
		return "", "", tenantlink.Errorf(tenantlink.ETOOMANY, "Too many sign-ins started from your address. Try again in %s.", wait.Round(time.Second))
	}
	s.Starts.Fail(key)
	n, err := s.Store.CountOAuthStates(ctx, Purpose, s.now())
	if err != nil {
		return "", "", fmt.Errorf("sso: begin sign-in: %w", err)
	}
	if n >= s.MaxPending {
		s.log().WarnContext(ctx, "sso: too many pending sign-ins", "pending", n, "max", s.MaxPending)
		return "", "", tenantlink.Errorf(tenantlink.ETOOMANY, "Too many sign-ins with Microsoft are in progress. Try again in a few minutes.")
	}
	u, pending, err := sp.BeginSignIn(ctx, ds, s.CallbackURL)
	if err != nil {
		return "", "", fmt.Errorf("sso: begin sign-in: %w", err)
	}
	err = s.Store.PutOAuthState(ctx, &store.OAuthState{
		State: pending.State, Purpose: Purpose, DataSourceID: ds.ID,
		Nonce: pending.Nonce, Verifier: pending.Verifier, ReturnTo: SafeNext(next),
		ExpiresAt: s.now().Add(StateTTL),
	})
	if err != nil {
		return "", "", fmt.Errorf("sso: begin sign-in: %w", err)
	}
	return u, pending.State, nil
}

// Result is a completed sign-in.
type Result struct {
	User *tenantlink.User
	// Next is the same-site path to send the browser to.
	Next string
	// Linked and Created say what the sign-in did to the directory.
	Linked, Created bool
	// Confirm, instead of User, asks the person for the local password of
	// the existing account the Microsoft account would be linked to.
	Confirm *LinkPrompt
}

// Complete finishes a sign-in: Microsoft sent the browser back with query;
// browserState is the state the browser's cookie carries (empty when it
// has none). client is the caller's address, for the audit log. The user
// returned is active; the caller starts the session.
func (s *Service) Complete(ctx context.Context, q url.Values, browserState, client string) (*Result, error) {
	state := q.Get("state")
	if state == "" || len(state) > 512 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The sign-in answer has no valid state: sign in again.")
	}
	// Taken (deleted) first, whatever happens next: a state is single use,
	// so a replayed answer finds nothing.
	pending, err := s.Store.TakeOAuthState(ctx, state, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, msgStateAgain)
	}
	if err != nil {
		return nil, fmt.Errorf("sso: callback: %w", err)
	}
	if pending.Purpose != Purpose {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, msgStateAgain)
	}
	// The state must come back to the browser that started the sign-in;
	// otherwise someone could sign a victim's browser in to their own
	// account by sending them a callback link (login CSRF).
	if browserState == "" || subtle.ConstantTimeCompare([]byte(browserState), []byte(state)) != 1 {
		s.auditRefusal(ctx, "", pending.DataSourceID, "", client, msgOtherBrowse)
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, msgOtherBrowse)
	}
	set, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	ds, sp, err := s.activeDataSource(ctx, set)
	if err != nil {
		return nil, err
	}
	if ds.ID != pending.DataSourceID {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The single sign-on settings changed during this sign-in: sign in again.")
	}
	p := connector.Pending{State: pending.State, Nonce: pending.Nonce, Verifier: pending.Verifier, Purpose: pending.Purpose}
	id, err := sp.CompleteSignIn(ctx, ds, p, s.CallbackURL, q)
	if err != nil {
		s.auditRefusal(ctx, "", ds.ID, "", client, tenantlink.ErrorMessage(err))
		if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
			return nil, fmt.Errorf("sso: complete sign-in: %w", err)
		}
		return nil, err
	}
	res, err := s.signIn(ctx, set, ds, id, client, pending.ReturnTo)
	if err != nil {
		return nil, err
	}
	res.Next = pending.ReturnTo
	if res.Next == "" {
		res.Next = SafeNext("")
	}
	return res, nil
}

// who names a Microsoft identity in audit entries.
func who(id *connector.ExternalIdentity) string {
	if id == nil {
		return "anonymous"
	}
	// Never the email claim: it names whatever the account's mail says.
	if id.UPN != "" {
		return id.UPN
	}
	return id.ObjectID
}

// auditRefusal records a refused sign-in. A failure to write it is
// logged, not returned: the person must still see why they were refused.
func (s *Service) auditRefusal(ctx context.Context, actor, dsID, target, client, reason string) {
	if actor == "" {
		actor = "anonymous"
	}
	if target == "" {
		target = "datasource:" + dsID
	}
	p := &tenantlink.Principal{User: &tenantlink.User{Email: actor}}
	detail := fmt.Sprintf("single sign-on from %s: %s", client, reason)
	if err := directory.Audit(ctx, s.Store, s.now(), p, "session.create", target, "denied", detail); err != nil {
		s.log().ErrorContext(ctx, "sso: audit refused sign-in", "err", err)
	}
}
