package directory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// GroupInput creates or changes a group. Nil fields are left as they are.
type GroupInput struct {
	Name    *string            `json:"name"`
	Roles   *[]tenantlink.Role `json:"roles"`
	Members *[]string          `json:"members"`
}

// CreateGroup creates a directory group (Administrator only).
func (s *Service) CreateGroup(ctx context.Context, p *tenantlink.Principal, in GroupInput) (*tenantlink.Group, error) {
	if err := requireAdmin(p, "creating groups"); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "name is required")
	}
	g := &tenantlink.Group{Roles: []tenantlink.Role{}, Members: []string{}}
	var out *tenantlink.Group
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		if err := applyGroup(ctx, tx, g, in); err != nil {
			return err
		}
		now := s.Now()
		g.CreatedAt, g.UpdatedAt = now, now
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		out = g
		return Audit(ctx, tx, now, p, "group.create", "group:"+g.ID, "ok", g.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	return out, nil
}

func applyGroup(ctx context.Context, tx store.Store, g *tenantlink.Group, in GroupInput) error {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" {
			return tenantlink.Errorf(tenantlink.EINVALID, "name must not be empty")
		}
		if err := checkText("name", n, 200); err != nil {
			return err
		}
		g.Name = n
	}
	if in.Roles != nil {
		if err := checkRoles(*in.Roles); err != nil {
			return err
		}
		g.Roles = slices.Compact(slices.Sorted(slices.Values(*in.Roles)))
	}
	if in.Members != nil {
		m := slices.Compact(slices.Sorted(slices.Values(*in.Members)))
		for _, id := range m {
			if _, err := tx.GetUser(ctx, id); err != nil {
				return tenantlink.Errorf(tenantlink.EINVALID, "member %q is not a directory user", id)
			}
		}
		g.Members = m
	}
	return nil
}

// UpdateGroup changes a group (Administrator only).
func (s *Service) UpdateGroup(ctx context.Context, p *tenantlink.Principal, id string, in GroupInput) (*tenantlink.Group, error) {
	if err := requireAdmin(p, "changing groups"); err != nil {
		return nil, err
	}
	var (
		out     *tenantlink.Group
		renamed bool
	)
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		g, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		wasAdmin := grantsAdmin(g)
		before := *g
		if err := applyGroup(ctx, tx, g, in); err != nil {
			return err
		}
		g.UpdatedAt = s.Now()
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		if wasAdmin {
			if err := ensureAdministrator(ctx, tx); err != nil {
				return err
			}
		}
		out = g
		renamed = before.Name != g.Name
		return Audit(ctx, tx, g.UpdatedAt, p, "group.update", "group:"+g.ID, "ok", groupChanges(&before, g))
	})
	if err != nil {
		return nil, fmt.Errorf("update group: %w", err)
	}
	if renamed && s.GroupRenamed != nil {
		// After the commit, like GroupDeleted; a failure leaves the old
		// name on the task until its settings are next saved.
		if err := s.GroupRenamed(ctx, p, out.ID, out.Name); err != nil && s.Logger != nil {
			s.Logger.Warn("directory: rename a group's sync task", "group", out.ID, "err", err)
		}
	}
	return out, nil
}

// GetGroup returns a group (Administrator only).
func (s *Service) GetGroup(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error) {
	if err := requireAdmin(p, "reading groups"); err != nil {
		return nil, err
	}
	return s.Store.GetGroup(ctx, id)
}

// ListGroups lists groups (Administrator only).
func (s *Service) ListGroups(ctx context.Context, p *tenantlink.Principal) ([]*tenantlink.Group, error) {
	if err := requireAdmin(p, "listing groups"); err != nil {
		return nil, err
	}
	return s.Store.ListGroups(ctx)
}

// DeleteGroup deletes a group (Administrator only), with its sync state
// and run history; GroupDeleted then removes its scheduled sync task.
func (s *Service) DeleteGroup(ctx context.Context, p *tenantlink.Principal, id string) error {
	if err := requireAdmin(p, "deleting groups"); err != nil {
		return err
	}
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		g, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return err
		}
		if grantsAdmin(g) {
			if err := ensureAdministrator(ctx, tx); err != nil {
				return err
			}
		}
		detail := g.Name
		if g.Sync != nil {
			detail += "; its group member sync and scheduled task are removed"
		}
		return Audit(ctx, tx, s.Now(), p, "group.delete", "group:"+id, "ok", detail)
	})
	if err != nil {
		return err
	}
	if s.GroupDeleted != nil {
		// After the commit: the task lives outside the directory's
		// transaction. Should this fail, the task's next run finds the
		// group gone and removes the task itself.
		if err := s.GroupDeleted(ctx, id); err != nil && s.Logger != nil {
			s.Logger.Warn("directory: remove a deleted group's sync task", "group", id, "err", err)
		}
	}
	return nil
}

// groupChanges says what an update changed, for its audit entry.
func groupChanges(before, after *tenantlink.Group) string {
	out := []string{after.Name}
	if before.Name != after.Name {
		out = append(out, fmt.Sprintf("renamed from %q", before.Name))
	}
	if !slices.Equal(before.Roles, after.Roles) {
		out = append(out, fmt.Sprintf("roles %v → %v", before.Roles, after.Roles))
	}
	if !slices.Equal(before.Members, after.Members) {
		out = append(out, fmt.Sprintf("members %d → %d", len(before.Members), len(after.Members)))
	}
	return strings.Join(out, "; ")
}

// CreateToken creates a token that does not expire (see IssueToken).
func (s *Service) CreateToken(ctx context.Context, p *tenantlink.Principal, userID, name string) (string, *Token, error) {
	return s.IssueToken(ctx, p, TokenInput{UserID: userID, Name: name})
}

// grantsAdmin reports whether g gives someone the Administrator role.
func grantsAdmin(g *tenantlink.Group) bool {
	return len(g.Members) > 0 && slices.Contains(g.Roles, tenantlink.RoleAdministrator)
}
