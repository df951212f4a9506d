package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
)

// CreateGroup inserts g with its members, filling ID and timestamps when
// empty. Every member must be an existing user.
func (db *DB) CreateGroup(ctx context.Context, g *tenantlink.Group) error {
	if strings.TrimSpace(g.Name) == "" {
		return invalid("a group needs a name")
	}
	roles, err := marshalList(g.Roles)
	if err != nil {
		return fmt.Errorf("sqlstore: create group: %w", err)
	}
	syncJSON, err := marshalSync(g.Sync)
	if err != nil {
		return fmt.Errorf("sqlstore: create group: %w", err)
	}
	id := g.ID
	if id == "" {
		id = newID()
	}
	now := db.now()
	created, updated := g.CreatedAt.UTC().Truncate(time.Microsecond), g.UpdatedAt.UTC().Truncate(time.Microsecond)
	if g.CreatedAt.IsZero() {
		created = now
	}
	if g.UpdatedAt.IsZero() {
		updated = created
	}
	err = db.withTx(ctx, func(tx *DB) error {
		_, err := tx.exec(ctx, `INSERT INTO groups (id, name, name_lower, roles, sync, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, g.Name, strings.ToLower(g.Name), roles, syncJSON, db.ts(created), db.ts(updated))
		if err != nil {
			return groupWriteError("create group", g, id, err)
		}
		return tx.putMembers(ctx, id, g.Members)
	})
	if err != nil {
		return err
	}
	g.ID, g.CreatedAt, g.UpdatedAt = id, created, updated
	return nil
}

func groupWriteError(op string, g *tenantlink.Group, id string, err error) error {
	if isPkey(err) {
		return conflict("a group with id %q already exists", id)
	}
	if isUnique(err) {
		return conflict("a group named %q already exists", g.Name)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// putMembers replaces a group's member list, keeping the caller's order.
func (db *DB) putMembers(ctx context.Context, groupID string, members []string) error {
	if _, err := db.exec(ctx, `DELETE FROM group_members WHERE group_id = $1`, groupID); err != nil {
		return fmt.Errorf("sqlstore: replace group members: %w", err)
	}
	seen := map[string]bool{}
	for i, uid := range members {
		if seen[uid] {
			continue
		}
		seen[uid] = true
		_, err := db.exec(ctx, `INSERT INTO group_members (group_id, user_id, position) VALUES ($1, $2, $3)`,
			groupID, uid, i)
		if isForeign(err) {
			return notFound("user %q not found", uid)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add group member: %w", err)
		}
	}
	return nil
}

// GetGroup returns the group with the given id and its members.
func (db *DB) GetGroup(ctx context.Context, id string) (*tenantlink.Group, error) {
	gs, err := db.queryGroups(ctx, `g.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, notFound("group %q not found", id)
	}
	return gs[0], nil
}

// ListGroups returns every group ordered by name.
func (db *DB) ListGroups(ctx context.Context) ([]*tenantlink.Group, error) {
	return db.queryGroups(ctx, `1 = 1`)
}

func (db *DB) queryGroups(ctx context.Context, where string, args ...any) ([]*tenantlink.Group, error) {
	rows, err := db.query(ctx, `SELECT g.id, g.name, g.roles, g.sync, g.created_at, g.updated_at
		FROM groups g WHERE `+where+` ORDER BY g.name_lower`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	defer rows.Close()
	groups := []*tenantlink.Group{}
	byID := map[string]*tenantlink.Group{}
	for rows.Next() {
		var (
			g                tenantlink.Group
			roles            string
			syncJSON         sql.NullString
			created, updated dbTime
		)
		if err := rows.Scan(&g.ID, &g.Name, &roles, &syncJSON, &created, &updated); err != nil {
			return nil, fmt.Errorf("sqlstore: scan group: %w", err)
		}
		if err := json.Unmarshal([]byte(roles), &g.Roles); err != nil {
			return nil, fmt.Errorf("sqlstore: group %s roles: %w", g.ID, err)
		}
		if g.Roles == nil {
			g.Roles = []tenantlink.Role{}
		}
		if syncJSON.Valid {
			g.Sync = new(tenantlink.SyncSettings)
			if err := json.Unmarshal([]byte(syncJSON.String), g.Sync); err != nil {
				return nil, fmt.Errorf("sqlstore: group %s sync settings: %w", g.ID, err)
			}
		}
		g.Members = []string{}
		g.CreatedAt, g.UpdatedAt = created.T, updated.T
		groups = append(groups, &g)
		byID[g.ID] = &g
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	rows.Close()
	if len(groups) == 0 {
		return groups, nil
	}
	mrows, err := db.query(ctx, `SELECT m.group_id, m.user_id FROM group_members m
		WHERE m.group_id IN (SELECT g.id FROM groups g WHERE `+where+`) ORDER BY m.group_id, m.position`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list group members: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var gid, uid string
		if err := mrows.Scan(&gid, &uid); err != nil {
			return nil, fmt.Errorf("sqlstore: scan group member: %w", err)
		}
		if g := byID[gid]; g != nil {
			g.Members = append(g.Members, uid)
		}
	}
	if err := mrows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list group members: %w", err)
	}
	return groups, nil
}

// UpdateGroup replaces a group's name, roles, sync settings and members; a
// zero UpdatedAt is stamped with Now.
func (db *DB) UpdateGroup(ctx context.Context, g *tenantlink.Group) error {
	if strings.TrimSpace(g.Name) == "" {
		return invalid("a group needs a name")
	}
	roles, err := marshalList(g.Roles)
	if err != nil {
		return fmt.Errorf("sqlstore: update group: %w", err)
	}
	syncJSON, err := marshalSync(g.Sync)
	if err != nil {
		return fmt.Errorf("sqlstore: update group: %w", err)
	}
	now := stamp(g.UpdatedAt, db.now())
	err = db.withTx(ctx, func(tx *DB) error {
		res, err := tx.exec(ctx, `UPDATE groups SET name = $2, name_lower = $3, roles = $4, sync = $5,
			updated_at = $6 WHERE id = $1`,
			g.ID, g.Name, strings.ToLower(g.Name), roles, syncJSON, db.ts(now))
		if err != nil {
			return groupWriteError("update group", g, g.ID, err)
		}
		if err := mustAffect(res, "update group"); err != nil {
			return notFoundOr(err, "group %q not found", g.ID)
		}
		return tx.putMembers(ctx, g.ID, g.Members)
	})
	if err != nil {
		return err
	}
	g.UpdatedAt = now
	return nil
}

// DeleteGroup removes a group and its memberships.
func (db *DB) DeleteGroup(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete group: %w", err)
	}
	return notFoundOr(mustAffect(res, "delete group"), "group %q not found", id)
}

func marshalSync(s *tenantlink.SyncSettings) (any, error) {
	if s == nil {
		return nil, nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}
