package m365sim

import "strings"

// SKUFacts is what the simulator holds for one SKU, read straight from
// its state (not through Graph): tests compare tenantlink's licence
// report with it.
type SKUFacts struct {
	SkuID, SkuPartNumber string
	Enabled, Consumed    int
	// DisabledDirectOnly are disabled users with a direct assignment and
	// no active group assignment of the SKU.
	DisabledDirectOnly []string
	// DirectAndGroup are users with a direct and an active group
	// assignment of the SKU.
	DirectAndGroup []string
}

// LicenceFacts reports every SKU of a tenant (id or domain; "" for the
// first), users in tenant order.
func (s *Server) LicenceFacts(tenant string) []SKUFacts {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tenants[0]
	if tenant != "" {
		t = s.tenantByID(tenant)
	}
	if t == nil {
		return nil
	}
	out := make([]SKUFacts, len(t.skus))
	for i, k := range t.skus {
		f := SKUFacts{SkuID: k.SkuID, SkuPartNumber: k.SkuPartNumber, Enabled: k.Enabled, Consumed: k.consumed + k.groupOnly}
		for _, u := range t.users {
			direct, group := u.holdsDirect(k.SkuID), false
			for _, g := range u.GroupLicences {
				group = group || (strings.EqualFold(g.SkuID, k.SkuID) && g.State == "Active")
			}
			switch {
			case direct && group:
				f.DirectAndGroup = append(f.DirectAndGroup, u.ID)
			case direct && !u.AccountEnabled:
				f.DisabledDirectOnly = append(f.DisabledDirectOnly, u.ID)
			}
		}
		out[i] = f
	}
	return out
}
