package ops

import (
	"context"
	"strings"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// LicenceReport reads the tenant's licence use with one subscribedSkus
// request and the pages of one user listing ($select of the licence
// properties, 999 users a page): no request per user, so a 100,000-user
// tenant costs about 102 round trips. Per SKU it counts what Microsoft
// counts (consumedUnits) and what could be given back: licences assigned
// directly to disabled accounts and nowhere else (each frees a unit),
// and direct assignments duplicating a group's (redundant).
func LicenceReport(ctx context.Context, env Env) (*connector.LicenceReport, error) {
	start := env.Graph.Stats().Requests
	skus, err := env.Graph.SubscribedSKUs(ctx)
	if err != nil {
		return nil, upstream("read the tenant's licence plans", err)
	}
	rep := &connector.LicenceReport{GeneratedAt: env.now().UTC(), SKUs: make([]connector.LicenceSKU, len(skus))}
	idx := make(map[string]int, len(skus))
	for i := range skus {
		s := &skus[i]
		idx[strings.ToLower(s.SkuID)] = i
		rep.SKUs[i] = connector.LicenceSKU{SkuID: s.SkuID, SkuPartNumber: s.SkuPartNumber,
			ProductName: productName(s.SkuID, s.SkuPartNumber), Enabled: s.PrepaidUnits.Enabled,
			Assigned: s.ConsumedUnits, Available: available(s),
			DisabledUsers: []connector.LicenceUser{}, DuplicateUsers: []connector.LicenceUser{},
			DisabledThroughGroups: []connector.LicenceUser{}, GroupErrors: []connector.LicenceUser{}}
	}
	q := graph.Query{Select: graph.UserLicenceFields, Top: pageSize}
	err = env.Graph.ListUsers(ctx, q, func(page []graph.User) error {
		rep.Users += len(page)
		for k := range page {
			classify(rep, idx, &page[k])
		}
		return nil
	})
	if err != nil {
		return nil, upstream("list users with their licences", err)
	}
	for i := range rep.SKUs {
		s := &rep.SKUs[i]
		s.ReclaimableDisabled, s.ReclaimableDuplicate = len(s.DisabledUsers), len(s.DuplicateUsers)
	}
	rep.Requests = env.Graph.Stats().Requests - start
	return rep, nil
}

// skuHold is how one user holds one SKU.
type skuHold struct {
	direct      bool
	groups      []string // groups whose assignment is active
	errorGroups []string // groups whose assignment failed
	errs        []string
}

func classify(rep *connector.LicenceReport, idx map[string]int, u *graph.User) {
	holds := map[string]*skuHold{}
	var order []string
	for _, h := range holdings(u) {
		x := holds[h.SkuID]
		if x == nil {
			x = &skuHold{}
			holds[h.SkuID] = x
			order = append(order, h.SkuID)
		}
		active := h.Error == "" && h.State != "Error" && h.State != "Disabled"
		switch {
		case h.GroupID == "":
			x.direct = true
		case active:
			x.groups = append(x.groups, h.GroupID)
		default:
			x.errorGroups = append(x.errorGroups, h.GroupID)
			x.errs = append(x.errs, h.Error)
		}
	}
	enabled := u.AccountEnabled != nil && *u.AccountEnabled
	for _, id := range order {
		i, ok := idx[id]
		if !ok {
			continue // a SKU the tenant no longer subscribes to
		}
		x, s := holds[id], &rep.SKUs[i]
		lu := connector.LicenceUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName, AccountEnabled: enabled}
		switch {
		case x.direct && len(x.groups) > 0:
			lu.GroupIDs = x.groups
			s.DuplicateUsers = append(s.DuplicateUsers, lu)
		case x.direct && !enabled:
			s.DisabledUsers = append(s.DisabledUsers, lu)
		case !x.direct && len(x.groups) > 0 && !enabled:
			lu.GroupIDs = x.groups
			s.DisabledThroughGroups = append(s.DisabledThroughGroups, lu)
		}
		if len(x.errorGroups) > 0 {
			e := lu
			e.GroupIDs, e.Error = x.errorGroups, strings.Join(x.errs, ", ")
			s.GroupErrors = append(s.GroupErrors, e)
		}
	}
}

// ReclaimCall is the operation that gives a SKU's units back: Remove
// Licence from User over the users.
func ReclaimCall(skuID string, userIDs []string) (string, map[string]any) {
	return RemoveLicenceFromUser, map[string]any{"user": append([]string{}, userIDs...), "licence": skuID}
}
