package m365sim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"

	"github.com/google/uuid"
)

func (rq *req) skuObj(s *sku, sel []string) obj {
	plans := make([]obj, len(s.Plans))
	for i, p := range s.Plans {
		plans[i] = obj{{"servicePlanId", p.ID}, {"servicePlanName", p.Name}, {"provisioningStatus", "Success"}, {"appliesTo", p.AppliesTo}}
	}
	all := obj{
		{"accountName", rq.t.DisplayName}, {"accountId", rq.t.ID}, {"appliesTo", s.AppliesTo},
		{"capabilityStatus", "Enabled"}, {"consumedUnits", s.consumed + s.groupOnly},
		{"id", rq.t.ID + "_" + s.SkuID},
		{"prepaidUnits", obj{{"enabled", s.Enabled}, {"lockedOut", 0}, {"suspended", 0}, {"warning", 0}}},
		{"servicePlans", plans}, {"skuId", s.SkuID}, {"skuPartNumber", s.SkuPartNumber},
		{"subscriptionIds", []string{s.SubscriptionID}},
	}
	if len(sel) == 0 {
		return all
	}
	return render(all.get, sel)
}

var skuProps = canon("accountName", "accountId", "appliesTo", "capabilityStatus", "consumedUnits", "id", "prepaidUnits", "servicePlans", "skuId", "skuPartNumber", "subscriptionIds")

func (rq *req) listSkus() error {
	if rq.q.Get("$filter") != "" {
		return gerr(400, "Request_UnsupportedQuery", "Unsupported Query.")
	}
	sel, err := selectFor(rq.q.Get("$select"), skuProps, "subscribedSku")
	if err != nil {
		return err
	}
	rq.s.mu.RLock()
	value := make([]obj, len(rq.t.skus))
	for i, s := range rq.t.skus {
		value[i] = rq.skuObj(s, sel)
	}
	rq.s.mu.RUnlock()
	rq.collection(selectContext("subscribedSkus", sel), nil, 0, nil, value)
	return nil
}

func (rq *req) getSku() error {
	sel, err := selectFor(rq.q.Get("$select"), skuProps, "subscribedSku")
	if err != nil {
		return err
	}
	id := rq.r.PathValue("id")
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	tid, skuID, ok := strings.Cut(id, "_")
	var s *sku
	if ok && strings.EqualFold(tid, rq.t.ID) {
		s = rq.t.skuByID(skuID)
	}
	if s == nil {
		return notFound(id)
	}
	body := obj{{"@odata.context", rq.context(selectContext("subscribedSkus", sel) + "/$entity")}}
	rq.json(200, append(body, rq.skuObj(s, sel)...))
	return nil
}

func (rq *req) assignLicense() error {
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
	// Kiota serializes each assignedLicense with its @odata.type.
	var typed struct {
		AddLicenses []map[string]json.RawMessage `json:"addLicenses"`
	}
	if json.Unmarshal(payload, &typed) == nil {
		for _, a := range typed.AddLicenses {
			if err := checkODataType(a, "assignedLicense"); err != nil {
				return err
			}
		}
	}
	if in.RemoveLicenses == nil {
		return badRequest("Invalid value specified for property 'removeLicenses' of resource 'User'.")
	}
	if in.AddLicenses == nil {
		return badRequest("Invalid value specified for property 'addLicenses' of resource 'User'.")
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	t := rq.t
	// Validate everything first: Graph applies an assignLicense call whole.
	for _, a := range in.AddLicenses {
		s := t.skuByID(a.SkuID)
		if s == nil {
			return badRequest("License %s does not correspond to a valid company License.", a.SkuID)
		}
		for _, p := range a.DisabledPlans {
			found := false
			for _, sp := range s.Plans {
				if strings.EqualFold(sp.ID, p) {
					found = true
				}
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
		if !u.holdsDirect(id) && u.holdsThroughGroup(id) { // grouplicensing.go
			return badRequest("User license is inherited from a group membership and it cannot be removed directly from the user.")
		}
	}
	if len(in.AddLicenses) > 0 && u.UsageLocation == "" {
		return badRequest("License assignment cannot be done for user with invalid usage location.")
	}
	has := func(id string) int {
		for i, l := range u.Licenses {
			if strings.EqualFold(l.SkuID, id) {
				return i
			}
		}
		return -1
	}
	for _, a := range in.AddLicenses {
		s := t.skuByID(a.SkuID)
		if has(s.SkuID) < 0 && !u.holdsThroughGroup(s.SkuID) && s.consumed+s.groupOnly >= s.Enabled {
			e := badRequest("Subscription with SKU %s does not have any available licenses.", s.SkuID)
			e.details = []map[string]string{{"target": s.SkuID, "code": "CountViolation"}}
			return e
		}
	}
	for _, id := range *in.RemoveLicenses {
		if i := has(id); i >= 0 {
			u.Licenses = append(u.Licenses[:i:i], u.Licenses[i+1:]...)
			t.skuByID(id).consumed--
		}
	}
	for _, a := range in.AddLicenses {
		s := t.skuByID(a.SkuID)
		dp := append([]string{}, a.DisabledPlans...)
		if i := has(s.SkuID); i >= 0 {
			u.Licenses[i].DisabledPlans = dp
			continue
		}
		u.Licenses = append(u.Licenses, assignedLicense{SkuID: s.SkuID, DisabledPlans: dp})
		s.consumed++
	}
	t.record(change{id: u.ID, props: []string{"assignedLicenses"}})
	body := obj{{"@odata.context", rq.context("users/$entity")}}
	rq.json(200, append(body, render(u.get, fullUserProps)...))
	return nil
}

func (rq *req) licenseDetails() error {
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	var value []obj
	for _, l := range u.Licenses {
		s := rq.t.skuByID(l.SkuID)
		if s == nil {
			continue
		}
		plans := make([]obj, len(s.Plans))
		for i, p := range s.Plans {
			status := "Success"
			for _, d := range l.DisabledPlans {
				if strings.EqualFold(d, p.ID) {
					status = "Disabled"
				}
			}
			plans[i] = obj{{"servicePlanId", p.ID}, {"servicePlanName", p.Name}, {"provisioningStatus", status}, {"appliesTo", p.AppliesTo}}
		}
		value = append(value, obj{{"id", licenseDetailID(s.SkuID, u.ID)}, {"skuId", s.SkuID}, {"skuPartNumber", s.SkuPartNumber}, {"servicePlans", plans}})
	}
	rq.collection("users('"+u.ID+"')/licenseDetails", nil, 0, nil, value)
	return nil
}

// licenseDetailID mimics Graph's opaque licenseDetails id (base64 of the
// SKU and the user's ids).
func licenseDetailID(skuID, userID string) string {
	a, _ := uuid.Parse(skuID)
	b, _ := uuid.Parse(userID)
	return base64.RawURLEncoding.EncodeToString(append(b[:8], a[:]...))
}

func (rq *req) organization() error {
	rq.s.mu.RLock()
	t := rq.t
	org := obj{
		{"id", t.ID}, {"deletedDateTime", nil}, {"businessPhones", []string{}}, {"city", nil}, {"country", nil},
		{"countryLetterCode", "US"}, {"createdDateTime", graphTime(t.created.AddDate(-1, 0, 0))},
		{"displayName", t.DisplayName}, {"tenantType", "AAD"},
		{"verifiedDomains", []obj{{{"capabilities", "Email, OfficeCommunicationsOnline"}, {"isDefault", true}, {"isInitial", true}, {"name", t.Domain}, {"type", "Managed"}}}},
	}
	rq.s.mu.RUnlock()
	rq.collection("organization", nil, 0, nil, []obj{org})
	return nil
}
