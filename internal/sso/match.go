package sso

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// signIn finds (or links, or creates) the directory user for id and
// records the outcome, all in one transaction: a link or a creation and
// its audit entry commit together. A refusal commits its audit entry and
// is returned after the transaction. next is kept with a pending link.
//
// Who someone is, is decided by the tenant id and object id alone
// (GetUserByExternalID). The email claim plays no part: Entra ID fills it
// from the mail attribute, which nobody verifies, so an account whose
// mail is set to a tenantlink Administrator's address would otherwise
// become that Administrator ("nOAuth"). A user not linked yet is linked
// only when the directory vouches for the address (the account's
// userPrincipalName, read through the data source's grant, is in a domain
// the tenant has verified and equals the user's email, and the user holds
// no privileged role) or when the person proves the local password
// (ConfirmLink).
func (s *Service) signIn(ctx context.Context, set Settings, ds *tenantlink.DataSource, id *connector.ExternalIdentity, client, next string) (*Result, error) {
	tenant := strings.ToLower(ds.Account)
	// Reading the account costs two Graph calls, made only for an account
	// not linked yet and outside the transaction.
	var acct account
	if _, err := linkedUser(ctx, s.Store, ds, tenant, id.ObjectID); errors.Is(err, store.ErrNotFound) {
		acct = s.readAccount(ctx, ds, id)
	} else if err != nil {
		return nil, fmt.Errorf("sso: sign in: %w", err)
	}
	res := &Result{}
	var refusal error
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		now := s.now()
		refuse := func(e *tenantlink.Error, target string) error {
			refusal = e
			if target == "" {
				target = "datasource:" + ds.ID
			}
			return directory.Audit(ctx, tx, now, actor(id), "session.create", target, "denied",
				fmt.Sprintf("single sign-on as %s (object id %s) from %s: %s", who(id), id.ObjectID, client, e.Message))
		}
		u, err := linkedUser(ctx, tx, ds, tenant, id.ObjectID)
		switch {
		case err == nil:
			if !u.Active {
				return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgInactive), "user:"+u.ID)
			}
			res.User = u
			return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: u}, "session.create", "user:"+u.ID, "ok",
				fmt.Sprintf("single sign-on as %s (object id %s) from %s", who(id), id.ObjectID, client))
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// Not linked yet. The one address looked up is the sign-in name:
		// the directory's when it could be read, else the token's.
		addr := acct.upn
		if addr == "" {
			addr = strings.ToLower(strings.TrimSpace(id.UPN))
		}
		var c *tenantlink.User
		if strings.Contains(addr, "@") {
			c, err = tx.GetUserByEmail(ctx, addr)
			if errors.Is(err, store.ErrNotFound) {
				c, err = nil, nil
			}
			if err != nil {
				return err
			}
		}
		if c == nil {
			if !set.CreateUsers {
				return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgNotUser), "")
			}
			if err := s.create(ctx, tx, ds, id, acct, now, res, refuse); err != nil || res.User == nil {
				return err
			}
			return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: res.User}, "session.create", "user:"+res.User.ID, "ok",
				fmt.Sprintf("single sign-on as %s (object id %s) from %s", who(id), id.ObjectID, client))
		}
		// An existing local user.
		if c.Source != nil && c.Source.Tenant == "" && strings.EqualFold(c.Source.ObjectID, id.ObjectID) {
			// Imported without a tenant through another data source: the
			// same account when that data source is of the same tenant.
			if other, err := tx.GetDataSource(ctx, c.Source.DataSource); err == nil && strings.EqualFold(other.Account, tenant) {
				if !c.Active {
					return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgInactive), "user:"+c.ID)
				}
				res.User = c
				return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: c}, "session.create", "user:"+c.ID, "ok",
					fmt.Sprintf("single sign-on as %s (object id %s) from %s", who(id), id.ObjectID, client))
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if c.Source != nil {
			return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN,
				"The tenantlink user %s is linked to another Microsoft account, so your Microsoft account cannot sign in as it: ask an administrator.", c.Email), "user:"+c.ID)
		}
		if !c.Active {
			return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgInactive), "user:"+c.ID)
		}
		priv, err := privileged(ctx, tx, c)
		if err != nil {
			return err
		}
		vouched := acct.verified && strings.EqualFold(acct.upn, c.Email)
		switch {
		case vouched && !priv:
			c.Source = &tenantlink.UserSource{DataSource: ds.ID, ObjectID: id.ObjectID, Tenant: tenant}
			c.UpdatedAt = now
			if err := tx.UpdateUser(ctx, c); err != nil {
				return err
			}
			res.User, res.Linked = c, true
			if err := directory.Audit(ctx, tx, now, &tenantlink.Principal{User: c}, "user.link", "user:"+c.ID, "ok",
				fmt.Sprintf("linked at single sign-on to Microsoft account %s (object id %s, tenant %s) of data source %q, matched by verified userPrincipalName", acct.upn, id.ObjectID, tenant, ds.Name)); err != nil {
				return err
			}
			return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: c}, "session.create", "user:"+c.ID, "ok",
				fmt.Sprintf("single sign-on as %s (object id %s) from %s", who(id), id.ObjectID, client))
		case c.PasswordHash != "":
			// The person proves the local account is theirs.
			p, err := s.putLink(ctx, tx, pendingLink{
				DataSource: ds.ID, UserID: c.ID, Tenant: tenant, ObjectID: id.ObjectID, Name: who(id),
				Attempts: LinkAttempts, Expires: now.Add(LinkTTL), Next: next,
			})
			if err != nil {
				return err
			}
			res.Confirm = p
			reason := "userPrincipalName not verified: " + acct.why
			if vouched {
				reason = "the user holds the Administrator or Manage datasources role"
			}
			return directory.Audit(ctx, tx, now, actor(id), "user.link", "user:"+c.ID, "pending",
				fmt.Sprintf("single sign-on as %s (object id %s) from %s asked for the local password of %s (%s)", who(id), id.ObjectID, client, c.Email, reason))
		case priv:
			return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, msgPrivilegedNoPassword, c.Email), "user:"+c.ID)
		default:
			return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN,
				"Your Microsoft account cannot be linked to the tenantlink account %s: %s, and that account has no tenantlink password to confirm with. Ask an administrator.", c.Email, acct.why), "user:"+c.ID)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sso: sign in: %w", err)
	}
	if refusal != nil {
		return nil, refusal
	}
	return res, nil
}

// linkedUser is the user linked to the Microsoft account (tenant, oid).
// A user whose link records no tenant (imported before users carried one)
// counts when it was imported through ds, whose tenant is the tenant.
func linkedUser(ctx context.Context, st store.Store, ds *tenantlink.DataSource, tenant, oid string) (*tenantlink.User, error) {
	u, err := st.GetUserByExternalID(ctx, tenant, oid)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	u, err = st.GetUserBySource(ctx, ds.ID, oid)
	if err != nil {
		return nil, err
	}
	if u.Source == nil || u.Source.Tenant != "" && !strings.EqualFold(u.Source.Tenant, tenant) {
		return nil, &tenantlink.Error{Code: tenantlink.ENOTFOUND, Message: fmt.Sprintf("no user for object %s of tenant %s", oid, tenant), Err: store.ErrNotFound}
	}
	return u, nil
}

// msgPrivilegedNoPassword refuses to link a privileged account that has
// no local password: nothing but the password may vouch for it.
const msgPrivilegedNoPassword = "The tenantlink account %s holds the Administrator or Manage datasources role and has no tenantlink password, so single sign-on cannot link it: such an account is linked only after its password is entered. Ask an administrator to give it a password (or remove the role), then sign in with Microsoft again."

// account is what the directory says about the account signing in.
type account struct {
	upn      string // userPrincipalName, lower-case; "" when it could not be read
	verified bool   // upn is in a domain the tenant has verified
	why      string // why upn is not verified (for messages)
}

// readAccount asks the data source's connector who the account is. A
// failure is not a refusal: the account is then simply not vouched for.
func (s *Service) readAccount(ctx context.Context, ds *tenantlink.DataSource, id *connector.ExternalIdentity) account {
	ar, ok := s.Connectors[ds.Type].(connector.AccountReader)
	if !ok || s.Credentials == nil {
		return account{why: "the data source cannot read accounts"}
	}
	a, err := ar.ReadAccount(ctx, ds, s.Credentials, id.ObjectID)
	if err != nil {
		s.log().WarnContext(ctx, "sso: read the account", "datasource", ds.ID, "oid", id.ObjectID, "err", err)
		return account{why: tenantlink.ErrorMessage(err)}
	}
	out := account{upn: a.SignInName, verified: a.DomainVerified}
	if !a.DomainVerified {
		out.why = fmt.Sprintf("its userPrincipalName %s is not in a domain your organization has verified (%s)", a.SignInName, strings.Join(a.Domains, ", "))
	}
	return out
}

// create adds the User-role user of a first sign-in. Its email is the
// account's userPrincipalName, and only when the tenant has verified its
// domain; an address already taken is refused, never linked.
func (s *Service) create(ctx context.Context, tx store.Store, ds *tenantlink.DataSource, id *connector.ExternalIdentity, acct account, now time.Time, res *Result, refuse func(*tenantlink.Error, string) error) error {
	if !acct.verified {
		return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, "No tenantlink user can be created for your Microsoft account: %s. Ask an administrator.", acct.why), "")
	}
	u, err := newUser(ds, id, acct.upn)
	if err != nil {
		var te *tenantlink.Error
		if errors.As(err, &te) {
			return refuse(te, "")
		}
		return err
	}
	if _, err := tx.GetUserByEmail(ctx, u.Email); err == nil {
		return refuse(tenantlink.Errorf(tenantlink.ECONFLICT,
			"The email %s already belongs to a tenantlink user that is not linked to your Microsoft account, so no user is created for you: ask an administrator.", u.Email), "")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	if err := tx.CreateUser(ctx, u); err != nil {
		return err
	}
	res.User, res.Created = u, true
	return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: u}, "user.create", "user:"+u.ID, "ok",
		fmt.Sprintf("created at first single sign-on: Microsoft account %s (object id %s, tenant %s) of data source %q", acct.upn, id.ObjectID, u.Source.Tenant, ds.Name))
}

// privileged reports whether u holds Administrator or Manage datasources,
// directly or through a group: such an account is linked to a Microsoft
// account only with its password.
func privileged(ctx context.Context, st store.Store, u *tenantlink.User) (bool, error) {
	return hasRole(ctx, st, u, tenantlink.RoleAdministrator, tenantlink.RoleManageDatasources)
}

func actor(id *connector.ExternalIdentity) *tenantlink.Principal {
	return &tenantlink.Principal{User: &tenantlink.User{Email: who(id)}}
}

// newUser builds the User-role user created at first sign-in, with email
// (the verified userPrincipalName); it has no password, so it signs in
// only through Microsoft.
func newUser(ds *tenantlink.DataSource, id *connector.ExternalIdentity, email string) (*tenantlink.User, error) {
	if p, err := mail.ParseAddress(email); err != nil || p.Address != email || len(email) > 254 {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "Your Microsoft account's userPrincipalName %s is not an email address tenantlink can use, so no user can be created for it: ask an administrator.", email)
	}
	clip := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > 256 {
			s = s[:256]
		}
		return s
	}
	u := &tenantlink.User{
		Email: email, DisplayName: clip(id.DisplayName), GivenName: clip(id.GivenName), Surname: clip(id.Surname),
		Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser},
		Source: &tenantlink.UserSource{DataSource: ds.ID, ObjectID: id.ObjectID, Tenant: strings.ToLower(ds.Account)},
	}
	if u.DisplayName == "" {
		u.DisplayName = strings.TrimSpace(u.GivenName + " " + u.Surname)
	}
	if u.DisplayName == "" {
		u.DisplayName = email
	}
	return u, nil
}

// CheckLocalSignIn is the local (password) sign-in rule: once auto
// redirect is on, only members of the bypass group may sign in with a
// password; everyone else is told to use Microsoft. It runs after the
// password was verified, so it tells nothing to someone guessing.
func (s *Service) CheckLocalSignIn(ctx context.Context, u *tenantlink.User) error {
	set, err := s.Current(ctx)
	if err != nil {
		return err
	}
	if !set.Enabled || !set.AutoRedirect {
		return nil
	}
	if set.BypassGroup != "" && slices.Contains(u.Groups, set.BypassGroup) {
		return nil
	}
	// Break glass: when the bypass group no longer lets any Administrator
	// in with a password (it was deleted, emptied, or its Administrators
	// lost the role, their password or their account), Administrators with
	// a password may still sign in, so that no later directory change
	// locks every Administrator out while Microsoft cannot sign them in.
	admin, err := hasRole(ctx, s.Store, u, tenantlink.RoleAdministrator)
	if err != nil {
		return err
	}
	if admin && u.Active && u.PasswordHash != "" {
		g, err := s.Store.GetGroup(ctx, set.BypassGroup)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok, err := canRescue(ctx, s.Store, g)
		if err != nil {
			return err
		}
		if !ok {
			s.log().WarnContext(ctx, "sso: the bypass group has no Administrator with a password; an Administrator signs in with a password", "user", u.ID)
			return nil
		}
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgUseSSO)
}

// SafeNext keeps the post-sign-in redirect on this site: only a path is
// accepted, never "//host" or "/\host", which browsers read as another
// origin; anything else becomes "/".
func SafeNext(next string) string {
	const fallback = "/"
	if next == "" || len(next) > 2000 || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return fallback
	}
	if strings.ContainsAny(next, "\r\n\t\x00\\") {
		return fallback
	}
	return next
}
