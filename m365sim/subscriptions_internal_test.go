package m365sim

import (
	"errors"
	"testing"
	"time"
)

// TestSubscriptionQuotas checks both documented quotas — per app and
// tenant, and per tenant across apps — with small limits, so that no test
// has to create a thousand subscriptions.
func TestSubscriptionQuotas(t *testing.T) {
	s, err := New(Options{Users: 2, Groups: 1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := s.notif
	n.perAppTenant, n.perTenant = 2, 3
	exp := s.now().Add(time.Hour)
	for i, app := range []string{"app-a", "app-a", "app-b"} {
		sub := &subscription{id: "sub-" + string(rune('1'+i)), tenantID: "tenant-1", appID: app, expiration: exp}
		if err := n.add(sub); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	tests := []struct {
		tenant, app string
		want        error
	}{
		{"tenant-1", "app-a", quotaError()},       // two of its own already
		{"tenant-1", "app-c", tenantQuotaError()}, // three in the tenant
		{"tenant-2", "app-a", nil},                // another tenant counts apart
	}
	for _, tc := range tests {
		t.Run(tc.tenant+"/"+tc.app, func(t *testing.T) {
			err := n.checkQuota(tc.tenant, tc.app)
			var got, want *graphError
			errors.As(err, &got)
			errors.As(tc.want, &want)
			if (got == nil) != (want == nil) || got != nil && (got.status != 403 || got.message != want.message) {
				t.Errorf("checkQuota = %v, want %v", err, tc.want)
			}
		})
	}
	// An expired subscription no longer counts.
	s.Advance(2 * time.Hour)
	if err := n.checkQuota("tenant-1", "app-a"); err != nil {
		t.Errorf("after expiry: %v, want nil", err)
	}
}
