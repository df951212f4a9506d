package m365sim_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity"
)

// TestResourceUnitCosts checks x-ms-resource-unit against Microsoft's
// table of base costs and modifiers for identity requests
// (https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits).
func TestResourceUnitCosts(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 10, Groups: 1})
	tok := appToken(t, s, allRoles...)
	users := call(t, "GET", s.URL()+"/v1.0/users?$select=id", tok, nil).values()
	groups := call(t, "GET", s.URL()+"/v1.0/groups?$select=id", tok, nil).values()
	u, g := users[0]["id"].(string), groups[0]["id"].(string)
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"list users", "GET", "/users", nil, 2},
		{"list users, $select", "GET", "/users?$select=id,displayName", nil, 1},
		{"list users, $top under 20", "GET", "/users?$top=5", nil, 1},
		{"list users, $top of 20", "GET", "/users?$top=20", nil, 2},
		{"never below 1", "GET", "/users?$select=id&$top=5", nil, 1},
		{"one user (not listed)", "GET", "/users/" + u, nil, 1},
		{"users delta (not listed)", "GET", "/users/delta", nil, 1},
		{"group members", "GET", "/groups/" + g + "/members", nil, 3},
		{"group members, $select", "GET", "/groups/" + g + "/members?$select=id", nil, 2},
		{"group members, $expand", "GET", "/groups/" + g + "/members?$expand=manager", nil, 4},
		{"subscribed SKUs", "GET", "/subscribedSkus", nil, 3},
		{"memberOf via users/{id} (me/memberOf)", "GET", "/users/" + u + "/memberOf", nil, 2},
		{"licenseDetails via users/{id}", "GET", "/users/" + u + "/licenseDetails", nil, 2},
		{"groups (not listed)", "GET", "/groups", nil, 1},
		{"write", "PATCH", "/users/" + u, map[string]any{"jobTitle": "Engineer"}, 1},
		{"assign licence", "POST", "/users/" + u + "/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []any{}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, s.URL()+"/v1.0"+tc.path, tok, tc.body)
			if got := r.header.Get("x-ms-resource-unit"); got != strconv.Itoa(tc.want) {
				t.Errorf("x-ms-resource-unit = %q, want %d (status %d)", got, tc.want, r.status)
			}
			if got := r.header.Get("x-ms-throttle-limit-percentage"); got != "" {
				t.Errorf("x-ms-throttle-limit-percentage = %q with throttling off, want none", got)
			}
		})
	}
}

// patches sends n writes (PATCH /users/{id}) through $batch and returns
// every item's status and headers.
func patches(t *testing.T, s *m365sim.Server, tok, user string, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for n > 0 {
		k := min(n, 20)
		reqs := make([]map[string]any, k)
		for i := range reqs {
			reqs[i] = map[string]any{"id": strconv.Itoa(i + 1), "method": "PATCH", "url": "/users/" + user,
				"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"jobTitle": "T"}}
		}
		r := call(t, "POST", s.URL()+"/v1.0/$batch", tok, map[string]any{"requests": reqs})
		mustStatus(t, r, 200)
		for _, x := range r.body["responses"].([]any) {
			out = append(out, x.(map[string]any))
		}
		n -= k
	}
	return out
}

func itemHeader(item map[string]any, name string) string {
	h, _ := item["headers"].(map[string]any)
	v, _ := h[name].(string)
	return v
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestThrottleWriteLimit: 3,000 writes per 150 s per app+tenant; the
// limit percentage appears past 80 % of it; the 3,001st write in one
// instant is refused with the write scope; the bucket refills at 20 a
// second (the window shortened by ThrottleTimeScale when set).
func TestThrottleWriteLimit(t *testing.T) {
	for _, scale := range []float64{0, 10} {
		t.Run(fmt.Sprintf("scale %v", scale), func(t *testing.T) {
			clk := &clock{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			s := mustStart(t, m365sim.Options{Users: 60, Groups: 1, Throttle: true, Now: clk.now, ThrottleTimeScale: scale})
			f := s.Facts()
			tok := appToken(t, s, allRoles...)
			user := call(t, "GET", s.URL()+"/v1.0/users?$select=id&$top=1", tok, nil).values()[0]["id"].(string)
			items := patches(t, s, tok, user, 3001)
			type seen struct {
				Status                  float64
				Percentage, Scope, Info string
			}
			at := func(i int) seen {
				it := items[i]
				return seen{it["status"].(float64), itemHeader(it, "x-ms-throttle-limit-percentage"),
					itemHeader(it, "x-ms-throttle-scope"), itemHeader(it, "x-ms-throttle-information")}
			}
			want := map[int]seen{
				0:    {Status: 204},
				2399: {Status: 204},                     // 2,400 used: 0.80, not more than 0.8
				2400: {Status: 204, Percentage: "0.80"}, // 2,401 used
				2999: {Status: 204, Percentage: "1.00"}, // the last one
				3000: {Status: 429, Percentage: "1.00", // it would make 3,001 of 3,000
					Scope: "Tenant_Application/Write/" + f.ClientID + "/" + f.TenantID, Info: "WriteLimitExceeded"},
			}
			got := map[int]seen{}
			for i := range want {
				got[i] = at(i)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("items (-got +want):\n%s", diff)
			}
			if ra := itemHeader(items[3000], "Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q, want 1", ra)
			}
			// 1.5 s of the shortened window (15 s of the real one) refills 300.
			sc := max(scale, 1)
			clk.t = clk.t.Add(time.Duration(float64(15*time.Second) / sc))
			more := patches(t, s, tok, user, 301)
			for i, it := range more {
				wantStatus := 204.0
				if i == 300 {
					wantStatus = 429
				}
				if it["status"].(float64) != wantStatus {
					t.Fatalf("write %d after the refill: status %v, want %v", i+1, it["status"], wantStatus)
				}
			}
		})
	}
}

// TestThrottleTenantWriteLimit: besides 3,000 writes per 150 s per
// app+tenant, a tenant takes 18,000 writes per 5 minutes from all apps.
func TestThrottleTenantWriteLimit(t *testing.T) {
	clk := &clock{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s := mustStart(t, m365sim.Options{Users: 60, Groups: 1, Throttle: true, Now: clk.now})
	f := s.Facts()
	tok := appToken(t, s, allRoles...)
	user := call(t, "GET", s.URL()+"/v1.0/users?$select=id&$top=1", tok, nil).values()[0]["id"].(string)
	// Six apps use their 3,000 writes each: 18,000 in the tenant.
	var last []map[string]any
	for i := range 7 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		s.Identity().RegisterApp(identity.App{ClientID: id, ClientSecret: "secret-" + id, DisplayName: "app " + id, HomeTenantID: f.TenantID})
		s.Identity().GrantConsent(f.TenantID, id, nil, allRoles)
		cc := clientcredentials.Config{ClientID: id, ClientSecret: "secret-" + id,
			TokenURL: f.URL + "/" + f.TenantID + "/oauth2/v2.0/token", Scopes: []string{"https://graph.microsoft.com/.default"}}
		at, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := 3000
		if i == 6 {
			n = 1
		}
		last = patches(t, s, at.AccessToken, user, n)
		if i < 6 && last[n-1]["status"].(float64) != 204 {
			t.Fatalf("app %d write %d: status %v, want 204", i+1, n, last[n-1]["status"])
		}
		if i == 6 {
			if got, want := itemHeader(last[0], "x-ms-throttle-scope"), "Tenant/Write/"+id+"/"+f.TenantID; got != want || last[0]["status"].(float64) != 429 {
				t.Errorf("seventh app's first write: status %v scope %q, want 429 %q", last[0]["status"], got, want)
			}
		}
	}
}
