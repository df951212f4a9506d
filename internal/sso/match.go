package sso

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// signIn finds (or links, or creates) the directory user for id and
// records the outcome, all in one transaction: a link or a creation and
// its audit entry commit together. A refusal commits its audit entry and
// is returned after the transaction.
func (s *Service) signIn(ctx context.Context, set Settings, ds *tenantlink.DataSource, id *connector.ExternalIdentity, client string) (*Result, error) {
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
		u, matchedBy, err := match(ctx, tx, ds, id)
		var te *tenantlink.Error
		if errors.As(err, &te) && (te.Code == tenantlink.EFORBIDDEN || te.Code == tenantlink.ECONFLICT) {
			return refuse(te, "")
		}
		if err != nil {
			return err
		}
		switch {
		case u == nil && !set.CreateUsers:
			return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgNotUser), "")
		case u == nil:
			u, err = newUser(ds, id)
			if err != nil {
				var te *tenantlink.Error
				if errors.As(err, &te) {
					return refuse(te, "")
				}
				return err
			}
			u.CreatedAt, u.UpdatedAt = now, now
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			res.Created = true
			if err := directory.Audit(ctx, tx, now, &tenantlink.Principal{User: u}, "user.create", "user:"+u.ID, "ok",
				fmt.Sprintf("created at first single sign-on: Microsoft account %s (object id %s) of data source %q", who(id), id.ObjectID, ds.Name)); err != nil {
				return err
			}
		case !u.Active:
			return refuse(tenantlink.Errorf(tenantlink.EFORBIDDEN, MsgInactive), "user:"+u.ID)
		case matchedBy != "":
			u.Source = &tenantlink.UserSource{DataSource: ds.ID, ObjectID: id.ObjectID}
			u.UpdatedAt = now
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			res.Linked = true
			if err := directory.Audit(ctx, tx, now, &tenantlink.Principal{User: u}, "user.link", "user:"+u.ID, "ok",
				fmt.Sprintf("linked at single sign-on to Microsoft account %s (object id %s) of data source %q, matched by %s", who(id), id.ObjectID, ds.Name, matchedBy)); err != nil {
				return err
			}
		}
		res.User = u
		return directory.Audit(ctx, tx, now, &tenantlink.Principal{User: u}, "session.create", "user:"+u.ID, "ok",
			fmt.Sprintf("single sign-on as %s (object id %s) from %s", who(id), id.ObjectID, client))
	})
	if err != nil {
		return nil, fmt.Errorf("sso: sign in: %w", err)
	}
	if refusal != nil {
		return nil, refusal
	}
	return res, nil
}

func actor(id *connector.ExternalIdentity) *tenantlink.Principal {
	return &tenantlink.Principal{User: &tenantlink.User{Email: who(id)}}
}

// match finds the directory user for id: the user linked to the object id
// through this data source, else the one whose email equals the account's
// email or userPrincipalName (case-insensitively). matchedBy is set ("email"
// or "userPrincipalName") when the user is not linked yet and should be.
// No user is (nil, "", nil). Refusals are EFORBIDDEN or ECONFLICT errors.
func match(ctx context.Context, tx store.Store, ds *tenantlink.DataSource, id *connector.ExternalIdentity) (*tenantlink.User, string, error) {
	u, err := tx.GetUserBySource(ctx, ds.ID, id.ObjectID)
	if err == nil {
		return u, "", nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	type candidate struct {
		u  *tenantlink.User
		by string
	}
	var found []candidate
	for _, c := range []struct{ addr, by string }{{id.Email, "email"}, {id.UPN, "userPrincipalName"}} {
		addr := strings.ToLower(strings.TrimSpace(c.addr))
		if !strings.Contains(addr, "@") {
			continue
		}
		u, err := tx.GetUserByEmail(ctx, addr)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if !slices.ContainsFunc(found, func(f candidate) bool { return f.u.ID == u.ID }) {
			found = append(found, candidate{u, c.by})
		}
	}
	switch len(found) {
	case 0:
		return nil, "", nil
	case 1:
	default:
		return nil, "", tenantlink.Errorf(tenantlink.ECONFLICT,
			"Your Microsoft account's email %s and userPrincipalName %s belong to two different tenantlink users: ask an administrator to resolve it.", id.Email, id.UPN)
	}
	u, by := found[0].u, found[0].by
	if u.Source == nil {
		return u, by, nil
	}
	// Already linked elsewhere. The same Microsoft object reached through
	// another data source of the same tenant is the same person; the link
	// stays as it is, because group member sync keys its users by it.
	if strings.EqualFold(u.Source.ObjectID, id.ObjectID) {
		other, err := tx.GetDataSource(ctx, u.Source.DataSource)
		if err == nil && strings.EqualFold(other.Account, ds.Account) {
			return u, "", nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, "", err
		}
	}
	return nil, "", tenantlink.Errorf(tenantlink.EFORBIDDEN,
		"The tenantlink user %s is linked to another Microsoft account, so your Microsoft account cannot sign in as it: ask an administrator.", u.Email)
}

// newUser builds the User-role user created at first sign-in. Its email is
// the account's email, else its userPrincipalName; it has no password, so
// it signs in only through Microsoft.
func newUser(ds *tenantlink.DataSource, id *connector.ExternalIdentity) (*tenantlink.User, error) {
	email := ""
	for _, a := range []string{id.Email, id.UPN} {
		a = strings.ToLower(strings.TrimSpace(a))
		if p, err := mail.ParseAddress(a); err == nil && p.Address == a && len(a) <= 254 {
			email = a
			break
		}
	}
	if email == "" {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "Your Microsoft account has no email address tenantlink can use, so no user can be created for it: ask an administrator.")
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
		Source: &tenantlink.UserSource{DataSource: ds.ID, ObjectID: id.ObjectID},
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
