package ops

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
	"github.com/tenantlink/tenantlink/m365sim"
)

func ids(users []connector.LicenceUser) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func nonEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// seedGroupLicensing makes a security group licensed with sku whose
// members are holders of sku (enabled and disabled: duplicates), users
// without it, and a disabled user without it (licensed through the group
// only). It returns the group's id.
func seedGroupLicensing(t *testing.T, tn *tenant, sku graph.SubscribedSKU) string {
	t.Helper()
	var holders, others []string
	var disabledOther string
	for _, u := range tn.users(t) {
		switch {
		case hasLicence(&u, sku.SkuID) && len(holders) < 8:
			holders = append(holders, u.ID)
		case !hasLicence(&u, sku.SkuID) && u.UsageLocation != "" && u.AccountEnabled != nil && *u.AccountEnabled && len(others) < 4:
			others = append(others, u.ID)
		case !hasLicence(&u, sku.SkuID) && u.UsageLocation != "" && u.AccountEnabled != nil && !*u.AccountEnabled && disabledOther == "":
			disabledOther = u.ID
		}
	}
	if len(holders) < 8 || len(others) < 4 || disabledOther == "" {
		t.Fatalf("seeded tenant lacks users for the scenario: %d holders, %d others, disabled %q", len(holders), len(others), disabledOther)
	}
	// Two of the holders are disabled: they hold it twice, so they are
	// duplicates, not reclaimable by removing the direct assignment.
	for _, id := range holders[:2] {
		tn.ctl(t, http.MethodPatch, "/_sim/users/"+id, map[string]any{"accountEnabled": false}, nil)
	}
	members := append(append(append([]string{}, holders...), others...), disabledOther)
	g := tn.addGroup(t, map[string]any{"displayName": "Licensed staff", "members": members})
	run(t, tn.env(true), AssignLicenceToGroup, map[string]any{"group": g, "licence": sku.SkuID})
	return g
}

// TestLicenceReport: on a seeded tenant with disabled licensed users and
// group-licensed users, the report's figures are what the simulator holds,
// it takes the user-listing pages plus one subscribedSkus, and reclaiming
// frees exactly the reclaimable units.
func TestLicenceReport(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 1200, groups: 2})
	env := tn.env(true)
	sku := skuWithRoom(t, tn)
	seedGroupLicensing(t, tn, sku)

	before := tn.g.Stats().Requests
	rep, err := LicenceReport(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tn.g.Stats().Requests-before, int64(3); got != want || rep.Requests != want {
		t.Errorf("report took %d requests (reported %d), want %d: two user pages of 999 and one subscribedSkus", got, rep.Requests, want)
	}
	if rep.Users != 1200 {
		t.Errorf("report read %d users, want 1200", rep.Users)
	}
	facts := tn.sim.LicenceFacts("")
	compare := func(t *testing.T, rep *connector.LicenceReport, facts []m365sim.SKUFacts) {
		t.Helper()
		if len(rep.SKUs) != len(facts) {
			t.Fatalf("%d SKUs in the report, %d in the simulator", len(rep.SKUs), len(facts))
		}
		for i, f := range facts {
			s := rep.SKUs[i]
			got := []any{s.SkuID, s.Enabled, s.Assigned, s.Available, ids(s.DisabledUsers), ids(s.DuplicateUsers), s.ReclaimableDisabled, s.ReclaimableDuplicate}
			want := []any{f.SkuID, f.Enabled, f.Consumed, max(0, f.Enabled-f.Consumed), nonEmpty(f.DisabledDirectOnly), nonEmpty(f.DirectAndGroup),
				len(f.DisabledDirectOnly), len(f.DirectAndGroup)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SKU %s: report differs from the simulator (-sim +report):\n%s", f.SkuPartNumber, diff)
			}
		}
	}
	compare(t, rep, facts)

	var total, dup int
	for _, s := range rep.SKUs {
		total += s.ReclaimableDisabled
		dup += s.ReclaimableDuplicate
		if s.SkuID == sku.SkuID && (s.ReclaimableDuplicate != 8 || len(s.DisabledThroughGroups) != 1) {
			t.Errorf("%s: %d duplicates and %d disabled through groups, want 8 and 1", s.SkuPartNumber, s.ReclaimableDuplicate, len(s.DisabledThroughGroups))
		}
	}
	if total == 0 {
		t.Fatalf("the seeded tenant has no disabled licensed users: the scenario tests nothing")
	}

	// Reclaim each SKU as the service does and compare the units freed.
	for _, s := range rep.SKUs {
		if len(s.DisabledUsers) == 0 {
			continue
		}
		op, in := ReclaimCall(s.SkuID, ids(s.DisabledUsers))
		items := run(t, env, op, in)
		for _, it := range items {
			if it["result"] != ResultRemoved {
				t.Errorf("reclaim %s: %v, want removed", s.SkuPartNumber, it)
			}
		}
	}
	after := tn.sim.LicenceFacts("")
	for i, s := range rep.SKUs {
		if freed := facts[i].Consumed - after[i].Consumed; freed != s.ReclaimableDisabled {
			t.Errorf("%s: reclaiming freed %d units, want %d", s.SkuPartNumber, freed, s.ReclaimableDisabled)
		}
		if len(after[i].DisabledDirectOnly) != 0 {
			t.Errorf("%s: still %d disabled users with direct licences", s.SkuPartNumber, len(after[i].DisabledDirectOnly))
		}
		if !slices.Equal(after[i].DirectAndGroup, facts[i].DirectAndGroup) {
			t.Errorf("%s: reclaiming touched the duplicates", s.SkuPartNumber)
		}
	}
	again, err := LicenceReport(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, again, after)
}
