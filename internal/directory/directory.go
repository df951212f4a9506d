// Package directory is tenantlink's own directory service: local users and
// groups, their roles, password sign-in and API tokens, with role checks
// and an audit entry for every change. The web API, the web UI and the
// admin CLI all call it.
package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Service manages directory users and groups.
type Service struct {
	Store  store.Store
	Now    func() time.Time
	Logger *slog.Logger
	// Limiter throttles failed sign-ins per email and per client address.
	Limiter *auth.Limiter
	// LocalSignIn, when set, decides after a password was verified whether
	// the user may sign in with a password at all (single sign-on keeps
	// the local sign-in for its bypass group); its error is the answer.
	LocalSignIn func(ctx context.Context, u *tenantlink.User) error
	// GroupDeleted, when set, is called after a group was deleted to
	// remove what hangs off it outside the directory (its sync task).
	GroupDeleted func(ctx context.Context, groupID string) error
	// GroupRenamed, when set, is called after a group was renamed, to
	// rename what carries its name outside the directory (its sync task).
	GroupRenamed func(ctx context.Context, p *tenantlink.Principal, groupID, name string) error
	// CheckPassword verifies a password against a stored hash ("" for an
	// unknown account, which must cost the same and fail); tests count
	// the checks through it. Default auth.CheckPasswordOrDummy.
	CheckPassword func(hash, password string) bool
}

// New returns a Service with defaults.
func New(st store.Store, logger *slog.Logger) *Service {
	return &Service{Store: st, Now: time.Now, Logger: logger, Limiter: auth.NewLimiter(5, 5*time.Minute)}
}

// UserInput creates or changes a user. Nil fields are left as they are.
type UserInput struct {
	Email       *string            `json:"email"`
	DisplayName *string            `json:"displayName"`
	GivenName   *string            `json:"givenName"`
	Surname     *string            `json:"surname"`
	Active      *bool              `json:"active"`
	Roles       *[]tenantlink.Role `json:"roles"`
	Password    *string            `json:"password"`
	// CurrentPassword must accompany a change of your own password (an
	// Administrator resetting someone else's needs none).
	CurrentPassword *string `json:"currentPassword"`
	// RevokeTokens, with a new password, also revokes all of the user's
	// API tokens.
	RevokeTokens *bool `json:"revokeTokens"`
}

// keepSessionKey carries the session that changes its own password: the
// user's other sessions end, this one stays.
type keepSessionKey struct{}

// KeepSession marks ctx as coming from the session with this id hash, so
// that a password change ends the user's other sessions but not it.
func KeepSession(ctx context.Context, idHash string) context.Context {
	return context.WithValue(ctx, keepSessionKey{}, idHash)
}

func requireAdmin(p *tenantlink.Principal, what string) error {
	if p == tenantlink.System || p.Has(tenantlink.RoleAdministrator) {
		return nil
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s needs the Administrator role", what)
}

// Audit appends an audit entry; a failure to write it is returned, never
// swallowed, because a change without its audit entry must not pass silently.
func Audit(ctx context.Context, st store.Store, now time.Time, p *tenantlink.Principal, action, target, outcome, detail string) error {
	e := &tenantlink.AuditEntry{At: now, Actor: p.Name(), Action: action, Target: target, Outcome: outcome, Detail: detail}
	if p != nil && p.User != nil {
		e.ActorID = p.User.ID
	}
	err := st.AppendAudit(ctx, e)
	if err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

func normEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "email %q is not a valid address", s)
	}
	return strings.ToLower(s), nil
}

func checkRoles(roles []tenantlink.Role) error {
	for _, r := range roles {
		if !tenantlink.ValidRole(r) {
			return tenantlink.Errorf(tenantlink.EINVALID, "unknown role %q (roles: User, Administrator, Manage datasources, Design business process)", r)
		}
	}
	return nil
}

func checkText(field, v string, max int) error {
	if len(v) > max {
		return tenantlink.Errorf(tenantlink.EINVALID, "%s is longer than %d characters", field, max)
	}
	return tenantlink.CheckText(field, v)
}

// CreateUser creates a local user. Email is required; a password is
// required unless the user will sign in only through SSO (then empty).
func (s *Service) CreateUser(ctx context.Context, p *tenantlink.Principal, in UserInput) (*tenantlink.User, error) {
	if err := requireAdmin(p, "creating users"); err != nil {
		return nil, err
	}
	if in.Email == nil {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "email is required")
	}
	if in.CurrentPassword != nil || in.RevokeTokens != nil {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "currentPassword and revokeTokens belong to a password change, not to a new user")
	}
	u := &tenantlink.User{Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
	if err := s.apply(u, in); err != nil {
		return nil, err
	}
	now := s.Now()
	u.CreatedAt, u.UpdatedAt = now, now
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return Audit(ctx, tx, now, p, "user.create", "user:"+u.ID, "ok", u.Email)
	})
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (s *Service) apply(u *tenantlink.User, in UserInput) error {
	if in.Email != nil {
		e, err := normEmail(*in.Email)
		if err != nil {
			return err
		}
		u.Email = e
	}
	for _, f := range []struct {
		name string
		in   *string
		out  *string
	}{{"displayName", in.DisplayName, &u.DisplayName}, {"givenName", in.GivenName, &u.GivenName}, {"surname", in.Surname, &u.Surname}} {
		if f.in != nil {
			v := strings.TrimSpace(*f.in)
			if err := checkText(f.name, v, 256); err != nil {
				return err
			}
			*f.out = v
		}
	}
	if u.DisplayName == "" {
		u.DisplayName = strings.TrimSpace(u.GivenName + " " + u.Surname)
		if u.DisplayName == "" {
			u.DisplayName = u.Email
		}
	}
	if in.Active != nil {
		u.Active = *in.Active
	}
	if in.Roles != nil {
		if err := checkRoles(*in.Roles); err != nil {
			return err
		}
		u.Roles = slices.Compact(slices.Sorted(slices.Values(*in.Roles)))
	}
	if in.Password != nil {
		if err := auth.ValidatePassword(*in.Password); err != nil {
			return tenantlink.Errorf(tenantlink.EINVALID, "%s", strings.TrimPrefix(err.Error(), auth.ErrWeakPassword.Error()+": "))
		}
		h, err := auth.HashPassword(*in.Password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	return nil
}

// UpdateUser changes a user. Administrators change anyone; a user may
// change their own names and password only.
func (s *Service) UpdateUser(ctx context.Context, p *tenantlink.Principal, id string, in UserInput) (*tenantlink.User, error) {
	self := p != nil && p.User != nil && p.User.ID == id
	if err := requireAdmin(p, "changing other users"); err != nil {
		if !self {
			return nil, err
		}
		if in.Roles != nil || in.Active != nil || in.Email != nil {
			return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "changing your own roles, status or email needs the Administrator role")
		}
	}
	if in.Password == nil && (in.CurrentPassword != nil || in.RevokeTokens != nil) {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "currentPassword and revokeTokens go with a new password")
	}
	if in.Password != nil && self {
		if err := auth.ValidatePassword(*in.Password); err != nil {
			return nil, tenantlink.Errorf(tenantlink.EINVALID, "%s", strings.TrimPrefix(err.Error(), auth.ErrWeakPassword.Error()+": "))
		}
		if err := s.checkCurrentPassword(ctx, p.User, in.CurrentPassword); err != nil {
			return nil, err
		}
	}
	var out *tenantlink.User
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		wasAdmin, err := s.isActiveAdmin(ctx, tx, u)
		if err != nil {
			return err
		}
		if err := s.apply(u, in); err != nil {
			return err
		}
		if self && in.Roles != nil && !u.HasRole(tenantlink.RoleAdministrator) && p.User.HasRole(tenantlink.RoleAdministrator) {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "you cannot remove the Administrator role from yourself")
		}
		if self && !u.Active {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "you cannot deactivate your own account")
		}
		u.UpdatedAt = s.Now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if wasAdmin && (in.Roles != nil || in.Active != nil) {
			if err := ensureAdministrator(ctx, tx); err != nil {
				return err
			}
		}
		keep, _ := ctx.Value(keepSessionKey{}).(string)
		switch {
		case in.Password != nil && self && keep != "" && (in.Active == nil || *in.Active):
			if err := tx.DeleteOtherUserSessions(ctx, u.ID, keep); err != nil {
				return err
			}
		case in.Password != nil || (in.Active != nil && !*in.Active):
			if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
				return err
			}
		}
		out = u
		if err := Audit(ctx, tx, u.UpdatedAt, p, "user.update", "user:"+u.ID, "ok", changedFields(in)); err != nil {
			return err
		}
		if in.RevokeTokens != nil && *in.RevokeTokens {
			n, err := tx.DeleteUserAPITokens(ctx, u.ID)
			if err != nil {
				return err
			}
			return Audit(ctx, tx, u.UpdatedAt, p, "token.revoke", "user:"+u.ID, "ok", fmt.Sprintf("all %d tokens, with a password change", n))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return out, nil
}

func changedFields(in UserInput) string {
	var f []string
	if in.Email != nil {
		f = append(f, "email")
	}
	if in.DisplayName != nil || in.GivenName != nil || in.Surname != nil {
		f = append(f, "names")
	}
	if in.Active != nil {
		f = append(f, fmt.Sprintf("active=%v", *in.Active))
	}
	if in.Roles != nil {
		f = append(f, fmt.Sprintf("roles=%v", *in.Roles))
	}
	if in.Password != nil {
		f = append(f, "password")
	}
	if in.RevokeTokens != nil && *in.RevokeTokens {
		f = append(f, "revoke tokens")
	}
	return strings.Join(f, ", ")
}

// GetUser returns a user: administrators see anyone, others themselves.
func (s *Service) GetUser(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error) {
	if p == nil || p.User == nil || (p.User.ID != id && !p.Has(tenantlink.RoleAdministrator)) {
		if err := requireAdmin(p, "reading other users"); err != nil {
			return nil, err
		}
	}
	return s.Store.GetUser(ctx, id)
}

// ListUsers lists users (Administrator only).
func (s *Service) ListUsers(ctx context.Context, p *tenantlink.Principal, f store.UserFilter) ([]*tenantlink.User, error) {
	if err := requireAdmin(p, "listing users"); err != nil {
		return nil, err
	}
	if f.DataSource != "" {
		// After the role check, so the filter cannot probe for ids; an
		// unknown id is a mistake to report, not a filter matching nobody.
		if _, err := s.Store.GetDataSource(ctx, f.DataSource); err != nil {
			return nil, err
		}
	}
	return s.Store.ListUsers(ctx, f)
}

// DeleteUser deletes a user (Administrator only; not yourself).
func (s *Service) DeleteUser(ctx context.Context, p *tenantlink.Principal, id string) error {
	if err := requireAdmin(p, "deleting users"); err != nil {
		return err
	}
	if p.User != nil && p.User.ID == id {
		return tenantlink.Errorf(tenantlink.ECONFLICT, "you cannot delete your own account")
	}
	return s.Store.InTx(ctx, func(tx store.Store) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		wasAdmin, err := s.isActiveAdmin(ctx, tx, u)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		if wasAdmin {
			if err := ensureAdministrator(ctx, tx); err != nil {
				return err
			}
		}
		return Audit(ctx, tx, s.Now(), p, "user.delete", "user:"+id, "ok", u.Email)
	})
}

// checkCurrentPassword verifies the current password of u before it is
// changed, counted by the sign-in limiter like a sign-in so that a stolen
// session cannot guess it.
func (s *Service) checkCurrentPassword(ctx context.Context, u *tenantlink.User, current *string) error {
	if current == nil || *current == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "Give your current password (currentPassword) to change your own password.")
	}
	key := "email:" + strings.ToLower(u.Email)
	res, ok, wait := s.Limiter.Reserve(key)
	if !ok {
		return tenantlink.Errorf(tenantlink.ETOOMANY, "Too many wrong passwords. Try again in %s.", wait.Round(time.Second))
	}
	stored, err := s.Store.GetUser(ctx, u.ID)
	if err != nil {
		return err
	}
	check := s.CheckPassword
	if check == nil {
		check = auth.CheckPasswordOrDummy
	}
	if stored.PasswordHash == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "You have no local password to change (you sign in with Microsoft): an Administrator can set one.")
	}
	if !check(stored.PasswordHash, *current) {
		return tenantlink.Errorf(tenantlink.EINVALID, "currentPassword is not your current password")
	}
	res.Succeed(key)
	return nil
}

// ErrBadCredentials is the one answer to a failed sign-in, whatever failed.
var ErrBadCredentials = tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Email or password is incorrect.")

// SignIn checks a local password. client identifies the caller (IP) for
// rate limiting. Inactive users and users without a local password fail
// the same way as a wrong password.
func (s *Service) SignIn(ctx context.Context, email, password, client string) (*tenantlink.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	emailKey, clientKey := "email:"+email, "client:"+client
	// Count the attempt before checking it: concurrent attempts each take
	// a slot, so a burst gets no more password checks than the limit.
	keys := []string{emailKey}
	if client != "" {
		keys = append(keys, clientKey)
	}
	res, ok, wait := s.Limiter.Reserve(keys...)
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.ETOOMANY, "Too many failed sign-ins. Try again in %s.", wait.Round(time.Second))
	}
	u, err := s.Store.GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	check := s.CheckPassword
	if check == nil {
		check = auth.CheckPasswordOrDummy
	}
	if !check(hash, password) || !u.Active {
		_ = Audit(ctx, s.Store, s.Now(), &tenantlink.Principal{User: &tenantlink.User{Email: email}}, "session.create", "user:"+email, "denied", "bad credentials")
		return nil, ErrBadCredentials
	}
	res.Succeed(emailKey)
	if s.LocalSignIn != nil {
		if err := s.LocalSignIn(ctx, u); err != nil {
			if aerr := Audit(ctx, s.Store, s.Now(), &tenantlink.Principal{User: u}, "session.create", "user:"+u.ID, "denied", "local sign-in: "+tenantlink.ErrorMessage(err)); aerr != nil {
				return nil, errors.Join(err, aerr)
			}
			return nil, err
		}
	}
	return u, nil
}

// Principal builds the principal of a user: its roles plus its groups'.
func (s *Service) Principal(ctx context.Context, u *tenantlink.User, via string) (*tenantlink.Principal, error) {
	roles := slices.Clone(u.Roles)
	for _, gid := range u.Groups {
		g, err := s.Store.GetGroup(ctx, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load group roles: %w", err)
		}
		roles = append(roles, g.Roles...)
	}
	slices.Sort(roles)
	return &tenantlink.Principal{User: u, Roles: slices.Compact(roles), Via: via}, nil
}

// ErrLastAdministrator refuses a change that would leave nobody able to
// administer tenantlink: without an active Administrator, only the CLI
// could give the role back.
var ErrLastAdministrator = tenantlink.Errorf(tenantlink.ECONFLICT,
	"This change would leave no active Administrator: give another user the Administrator role first.")

// isActiveAdmin reports whether u is active and holds the Administrator
// role directly or through a group, as stored in tx.
func (s *Service) isActiveAdmin(ctx context.Context, tx store.Store, u *tenantlink.User) (bool, error) {
	if !u.Active {
		return false, nil
	}
	if u.HasRole(tenantlink.RoleAdministrator) {
		return true, nil
	}
	for _, gid := range u.Groups {
		g, err := tx.GetGroup(ctx, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("load group roles: %w", err)
		}
		if slices.Contains(g.Roles, tenantlink.RoleAdministrator) {
			return true, nil
		}
	}
	return false, nil
}

// ensureAdministrator checks, inside the transaction of a change that took
// the role from someone, that an active Administrator remains. It scans
// the directory, which only changes that removed an Administrator pay for.
func ensureAdministrator(ctx context.Context, tx store.Store) error {
	groups, err := tx.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("check administrators: %w", err)
	}
	adminGroups := map[string]bool{}
	for _, g := range groups {
		if slices.Contains(g.Roles, tenantlink.RoleAdministrator) {
			adminGroups[g.ID] = true
		}
	}
	users, err := tx.ListUsers(ctx, store.UserFilter{})
	if err != nil {
		return fmt.Errorf("check administrators: %w", err)
	}
	for _, u := range users {
		if !u.Active {
			continue
		}
		if u.HasRole(tenantlink.RoleAdministrator) || slices.ContainsFunc(u.Groups, func(g string) bool { return adminGroups[g] }) {
			return nil
		}
	}
	return ErrLastAdministrator
}

// EnsureAdministrator is the last-Administrator rule for other services
// (group member sync): inside the transaction of a change that may have
// taken the role from someone, it fails with ErrLastAdministrator when no
// active Administrator remains.
func EnsureAdministrator(ctx context.Context, tx store.Store) error {
	return ensureAdministrator(ctx, tx)
}
