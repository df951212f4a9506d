package m365sim

// Users' and groups' life cycle: creating users (POST /users,
// https://learn.microsoft.com/graph/api/user-post-users), soft deletion
// into directory/deletedItems and restoring within 30 days
// (https://learn.microsoft.com/graph/api/resources/directory,
// directory-deleteditems-list, -get, -restore), and managers
// (https://learn.microsoft.com/graph/api/user-list-manager,
// user-post-manager, user-delete-manager, user-list-directreports).

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
)

// retention is how long a deleted user or Microsoft 365 group stays
// restorable: "Deleted items remain available to restore for up to 30
// days. After 30 days, the items are permanently deleted."
const retention = 30 * 24 * time.Hour

// deletedObject is a soft-deleted user or Microsoft 365 group with what
// restoring brings back.
type deletedObject struct {
	at       time.Time
	user     *user
	upn      string // the user's userPrincipalName before deletion
	groups   []string
	owned    []string
	group    *group
	licences []assignedLicense
}

func (d *deletedObject) id() string {
	if d.user != nil {
		return d.user.ID
	}
	return d.group.ID
}

var (
	permDeletedRead = perm{
		delegated: []string{"User.Read.All", "User.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		app:       []string{"User.Read.All", "User.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
	}
	permRestore = perm{
		delegated: []string{"User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	permGroupLicence = perm{
		delegated: []string{"LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
		app:       []string{"LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
	}
	// Per type, inside the deleted-items routes (the permission tables of
	// directory-deleteditems-get and -restore).
	deletedUserRead   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	deletedGroupRead  = []string{"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	deletedUserWrite  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	deletedGroupWrite = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
)

// purgeDeleted deletes for good the deleted objects older than the
// retention period. Each purge is a permanent deletion in the change log:
// notified "deleted", and @removed reason "deleted" in delta (decision
// 0018). Purges happen when the simulator's clock moves, on the notifier's
// tick, and before deleted items or delta are read.
func (t *tenant) purgeDeleted(now time.Time) {
	for _, d := range slices.Clone(t.deleted) {
		if now.Sub(d.at) >= retention {
			t.purge(d)
		}
	}
}

// purge deletes d from deleted items for good and records it.
func (t *tenant) purge(d *deletedObject) {
	if t.deleted = slices.DeleteFunc(t.deleted, func(x *deletedObject) bool { return x == d }); len(t.deleted) == 0 {
		t.deleted = nil // as loaded from a state file without deleted items
	}
	t.record(change{group: d.group != nil, id: d.id(), removed: true})
}

// purgeExpired runs purgeDeleted on every tenant.
func (s *Server) purgeExpired() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tenants {
		t.purgeDeleted(now)
	}
}

func (t *tenant) deletedByID(id string) *deletedObject {
	for _, d := range t.deleted {
		if strings.EqualFold(d.id(), id) {
			return d
		}
	}
	return nil
}

// passwordComplex is Entra's rule: 8–256 characters, three of lower case,
// upper case, digits and symbols.
func passwordComplex(p string) bool {
	if len(p) < 8 || len(p) > 256 {
		return false
	}
	var lo, up, dg, sy int
	for _, r := range p {
		switch {
		case unicode.IsLower(r):
			lo = 1
		case unicode.IsUpper(r):
			up = 1
		case unicode.IsDigit(r):
			dg = 1
		default:
			sy = 1
		}
	}
	return lo+up+dg+sy >= 3
}

// createUser is POST /users.
func (rq *req) createUser() error {
	raw, err := decodePatch(rq.r.Body)
	if err != nil {
		return err
	}
	if err := checkODataType(raw, "user"); err != nil {
		return err
	}
	var in struct {
		AccountEnabled    *bool   `json:"accountEnabled"`
		DisplayName       *string `json:"displayName"`
		MailNickname      *string `json:"mailNickname"`
		UserPrincipalName *string `json:"userPrincipalName"`
		PasswordProfile   *struct {
			Password                      string `json:"password"`
			ForceChangePasswordNextSignIn bool   `json:"forceChangePasswordNextSignIn"`
		} `json:"passwordProfile"`
		PasswordPolicies *string `json:"passwordPolicies"`
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &in); err != nil {
		return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	// user-post-users: accountEnabled, displayName, mailNickname,
	// passwordProfile and userPrincipalName are required.
	for _, req := range []struct {
		ok   bool
		name string
	}{{in.AccountEnabled != nil, "accountEnabled"}, {in.DisplayName != nil && *in.DisplayName != "", "displayName"},
		{in.MailNickname != nil && *in.MailNickname != "", "mailNickname"}, {in.UserPrincipalName != nil && *in.UserPrincipalName != "", "userPrincipalName"},
		{in.PasswordProfile != nil && in.PasswordProfile.Password != "", "passwordProfile"}} {
		if !req.ok {
			return badRequest("Property %s in payload has a value that does not match schema.", req.name)
		}
	}
	if !passwordComplex(in.PasswordProfile.Password) {
		return badRequest("The specified password does not comply with password complexity requirements. Please provide a different password.")
	}
	upn := *in.UserPrincipalName
	local, domain, ok := strings.Cut(upn, "@")
	if !ok || local == "" || domain == "" {
		return badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
	}
	rest := map[string]json.RawMessage{}
	for k, v := range raw {
		switch k {
		case "accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile", "passwordPolicies", "@odata.type":
		default:
			rest[k] = v
		}
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	t := rq.t
	if !strings.EqualFold(domain, t.Domain) {
		return badRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
	}
	if t.userByUPN[strings.ToLower(upn)] != nil {
		e := badRequest("Another object with the same value for property userPrincipalName already exists.")
		e.details = []map[string]string{{"target": "userPrincipalName", "code": "ObjectConflict"}}
		return e
	}
	u := &user{ID: t.gen.guid(), UserPrincipalName: upn, DisplayName: *in.DisplayName, AccountEnabled: *in.AccountEnabled,
		Created: rq.s.now(), Password: in.PasswordProfile.Password}
	if err := applyUserPatch(u, rest, false); err != nil {
		return err
	}
	if u.Mail == "" {
		u.Mail = upn // Exchange gives a licensed mailbox this address; close enough
	}
	t.insertUser(u, true)
	body := obj{{"@odata.context", rq.context("users/$entity")}}
	rq.json(201, append(body, render(u.get, fullUserProps)...))
	return nil
}

// deleteUserSoft is DELETE /users/{id}: the user moves to deleted items,
// its userPrincipalName prefixed with its id (without dashes) as Entra
// does, freeing the name.
func (rq *req) deleteUserSoft() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	t := rq.t
	d := &deletedObject{at: rq.s.now(), user: u, upn: u.UserPrincipalName, licences: slices.Clone(u.Licenses)}
	for _, g := range t.groups {
		if g.hasMember(u.ID) {
			d.groups = append(d.groups, g.ID)
		}
		if slices.Contains(g.owners, u.ID) {
			d.owned = append(d.owned, g.ID)
		}
	}
	t.deleteUser(u, true)
	u.GroupLicences = nil
	t.deleted = append(t.deleted, d)
	return rq.noContent()
}

// deleteGroupSoft is DELETE /groups/{id}: a Microsoft 365 group moves to
// deleted items; a security group is deleted permanently ("security
// groups cannot be restored", directory-deleteditems-restore).
func (rq *req) deleteGroupSoft() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	g, err := rq.group()
	if err != nil {
		return err
	}
	t := rq.t
	t.deleteGroup(g, g.unified())
	if len(g.Licenses) > 0 {
		t.relicenseGroup(g) // its members lose what it gave them
	}
	if g.unified() {
		t.deleted = append(t.deleted, &deletedObject{at: rq.s.now(), group: g})
	}
	return rq.noContent()
}

func deletedUPN(u *user) string { return strings.ReplaceAll(u.ID, "-", "") + u.UserPrincipalName }

func (rq *req) deletedObj(d *deletedObject, sel []string) obj {
	var all obj
	if d.user != nil {
		u := d.user
		all = obj{{"@odata.type", "#microsoft.graph.user"}, {"id", u.ID}, {"displayName", nullable(u.DisplayName)},
			{"userPrincipalName", deletedUPN(u)}, {"mail", nullable(u.Mail)}, {"givenName", nullable(u.GivenName)},
			{"surname", nullable(u.Surname)}, {"jobTitle", nullable(u.JobTitle)}, {"accountEnabled", u.AccountEnabled},
			{"deletedDateTime", graphTime(d.at)}}
	} else {
		g := d.group
		all = obj{{"@odata.type", "#microsoft.graph.group"}, {"id", g.ID}, {"displayName", g.DisplayName},
			{"description", nullable(g.Description)}, {"mail", nullable(g.Mail)}, {"mailNickname", g.MailNickname},
			{"groupTypes", g.GroupTypes}, {"securityEnabled", g.SecurityEnabled}, {"mailEnabled", g.MailEnabled},
			{"visibility", nullable(g.Visibility)}, {"deletedDateTime", graphTime(d.at)}}
	}
	if len(sel) == 0 {
		return all
	}
	out := obj{all[0]}
	for _, p := range sel {
		if v, ok := all.get(p); ok {
			out = append(out, kv{p, v})
		}
	}
	return out
}

func deletedType(seg string) (string, bool) {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(seg, "microsoft.graph."), "graph.")) {
	case "user":
		return "user", true
	case "group":
		return "group", true
	}
	return "", false
}

// deletedItems is GET /directory/deletedItems/{x}: x is a type cast
// (microsoft.graph.user or .group: the list) or an object id (one item).
func (rq *req) deletedItems() error {
	x := rq.r.PathValue("x")
	var sel []string
	if v := rq.q.Get("$select"); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				sel = append(sel, p)
			}
		}
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	t := rq.t
	t.purgeDeleted(rq.s.now())
	if typ, ok := deletedType(x); ok {
		need := deletedUserRead
		if typ == "group" {
			need = deletedGroupRead
		}
		if !hasAny(rq.granted(), need) {
			return errInsufficient
		}
		var all []*deletedObject
		for _, d := range t.deleted {
			if (typ == "user") == (d.user != nil) {
				all = append(all, d)
			}
		}
		start, end, next, err := rq.offsetPage("d", len(all))
		if err != nil {
			return err
		}
		value := make([]obj, 0, end-start)
		for _, d := range all[start:end] {
			value = append(value, rq.deletedObj(d, sel))
		}
		rq.collection("directory/deletedItems/microsoft.graph."+typ, nil, 0, next, value)
		return nil
	}
	d := t.deletedByID(x)
	if d == nil {
		return notFound(x)
	}
	need := deletedUserRead
	if d.group != nil {
		need = deletedGroupRead
	}
	if !hasAny(rq.granted(), need) {
		return errInsufficient
	}
	body := obj{{"@odata.context", rq.context("directory/deletedItems/$entity")}}
	rq.json(200, append(body, rq.deletedObj(d, sel)...))
	return nil
}

func atoiRange(v string, lo, hi int) (int, error) {
	var n int
	if err := json.Unmarshal([]byte(v), &n); err != nil || n < lo || n > hi {
		return 0, errUnsupportedQuery
	}
	return n, nil
}

// restoreDeleted is POST /directory/deletedItems/{id}/restore. A user comes
// back with its name, licences (while units last) and the memberships of
// groups that still exist; a group with its members.
func (rq *req) restoreDeleted() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	t := rq.t
	d, err := rq.deletedToWrite()
	if err != nil {
		return err
	}
	if u := d.user; u != nil {
		if t.userByUPN[strings.ToLower(d.upn)] != nil {
			e := badRequest("Another object with the same value for property userPrincipalName already exists.")
			e.details = []map[string]string{{"target": "userPrincipalName", "code": "ObjectConflict"}}
			return e
		}
		u.UserPrincipalName = d.upn
		u.Licenses = nil
		for _, l := range d.licences {
			if s := t.skuByID(l.SkuID); s != nil && s.consumed+s.groupOnly < s.Enabled {
				u.Licenses = append(u.Licenses, l)
				s.consumed++
			}
		}
		t.insertUser(u, true)
		for _, gid := range d.groups {
			if g := t.groupByID[gid]; g != nil && g.addMember(u.ID) {
				t.record(change{group: true, id: g.ID, member: u.ID, memberAdded: true})
			}
		}
		for _, gid := range d.owned {
			if g := t.groupByID[gid]; g != nil && !slices.Contains(g.owners, u.ID) {
				g.owners = append(g.owners, u.ID)
			}
		}
	} else {
		g := d.group
		if other := t.groupByNickname(g.MailNickname); other != nil && other.unified() {
			e := badRequest("Another object with the same value for property mailNickname already exists.")
			e.details = []map[string]string{{"target": "mailNickname", "code": "ObjectConflict"}}
			return e
		}
		// Members that were deleted meanwhile do not come back.
		members := g.members
		g.members, g.memberSet = nil, map[string]struct{}{}
		for _, m := range members {
			if t.userByID[m] != nil || t.groupByID[m] != nil {
				g.addMember(m)
			}
		}
		t.insertGroup(g, true)
		if len(g.Licenses) > 0 {
			t.relicenseGroup(g)
		}
	}
	t.deleted = slices.DeleteFunc(t.deleted, func(x *deletedObject) bool { return x == d })
	body := obj{{"@odata.context", rq.context("directoryObjects/$entity")}}
	o := rq.deletedObj(d, nil)
	// The restored object is no longer deleted.
	for i := range o {
		switch o[i].k {
		case "deletedDateTime":
			o[i].v = nil
		case "userPrincipalName":
			o[i].v = d.upn
		}
	}
	rq.json(200, append(body, o...))
	return nil
}

// purgeDeletedItem is DELETE /directory/deletedItems/{id}
// (directory-deleteditems-delete): the object is deleted for good and can
// no longer be restored. The permissions are restore's.
func (rq *req) purgeDeletedItem() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	t := rq.t
	d, err := rq.deletedToWrite()
	if err != nil {
		return err
	}
	t.purge(d)
	return rq.noContent()
}

// getManager is GET /users/{id}/manager.
func (rq *req) getManager() error {
	sel, err := selectFor(rq.q.Get("$select"), userProps, "user")
	if err != nil {
		return err
	}
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	m := rq.t.userByID[u.ManagerID]
	if m == nil {
		return notFound("manager")
	}
	body := obj{{"@odata.context", rq.context("directoryObjects/$entity")}, {"@odata.type", "#microsoft.graph.user"}}
	rq.json(200, append(body, render(m.get, rq.userPropsFor(sel))...))
	return nil
}

// putManager is PUT /users/{id}/manager/$ref {"@odata.id": ".../users/{id}"}.
func (rq *req) putManager() error {
	var in struct {
		ID string `json:"@odata.id"`
	}
	if err := json.NewDecoder(rq.r.Body).Decode(&in); err != nil || in.ID == "" {
		return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	mid, ok := bindID(in.ID)
	if !ok {
		return badRequest("Invalid object identifier '%s'.", in.ID)
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	m := rq.t.userRef(mid)
	if m == nil {
		return notFound(mid)
	}
	if m.ID == u.ID {
		return badRequest("A user cannot be its own manager.")
	}
	if u.ManagerID != m.ID {
		u.ManagerID = m.ID
		rq.t.record(change{id: u.ID, props: []string{"manager"}})
	}
	return rq.noContent()
}

// deleteManager is DELETE /users/{id}/manager/$ref.
func (rq *req) deleteManager() error {
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	if u.ManagerID == "" || rq.t.userByID[u.ManagerID] == nil {
		return notFound("manager")
	}
	u.ManagerID = ""
	rq.t.record(change{id: u.ID, props: []string{"manager"}})
	return rq.noContent()
}

// directReports is GET /users/{id}/directReports.
func (rq *req) directReports() error {
	lq, err := rq.parseList("r", userProps, "user")
	if err != nil {
		return err
	}
	props := rq.userPropsFor(lq.sel)
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	var reports []*user
	for _, x := range rq.t.users {
		if x.ManagerID == u.ID {
			reports = append(reports, x)
		}
	}
	pg := paginate(reports, lq, "r", userOrd, userGetter)
	value := make([]obj, len(pg.items))
	for i, x := range pg.items {
		value[i] = append(obj{{"@odata.type", "#microsoft.graph.user"}}, render(x.get, props)...)
	}
	rq.collection("directoryObjects", lq, pg.count, pg.next, value)
	return nil
}

// deletedToWrite finds the deleted item the path names (after purging
// what has expired) and checks the caller may restore or purge it: the
// permissions for deleted users or deleted groups. The caller holds the
// write lock.
func (rq *req) deletedToWrite() (*deletedObject, error) {
	id := rq.r.PathValue("id")
	rq.t.purgeDeleted(rq.s.now())
	d := rq.t.deletedByID(id)
	if d == nil {
		return nil, notFound(id)
	}
	need := deletedUserWrite
	if d.group != nil {
		need = deletedGroupWrite
	}
	if !hasAny(rq.granted(), need) {
		return nil, errInsufficient
	}
	return d, nil
}
