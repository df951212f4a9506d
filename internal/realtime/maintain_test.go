package realtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/metrics"
	"github.com/tenantlink/tenantlink/internal/realtime"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store"
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
	db := openSQLite(t)
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

// TestSubscriptionGauge: tenantlink_graph_subscriptions counts every data
// source's subscriptions by resource and by the state the pages show
// (an absent combination is 0, so a state that empties reads 0, not gone).
func TestSubscriptionGauge(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	soon, later := now.Add(20*time.Minute), now.Add(48*time.Hour)
	rows := [][]*store.GraphSubscription{
		{{Resource: "users", SubscriptionID: "a", ClientState: "x", ExpiresAt: &later, Status: store.SubscriptionActive},
			{Resource: "groups", SubscriptionID: "b", ClientState: "x", ExpiresAt: &soon, Status: store.SubscriptionActive}},
		{{Resource: "users", Status: store.SubscriptionFailed, Message: "refused"},
			{Resource: "groups", SubscriptionID: "c", ClientState: "x", ExpiresAt: &later, Status: store.SubscriptionReauthorizing}},
		{{Resource: "users"}},
	}
	for i, rs := range rows {
		ds := &tenantlink.DataSource{Name: fmt.Sprintf("DS %d", i), Type: "fake", Status: tenantlink.StatusReady}
		if err := db.CreateDataSource(ctx, ds); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			r.DataSourceID, r.UpdatedAt = ds.ID, now
			if err := db.PutGraphSubscription(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := metrics.New(func(ctx context.Context) ([]*tenantlink.DataSource, error) { return db.ListDataSources(ctx, "") })
	s := &realtime.Service{Store: db, Now: func() time.Time { return now }}
	s.Metrics = m.RegisterRealtime(s.Counts)
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "tenantlink_graph_subscriptions" {
			continue
		}
		for _, x := range mf.GetMetric() {
			var res, st string
			for _, l := range x.GetLabel() {
				switch l.GetName() {
				case "resource":
					res = l.GetValue()
				case "state":
					st = l.GetValue()
				}
			}
			if v := x.GetGauge().GetValue(); v != 0 {
				got[res+"/"+st] = v
			} else if _, ok := got[res+"/"+st]; !ok {
				got[res+"/"+st] = 0
			}
		}
	}
	want := map[string]float64{
		"users/active": 1, "users/failed": 1, "users/pending": 1, "users/expiring": 0, "users/reauthorizing": 0,
		"groups/expiring": 1, "groups/reauthorizing": 1, "groups/active": 0, "groups/failed": 0, "groups/pending": 0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tenantlink_graph_subscriptions (-want +got):\n%s", diff)
	}
}

// openSQLite opens a fresh SQLite store in the test's folder, closed at
// the test's end.
func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	dir := t.TempDir()
	keys, err := secrets.LoadOrCreate(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(dir, "t.db"), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
