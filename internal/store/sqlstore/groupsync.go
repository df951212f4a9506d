package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// maxBatch bounds the rows of one multi-row statement: 16 columns × 1,000
// stays under SQLite's 32,766 and PostgreSQL's 65,535 parameters. Larger
// inputs are split.
const maxBatch = 1000

// placeholders returns "($s,$s+1,…),(…)" for rows rows of cols columns,
// numbering from start; casts (per column, may be empty) follow each
// placeholder, which PostgreSQL needs to type a VALUES list.
func placeholders(start, rows, cols int, casts []string) string {
	var b strings.Builder
	n := start
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			if casts != nil {
				b.WriteString(casts[c])
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// inList returns "$s,$s+1,…" for n values.
func inList(start, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(start + i))
	}
	return b.String()
}

// rebind rewrites $n placeholders to ? on SQLite, for statements that
// use each parameter once, in order. modernc's driver looks every
// parameter's name up in a list that grows with the statement, which made
// a 1,000-row insert (15,000 named parameters) quadratic: most of a bulk
// import's CPU. Anonymous ? parameters have no name to look up.
func (db *DB) rebind(q string) string {
	if db.dialect != DialectSQLite {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			b.WriteByte('?')
			for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				i++
			}
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// bulkExec and bulkQuery run the sync's multi-row statements, whose text
// varies with the number of rows: $n placeholders become ? on SQLite
// (see rebind).
//
// On SQLite they have their own small cache of the most recently used
// statements: the general cache would fill up with one text per row count
// (it stops caching at 256, the store's small constant statements
// included), and a prepared 1,000-row statement holds a large program.
// Pages of one size reuse the same few statements; preparing one costs
// about a millisecond, a tenth of a page's store time.
//
// On PostgreSQL they run as pgx's unnamed statements (describe-exec
// mode), so each is planned with its parameters: a named prepared
// statement soon switches to a generic plan, and one made while a bulk
// import's tables were small kept scanning them sequentially once they
// were not — seconds per page halfway through a 100,000-user import. The
// describe step costs a round trip but lets pgx send the arrays in binary
// (plain exec mode sends them as text, which pgx quotes and PostgreSQL
// parses per element): 22 → 17 ms client CPU per 999-user page.
func (db *DB) bulkExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.dialect == DialectPostgres {
		return db.q.ExecContext(ctx, query, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	}
	st, err := db.bulkStmt(ctx, db.rebind(query))
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (db *DB) bulkQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.dialect == DialectPostgres {
		return db.q.QueryContext(ctx, query, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	}
	st, err := db.bulkStmt(ctx, db.rebind(query))
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (db *DB) bulkStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := db.bulk.get(ctx, db.db, query)
	if err != nil {
		return nil, err
	}
	if db.tx != nil {
		return db.tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

// maxBulkStmts is how many bulk statements stay prepared: a page's few
// statements at its size and at the last chunk's, with room to spare.
const maxBulkStmts = 16

// lruStmts keeps the max most recently used statements prepared, closing
// the least recently used one beyond that. Closing is safe while a
// transaction still uses it: database/sql finishes the close when the
// last user lets go.
//
// An evicted statement is closed on its own goroutine, never by the
// caller: get runs inside the sync's transactions, which on SQLite hold
// the write lock, and closing a statement takes the mutex of every pooled
// connection it was ever prepared on. A connection waiting in BEGIN
// IMMEDIATE for that same lock (River's producer, completer or elector,
// the notification receiver's job insert, another store transaction)
// holds its mutex while it waits, so a close there waited for the waiter
// — which waited for the transaction — until the waiter gave up
// (busy_timeout, 10 s; decision 0026).
type lruStmts struct {
	mu      sync.Mutex
	max     int
	order   []string // least recently used first
	m       map[string]*sql.Stmt
	closing sync.WaitGroup // evicted statements being closed
}

func (c *lruStmts) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		if i := slices.Index(c.order, query); i >= 0 {
			c.order = append(append(c.order[:i:i], c.order[i+1:]...), query)
		}
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: prepare: %w", err)
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	c.order = append(c.order, query)
	for len(c.order) > c.max {
		old := c.order[0]
		c.order = c.order[1:]
		evicted := c.m[old]
		delete(c.m, old)
		c.closing.Go(func() { evicted.Close() })
	}
	return st, nil
}

func (c *lruStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m, c.order = nil, nil
	c.closing.Wait()
}

func strArgs(prefix []any, ss []string) []any {
	args := append(make([]any, 0, len(prefix)+len(ss)), prefix...)
	for _, s := range ss {
		args = append(args, s)
	}
	return args
}

// UpsertImportedUsers creates or updates users imported from datasource in
// a few multi-row statements per batch.
func (db *DB) UpsertImportedUsers(ctx context.Context, datasource string, users []*tenantlink.User) ([]store.ImportOutcome, error) {
	out := make([]store.ImportOutcome, 0, len(users))
	err := db.withTx(ctx, func(tx *DB) error {
		for part := range slices.Chunk(users, maxBatch) {
			o, err := tx.upsertImported(ctx, datasource, part)
			if err != nil {
				return err
			}
			out = append(out, o...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func sameImported(a, b *tenantlink.User) bool {
	return a.Email == b.Email && a.DisplayName == b.DisplayName && a.GivenName == b.GivenName &&
		a.Surname == b.Surname && a.JobTitle == b.JobTitle && a.Department == b.Department && a.Active == b.Active
}

func (db *DB) upsertImported(ctx context.Context, datasource string, users []*tenantlink.User) ([]store.ImportOutcome, error) {
	objs := make([]string, 0, len(users))
	tenant := ""
	for i, u := range users {
		if u.Source == nil || u.Source.ObjectID == "" {
			return nil, invalid("an imported user needs a source object id")
		}
		if strings.TrimSpace(u.Email) == "" {
			return nil, invalid("imported user %q needs an email address", u.Source.ObjectID)
		}
		if i == 0 {
			tenant = strings.ToLower(u.Source.Tenant)
		} else if !strings.EqualFold(u.Source.Tenant, tenant) {
			return nil, invalid("one import batch holds users of one tenant")
		}
		objs = append(objs, u.Source.ObjectID)
	}
	byObj, err := db.importedUsers(ctx, datasource, tenant, objs)
	if err != nil {
		return nil, err
	}
	// Emails that will be written: new users' and changed ones'. Who else
	// holds them decides the conflicts before anything is written.
	var emails []string
	for _, u := range users {
		if old := byObj[u.Source.ObjectID]; old == nil || !strings.EqualFold(old.Email, u.Email) {
			emails = append(emails, strings.ToLower(u.Email))
		}
	}
	holder := map[string]string{} // email_lower -> user id
	if len(emails) > 0 {
		q, args := `SELECT email_lower, id FROM users WHERE email_lower IN (`+inList(1, len(emails))+`)`, strArgs(nil, emails)
		if db.dialect == DialectPostgres {
			// A join with the array, not = ANY: see pgLookupNote.
			q, args = `SELECT u.email_lower, u.id FROM unnest($1::text[]) AS e (el)
				CROSS JOIN LATERAL (SELECT email_lower, id FROM users WHERE email_lower = e.el LIMIT 1) u`, []any{emails}
		}
		rows, err := db.bulkQuery(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: import users: %w", err)
		}
		for rows.Next() {
			var e, id string
			if err := rows.Scan(&e, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: import users: %w", err)
			}
			holder[e] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: import users: %w", err)
		}
	}
	now := db.now()
	out := make([]store.ImportOutcome, len(users))
	var creates, updates []*tenantlink.User
	seenObj := map[string]bool{}
	for i, u := range users {
		old := byObj[u.Source.ObjectID]
		el := strings.ToLower(u.Email)
		if seenObj[u.Source.ObjectID] {
			// A repeated object in one batch: the first write wins; later
			// copies report what the first did.
			out[i] = store.ImportOutcome{ID: u.ID, Outcome: store.ImportUnchanged}
			if old != nil {
				out[i].ID = old.ID
			}
			continue
		}
		seenObj[u.Source.ObjectID] = true
		if h, ok := holder[el]; ok && (old == nil || h != old.ID) {
			out[i] = store.ImportOutcome{Outcome: store.ImportConflict, ConflictWith: h}
			continue
		}
		switch {
		case old == nil:
			u.ID = newID()
			u.CreatedAt, u.UpdatedAt = stamp(u.CreatedAt, now), stamp(u.UpdatedAt, now)
			if u.Roles == nil {
				u.Roles = []tenantlink.Role{tenantlink.RoleUser}
			}
			creates = append(creates, u)
			holder[el] = u.ID
			out[i] = store.ImportOutcome{ID: u.ID, Outcome: store.ImportCreated}
		case sameImported(old, u):
			u.ID = old.ID
			out[i] = store.ImportOutcome{ID: old.ID, Outcome: store.ImportUnchanged}
		default:
			u.ID = old.ID
			u.UpdatedAt = stamp(u.UpdatedAt, now)
			updates = append(updates, u)
			holder[el] = u.ID
			out[i] = store.ImportOutcome{ID: old.ID, Outcome: store.ImportUpdated, Before: old}
		}
	}
	if err := db.insertImported(ctx, datasource, tenant, creates); err != nil {
		return nil, err
	}
	if err := db.updateImported(ctx, updates); err != nil {
		return nil, err
	}
	return out, nil
}

// importedUsers returns the stored users of objs by object id, with the
// columns an import compares and reports (not their group memberships).
// It is not queryUsers: that one orders by email, which let SQLite walk
// the whole email index instead of probing the (data source, object id)
// index a thousand times, and it reads every user's groups, which an
// import never needs.
//
// pgLookupNote: on PostgreSQL the batch's values are joined as an unnest
// of one array rather than matched with = ANY (array). Given a
// 999-element array, the planner estimated 999 index probes dearer than
// one sequential scan with a hashed filter, and chose the scan: 33–42 ms
// per lookup on a 100,000-user table (growing with it, so a full import
// slowed as it went), against 8–13 ms for the nested loop of index probes
// it picks for the join. Measured on the shared 2-vCPU box, warm cache.
//
// With a tenant (the data source's Account), users are found by tenant id
// + object id whichever data source imported them (the users_external
// index): two data sources on one tenant import one person as one user.
// Without one (a store used directly, or a source that has no tenant) the
// key is the data source and object id, as before.
func (db *DB) importedUsers(ctx context.Context, datasource, tenant string, objs []string) (map[string]*tenantlink.User, error) {
	const cols = `id, email, display_name, given_name, surname, job_title, department,
		active, roles, source_object_id, created_at, updated_at, source_datasource`
	keyCol, key := "source_datasource", datasource
	if tenant != "" {
		keyCol, key = "source_tenant", tenant
	}
	q, args := `SELECT `+cols+` FROM users WHERE `+keyCol+` = $1 AND source_object_id IN (`+inList(2, len(objs))+`)`,
		strArgs([]any{key}, objs)
	if db.dialect == DialectPostgres {
		q, args = `SELECT u.* FROM unnest($2::text[]) AS o (obj) CROSS JOIN LATERAL (SELECT `+cols+` FROM users
			WHERE `+keyCol+` = $1 AND source_object_id = o.obj LIMIT 1) u`, []any{key, objs}
	}
	rows, err := db.bulkQuery(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: import users: %w", err)
	}
	defer rows.Close()
	out := make(map[string]*tenantlink.User, len(objs))
	for rows.Next() {
		var (
			u              tenantlink.User
			roles, obj     string
			created, updat dbTime
			ds             sql.NullString
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.DisplayName, &u.GivenName, &u.Surname, &u.JobTitle, &u.Department,
			&u.Active, &roles, &obj, &created, &updat, &ds); err != nil {
			return nil, fmt.Errorf("sqlstore: import users: %w", err)
		}
		if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
			return nil, fmt.Errorf("sqlstore: user %s roles: %w", u.ID, err)
		}
		u.Source = &tenantlink.UserSource{DataSource: ds.String, ObjectID: obj, Tenant: tenant}
		u.CreatedAt, u.UpdatedAt = created.T, updat.T
		out[obj] = &u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: import users: %w", err)
	}
	return out, nil
}

func (db *DB) insertImported(ctx context.Context, datasource, tenant string, users []*tenantlink.User) error {
	if len(users) == 0 {
		return nil
	}
	var tenantArg any // NULL without a tenant: the unique index ignores it
	if tenant != "" {
		tenantArg = tenant
	}
	if db.dialect == DialectPostgres {
		return db.insertImportedPG(ctx, datasource, tenantArg, users)
	}
	const cols = 16
	args := make([]any, 0, len(users)*cols)
	for _, u := range users {
		roles, err := marshalList(u.Roles)
		if err != nil {
			return fmt.Errorf("sqlstore: import users: %w", err)
		}
		args = append(args, u.ID, u.Email, strings.ToLower(u.Email), u.DisplayName, strings.ToLower(u.DisplayName),
			u.GivenName, u.Surname, u.JobTitle, u.Department, u.Active, roles, datasource, u.Source.ObjectID,
			db.ts(u.CreatedAt), db.ts(u.UpdatedAt), tenantArg)
	}
	_, err := db.bulkExec(ctx, `INSERT INTO users (id, email, email_lower, display_name, display_lower,
		given_name, surname, job_title, department, active, roles, source_datasource, source_object_id,
		created_at, updated_at, source_tenant) VALUES `+placeholders(1, len(users), cols, nil), args...)
	if err != nil {
		return userWriteError("import users", users[0], users[0].ID, err)
	}
	return nil
}

// insertImportedPG is insertImported's PostgreSQL form: one array per
// column and unnest, so the statement has 15 parameters whatever the rows
// (a VALUES list of 15,000 parameters took longer to parse and plan than
// to run).
func (db *DB) insertImportedPG(ctx context.Context, datasource string, tenant any, users []*tenantlink.User) error {
	n := len(users)
	var (
		id, email, emailLower, name, nameLower = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		given, surname, job, dept, roles, obj  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		active                                 = make([]bool, n)
		created, updated                       = make([]time.Time, n), make([]time.Time, n)
	)
	for i, u := range users {
		r, err := marshalList(u.Roles)
		if err != nil {
			return fmt.Errorf("sqlstore: import users: %w", err)
		}
		id[i], email[i], emailLower[i], name[i], nameLower[i] = u.ID, u.Email, strings.ToLower(u.Email), u.DisplayName, strings.ToLower(u.DisplayName)
		given[i], surname[i], job[i], dept[i], roles[i], obj[i] = u.GivenName, u.Surname, u.JobTitle, u.Department, r, u.Source.ObjectID
		active[i], created[i], updated[i] = u.Active, u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	}
	_, err := db.bulkExec(ctx, `INSERT INTO users (id, email, email_lower, display_name, display_lower,
		given_name, surname, job_title, department, active, roles, source_datasource, source_object_id,
		created_at, updated_at, source_tenant)
		SELECT id, email, email_lower, display_name, display_lower, given_name, surname, job_title, department,
		active, roles, $12, source_object_id, created_at, updated_at, $16::text
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::boolean[], $11::text[], $13::text[], $14::timestamptz[], $15::timestamptz[])
		AS t (id, email, email_lower, display_name, display_lower, given_name, surname, job_title, department,
		active, roles, source_object_id, created_at, updated_at)`,
		id, email, emailLower, name, nameLower, given, surname, job, dept, active, roles, datasource, obj, created, updated, tenant)
	if err != nil {
		return userWriteError("import users", users[0], users[0].ID, err)
	}
	return nil
}

// updateImported writes the mapped fields of many users with one UPDATE …
// FROM a VALUES list.
func (db *DB) updateImported(ctx context.Context, users []*tenantlink.User) error {
	if len(users) == 0 {
		return nil
	}
	if db.dialect == DialectPostgres {
		return db.updateImportedPG(ctx, users)
	}
	const cols = 10
	var casts []string
	if db.dialect == DialectPostgres {
		casts = []string{"::text", "::text", "::text", "::text", "::text", "::text", "::text", "::text", "::boolean", "::timestamptz"}
	}
	args := make([]any, 0, len(users)*cols)
	for _, u := range users {
		args = append(args, u.ID, u.Email, strings.ToLower(u.Email), u.DisplayName, u.GivenName, u.Surname,
			u.JobTitle, u.Department, u.Active, db.ts(u.UpdatedAt))
	}
	_, err := db.bulkExec(ctx, `WITH v (id, email, email_lower, display_name, given_name, surname, job_title, department, active, updated_at)
		AS (VALUES `+placeholders(1, len(users), cols, casts)+`)
		UPDATE users SET email = v.email, email_lower = v.email_lower, display_name = v.display_name,
		display_lower = lower(v.display_name), given_name = v.given_name, surname = v.surname,
		job_title = v.job_title, department = v.department, active = v.active, updated_at = v.updated_at
		FROM v WHERE users.id = v.id`, args...)
	if err != nil {
		return userWriteError("import users", users[0], users[0].ID, err)
	}
	// lower() folds only ASCII on SQLite: write the Go-folded display name
	// where it differs, so search agrees on both backends.
	for _, u := range users {
		if dl := strings.ToLower(u.DisplayName); dl != asciiLower(u.DisplayName) {
			if _, err := db.exec(ctx, `UPDATE users SET display_lower = $2 WHERE id = $1`, u.ID, dl); err != nil {
				return fmt.Errorf("sqlstore: import users: %w", err)
			}
		}
	}
	return nil
}

// updateImportedPG is updateImported's PostgreSQL form: one array per
// column (10 parameters, not 10 per row; see insertImportedPG), and the
// display name folded in Go, as every other write of display_lower is, so
// no user needs a second statement to correct PostgreSQL's lower().
func (db *DB) updateImportedPG(ctx context.Context, users []*tenantlink.User) error {
	n := len(users)
	var (
		id, email, emailLower, name, nameLower = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		given, surname, job, dept              = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		active                                 = make([]bool, n)
		updated                                = make([]time.Time, n)
	)
	for i, u := range users {
		id[i], email[i], emailLower[i], name[i], nameLower[i] = u.ID, u.Email, strings.ToLower(u.Email), u.DisplayName, strings.ToLower(u.DisplayName)
		given[i], surname[i], job[i], dept[i], active[i], updated[i] = u.GivenName, u.Surname, u.JobTitle, u.Department, u.Active, u.UpdatedAt.UTC()
	}
	_, err := db.bulkExec(ctx, `UPDATE users SET email = v.email, email_lower = v.email_lower, display_name = v.display_name,
		display_lower = v.display_lower, given_name = v.given_name, surname = v.surname, job_title = v.job_title,
		department = v.department, active = v.active, updated_at = v.updated_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::boolean[], $11::timestamptz[])
		AS v (id, email, email_lower, display_name, display_lower, given_name, surname, job_title, department, active, updated_at)
		WHERE users.id = v.id`,
		id, email, emailLower, name, nameLower, given, surname, job, dept, active, updated)
	if err != nil {
		return userWriteError("import users", users[0], users[0].ID, err)
	}
	return nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// AddGroupMembers appends users to a group after its current members.
func (db *DB) AddGroupMembers(ctx context.Context, groupID string, userIDs []string) (int, error) {
	total := 0
	err := db.withTx(ctx, func(tx *DB) error {
		if len(userIDs) > 0 {
			if err := tx.holdGroup(ctx, groupID); err != nil {
				return err
			}
		}
		var maxPos sql.NullInt64
		if err := tx.queryRow(ctx, `SELECT max(position) FROM group_members WHERE group_id = $1`, groupID).Scan(&maxPos); err != nil {
			return fmt.Errorf("sqlstore: add group members: %w", err)
		}
		next := 0
		if maxPos.Valid {
			next = int(maxPos.Int64) + 1
		}
		for part := range slices.Chunk(dedupe(userIDs), maxBatch) {
			var res sql.Result
			var err error
			if tx.dialect == DialectPostgres {
				// Arrays and unnest: three parameters, not three per row.
				res, err = tx.bulkExec(ctx, `INSERT INTO group_members (group_id, user_id, position)
					SELECT $1, u, $2::integer + (n - 1)::integer FROM unnest($3::text[]) WITH ORDINALITY AS t (u, n)
					ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, next, part)
				next += len(part)
			} else {
				args := make([]any, 0, 3*len(part))
				for _, id := range part {
					args = append(args, groupID, id, next)
					next++
				}
				res, err = tx.bulkExec(ctx, `INSERT INTO group_members (group_id, user_id, position) VALUES `+
					placeholders(1, len(part), 3, nil)+` ON CONFLICT (group_id, user_id) DO NOTHING`, args...)
			}
			if isForeign(err) {
				return notFound("group %q or one of the users does not exist", groupID)
			}
			if err != nil {
				return fmt.Errorf("sqlstore: add group members: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("sqlstore: add group members: %w", err)
			}
			total += int(n)
		}
		return nil
	})
	return total, err
}

// holdGroup checks, on PostgreSQL, that the group exists and keeps it
// from being deleted until the transaction ends: FOR KEY SHARE is the lock
// a foreign key check takes. Migration 0006 dropped the foreign keys from
// sync_members and group_members to groups, which checked the same group
// once per row (~8 ms per table for a 999-user page); the bulk writers
// check it here once per call instead. On SQLite the foreign keys remain
// and this does nothing.
func (db *DB) holdGroup(ctx context.Context, groupID string) error {
	if db.dialect != DialectPostgres {
		return nil
	}
	var id string
	err := db.queryRow(ctx, `SELECT id FROM groups WHERE id = $1 FOR KEY SHARE`, groupID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("group %q not found", groupID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: check group: %w", err)
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// execIn runs query (which ends in "IN (") once per chunk of ids with the
// fixed args first, returning the rows affected.
func (db *DB) execIn(ctx context.Context, op, query string, fixed []any, ids []string) (int, error) {
	total := 0
	err := db.withTx(ctx, func(tx *DB) error {
		for part := range slices.Chunk(dedupe(ids), maxBatch) {
			res, err := tx.bulkExec(ctx, query+inList(len(fixed)+1, len(part))+`)`, strArgs(fixed, part)...)
			if err != nil {
				return fmt.Errorf("sqlstore: %s: %w", op, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("sqlstore: %s: %w", op, err)
			}
			total += int(n)
		}
		return nil
	})
	return total, err
}

// RemoveGroupMembers removes users from a group.
func (db *DB) RemoveGroupMembers(ctx context.Context, groupID string, userIDs []string) (int, error) {
	return db.execIn(ctx, "remove group members", `DELETE FROM group_members WHERE group_id = $1 AND user_id IN (`,
		[]any{groupID}, userIDs)
}

// SetUsersActive sets active on the users whose value differs.
func (db *DB) SetUsersActive(ctx context.Context, userIDs []string, active bool, at time.Time) (int, error) {
	return db.execIn(ctx, "set users active", `UPDATE users SET active = $1, updated_at = $2 WHERE active <> $3 AND id IN (`,
		[]any{active, db.ts(stamp(at, db.now())), active}, userIDs)
}

// DeleteUsers deletes users with their memberships, sessions and tokens.
func (db *DB) DeleteUsers(ctx context.Context, userIDs []string) (int, error) {
	return db.execIn(ctx, "delete users", `DELETE FROM users WHERE id IN (`, nil, userIDs)
}

// GetGroupSettings returns a group as GetGroup does but without its
// members (Members is nil): a sync run needs the group's settings at its
// start, and reading a 100,000-member group for them cost more than an
// incremental run's own work. Not part of store.Store: groupsync uses it
// when the store has it.
func (db *DB) GetGroupSettings(ctx context.Context, id string) (*tenantlink.Group, error) {
	var (
		g                tenantlink.Group
		roles            string
		syncJSON         sql.NullString
		created, updated dbTime
	)
	err := db.queryRow(ctx, `SELECT id, name, roles, sync, created_at, updated_at FROM groups WHERE id = $1`, id).
		Scan(&g.ID, &g.Name, &roles, &syncJSON, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get group: %w", err)
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
	g.CreatedAt, g.UpdatedAt = created.T, updated.T
	return &g, nil
}

// GetSyncState returns a group's sync position.
func (db *DB) GetSyncState(ctx context.Context, groupID string) (*store.SyncState, error) {
	s := &store.SyncState{GroupID: groupID}
	var upd dbTime
	err := db.queryRow(ctx, `SELECT datasource_id, source, cursor, updated_at FROM sync_states WHERE group_id = $1`, groupID).
		Scan(&s.DataSource, &s.Source, &s.Cursor, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group %q has no sync state", groupID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get sync state: %w", err)
	}
	s.UpdatedAt = upd.T
	return s, nil
}

// PutSyncState creates or replaces a group's sync position.
func (db *DB) PutSyncState(ctx context.Context, s *store.SyncState) error {
	at := stamp(s.UpdatedAt, db.now())
	_, err := db.exec(ctx, `INSERT INTO sync_states (group_id, datasource_id, source, cursor, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (group_id) DO UPDATE SET datasource_id = excluded.datasource_id,
		source = excluded.source, cursor = excluded.cursor, updated_at = excluded.updated_at`,
		s.GroupID, s.DataSource, s.Source, s.Cursor, db.ts(at))
	if isForeign(err) {
		return notFound("group %q not found", s.GroupID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put sync state: %w", err)
	}
	s.UpdatedAt = at
	return nil
}

// DeleteSyncState forgets a group's position and tracked members, so the
// next run is a full one. Deleting nothing is not an error.
func (db *DB) DeleteSyncState(ctx context.Context, groupID string) error {
	return db.withTx(ctx, func(tx *DB) error {
		if _, err := tx.exec(ctx, `DELETE FROM sync_states WHERE group_id = $1`, groupID); err != nil {
			return fmt.Errorf("sqlstore: delete sync state: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM sync_members WHERE group_id = $1`, groupID); err != nil {
			return fmt.Errorf("sqlstore: delete sync state: %w", err)
		}
		return nil
	})
}

// MarkSyncMembers records members (object id → user id) with mark.
func (db *DB) MarkSyncMembers(ctx context.Context, groupID, mark string, members []store.SyncMember) error {
	return db.withTx(ctx, func(tx *DB) error {
		if len(members) > 0 {
			if err := tx.holdGroup(ctx, groupID); err != nil {
				return err
			}
		}
		for part := range slices.Chunk(members, maxBatch) {
			args := make([]any, 0, 4*len(part))
			var objs, users []string
			seen := make(map[string]bool, len(part))
			rows := 0
			for _, m := range part {
				if seen[m.ObjectID] {
					continue // one row may not be upserted twice in one statement
				}
				seen[m.ObjectID] = true
				args = append(args, groupID, m.ObjectID, m.UserID, mark)
				objs, users = append(objs, m.ObjectID), append(users, m.UserID)
				rows++
			}
			const onConflict = ` ON CONFLICT (group_id, object_id) DO UPDATE SET
				user_id = CASE WHEN excluded.user_id = '' THEN sync_members.user_id ELSE excluded.user_id END,
				mark = excluded.mark`
			var err error
			if tx.dialect == DialectPostgres {
				// Arrays and unnest: four parameters, not four per row.
				_, err = tx.bulkExec(ctx, `INSERT INTO sync_members (group_id, object_id, user_id, mark)
					SELECT $1, o, u, $2 FROM unnest($3::text[], $4::text[]) AS t (o, u)`+onConflict, groupID, mark, objs, users)
			} else {
				_, err = tx.bulkExec(ctx, `INSERT INTO sync_members (group_id, object_id, user_id, mark) VALUES `+
					placeholders(1, rows, 4, nil)+onConflict, args...)
			}
			if isForeign(err) {
				return notFound("group %q not found", groupID)
			}
			if err != nil {
				return fmt.Errorf("sqlstore: mark sync members: %w", err)
			}
		}
		return nil
	})
}

// SyncMembers lists a group's tracked members matching f, by object id.
func (db *DB) SyncMembers(ctx context.Context, groupID string, f store.SyncMemberFilter) ([]store.SyncMember, error) {
	conds := []string{`group_id = $1`}
	args := []any{groupID}
	if f.ObjectIDs != nil {
		if len(f.ObjectIDs) == 0 {
			return []store.SyncMember{}, nil
		}
		conds = append(conds, `object_id IN (`+inList(len(args)+1, len(f.ObjectIDs))+`)`)
		args = strArgs(args, f.ObjectIDs)
	}
	if f.Mark != "" {
		args = append(args, f.Mark)
		conds = append(conds, fmt.Sprintf(`mark = $%d`, len(args)))
	}
	if f.NotMark != "" {
		args = append(args, f.NotMark)
		conds = append(conds, fmt.Sprintf(`mark <> $%d`, len(args)))
	}
	if f.After != "" {
		args = append(args, f.After)
		conds = append(conds, fmt.Sprintf(`object_id > $%d`, len(args)))
	}
	q := `SELECT object_id, user_id, mark FROM sync_members WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY object_id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := db.bulkQuery(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sync members: %w", err)
	}
	defer rows.Close()
	out := []store.SyncMember{}
	for rows.Next() {
		var m store.SyncMember
		if err := rows.Scan(&m.ObjectID, &m.UserID, &m.Mark); err != nil {
			return nil, fmt.Errorf("sqlstore: scan sync member: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list sync members: %w", err)
	}
	return out, nil
}

// DeleteSyncMembers stops tracking members.
func (db *DB) DeleteSyncMembers(ctx context.Context, groupID string, objectIDs []string) (int, error) {
	return db.execIn(ctx, "delete sync members", `DELETE FROM sync_members WHERE group_id = $1 AND object_id IN (`,
		[]any{groupID}, objectIDs)
}

const runColumns = `id, group_id, status, trigger_kind, dry_run, full_run, started_at, finished_at, heartbeat_at, result`

// CreateSyncRun inserts a running run, first failing a running run of the
// same group whose heartbeat stopped before staleBefore.
func (db *DB) CreateSyncRun(ctx context.Context, r *store.SyncRun, staleBefore time.Time) error {
	if r.GroupID == "" {
		return invalid("a sync run needs a group")
	}
	id := r.ID
	if id == "" {
		id = newID()
	}
	now := db.now()
	started := stamp(r.StartedAt, now)
	beat := stamp(r.HeartbeatAt, started)
	result := r.Result
	if len(result) == 0 {
		result = []byte("{}")
	}
	err := db.withTx(ctx, func(tx *DB) error {
		if !staleBefore.IsZero() {
			if _, err := tx.exec(ctx, `UPDATE sync_runs SET status = $1, finished_at = $2 WHERE group_id = $3
				AND status = $4 AND heartbeat_at < $5`, store.RunFailed, db.ts(now), r.GroupID, store.RunRunning,
				db.ts(staleBefore.UTC().Truncate(time.Microsecond))); err != nil {
				return fmt.Errorf("sqlstore: create sync run: %w", err)
			}
		}
		_, err := tx.exec(ctx, `INSERT INTO sync_runs (`+runColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, r.GroupID, store.RunRunning, r.Trigger, r.DryRun, r.Full, db.ts(started), db.tsPtr(r.FinishedAt),
			db.ts(beat), string(result))
		switch {
		case isPkey(err):
			return conflict("a sync run with id %q already exists", id)
		case isUnique(err):
			return conflict("a sync of this group is already running")
		case isForeign(err):
			return notFound("group %q not found", r.GroupID)
		case err != nil:
			return fmt.Errorf("sqlstore: create sync run: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.ID, r.Status, r.StartedAt, r.HeartbeatAt, r.Result = id, store.RunRunning, started, beat, result
	return nil
}

// UpdateSyncRun writes a run's status, flags, end, heartbeat and result.
func (db *DB) UpdateSyncRun(ctx context.Context, r *store.SyncRun) error {
	beat := stamp(r.HeartbeatAt, db.now())
	result := r.Result
	if len(result) == 0 {
		result = []byte("{}")
	}
	res, err := db.exec(ctx, `UPDATE sync_runs SET status = $2, dry_run = $3, full_run = $4, finished_at = $5,
		heartbeat_at = $6, result = $7 WHERE id = $1 AND status = $8`,
		r.ID, r.Status, r.DryRun, r.Full, db.tsPtr(r.FinishedAt), db.ts(beat), string(result), store.RunRunning)
	if isUnique(err) {
		return conflict("a sync of this group is already running")
	}
	if err != nil {
		return fmt.Errorf("sqlstore: update sync run: %w", err)
	}
	if err := mustAffect(res, "update sync run"); err != nil {
		return notFoundOr(err, "sync run %q not found or no longer running", r.ID)
	}
	r.HeartbeatAt = beat
	return nil
}

// GetSyncRun returns one run.
func (db *DB) GetSyncRun(ctx context.Context, id string) (*store.SyncRun, error) {
	runs, err := db.queryRuns(ctx, `id = $1`, "", id)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, notFound("sync run %q not found", id)
	}
	return runs[0], nil
}

// ListSyncRuns returns a group's runs, newest first.
func (db *DB) ListSyncRuns(ctx context.Context, groupID string, limit int) ([]*store.SyncRun, error) {
	if limit <= 0 {
		return db.queryRuns(ctx, `group_id = $1`, "", groupID)
	}
	return db.queryRuns(ctx, `group_id = $1`, ` LIMIT $2`, groupID, limit)
}

func (db *DB) queryRuns(ctx context.Context, where, tail string, args ...any) ([]*store.SyncRun, error) {
	rows, err := db.query(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE `+where+
		` ORDER BY started_at DESC, id DESC`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sync runs: %w", err)
	}
	defer rows.Close()
	out := []*store.SyncRun{}
	for rows.Next() {
		var (
			r                  store.SyncRun
			started, fin, beat dbTime
			result             string
		)
		if err := rows.Scan(&r.ID, &r.GroupID, &r.Status, &r.Trigger, &r.DryRun, &r.Full, &started, &fin, &beat, &result); err != nil {
			return nil, fmt.Errorf("sqlstore: scan sync run: %w", err)
		}
		r.StartedAt, r.FinishedAt, r.HeartbeatAt, r.Result = started.T, fin.ptr(), beat.T, []byte(result)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list sync runs: %w", err)
	}
	return out, nil
}

// HeartbeatSyncRun moves a running run's heartbeat; false when the run is
// no longer running.
func (db *DB) HeartbeatSyncRun(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE sync_runs SET heartbeat_at = $1 WHERE id = $2 AND status = $3`,
		db.ts(stamp(at, db.now())), id, store.RunRunning)
	if err != nil {
		return false, fmt.Errorf("sqlstore: sync run heartbeat: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: sync run heartbeat: %w", err)
	}
	return n > 0, nil
}

// StaleSyncRuns lists running runs whose heartbeat is older than before.
func (db *DB) StaleSyncRuns(ctx context.Context, groupID string, before time.Time) ([]*store.SyncRun, error) {
	b := db.ts(before.UTC().Truncate(time.Microsecond))
	if groupID == "" {
		return db.queryRuns(ctx, `status = $1 AND heartbeat_at < $2`, "", store.RunRunning, b)
	}
	return db.queryRuns(ctx, `status = $1 AND heartbeat_at < $2 AND group_id = $3`, "", store.RunRunning, b, groupID)
}

// CloseSyncRun ends a running run (see store.Store).
func (db *DB) CloseSyncRun(ctx context.Context, r *store.SyncRun, beatBefore time.Time) (bool, error) {
	if r.Status == store.RunRunning {
		return false, invalid("closing a sync run needs a final status")
	}
	end := stamp(derefTime(r.FinishedAt), db.now())
	result := r.Result
	if len(result) == 0 {
		result = []byte("{}")
	}
	q := `UPDATE sync_runs SET status = $1, finished_at = $2, result = $3 WHERE id = $4 AND status = $5`
	args := []any{r.Status, db.ts(end), string(result), r.ID, store.RunRunning}
	if !beatBefore.IsZero() {
		q += ` AND heartbeat_at < $6`
		args = append(args, db.ts(beatBefore.UTC().Truncate(time.Microsecond)))
	}
	res, err := db.exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("sqlstore: close sync run: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: close sync run: %w", err)
	}
	if n > 0 {
		r.FinishedAt, r.Result = &end, result
	}
	return n > 0, nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// SyncTrackedElsewhere returns those of userIDs another group's sync still
// has (tracked, not marked gone): one statement per thousand ids, on the
// sync_members_user index (migration 0010).
func (db *DB) SyncTrackedElsewhere(ctx context.Context, groupID string, userIDs []string) ([]string, error) {
	out := []string{}
	for part := range slices.Chunk(dedupe(userIDs), maxBatch) {
		q, args := `SELECT DISTINCT user_id FROM sync_members WHERE group_id <> $1 AND mark NOT LIKE 'gone:%'
			AND user_id IN (`+inList(2, len(part))+`)`, strArgs([]any{groupID}, part)
		if db.dialect == DialectPostgres {
			q, args = `SELECT DISTINCT s.user_id FROM unnest($2::text[]) AS t (u) JOIN sync_members s
				ON s.user_id = t.u AND s.group_id <> $1 AND s.mark NOT LIKE 'gone:%'`, []any{groupID, part}
		}
		rows, err := db.bulkQuery(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: sync members of other groups: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: sync members of other groups: %w", err)
			}
			out = append(out, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: sync members of other groups: %w", err)
		}
	}
	slices.Sort(out)
	return out, nil
}
