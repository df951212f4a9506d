package realtime_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/realtime"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

// fakeSubscriber refuses creation as Graph does when a quota is reached.
type fakeSubscriber struct {
	connector.Subscriber
	creates int
}

func (f *fakeSubscriber) Info() connector.Info { return connector.Info{Type: "fake"} }

func (f *fakeSubscriber) SubscriptionLifetime() time.Duration { return 72 * time.Hour }

func (f *fakeSubscriber) Subscribe(context.Context, *tenantlink.DataSource, connector.CredentialStore, connector.SubscriptionRequest) (*connector.Subscription, error) {
	f.creates++
	return nil, &tenantlink.Error{Code: tenantlink.EUPSTREAM, Err: connector.ErrSubscriptionQuota,
		Message: "Microsoft 365 refused to subscribe to users: 403 ExtensionError: Subscription quota exceeded: at most 100 subscriptions to directory resources per app and tenant."}
}

// TestQuotaReached: a refused creation is shown as failed with the reason,
// and retried only after RetryFailed, not at every tick.
func TestQuotaReached(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := secrets.LoadOrCreate(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "t.db"), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds := &tenantlink.DataSource{Name: "Contoso", Type: "fake", Status: tenantlink.StatusReady, Account: "tenant-1"}
	if err := db.CreateDataSource(ctx, ds); err != nil {
		t.Fatal(err)
	}
	g := &tenantlink.Group{Name: "Sales", Sync: &tenantlink.SyncSettings{Enabled: true, Realtime: true, DataSource: ds.ID, SourceGroup: "*"}}
	if err := db.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	fake := &fakeSubscriber{}
	s := &realtime.Service{Store: db, Connectors: map[string]connector.Connector{"fake": fake}, Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name        string
		advance     time.Duration
		wantCreates int
	}{
		{"first attempt", 0, 2},
		{"next tick waits", time.Minute, 2},
		{"after RetryFailed", 5 * time.Minute, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = now.Add(tc.advance)
			if err := s.Maintain(ctx, ds.ID); err != nil {
				t.Fatal(err)
			}
			if fake.creates != tc.wantCreates {
				t.Errorf("creation attempts = %d, want %d", fake.creates, tc.wantCreates)
			}
			st, err := s.States(ctx, ds.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range st {
				got = append(got, x.Resource+" "+x.State+": "+x.Message)
			}
			msg := "The tenant's subscription quota is reached, so changes arrive with the scheduled sync only. Microsoft 365 refused to subscribe to users: 403 ExtensionError: Subscription quota exceeded: at most 100 subscriptions to directory resources per app and tenant."
			if diff := cmp.Diff(got, []string{"groups failed: " + msg, "users failed: " + msg}); diff != "" {
				t.Errorf("states (-got +want):\n%s", diff)
			}
		})
	}
}
