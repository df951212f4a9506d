package office365

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// graphCalls records the Graph requests (method and path) a connector sends.
type graphCalls struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (g *graphCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/v1.0/") {
		g.mu.Lock()
		g.seen = append(g.seen, r.Method+" "+r.URL.Path[strings.Index(r.URL.Path, "/v1.0/")+5:])
		g.mu.Unlock()
	}
	return g.base.RoundTrip(r)
}

func (g *graphCalls) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.seen
	g.seen = nil
	return out
}

func simPost(t *testing.T, e *env, method, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, e.facts.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// TestRealtimeGroupRead: an incremental read of a source group given by id
// costs one Graph round trip — both deltas and the members notifications
// said were added in one $batch, no lookup of the group — and, in a
// real-time read, additions no hint announced wait in the cursor for the
// next read instead of costing a request; other reads fetch them at once.
func TestRealtimeGroupRead(t *testing.T) {
	e := newEnv(t)
	rec := &graphCalls{}
	e.conn, _ = e.connector(func(c *Config) { rec.base = c.HTTPClient.Transport; c.HTTPClient.Transport = rec })
	ds := newDataSource("ds-rt", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	users := map[string]string{}
	for _, n := range []string{"ann", "ben", "cid", "dan"} {
		users[n] = simPost(t, e, "POST", "/_sim/users", map[string]any{"userPrincipalName": n, "displayName": n})["id"].(string)
	}
	group := simPost(t, e, "POST", "/_sim/groups", map[string]any{"displayName": "Realtime source"})["id"].(string)
	cur := ""
	read := func(ctx context.Context) []string {
		t.Helper()
		var got []string
		next, full, err := e.conn.ReadGroupMembers(ctx, ds, e.creds, group, cur, func(us []connector.SourceUser, _ []string) error {
			for _, u := range us {
				got = append(got, strings.SplitN(u.Email, "@", 2)[0])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if cur != "" && full {
			t.Fatal("an incremental read fell back to a full one")
		}
		cur = next
		slices.Sort(got)
		return got
	}
	read(context.Background()) // the full read: the cursor
	rec.take()

	for _, tc := range []struct {
		name      string
		add       []string
		remove    []string
		hints     connector.ChangeHints
		wantUsers []string
		wantCalls []string
	}{
		{"real-time, one addition announced, one not yet", []string{"ann", "ben"}, nil,
			connector.ChangeHints{AddedMembers: []string{users["ann"]}, FollowUp: true},
			[]string{"ann"}, []string{"POST /$batch"}},
		{"the next real-time read brings the one left", nil, nil,
			connector.ChangeHints{FollowUp: true},
			[]string{"ben"}, []string{"POST /$batch"}},
		{"a scheduled read fetches unannounced additions at once", []string{"cid"}, nil,
			connector.ChangeHints{},
			[]string{"cid"}, []string{"POST /$batch", "GET /users"}},
		{"an addition left for later", []string{"dan"}, nil,
			connector.ChangeHints{FollowUp: true},
			nil, []string{"POST /$batch"}},
		{"is not imported once removed in between", nil, []string{"dan"},
			connector.ChangeHints{FollowUp: true},
			nil, []string{"POST /$batch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range tc.add {
				simPost(t, e, "POST", "/_sim/groups/"+group+"/members/"+users[n], nil)
			}
			for _, n := range tc.remove {
				simPost(t, e, "DELETE", "/_sim/groups/"+group+"/members/"+users[n], nil)
			}
			got := read(connector.WithChangeHints(context.Background(), tc.hints))
			if diff := cmp.Diff(tc.wantUsers, got); diff != "" {
				t.Errorf("users read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCalls, rec.take()); diff != "" {
				t.Errorf("Graph requests (-want +got):\n%s", diff)
			}
		})
	}
}
