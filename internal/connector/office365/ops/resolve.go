package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// quote makes s an OData string literal. Doubling the quote is OData's
// only escape inside a literal, so a name such as O'Brien stays a value
// and can never end the literal and become query syntax.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// searchPhrase makes a $search clause "field:text". Inside the double
// quotes OData's search grammar escapes '"' and '\' with a backslash.
func searchPhrase(field, text string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + field + ":" + r.Replace(text) + `"`
}

// queryEscape encodes a query value with %20 for spaces: some OData
// parsers read '+' as a literal plus.
func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isGUID(s string) bool { return guidRE.MatchString(s) }

// inLimit is how many values Graph accepts in one "in (…)" filter on
// directory objects.
const inLimit = 15

// resolvedUser is one user reference after resolution: User set, or Err
// saying why not.
type resolvedUser struct {
	Ref  string
	User *graph.User
	Err  *tenantlink.Error
}

// resolveUsers resolves references in input order, merging references
// that name the same user. It asks Graph with "in (…)" filters of 15
// values, 20 filters per $batch envelope, so 300 references cost one
// round trip. When idsAsIs is set, object ids are taken without a lookup:
// the membership writes that follow report a missing object per id, and
// skipping the lookup halves the requests of a large membership change.
// sel is the $select of the lookups ("id" and the reference properties
// are always added).
func resolveUsers(ctx context.Context, env Env, refs []string, sel []string, idsAsIs bool) ([]resolvedUser, error) {
	out := make([]resolvedUser, len(refs))
	var ids, names []string // distinct lookups, lower case
	seen := map[string]bool{}
	for i, r := range refs {
		out[i].Ref = r
		key := strings.ToLower(r)
		switch {
		case isGUID(r):
			if idsAsIs {
				out[i].User = &graph.User{ID: key}
				continue
			}
			if !seen[key] {
				ids = append(ids, key)
			}
		case strings.Count(r, "@") == 1 && !strings.HasPrefix(r, "@") && !strings.HasSuffix(r, "@"):
			if !seen[key] {
				names = append(names, key)
			}
		default:
			out[i].Err = tenantlink.Errorf(tenantlink.EINVALID,
				"%q is not a user reference: give an object id, a userPrincipalName or an email.", r)
			continue
		}
		seen[key] = true
	}
	if len(ids)+len(names) == 0 {
		return dedupeUsers(out), nil
	}

	fields := append([]string{"id", "userPrincipalName", "mail"}, sel...)
	selQ := "$select=" + queryEscape(strings.Join(dedupeStrings(fields), ","))
	var reqs []graph.BatchRequest
	add := func(filter string) {
		reqs = append(reqs, graph.BatchRequest{ID: strconv.Itoa(len(reqs) + 1), Method: http.MethodGet,
			URL: "/users?$filter=" + queryEscape(filter) + "&" + selQ})
	}
	for c := range slices.Chunk(ids, inLimit) {
		add("id in (" + quoteAll(c) + ")")
	}
	for c := range slices.Chunk(names, inLimit) {
		l := quoteAll(c)
		add("userPrincipalName in (" + l + ") or mail in (" + l + ")")
	}
	resps, err := env.Graph.Batch(ctx, reqs)
	if err != nil {
		return nil, upstream("look up users", err)
	}
	byID, byUPN, byMail := map[string]*graph.User{}, map[string]*graph.User{}, map[string][]*graph.User{}
	for _, r := range resps {
		if err := r.Err(); err != nil {
			return nil, upstream("look up users", err)
		}
		var page struct {
			Value []graph.User `json:"value"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			return nil, fmt.Errorf("ops: look up users: decoding Graph's answer: %w", err)
		}
		for k := range page.Value {
			u := &page.Value[k]
			byID[strings.ToLower(u.ID)] = u
			byUPN[strings.ToLower(u.UserPrincipalName)] = u
			if u.Mail != "" {
				m := strings.ToLower(u.Mail)
				byMail[m] = append(byMail[m], u)
			}
		}
	}
	for i := range out {
		if out[i].User != nil || out[i].Err != nil {
			continue
		}
		key := strings.ToLower(out[i].Ref)
		if u := byID[key]; u != nil {
			out[i].User = u
			continue
		}
		if u := byUPN[key]; u != nil {
			out[i].User = u
			continue
		}
		switch m := byMail[key]; len(m) {
		case 1:
			out[i].User = m[0]
		case 0:
			out[i].Err = tenantlink.Errorf(tenantlink.ENOTFOUND,
				"User %s does not exist in Microsoft 365 (no user has that id, userPrincipalName or email).", out[i].Ref)
		default:
			c := make([]string, len(m))
			for k, u := range m {
				c[k] = u.UserPrincipalName + " (" + u.ID + ")"
			}
			out[i].Err = tenantlink.Errorf(tenantlink.EINVALID,
				"Several users have the email %s: %s; give the userPrincipalName or id of the one you mean.", out[i].Ref, strings.Join(c, ", "))
		}
	}
	return dedupeUsers(out), nil
}

// dedupeUsers keeps the first reference to each user (Graph refuses the
// same object twice in one change) and every failed reference.
func dedupeUsers(in []resolvedUser) []resolvedUser {
	seen := map[string]bool{}
	out := in[:0]
	for _, r := range in {
		if r.User != nil {
			id := strings.ToLower(r.User.ID)
			if seen[id] {
				continue
			}
			seen[id] = true
		} else if seen["ref:"+strings.ToLower(r.Ref)] {
			continue
		} else {
			seen["ref:"+strings.ToLower(r.Ref)] = true
		}
		out = append(out, r)
	}
	return out
}

func quoteAll(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quote(v)
	}
	return strings.Join(q, ",")
}

func dedupeStrings(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// resolveGroup finds a group by object id or exact display name.
func resolveGroup(ctx context.Context, env Env, ref string) (*graph.Group, error) {
	if isGUID(ref) {
		g, err := env.Graph.GetGroup(ctx, ref, groupSelect)
		if errors.Is(err, graph.ErrNotFound) {
			return nil, &tenantlink.Error{Code: tenantlink.ENOTFOUND, Err: err,
				Message: fmt.Sprintf("Group %s does not exist in Microsoft 365.", ref)}
		}
		if err != nil {
			return nil, upstream("read group "+ref, err)
		}
		return g, nil
	}
	var found []graph.Group
	err := env.Graph.ListGroups(ctx, graph.Query{Select: groupSelect, Filter: "displayName eq " + quote(ref), Max: 50},
		func(p []graph.Group) error {
			found = append(found, p...)
			return nil
		})
	if err != nil {
		return nil, upstream(fmt.Sprintf("look up the group %q", ref), err)
	}
	// Graph compares names without regard to case; an exact match among
	// several wins.
	if len(found) > 1 {
		var exact []graph.Group
		for _, g := range found {
			if g.DisplayName == ref {
				exact = append(exact, g)
			}
		}
		if len(exact) == 1 {
			found = exact
		}
	}
	switch len(found) {
	case 0:
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND,
			"There is no group named %q in Microsoft 365 (the name must match exactly; an object id works too).", ref)
	case 1:
		return &found[0], nil
	}
	c := make([]string, len(found))
	for i := range found {
		g := &found[i]
		c[i] = fmt.Sprintf("%s (%s, %s)", g.ID, g.DisplayName, groupKind(g))
	}
	return nil, tenantlink.Errorf(tenantlink.EINVALID,
		"%d groups are named %q: %s. Give the id of the one you mean.", len(found), ref, strings.Join(c, "; "))
}

// resolveLicence finds the tenant's subscribed SKU a reference names.
func resolveLicence(ctx context.Context, env Env, ref string) (*graph.SubscribedSKU, error) {
	skus, err := env.Graph.SubscribedSKUs(ctx)
	if err != nil {
		return nil, upstream("read the tenant's licence plans", err)
	}
	for i := range skus {
		if strings.EqualFold(skus[i].SkuID, ref) || strings.EqualFold(skus[i].SkuPartNumber, ref) {
			return &skus[i], nil
		}
	}
	p, known := productByName(ref)
	if !known {
		p, known = productBySku(ref, ref)
	}
	if known {
		for i := range skus {
			if strings.EqualFold(skus[i].SkuID, p.SkuID) {
				return &skus[i], nil
			}
		}
	}
	have := make([]string, len(skus))
	for i, s := range skus {
		have[i] = productName(s.SkuID, s.SkuPartNumber) + " (" + s.SkuPartNumber + ")"
	}
	list := "none"
	if len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	if known {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND,
			"The tenant does not subscribe to %s (%s). Its licence plans are: %s.", p.Name, p.PartNumber, list)
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND,
		"No licence plan matches %q: give a skuId, a skuPartNumber or a product name. The tenant's licence plans are: %s.", ref, list)
}
