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

const graphSubColumns = `id, datasource_id, resource, subscription_id, client_state, expires_at, status, message, updated_at`

// subscriptionAD binds a sealed clientState to its row.
func subscriptionAD(id string) []byte { return []byte("subscription:" + id) }

// PutGraphSubscription inserts or replaces the subscription row of
// (data source, resource), sealing its clientState.
func (db *DB) PutGraphSubscription(ctx context.Context, s *store.GraphSubscription) error {
	if s.DataSourceID == "" || s.Resource == "" {
		return invalid("a subscription needs a data source and a resource")
	}
	if s.ID == "" {
		var id string
		err := db.queryRow(ctx, `SELECT id FROM graph_subscriptions WHERE datasource_id = $1 AND resource = $2`, s.DataSourceID, s.Resource).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id = newID()
		case err != nil:
			return fmt.Errorf("sqlstore: put subscription: %w", err)
		}
		s.ID = id
	}
	s.UpdatedAt = stamp(s.UpdatedAt, db.now())
	var sealed []byte
	kid := ""
	if s.ClientState != "" {
		var err error
		if sealed, err = db.keys.Seal([]byte(s.ClientState), subscriptionAD(s.ID)); err != nil {
			return fmt.Errorf("sqlstore: put subscription: %w", err)
		}
		if kid, err = secrets.KeyID(sealed); err != nil {
			return fmt.Errorf("sqlstore: put subscription: %w", err)
		}
	}
	_, err := db.exec(ctx, `INSERT INTO graph_subscriptions (id, datasource_id, resource, subscription_id, kid, client_state, expires_at, status, message, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (datasource_id, resource) DO UPDATE SET subscription_id = excluded.subscription_id, kid = excluded.kid,
			client_state = excluded.client_state, expires_at = excluded.expires_at, status = excluded.status,
			message = excluded.message, updated_at = excluded.updated_at`,
		s.ID, s.DataSourceID, s.Resource, s.SubscriptionID, kid, sealed, db.tsPtr(s.ExpiresAt), s.Status, s.Message, db.ts(s.UpdatedAt))
	if isForeign(err) {
		return notFound("data source %q not found", s.DataSourceID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put subscription: %w", err)
	}
	return nil
}

func (db *DB) scanGraphSub(row interface{ Scan(...any) error }) (*store.GraphSubscription, error) {
	var (
		s       store.GraphSubscription
		sealed  []byte
		exp, up dbTime
	)
	if err := row.Scan(&s.ID, &s.DataSourceID, &s.Resource, &s.SubscriptionID, &sealed, &exp, &s.Status, &s.Message, &up); err != nil {
		return nil, err
	}
	s.ExpiresAt, s.UpdatedAt = exp.ptr(), up.T
	if len(sealed) > 0 {
		cs, err := db.keys.Open(sealed, subscriptionAD(s.ID))
		if err != nil {
			return nil, fmt.Errorf("open clientState of subscription %s: %w", s.ID, err)
		}
		s.ClientState = string(cs)
	}
	return &s, nil
}

// ListGraphSubscriptions lists a data source's subscriptions ("" for all).
func (db *DB) ListGraphSubscriptions(ctx context.Context, datasourceID string) ([]*store.GraphSubscription, error) {
	rows, err := db.query(ctx, `SELECT `+graphSubColumns+` FROM graph_subscriptions WHERE ($1 = '' OR datasource_id = $1) ORDER BY datasource_id, resource`, datasourceID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []*store.GraphSubscription{}
	for rows.Next() {
		s, err := db.scanGraphSub(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list subscriptions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list subscriptions: %w", err)
	}
	return out, nil
}

// GetGraphSubscription finds a subscription by the upstream's id.
func (db *DB) GetGraphSubscription(ctx context.Context, subscriptionID string) (*store.GraphSubscription, error) {
	if subscriptionID == "" {
		return nil, notFound("no subscription")
	}
	s, err := db.scanGraphSub(db.queryRow(ctx, `SELECT `+graphSubColumns+` FROM graph_subscriptions WHERE subscription_id = $1`, subscriptionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no subscription %q", subscriptionID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get subscription: %w", err)
	}
	return s, nil
}

// DeleteGraphSubscription deletes a subscription row by id.
func (db *DB) DeleteGraphSubscription(ctx context.Context, id string) error {
	res, err := db.exec(ctx, `DELETE FROM graph_subscriptions WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete subscription: %w", err)
	}
	return notFoundOr(mustAffect(res, "delete subscription"), "no subscription %q", id)
}

// MarkEventProcessed records key and reports whether it was new.
func (db *DB) MarkEventProcessed(ctx context.Context, key string, at, olderThan time.Time) (bool, error) {
	if key == "" {
		return false, invalid("an event needs a dedupe key")
	}
	if _, err := db.exec(ctx, `DELETE FROM processed_events WHERE at < $1`, db.ts(olderThan)); err != nil {
		return false, fmt.Errorf("sqlstore: prune processed events: %w", err)
	}
	res, err := db.exec(ctx, `INSERT INTO processed_events (event_key, at) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING`, key, db.ts(at))
	if err != nil {
		return false, fmt.Errorf("sqlstore: mark event processed: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: mark event processed: %w", err)
	}
	return n == 1, nil
}
