package sso

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenantlink/tenantlink/internal/store"
)

// UsesDataSource reports whether the stored settings, read through st,
// name data source id for single sign-on.
func UsesDataSource(ctx context.Context, st store.Store, id string) (bool, error) {
	set, err := read(ctx, st)
	return err == nil && set.DataSource == id, err
}

// DetachDataSource, for a data source being deleted, turns single sign-on
// off (with auto redirect, so that local sign-in works) and forgets the
// data source, when the settings name it. It writes through st, the
// deletion's transaction, and reports the settings it stored, or nil when
// they did not name the data source; the caller writes the audit entry.
func DetachDataSource(ctx context.Context, st store.Store, id string) (*Settings, error) {
	set, err := read(ctx, st)
	if err != nil || set.DataSource != id {
		return nil, err
	}
	set.Enabled, set.AutoRedirect, set.DataSource = false, false, ""
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("sso: encode settings: %w", err)
	}
	if err := st.PutSetting(ctx, SettingKey, b); err != nil {
		return nil, fmt.Errorf("sso: store settings: %w", err)
	}
	return &set, nil
}

func read(ctx context.Context, st store.Store) (Settings, error) {
	var out Settings
	b, err := st.GetSetting(ctx, SettingKey)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("sso: read settings: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("sso: decode settings: %w", err)
	}
	return out, nil
}
