package m365sim

// Nested membership: transitiveMembers
// (https://learn.microsoft.com/graph/api/group-list-transitivemembers),
// transitiveMemberOf
// (https://learn.microsoft.com/graph/api/user-list-transitivememberof), a
// group's own memberOf, and checkMemberGroups / checkMemberObjects
// (https://learn.microsoft.com/graph/api/directoryobject-checkmembergroups,
// directoryobject-checkmemberobjects): at most 20 ids a call, answering the
// ones the object belongs to directly or through nested groups.

import (
	"encoding/json"
	"strings"
)

// transitiveMemberIDs walks g's members through nested groups, each object
// once, in breadth-first order.
func (t *tenant) transitiveMemberIDs(g *group) []string {
	seen := map[string]bool{g.ID: true}
	var out []string
	queue := []*group{g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, id := range cur.members {
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, id)
			if sub := t.groupByID[id]; sub != nil {
				queue = append(queue, sub)
			}
		}
	}
	return out
}

// transitiveGroupsOf lists the groups id belongs to directly or through
// nested groups, in group order.
func (t *tenant) transitiveGroupsOf(id string) []*group {
	in := map[string]bool{}
	frontier := []string{id}
	for len(frontier) > 0 {
		var next []string
		for _, x := range frontier {
			for _, g := range t.groups {
				if !in[g.ID] && g.hasMember(x) {
					in[g.ID] = true
					next = append(next, g.ID)
				}
			}
		}
		frontier = next
	}
	var out []*group
	for _, g := range t.groups {
		if in[g.ID] {
			out = append(out, g)
		}
	}
	return out
}

// dirRef is a user or group in a mixed listing, with its paging position.
type dirRef struct {
	u   *user
	g   *group
	pos int64
}

func (d dirRef) get(p string) (any, bool) {
	if d.u != nil {
		return d.u.get(p)
	}
	return d.g.get(p)
}

// castFilter maps a cast segment to "user" or "group"; "" keeps both.
func castFilter(seg string) (string, error) {
	if seg == "" {
		return "", nil
	}
	if typ, ok := deletedType(seg); ok {
		return typ, nil
	}
	return "", badRequest("Resource not found for the segment '%s'.", seg)
}

// mixedSelect accepts properties of users or groups.
func mixedSelect(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if c, ok := userProps[strings.ToLower(p)]; ok {
			out = append(out, c)
		} else if c, ok := groupProps[strings.ToLower(p)]; ok {
			out = append(out, c)
		} else {
			return nil, badRequest("Could not find a property named '%s' on type 'microsoft.graph.directoryObject'.", p)
		}
	}
	return out, nil
}

func (rq *req) renderRef(d dirRef, sel []string) obj {
	if d.u != nil {
		props := sel
		if props == nil {
			props = defaultUserProps
		}
		return append(obj{{"@odata.type", "#microsoft.graph.user"}}, render(d.u.get, rq.userPropsFor(props))...)
	}
	props := sel
	if props == nil {
		props = defaultGroupProps
	}
	return append(obj{{"@odata.type", "#microsoft.graph.group"}}, render(d.g.get, props)...)
}

// offsetPage reads $top (default 100, at most 999) and an offset
// $skiptoken of kind for a list of n objects: the slice of it to answer
// and the next page's token, nil on the last page.
func (rq *req) offsetPage(kind string, n int) (start, end int, next *pageToken, err error) {
	top := 100
	if v := rq.q.Get("$top"); v != "" {
		t, err := atoiRange(v, 1, 999)
		if err != nil {
			return 0, 0, nil, badRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
		}
		top = t
	}
	if v := rq.q.Get("$skiptoken"); v != "" {
		var tok pageToken
		if !decodeToken(v, &tok) || tok.Kind != kind {
			return 0, 0, nil, badRequest("Invalid $skiptoken value.")
		}
		start = min(tok.Offset, n)
	}
	end = min(start+top, n)
	if end < n {
		next = &pageToken{Kind: kind, Offset: end}
	}
	return start, end, next, nil
}

// mixedPage pages refs by offset ($top, $skiptoken); $filter and $search
// need advanced queries the simulator does not offer on these routes.
func (rq *req) mixedPage(context string, refs []dirRef) error {
	if rq.q.Get("$filter") != "" || rq.q.Get("$search") != "" {
		return errUnsupportedQuery
	}
	sel, err := mixedSelect(rq.q.Get("$select"))
	if err != nil {
		return err
	}
	start, end, next, err := rq.offsetPage("t", len(refs))
	if err != nil {
		return err
	}
	value := make([]obj, 0, end-start)
	for _, d := range refs[start:end] {
		value = append(value, rq.renderRef(d, sel))
	}
	rq.collection(context, nil, 0, next, value)
	return nil
}

func (t *tenant) refs(ids []string, only string) []dirRef {
	out := make([]dirRef, 0, len(ids))
	for i, id := range ids {
		d := dirRef{pos: int64(i + 1)}
		if u := t.userByID[id]; u != nil && only != "group" {
			d.u = u
		} else if g := t.groupByID[id]; g != nil && only != "user" {
			d.g = g
		} else {
			continue
		}
		out = append(out, d)
	}
	return out
}

// transitiveMembers is GET /groups/{id}/transitiveMembers[/{cast}].
func (rq *req) transitiveMembers() error {
	only, err := castFilter(rq.r.PathValue("cast"))
	if err != nil {
		return err
	}
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	return rq.mixedPage("directoryObjects", rq.t.refs(rq.t.transitiveMemberIDs(g), only))
}

// transitiveMemberOf is GET /users/{id}/transitiveMemberOf[/{cast}]:
// groups only (directory roles are left out: tenantlink reads those
// through memberOf).
func (rq *req) transitiveMemberOf() error {
	if _, err := castFilter(rq.r.PathValue("cast")); err != nil {
		return err
	}
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	var ids []string
	for _, g := range rq.t.transitiveGroupsOf(u.ID) {
		ids = append(ids, g.ID)
	}
	return rq.mixedPage("directoryObjects", rq.t.refs(ids, "group"))
}

// groupMemberOf is GET /groups/{id}/memberOf: the groups a group is
// directly nested in.
func (rq *req) groupMemberOf() error {
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	var ids []string
	for _, p := range rq.t.memberOf(g.ID) {
		ids = append(ids, p.ID)
	}
	return rq.mixedPage("directoryObjects", rq.t.refs(ids, "group"))
}

// checkMember is POST /users/{id}/checkMemberGroups (body groupIds) and
// checkMemberObjects (body ids).
func (rq *req) checkMember(field string) func() error {
	return func() error {
		var in map[string][]string
		if err := json.NewDecoder(rq.r.Body).Decode(&in); err != nil {
			return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		}
		ids, ok := in[field]
		if !ok {
			return badRequest("Property '%s' is required.", field)
		}
		if len(ids) > 20 {
			return badRequest("The maximum number of ids in the request is 20.")
		}
		rq.s.mu.RLock()
		defer rq.s.mu.RUnlock()
		u, err := rq.targetUser()
		if err != nil {
			return err
		}
		in2 := map[string]bool{}
		for _, g := range rq.t.transitiveGroupsOf(u.ID) {
			in2[g.ID] = true
		}
		value := []string{}
		for _, id := range ids {
			if in2[strings.ToLower(id)] {
				value = append(value, strings.ToLower(id))
			}
		}
		rq.json(200, obj{{"@odata.context", rq.context("Collection(Edm.String)")}, {"value", value}})
		return nil
	}
}
