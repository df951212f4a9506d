package graph_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tenantlink/tenantlink/internal/graph"
	"github.com/tenantlink/tenantlink/m365sim"
)

// Integration tests: a real *graph.Client against the real simulator over
// loopback, authorized by the client credentials grant.

var allRoles = []string{"User.Read.All", "User.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All",
	"Group.ReadWrite.All", "Organization.Read.All", "LicenseAssignment.ReadWrite.All"}

type recordedSleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (r *recordedSleeps) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.d = append(r.d, d)
	r.mu.Unlock()
	return ctx.Err()
}

// mustSim starts a simulator and returns it with a Client holding an app
// token granted roles.
func mustSim(tb testing.TB, o m365sim.Options, roles ...string) (*m365sim.Server, *graph.Client, *recordedSleeps) {
	tb.Helper()
	s, err := m365sim.New(o)
	if err != nil {
		tb.Fatalf("m365sim.New: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	f := s.Facts()
	s.Identity().GrantConsent(f.TenantID, f.ClientID, nil, roles)
	rs := &recordedSleeps{}
	return s, simClient(s, rs), rs
}

// simClient is a Client with a token source of its own: after the
// simulator's clock moves, a new one gets a token valid at the new time.
func simClient(s *m365sim.Server, rs *recordedSleeps) *graph.Client {
	f := s.Facts()
	cc := clientcredentials.Config{
		ClientID: f.ClientID, ClientSecret: f.ClientSecret,
		TokenURL: s.URL() + "/" + f.TenantID + "/oauth2/v2.0/token",
		Scopes:   []string{"https://graph.microsoft.com/.default"},
	}
	return graph.New(graph.Config{BaseURL: s.URL(), HTTPClient: cc.Client(context.Background()), Sleep: rs.sleep})
}

func simControl(tb testing.TB, s *m365sim.Server, method, path, body string) {
	tb.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewBufferString(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		tb.Fatalf("%s %s: status %d", method, path, res.StatusCode)
	}
}

func TestSimListUsersPagesAndCount(t *testing.T) {
	_, c, _ := mustSim(t, m365sim.Options{Users: 2100, Groups: 1, Seed: 1}, allRoles...)
	ctx := context.Background()
	var pages, n int
	seen := map[string]bool{}
	err := c.ListUsers(ctx, graph.Query{}, func(us []graph.User) error {
		pages++
		for _, u := range us {
			if seen[u.ID] {
				t.Errorf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
			if u.UserPrincipalName == "" || u.AccountEnabled == nil {
				t.Errorf("user %s: selected fields missing: %+v", u.ID, u)
			}
		}
		n += len(us)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total, err := c.CountUsers(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if n != total || n < 2100 {
		t.Errorf("listed %d users, $count says %d, want equal and >= 2100", n, total)
	}
	if want := (total + 998) / 999; pages != want {
		t.Errorf("pages = %d, want %d", pages, want)
	}

	// An advanced query: ConsistencyLevel must reach every page.
	var adv int
	err = c.ListUsers(ctx, graph.Query{Select: []string{"id", "mail"}, Filter: "accountEnabled eq true", OrderBy: "displayName", Top: 500, Advanced: true},
		func(us []graph.User) error { adv += len(us); return nil })
	if err != nil {
		t.Fatalf("advanced query: %v", err)
	}
	if adv == 0 || adv > total {
		t.Errorf("advanced query listed %d users, want 1..%d", adv, total)
	}
}

func TestSimGroupLifecycle(t *testing.T) {
	_, c, _ := mustSim(t, m365sim.Options{Users: 80, Groups: 2, Seed: 2}, allRoles...)
	ctx := context.Background()
	var ids []string
	err := c.ListUsers(ctx, graph.Query{Select: []string{"id"}}, func(us []graph.User) error {
		for _, u := range us {
			ids = append(ids, u.ID)
		}
		return nil
	})
	if err != nil || len(ids) < 60 {
		t.Fatalf("users: %d, %v", len(ids), err)
	}

	g, err := c.CreateGroup(ctx, graph.NewGroup{
		DisplayName: "Integration", MailNickname: "integration", SecurityEnabled: true,
		OwnerIDs: ids[:2], MemberIDs: ids[:30], // 32 links: more than one create carries
	})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	countMembers := func() int {
		t.Helper()
		var n int
		if err := c.ListGroupMembers(ctx, g.ID, graph.Query{Select: []string{"id"}}, func(m []graph.DirectoryObject) error {
			n += len(m)
			return nil
		}); err != nil {
			t.Fatalf("ListGroupMembers: %v", err)
		}
		return n
	}
	if n := countMembers(); n != 30 {
		t.Errorf("members after create = %d, want 30", n)
	}

	// 25..59 overlaps the first 30 at 25..29; one id does not exist.
	add := append(slices.Clone(ids[25:60]), "00000000-0000-0000-0000-00000000dead")
	res, err := c.AddMembers(ctx, g.ID, add)
	if err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	var got []string
	for _, r := range res {
		switch {
		case r.Err == nil:
			got = append(got, "added")
		case errors.Is(r.Err, graph.ErrAlreadyExists):
			got = append(got, "already")
		case errors.Is(r.Err, graph.ErrNotFound):
			got = append(got, "missing")
		default:
			got = append(got, r.Err.Error())
		}
	}
	var want []string
	for i := range add {
		switch {
		case i < 5:
			want = append(want, "already")
		case i == len(add)-1:
			want = append(want, "missing")
		default:
			want = append(want, "added")
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AddMembers outcomes (-want +got):\n%s", diff)
	}
	if n := countMembers(); n != 60 {
		t.Errorf("members after AddMembers = %d, want 60", n)
	}
	if n, err := c.CountGroupMembers(ctx, g.ID, ""); err != nil || n != 60 {
		t.Errorf("CountGroupMembers = %d, %v; want 60", n, err)
	}

	if err := c.AddMember(ctx, g.ID, ids[0]); !errors.Is(err, graph.ErrAlreadyExists) {
		t.Errorf("AddMember of a member: %v, want ErrAlreadyExists", err)
	}
	if err := c.RemoveMember(ctx, g.ID, ids[70]); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("RemoveMember of a non-member: %v, want ErrNotFound", err)
	}
	rm, err := c.RemoveMembers(ctx, g.ID, []string{ids[0], ids[1], ids[70]})
	if err != nil {
		t.Fatal(err)
	}
	if rm[0].Err != nil || rm[1].Err != nil || !errors.Is(rm[2].Err, graph.ErrNotFound) {
		t.Errorf("RemoveMembers = %v, want removed, removed, not found", rm)
	}

	var memberOf []graph.DirectoryObject
	if err := c.MemberOf(ctx, ids[5], graph.Query{}, func(d []graph.DirectoryObject) error {
		memberOf = append(memberOf, d...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(memberOf, func(d graph.DirectoryObject) bool { return d.ID == g.ID && d.ODataType == graph.TypeGroup }) {
		t.Errorf("memberOf %s = %+v, want group %s", ids[5], memberOf, g.ID)
	}

	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(ctx, g.ID, nil); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("GetGroup after delete: %v, want ErrNotFound", err)
	}
}

func TestSimDelta(t *testing.T) {
	s, c, rs := mustSim(t, m365sim.Options{Users: 30, Groups: 3, Seed: 3}, allRoles...)
	ctx := context.Background()
	var users int
	link, err := c.UsersDelta(ctx, "", nil, func(p graph.DeltaPage) error { users += len(p.Users); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if users < 30 || link == "" {
		t.Fatalf("full round: %d users, deltaLink %q", users, link)
	}
	var first graph.User
	if err := c.ListUsers(ctx, graph.Query{Max: 1}, func(us []graph.User) error { first = us[0]; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateUser(ctx, first.ID, map[string]any{"jobTitle": "Delta Tester"}); err != nil {
		t.Fatal(err)
	}
	var changed []graph.DeltaUser
	if _, err := c.UsersDelta(ctx, link, nil, func(p graph.DeltaPage) error { changed = append(changed, p.Users...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].ID != first.ID || changed[0].JobTitle != "Delta Tester" {
		t.Errorf("incremental round = %+v, want only %s with the new job title", changed, first.ID)
	}

	var groups, membersDelta int
	if _, err := c.GroupsDelta(ctx, "", nil, func(p graph.DeltaPage) error {
		groups += len(p.Groups)
		for _, g := range p.Groups {
			membersDelta += len(g.MembersDelta)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if groups < 3 || membersDelta == 0 {
		t.Errorf("groups delta: %d group records, %d member changes; want >= 3 and > 0", groups, membersDelta)
	}

	// Directory delta tokens last 7 days.
	s.Advance(8 * 24 * time.Hour)
	c = simClient(s, rs)
	_, err = c.UsersDelta(ctx, link, nil, func(graph.DeltaPage) error { return nil })
	var ge *graph.Error
	if !errors.Is(err, graph.ErrDeltaExpired) || !errors.As(err, &ge) || !strings.Contains(ge.Location, "/users/delta") {
		t.Errorf("expired delta token: %v, want ErrDeltaExpired with a Location to restart from", err)
	}
	// Restarting with "" is the documented recovery.
	if _, err := c.UsersDelta(ctx, "", nil, func(graph.DeltaPage) error { return nil }); err != nil {
		t.Errorf("full round after expiry: %v", err)
	}
}

func TestSimLicences(t *testing.T) {
	_, c, _ := mustSim(t, m365sim.Options{Users: 10, Groups: 1, Seed: 4}, allRoles...)
	ctx := context.Background()
	skus, err := c.SubscribedSKUs(ctx)
	if err != nil || len(skus) == 0 {
		t.Fatalf("SubscribedSKUs = %d, %v", len(skus), err)
	}
	var u graph.User
	if err := c.ListUsers(ctx, graph.Query{Filter: "accountEnabled eq true", Max: 1}, func(us []graph.User) error { u = us[0]; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateUser(ctx, u.ID, map[string]any{"usageLocation": "IE"}); err != nil {
		t.Fatal(err)
	}
	var sku graph.SubscribedSKU
	for _, s := range skus {
		if s.PrepaidUnits.Enabled > s.ConsumedUnits {
			sku = s
			break
		}
	}
	if sku.SkuID == "" {
		t.Fatal("no SKU with free seats")
	}
	if _, err := c.AssignLicense(ctx, u.ID, []graph.AssignedLicense{{SkuID: sku.SkuID}}, nil); err != nil {
		t.Fatalf("AssignLicense: %v", err)
	}
	ld, err := c.LicenseDetails(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ld, func(l graph.LicenseDetails) bool { return l.SkuID == sku.SkuID }) {
		t.Errorf("licenseDetails = %+v, want %s", ld, sku.SkuID)
	}
	if _, err := c.AssignLicense(ctx, u.ID, nil, []string{sku.SkuID}); err != nil {
		t.Fatalf("remove licence: %v", err)
	}
}

func TestSimErrors(t *testing.T) {
	_, c, _ := mustSim(t, m365sim.Options{Users: 5, Groups: 1, Seed: 5}, "User.Read.All")
	ctx := context.Background()
	if _, err := c.GetUser(ctx, "00000000-0000-0000-0000-000000000000", nil); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("missing user: %v, want ErrNotFound", err)
	}
	_, err := c.SubscribedSKUs(ctx)
	var ge *graph.Error
	if !errors.Is(err, graph.ErrForbidden) || !errors.As(err, &ge) || ge.Permission != "Organization.Read.All" {
		t.Errorf("SubscribedSKUs without permission: %v, want ErrForbidden naming Organization.Read.All", err)
	}
	if err := c.ListUsers(ctx, graph.Query{Search: `"displayName:a"`, Filter: "bogus((", Select: []string{"id"}}, func([]graph.User) error { return nil }); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("bad filter: %v, want ErrBadRequest", err)
	}
}

func TestSimThrottlingRetried(t *testing.T) {
	s, c, rs := mustSim(t, m365sim.Options{Users: 5, Groups: 1, Seed: 6}, allRoles...)
	simControl(t, s, "POST", "/_sim/faults", `{"path":"^/v1.0/users$","status":429,"count":2,"retryAfter":3}`)
	var n int
	if err := c.ListUsers(context.Background(), graph.Query{}, func(us []graph.User) error { n += len(us); return nil }); err != nil {
		t.Fatalf("ListUsers through two 429s: %v", err)
	}
	if n < 5 {
		t.Errorf("listed %d users, want >= 5", n)
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Second, 3 * time.Second}, rs.d); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if st := c.Stats(); st.Throttled != 2 || st.Retries != 2 {
		t.Errorf("stats = %+v, want 2 throttled, 2 retries", st)
	}
}
