package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store"
)

// oauthStateAD binds a sealed PKCE verifier to its state.
func oauthStateAD(state string) []byte { return []byte("oauth_state:" + state) }

// PutOAuthState stores a pending authorization with its verifier sealed, and
// drops states that expired long enough ago that nobody can be mid-flow.
func (db *DB) PutOAuthState(ctx context.Context, s *store.OAuthState) error {
	if s.State == "" {
		return invalid("an OAuth state needs a state value")
	}
	sealed, err := db.keys.Seal([]byte(s.Verifier), oauthStateAD(s.State))
	if err != nil {
		return fmt.Errorf("sqlstore: put oauth state: %w", err)
	}
	kid, err := secrets.KeyID(sealed)
	if err != nil {
		return fmt.Errorf("sqlstore: put oauth state: %w", err)
	}
	return db.withTx(ctx, func(tx *DB) error {
		if _, err := tx.exec(ctx, `DELETE FROM oauth_states WHERE expires_at < $1`,
			db.ts(db.now().Add(-time.Hour))); err != nil {
			return fmt.Errorf("sqlstore: purge oauth states: %w", err)
		}
		_, err := tx.exec(ctx, `INSERT INTO oauth_states (state, purpose, datasource_id, user_id, nonce,
			kid, verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			s.State, s.Purpose, s.DataSourceID, s.UserID, s.Nonce, kid, sealed, s.ReturnTo,
			db.ts(s.ExpiresAt.UTC().Truncate(time.Microsecond)))
		if isUnique(err) {
			return conflict("OAuth state already in use")
		}
		if err != nil {
			return fmt.Errorf("sqlstore: put oauth state: %w", err)
		}
		return nil
	})
}

// TakeOAuthState deletes and returns the state. Deleting first makes it
// single use even when two callbacks race: only one DELETE returns the row.
func (db *DB) TakeOAuthState(ctx context.Context, state string, now time.Time) (*store.OAuthState, error) {
	var (
		s       store.OAuthState
		sealed  []byte
		expires dbTime
	)
	err := db.queryRow(ctx, `DELETE FROM oauth_states WHERE state = $1
		RETURNING state, purpose, datasource_id, user_id, nonce, verifier, return_to, expires_at`, state).
		Scan(&s.State, &s.Purpose, &s.DataSourceID, &s.UserID, &s.Nonce, &sealed, &s.ReturnTo, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("unknown or expired OAuth state")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take oauth state: %w", err)
	}
	s.ExpiresAt = expires.T
	if !now.Before(s.ExpiresAt) {
		return nil, notFound("unknown or expired OAuth state")
	}
	v, err := db.keys.Open(sealed, oauthStateAD(state))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take oauth state: %w", err)
	}
	s.Verifier = string(v)
	return &s, nil
}

// CountOAuthStates drops expired states (of every purpose) and counts the
// pending ones of purpose.
func (db *DB) CountOAuthStates(ctx context.Context, purpose string, now time.Time) (int, error) {
	var n int
	err := db.withTx(ctx, func(tx *DB) error {
		if _, err := tx.exec(ctx, `DELETE FROM oauth_states WHERE expires_at <= $1`, db.ts(now.UTC().Truncate(time.Microsecond))); err != nil {
			return fmt.Errorf("sqlstore: purge oauth states: %w", err)
		}
		if err := tx.queryRow(ctx, `SELECT count(*) FROM oauth_states WHERE purpose = $1`, purpose).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: count oauth states: %w", err)
		}
		return nil
	})
	return n, err
}

// CreateSession stores a session keyed by the hash of its cookie value,
// filling CreatedAt when zero, and drops the user's expired sessions.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	if s.IDHash == "" || s.UserID == "" {
		return invalid("a session needs an id hash and a user")
	}
	created := s.CreatedAt.UTC().Truncate(time.Microsecond)
	if s.CreatedAt.IsZero() {
		created = db.now()
	}
	err := db.withTx(ctx, func(tx *DB) error {
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2`,
			s.UserID, db.ts(db.now())); err != nil {
			return fmt.Errorf("sqlstore: purge sessions: %w", err)
		}
		_, err := tx.exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`,
			s.IDHash, s.UserID, s.CSRFToken, db.ts(created), db.ts(s.ExpiresAt.UTC().Truncate(time.Microsecond)))
		if isForeign(err) {
			return notFound("user %q not found", s.UserID)
		}
		if isUnique(err) {
			return conflict("session already exists")
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create session: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.CreatedAt = created
	return nil
}

// GetSession returns the session unless it is unknown or expired at now.
func (db *DB) GetSession(ctx context.Context, idHash string, now time.Time) (*store.Session, error) {
	var (
		s                store.Session
		created, expires dbTime
	)
	err := db.queryRow(ctx, `SELECT id_hash, user_id, csrf_token, created_at, expires_at
		FROM sessions WHERE id_hash = $1 AND expires_at > $2`, idHash, db.ts(now)).
		Scan(&s.IDHash, &s.UserID, &s.CSRFToken, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("session not found or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = created.T, expires.T
	return &s, nil
}

// DeleteSession removes one session; deleting an unknown one is not an
// error, so signing out twice is harmless.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("sqlstore: delete session: %w", err)
	}
	return nil
}

// DeleteOtherUserSessions signs a user out everywhere but keepHash.
func (db *DB) DeleteOtherUserSessions(ctx context.Context, userID, keepHash string) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, keepHash); err != nil {
		return fmt.Errorf("sqlstore: delete other user sessions: %w", err)
	}
	return nil
}

// DeleteUserSessions signs a user out everywhere.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("sqlstore: delete user sessions: %w", err)
	}
	return nil
}

// CreateAPIToken stores a token by its hash, filling ID and CreatedAt.
func (db *DB) CreateAPIToken(ctx context.Context, t *store.APIToken) error {
	if t.Hash == "" || t.UserID == "" {
		return invalid("an API token needs a hash and a user")
	}
	id := t.ID
	if id == "" {
		id = newID()
	}
	created := t.CreatedAt.UTC().Truncate(time.Microsecond)
	if t.CreatedAt.IsZero() {
		created = db.now()
	}
	var lastUsed *time.Time
	if !t.LastUsed.IsZero() {
		lastUsed = &t.LastUsed
	}
	var expires *time.Time
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC().Truncate(time.Microsecond)
		expires = &e
	}
	_, err := db.exec(ctx, `INSERT INTO api_tokens (id, user_id, name, hash, prefix, created_at, last_used, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, t.UserID, t.Name, t.Hash, t.Prefix, db.ts(created), db.tsPtr(lastUsed), db.tsPtr(expires))
	if isForeign(err) {
		return notFound("user %q not found", t.UserID)
	}
	if isUnique(err) {
		return conflict("API token already exists")
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create API token: %w", err)
	}
	t.ID, t.CreatedAt = id, created
	if expires != nil {
		t.ExpiresAt = *expires
	}
	return nil
}

const tokenColumns = `id, user_id, name, hash, prefix, created_at, last_used, expires_at`

func scanToken(sc interface{ Scan(...any) error }) (*store.APIToken, error) {
	var (
		t                          store.APIToken
		created, lastUsed, expires dbTime
	)
	if err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Prefix, &created, &lastUsed, &expires); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsed, t.ExpiresAt = created.T, lastUsed.T, expires.T
	return &t, nil
}

// GetAPIToken returns the token with the given hash.
func (db *DB) GetAPIToken(ctx context.Context, hash string) (*store.APIToken, error) {
	t, err := scanToken(db.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("API token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get API token: %w", err)
	}
	return t, nil
}

// ListAPITokens returns a user's tokens, oldest first.
func (db *DB) ListAPITokens(ctx context.Context, userID string) ([]*store.APIToken, error) {
	return db.listTokens(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1
		ORDER BY created_at, id`, userID)
}

// ListAllAPITokens returns every user's tokens, oldest first.
func (db *DB) ListAllAPITokens(ctx context.Context) ([]*store.APIToken, error) {
	return db.listTokens(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at, id`)
}

func (db *DB) listTokens(ctx context.Context, q string, args ...any) ([]*store.APIToken, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list API tokens: %w", err)
	}
	defer rows.Close()
	out := []*store.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: scan API token: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list API tokens: %w", err)
	}
	return out, nil
}

// GetAPITokenByID returns the token with the given id.
func (db *DB) GetAPITokenByID(ctx context.Context, id string) (*store.APIToken, error) {
	t, err := scanToken(db.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("API token %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get API token: %w", err)
	}
	return t, nil
}

// TouchAPIToken records a use of a token at most once per notBefore step.
func (db *DB) TouchAPIToken(ctx context.Context, id string, at, notBefore time.Time) error {
	_, err := db.exec(ctx, `UPDATE api_tokens SET last_used = $2 WHERE id = $1 AND (last_used IS NULL OR last_used < $3)`,
		id, db.ts(at.UTC().Truncate(time.Microsecond)), db.ts(notBefore))
	if err != nil {
		return fmt.Errorf("sqlstore: touch API token: %w", err)
	}
	return nil
}

// DeleteUserAPITokens revokes every token of a user.
func (db *DB) DeleteUserAPITokens(ctx context.Context, userID string) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete user API tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete user API tokens: %w", err)
	}
	return int(n), nil
}

// DeleteAPIToken revokes a token by id.
func (db *DB) DeleteAPIToken(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM api_tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete API token: %w", err)
	}
	return notFoundOr(mustAffect(res, "delete API token"), "API token %q not found", id)
}
