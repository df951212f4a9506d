package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// maxListed bounds how many names an audit detail spells out.
const maxListed = 20

// ListNames joins names for an audit detail, the first 20 of them and
// "and N more" for the rest, so that a detail stays readable however many
// things one change touched.
func ListNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}

// userLabel is how a user appears in an audit detail: email and id, so the
// entry still says who it was after the user is renamed or deleted.
func userLabel(u *tenantlink.User) string { return u.Email + " (" + u.ID + ")" }

// AddGroupMembers adds directory users to a group (Administrator only).
// Every id must be an existing user; current members are skipped. It
// returns the group as stored afterwards.
func (s *Service) AddGroupMembers(ctx context.Context, p *tenantlink.Principal, groupID string, userIDs []string) (*tenantlink.Group, error) {
	return s.changeMembers(ctx, p, groupID, userIDs, true)
}

// RemoveGroupMembers removes users from a group (Administrator only).
// Removing the last active Administrator's membership of an Administrator
// group is refused (ErrLastAdministrator), as for every other change.
func (s *Service) RemoveGroupMembers(ctx context.Context, p *tenantlink.Principal, groupID string, userIDs []string) (*tenantlink.Group, error) {
	return s.changeMembers(ctx, p, groupID, userIDs, false)
}

func (s *Service) changeMembers(ctx context.Context, p *tenantlink.Principal, groupID string, userIDs []string, add bool) (*tenantlink.Group, error) {
	verb := "removing"
	if add {
		verb = "adding"
	}
	if err := requireAdmin(p, verb+" group members"); err != nil {
		return nil, err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(userIDs)))
	ids = slices.DeleteFunc(ids, func(id string) bool { return strings.TrimSpace(id) == "" })
	if len(ids) == 0 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "choose at least one user")
	}
	if len(ids) > 1000 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "at most 1000 users at a time")
	}
	var out *tenantlink.Group
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		g, err := tx.GetGroup(ctx, groupID)
		if err != nil {
			return err
		}
		labels := make([]string, 0, len(ids))
		for _, id := range ids {
			u, err := tx.GetUser(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return tenantlink.Errorf(tenantlink.EINVALID, "%q is not a directory user", id)
			}
			if err != nil {
				return err
			}
			if slices.Contains(g.Members, id) == add {
				continue // already in (or already out): nothing to do or record
			}
			labels = append(labels, userLabel(u))
		}
		now := s.Now()
		action := "group.members.remove"
		if add {
			action = "group.members.add"
			if _, err := tx.AddGroupMembers(ctx, g.ID, ids); err != nil {
				return err
			}
		} else {
			if _, err := tx.RemoveGroupMembers(ctx, g.ID, ids); err != nil {
				return err
			}
			if slices.Contains(g.Roles, tenantlink.RoleAdministrator) && len(labels) > 0 {
				if err := ensureAdministrator(ctx, tx); err != nil {
					return err
				}
			}
		}
		if out, err = tx.GetGroup(ctx, g.ID); err != nil {
			return err
		}
		if len(labels) == 0 {
			return nil // nothing changed: no entry
		}
		return Audit(ctx, tx, now, p, action, "group:"+g.ID, "ok",
			fmt.Sprintf("%s: %d user(s): %s", g.Name, len(labels), ListNames(labels)))
	})
	if err != nil {
		return nil, fmt.Errorf("%s group members: %w", verb, err)
	}
	return out, nil
}

// ListAudit lists audit entries, newest first. Administrators read the
// whole log; anyone else reads only the entries of their own actions
// (matched by user id), whatever filter they pass.
func (s *Service) ListAudit(ctx context.Context, p *tenantlink.Principal, f store.AuditFilter) ([]*tenantlink.AuditEntry, error) {
	if p == nil || (p.User == nil && p != tenantlink.System) {
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "sign in first")
	}
	if p != tenantlink.System && !p.Has(tenantlink.RoleAdministrator) {
		if p.User.ID == "" {
			return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "the audit log needs the Administrator role")
		}
		f.ActorID = p.User.ID
	}
	return s.Store.ListAudit(ctx, f)
}
