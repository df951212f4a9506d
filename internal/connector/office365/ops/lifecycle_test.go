package ops

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

const ghostID = "00000000-0000-4000-8000-0000000000aa"

// newOps are the operations this file covers, with whether they write.
var newOps = map[string]bool{
	GetUser: false, UserLicences: false, CreateUser: true, UpdateUser: true, DisableUser: true, EnableUser: true,
	DeleteUser: true, RestoreUser: true, GetManager: false, GetDirectReports: false, ListGroupMembers: false,
	ListUserGroups: false, CheckMembership: false, UpdateGroup: true, DeleteGroup: true, RestoreGroup: true,
	AssignLicenceToGroup: true, RemoveLicenceFromGroup: true, RemoveUserFromAllGroups: true, RemoveAllLicencesFromUser: true,
}

func TestNewOperationsDeclared(t *testing.T) {
	got := map[string]bool{}
	for _, op := range Operations() {
		if _, ok := newOps[op.Name]; ok {
			got[op.Name] = op.Write
		}
	}
	if diff := cmp.Diff(newOps, got); diff != "" {
		t.Errorf("declared operations and their write flag (-want +got):\n%s", diff)
	}
}

// TestLifecycleReadOnly: every new write refuses while the data source is
// read-only, before any Graph request.
func TestLifecycleReadOnly(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 3, groups: 1})
	inputs := map[string]map[string]any{
		CreateUser:                {"userPrincipalName": tn.upn("new"), "displayName": "New"},
		UpdateUser:                {"user": tn.facts.MemberUser, "jobTitle": "x"},
		DisableUser:               {"user": tn.facts.MemberUser},
		EnableUser:                {"user": tn.facts.MemberUser},
		DeleteUser:                {"user": tn.facts.MemberUser},
		RestoreUser:               {"user": tn.facts.MemberUser},
		UpdateGroup:               {"group": "x", "description": "y"},
		DeleteGroup:               {"group": "x"},
		RestoreGroup:              {"group": "x"},
		AssignLicenceToGroup:      {"group": "x", "licence": "ENTERPRISEPACK"},
		RemoveLicenceFromGroup:    {"group": "x", "licence": "ENTERPRISEPACK"},
		RemoveUserFromAllGroups:   {"user": tn.facts.MemberUser},
		RemoveAllLicencesFromUser: {"user": tn.facts.MemberUser},
	}
	for name, write := range newOps {
		if !write {
			continue
		}
		t.Run(name, func(t *testing.T) {
			before := tn.g.Stats().Requests
			_, err := Run(context.Background(), tn.env(false), name, inputs[name])
			wantCode(t, err, tenantlink.EFORBIDDEN, "write operation", "Read and write")
			if got := tn.g.Stats().Requests - before; got != 0 {
				t.Errorf("%d Graph requests, want none", got)
			}
		})
	}
}

// TestLifecycleUnknownReferences: a reference to nobody is a clear error
// (single-reference operations) or an item error (lists).
func TestLifecycleUnknownReferences(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 3, groups: 1})
	env := tn.env(true)
	ghost := "ghost@" + tn.facts.TenantDomain
	tests := []struct {
		op   string
		in   map[string]any
		code string
		frag string
	}{
		{GetUser, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{UserLicences, map[string]any{"user": ghostID}, tenantlink.ENOTFOUND, ghostID},
		{UpdateUser, map[string]any{"user": ghost, "jobTitle": "x"}, tenantlink.ENOTFOUND, "ghost@"},
		{UpdateUser, map[string]any{"user": tn.facts.MemberUser, "manager": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{CreateUser, map[string]any{"userPrincipalName": tn.upn("x1"), "displayName": "X", "manager": ghost}, tenantlink.ENOTFOUND, "was not created"},
		{GetManager, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{GetDirectReports, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{ListUserGroups, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{ListGroupMembers, map[string]any{"group": "No Such Group"}, tenantlink.ENOTFOUND, "No Such Group"},
		{CheckMembership, map[string]any{"user": tn.facts.MemberUser, "group": ghostID}, tenantlink.ENOTFOUND, ghostID},
		{UpdateGroup, map[string]any{"group": "No Such Group", "description": "d"}, tenantlink.ENOTFOUND, "No Such Group"},
		{DeleteGroup, map[string]any{"group": "No Such Group"}, tenantlink.ENOTFOUND, "No Such Group"},
		{RestoreGroup, map[string]any{"group": "No Such Group"}, tenantlink.ENOTFOUND, "30 days"},
		{AssignLicenceToGroup, map[string]any{"group": "No Such Group", "licence": "ENTERPRISEPACK"}, tenantlink.ENOTFOUND, "No Such Group"},
		{AssignLicenceToGroup, map[string]any{"group": ghostID, "licence": "NOPE"}, tenantlink.ENOTFOUND, "NOPE"},
		{RemoveUserFromAllGroups, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{RemoveAllLicencesFromUser, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{DisableUser, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{EnableUser, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{DeleteUser, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "ghost@"},
		{RestoreUser, map[string]any{"user": ghost}, tenantlink.ENOTFOUND, "purged after 30 days"},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			_, err := Run(context.Background(), env, tc.op, tc.in)
			wantCode(t, err, tc.code, tc.frag)
		})
	}
}

// TestUserLifecycle walks create → update → disable → delete → restore,
// each twice: the second run reports the state it found, not an error.
func TestUserLifecycle(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 5, groups: 1})
	env := tn.env(true)
	boss := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("boss"), "displayName": "Boss"})
	upn := tn.upn("new.starter")

	steps := []struct {
		op         string
		in         map[string]any
		want       []string // the result of each run: first, then the re-run
		field, val string   // checked in the first run's item when set
	}{
		{CreateUser, map[string]any{"userPrincipalName": upn, "displayName": "New Starter", "jobTitle": "Analyst",
			"usageLocation": "ie", "manager": tn.upn("boss")}, []string{ResultCreated, ResultAlreadyExists}, "usageLocation", "IE"},
		{UpdateUser, map[string]any{"user": upn, "department": "Finance", "jobTitle": "Senior Analyst"},
			[]string{ResultUpdated, ResultUnchanged}, "changed", "department, jobTitle"},
		{UpdateUser, map[string]any{"user": upn, "removeManager": true}, []string{ResultUpdated, ResultUnchanged}, "changed", "manager"},
		{UpdateUser, map[string]any{"user": upn, "manager": boss}, []string{ResultUpdated, ResultUnchanged}, "changed", "manager"},
		{DisableUser, map[string]any{"user": upn}, []string{ResultDisabled, ResultAlreadyDisabled}, "", ""},
		{EnableUser, map[string]any{"user": upn}, []string{ResultEnabled, ResultAlreadyEnabled}, "", ""},
		{UpdateUser, map[string]any{"user": upn, "accountEnabled": "false"}, []string{ResultUpdated, ResultUnchanged}, "changed", "accountEnabled"},
		{DeleteUser, map[string]any{"user": upn}, []string{ResultDeleted, ResultAlreadyDeleted}, "", ""},
		{RestoreUser, map[string]any{"user": upn}, []string{ResultRestored, ResultNotDeleted}, "", ""},
	}
	var password string
	for _, st := range steps {
		t.Run(st.op, func(t *testing.T) {
			for i, want := range st.want {
				items := run(t, env, st.op, st.in)
				if len(items) != 1 {
					t.Fatalf("run %d: got %d items, want 1: %v", i+1, len(items), items)
				}
				if got := items[0]["result"]; got != want {
					t.Errorf("run %d: result %v, want %s (item %v)", i+1, got, want, items[0])
				}
				if i == 0 && st.field != "" && items[0][st.field] != st.val {
					t.Errorf("%s = %v, want %s", st.field, items[0][st.field], st.val)
				}
				if st.op == CreateUser {
					pw, _ := items[0]["temporaryPassword"].(string)
					if i == 0 {
						password = pw
					} else if pw != "" {
						t.Errorf("re-run returned a password: it is given once only")
					}
				}
			}
		})
	}
	if len(password) != 16 {
		t.Errorf("temporary password %q: want 16 characters", password)
	}

	items := run(t, env, GetUser, map[string]any{"user": upn})
	got := map[string]any{}
	for _, k := range []string{"userPrincipalName", "jobTitle", "department", "usageLocation", "accountEnabled", "managerUserPrincipalName"} {
		got[k] = items[0][k]
	}
	want := map[string]any{"userPrincipalName": upn, "jobTitle": "Senior Analyst", "department": "Finance", "usageLocation": "IE",
		"accountEnabled": false, "managerUserPrincipalName": tn.upn("boss")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get User after the life cycle (-want +got):\n%s", diff)
	}
	reports := run(t, env, GetDirectReports, map[string]any{"user": tn.upn("boss")})
	if diff := cmp.Diff([]string{upn}, strs(reports, "userPrincipalName")); diff != "" {
		t.Errorf("Get Direct Reports (-want +got):\n%s", diff)
	}
	mgr := run(t, env, GetManager, map[string]any{"user": upn})
	if len(mgr) != 1 || mgr[0]["id"] != boss {
		t.Errorf("Get Manager: %v, want %s", mgr, boss)
	}
	if none := run(t, env, GetManager, map[string]any{"user": tn.upn("boss")}); len(none) != 0 {
		t.Errorf("Get Manager of a user without one: %v, want no items", none)
	}
}

// TestUserWritesPartialFailure: a list with known, unknown and malformed
// references gives each its own outcome and one summary error.
func TestUserWritesPartialFailure(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 30, groups: 1})
	env := tn.env(true)
	var refs []any // 22 enabled users: more than one $batch envelope
	for _, u := range tn.users(t)[2:] {
		if u.AccountEnabled != nil && *u.AccountEnabled && len(refs) < 22 {
			refs = append(refs, u.UserPrincipalName)
		}
	}
	refs = append(refs, "ghost@"+tn.facts.TenantDomain, "not a reference")
	tests := []struct {
		op          string
		first, rest string
	}{
		{DisableUser, ResultDisabled, ResultAlreadyDisabled},
		{EnableUser, ResultEnabled, ResultAlreadyEnabled},
		{DeleteUser, ResultDeleted, ResultAlreadyDeleted},
		{RestoreUser, ResultRestored, ResultNotDeleted},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			for run, want := range []string{tc.first, tc.rest} {
				items, err := Run(context.Background(), env, tc.op, map[string]any{"user": refs})
				wantCode(t, err, tenantlink.ENOTFOUND, "failed for 2 of 24 users")
				if len(items) != 24 {
					t.Fatalf("got %d items, want 24", len(items))
				}
				for _, it := range items[:22] {
					if it["result"] != want || it["error"] != "" {
						t.Errorf("run %d: item %v: want %s", run+1, it, want)
					}
				}
				for _, it := range items[22:] {
					if it["result"] != ResultError || it["error"] == "" {
						t.Errorf("run %d: item %v: want an error", run+1, it)
					}
				}
			}
		})
	}
}

func TestGroupAdministration(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 6, groups: 1})
	env := tn.env(true)
	users := tn.users(t)
	team := tn.addGroup(t, map[string]any{"displayName": "Team", "unified": true, "mailNickname": "team", "members": []string{users[1].ID}})
	sec := tn.addGroup(t, map[string]any{"displayName": "Secure", "members": []string{users[2].ID}})
	outer := tn.addGroup(t, map[string]any{"displayName": "Outer", "members": []string{users[3].ID}})
	// Nest Secure inside Outer.
	if res, err := tn.g.AddMembers(context.Background(), outer, []string{sec}); err != nil || res[0].Err != nil {
		t.Fatalf("nesting: %v %v", err, res)
	}

	t.Run("members direct and transitive", func(t *testing.T) {
		direct := run(t, env, ListGroupMembers, map[string]any{"group": "Outer"})
		trans := run(t, env, ListGroupMembers, map[string]any{"group": "Outer", "transitive": true})
		if diff := cmp.Diff([]string{users[3].ID}, strs(direct, "id")); diff != "" {
			t.Errorf("direct members (the simulator lists user members) (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{users[3].ID + " user", sec + " group", users[2].ID + " user"}, pair(trans, "id", "type")); diff != "" {
			t.Errorf("transitive members (-want +got):\n%s", diff)
		}
		groups := run(t, env, ListUserGroups, map[string]any{"user": users[2].UserPrincipalName, "transitive": "yes"})
		if diff := cmp.Diff([]string{"Outer", "Secure"}, sortedStrs(groups, "displayName")); diff != "" {
			t.Errorf("transitive groups (-want +got):\n%s", diff)
		}
		direct = run(t, env, ListUserGroups, map[string]any{"user": users[2].UserPrincipalName})
		if diff := cmp.Diff([]string{"Secure"}, strs(direct, "displayName")); diff != "" {
			t.Errorf("direct groups (-want +got):\n%s", diff)
		}
		check, err := Run(context.Background(), env, CheckMembership, map[string]any{"user": []any{users[2].ID, users[3].UserPrincipalName, users[4].UserPrincipalName, "nobody@" + tn.facts.TenantDomain}, "group": "Outer"})
		wantCode(t, err, tenantlink.ENOTFOUND, "nobody@")
		if diff := cmp.Diff([]string{ResultMember, ResultMember, ResultNotMember, ResultError}, strs(check, "result")); diff != "" {
			t.Errorf("Check Membership (-want +got):\n%s", diff)
		}
	})

	t.Run("update", func(t *testing.T) {
		for i, want := range []string{ResultUpdated, ResultUnchanged} {
			items := run(t, env, UpdateGroup, map[string]any{"group": team, "description": "The team", "visibility": "private"})
			if items[0]["result"] != want {
				t.Errorf("run %d: %v, want %s", i+1, items[0], want)
			}
		}
		g, err := tn.g.GetGroup(context.Background(), team, nil)
		if err != nil || g.Description != "The team" || g.Visibility != "Private" {
			t.Errorf("after update: %+v %v", g, err)
		}
	})

	t.Run("delete and restore a Microsoft 365 group", func(t *testing.T) {
		for i, want := range []string{ResultDeleted, ResultAlreadyDeleted} {
			items := run(t, env, DeleteGroup, map[string]any{"group": "Team"})
			if items[0]["result"] != want || items[0]["restorableUntil"] == "" {
				t.Errorf("run %d: %v, want %s with a restore deadline", i+1, items[0], want)
			}
		}
		for i, want := range []string{ResultRestored, ResultNotDeleted} {
			items := run(t, env, RestoreGroup, map[string]any{"group": "Team"})
			if items[0]["result"] != want {
				t.Errorf("run %d: %v, want %s", i+1, items[0], want)
			}
		}
		if got := tn.members(t, team); !slices.Equal(got, []string{users[1].ID}) {
			t.Errorf("restored group's members %v, want %s", got, users[1].ID)
		}
	})

	t.Run("a security group is deleted for good", func(t *testing.T) {
		items := run(t, env, DeleteGroup, map[string]any{"group": "Outer"})
		if items[0]["restorableUntil"] != "" || items[0]["groupType"] != "security" {
			t.Errorf("%v: want no restore deadline", items[0])
		}
		_, err := Run(context.Background(), env, RestoreGroup, map[string]any{"group": outer})
		wantCode(t, err, tenantlink.ENOTFOUND, "security groups are deleted permanently")
	})

	t.Run("restore after 30 days fails", func(t *testing.T) {
		run(t, env, DeleteGroup, map[string]any{"group": "Team"})
		tn.ctl(t, http.MethodPost, "/_sim/clock", map[string]any{"advance": "721h"}, nil)
		later := Env{Graph: tn.client(false), ReadWrite: true} // the old token expired with the clock
		_, err := Run(context.Background(), later, RestoreGroup, map[string]any{"group": "Team"})
		wantCode(t, err, tenantlink.ENOTFOUND, "within 30 days")
	})
}

// TestGroupLicensing: a group's licence reaches its direct members with
// per-user states; error states are explained.
func TestGroupLicensing(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 8, groups: 1})
	env := tn.env(true)
	a := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("gl.a"), "usageLocation": "IE"})
	b := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("gl.b"), "usageLocation": "KP"})
	grp := tn.addGroup(t, map[string]any{"displayName": "Licensed", "members": []string{a, b}})
	plan := skuWithRoom(t, tn)
	// a holds the licence directly before the group gives it again.
	run(t, env, AssignLicenceToUser, map[string]any{"user": a, "licence": plan.SkuID})

	for i, want := range []string{ResultAssigned, ResultAlreadyAssigned} {
		items := run(t, env, AssignLicenceToGroup, map[string]any{"group": "Licensed", "licence": plan.SkuPartNumber})
		if items[0]["result"] != want || items[0]["processingState"] != "ProcessingComplete" {
			t.Errorf("run %d: %v, want %s, ProcessingComplete", i+1, items[0], want)
		}
	}
	la := run(t, env, UserLicences, map[string]any{"user": a})
	lb := run(t, env, UserLicences, map[string]any{"user": b})
	if diff := cmp.Diff([]string{"direct  Active ", "group " + grp + " Active "}, triple(la)); diff != "" {
		t.Errorf("member a's licences (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"group " + grp + " Error ProhibitedInUsageLocationViolation"}, triple(lb)); diff != "" {
		t.Errorf("member b's licences (-want +got):\n%s", diff)
	}
	if msg, _ := lb[0]["message"].(string); !strings.Contains(msg, "usage location KP") {
		t.Errorf("message %q: want the usage location named", msg)
	}
	if got := run(t, env, RemoveLicenceFromUser, map[string]any{"user": b, "licence": plan.SkuID}); got[0]["result"] != ResultNotAssigned {
		t.Errorf("removing a licence b holds in error state: %v, want not assigned", got[0])
	}
	get := run(t, env, GetUser, map[string]any{"user": a})
	if l := get[0]["licences"].(string); !strings.Contains(l, plan.SkuPartNumber+" (direct)") || !strings.Contains(l, "(group "+grp+")") {
		t.Errorf("Get User licences %q", l)
	}
	// Remove All Licences removes the direct one and reports the inherited one.
	rem := run(t, env, RemoveAllLicencesFromUser, map[string]any{"user": a})
	if diff := cmp.Diff([]string{ResultRemoved, ResultInherited}, strs(rem, "result")); diff != "" {
		t.Errorf("Remove All Licences (-want +got):\n%s", diff)
	}
	// What is left is the group's: the user cannot give it back alone.
	_, err := Run(context.Background(), env, RemoveLicenceFromUser, map[string]any{"user": a, "licence": plan.SkuID})
	wantCode(t, err, tenantlink.EINVALID, "inherited from a group membership")
	for i, want := range []string{ResultRemoved, ResultNotAssigned} {
		items := run(t, env, RemoveLicenceFromGroup, map[string]any{"group": grp, "licence": plan.SkuPartNumber})
		if items[0]["result"] != want {
			t.Errorf("remove run %d: %v, want %s", i+1, items[0], want)
		}
	}
	if got := run(t, env, UserLicences, map[string]any{"user": a}); len(got) != 0 {
		t.Errorf("after removing the group licence a still has %v", got)
	}
}

// skuWithRoom picks a subscribed SKU with at least 5 free units.
func skuWithRoom(t *testing.T, tn *tenant) graph.SubscribedSKU {
	t.Helper()
	skus, err := tn.g.SubscribedSKUs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range skus {
		if s.PrepaidUnits.Enabled-s.ConsumedUnits >= 5 {
			return s
		}
	}
	t.Fatalf("no SKU with 5 free units in %v", skus)
	return graph.SubscribedSKU{}
}

func triple(items []connector.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it["assignment"].(string) + " " + it["groupId"].(string) + " " + it["state"].(string) + " " + it["error"].(string)
	}
	slices.Sort(out)
	return out
}

func pair(items []connector.Item, a, b string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it[a].(string) + " " + it[b].(string)
	}
	return out
}

func sortedStrs(items []connector.Item, name string) []string {
	s := strs(items, name)
	slices.Sort(s)
	return s
}

// TestLifecycleMicrosoftErrors: Microsoft's refusals reach the caller as
// messages saying what failed and why.
func TestLifecycleMicrosoftErrors(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 5, groups: 1})
	env := tn.env(true)
	tn.addGroup(t, map[string]any{"displayName": "M365 Team", "unified": true, "mailNickname": "m365team"})
	tests := []struct {
		name string
		op   string
		in   map[string]any
		code string
		frag []string
	}{
		{"unverified domain", CreateUser, map[string]any{"userPrincipalName": "x@example.org", "displayName": "X"},
			tenantlink.EINVALID, []string{"Could not create the user x@example.org", "verified domain"}},
		{"bad usage location", UpdateUser, map[string]any{"user": tn.facts.MemberUser, "usageLocation": "Ireland"},
			tenantlink.EINVALID, []string{"two-letter country code"}},
		{"licence on a group that is not security enabled", AssignLicenceToGroup, map[string]any{"group": "M365 Team", "licence": "ENTERPRISEPACK"},
			tenantlink.EINVALID, []string{"not security enabled"}},
		{"hidden membership after creation", UpdateGroup, map[string]any{"group": "M365 Team", "visibility": "HiddenMembership"},
			tenantlink.EINVALID, []string{"visibility", "Public, Private"}},
		{"nothing to update", UpdateUser, map[string]any{"user": tn.facts.MemberUser},
			tenantlink.EINVALID, []string{"at least one property"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), env, tc.op, tc.in)
			wantCode(t, err, tc.code, tc.frag...)
		})
	}
}
