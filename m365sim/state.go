package m365sim

import (
	"sort"
	"strings"
	"time"
)

// user is a directory user. Fields hold Graph property values; empty strings
// render as JSON null the way Graph renders unset string properties.
type user struct {
	ord               int64 // insertion order; paging resumes after it
	ID                string
	UserPrincipalName string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	JobTitle          string
	Department        string
	OfficeLocation    string
	CompanyName       string
	EmployeeID        string
	MobilePhone       string
	BusinessPhones    []string
	City              string
	Country           string
	UsageLocation     string
	PreferredLanguage string
	AccountEnabled    bool
	Licenses          []assignedLicense
	Created           time.Time
	Password          string // empty: the account cannot sign in with a password
	Roles             []string
	ManagerID         string         // the user's manager (lifecycle.go)
	GroupLicences     []licenceState // licences inherited from groups (grouplicensing.go)
}

type assignedLicense struct {
	SkuID         string
	DisabledPlans []string
}

// group is a directory group. Members keep insertion order in a slice for
// stable paging; the set makes membership checks O(1).
type group struct {
	ord             int64
	ID              string
	DisplayName     string
	Description     string
	Mail            string
	MailNickname    string
	MailEnabled     bool
	SecurityEnabled bool
	GroupTypes      []string
	Visibility      string
	Created         time.Time
	members         []string
	memberSet       map[string]struct{}
	owners          []string
	Licenses        []assignedLicense // group-based licensing (grouplicensing.go)
}

func (g *group) unified() bool {
	for _, t := range g.GroupTypes {
		if strings.EqualFold(t, "Unified") {
			return true
		}
	}
	return false
}

func (g *group) hasMember(id string) bool {
	_, ok := g.memberSet[id]
	return ok
}

func (g *group) addMember(id string) bool {
	if g.hasMember(id) {
		return false
	}
	g.memberSet[id] = struct{}{}
	g.members = append(g.members, id)
	return true
}

func (g *group) removeMember(id string) bool {
	if !g.hasMember(id) {
		return false
	}
	delete(g.memberSet, id)
	for i, m := range g.members {
		if m == id {
			g.members = append(g.members[:i:i], g.members[i+1:]...)
			break
		}
	}
	return true
}

type servicePlan struct{ ID, Name, AppliesTo string }

// sku is a subscribed SKU; consumed is derived from user assignments so it
// can never drift from them.
type sku struct {
	SkuID, SkuPartNumber, ProductName, AppliesTo string
	SubscriptionID                               string
	Enabled                                      int
	Plans                                        []servicePlan
	consumed                                     int
	groupOnly                                    int // users holding it through groups only (grouplicensing.go)
}

// change is one entry of a tenant's change log, which delta queries replay.
type change struct {
	seq     int64
	group   bool
	id      string
	removed bool
	// soft marks a removal that moved the object to deleted items
	// (restorable): Microsoft notifies it as "updated", and only a
	// permanent deletion as "deleted".
	soft bool
	// Membership changes on a group: added (true) or removed (false) user id.
	member      string
	memberAdded bool
	// props names the properties an update changed (Prefer:
	// return=minimal); nil when unknown or for creations: all of them.
	props []string
}

// tenant is one directory. All access goes through Server.mu.
type tenant struct {
	ID, Domain, DisplayName string
	seed                    int64
	users                   []*user // ordered by ord
	userByID                map[string]*user
	userByUPN               map[string]*user // lower-cased UPN and mail
	groups                  []*group
	groupByID               map[string]*group
	skus                    []*sku
	log                     []change
	seq                     int64
	nextOrd                 int64
	created                 time.Time
	gen                     *ids             // ids for objects created after seeding
	onChange                func()           // called on every recorded change (persist.go)
	deleted                 []*deletedObject // directory/deletedItems (lifecycle.go)
	clock                   func() time.Time // the simulator's clock, for licence states

	// onRecord is called with every recorded change (notify.go).
	onRecord func(change)
}

func newTenant(id, domain string, seed int64, created time.Time) *tenant {
	return &tenant{
		ID: id, Domain: domain, seed: seed, created: created,
		DisplayName: displayNameForDomain(domain),
		userByID:    map[string]*user{}, userByUPN: map[string]*user{},
		groupByID: map[string]*group{}, gen: newIDs(seed, 9),
	}
}

func displayNameForDomain(domain string) string {
	name := strings.SplitN(domain, ".", 2)[0]
	if name == "" {
		return domain
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

func (t *tenant) record(c change) {
	t.seq++
	c.seq = t.seq
	t.log = append(t.log, c)
	t.relicenseFor(c) // group-based licensing follows memberships (grouplicensing.go)
	if t.onChange != nil {
		t.onChange()
	}
	if t.onRecord != nil {
		t.onRecord(c)
	}
}

// changesSince returns log entries with seq > since, up to and including upto.
func (t *tenant) changesSince(since, upto int64) []change {
	i := sort.Search(len(t.log), func(i int) bool { return t.log[i].seq > since })
	j := sort.Search(len(t.log), func(i int) bool { return t.log[i].seq > upto })
	return t.log[i:j]
}

func (t *tenant) userRef(idOrUPN string) *user {
	if u, ok := t.userByID[strings.ToLower(idOrUPN)]; ok {
		return u
	}
	return t.userByUPN[strings.ToLower(idOrUPN)]
}

func (t *tenant) insertUser(u *user, logIt bool) {
	t.nextOrd++
	u.ord = t.nextOrd
	t.users = append(t.users, u)
	t.userByID[u.ID] = u
	t.indexUPN(u)
	if logIt {
		t.record(change{id: u.ID})
	}
}

func (t *tenant) indexUPN(u *user) {
	t.userByUPN[strings.ToLower(u.UserPrincipalName)] = u
	if u.Mail != "" && !strings.EqualFold(u.Mail, u.UserPrincipalName) {
		t.userByUPN[strings.ToLower(u.Mail)] = u
	}
}

func (t *tenant) unindexUPN(u *user) {
	for _, k := range []string{u.UserPrincipalName, u.Mail} {
		if k != "" && t.userByUPN[strings.ToLower(k)] == u {
			delete(t.userByUPN, strings.ToLower(k))
		}
	}
}

// deleteUser removes u from the directory; soft when it goes to deleted
// items (restorable), else permanently.
func (t *tenant) deleteUser(u *user, soft bool) {
	for _, g := range t.groups {
		if g.removeMember(u.ID) {
			t.record(change{group: true, id: g.ID, member: u.ID})
		}
		for i, o := range g.owners {
			if o == u.ID {
				g.owners = append(g.owners[:i:i], g.owners[i+1:]...)
				break
			}
		}
	}
	for _, l := range u.Licenses {
		if s := t.skuByID(l.SkuID); s != nil {
			s.consumed--
		}
	}
	i := sort.Search(len(t.users), func(i int) bool { return t.users[i].ord >= u.ord })
	if i < len(t.users) && t.users[i] == u {
		t.users = append(t.users[:i:i], t.users[i+1:]...)
	}
	delete(t.userByID, u.ID)
	t.unindexUPN(u)
	t.record(change{id: u.ID, removed: true, soft: soft})
}

func (t *tenant) insertGroup(g *group, logIt bool) {
	t.nextOrd++
	g.ord = t.nextOrd
	if g.memberSet == nil {
		g.memberSet = map[string]struct{}{}
	}
	t.groups = append(t.groups, g)
	t.groupByID[g.ID] = g
	if logIt {
		t.record(change{group: true, id: g.ID})
		for _, m := range g.members {
			t.record(change{group: true, id: g.ID, member: m, memberAdded: true})
		}
	}
}

// deleteGroup removes g from the directory; soft when it goes to deleted
// items (restorable), else permanently.
func (t *tenant) deleteGroup(g *group, soft bool) {
	for i, x := range t.groups {
		if x == g {
			t.groups = append(t.groups[:i:i], t.groups[i+1:]...)
			break
		}
	}
	delete(t.groupByID, g.ID)
	t.record(change{group: true, id: g.ID, removed: true, soft: soft})
}

func (t *tenant) groupByNickname(nick string) *group {
	for _, g := range t.groups {
		if strings.EqualFold(g.MailNickname, nick) {
			return g
		}
	}
	return nil
}

func (t *tenant) skuByID(id string) *sku {
	for _, s := range t.skus {
		if strings.EqualFold(s.SkuID, id) {
			return s
		}
	}
	return nil
}

// memberOf lists the groups u belongs to, in group order.
func (t *tenant) memberOf(id string) []*group {
	var out []*group
	for _, g := range t.groups {
		if g.hasMember(id) {
			out = append(out, g)
		}
	}
	return out
}
