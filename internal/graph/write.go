package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// maxLinks is Graph's limit of relationship changes in one write
// ("A resource cannot contain more than 20 link changes").
const maxLinks = 20

func (c *Client) directoryObjectURL(id string) string { return c.base + "/directoryObjects/" + seg(id) }

// CreateGroup creates a group. Owners and members go in the create itself
// up to Graph's 20 links (owners first, so an app-created group is not
// ownerless); the rest are added afterwards. When the group was created
// but some later link failed, CreateGroup returns the group and an error
// naming the failures.
func (c *Client) CreateGroup(ctx context.Context, ng NewGroup) (*Group, error) {
	owners, members := dedupe(ng.OwnerIDs), dedupe(ng.MemberIDs)
	nOwners := min(len(owners), maxLinks)
	nMembers := min(len(members), maxLinks-nOwners)

	body := map[string]any{
		"displayName":     ng.DisplayName,
		"mailNickname":    ng.MailNickname,
		"mailEnabled":     ng.MailEnabled,
		"securityEnabled": ng.SecurityEnabled,
		"groupTypes":      nonNil(ng.GroupTypes),
	}
	if ng.Description != "" {
		body["description"] = ng.Description
	}
	if ng.Visibility != "" {
		body["visibility"] = ng.Visibility
	}
	bind := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = c.base + "/users/" + seg(id)
		}
		return out
	}
	if nOwners > 0 {
		body["owners@odata.bind"] = bind(owners[:nOwners])
	}
	if nMembers > 0 {
		body["members@odata.bind"] = bind(members[:nMembers])
	}
	b, err := jsonBody(body)
	if err != nil {
		return nil, err
	}
	var g Group
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/groups", ""), body: b}, &g); err != nil {
		return nil, err
	}

	var errs []error
	for _, id := range owners[nOwners:] {
		if err := c.addRef(ctx, g.ID, "owners", id); err != nil && !errors.Is(err, ErrAlreadyExists) {
			errs = append(errs, fmt.Errorf("owner %s: %w", id, err))
		}
	}
	if rest := members[nMembers:]; len(rest) > 0 {
		res, err := c.AddMembers(ctx, g.ID, rest)
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range res {
			if r.Err != nil && !errors.Is(r.Err, ErrAlreadyExists) {
				errs = append(errs, fmt.Errorf("member %s: %w", r.ID, r.Err))
			}
		}
	}
	if len(errs) > 0 {
		return &g, fmt.Errorf("graph: group %s created, but adding owners or members failed: %w", g.ID, errors.Join(errs...))
	}
	return &g, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dedupe keeps the first occurrence of each id: Graph refuses a write
// naming the same object twice.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// DeleteGroup deletes a group (Microsoft 365 groups stay restorable for
// 30 days).
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, url: c.endpoint("/groups/"+seg(id), "")}, nil)
}

// UpdateUser patches a user's properties (e.g. usageLocation before a
// licence assignment).
func (c *Client) UpdateUser(ctx context.Context, id string, fields map[string]any) error {
	b, err := jsonBody(fields)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPatch, url: c.endpoint(userPath(id), ""), body: b}, nil)
}

// AssignLicense adds and removes licences in one call and returns the
// updated user. remove lists skuIds; either list may be empty.
func (c *Client) AssignLicense(ctx context.Context, userID string, add []AssignedLicense, remove []string) (*User, error) {
	adds := make([]AssignedLicense, len(add))
	for i, a := range add {
		a.DisabledPlans = nonNil(a.DisabledPlans)
		adds[i] = a
	}
	b, err := jsonBody(map[string]any{"addLicenses": adds, "removeLicenses": nonNil(remove)})
	if err != nil {
		return nil, err
	}
	var u User
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint(userPath(userID)+"/assignLicense", ""), body: b}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// addRef posts one owners or members link.
func (c *Client) addRef(ctx context.Context, groupID, rel, objectID string) error {
	b, err := jsonBody(map[string]string{"@odata.id": c.directoryObjectURL(objectID)})
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/groups/"+seg(groupID)+"/"+rel+"/$ref", ""), body: b}, nil)
}

// AddMember adds one directory object to a group. An existing member
// gives an error matching ErrAlreadyExists, a missing object ErrNotFound.
func (c *Client) AddMember(ctx context.Context, groupID, objectID string) error {
	return c.addRef(ctx, groupID, "members", objectID)
}

// RemoveMember removes one member link (the object itself stays). A
// non-member gives an error matching ErrNotFound.
func (c *Client) RemoveMember(ctx context.Context, groupID, objectID string) error {
	return c.call(ctx, request{method: http.MethodDelete,
		url: c.endpoint("/groups/"+seg(groupID)+"/members/"+seg(objectID)+"/$ref", "")}, nil)
}

// AddMembers adds many objects to a group: PATCH members@odata.bind in
// chunks of 20, carried 20 chunks per $batch envelope (400 links per round
// trip). Graph refuses a whole chunk when one of its ids is already a
// member or missing, so such a chunk is redone member by member (again
// through $batch) to give every id its exact outcome. Results follow the
// order of ids with duplicates removed. The error is for the call as a
// whole; per-id failures are in the results.
func (c *Client) AddMembers(ctx context.Context, groupID string, ids []string) ([]Result, error) {
	ids = dedupe(ids)
	chunks := chunk(len(ids), maxLinks)
	reqs := make([]BatchRequest, len(chunks))
	for i, ch := range chunks {
		links := make([]string, 0, ch[1]-ch[0])
		for _, id := range ids[ch[0]:ch[1]] {
			links = append(links, c.directoryObjectURL(id))
		}
		b, err := jsonBody(map[string][]string{"members@odata.bind": links})
		if err != nil {
			return nil, err
		}
		reqs[i] = BatchRequest{ID: strconv.Itoa(i + 1), Method: http.MethodPatch, URL: "/groups/" + seg(groupID), Body: b}
	}
	resps, err := c.Batch(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("graph: adding members to group %s: %w", groupID, err)
	}
	results := make([]Result, len(ids))
	var single []int // indexes into ids to redo one by one
	for i, ch := range chunks {
		err := resps[i].Err()
		if err != nil && c.perItemFailure(err, groupID) {
			for k := ch[0]; k < ch[1]; k++ {
				single = append(single, k)
			}
			continue
		}
		for k := ch[0]; k < ch[1]; k++ {
			results[k] = Result{ID: ids[k], Err: err}
		}
	}
	if len(single) == 0 {
		return results, nil
	}
	reqs = reqs[:0]
	for n, k := range single {
		b, err := jsonBody(map[string]string{"@odata.id": c.directoryObjectURL(ids[k])})
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, BatchRequest{ID: strconv.Itoa(n + 1), Method: http.MethodPost,
			URL: "/groups/" + seg(groupID) + "/members/$ref", Body: b})
	}
	resps, err = c.Batch(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("graph: adding members to group %s one by one: %w", groupID, err)
	}
	for n, k := range single {
		results[k] = Result{ID: ids[k], Err: resps[n].Err()}
	}
	return results, nil
}

// perItemFailure reports whether a chunk's failure may be caused by one of
// its ids (already a member, missing object, duplicate) rather than by the
// group or the grant, so that redoing it per member is worthwhile.
func (c *Client) perItemFailure(err error, groupID string) bool {
	var ge *Error
	if !errors.As(err, &ge) {
		return false
	}
	switch {
	case errors.Is(err, ErrAlreadyExists):
		return true
	case errors.Is(err, ErrNotFound):
		// "Resource '{groupID}' does not exist…" is about the group.
		return !strings.Contains(ge.Message, groupID)
	case errors.Is(err, ErrBadRequest):
		return strings.Contains(ge.Message, "only be present once") ||
			strings.Contains(ge.Message, "Invalid object identifier")
	}
	return false
}

// RemoveMembers removes many members through $batch, one DELETE $ref per
// id, 20 per envelope. A non-member's result matches ErrNotFound.
func (c *Client) RemoveMembers(ctx context.Context, groupID string, ids []string) ([]Result, error) {
	ids = dedupe(ids)
	reqs := make([]BatchRequest, len(ids))
	for i, id := range ids {
		reqs[i] = BatchRequest{ID: strconv.Itoa(i + 1), Method: http.MethodDelete,
			URL: "/groups/" + seg(groupID) + "/members/" + seg(id) + "/$ref"}
	}
	resps, err := c.Batch(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("graph: removing members from group %s: %w", groupID, err)
	}
	results := make([]Result, len(ids))
	for i, id := range ids {
		results[i] = Result{ID: id, Err: resps[i].Err()}
	}
	return results, nil
}
