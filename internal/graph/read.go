package graph

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Query shapes a collection read. Zero values leave Graph's defaults.
type Query struct {
	Select  []string // properties to return; nil means the type's *Fields list (users, groups) or Graph's defaults
	Filter  string   // OData $filter, passed verbatim
	Search  string   // $search, verbatim including its quotes: `"displayName:wa"`; implies Advanced
	OrderBy string
	Top     int  // page size; default 999 (Graph's maximum for directory objects)
	Count   bool // $count=true
	// Advanced sends ConsistencyLevel: eventual (on every page: Graph does
	// not carry it over) and $count=true, which endsWith, ne, not and
	// $orderby with $filter need.
	Advanced bool
	Max      int // stop after this many objects; 0 means all
	// Type is an OData cast segment such as "microsoft.graph.user", for
	// members and memberOf: only objects of that type.
	Type string
}

// defaultTop is the largest page Graph serves for users and groups, so a
// 100,000-user tenant costs about 100 round trips.
const defaultTop = 999

// escape percent-encodes a query value with %20 for spaces: '+' is a
// literal plus to some OData parsers.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func (q Query) eventual() bool { return q.Advanced || q.Search != "" }

// encode builds the query string. top 0 leaves $top out (endpoints that
// reject it); the keys keep their literal '$' for readable logs.
func (q Query) encode(defSelect []string, top int) string {
	var parts []string
	sel := q.Select
	if sel == nil {
		sel = defSelect
	}
	if len(sel) > 0 {
		parts = append(parts, "$select="+escape(strings.Join(sel, ",")))
	}
	if q.Filter != "" {
		parts = append(parts, "$filter="+escape(q.Filter))
	}
	if q.Search != "" {
		parts = append(parts, "$search="+escape(q.Search))
	}
	if q.OrderBy != "" {
		parts = append(parts, "$orderby="+escape(q.OrderBy))
	}
	if q.Top > 0 {
		top = q.Top
	}
	if q.Max > 0 && top > 0 && q.Max < top {
		top = q.Max
	}
	if top > 0 {
		parts = append(parts, "$top="+strconv.Itoa(top))
	}
	if q.Count || q.Advanced {
		parts = append(parts, "$count=true")
	}
	return strings.Join(parts, "&")
}

// page is one page of a collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// list streams the collection at link page by page to fn, following the
// whole @odata.nextLink verbatim (it carries $skiptoken and the query).
func list[T any](ctx context.Context, c *Client, link string, q Query, fn func([]T) error) error {
	return listFrom(ctx, c, link, q, nil, fn)
}

// listFrom is list whose first page, when first is not nil, is first:
// the $batch answer to a GET of link.
func listFrom[T any](ctx context.Context, c *Client, link string, q Query, first *BatchResponse, fn func([]T) error) error {
	seen := 0
	for link != "" {
		var p page[T]
		if err := c.readPage(ctx, request{method: http.MethodGet, url: link, eventual: q.eventual()}, first, &p); err != nil {
			return err
		}
		first = nil
		done := false
		if q.Max > 0 && seen+len(p.Value) >= q.Max {
			p.Value = p.Value[:q.Max-seen]
			done = true
		}
		seen += len(p.Value)
		if len(p.Value) > 0 {
			if err := fn(p.Value); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		if p.NextLink == link {
			return fmt.Errorf("graph: GET %s: @odata.nextLink points at the same page", opPath(link))
		}
		link = p.NextLink
	}
	return nil
}

// seg escapes one path segment (UPNs carry '@' and guests '#EXT#').
func seg(s string) string { return url.PathEscape(s) }

// userPath is /me or /users/{id}.
func userPath(idOrUPN string) string {
	if idOrUPN == "me" {
		return "/me"
	}
	return "/users/" + seg(idOrUPN)
}

func castPath(path, typ string) string {
	if typ == "" {
		return path
	}
	return path + "/" + seg(typ)
}

// ListUsers streams the tenant's users to fn, one page at a time, so memory
// stays flat at any tenant size. fn may keep the slice.
func (c *Client) ListUsers(ctx context.Context, q Query, fn func([]User) error) error {
	return list(ctx, c, c.usersLink(q), q, fn)
}

// usersLink is the first page of ListUsers(q).
func (c *Client) usersLink(q Query) string {
	return c.endpoint(castPath("/users", q.Type), q.encode(UserFields, defaultTop))
}

// ListGroups streams the tenant's groups to fn.
func (c *Client) ListGroups(ctx context.Context, q Query, fn func([]Group) error) error {
	return list(ctx, c, c.endpoint(castPath("/groups", q.Type), q.encode(GroupFields, defaultTop)), q, fn)
}

// ListGroupMembers streams a group's direct members (users, groups,
// devices…; q.Type "microsoft.graph.user" keeps users only).
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, q Query, fn func([]DirectoryObject) error) error {
	path := castPath("/groups/"+seg(groupID)+"/members", q.Type)
	return list(ctx, c, c.endpoint(path, q.encode(nil, defaultTop)), q, fn)
}

// MemberOf streams the groups and directory roles a user ("me" for the
// signed-in user) is a direct member of.
func (c *Client) MemberOf(ctx context.Context, userID string, q Query, fn func([]DirectoryObject) error) error {
	path := castPath(userPath(userID)+"/memberOf", q.Type)
	return list(ctx, c, c.endpoint(path, q.encode(nil, 0)), q, fn)
}

// GetUser reads one user by id or userPrincipalName; sel nil means
// UserFields.
func (c *Client) GetUser(ctx context.Context, idOrUPN string, sel []string) (*User, error) {
	var u User
	q := Query{Select: sel}
	err := c.call(ctx, request{method: http.MethodGet, url: c.endpoint(userPath(idOrUPN), q.encode(UserFields, 0))}, &u)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Me reads the signed-in user (delegated tokens only).
func (c *Client) Me(ctx context.Context) (*User, error) { return c.GetUser(ctx, "me", nil) }

// GetGroup reads one group; sel nil means GroupFields.
func (c *Client) GetGroup(ctx context.Context, id string, sel []string) (*Group, error) {
	var g Group
	q := Query{Select: sel}
	err := c.call(ctx, request{method: http.MethodGet, url: c.endpoint("/groups/"+seg(id), q.encode(GroupFields, 0))}, &g)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// Organization reads the tenant.
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	var p page[Organization]
	if err := c.call(ctx, request{method: http.MethodGet, url: c.endpoint("/organization", "")}, &p); err != nil {
		return nil, err
	}
	if len(p.Value) == 0 {
		return nil, &Error{Op: "GET /organization", Status: http.StatusOK, Message: "no organization returned", Kind: ErrNotFound}
	}
	return &p.Value[0], nil
}

// CountUsers counts users matching filter ("" for all) with
// /users/$count, which Graph serves only with ConsistencyLevel: eventual.
func (c *Client) CountUsers(ctx context.Context, filter string) (int, error) {
	return c.count(ctx, "/users/$count", Query{Filter: filter})
}

// CountGroupMembers counts a group's direct members; typ is an optional
// cast such as "microsoft.graph.user".
func (c *Client) CountGroupMembers(ctx context.Context, groupID, typ string) (int, error) {
	return c.count(ctx, castPath("/groups/"+seg(groupID)+"/members", typ)+"/$count", Query{})
}

func (c *Client) count(ctx context.Context, path string, q Query) (int, error) {
	r := request{method: http.MethodGet, url: c.endpoint(path, q.encode(nil, 0)), eventual: true, accept: "text/plain"}
	resp, err := c.do(ctx, r)
	if err != nil {
		return 0, err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return 0, fmt.Errorf("graph: GET %s: %w", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("graph: GET %s: not a count: %w", path, err)
	}
	return n, nil
}

// SubscribedSKUs lists the tenant's licence plans.
func (c *Client) SubscribedSKUs(ctx context.Context) ([]SubscribedSKU, error) {
	var all []SubscribedSKU
	err := list(ctx, c, c.endpoint("/subscribedSkus", ""), Query{}, func(s []SubscribedSKU) error {
		all = append(all, s...)
		return nil
	})
	return all, err
}

// SubscribedSKU reads one plan by its id ({tenantId}_{skuId}).
func (c *Client) SubscribedSKU(ctx context.Context, id string) (*SubscribedSKU, error) {
	var s SubscribedSKU
	if err := c.call(ctx, request{method: http.MethodGet, url: c.endpoint("/subscribedSkus/"+seg(id), "")}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// LicenseDetails lists a user's licences ("me" for the signed-in user),
// including those inherited from groups.
func (c *Client) LicenseDetails(ctx context.Context, userID string) ([]LicenseDetails, error) {
	var all []LicenseDetails
	err := list(ctx, c, c.endpoint(userPath(userID)+"/licenseDetails", ""), Query{}, func(l []LicenseDetails) error {
		all = append(all, l...)
		return nil
	})
	return all, err
}
