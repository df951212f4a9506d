package m365sim

import (
	"net/url"
	"strings"
	"time"
)

// deltaTokenLifetime is how long Graph keeps directory delta state.
const deltaTokenLifetime = 7 * 24 * time.Hour

// deltaPageSize is how many objects one delta page carries.
const deltaPageSize = 200

// deltaState is the content of an opaque $skiptoken/$deltatoken. Initial
// rounds page by insertion order (After); later rounds replay the change
// log between Since and Upto by Offset.
type deltaState struct {
	Kind    string   `json:"k"` // "ud" or "gd"
	Tenant  string   `json:"t"`
	Initial bool     `json:"i,omitempty"`
	Since   int64    `json:"s"`
	Upto    int64    `json:"u"`
	After   int64    `json:"a,omitempty"`
	Offset  int      `json:"o,omitempty"`
	Select  []string `json:"sel,omitempty"`
	Issued  int64    `json:"at"`
	IDs     []string `json:"ids,omitempty"` // $filter=id eq '…' or …
}

func (rq *req) usersDelta() error  { return rq.delta("ud", "users") }
func (rq *req) groupsDelta() error { return rq.delta("gd", "groups") }

func (rq *req) delta(kind, entity string) error {
	for _, p := range []string{"$top", "$orderby", "$expand"} {
		if rq.q.Has(p) {
			return badRequest("Unsupported query parameter '%s' for delta.", p)
		}
	}
	known, typ := userProps, "user"
	if kind == "gd" {
		known, typ = groupProps, "group"
	}
	now := rq.s.now()
	var st deltaState
	skip, dtok := rq.q.Get("$skiptoken"), rq.q.Get("$deltatoken")
	switch {
	case skip != "" || (dtok != "" && dtok != "latest"):
		raw := skip
		if raw == "" {
			raw = dtok
		}
		if !decodeToken(raw, &st) || st.Kind != kind || st.Tenant != rq.t.ID {
			return badRequest("Invalid delta token.")
		}
		if dtok != "" {
			if now.Sub(time.Unix(st.Issued, 0)) > deltaTokenLifetime || rq.s.staleDelta(rq.t, st.Upto) {
				q := url.Values{}
				if len(st.Select) > 0 {
					q.Set("$select", strings.Join(st.Select, ","))
				}
				loc := rq.base + "/" + entity + "/delta"
				if len(q) > 0 {
					loc += "?" + encodeQuery(q)
				}
				e := gerr(410, "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
				e.headers = map[string]string{"Location": loc}
				return e
			}
			// A delta link starts a new round covering changes up to now,
			// deleted items whose retention ran out purged first.
			rq.s.mu.Lock()
			rq.t.purgeDeleted(now)
			rq.s.mu.Unlock()
			rq.s.mu.RLock()
			st.Since, st.Upto, st.Offset, st.Initial = st.Upto, rq.t.seq, 0, false
			rq.s.mu.RUnlock()
		}
	default:
		sel, err := selectFor(rq.q.Get("$select"), known, typ)
		if err != nil {
			return err
		}
		ids, err := deltaIDFilter(rq.q.Get("$filter"))
		if err != nil {
			return err
		}
		rq.s.mu.RLock()
		st = deltaState{Kind: kind, Tenant: rq.t.ID, Initial: true, Upto: rq.t.seq, Select: sel, IDs: ids}
		rq.s.mu.RUnlock()
		if dtok == "latest" {
			st.Initial = false
			st.Issued = now.Unix()
			rq.deltaPage(entity, nil, nil, &st)
			return nil
		}
	}

	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	var value []obj
	var next *deltaState
	switch {
	case st.Initial && len(st.IDs) > 0:
		value = rq.filteredDelta(kind, st)
	case st.Initial:
		value, next = rq.initialDelta(kind, st)
	default:
		value, next = rq.changesDelta(kind, st, rq.preferMinimal())
	}
	if next != nil {
		rq.deltaPage(entity, value, next, nil)
		return nil
	}
	final := st
	final.Initial, final.After, final.Offset, final.Issued = false, 0, 0, now.Unix()
	rq.deltaPage(entity, value, nil, &final)
	return nil
}

func (rq *req) deltaPage(entity string, value []obj, next, final *deltaState) {
	if rq.preferMinimal() {
		// user-delta / group-delta: "Prefer: return=minimal" returns only
		// the changed properties of updated objects.
		rq.w.Header().Set("Preference-Applied", "return=minimal")
	}
	body := obj{{"@odata.context", rq.context(entity)}}
	link := rq.base + "/" + entity + "/delta?"
	if next != nil {
		body = append(body, kv{"@odata.nextLink", link + "$skiptoken=" + encodeToken(next)})
	} else {
		body = append(body, kv{"@odata.deltaLink", link + "$deltatoken=" + encodeToken(final)})
	}
	if value == nil {
		value = []obj{}
	}
	rq.json(200, append(body, kv{"value", value}))
}

func (rq *req) deltaUserProps(sel []string) []string {
	props := rq.userPropsFor(sel)
	for _, p := range props {
		if p == "id" {
			return props
		}
	}
	return append(append([]string{}, props...), "id")
}

func (rq *req) deltaGroupProps(sel []string) (props []string, members bool) {
	if len(sel) == 0 {
		return defaultGroupProps, true
	}
	hasID := false
	for _, p := range sel {
		switch p {
		case "members":
			members = true
			continue
		case "id":
			hasID = true
		}
		props = append(props, p)
	}
	if !hasID {
		props = append(props, "id")
	}
	return props, members
}

func (rq *req) initialDelta(kind string, st deltaState) ([]obj, *deltaState) {
	var value []obj
	if kind == "ud" {
		props := rq.deltaUserProps(st.Select)
		lq := &listQuery{top: deltaPageSize, cursor: pageToken{After: st.After}}
		pg := paginate(rq.t.users, lq, "", userOrd, userGetter)
		for _, u := range pg.items {
			value = append(value, render(u.get, props))
		}
		if pg.next != nil {
			n := st
			n.After = pg.next.After
			return value, &n
		}
		return value, nil
	}
	props, members := rq.deltaGroupProps(st.Select)
	lq := &listQuery{top: deltaPageSize / 4, cursor: pageToken{After: st.After}}
	pg := paginate(rq.t.groups, lq, "", groupOrd, groupGetter)
	for _, g := range pg.items {
		o := render(g.get, props)
		if members {
			md := make([]obj, 0, len(g.members))
			for _, m := range g.members {
				md = append(md, obj{{"@odata.type", "#microsoft.graph.user"}, {"id", m}})
			}
			o = append(o, kv{"members@delta", md})
		}
		value = append(value, o)
	}
	if pg.next != nil {
		n := st
		n.After = pg.next.After
		return value, &n
	}
	return value, nil
}

// filteredDelta is the initial round of a delta query filtered by ids:
// the current state of those objects that exist, in filter order.
func (rq *req) filteredDelta(kind string, st deltaState) []obj {
	var value []obj
	if kind == "ud" {
		props := rq.deltaUserProps(st.Select)
		for _, id := range st.IDs {
			if u := rq.t.userByID[id]; u != nil {
				value = append(value, render(u.get, props))
			}
		}
		return value
	}
	props, members := rq.deltaGroupProps(st.Select)
	for _, id := range st.IDs {
		g := rq.t.groupByID[id]
		if g == nil {
			continue
		}
		o := render(g.get, props)
		if members {
			md := make([]obj, 0, len(g.members))
			for _, m := range g.members {
				md = append(md, obj{{"@odata.type", "#microsoft.graph.user"}, {"id", m}})
			}
			o = append(o, kv{"members@delta", md})
		}
		value = append(value, o)
	}
	return value
}

// changedObject is one object's net change over a delta round.
type changedObject struct {
	id       string
	props    bool
	allProps bool            // created, or a change whose properties are unknown
	changed  map[string]bool // properties changed, when !allProps
	members  []string        // in first-change order
	added    map[string]bool // member id -> net added (true) or removed (false)
	// soft is whether the round's last removal of the object moved it to
	// deleted items (@removed reason "changed") rather than deleting it
	// for good (reason "deleted", delta-query-users).
	soft bool
}

// removed is the @removed annotation of an object gone at the end of the
// round.
func (co *changedObject) removed() obj {
	reason := "deleted"
	if co.soft {
		reason = "changed"
	}
	return obj{{"id", co.id}, {"@removed", obj{{"reason", reason}}}}
}

// minimalProps narrows props to what changed, always keeping id; ok is
// false when none of props changed.
func (co *changedObject) minimalProps(props []string) (out []string, ok bool) {
	if co.allProps {
		return props, true
	}
	for _, p := range props {
		if p == "id" || co.changed[p] {
			out = append(out, p)
			ok = ok || p != "id"
		}
	}
	return out, ok
}

func (rq *req) changesDelta(kind string, st deltaState, minimal bool) ([]obj, *deltaState) {
	wantGroup := kind == "gd"
	var only map[string]bool
	if len(st.IDs) > 0 {
		only = make(map[string]bool, len(st.IDs))
		for _, id := range st.IDs {
			only[id] = true
		}
	}
	var order []*changedObject
	byID := map[string]*changedObject{}
	for _, c := range rq.t.changesSince(st.Since, st.Upto) {
		if c.group != wantGroup || (only != nil && !only[c.id]) {
			continue
		}
		co := byID[c.id]
		if co == nil {
			co = &changedObject{id: c.id, added: map[string]bool{}}
			byID[c.id] = co
			order = append(order, co)
		}
		if c.member == "" {
			co.props = true
			if c.removed {
				co.soft = c.soft
			}
			if c.props == nil {
				co.allProps = true
			} else {
				if co.changed == nil {
					co.changed = map[string]bool{}
				}
				for _, p := range c.props {
					co.changed[p] = true
				}
			}
			continue
		}
		if _, seen := co.added[c.member]; !seen {
			co.members = append(co.members, c.member)
		}
		co.added[c.member] = c.memberAdded
	}
	start := min(st.Offset, len(order))
	end := min(start+deltaPageSize, len(order))
	var value []obj
	props, members := rq.deltaGroupProps(st.Select)
	uprops := rq.deltaUserProps(st.Select)
	for _, co := range order[start:end] {
		if !wantGroup {
			u := rq.t.userByID[co.id]
			if u == nil {
				value = append(value, co.removed())
				continue
			}
			p := uprops
			if minimal {
				var ok bool
				if p, ok = co.minimalProps(uprops); !ok {
					continue // no tracked property changed
				}
			}
			value = append(value, render(u.get, p))
			continue
		}
		g := rq.t.groupByID[co.id]
		if g == nil {
			value = append(value, co.removed())
			continue
		}
		gp, propsChanged := props, co.props
		if minimal {
			gp, propsChanged = co.minimalProps(props)
			propsChanged = propsChanged && co.props
			if !propsChanged {
				gp = []string{"id"}
			}
		}
		o := render(g.get, gp)
		if minimal && !propsChanged && !(members && len(co.members) > 0) {
			continue // no tracked property or membership changed
		}
		if members && len(co.members) > 0 {
			md := make([]obj, 0, len(co.members))
			for _, m := range co.members {
				e := obj{{"@odata.type", "#microsoft.graph.user"}, {"id", m}}
				if !co.added[m] {
					e = append(e, kv{"@removed", obj{{"reason", "deleted"}}})
				}
				md = append(md, e)
			}
			o = append(o, kv{"members@delta", md})
		} else if !co.props {
			continue
		}
		value = append(value, o)
	}
	if end < len(order) {
		n := st
		n.Offset = end
		return value, &n
	}
	return value, nil
}
