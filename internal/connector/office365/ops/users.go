package ops

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// userLicenceSelect reads a user with how each licence was assigned.
var userLicenceSelect = append(append([]string{}, userSelect...), "assignedLicenses", "licenseAssignmentStates")

// resolveOne resolves a single user reference; a reference that names no
// one (or several) is the operation's error.
func resolveOne(ctx context.Context, env Env, ref string, sel []string) (*graph.User, error) {
	rs, err := resolveUsers(ctx, env, []string{ref}, sel, false)
	if err != nil {
		return nil, err
	}
	if rs[0].Err != nil {
		return nil, rs[0].Err
	}
	return rs[0].User, nil
}

// holding is one licence a user has, and how.
type holding struct {
	SkuID, GroupID, State, Error string
}

// holdings reads licenseAssignmentStates (direct entries have no
// assignedByGroup); when Graph left them out, assignedLicenses count as
// direct and active.
func holdings(u *graph.User) []holding {
	var out []holding
	for _, s := range u.LicenseAssignmentStates {
		e := s.Error
		if strings.EqualFold(e, "None") {
			e = "" // Graph sends "None" for a successful assignment
		}
		out = append(out, holding{SkuID: strings.ToLower(s.SkuID), GroupID: s.AssignedByGroup, State: s.State, Error: e})
	}
	if len(out) == 0 {
		for _, l := range u.AssignedLicenses {
			out = append(out, holding{SkuID: strings.ToLower(l.SkuID), State: "Active"})
		}
	}
	return out
}

// licenceStateMessage explains an assignment error state
// (licenseAssignmentState.error; Entra's "Resolve group license assignment
// problems" names the causes and the fixes).
func licenceStateMessage(h holding, label, usage string) string {
	switch h.Error {
	case "":
		if h.State == "Disabled" {
			return "The assignment is disabled."
		}
		return ""
	case "CountViolation":
		return fmt.Sprintf("No %s licences are left, so the group's assignment is waiting; free one up or buy more.", label)
	case "MutuallyExclusiveViolation":
		return fmt.Sprintf("%s conflicts with another licence the user has (service plans that cannot be combined); remove one of them.", label)
	case "DependencyViolation":
		return fmt.Sprintf("%s needs a service plan the user does not have; assign the licence it depends on first.", label)
	case "ProhibitedInUsageLocationViolation":
		return fmt.Sprintf("%s cannot be used in the user's usage location %s; change the usage location.", label, orDefault(usage, "(none)"))
	case "UniquenessViolation":
		return fmt.Sprintf("%s needs a unique attribute (such as a proxy address) that another object already uses.", label)
	}
	return fmt.Sprintf("Microsoft 365 could not assign %s (%s).", label, h.Error)
}

// skuNames maps skuIds (lower case) to the tenant's SKUs.
func skuNames(skus []graph.SubscribedSKU) map[string]*graph.SubscribedSKU {
	m := make(map[string]*graph.SubscribedSKU, len(skus))
	for i := range skus {
		m[strings.ToLower(skus[i].SkuID)] = &skus[i]
	}
	return m
}

func skuPart(m map[string]*graph.SubscribedSKU, id string) (part, label string) {
	if s := m[strings.ToLower(id)]; s != nil {
		return s.SkuPartNumber, skuLabel(s)
	}
	return id, productName(id, "")
}

// licencesText sums a user's licences up for one text output.
func licencesText(hs []holding, m map[string]*graph.SubscribedSKU) string {
	parts := make([]string, 0, len(hs))
	for _, h := range hs {
		part, _ := skuPart(m, h.SkuID)
		how := "direct"
		if h.GroupID != "" {
			how = "group " + h.GroupID
		}
		if h.Error != "" {
			how += ", " + h.Error
		}
		parts = append(parts, part+" ("+how+")")
	}
	return strings.Join(parts, "; ")
}

func runGetUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), userLicenceSelect)
	if err != nil {
		return err
	}
	// The manager and the SKU names in one round trip.
	resps, err := env.Graph.Batch(ctx, []graph.BatchRequest{
		{ID: "1", Method: http.MethodGet, URL: "/users/" + u.ID + "/manager?$select=id,userPrincipalName,displayName"},
		{ID: "2", Method: http.MethodGet, URL: "/subscribedSkus"},
	})
	if err != nil {
		return upstream("read the user's manager and licences", err)
	}
	it := userRecord(u)
	it["managerId"], it["managerUserPrincipalName"], it["managerDisplayName"] = "", "", ""
	if err := resps[0].Err(); err == nil {
		var m graph.User
		if err := json.Unmarshal(resps[0].Body, &m); err == nil {
			it["managerId"], it["managerUserPrincipalName"], it["managerDisplayName"] = m.ID, m.UserPrincipalName, m.DisplayName
		}
	} else if !errors.Is(err, graph.ErrNotFound) {
		return upstream("read the manager of "+u.UserPrincipalName, err)
	}
	var skus struct {
		Value []graph.SubscribedSKU `json:"value"`
	}
	if err := resps[1].Err(); err != nil {
		return upstream("read the tenant's licence plans", err)
	}
	if err := json.Unmarshal(resps[1].Body, &skus); err != nil {
		return fmt.Errorf("ops: decoding subscribedSkus: %w", err)
	}
	it["licences"] = licencesText(holdings(u), skuNames(skus.Value))
	return emit([]connector.Item{it})
}

func runUserLicences(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), userLicenceSelect)
	if err != nil {
		return err
	}
	skus, err := env.Graph.SubscribedSKUs(ctx)
	if err != nil {
		return upstream("read the tenant's licence plans", err)
	}
	m := skuNames(skus)
	var items []connector.Item
	for _, h := range holdings(u) {
		part, label := skuPart(m, h.SkuID)
		how := "direct"
		if h.GroupID != "" {
			how = "group"
		}
		items = append(items, connector.Item{"skuId": h.SkuID, "skuPartNumber": part, "productName": productName(h.SkuID, part),
			"assignment": how, "groupId": h.GroupID, "state": h.State, "error": h.Error,
			"message": licenceStateMessage(h, label, u.UsageLocation)})
	}
	return emit(items)
}

// tempPassword makes a 16-character password meeting Entra's complexity
// rules (three of four character classes; here all four).
func tempPassword() (string, error) {
	const (
		lower  = "abcdefghijkmnpqrstuvwxyz"
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits = "23456789"
		symbol = "!#$%*+-=?@^_"
	)
	all := lower + upper + digits + symbol
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[n.Int64()], nil
	}
	b := make([]byte, 0, 16)
	for _, set := range []string{lower, upper, digits, symbol} {
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		b = append(b, c)
	}
	for len(b) < 16 {
		c, err := pick(all)
		if err != nil {
			return "", err
		}
		b = append(b, c)
	}
	// Shuffle so the classes are not in a fixed order.
	for i := len(b) - 1; i > 0; i-- {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		j := n.Int64()
		b[i], b[j] = b[j], b[i]
	}
	return string(b), nil
}

// profileFields maps the profile inputs given to Graph properties.
func profileFields(in inputs) (map[string]any, error) {
	f := map[string]any{}
	for _, p := range []string{"displayName", "givenName", "surname", "jobTitle", "department", "officeLocation",
		"companyName", "employeeId", "mobilePhone", "city", "country"} {
		if v, ok := in.str[p]; ok {
			f[p] = v
		}
	}
	if v, ok := in.str["businessPhone"]; ok {
		f["businessPhones"] = []string{v}
	}
	if v, ok := in.str["usageLocation"]; ok {
		if !usageLocationRE.MatchString(v) {
			return nil, tenantlink.Errorf(tenantlink.EINVALID, "Input \"usageLocation\" must be a two-letter country code such as IE or US; got %q.", v)
		}
		f["usageLocation"] = strings.ToUpper(v)
	}
	if v, ok := in.str["accountEnabled"]; ok {
		f["accountEnabled"] = v == "true"
	}
	return f, nil
}

func runCreateUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	upn := in.get("userPrincipalName")
	local, domain, ok := strings.Cut(upn, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return tenantlink.Errorf(tenantlink.EINVALID, "Input \"userPrincipalName\" must look like name@domain; got %q.", upn)
	}
	fields, err := profileFields(in)
	if err != nil {
		return err
	}
	nick := in.get("mailNickname")
	if nick == "" {
		nick = deriveNickname(local)
	} else if !validNickname(nick) {
		return tenantlink.Errorf(tenantlink.EINVALID,
			"Input \"mailNickname\" %q is not valid: Microsoft allows 1–64 ASCII characters without spaces or any of %s.", nick, nicknameForbidden)
	}
	// Resolve the user (already there?) and the manager first: a typo in
	// the manager must not leave a half-made account.
	refs := []string{upn}
	if m := in.get("manager"); m != "" {
		refs = append(refs, m)
	}
	rs, err := resolveUsers(ctx, env, refs, userSelect, false)
	if err != nil {
		return err
	}
	var manager *graph.User
	if len(refs) == 2 {
		for _, r := range rs {
			if strings.EqualFold(r.Ref, refs[1]) {
				if r.Err != nil {
					return tenantlink.Errorf(r.Err.Code, "The user was not created: %s", r.Err.Message)
				}
				manager = r.User
			}
		}
		if manager == nil { // the manager is the user itself
			return tenantlink.Errorf(tenantlink.EINVALID, "The user was not created: a user cannot be its own manager.")
		}
	}
	if r := rs[0]; r.User != nil && strings.EqualFold(r.User.UserPrincipalName, upn) {
		it := userRecord(r.User)
		it["result"], it["temporaryPassword"] = ResultAlreadyExists, ""
		return emit([]connector.Item{it})
	}

	password, err := tempPassword()
	if err != nil {
		return fmt.Errorf("ops: generating a password: %w", err)
	}
	temporary := orDefault(in.get("password"), "temporary") == "temporary"
	fields["userPrincipalName"] = upn
	fields["mailNickname"] = nick
	if _, ok := fields["accountEnabled"]; !ok {
		fields["accountEnabled"] = true
	}
	fields["passwordProfile"] = map[string]any{"password": password, "forceChangePasswordNextSignIn": temporary}
	u, err := env.Graph.CreateUser(ctx, fields)
	if errors.Is(err, graph.ErrAlreadyExists) {
		return &tenantlink.Error{Code: tenantlink.ECONFLICT, Err: err, Message: fmt.Sprintf(
			"Another object already uses the userPrincipalName or mail nickname of %s (a deleted user keeps its name until it is purged: see Restore User).", upn)}
	}
	if err != nil {
		var ge *graph.Error
		if errors.As(err, &ge) && strings.Contains(ge.Message, "password") {
			return &tenantlink.Error{Code: tenantlink.EINVALID, Err: err, Message: "Microsoft 365 refused the generated password under the tenant's password policy: " + ge.Message}
		}
		return upstream("create the user "+upn, err)
	}
	// The password is in the item only; nothing logs it.
	env.log().InfoContext(ctx, "office 365 user created", "user", u.ID, "temporaryPassword", temporary)
	it := userRecord(u)
	it["result"], it["temporaryPassword"] = ResultCreated, ""
	if temporary {
		it["temporaryPassword"] = password
	}
	if manager != nil {
		if err := env.Graph.SetManager(ctx, u.ID, manager.ID); err != nil {
			if e := emit([]connector.Item{it}); e != nil {
				return e
			}
			return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Err: err, Message: fmt.Sprintf(
				"User %s was created (id %s), but setting the manager failed; set it with Update User. %s",
				upn, u.ID, tenantlink.ErrorMessage(upstream("set the manager", err)))}
		}
	}
	return emit([]connector.Item{it})
}

// currentValue is what a user has for a profile property, for comparison.
func currentValue(u *graph.User, p string) any {
	r := userRecord(u)
	switch p {
	case "businessPhones":
		return u.BusinessPhones
	case "accountEnabled":
		return u.AccountEnabled != nil && *u.AccountEnabled
	}
	return r[p]
}

func runUpdateUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	fields, err := profileFields(in)
	if err != nil {
		return err
	}
	mref, removeManager := in.get("manager"), in.flag("removeManager", false)
	if mref != "" && removeManager {
		return tenantlink.Errorf(tenantlink.EINVALID, "Give either manager or removeManager, not both.")
	}
	if len(fields) == 0 && mref == "" && !removeManager {
		return tenantlink.Errorf(tenantlink.EINVALID, "Update User needs at least one property to change (displayName, jobTitle, department, manager, accountEnabled, …).")
	}
	refs := []string{in.get("user")}
	if mref != "" {
		refs = append(refs, mref)
	}
	rs, err := resolveUsers(ctx, env, refs, append(append([]string{}, userSelect...), "accountEnabled"), false)
	if err != nil {
		return err
	}
	if rs[0].Err != nil {
		return rs[0].Err
	}
	u := rs[0].User
	var manager *graph.User
	if mref != "" {
		if len(rs) < 2 {
			return tenantlink.Errorf(tenantlink.EINVALID, "A user cannot be its own manager.")
		}
		if rs[1].Err != nil {
			return rs[1].Err
		}
		manager = rs[1].User
	}
	var changed []string
	patch := map[string]any{}
	for k, v := range fields {
		cur := currentValue(u, k)
		if k == "businessPhones" {
			if slices.Equal(u.BusinessPhones, v.([]string)) {
				continue
			}
		} else if cur == v {
			continue
		}
		patch[k] = v
		changed = append(changed, k)
	}
	var reqs []graph.BatchRequest
	if len(patch) > 0 {
		b, _ := json.Marshal(patch)
		reqs = append(reqs, graph.BatchRequest{ID: "patch", Method: http.MethodPatch, URL: "/users/" + u.ID, Body: b})
	}
	if manager != nil || removeManager {
		cur, err := env.Graph.Manager(ctx, u.ID, []string{"id"})
		switch {
		case errors.Is(err, graph.ErrNotFound):
			cur = nil
		case err != nil:
			return upstream("read the manager of "+u.UserPrincipalName, err)
		}
		switch {
		case manager != nil && (cur == nil || !strings.EqualFold(cur.ID, manager.ID)):
			b, _ := json.Marshal(map[string]string{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + manager.ID})
			reqs = append(reqs, graph.BatchRequest{ID: "manager", Method: http.MethodPut, URL: "/users/" + u.ID + "/manager/$ref", Body: b})
			changed = append(changed, "manager")
		case removeManager && cur != nil:
			reqs = append(reqs, graph.BatchRequest{ID: "manager", Method: http.MethodDelete, URL: "/users/" + u.ID + "/manager/$ref"})
			changed = append(changed, "manager")
		}
	}
	slices.Sort(changed)
	it := connector.Item{"user": in.get("user"), "userId": u.ID, "result": ResultUnchanged, "changed": strings.Join(changed, ", "), "error": ""}
	if len(reqs) > 0 {
		resps, err := env.Graph.Batch(ctx, reqs)
		if err != nil {
			return upstream("update "+u.UserPrincipalName, err)
		}
		for _, r := range resps {
			if err := r.Err(); err != nil {
				e := asAppError(upstream("update "+u.UserPrincipalName, err))
				it["result"], it["error"] = ResultError, e.Message
				if ee := emit([]connector.Item{it}); ee != nil {
					return ee
				}
				return e
			}
		}
		it["result"] = ResultUpdated
		env.log().InfoContext(ctx, "office 365 user updated", "user", u.ID, "changed", it["changed"])
	}
	return emit([]connector.Item{it})
}

// userWrite describes a write applied to a list of users, one request
// each through $batch.
type userWrite struct {
	label string
	sel   []string
	// decide returns the result when nothing needs doing, else the request.
	decide func(u *graph.User) (string, *graph.BatchRequest)
	done   string
	verb   string // "disable", … for error messages
	// missing may turn not-found references into results (already deleted).
	missing func(ctx context.Context, refs []string) (map[string]string, error)
}

func runUserWrites(ctx context.Context, env Env, refs []string, w userWrite, emit func([]connector.Item) error) error {
	rs, err := resolveUsers(ctx, env, refs, w.sel, false)
	if err != nil {
		return err
	}
	items := make([]connector.Item, len(rs))
	var reqs []graph.BatchRequest
	reqOf := map[int]int{}
	var notFound []string
	for i, r := range rs {
		items[i] = connector.Item{"user": r.Ref, "userId": "", "result": "", "error": ""}
		if r.Err != nil {
			if r.Err.Code == tenantlink.ENOTFOUND {
				notFound = append(notFound, r.Ref)
			}
			continue
		}
		items[i]["userId"] = r.User.ID
		res, req := w.decide(r.User)
		if req == nil {
			items[i]["result"] = res
			continue
		}
		req.ID = graph.BatchID(len(reqs))
		reqOf[i] = len(reqs)
		reqs = append(reqs, *req)
	}
	gone := map[string]string{}
	if w.missing != nil && len(notFound) > 0 {
		if gone, err = w.missing(ctx, notFound); err != nil {
			return err
		}
	}
	var resps []graph.BatchResponse
	if len(reqs) > 0 {
		if resps, err = env.Graph.Batch(ctx, reqs); err != nil {
			return upstream(w.verb+" users", err)
		}
	}
	var fails []itemFailure
	for i, r := range rs {
		var fail *tenantlink.Error
		switch k, sent := reqOf[i]; {
		case r.Err != nil:
			if res, ok := gone[strings.ToLower(r.Ref)]; ok {
				items[i]["result"] = res
			} else {
				fail = r.Err
			}
		case sent:
			if err := resps[k].Err(); err != nil {
				if wholeOperation(err) {
					return upstream(w.verb+" users", err)
				}
				fail = asAppError(upstream(w.verb+" "+r.User.UserPrincipalName, err))
			} else {
				items[i]["result"] = w.done
			}
		}
		if fail != nil {
			items[i]["result"], items[i]["error"] = ResultError, fail.Message
			fails = append(fails, itemFailure{ref: r.Ref, err: fail})
		}
	}
	env.log().InfoContext(ctx, "office 365 users changed", "operation", w.label, "users", len(rs), "sent", len(reqs), "failed", len(fails))
	if err := emit(items); err != nil {
		return err
	}
	return summarise(w.label, len(rs), fails)
}

func enabledWrite(label string, enable bool) userWrite {
	already, done, verb := ResultAlreadyDisabled, ResultDisabled, "disable"
	if enable {
		already, done, verb = ResultAlreadyEnabled, ResultEnabled, "enable"
	}
	body, _ := json.Marshal(map[string]bool{"accountEnabled": enable})
	return userWrite{label: label, sel: []string{"accountEnabled"}, done: done, verb: verb,
		decide: func(u *graph.User) (string, *graph.BatchRequest) {
			if u.AccountEnabled != nil && *u.AccountEnabled == enable {
				return already, nil
			}
			return "", &graph.BatchRequest{Method: http.MethodPatch, URL: "/users/" + u.ID, Body: body}
		}}
}

func runDisableUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return runUserWrites(ctx, env, in.lists["user"], enabledWrite("Disable User", false), emit)
}

func runEnableUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return runUserWrites(ctx, env, in.lists["user"], enabledWrite("Enable User", true), emit)
}

// deletedUsers lists the tenant's soft-deleted users. A deleted user's
// userPrincipalName is prefixed with its id without dashes; the original
// is what references name.
func deletedUsers(ctx context.Context, env Env) ([]graph.DeletedObject, error) {
	var all []graph.DeletedObject
	err := env.Graph.DeletedItems(ctx, "microsoft.graph.user", graph.Query{Select: []string{"id", "userPrincipalName", "mail", "displayName", "deletedDateTime"}},
		func(p []graph.DeletedObject) error {
			all = append(all, p...)
			return nil
		})
	if err != nil {
		return nil, upstream("list deleted users", err)
	}
	return all, nil
}

// originalUPN strips the id prefix Entra puts on a deleted user's name.
func originalUPN(d *graph.DeletedObject) string {
	return strings.TrimPrefix(strings.ToLower(d.UserPrincipalName), strings.ReplaceAll(strings.ToLower(d.ID), "-", ""))
}

func matchDeleted(all []graph.DeletedObject, ref string) *graph.DeletedObject {
	ref = strings.ToLower(ref)
	for i := range all {
		d := &all[i]
		if strings.ToLower(d.ID) == ref || originalUPN(d) == ref || (d.Mail != "" && strings.ToLower(d.Mail) == ref) {
			return d
		}
	}
	return nil
}

func runDeleteUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	w := userWrite{label: "Delete User", done: ResultDeleted, verb: "delete",
		decide: func(u *graph.User) (string, *graph.BatchRequest) {
			return "", &graph.BatchRequest{Method: http.MethodDelete, URL: "/users/" + u.ID}
		},
		missing: func(ctx context.Context, refs []string) (map[string]string, error) {
			all, err := deletedUsers(ctx, env)
			if err != nil {
				return nil, err
			}
			out := map[string]string{}
			for _, r := range refs {
				if matchDeleted(all, r) != nil {
					out[strings.ToLower(r)] = ResultAlreadyDeleted
				}
			}
			return out, nil
		}}
	until := env.now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	return runUserWrites(ctx, env, in.lists["user"], w, func(items []connector.Item) error {
		for _, it := range items {
			it["restorableUntil"] = ""
			if it["result"] == ResultDeleted {
				it["restorableUntil"] = until
			}
		}
		return emit(items)
	})
}

func runRestoreUser(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	refs := in.lists["user"]
	all, err := deletedUsers(ctx, env)
	if err != nil {
		return err
	}
	items := make([]connector.Item, 0, len(refs))
	var reqs []graph.BatchRequest
	var pending []int
	var active []string
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[strings.ToLower(ref)] {
			continue
		}
		seen[strings.ToLower(ref)] = true
		it := connector.Item{"user": ref, "userId": "", "result": "", "error": ""}
		if d := matchDeleted(all, ref); d != nil {
			it["userId"] = d.ID
			reqs = append(reqs, graph.BatchRequest{ID: graph.BatchID(len(reqs)), Method: http.MethodPost,
				URL: "/directory/deletedItems/" + d.ID + "/restore"})
			pending = append(pending, len(items))
		} else {
			active = append(active, ref)
		}
		items = append(items, it)
	}
	// Not among the deleted: an active user is already restored (idempotent);
	// anyone else is unknown, or was purged after 30 days.
	if len(active) > 0 {
		rs, err := resolveUsers(ctx, env, active, nil, false)
		if err != nil {
			return err
		}
		byRef := map[string]resolvedUser{}
		for _, r := range rs {
			byRef[strings.ToLower(r.Ref)] = r
		}
		for _, it := range items {
			if it["userId"] != "" {
				continue
			}
			r := byRef[strings.ToLower(it["user"].(string))]
			if r.User != nil {
				it["userId"], it["result"] = r.User.ID, ResultNotDeleted
			}
		}
	}
	if len(reqs) > 0 {
		resps, err := env.Graph.Batch(ctx, reqs)
		if err != nil {
			return upstream("restore users", err)
		}
		for k, i := range pending {
			if err := resps[k].Err(); err != nil {
				if wholeOperation(err) {
					return upstream("restore users", err)
				}
				msg := tenantlink.ErrorMessage(upstream("restore "+items[i]["user"].(string), err))
				if errors.Is(err, graph.ErrAlreadyExists) {
					msg = fmt.Sprintf("Could not restore %s: another user now has its userPrincipalName; rename that user first.", items[i]["user"])
				}
				items[i]["result"], items[i]["error"] = ResultError, msg
				continue
			}
			items[i]["result"] = ResultRestored
		}
	}
	var fails []itemFailure
	for _, it := range items {
		if it["result"] == "" {
			it["result"], it["error"] = ResultError, fmt.Sprintf(
				"User %s is neither in Microsoft 365 nor among its deleted users (deleted users are purged after 30 days).", it["user"])
		}
		if it["result"] == ResultError {
			fails = append(fails, itemFailure{ref: it["user"].(string), err: &tenantlink.Error{Code: tenantlink.ENOTFOUND, Message: it["error"].(string)}})
		}
	}
	if err := emit(items); err != nil {
		return err
	}
	return summarise("Restore User", len(items), fails)
}

func runGetManager(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), nil)
	if err != nil {
		return err
	}
	m, err := env.Graph.Manager(ctx, u.ID, userSelect)
	if errors.Is(err, graph.ErrNotFound) {
		return nil // no manager: no item, so a process field is emptied
	}
	if err != nil {
		return upstream("read the manager of "+u.UserPrincipalName, err)
	}
	return emit([]connector.Item{userRecord(m)})
}

func runGetDirectReports(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	u, err := resolveOne(ctx, env, in.get("user"), nil)
	if err != nil {
		return err
	}
	q := graph.Query{Select: userSelect, Max: in.ints["maxRows"], Top: pageSize}
	return finish("list the direct reports of "+u.UserPrincipalName, env.Graph.DirectReports(ctx, u.ID, q, pages(emit, userRecord)))
}
