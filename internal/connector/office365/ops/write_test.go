package ops

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

func TestMembership(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 60, groups: 1})
	env := tn.env(true)
	group := tn.addGroup(t, map[string]any{"displayName": "Onboarding"})
	dupA := tn.addGroup(t, map[string]any{"displayName": "Duplicate Name"})
	dupB := tn.addGroup(t, map[string]any{"displayName": "Duplicate Name", "unified": true, "mailNickname": "dup2"})
	pat := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("pat.lee"), "mail": "pat.lee@example.org", "displayName": "Pat Lee"})
	users := tn.users(t)[2:23] // 21 users: more than one 20-link PATCH

	// 7 by object id (upper case, as people paste them), 7 by
	// userPrincipalName, 7 by email, and Pat by an email that is not the
	// userPrincipalName.
	var refs []any
	var wantIDs []string
	for i, u := range users {
		switch i % 3 {
		case 0:
			refs = append(refs, strings.ToUpper(u.ID))
		case 1:
			refs = append(refs, u.UserPrincipalName)
		default:
			refs = append(refs, strings.ToUpper(u.Mail))
		}
		wantIDs = append(wantIDs, u.ID)
	}
	refs = append(refs, "pat.lee@example.org")
	wantIDs = append(wantIDs, pat)

	before := tn.g.Stats().Requests
	items := run(t, env, AddUserToGroup, map[string]any{"user": refs, "group": "Onboarding"})
	if got := tn.g.Stats().Requests - before; got != 3 {
		t.Errorf("adding 22 users took %d requests, want 3 (group lookup, one $batch of lookups, one $batch of member PATCHes)", got)
	}
	if diff := cmp.Diff(wantIDs, strs(items, "userId")); diff != "" {
		t.Errorf("userIds (-want +got):\n%s", diff)
	}
	for _, it := range items {
		if it["result"] != ResultAdded || it["groupId"] != group || it["error"] != "" {
			t.Errorf("item %v: want result added in %s", it, group)
		}
	}
	got := tn.members(t, group)
	slices.Sort(got)
	want := slices.Clone(wantIDs)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members after adding (-want +got):\n%s", diff)
	}

	t.Run("again, with strangers", func(t *testing.T) {
		ghostID := "00000000-0000-4000-8000-000000000001"
		in := append(slices.Clone(refs), "ghost@"+tn.facts.TenantDomain, ghostID, "not a reference", users[0].UserPrincipalName)
		items, err := Run(context.Background(), env, AddUserToGroup, map[string]any{"user": in, "group": group})
		wantCode(t, err, tenantlink.ENOTFOUND, "Add User to Group failed for 3 of 25 users", "ghost@")
		if got, want := len(items), 25; got != want {
			t.Fatalf("got %d items, want %d (the repeated user once)", got, want)
		}
		for _, it := range items[:22] {
			if it["result"] != ResultAlreadyMember {
				t.Errorf("item %v: want already a member", it)
			}
		}
		wantTail := []string{"error", "error", "error"}
		if diff := cmp.Diff(wantTail, strs(items[22:], "result")); diff != "" {
			t.Errorf("strangers' results (-want +got):\n%s", diff)
		}
		if msg := items[23]["error"].(string); !strings.Contains(msg, ghostID) || !strings.Contains(msg, "does not exist") {
			t.Errorf("unknown id's error = %q", msg)
		}
		if msg := items[24]["error"].(string); !strings.Contains(msg, "not a user reference") {
			t.Errorf("non-reference's error = %q", msg)
		}
		if n := len(tn.members(t, group)); n != 22 {
			t.Errorf("group has %d members, want still 22", n)
		}
	})

	t.Run("remove", func(t *testing.T) {
		in := map[string]any{"user": []any{users[0].ID, users[1].UserPrincipalName, "pat.lee@example.org"}, "group": group}
		items := run(t, env, RemoveUserFromGroup, in)
		if diff := cmp.Diff([]string{"removed", "removed", "removed"}, strs(items, "result")); diff != "" {
			t.Errorf("first removal (-want +got):\n%s", diff)
		}
		items = run(t, env, RemoveUserFromGroup, in)
		if diff := cmp.Diff([]string{"not a member", "not a member", "not a member"}, strs(items, "result")); diff != "" {
			t.Errorf("second removal (-want +got):\n%s", diff)
		}
		if n := len(tn.members(t, group)); n != 19 {
			t.Errorf("group has %d members, want 19", n)
		}
	})

	groupErrors := []struct {
		name, group, code string
		fragments         []string
	}{
		{"ambiguous name", "Duplicate Name", tenantlink.EINVALID, []string{"2 groups are named \"Duplicate Name\"", dupA, dupB, "microsoft365"}},
		{"unknown name", "Nobody's Group", tenantlink.ENOTFOUND, []string{"no group named \"Nobody's Group\""}},
		{"unknown id", "00000000-0000-4000-8000-0000000000aa", tenantlink.ENOTFOUND, []string{"does not exist"}},
	}
	for _, tt := range groupErrors {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), env, AddUserToGroup, map[string]any{"user": users[0].ID, "group": tt.group})
			wantCode(t, err, tt.code, tt.fragments...)
		})
	}

	t.Run("single user by group id", func(t *testing.T) {
		items := run(t, env, AddUserToGroup, map[string]any{"user": users[0].UserPrincipalName, "group": dupB})
		want := []connector.Item{{"user": users[0].UserPrincipalName, "userId": users[0].ID, "groupId": dupB, "result": "added", "error": ""}}
		if diff := cmp.Diff(want, items); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
	})
}

func TestCreateGroup(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 40, groups: 1})
	env := tn.env(true)
	users := tn.users(t)

	t.Run("security with 25 members", func(t *testing.T) {
		var members []any
		for _, u := range users[5:30] {
			members = append(members, u.UserPrincipalName)
		}
		items := run(t, env, CreateGroup, map[string]any{"displayName": "Engineering Leads", "description": "Leads",
			"owners": users[1].ID, "members": members})
		if len(items) != 1 {
			t.Fatalf("got %d items, want the group", len(items))
		}
		g := items[0]
		want := connector.Item{"id": g["id"], "displayName": "Engineering Leads", "description": "Leads", "mail": "",
			"mailNickname": "EngineeringLeads", "groupType": "security", "securityEnabled": true, "mailEnabled": false,
			"visibility": "", "createdDateTime": g["createdDateTime"]}
		if diff := cmp.Diff(want, g); diff != "" {
			t.Errorf("group record (-want +got):\n%s", diff)
		}
		if n := len(tn.members(t, g["id"].(string))); n != 25 {
			t.Errorf("group has %d members, want 25 (19 bound in the create, 6 added after)", n)
		}
	})

	t.Run("microsoft365 with a derived nickname, twice", func(t *testing.T) {
		in := map[string]any{"displayName": "Zoë's Team (Sales)", "groupType": "Microsoft365", "visibility": "private"}
		first := run(t, env, CreateGroup, in)[0]
		if got, want := first["mailNickname"], "Zoe'sTeamSales"; got != want {
			t.Errorf("mailNickname = %v, want %s", got, want)
		}
		if got, want := first["groupType"], "microsoft365"; got != want {
			t.Errorf("groupType = %v, want %s", got, want)
		}
		if got, want := first["visibility"], "Private"; got != want {
			t.Errorf("visibility = %v, want %s", got, want)
		}
		// The same name again is refused, naming the existing group...
		_, err := Run(context.Background(), env, CreateGroup, in)
		wantCode(t, err, tenantlink.ECONFLICT, `A group named "Zoë's Team (Sales)" already exists (id `+first["id"].(string)+")", "allowDuplicate")
		// ...also in another case, as Graph compares names...
		_, err = Run(context.Background(), env, CreateGroup, map[string]any{"displayName": "ZOË'S TEAM (SALES)"})
		wantCode(t, err, tenantlink.ECONFLICT, first["id"].(string))
		// ...unless asked for (as text, the way processes and the CLI send it).
		in["allowDuplicate"] = "true"
		second := run(t, env, CreateGroup, in)[0]
		nick := second["mailNickname"].(string)
		if !strings.HasPrefix(nick, "Zoe'sTeamSales-") || len(nick) != len("Zoe'sTeamSales-")+4 {
			t.Errorf("second group's mailNickname = %q, want Zoe'sTeamSales-xxxx", nick)
		}
		if first["id"] == second["id"] {
			t.Errorf("both runs gave group %v", first["id"])
		}
	})

	t.Run("given nickname taken", func(t *testing.T) {
		in := map[string]any{"displayName": "Taken", "groupType": "microsoft365", "mailNickname": "taken"}
		run(t, env, CreateGroup, in)
		in["allowDuplicate"] = true
		_, err := Run(context.Background(), env, CreateGroup, in)
		wantCode(t, err, tenantlink.ECONFLICT, `"taken"`)
	})

	t.Run("unknown member creates nothing", func(t *testing.T) {
		before := len(run(t, env, GroupList, nil))
		_, err := Run(context.Background(), env, CreateGroup, map[string]any{"displayName": "Half Built",
			"members": []any{users[3].ID, "ghost@" + tn.facts.TenantDomain}})
		wantCode(t, err, tenantlink.EINVALID, "was not created", "ghost@")
		if after := len(run(t, env, GroupList, nil)); after != before {
			t.Errorf("got %d groups after a refused create, want %d", after, before)
		}
	})
}

func TestLicences(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 30, groups: 1})
	env := tn.env(true)
	located := tn.upn("lic.one")
	tn.addUser(t, map[string]any{"userPrincipalName": located, "usageLocation": "IE"})
	located2 := tn.upn("lic.two")
	tn.addUser(t, map[string]any{"userPrincipalName": located2, "usageLocation": "US"})
	nowhere := tn.upn("nowhere")
	nowhereID := tn.addUser(t, map[string]any{"userPrincipalName": nowhere})
	nowhere2 := tn.upn("nowhere.two")
	tn.addUser(t, map[string]any{"userPrincipalName": nowhere2})

	steps := []struct {
		name       string
		op         string
		in         map[string]any
		wantResult []string
		code       string
		fragments  []string
	}{
		{"assign by product name", AssignLicenceToUser, map[string]any{"user": located, "licence": "office 365 e3"}, []string{"assigned"}, "", nil},
		{"again by part number", AssignLicenceToUser, map[string]any{"user": located, "licence": "ENTERPRISEPACK"}, []string{"already assigned"}, "", nil},
		{"again by skuId", AssignLicenceToUser, map[string]any{"user": located, "licence": "6FD2C87F-B296-42F0-B197-1E91E994B900"}, []string{"already assigned"}, "", nil},
		{"with disabled plans", AssignLicenceToUser, map[string]any{"user": located2, "licence": "Office 365 E3", "disabledPlans": "YAMMER_ENTERPRISE, sway"},
			[]string{"assigned"}, "", nil},
		{"unknown plan", AssignLicenceToUser, map[string]any{"user": located2, "licence": "Office 365 E3", "disabledPlans": []any{"NOT_A_PLAN"}},
			nil, tenantlink.EINVALID, []string{`"NOT_A_PLAN"`, "Office 365 E3 (ENTERPRISEPACK)", "EXCHANGE_S_ENTERPRISE"}},
		{"no usage location", AssignLicenceToUser, map[string]any{"user": nowhere, "licence": "Office 365 E3"}, []string{"error"},
			tenantlink.EINVALID, []string{"User " + nowhere + " has no usage location; Microsoft requires one before a licence can be assigned. Give the usageLocation input (e.g. IE) or set it in Microsoft 365."}},
		{"usage location given", AssignLicenceToUser, map[string]any{"user": nowhereID, "licence": "Office 365 E3", "usageLocation": "ie"}, []string{"assigned"}, "", nil},
		{"no units left", AssignLicenceToUser, map[string]any{"user": located, "licence": "Office 365 E5"}, []string{"error"},
			tenantlink.ECONFLICT, []string{"No Office 365 E5 (ENTERPRISEPREMIUM) licences are left (2 of 2 in use)"}},
		{"unknown licence", AssignLicenceToUser, map[string]any{"user": located, "licence": "Office 365 E7"}, nil,
			tenantlink.ENOTFOUND, []string{`"Office 365 E7"`, "Office 365 E3 (ENTERPRISEPACK)", "Microsoft 365 Business Premium (SPB)"}},
		{"known licence the tenant lacks", AssignLicenceToUser, map[string]any{"user": located, "licence": "Visio Online Plan 2"}, nil,
			tenantlink.ENOTFOUND, []string{"does not subscribe to Visio Plan 2 (VISIOCLIENT)"}},
		{"several users, some failing", AssignLicenceToUser, map[string]any{"user": []any{located, nowhere2, "ghost@" + tn.facts.TenantDomain}, "licence": "SPE_E3"},
			[]string{"assigned", "error", "error"}, tenantlink.EINVALID, []string{"failed for 2 of 3 users", "has no usage location", "ghost@"}},
		{"remove", RemoveLicenceFromUser, map[string]any{"user": []any{located, located2}, "licence": "Office 365 E3"}, []string{"removed", "removed"}, "", nil},
		{"remove again", RemoveLicenceFromUser, map[string]any{"user": located, "licence": "Office 365 E3"}, []string{"not assigned"}, "", nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			items, err := Run(context.Background(), env, s.op, s.in)
			if s.code == "" && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if s.code != "" {
				wantCode(t, err, s.code, s.fragments...)
			}
			var got []string
			if len(items) > 0 {
				got = strs(items, "result")
			}
			if diff := cmp.Diff(s.wantResult, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			for _, it := range items {
				if it["result"] == ResultError && it["error"] == "" {
					t.Errorf("item %v has no error message", it)
				}
			}
		})
	}

	u, err := tn.g.GetUser(context.Background(), nowhereID, []string{"usageLocation", "assignedLicenses"})
	if err != nil {
		t.Fatal(err)
	}
	if u.UsageLocation != "IE" || len(u.AssignedLicenses) != 1 {
		t.Errorf("user given a usage location: got %q and %d licences, want IE and 1", u.UsageLocation, len(u.AssignedLicenses))
	}
	d, err := tn.g.LicenseDetails(context.Background(), located2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 0 {
		t.Errorf("after removal %s holds %d licences, want 0", located2, len(d))
	}
}

func TestWriteForbidden(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 10, groups: 1, roles: []string{"User.Read.All", "GroupMember.Read.All", "Organization.Read.All"}})
	group := tn.addGroup(t, map[string]any{"displayName": "Readers"})
	users := tn.users(t)
	items, err := Run(context.Background(), tn.env(true), AddUserToGroup, map[string]any{"user": users[3].ID, "group": group})
	wantCode(t, err, tenantlink.EFORBIDDEN, "GroupMember.ReadWrite.All")
	if len(items) != 0 {
		t.Errorf("got items %v for a refused write", items)
	}
	_, err = Run(context.Background(), tn.env(true), AssignLicenceToUser, map[string]any{"user": users[0].UserPrincipalName, "licence": "FLOW_FREE"})
	wantCode(t, err, tenantlink.EFORBIDDEN, "LicenseAssignment.ReadWrite.All")
}

// workload is a little of every write on users (read before any fault
// is injected). before runs ahead of each step; the results of every step
// and the requests each took come back.
func workload(tb testing.TB, tn *tenant, users []graph.User, before func(step int)) (results []string, requests []int) {
	tb.Helper()
	env := tn.env(true)
	var refs []any
	for _, u := range users[2:42] {
		refs = append(refs, u.UserPrincipalName)
	}
	var g string
	steps := []func() []connector.Item{
		func() []connector.Item {
			items := run(tb, env, CreateGroup, map[string]any{"displayName": "Throttled Team", "members": refs[:5]})
			g = items[0]["id"].(string)
			return []connector.Item{{"result": items[0]["displayName"]}}
		},
		func() []connector.Item { return run(tb, env, AddUserToGroup, map[string]any{"user": refs, "group": g}) },
		func() []connector.Item {
			return run(tb, env, RemoveUserFromGroup, map[string]any{"user": refs[30:], "group": g})
		},
		func() []connector.Item {
			return run(tb, env, AssignLicenceToUser, map[string]any{"user": []any{users[45].ID, users[46].ID}, "licence": "FLOW_FREE", "usageLocation": "IE"})
		},
		func() []connector.Item {
			return run(tb, env, RemoveLicenceFromUser, map[string]any{"user": users[45].ID, "licence": "FLOW_FREE"})
		},
	}
	for i, step := range steps {
		before(i)
		n := tn.sim.Stats().Requests
		results = append(results, strings.Join(strs(step(), "result"), ","))
		requests = append(requests, tn.sim.Stats().Requests-n)
	}
	members := tn.members(tb, g)
	slices.Sort(members)
	results = append(results, fmt.Sprintf("members=%d distinct=%d", len(members), len(slices.Compact(members))))
	return results, requests
}

// TestThrottledHalfTheRequests runs the workload twice: cleanly, then
// with the simulator answering 429 to as many requests in each step as
// the clean step needed in all, so half of the throttled run's requests
// (envelopes and $batch items alike) are refused. Everything must end the
// same, with nothing lost or duplicated.
func TestThrottledHalfTheRequests(t *testing.T) {
	clean := startTenant(t, tenantOpts{users: 60, groups: 1})
	want, perStep := workload(t, clean, clean.users(t), func(int) {})
	if want[len(want)-1] != "members=30 distinct=30" {
		t.Errorf("clean run ended with %s, want 30 distinct members", want[len(want)-1])
	}

	tn := startTenant(t, tenantOpts{users: 60, groups: 1})
	users := tn.users(t)
	// A request may meet every fault of its step in a row.
	tn.g = tn.clientWith(graph.Config{MaxRetries: 100})
	injected := 0
	got, _ := workload(t, tn, users, func(step int) {
		tn.ctl(t, http.MethodPost, "/_sim/faults", map[string]any{"path": `^/v1\.0/`, "status": 429, "count": perStep[step], "retryAfter": 1}, nil)
		injected += perStep[step]
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("throttled run differs from the clean run (-clean +throttled):\n%s", diff)
	}
	if st := tn.sim.Stats(); st.Faults != injected {
		t.Errorf("the simulator answered %d requests with 429, want %d", st.Faults, injected)
	}
	if tn.g.Stats().Retries == 0 {
		t.Errorf("the Graph client retried nothing")
	}
}

// TestNoUnitsLeftCountsThisRequest assigns a licence to one more user than
// it has units left: the refusal for the last user counts the units as
// they are after this request's own assignments (all in use), not as they
// were before it.
func TestNoUnitsLeftCountsThisRequest(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 30, groups: 1})
	ctx := context.Background()
	skus, err := tn.g.SubscribedSKUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sku *graph.SubscribedSKU
	for i := range skus {
		s := &skus[i]
		if left := available(s); left > 0 && left <= 20 && (sku == nil || left < available(sku)) {
			sku = s
		}
	}
	if sku == nil {
		t.Fatalf("no SKU with between 1 and 20 units left in %+v", skus)
	}
	left := available(sku)
	var users []any
	for i := range left + 1 {
		users = append(users, tn.upn(fmt.Sprintf("units.%d", i)))
		tn.addUser(t, map[string]any{"userPrincipalName": users[i], "usageLocation": "IE"})
	}
	items, err := Run(ctx, tn.env(true), AssignLicenceToUser, map[string]any{"user": users, "licence": sku.SkuID})
	want := fmt.Sprintf("No %s licences are left (%d of %d in use), so none could be assigned to %s.",
		skuLabel(sku), sku.PrepaidUnits.Enabled, sku.PrepaidUnits.Enabled, users[left])
	wantCode(t, err, tenantlink.ECONFLICT, want)
	wantResults := make([]string, left+1)
	for i := range left {
		wantResults[i] = ResultAssigned
	}
	wantResults[left] = ResultError
	if diff := cmp.Diff(strs(items, "result"), wantResults); diff != "" {
		t.Errorf("results (-got +want):\n%s", diff)
	}
	if got := items[left]["error"]; !strings.Contains(fmt.Sprint(got), want) {
		t.Errorf("last item's error = %q, want it to contain %q", got, want)
	}
}
