package m365sim

// Group-based licensing: POST /groups/{id}/assignLicense
// (https://learn.microsoft.com/graph/api/group-assignlicense), the users'
// licenseAssignmentStates
// (https://learn.microsoft.com/graph/api/resources/licenseassignmentstate)
// and the groups' licenseProcessingState
// (https://learn.microsoft.com/graph/api/resources/licenseprocessingstate).
//
// Entra applies a group's licences to its direct user members only
// (nested groups are not followed: "Group-based licensing currently
// doesn't support groups that contain other groups", Entra docs,
// licensing-group-advanced). It processes in the background; the
// simulator processes at once, so a group's state is always
// ProcessingComplete. A member that cannot get a licence keeps the
// assignment in state Error with the reason (licensing-groups-resolve-problems):
// CountViolation when no units are left, MutuallyExclusiveViolation when a
// service plan conflicts with one the user already has (Exchange Online
// Plan 1 and Plan 2), ProhibitedInUsageLocationViolation for a usage
// location the product is not sold in.

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"
)

// licenceState is one inherited licence of a user: from which group, and
// whether it took.
type licenceState struct {
	SkuID, GroupID string
	DisabledPlans  []string
	State, Error   string // Active / Error; "" / CountViolation, …
	Updated        time.Time
	// Counted: this entry consumes a unit (sku.groupOnly). Saved in the
	// state file, which is why it is exported (persist.go).
	Counted bool `json:",omitempty"`
}

// prohibitedLocations are usage locations Microsoft sells no Microsoft 365
// product in (embargoed countries), used for ProhibitedInUsageLocationViolation.
var prohibitedLocations = map[string]bool{"CU": true, "IR": true, "KP": true, "SY": true}

// exclusivePlans pairs service plans that cannot be on one user together
// (Exchange Online Plan 1 and Plan 2: the example of the resolve-problems page).
var exclusivePlans = [][2]string{{"EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE"}}

func (u *user) holdsDirect(skuID string) bool {
	for _, l := range u.Licenses {
		if strings.EqualFold(l.SkuID, skuID) {
			return true
		}
	}
	return false
}

// holdsThroughGroup reports whether a group licence already consumes a unit
// of skuID for u.
func (u *user) holdsThroughGroup(skuID string) bool {
	for _, s := range u.GroupLicences {
		if strings.EqualFold(s.SkuID, skuID) && s.State == "Active" {
			return true
		}
	}
	return false
}

// allLicences is assignedLicenses: direct ones, then the inherited ones
// that took and are not also direct (Graph lists each SKU once).
func (u *user) allLicences() []assignedLicense {
	out := slices.Clone(u.Licenses)
	for _, s := range u.GroupLicences {
		if s.State != "Active" {
			continue
		}
		dup := false
		for _, l := range out {
			dup = dup || strings.EqualFold(l.SkuID, s.SkuID)
		}
		if !dup {
			out = append(out, assignedLicense{SkuID: s.SkuID, DisabledPlans: s.DisabledPlans})
		}
	}
	return out
}

// licenceStates renders licenseAssignmentStates: direct assignments
// (assignedByGroup null) then inherited ones. Graph sends "None" as the
// error of a successful assignment.
func (u *user) licenceStates() []obj {
	out := []obj{}
	for _, l := range u.Licenses {
		dp := l.DisabledPlans
		if dp == nil {
			dp = []string{}
		}
		out = append(out, obj{{"assignedByGroup", nil}, {"disabledPlans", dp}, {"error", "None"},
			{"lastUpdatedDateTime", graphTime(u.Created)}, {"skuId", l.SkuID}, {"state", "Active"}})
	}
	for _, s := range u.GroupLicences {
		dp := s.DisabledPlans
		if dp == nil {
			dp = []string{}
		}
		e := s.Error
		if e == "" {
			e = "None"
		}
		out = append(out, obj{{"assignedByGroup", s.GroupID}, {"disabledPlans", dp}, {"error", e},
			{"lastUpdatedDateTime", graphTime(s.Updated)}, {"skuId", s.SkuID}, {"state", s.State}})
	}
	return out
}

func (g *group) licensingProp(p string) any {
	if p == "licenseProcessingState" {
		if len(g.Licenses) == 0 {
			return nil
		}
		return obj{{"state", "ProcessingComplete"}}
	}
	out := make([]map[string]any, len(g.Licenses))
	for i, l := range g.Licenses {
		dp := l.DisabledPlans
		if dp == nil {
			dp = []string{}
		}
		out[i] = map[string]any{"disabledPlans": dp, "skuId": l.SkuID}
	}
	return out
}

func init() {
	groupProps["assignedlicenses"] = "assignedLicenses"
	groupProps["licenseprocessingstate"] = "licenseProcessingState"
	userProps["licenseassignmentstates"] = "licenseAssignmentStates"
}

// relicenseFor keeps inherited licences in step with a change just
// recorded: a membership change of a licensed group, or a user's direct
// licences or usage location changing.
func (t *tenant) relicenseFor(c change) {
	switch {
	case c.group && c.member != "":
		if g := t.groupByID[c.id]; g != nil && len(g.Licenses) > 0 {
			if u := t.userByID[c.member]; u != nil {
				t.relicense(u)
			}
		} else if u := t.userByID[c.member]; u != nil && len(u.GroupLicences) > 0 {
			t.relicense(u)
		}
	case !c.group && !c.removed:
		if u := t.userByID[c.id]; u != nil && (len(u.GroupLicences) > 0 || t.anyGroupLicensed()) {
			t.relicense(u)
		}
	}
}

func (t *tenant) anyGroupLicensed() bool {
	for _, g := range t.groups {
		if len(g.Licenses) > 0 {
			return true
		}
	}
	return false
}

func (t *tenant) now() time.Time {
	if t.clock != nil {
		return t.clock()
	}
	return time.Now()
}

// skuHasPlan reports whether the SKU carries a service plan by name.
func skuHasPlan(s *sku, name string) bool {
	for _, p := range s.Plans {
		if p.Name == name {
			return true
		}
	}
	return false
}

// exclusive reports whether s conflicts with a licence u holds otherwise.
func (t *tenant) exclusive(u *user, s *sku, held []string) bool {
	for _, id := range held {
		o := t.skuByID(id)
		if o == nil || strings.EqualFold(o.SkuID, s.SkuID) {
			continue
		}
		for _, pair := range exclusivePlans {
			if (skuHasPlan(s, pair[0]) && skuHasPlan(o, pair[1])) || (skuHasPlan(s, pair[1]) && skuHasPlan(o, pair[0])) {
				return true
			}
		}
	}
	return false
}

// relicense recomputes u's inherited licences from the licensed groups it
// is a direct member of, and the SKUs' group-only unit counts with them.
func (t *tenant) relicense(u *user) {
	old := map[string]licenceState{}
	for _, s := range u.GroupLicences {
		old[s.GroupID+"/"+strings.ToLower(s.SkuID)] = s
	}
	// Undo u's group-only units; they are counted again below.
	for _, st := range u.GroupLicences {
		if st.Counted {
			if s := t.skuByID(st.SkuID); s != nil {
				s.groupOnly--
			}
		}
	}
	held := make([]string, 0, len(u.Licenses))
	for _, l := range u.Licenses {
		held = append(held, l.SkuID)
	}
	loc := u.UsageLocation
	if loc == "" {
		loc = "US" // the tenant's country: what group licensing falls back to
	}
	now := t.now()
	var states []licenceState
	active := map[string]bool{}
	for _, g := range t.groups {
		if len(g.Licenses) == 0 || !g.hasMember(u.ID) {
			continue
		}
		for _, l := range g.Licenses {
			s := t.skuByID(l.SkuID)
			if s == nil {
				continue
			}
			key := strings.ToLower(s.SkuID)
			st := licenceState{SkuID: s.SkuID, GroupID: g.ID, DisabledPlans: slices.Clone(l.DisabledPlans), State: "Active"}
			switch {
			case u.holdsDirect(s.SkuID) || active[key]:
				// Already holds a unit: no extra one is consumed.
			case prohibitedLocations[strings.ToUpper(loc)]:
				st.State, st.Error = "Error", "ProhibitedInUsageLocationViolation"
			case t.exclusive(u, s, held):
				st.State, st.Error = "Error", "MutuallyExclusiveViolation"
			case s.consumed+s.groupOnly >= s.Enabled:
				st.State, st.Error = "Error", "CountViolation"
			default:
				s.groupOnly++
				st.Counted = true
				active[key] = true
				held = append(held, s.SkuID)
			}
			if st.State == "Active" && u.holdsDirect(s.SkuID) {
				active[key] = true
			}
			st.Updated = now
			if o, ok := old[g.ID+"/"+key]; ok && o.State == st.State && o.Error == st.Error {
				st.Updated = o.Updated
			}
			states = append(states, st)
		}
	}
	u.GroupLicences = states
}

// relicenseGroup reprocesses every direct user member of g.
func (t *tenant) relicenseGroup(g *group) {
	for _, id := range g.members {
		if u := t.userByID[id]; u != nil {
			t.relicense(u)
		}
	}
}

// groupAssignLicense is POST /groups/{id}/assignLicense.
func (rq *req) groupAssignLicense() error {
	var in struct {
		AddLicenses []struct {
			SkuID         string   `json:"skuId"`
			DisabledPlans []string `json:"disabledPlans"`
		} `json:"addLicenses"`
		RemoveLicenses *[]string `json:"removeLicenses"`
	}
	payload, err := io.ReadAll(rq.r.Body)
	if err != nil || json.Unmarshal(payload, &in) != nil {
		return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	if in.RemoveLicenses == nil {
		return badRequest("Invalid value specified for property 'removeLicenses' of resource 'Group'.")
	}
	if in.AddLicenses == nil {
		return badRequest("Invalid value specified for property 'addLicenses' of resource 'Group'.")
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	t := rq.t
	if !g.SecurityEnabled {
		// Licences go to security groups and to Microsoft 365 groups with
		// securityEnabled true only (group-assignlicense).
		return badRequest("License assignment is supported only for security-enabled groups; group %s is not security enabled.", g.ID)
	}
	for _, a := range in.AddLicenses {
		s := t.skuByID(a.SkuID)
		if s == nil {
			return badRequest("License %s does not correspond to a valid company License.", a.SkuID)
		}
		for _, p := range a.DisabledPlans {
			found := false
			for _, sp := range s.Plans {
				found = found || strings.EqualFold(sp.ID, p)
			}
			if !found {
				return badRequest("Service plan %s does not belong to license %s.", p, a.SkuID)
			}
		}
	}
	for _, id := range *in.RemoveLicenses {
		if t.skuByID(id) == nil {
			return badRequest("License %s does not correspond to a valid company License.", id)
		}
	}
	idx := func(id string) int {
		for i, l := range g.Licenses {
			if strings.EqualFold(l.SkuID, id) {
				return i
			}
		}
		return -1
	}
	for _, id := range *in.RemoveLicenses {
		if i := idx(id); i >= 0 {
			g.Licenses = append(g.Licenses[:i:i], g.Licenses[i+1:]...)
		}
	}
	for _, a := range in.AddLicenses {
		s := t.skuByID(a.SkuID)
		dp := append([]string{}, a.DisabledPlans...)
		if i := idx(s.SkuID); i >= 0 {
			g.Licenses[i].DisabledPlans = dp
			continue
		}
		g.Licenses = append(g.Licenses, assignedLicense{SkuID: s.SkuID, DisabledPlans: dp})
	}
	t.relicenseGroup(g)
	t.record(change{group: true, id: g.ID, props: []string{"assignedLicenses"}})
	body := obj{{"@odata.context", rq.context("groups/$entity")}}
	rq.json(200, append(body, render(g.get, append(slices.Clone(defaultGroupProps), "assignedLicenses", "licenseProcessingState"))...))
	return nil
}
