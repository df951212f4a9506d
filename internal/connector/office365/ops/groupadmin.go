package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// memberSelect is what a member listing reads: users' and groups'
// properties in one $select (Graph applies each to the types that have it).
var memberSelect = []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled"}

func memberRecord(o graph.DirectoryObject) connector.Item {
	typ := strings.TrimPrefix(o.ODataType, "#microsoft.graph.")
	if typ == "" {
		typ = "user"
	}
	return connector.Item{"id": o.ID, "type": typ, "displayName": o.DisplayName, "userPrincipalName": o.UserPrincipalName,
		"mail": o.Mail, "accountEnabled": o.AccountEnabled != nil && *o.AccountEnabled}
}

func runListGroupMembers(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	g, err := resolveGroup(ctx, env, in.get("group"))
	if err != nil {
		return err
	}
	q := graph.Query{Select: memberSelect, Max: in.ints["maxRows"], Top: pageSize}
	fn := pages(emit, func(o *graph.DirectoryObject) connector.Item { return memberRecord(*o) })
	if in.flag("transitive", false) {
		err = env.Graph.TransitiveMembers(ctx, g.ID, q, fn)
	} else {
		err = env.Graph.ListGroupMembers(ctx, g.ID, q, fn)
	}
	return finish(fmt.Sprintf("list the members of %q", g.DisplayName), err)
}

func runListUserGroups(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), nil)
	if err != nil {
		return err
	}
	q := graph.Query{Select: groupSelect, Max: in.ints["maxRows"]}
	return finish("list the groups of "+u.UserPrincipalName, env.Graph.UserGroups(ctx, u.ID, in.flag("transitive", false), q, pages(emit, groupRecord)))
}

// runCheckMembership asks checkMemberGroups once per user, 20 users a
// $batch envelope: membership directly or through nested groups.
func runCheckMembership(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	g, err := resolveGroup(ctx, env, in.get("group"))
	if err != nil {
		return err
	}
	rs, err := resolveUsers(ctx, env, in.lists["user"], nil, false)
	if err != nil {
		return err
	}
	var reqs []graph.BatchRequest
	reqOf := map[int]int{}
	for i, r := range rs {
		if r.User != nil {
			reqOf[i] = len(reqs)
			reqs = append(reqs, graph.CheckMemberGroupsRequest(graph.BatchID(len(reqs)), r.User.ID, []string{g.ID}))
		}
	}
	var resps []graph.BatchResponse
	if len(reqs) > 0 {
		if resps, err = env.Graph.Batch(ctx, reqs); err != nil {
			return upstream("check memberships", err)
		}
	}
	items := make([]connector.Item, len(rs))
	var fails []itemFailure
	for i, r := range rs {
		it := connector.Item{"user": r.Ref, "userId": "", "groupId": g.ID, "member": false, "result": "", "error": ""}
		items[i] = it
		fail := r.Err
		if r.User != nil {
			it["userId"] = r.User.ID
			resp := resps[reqOf[i]]
			if err := resp.Err(); err != nil {
				if wholeOperation(err) {
					return upstream("check memberships", err)
				}
				fail = asAppError(upstream("check whether "+r.Ref+" is a member", err))
			} else {
				var out struct {
					Value []string `json:"value"`
				}
				if err := json.Unmarshal(resp.Body, &out); err != nil {
					return fmt.Errorf("ops: decoding checkMemberGroups: %w", err)
				}
				member := slices.ContainsFunc(out.Value, func(id string) bool { return strings.EqualFold(id, g.ID) })
				it["member"] = member
				it["result"] = ResultNotMember
				if member {
					it["result"] = ResultMember
				}
			}
		}
		if fail != nil {
			it["result"], it["error"] = ResultError, fail.Message
			fails = append(fails, itemFailure{ref: r.Ref, err: fail})
		}
	}
	if err := emit(items); err != nil {
		return err
	}
	return summarise("Check Membership", len(rs), fails)
}

func runUpdateGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	fields := map[string]string{}
	for _, p := range []string{"displayName", "description", "visibility", "mailNickname"} {
		if v, ok := in.str[p]; ok {
			fields[p] = v
		}
	}
	if len(fields) == 0 {
		return tenantlink.Errorf(tenantlink.EINVALID, "Update Group needs at least one of displayName, description, visibility, mailNickname.")
	}
	if v, ok := fields["mailNickname"]; ok && !validNickname(v) {
		return tenantlink.Errorf(tenantlink.EINVALID,
			"Input \"mailNickname\" %q is not valid: Microsoft allows 1–64 ASCII characters without spaces or any of %s.", v, nicknameForbidden)
	}
	if v, ok := fields["displayName"]; ok && len([]rune(v)) > maxDisplayName {
		return tenantlink.Errorf(tenantlink.EINVALID, "Input \"displayName\" is longer than Microsoft's limit of %d characters.", maxDisplayName)
	}
	g, err := resolveGroup(ctx, env, in.get("group"))
	if err != nil {
		return err
	}
	cur := map[string]string{"displayName": g.DisplayName, "description": g.Description, "visibility": g.Visibility, "mailNickname": g.MailNickname}
	if _, ok := fields["visibility"]; ok && g.Visibility == "HiddenMembership" {
		return tenantlink.Errorf(tenantlink.EINVALID, "Group %q has hidden membership, which Microsoft does not let change after creation.", g.DisplayName)
	}
	patch := map[string]any{}
	var changed []string
	for k, v := range fields {
		if cur[k] != v {
			patch[k] = v
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	it := connector.Item{"groupId": g.ID, "result": ResultUnchanged, "changed": strings.Join(changed, ", "), "error": ""}
	if len(patch) > 0 {
		if err := env.Graph.UpdateGroup(ctx, g.ID, patch); err != nil {
			if nicknameTaken(err) {
				return &tenantlink.Error{Code: tenantlink.ECONFLICT, Err: err, Message: fmt.Sprintf(
					"Another Microsoft 365 group already uses the mail nickname %q; give another mailNickname.", fields["mailNickname"])}
			}
			return upstream(fmt.Sprintf("update the group %q", g.DisplayName), err)
		}
		it["result"] = ResultUpdated
		env.log().InfoContext(ctx, "office 365 group updated", "group", g.ID, "changed", it["changed"])
	}
	return emit([]connector.Item{it})
}

// deletedGroups lists soft-deleted Microsoft 365 groups.
func deletedGroups(ctx context.Context, env Env) ([]graph.DeletedObject, error) {
	var all []graph.DeletedObject
	err := env.Graph.DeletedItems(ctx, "microsoft.graph.group", graph.Query{Select: []string{"id", "displayName", "mailNickname", "groupTypes", "deletedDateTime"}},
		func(p []graph.DeletedObject) error {
			all = append(all, p...)
			return nil
		})
	if err != nil {
		return nil, upstream("list deleted groups", err)
	}
	return all, nil
}

func matchDeletedGroups(all []graph.DeletedObject, ref string) []graph.DeletedObject {
	var out []graph.DeletedObject
	for _, d := range all {
		if strings.EqualFold(d.ID, ref) || d.DisplayName == ref {
			out = append(out, d)
		}
	}
	return out
}

func runDeleteGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	ref := in.get("group")
	g, err := resolveGroup(ctx, env, ref)
	var te *tenantlink.Error
	if errors.As(err, &te) && te.Code == tenantlink.ENOTFOUND {
		// Already deleted? (idempotent re-run)
		all, lerr := deletedGroups(ctx, env)
		if lerr != nil {
			return lerr
		}
		if m := matchDeletedGroups(all, ref); len(m) == 1 {
			return emit([]connector.Item{{"groupId": m[0].ID, "displayName": m[0].DisplayName, "groupType": "microsoft365",
				"result": ResultAlreadyDeleted, "restorableUntil": restorable(m[0].DeletedDateTime)}})
		}
		return err
	}
	if err != nil {
		return err
	}
	if err := env.Graph.DeleteGroup(ctx, g.ID); err != nil {
		return upstream(fmt.Sprintf("delete the group %q", g.DisplayName), err)
	}
	env.log().InfoContext(ctx, "office 365 group deleted", "group", g.ID, "type", groupKind(g))
	until := "" // security groups are deleted permanently
	if g.IsUnified() {
		now := env.now()
		until = restorable(&now)
	}
	return emit([]connector.Item{{"groupId": g.ID, "displayName": g.DisplayName, "groupType": groupKind(g),
		"result": ResultDeleted, "restorableUntil": until}})
}

func restorable(at *time.Time) string {
	if at == nil {
		return ""
	}
	return at.Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
}

func runRestoreGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	ref := in.get("group")
	all, err := deletedGroups(ctx, env)
	if err != nil {
		return err
	}
	m := matchDeletedGroups(all, ref)
	switch {
	case len(m) > 1:
		c := make([]string, len(m))
		for i, d := range m {
			c[i] = d.ID
		}
		return tenantlink.Errorf(tenantlink.EINVALID, "%d deleted groups are named %q: %s. Give the id of the one you mean.", len(m), ref, strings.Join(c, ", "))
	case len(m) == 0:
		g, err := resolveGroup(ctx, env, ref)
		if err == nil {
			return emit([]connector.Item{{"groupId": g.ID, "displayName": g.DisplayName, "result": ResultNotDeleted}})
		}
		return tenantlink.Errorf(tenantlink.ENOTFOUND,
			"There is no deleted group %q: only Microsoft 365 groups can be restored, within 30 days of their deletion (security groups are deleted permanently).", ref)
	}
	if _, err := env.Graph.Restore(ctx, m[0].ID); err != nil {
		if errors.Is(err, graph.ErrAlreadyExists) {
			return &tenantlink.Error{Code: tenantlink.ECONFLICT, Err: err, Message: fmt.Sprintf(
				"Group %q cannot be restored: another Microsoft 365 group now uses its mail nickname %q.", m[0].DisplayName, m[0].MailNickname)}
		}
		return upstream(fmt.Sprintf("restore the group %q", m[0].DisplayName), err)
	}
	return emit([]connector.Item{{"groupId": m[0].ID, "displayName": m[0].DisplayName, "result": ResultRestored}})
}

// groupLicence runs Assign/Remove Licence to/from Group: idempotent
// against the group's assignedLicenses.
func groupLicence(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error, assign bool) error {
	sku, err := resolveLicence(ctx, env, in.get("licence"))
	if err != nil {
		return err
	}
	disabled, err := disabledPlanIDs(sku, in.lists["disabledPlans"])
	if err != nil {
		return err
	}
	g, err := resolveGroup(ctx, env, in.get("group"))
	if err != nil {
		return err
	}
	cur, err := env.Graph.GetGroup(ctx, g.ID, []string{"id", "securityEnabled", "assignedLicenses", "licenseProcessingState"})
	if err != nil {
		return upstream(fmt.Sprintf("read the licences of the group %q", g.DisplayName), err)
	}
	has := slices.ContainsFunc(cur.AssignedLicenses, func(l graph.AssignedLicense) bool { return strings.EqualFold(l.SkuID, sku.SkuID) })
	it := connector.Item{"groupId": g.ID, "skuId": sku.SkuID, "skuPartNumber": sku.SkuPartNumber, "result": "", "processingState": "", "error": ""}
	if cur.LicenseProcessingState != nil {
		it["processingState"] = cur.LicenseProcessingState.State
	}
	switch {
	case assign && has:
		it["result"] = ResultAlreadyAssigned
		return emit([]connector.Item{it})
	case !assign && !has:
		it["result"] = ResultNotAssigned
		return emit([]connector.Item{it})
	case assign && (cur.SecurityEnabled == nil || !*cur.SecurityEnabled):
		return tenantlink.Errorf(tenantlink.EINVALID,
			"Group %q is not security enabled; Microsoft assigns licences only to security groups and security-enabled Microsoft 365 groups.", g.DisplayName)
	}
	var add []graph.AssignedLicense
	var remove []string
	verb := "remove " + skuLabel(sku) + " from the group " + g.DisplayName
	if assign {
		add = []graph.AssignedLicense{{SkuID: sku.SkuID, DisabledPlans: nonNil(disabled)}}
		verb = "assign " + skuLabel(sku) + " to the group " + g.DisplayName
	} else {
		remove = []string{sku.SkuID}
	}
	after, err := env.Graph.AssignGroupLicense(ctx, g.ID, add, remove)
	if err != nil {
		return upstream(verb, err)
	}
	it["result"] = ResultRemoved
	if assign {
		it["result"] = ResultAssigned
	}
	if after.LicenseProcessingState != nil {
		it["processingState"] = after.LicenseProcessingState.State
	}
	env.log().InfoContext(ctx, "office 365 group licence changed", "group", g.ID, "sku", sku.SkuPartNumber, "assign", assign)
	return emit([]connector.Item{it})
}

func runAssignLicenceToGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return groupLicence(ctx, env, in, emit, true)
}

func runRemoveLicenceFromGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return groupLicence(ctx, env, in, emit, false)
}

// runRemoveUserFromAllGroups removes a user from every group it is a
// direct member of (a leaver). Groups with dynamic membership are left:
// their rule decides.
func runRemoveUserFromAllGroups(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), nil)
	if err != nil {
		return err
	}
	var groups []graph.Group
	err = env.Graph.UserGroups(ctx, u.ID, false, graph.Query{Select: groupSelect}, func(p []graph.Group) error {
		groups = append(groups, p...)
		return nil
	})
	if err != nil {
		return upstream("list the groups of "+u.UserPrincipalName, err)
	}
	items := make([]connector.Item, len(groups))
	var reqs []graph.BatchRequest
	reqOf := map[int]int{}
	for i := range groups {
		g := &groups[i]
		items[i] = connector.Item{"userId": u.ID, "groupId": g.ID, "displayName": g.DisplayName, "result": "", "error": ""}
		if slices.Contains(g.GroupTypes, "DynamicMembership") {
			items[i]["result"], items[i]["error"] = ResultError, fmt.Sprintf(
				"Group %q has dynamic membership: change the user's properties or the group's rule instead.", g.DisplayName)
			continue
		}
		reqOf[i] = len(reqs)
		reqs = append(reqs, graph.BatchRequest{ID: graph.BatchID(len(reqs)), Method: http.MethodDelete,
			URL: "/groups/" + g.ID + "/members/" + u.ID + "/$ref"})
	}
	var resps []graph.BatchResponse
	if len(reqs) > 0 {
		if resps, err = env.Graph.Batch(ctx, reqs); err != nil {
			return upstream("remove "+u.UserPrincipalName+" from its groups", err)
		}
	}
	var fails []itemFailure
	for i := range items {
		if k, ok := reqOf[i]; ok {
			switch err := resps[k].Err(); {
			case err == nil:
				items[i]["result"] = ResultRemoved
			case errors.Is(err, graph.ErrNotFound):
				items[i]["result"] = ResultNotMember
			case wholeOperation(err):
				return upstream("remove "+u.UserPrincipalName+" from its groups", err)
			default:
				items[i]["result"], items[i]["error"] = ResultError, tenantlink.ErrorMessage(
					upstream(fmt.Sprintf("remove %s from the group %q", u.UserPrincipalName, groups[i].DisplayName), err))
			}
		}
		if items[i]["result"] == ResultError {
			fails = append(fails, itemFailure{ref: groups[i].DisplayName, err: &tenantlink.Error{Code: tenantlink.EINVALID, Message: items[i]["error"].(string)}})
		}
	}
	env.log().InfoContext(ctx, "office 365 user removed from its groups", "user", u.ID, "groups", len(groups), "failed", len(fails))
	if err := emit(items); err != nil {
		return err
	}
	if len(fails) == 0 {
		return nil
	}
	e := summarise("Remove User From All Groups", len(groups), fails).(*tenantlink.Error)
	e.Message = strings.Replace(e.Message, " users: ", " groups: ", 1)
	return e
}

// runRemoveAllLicences removes every licence assigned to the user
// directly, in one assignLicense call; licences inherited from a group
// stay (they are the group's: remove the user from it) and are reported.
func runRemoveAllLicences(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), []string{"assignedLicenses", "licenseAssignmentStates"})
	if err != nil {
		return err
	}
	skus, err := env.Graph.SubscribedSKUs(ctx)
	if err != nil {
		return upstream("read the tenant's licence plans", err)
	}
	names := skuNames(skus)
	var items []connector.Item
	var direct []string
	seen := map[string]bool{}
	for _, h := range holdings(u) {
		part, _ := skuPart(names, h.SkuID)
		it := connector.Item{"userId": u.ID, "skuId": h.SkuID, "skuPartNumber": part, "groupId": h.GroupID, "result": "", "error": ""}
		if h.GroupID != "" {
			it["result"] = ResultInherited
		} else if !seen[h.SkuID] {
			seen[h.SkuID] = true
			direct = append(direct, h.SkuID)
		} else {
			continue
		}
		items = append(items, it)
	}
	if len(direct) > 0 {
		if _, err := env.Graph.AssignLicense(ctx, u.ID, nil, direct); err != nil {
			e := asAppError(upstream("remove the licences of "+u.UserPrincipalName, err))
			for _, it := range items {
				if it["result"] == "" {
					it["result"], it["error"] = ResultError, e.Message
				}
			}
			if ee := emit(items); ee != nil {
				return ee
			}
			return e
		}
		for _, it := range items {
			if it["result"] == "" {
				it["result"] = ResultRemoved
			}
		}
	}
	env.log().InfoContext(ctx, "office 365 user's licences removed", "user", u.ID, "removed", len(direct))
	return emit(items)
}
