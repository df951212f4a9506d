package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

const userColumns = `u.id, u.email, u.display_name, u.given_name, u.surname, u.job_title, u.department,
	u.active, u.roles, u.source_datasource, u.source_object_id, u.password_hash, u.created_at, u.updated_at,
	u.source_tenant`

// CreateUser inserts u, filling ID and timestamps when empty. u.Groups is
// ignored: membership is written through the groups.
func (db *DB) CreateUser(ctx context.Context, u *tenantlink.User) error {
	if strings.TrimSpace(u.Email) == "" {
		return invalid("a user needs an email address")
	}
	roles, err := marshalList(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlstore: create user: %w", err)
	}
	id := u.ID
	if id == "" {
		id = newID()
	}
	now := db.now()
	created, updated := u.CreatedAt.UTC().Truncate(time.Microsecond), u.UpdatedAt.UTC().Truncate(time.Microsecond)
	if u.CreatedAt.IsZero() {
		created = now
	}
	if u.UpdatedAt.IsZero() {
		updated = created
	}
	srcDS, srcObj, srcTenant := sourceArgs(u.Source)
	_, err = db.exec(ctx, `INSERT INTO users (id, email, email_lower, display_name, display_lower,
		given_name, surname, job_title, department, active, roles, source_datasource, source_object_id,
		password_hash, created_at, updated_at, source_tenant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		id, u.Email, strings.ToLower(u.Email), u.DisplayName, strings.ToLower(u.DisplayName),
		u.GivenName, u.Surname, u.JobTitle, u.Department, u.Active, roles, srcDS, srcObj,
		u.PasswordHash, db.ts(created), db.ts(updated), srcTenant)
	if err != nil {
		return userWriteError("create user", u, id, err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt = id, created, updated
	return nil
}

func userWriteError(op string, u *tenantlink.User, id string, err error) error {
	if isUnique(err) {
		_, name := constraint(err)
		switch {
		case isPkey(err):
			return conflict("a user with id %q already exists", id)
		case strings.Contains(name, "external") || strings.Contains(name, "source_tenant"):
			return conflict("a user for Microsoft object %q of tenant %q already exists", u.Source.ObjectID, u.Source.Tenant)
		case strings.Contains(name, "source"):
			return conflict("a user imported from object %q of data source %q already exists", u.Source.ObjectID, u.Source.DataSource)
		default:
			return conflict("a user with email %q already exists", u.Email)
		}
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

func sourceArgs(s *tenantlink.UserSource) (ds, obj, tenant any) {
	if s == nil || (s.DataSource == "" && s.ObjectID == "") {
		return nil, nil, nil
	}
	if s.Tenant == "" {
		return s.DataSource, s.ObjectID, nil
	}
	return s.DataSource, s.ObjectID, strings.ToLower(s.Tenant)
}

// GetUser returns the user with the given id.
func (db *DB) GetUser(ctx context.Context, id string) (*tenantlink.User, error) {
	u, err := db.oneUser(ctx, `u.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user %q not found", id)
	}
	return u, err
}

// GetUserByEmail returns the user with the given email, case-insensitively.
func (db *DB) GetUserByEmail(ctx context.Context, email string) (*tenantlink.User, error) {
	u, err := db.oneUser(ctx, `u.email_lower = $1`, strings.ToLower(email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no user with email %q", email)
	}
	return u, err
}

// GetUserBySource returns the user imported from objectID of a data source.
func (db *DB) GetUserBySource(ctx context.Context, datasource, objectID string) (*tenantlink.User, error) {
	u, err := db.oneUser(ctx, `u.source_datasource = $1 AND u.source_object_id = $2`, datasource, objectID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no user imported from object %q of data source %q", objectID, datasource)
	}
	return u, err
}

// GetUserByExternalID returns the user for Microsoft object objectID of
// tenant, whichever data source imported or linked it: the stable identity
// single sign-on and imports match on.
func (db *DB) GetUserByExternalID(ctx context.Context, tenant, objectID string) (*tenantlink.User, error) {
	if tenant == "" || objectID == "" {
		return nil, notFound("no user for Microsoft object %q of tenant %q", objectID, tenant)
	}
	u, err := db.oneUser(ctx, `u.source_tenant = $1 AND u.source_object_id = $2`, strings.ToLower(tenant), objectID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no user for Microsoft object %q of tenant %q", objectID, tenant)
	}
	return u, err
}

func (db *DB) oneUser(ctx context.Context, where string, args ...any) (*tenantlink.User, error) {
	users, err := db.queryUsers(ctx, where, "", 0, args...)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, sql.ErrNoRows
	}
	return users[0], nil
}

// ListUsers returns users ordered by email.
func (db *DB) ListUsers(ctx context.Context, f store.UserFilter) ([]*tenantlink.User, error) {
	var conds []string
	var args []any
	if f.Search != "" {
		args = append(args, likePattern(f.Search))
		n := len(args)
		conds = append(conds, fmt.Sprintf(`(u.email_lower LIKE $%d ESCAPE '\' OR u.display_lower LIKE $%d ESCAPE '\')`, n, n))
	}
	if f.DataSource != "" {
		args = append(args, f.DataSource)
		conds = append(conds, fmt.Sprintf(`u.source_datasource = $%d`, len(args)))
	}
	if f.Group != "" {
		args = append(args, f.Group)
		conds = append(conds, fmt.Sprintf(`u.id IN (SELECT gm.user_id FROM group_members gm WHERE gm.group_id = $%d)`, len(args)))
	}
	if f.NotGroup != "" {
		args = append(args, f.NotGroup)
		conds = append(conds, fmt.Sprintf(`u.id NOT IN (SELECT gm.user_id FROM group_members gm WHERE gm.group_id = $%d)`, len(args)))
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []*tenantlink.User{}, nil
		}
		marks := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			args = append(args, id)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		conds = append(conds, `u.id IN (`+strings.Join(marks, ", ")+`)`)
	}
	where := "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	order := " ORDER BY u.email_lower"
	switch f.Sort {
	case "", "email":
	case "name":
		order = " ORDER BY u.display_lower, u.email_lower"
	default:
		return nil, invalid("users sort by email or name, not %q", f.Sort)
	}
	if f.Limit <= 0 {
		return db.queryUsers(ctx, where, order, 0, args...)
	}
	// The limit and offset are the last arguments; the member query
	// reuses the others.
	tail := fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)+1, len(args)+2)
	return db.queryUsers(ctx, where, order+tail, 2, append(args, f.Limit, max(f.Offset, 0))...)
}

// queryUsers loads the users matching where, in the order tail gives
// (default by email), then their group ids with one more query over the
// same condition rather than one per user. The last nTail args belong to
// tail (a limit), which the member query leaves out.
func (db *DB) queryUsers(ctx context.Context, where, tail string, nTail int, args ...any) ([]*tenantlink.User, error) {
	if tail == "" {
		tail = " ORDER BY u.email_lower"
	}
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users u WHERE `+where+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	defer rows.Close()
	users := []*tenantlink.User{}
	byID := map[string]*tenantlink.User{}
	for rows.Next() {
		var (
			u              tenantlink.User
			roles          string
			srcDS, srcObj  sql.NullString
			srcTenant      sql.NullString
			created, updat dbTime
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.DisplayName, &u.GivenName, &u.Surname, &u.JobTitle,
			&u.Department, &u.Active, &roles, &srcDS, &srcObj, &u.PasswordHash, &created, &updat, &srcTenant); err != nil {
			return nil, fmt.Errorf("sqlstore: scan user: %w", err)
		}
		if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
			return nil, fmt.Errorf("sqlstore: user %s roles: %w", u.ID, err)
		}
		if u.Roles == nil {
			u.Roles = []tenantlink.Role{}
		}
		if srcDS.Valid {
			u.Source = &tenantlink.UserSource{DataSource: srcDS.String, ObjectID: srcObj.String, Tenant: srcTenant.String}
		}
		u.Groups = []string{}
		u.CreatedAt, u.UpdatedAt = created.T, updat.T
		users = append(users, &u)
		byID[u.ID] = &u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	rows.Close()
	if len(users) == 0 {
		return users, nil
	}
	args = args[:len(args)-nTail]
	in := `SELECT u.id FROM users u WHERE ` + where
	if nTail > 0 && len(users) <= 1000 {
		// A page: its own ids, not every match of the condition.
		ph := make([]string, len(users))
		args = args[:0:0]
		for i, u := range users {
			ph[i] = fmt.Sprintf("$%d", i+1)
			args = append(args, u.ID)
		}
		in = strings.Join(ph, ", ")
	}
	mrows, err := db.query(ctx, `SELECT m.user_id, m.group_id FROM group_members m
		WHERE m.user_id IN (`+in+`) ORDER BY m.user_id, m.group_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list user groups: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var uid, gid string
		if err := mrows.Scan(&uid, &gid); err != nil {
			return nil, fmt.Errorf("sqlstore: scan user group: %w", err)
		}
		if u := byID[uid]; u != nil {
			u.Groups = append(u.Groups, gid)
		}
	}
	if err := mrows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list user groups: %w", err)
	}
	return users, nil
}

// UpdateUser replaces every stored field of u except ID, CreatedAt and
// Groups; a zero UpdatedAt is stamped with Now.
func (db *DB) UpdateUser(ctx context.Context, u *tenantlink.User) error {
	if strings.TrimSpace(u.Email) == "" {
		return invalid("a user needs an email address")
	}
	roles, err := marshalList(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlstore: update user: %w", err)
	}
	now := stamp(u.UpdatedAt, db.now())
	srcDS, srcObj, srcTenant := sourceArgs(u.Source)
	res, err := db.exec(ctx, `UPDATE users SET email = $2, email_lower = $3, display_name = $4,
		display_lower = $5, given_name = $6, surname = $7, job_title = $8, department = $9, active = $10,
		roles = $11, source_datasource = $12, source_object_id = $13, password_hash = $14, updated_at = $15,
		source_tenant = $16
		WHERE id = $1`,
		u.ID, u.Email, strings.ToLower(u.Email), u.DisplayName, strings.ToLower(u.DisplayName),
		u.GivenName, u.Surname, u.JobTitle, u.Department, u.Active, roles, srcDS, srcObj,
		u.PasswordHash, db.ts(now), srcTenant)
	if err != nil {
		return userWriteError("update user", u, u.ID, err)
	}
	if err := mustAffect(res, "update user"); err != nil {
		return notFoundOr(err, "user %q not found", u.ID)
	}
	u.UpdatedAt = now
	return nil
}

// DeleteUser removes a user with its group memberships, sessions and API
// tokens (by foreign-key cascade).
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete user: %w", err)
	}
	return notFoundOr(mustAffect(res, "delete user"), "user %q not found", id)
}

var errNoRow = errors.New("no row affected")

func mustAffect(res sql.Result, op string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if n == 0 {
		return errNoRow
	}
	return nil
}

func notFoundOr(err error, format string, args ...any) error {
	if errors.Is(err, errNoRow) {
		return notFound(format, args...)
	}
	return err
}

// marshalList stores a nil list as [] so readers never see null.
func marshalList[T any](l []T) (string, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}
