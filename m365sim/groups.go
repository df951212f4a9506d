package m365sim

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink/m365sim/odata"
)

func groupOrd(g *group) int64           { return g.ord }
func groupGetter(g *group) odata.Getter { return g.get }

func (rq *req) groupProps(sel []string) []string {
	if len(sel) == 0 {
		return defaultGroupProps
	}
	out := make([]string, 0, len(sel))
	for _, p := range sel {
		if p != "members" {
			out = append(out, p)
		}
	}
	return out
}

func (rq *req) listGroups() error {
	lq, err := rq.parseList("g", groupProps, "group")
	if err != nil {
		return err
	}
	props := rq.groupProps(lq.sel)
	rq.s.mu.RLock()
	pg := paginate(rq.t.groups, lq, "g", groupOrd, groupGetter)
	value := make([]obj, len(pg.items))
	for i, g := range pg.items {
		value[i] = render(g.get, props)
	}
	rq.s.mu.RUnlock()
	rq.collection(selectContext("groups", lq.sel), lq, pg.count, pg.next, value)
	return nil
}

func (rq *req) countGroups() error {
	if !rq.eventual() {
		return badRequest("$count is not currently supported.")
	}
	lq, err := rq.parseList("g", groupProps, "group")
	if err != nil {
		return err
	}
	lq.count, lq.first, lq.top = true, true, 1
	rq.s.mu.RLock()
	pg := paginate(rq.t.groups, lq, "g", groupOrd, groupGetter)
	rq.s.mu.RUnlock()
	rq.text(200, strconv.Itoa(pg.count))
	return nil
}

func (rq *req) group() (*group, error) {
	id := rq.r.PathValue("id")
	if g := rq.t.groupByID[strings.ToLower(id)]; g != nil {
		return g, nil
	}
	return nil, notFound(id)
}

func (rq *req) getGroup() error {
	sel, err := selectFor(rq.q.Get("$select"), groupProps, "group")
	if err != nil {
		return err
	}
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	body := obj{{"@odata.context", rq.context(selectContext("groups", sel) + "/$entity")}}
	rq.json(200, append(body, render(g.get, rq.groupProps(sel))...))
	return nil
}

// bindID extracts the object id from an @odata.bind / @odata.id URL such
// as https://graph.microsoft.com/v1.0/directoryObjects/{id}.
func bindID(ref string) (string, bool) {
	ref = strings.TrimRight(ref, "/")
	for _, seg := range []string{"/directoryObjects/", "/users/", "/groups/"} {
		if i := strings.LastIndex(ref, seg); i >= 0 {
			id := ref[i+len(seg):]
			if id != "" && !strings.Contains(id, "/") {
				return strings.ToLower(id), true
			}
		}
	}
	return "", false
}

var errTooManyLinks = badRequest("A resource cannot contain more than 20 link changes")

func validNickname(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r > 127 || r <= ' ' || strings.ContainsRune(`@()\[]";:.<>,`, r) {
			return false
		}
	}
	return true
}

func invalidGroupProp(p string) *graphError {
	return badRequest("Invalid value specified for property '%s' of resource 'Group'.", p)
}

func (rq *req) createGroup() error {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(rq.r.Body).Decode(&raw); err != nil {
		return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	if err := checkODataType(raw, "group"); err != nil {
		return err
	}
	var in struct {
		DisplayName     *string  `json:"displayName"`
		Description     *string  `json:"description"`
		MailNickname    *string  `json:"mailNickname"`
		MailEnabled     *bool    `json:"mailEnabled"`
		SecurityEnabled *bool    `json:"securityEnabled"`
		GroupTypes      []string `json:"groupTypes"`
		Visibility      *string  `json:"visibility"`
		Owners          []string `json:"owners@odata.bind"`
		Members         []string `json:"members@odata.bind"`
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &in); err != nil {
		return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	switch {
	case in.DisplayName == nil || *in.DisplayName == "" || len([]rune(*in.DisplayName)) > 256:
		return invalidGroupProp("displayName")
	case in.MailEnabled == nil:
		return invalidGroupProp("mailEnabled")
	case in.MailNickname == nil || !validNickname(*in.MailNickname):
		return invalidGroupProp("mailNickname")
	case in.SecurityEnabled == nil:
		return invalidGroupProp("securityEnabled")
	}
	unified := false
	for _, t := range in.GroupTypes {
		switch {
		case strings.EqualFold(t, "Unified"):
			unified = true
		case strings.EqualFold(t, "DynamicMembership"):
		default:
			return invalidGroupProp("groupTypes")
		}
	}
	if !unified && *in.MailEnabled {
		return badRequest("The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or set to false.")
	}
	if unified && !*in.MailEnabled {
		return invalidGroupProp("mailEnabled")
	}
	vis := ""
	if in.Visibility != nil {
		switch strings.ToLower(*in.Visibility) {
		case "public", "private", "hiddenmembership":
			vis = strings.ToUpper((*in.Visibility)[:1]) + (*in.Visibility)[1:]
		default:
			return invalidGroupProp("visibility")
		}
	} else if unified {
		vis = "Public"
	}
	if len(in.Owners)+len(in.Members) > 20 {
		return errTooManyLinks
	}
	if len(in.Owners)+len(in.Members) > 0 && !hasAny(rq.granted(), []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}) {
		return errInsufficient
	}

	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	t := rq.t
	resolve := func(refs []string) ([]string, error) {
		var ids []string
		for _, ref := range refs {
			id, ok := bindID(ref)
			if !ok {
				return nil, badRequest("Invalid object identifier '%s'.", ref)
			}
			if t.userByID[id] == nil {
				return nil, notFound(id)
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	owners, err := resolve(in.Owners)
	if err != nil {
		return err
	}
	members, err := resolve(in.Members)
	if err != nil {
		return err
	}
	if unified {
		if other := t.groupByNickname(*in.MailNickname); other != nil && other.unified() {
			e := badRequest("Another object with the same value for property mailNickname already exists.")
			e.details = []map[string]string{{"target": "mailNickname", "code": "ObjectConflict"}}
			return e
		}
	}
	g := &group{
		ID:          t.gen.guid(),
		DisplayName: *in.DisplayName, MailNickname: *in.MailNickname,
		MailEnabled: *in.MailEnabled, SecurityEnabled: *in.SecurityEnabled,
		GroupTypes: []string{}, Visibility: vis, Created: rq.s.now(),
		memberSet: map[string]struct{}{},
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if unified {
		g.GroupTypes = append(g.GroupTypes, "Unified")
		g.Mail = g.MailNickname + "@" + t.Domain
	}
	for _, x := range in.GroupTypes {
		if strings.EqualFold(x, "DynamicMembership") {
			g.GroupTypes = append(g.GroupTypes, "DynamicMembership")
		}
	}
	for _, id := range members {
		g.addMember(id)
	}
	for _, id := range owners {
		g.owners = append(g.owners, id)
	}
	t.insertGroup(g, true)
	body := obj{{"@odata.context", rq.context("groups/$entity")}}
	rq.json(201, append(body, render(g.get, defaultGroupProps)...))
	return nil
}

func (rq *req) granted() []string {
	if rq.delegated {
		return rq.tok.Scopes
	}
	return rq.tok.Roles
}

func (rq *req) patchGroup() error {
	raw, err := decodePatch(rq.r.Body)
	if err != nil {
		return err
	}
	if err := checkODataType(raw, "group"); err != nil {
		return err
	}
	var binds []string
	props := map[string]json.RawMessage{}
	for k, v := range raw {
		switch {
		case k == "members@odata.bind":
			if err := json.Unmarshal(v, &binds); err != nil {
				return badRequest("Invalid value specified for property 'members@odata.bind'.")
			}
		default:
			props[k] = v
		}
	}
	if len(binds) > 20 {
		return errTooManyLinks
	}
	if len(props) > 0 && !hasAny(rq.granted(), permGroupWrite.delegated) {
		return errInsufficient
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var ids []string
	for _, ref := range binds {
		id, ok := bindID(ref)
		if !ok {
			return badRequest("Invalid object identifier '%s'.", ref)
		}
		if seen[id] {
			return badRequest("The reference '%s' can only be present once as an add/remove change.", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for _, id := range ids {
		if rq.t.userByID[id] == nil && rq.t.groupByID[id] == nil {
			return notFound(id)
		}
	}
	for _, id := range ids {
		if g.hasMember(id) {
			return errAlreadyMember
		}
	}
	c := *g
	for k, v := range props {
		var s *string
		switch k {
		case "displayName", "description", "visibility", "mailNickname":
			if err := json.Unmarshal(v, &s); err != nil {
				return invalidGroupProp(k)
			}
		default:
			return badRequest("Invalid property '%s'.", k)
		}
		val := ""
		if s != nil {
			val = *s
		}
		switch k {
		case "displayName":
			if val == "" || len([]rune(val)) > 256 {
				return invalidGroupProp(k)
			}
			c.DisplayName = val
		case "description":
			c.Description = val
		case "visibility":
			c.Visibility = val
		case "mailNickname":
			if !validNickname(val) {
				return invalidGroupProp(k)
			}
			c.MailNickname = val
		}
	}
	before := *g
	g.DisplayName, g.Description, g.Visibility, g.MailNickname = c.DisplayName, c.Description, c.Visibility, c.MailNickname
	if len(props) > 0 {
		rq.t.record(change{group: true, id: g.ID, props: changedProps(before.get, g.get, groupTracked)})
	}
	for _, id := range ids {
		g.addMember(id)
		rq.t.record(change{group: true, id: g.ID, member: id, memberAdded: true})
	}
	return rq.noContent()
}

var errAlreadyMember = badRequest("One or more added object references already exist for the following modified properties: 'members'.")

func (rq *req) deleteGroup() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	rq.t.deleteGroup(g, false)
	return rq.noContent()
}

// memberRef gives group members a paging order: their position.
type memberRef struct {
	u   *user
	pos int64
}

func (rq *req) memberRefs(g *group) []memberRef {
	out := make([]memberRef, 0, len(g.members))
	for i, id := range g.members {
		if u := rq.t.userByID[id]; u != nil {
			out = append(out, memberRef{u, int64(i + 1)})
		}
	}
	return out
}

func (rq *req) listMembers() error {
	lq, err := rq.parseList("m", userProps, "user")
	if err != nil {
		return err
	}
	props := rq.userPropsFor(lq.sel)
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	pg := paginate(rq.memberRefs(g), lq, "m", func(m memberRef) int64 { return m.pos }, func(m memberRef) odata.Getter { return m.u.get })
	value := make([]obj, len(pg.items))
	for i, m := range pg.items {
		value[i] = append(obj{{"@odata.type", "#microsoft.graph.user"}}, render(m.u.get, props)...)
	}
	rq.collection("directoryObjects", lq, pg.count, pg.next, value)
	return nil
}

func (rq *req) countMembers() error {
	if !rq.eventual() {
		return badRequest("$count is not currently supported.")
	}
	lq, err := rq.parseList("m", userProps, "user")
	if err != nil {
		return err
	}
	lq.count, lq.first, lq.top = true, true, 1
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	pg := paginate(rq.memberRefs(g), lq, "m", func(m memberRef) int64 { return m.pos }, func(m memberRef) odata.Getter { return m.u.get })
	rq.text(200, strconv.Itoa(pg.count))
	return nil
}

func (rq *req) addMember() error {
	var in struct {
		ID string `json:"@odata.id"`
	}
	if err := json.NewDecoder(rq.r.Body).Decode(&in); err != nil || in.ID == "" {
		return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	id, ok := bindID(in.ID)
	if !ok {
		return badRequest("Invalid object identifier '%s'.", in.ID)
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	if rq.t.userByID[id] == nil && rq.t.groupByID[id] == nil { // groups nest
		return notFound(id)
	}
	if !g.addMember(id) {
		return errAlreadyMember
	}
	rq.t.record(change{group: true, id: g.ID, member: id, memberAdded: true})
	return rq.noContent()
}

func (rq *req) removeMember() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	id := strings.ToLower(rq.r.PathValue("member"))
	if !g.removeMember(id) {
		return gerr(404, "Request_ResourceNotFound", "One or more removed object references do not exist for the following modified properties: 'members'.")
	}
	rq.t.record(change{group: true, id: g.ID, member: id})
	return rq.noContent()
}
