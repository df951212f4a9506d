package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

func testGraphSubscriptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	ds := &tenantlink.DataSource{Name: "contoso", Type: tenantlink.ConnectorOffice365}
	must(t, s.CreateDataSource(ctx, ds))
	exp := time.Date(2026, 5, 1, 10, 0, 0, 123000, time.UTC)
	at := time.Date(2026, 4, 28, 10, 0, 0, 0, time.UTC)
	users := &store.GraphSubscription{DataSourceID: ds.ID, Resource: "users", SubscriptionID: "sub-1",
		ClientState: "s3cret", ExpiresAt: &exp, Status: store.SubscriptionActive, UpdatedAt: at}
	must(t, s.PutGraphSubscription(ctx, users))
	if users.ID == "" {
		t.Fatal("PutGraphSubscription left ID empty")
	}
	groups := &store.GraphSubscription{DataSourceID: ds.ID, Resource: "groups", Status: store.SubscriptionFailed,
		Message: "quota reached", UpdatedAt: at}
	must(t, s.PutGraphSubscription(ctx, groups))

	got, err := s.GetGraphSubscription(ctx, "sub-1")
	must(t, err)
	if diff := cmp.Diff(got, users); diff != "" {
		t.Errorf("GetGraphSubscription (-got +want):\n%s", diff)
	}
	list, err := s.ListGraphSubscriptions(ctx, ds.ID)
	must(t, err)
	if diff := cmp.Diff(list, []*store.GraphSubscription{groups, users}); diff != "" {
		t.Errorf("ListGraphSubscriptions (-got +want):\n%s", diff)
	}

	// Replacing the (data source, resource) row keeps its id.
	renewed := &store.GraphSubscription{DataSourceID: ds.ID, Resource: "users", SubscriptionID: "sub-2",
		ClientState: "other", ExpiresAt: &exp, Status: store.SubscriptionActive, UpdatedAt: at}
	must(t, s.PutGraphSubscription(ctx, renewed))
	if renewed.ID != users.ID {
		t.Errorf("replaced row id = %q, want %q", renewed.ID, users.ID)
	}
	_, err = s.GetGraphSubscription(ctx, "sub-1")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.GetGraphSubscription(ctx, "")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.PutGraphSubscription(ctx, &store.GraphSubscription{DataSourceID: "nope", Resource: "users"}), tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.PutGraphSubscription(ctx, &store.GraphSubscription{DataSourceID: ds.ID}), tenantlink.EINVALID, nil)

	must(t, s.DeleteGraphSubscription(ctx, groups.ID))
	wantErr(t, s.DeleteGraphSubscription(ctx, groups.ID), tenantlink.ENOTFOUND, store.ErrNotFound)

	// Deleting the data source deletes its subscriptions.
	must(t, s.DeleteDataSource(ctx, ds.ID))
	all, err := s.ListGraphSubscriptions(ctx, "")
	must(t, err)
	if len(all) != 0 {
		t.Errorf("subscriptions after data source deletion = %d, want 0", len(all))
	}
}

func testProcessedEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 4, 28, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		key     string
		at, old time.Time
		want    bool
	}{
		{"first", "ev-1", t0, t0.Add(-time.Hour), true},
		{"again", "ev-1", t0.Add(time.Minute), t0.Add(-time.Hour), false},
		{"another", "ev-2", t0, t0.Add(-time.Hour), true},
		{"after pruning", "ev-1", t0.Add(48 * time.Hour), t0.Add(24 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.MarkEventProcessed(ctx, tc.key, tc.at, tc.old)
			must(t, err)
			if got != tc.want {
				t.Errorf("MarkEventProcessed(%q) = %v, want %v", tc.key, got, tc.want)
			}
		})
	}
	_, err := s.MarkEventProcessed(ctx, "", t0, t0)
	wantErr(t, err, tenantlink.EINVALID, nil)
}
