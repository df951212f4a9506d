package office365

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// priorities records the x-ms-throttle-priority of every Graph request.
type priorities struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[string]int // header value ("" when absent) -> requests
}

func (p *priorities) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/v1.0/") {
		p.mu.Lock()
		p.seen[r.Header.Get("x-ms-throttle-priority")]++
		p.mu.Unlock()
	}
	return p.base.RoundTrip(r)
}

func (p *priorities) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.seen
	p.seen = map[string]int{}
	return out
}

// TestThrottlePriority: a group sync's reads (background work) say
// x-ms-throttle-priority: low; operations and the connection test, which
// someone waits for, say normal.
func TestThrottlePriority(t *testing.T) {
	e := newEnv(t)
	rec := &priorities{seen: map[string]int{}}
	e.conn, _ = e.connector(func(c *Config) { rec.base = c.HTTPClient.Transport; c.HTTPClient.Transport = rec })
	ds := newDataSource("ds-prio", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	ctx := context.Background()
	rec.take()

	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"group sync, full read", func() error {
			_, _, err := e.conn.ReadGroupMembers(ctx, ds, e.creds, "*", "", func([]connector.SourceUser, []string) error { return nil })
			return err
		}, "low"},
		{"group sync, incremental read", func() error {
			cur, _, err := e.conn.ReadGroupMembers(ctx, ds, e.creds, "*", "", func([]connector.SourceUser, []string) error { return nil })
			if err != nil {
				return err
			}
			rec.take()
			_, _, err = e.conn.ReadGroupMembers(ctx, ds, e.creds, "*", cur, func([]connector.SourceUser, []string) error { return nil })
			return err
		}, "low"},
		{"group sync, member count", func() error {
			_, err := e.conn.CountSourceMembers(ctx, ds, e.creds, "*")
			return err
		}, "low"},
		{"operation", func() error {
			_, err := e.conn.Run(ctx, ds, e.creds, "UserList", map[string]any{})
			return err
		}, "normal"},
		{"connection test", func() error {
			if res := e.conn.Test(ctx, ds, e.creds); !res.OK {
				t.Fatalf("Test = %+v", res)
			}
			return nil
		}, "normal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			got := rec.take()
			if got[tc.want] == 0 || len(got) != 1 {
				t.Errorf("x-ms-throttle-priority of its Graph requests = %v, want all %q", got, tc.want)
			}
		})
	}
	if diff := cmp.Diff(rec.take(), map[string]int{}); diff != "" {
		t.Errorf("requests left over (-got +want):\n%s", diff)
	}
}

// TestPacerPerTenant: clients of data sources of one tenant share a pacer
// (Graph's limits are per app+tenant); other tenants, and data sources
// not yet authorized, have their own.
func TestPacerPerTenant(t *testing.T) {
	c := New(Config{})
	ds := func(id, account string) *tenantlink.DataSource {
		return &tenantlink.DataSource{ID: id, Account: account}
	}
	a1, a2 := c.pacer(ds("1", "TENANT-A")), c.pacer(ds("2", "tenant-a"))
	b, none1, none2 := c.pacer(ds("3", "tenant-b")), c.pacer(ds("4", "")), c.pacer(ds("5", ""))
	if a1 != a2 {
		t.Error("two data sources of tenant A have different pacers, want one")
	}
	if a1 == b || none1 == none2 || none1 == a1 {
		t.Error("different tenants (or unauthorized data sources) share a pacer, want one each")
	}
}
