package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

func runLicencePlanList(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	skus, err := env.Graph.SubscribedSKUs(ctx)
	if err != nil {
		return upstream("read the tenant's licence plans", err)
	}
	items := make([]connector.Item, len(skus))
	for i := range skus {
		s := &skus[i]
		plans := make([]string, len(s.ServicePlans))
		for k, p := range s.ServicePlans {
			plans[k] = p.ServicePlanName
		}
		items[i] = connector.Item{
			"skuId": s.SkuID, "skuPartNumber": s.SkuPartNumber, "productName": productName(s.SkuID, s.SkuPartNumber),
			"enabledUnits": s.PrepaidUnits.Enabled, "consumedUnits": s.ConsumedUnits, "availableUnits": available(s),
			"capabilityStatus": s.CapabilityStatus, "servicePlans": strings.Join(plans, ", "),
		}
	}
	return emit(items)
}

// available is what can still be assigned; a tenant over its count (a
// subscription in warning) has none, not a negative number.
func available(s *graph.SubscribedSKU) int { return max(0, s.PrepaidUnits.Enabled-s.ConsumedUnits) }

func skuLabel(s *graph.SubscribedSKU) string {
	return productName(s.SkuID, s.SkuPartNumber) + " (" + s.SkuPartNumber + ")"
}

var usageLocationRE = regexp.MustCompile(`^[A-Za-z]{2}$`)

func hasLicence(u *graph.User, skuID string) bool {
	for _, l := range u.AssignedLicenses {
		if strings.EqualFold(l.SkuID, skuID) {
			return true
		}
	}
	return false
}

// disabledPlanIDs maps the disabledPlans input (names or ids) to the SKU's
// servicePlanIds.
func disabledPlanIDs(sku *graph.SubscribedSKU, refs []string) ([]string, error) {
	var ids []string
	for _, ref := range refs {
		found := ""
		for _, p := range sku.ServicePlans {
			if strings.EqualFold(p.ServicePlanID, ref) || strings.EqualFold(p.ServicePlanName, ref) {
				found = p.ServicePlanID
			}
		}
		if found == "" {
			names := make([]string, len(sku.ServicePlans))
			for i, p := range sku.ServicePlans {
				names[i] = p.ServicePlanName
			}
			return nil, tenantlink.Errorf(tenantlink.EINVALID, "Service plan %q is not part of %s; its plans are: %s.",
				ref, skuLabel(sku), strings.Join(names, ", "))
		}
		ids = append(ids, found)
	}
	return ids, nil
}

func licenceItem(ref string, sku *graph.SubscribedSKU) connector.Item {
	return connector.Item{"user": ref, "userId": "", "skuId": sku.SkuID, "skuPartNumber": sku.SkuPartNumber, "result": "", "error": ""}
}

func noUsageLocation(who string) *tenantlink.Error {
	return tenantlink.Errorf(tenantlink.EINVALID,
		"User %s has no usage location; Microsoft requires one before a licence can be assigned. Give the usageLocation input (e.g. IE) or set it in Microsoft 365.", who)
}

// noUnits refuses an assignment for want of units; inUse counts the units
// as they are after this request's own assignments.
func noUnits(sku *graph.SubscribedSKU, inUse int, who string) *tenantlink.Error {
	return tenantlink.Errorf(tenantlink.ECONFLICT,
		"No %s licences are left (%d of %d in use), so none could be assigned to %s. Free one up or buy more in Microsoft 365.",
		skuLabel(sku), inUse, sku.PrepaidUnits.Enabled, who)
}

// licenceWrites sends one request per user through $batch and returns
// each user's error (nil for success), keyed by user id.
func licenceWrites(ctx context.Context, env Env, what string, users []*graph.User, req func(u *graph.User) graph.BatchRequest) (map[string]error, error) {
	out := map[string]error{}
	if len(users) == 0 {
		return out, nil
	}
	reqs := make([]graph.BatchRequest, len(users))
	for i, u := range users {
		reqs[i] = req(u)
		reqs[i].ID = strconv.Itoa(i + 1)
	}
	resps, err := env.Graph.Batch(ctx, reqs)
	if err != nil {
		return nil, upstream(what, err)
	}
	for i, u := range users {
		err := resps[i].Err()
		if err != nil && wholeOperation(err) {
			return nil, upstream(what, err)
		}
		out[u.ID] = err
	}
	return out, nil
}

func assignBody(add []graph.AssignedLicense, remove []string) json.RawMessage {
	if add == nil {
		add = []graph.AssignedLicense{}
	}
	if remove == nil {
		remove = []string{}
	}
	b, _ := json.Marshal(map[string]any{"addLicenses": add, "removeLicenses": remove})
	return b
}

func runAssignLicence(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	usage := in.get("usageLocation")
	if usage != "" && !usageLocationRE.MatchString(usage) {
		return tenantlink.Errorf(tenantlink.EINVALID, "Input \"usageLocation\" must be a two-letter country code such as IE or US; got %q.", usage)
	}
	usage = strings.ToUpper(usage)
	sku, err := resolveLicence(ctx, env, in.get("licence"))
	if err != nil {
		return err
	}
	disabled, err := disabledPlanIDs(sku, in.lists["disabledPlans"])
	if err != nil {
		return err
	}
	rs, err := resolveUsers(ctx, env, in.lists["user"], []string{"usageLocation", "assignedLicenses"}, false)
	if err != nil {
		return err
	}

	items := make([]connector.Item, len(rs))
	fails := make([]*tenantlink.Error, len(rs))
	var patch, assign []*graph.User
	// noRoom are the users refused for want of units; their message
	// counts the units once this request's assignments are made.
	var noRoom []int
	left := available(sku)
	for i, r := range rs {
		items[i] = licenceItem(r.Ref, sku)
		if r.Err != nil {
			fails[i] = r.Err
			continue
		}
		u := r.User
		items[i]["userId"] = u.ID
		switch {
		case hasLicence(u, sku.SkuID):
			items[i]["result"] = ResultAlreadyAssigned
		case u.UsageLocation == "" && usage == "":
			fails[i] = noUsageLocation(u.UserPrincipalName)
		case left <= 0:
			// Checked here so a run over many users does not send
			// requests Microsoft is bound to refuse.
			noRoom = append(noRoom, i)
		default:
			left--
			if u.UsageLocation == "" {
				patch = append(patch, u)
			}
			assign = append(assign, u)
		}
	}

	patched, err := licenceWrites(ctx, env, "set users' usage location", patch, func(u *graph.User) graph.BatchRequest {
		b, _ := json.Marshal(map[string]string{"usageLocation": usage})
		return graph.BatchRequest{Method: http.MethodPatch, URL: "/users/" + u.ID, Body: b}
	})
	if err != nil {
		return err
	}
	ready := assign[:0:0]
	for _, u := range assign {
		if err := patched[u.ID]; err != nil {
			patched[u.ID] = asAppError(upstream("set the usage location of "+u.UserPrincipalName, err))
			continue
		}
		ready = append(ready, u)
	}
	body := assignBody([]graph.AssignedLicense{{SkuID: sku.SkuID, DisabledPlans: nonNil(disabled)}}, nil)
	assigned, err := licenceWrites(ctx, env, "assign "+skuLabel(sku), ready, func(u *graph.User) graph.BatchRequest {
		return graph.BatchRequest{Method: http.MethodPost, URL: "/users/" + u.ID + "/assignLicense", Body: body}
	})
	if err != nil {
		return err
	}

	inUse := sku.ConsumedUnits + len(ready) - countErrs(assigned)
	for _, i := range noRoom {
		fails[i] = noUnits(sku, inUse, rs[i].User.UserPrincipalName)
	}
	var failures []itemFailure
	for i, r := range rs {
		if fails[i] == nil && r.User != nil && items[i]["result"] == "" {
			id := r.User.ID
			switch perr, aerr := patched[id], assigned[id]; {
			case perr != nil:
				fails[i] = asAppError(perr)
			case aerr == nil:
				items[i]["result"] = ResultAssigned
			default:
				fails[i] = assignFailure(sku, inUse, r.User, aerr)
			}
		}
		if fails[i] != nil {
			items[i]["result"], items[i]["error"] = ResultError, fails[i].Message
			failures = append(failures, itemFailure{ref: r.Ref, err: fails[i]})
		}
	}
	env.log().InfoContext(ctx, "office 365 licence assigned", "sku", sku.SkuPartNumber, "users", len(rs),
		"assigned", len(ready)-countErrs(assigned), "usageLocationSet", len(patch)-countErrs(patched), "failed", len(failures))
	if err := emit(items); err != nil {
		return err
	}
	return summarise("Assign Licence to User", len(rs), failures)
}

// assignFailure explains Microsoft's refusal of one assignment; the two
// common ones (no units left, no usage location) can still happen when
// someone else changed the tenant since the checks above.
func assignFailure(sku *graph.SubscribedSKU, inUse int, u *graph.User, err error) *tenantlink.Error {
	var ge *graph.Error
	if errors.As(err, &ge) {
		switch {
		case strings.Contains(ge.Message, "does not have any available licenses"):
			// Someone else took the units: at least all of them are in use.
			e := noUnits(sku, max(inUse, sku.PrepaidUnits.Enabled), u.UserPrincipalName)
			e.Err = err
			return e
		case strings.Contains(ge.Message, "usage location"):
			e := noUsageLocation(u.UserPrincipalName)
			e.Err = err
			return e
		}
	}
	return asAppError(upstream(fmt.Sprintf("assign %s to %s", skuLabel(sku), u.UserPrincipalName), err))
}

func countErrs(m map[string]error) int {
	n := 0
	for _, e := range m {
		if e != nil {
			n++
		}
	}
	return n
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func runRemoveLicence(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	sku, err := resolveLicence(ctx, env, in.get("licence"))
	if err != nil {
		return err
	}
	rs, err := resolveUsers(ctx, env, in.lists["user"], []string{"assignedLicenses"}, false)
	if err != nil {
		return err
	}
	items := make([]connector.Item, len(rs))
	var holders []*graph.User
	for i, r := range rs {
		items[i] = licenceItem(r.Ref, sku)
		if r.User == nil {
			continue
		}
		items[i]["userId"] = r.User.ID
		if hasLicence(r.User, sku.SkuID) {
			holders = append(holders, r.User)
		} else {
			// Only direct assignments can be removed; a licence inherited
			// from a group is that group's to remove.
			items[i]["result"] = ResultNotAssigned
		}
	}
	body := assignBody(nil, []string{sku.SkuID})
	removed, err := licenceWrites(ctx, env, "remove "+skuLabel(sku), holders, func(u *graph.User) graph.BatchRequest {
		return graph.BatchRequest{Method: http.MethodPost, URL: "/users/" + u.ID + "/assignLicense", Body: body}
	})
	if err != nil {
		return err
	}
	var failures []itemFailure
	for i, r := range rs {
		var fail *tenantlink.Error
		switch {
		case r.Err != nil:
			fail = r.Err
		case items[i]["result"] == "":
			if err := removed[r.User.ID]; err != nil {
				fail = asAppError(upstream(fmt.Sprintf("remove %s from %s", skuLabel(sku), r.User.UserPrincipalName), err))
			} else {
				items[i]["result"] = ResultRemoved
			}
		}
		if fail != nil {
			items[i]["result"], items[i]["error"] = ResultError, fail.Message
			failures = append(failures, itemFailure{ref: r.Ref, err: fail})
		}
	}
	env.log().InfoContext(ctx, "office 365 licence removed", "sku", sku.SkuPartNumber, "users", len(rs),
		"removed", len(holders)-countErrs(removed), "failed", len(failures))
	if err := emit(items); err != nil {
		return err
	}
	return summarise("Remove Licence from User", len(rs), failures)
}
