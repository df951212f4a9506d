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
	"github.com/tenantlink/tenantlink/internal/secrets"
)

const dsColumns = `id, name, type, status, status_message, settings, security, created, modified, modified_by,
	authorized_by, authorized_at, reauthorize_by, account, granted_scopes`

// CreateDataSource inserts ds, filling ID, Created and Modified when empty
// and Status with StatusIncomplete when empty.
func (db *DB) CreateDataSource(ctx context.Context, ds *tenantlink.DataSource) error {
	if strings.TrimSpace(ds.Name) == "" {
		return invalid("a data source needs a name")
	}
	if ds.Type == "" {
		return invalid("a data source needs a type")
	}
	settings, security, scopes, err := dsJSON(ds)
	if err != nil {
		return fmt.Errorf("sqlstore: create data source: %w", err)
	}
	id := ds.ID
	if id == "" {
		id = newID()
	}
	status := ds.Status
	if status == "" {
		status = tenantlink.StatusIncomplete
	}
	now := db.now()
	created, modified := ds.Created.UTC().Truncate(time.Microsecond), ds.Modified.UTC().Truncate(time.Microsecond)
	if ds.Created.IsZero() {
		created = now
	}
	if ds.Modified.IsZero() {
		modified = created
	}
	_, err = db.exec(ctx, `INSERT INTO datasources (id, name, name_lower, type, status, status_message,
		settings, security, created, modified, modified_by, authorized_by, authorized_at, reauthorize_by,
		account, granted_scopes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		id, ds.Name, strings.ToLower(ds.Name), ds.Type, string(status), ds.StatusMessage, settings, security,
		db.ts(created), db.ts(modified), ds.ModifiedBy, ds.AuthorizedBy, db.tsPtr(ds.AuthorizedAt),
		db.tsPtr(ds.ReauthorizeBy), ds.Account, scopes)
	if err != nil {
		return dsWriteError("create data source", ds, id, err)
	}
	ds.ID, ds.Status, ds.Created, ds.Modified = id, status, created, modified
	return nil
}

func dsWriteError(op string, ds *tenantlink.DataSource, id string, err error) error {
	if isPkey(err) {
		return conflict("a data source with id %q already exists", id)
	}
	if isUnique(err) {
		return conflict("a data source named %q already exists", ds.Name)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

func dsJSON(ds *tenantlink.DataSource) (settings, security, scopes string, err error) {
	b, err := json.Marshal(ds.Settings)
	if err != nil {
		return "", "", "", err
	}
	sec := ds.Security
	if sec.Admins == nil {
		sec.Admins = []string{}
	}
	if sec.Users == nil {
		sec.Users = []string{}
	}
	if sec.Writers == nil {
		sec.Writers = []string{}
	}
	s, err := json.Marshal(sec)
	if err != nil {
		return "", "", "", err
	}
	scopes, err = marshalList(ds.GrantedScopes)
	return string(b), string(s), scopes, err
}

// GetDataSource returns the data source with the given id.
func (db *DB) GetDataSource(ctx context.Context, id string) (*tenantlink.DataSource, error) {
	l, err := db.queryDataSources(ctx, `id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, notFound("data source %q not found", id)
	}
	return l[0], nil
}

// ListDataSources returns the data sources whose name or type contains
// search (case-insensitive), ordered by name; all of them for "".
func (db *DB) ListDataSources(ctx context.Context, search string) ([]*tenantlink.DataSource, error) {
	if search == "" {
		return db.queryDataSources(ctx, `1 = 1`)
	}
	// type is a connector id, always lowercase ASCII, so lower() is exact.
	return db.queryDataSources(ctx, `(name_lower LIKE $1 ESCAPE '\' OR lower(type) LIKE $1 ESCAPE '\')`, likePattern(search))
}

func (db *DB) queryDataSources(ctx context.Context, where string, args ...any) ([]*tenantlink.DataSource, error) {
	rows, err := db.query(ctx, `SELECT `+dsColumns+` FROM datasources WHERE `+where+` ORDER BY name_lower`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list data sources: %w", err)
	}
	defer rows.Close()
	out := []*tenantlink.DataSource{}
	for rows.Next() {
		var (
			ds                        tenantlink.DataSource
			status                    string
			settings, security, scope string
			created, modified         dbTime
			authAt, reauthBy          dbTime
		)
		if err := rows.Scan(&ds.ID, &ds.Name, &ds.Type, &status, &ds.StatusMessage, &settings, &security,
			&created, &modified, &ds.ModifiedBy, &ds.AuthorizedBy, &authAt, &reauthBy, &ds.Account, &scope); err != nil {
			return nil, fmt.Errorf("sqlstore: scan data source: %w", err)
		}
		ds.Status = tenantlink.Status(status)
		if err := json.Unmarshal([]byte(settings), &ds.Settings); err != nil {
			return nil, fmt.Errorf("sqlstore: data source %s settings: %w", ds.ID, err)
		}
		if err := json.Unmarshal([]byte(security), &ds.Security); err != nil {
			return nil, fmt.Errorf("sqlstore: data source %s security: %w", ds.ID, err)
		}
		if ds.Security.Admins == nil {
			ds.Security.Admins = []string{}
		}
		if ds.Security.Users == nil {
			ds.Security.Users = []string{}
		}
		if ds.Security.Writers == nil {
			ds.Security.Writers = []string{}
		}
		if err := json.Unmarshal([]byte(scope), &ds.GrantedScopes); err != nil {
			return nil, fmt.Errorf("sqlstore: data source %s scopes: %w", ds.ID, err)
		}
		if len(ds.GrantedScopes) == 0 {
			ds.GrantedScopes = nil
		}
		ds.Created, ds.Modified = created.T, modified.T
		ds.AuthorizedAt, ds.ReauthorizeBy = authAt.ptr(), reauthBy.ptr()
		out = append(out, &ds)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list data sources: %w", err)
	}
	return out, nil
}

// UpdateDataSource replaces every stored field of ds except ID and Created;
// a zero Modified is stamped with Now.
func (db *DB) UpdateDataSource(ctx context.Context, ds *tenantlink.DataSource) error {
	if strings.TrimSpace(ds.Name) == "" {
		return invalid("a data source needs a name")
	}
	settings, security, scopes, err := dsJSON(ds)
	if err != nil {
		return fmt.Errorf("sqlstore: update data source: %w", err)
	}
	now := stamp(ds.Modified, db.now())
	res, err := db.exec(ctx, `UPDATE datasources SET name = $2, name_lower = $3, type = $4, status = $5,
		status_message = $6, settings = $7, security = $8, modified = $9, modified_by = $10,
		authorized_by = $11, authorized_at = $12, reauthorize_by = $13, account = $14, granted_scopes = $15
		WHERE id = $1`,
		ds.ID, ds.Name, strings.ToLower(ds.Name), ds.Type, string(ds.Status), ds.StatusMessage, settings, security,
		db.ts(now), ds.ModifiedBy, ds.AuthorizedBy, db.tsPtr(ds.AuthorizedAt), db.tsPtr(ds.ReauthorizeBy),
		ds.Account, scopes)
	if err != nil {
		return dsWriteError("update data source", ds, ds.ID, err)
	}
	if err := mustAffect(res, "update data source"); err != nil {
		return notFoundOr(err, "data source %q not found", ds.ID)
	}
	ds.Modified = now
	return nil
}

// DeleteDataSource removes a data source and its credential.
func (db *DB) DeleteDataSource(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM datasources WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete data source: %w", err)
	}
	return notFoundOr(mustAffect(res, "delete data source"), "data source %q not found", id)
}

// credentialAD binds a sealed credential to its data source, so a blob
// copied onto another data source's row does not decrypt there.
func credentialAD(datasourceID string) []byte { return []byte("credential:" + datasourceID) }

// PutCredential seals secret and stores it as the data source's credential,
// replacing any previous one.
func (db *DB) PutCredential(ctx context.Context, datasourceID string, secret []byte) error {
	sealed, err := db.keys.Seal(secret, credentialAD(datasourceID))
	if err != nil {
		return fmt.Errorf("sqlstore: put credential: %w", err)
	}
	kid, err := secrets.KeyID(sealed)
	if err != nil {
		return fmt.Errorf("sqlstore: put credential: %w", err)
	}
	_, err = db.exec(ctx, `INSERT INTO credentials (datasource_id, kid, secret, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (datasource_id) DO UPDATE SET kid = excluded.kid, secret = excluded.secret,
			updated_at = excluded.updated_at`,
		datasourceID, kid, sealed, db.ts(db.now()))
	if isForeign(err) {
		return notFound("data source %q not found", datasourceID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put credential: %w", err)
	}
	return nil
}

// GetCredential returns the data source's credential, decrypted.
func (db *DB) GetCredential(ctx context.Context, datasourceID string) ([]byte, error) {
	var sealed []byte
	err := db.queryRow(ctx, `SELECT secret FROM credentials WHERE datasource_id = $1`, datasourceID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no credential stored for data source %q", datasourceID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get credential: %w", err)
	}
	secret, err := db.keys.Open(sealed, credentialAD(datasourceID))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get credential of data source %s: %w", datasourceID, err)
	}
	return secret, nil
}

// DeleteCredential removes the data source's credential.
func (db *DB) DeleteCredential(ctx context.Context, datasourceID string) error {
	res, err := db.exec(ctx, `DELETE FROM credentials WHERE datasource_id = $1`, datasourceID)
	if err != nil {
		return fmt.Errorf("sqlstore: delete credential: %w", err)
	}
	return notFoundOr(mustAffect(res, "delete credential"), "no credential stored for data source %q", datasourceID)
}
