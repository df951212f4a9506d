package m365sim

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink/m365sim/seeddata"
)

// ids derives object ids from a seeded PRNG so a given seed always yields
// the same tenant, which keeps tests and demos reproducible.
// src is kept so a saved tenant resumes the same stream (persist.go)
// instead of handing out ids again.
type ids struct {
	r   *rand.Rand
	src *rand.PCG
}

func newIDs(seed int64, stream uint64) *ids {
	src := rand.NewPCG(uint64(seed), stream)
	return &ids{r: rand.New(src), src: src}
}

func (g *ids) guid() string {
	var b [16]byte
	lo, hi := g.r.Uint64(), g.r.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(lo >> (8 * i))
		b[8+i] = byte(hi >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// password returns a sign-in password that satisfies Entra's complexity
// rules (three of four character classes).
func (g *ids) password() string {
	const letters = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 0, 16)
	for i := 0; i < 12; i++ {
		b = append(b, letters[g.r.IntN(len(letters))])
	}
	b = append(b, byte('2'+g.r.IntN(8)), '!', 'A', 'z')
	return string(b)
}

func (g *ids) secret() string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-"
	b := make([]byte, 40)
	for i := range b {
		b[i] = chars[g.r.IntN(len(chars))]
	}
	return string(b)
}

// Directory role template ids are fixed across all tenants.
var roleTemplates = map[string]string{
	"Global Administrator":          "62e90394-69f5-4237-9190-012177145e10",
	"User Administrator":            "fe930be7-5e62-47db-91af-98c3a49a38b1",
	"Groups Administrator":          "fdd7a751-b60b-444a-984c-02652fe8fa1c",
	"License Administrator":         "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
	"Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
}

// seedSpec is what seeding needs beyond the tenant's identity.
type seedSpec struct {
	users, groups  int
	adminPassword  string
	memberPassword string
	now            time.Time
}

// fallbackSKUs keeps the simulator useful while seeddata's catalogue is
// empty; seeddata.SKUs wins whenever it returns something.
func fallbackSKUs() []seeddata.SKU {
	return []seeddata.SKU{
		{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", SkuPartNumber: "ENTERPRISEPACK", ProductName: "Office 365 E3", AppliesTo: "User",
			ServicePlans: []seeddata.ServicePlan{{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"}, {ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"}, {ID: "57ff2da0-773e-42df-b2af-ffb7a2317929", Name: "TEAMS1"}}},
		{SkuID: "c7df2760-2c81-4ef7-b578-5b5392b571df", SkuPartNumber: "ENTERPRISEPREMIUM", ProductName: "Office 365 E5", AppliesTo: "User",
			ServicePlans: []seeddata.ServicePlan{{ID: "8c098270-9dd4-4350-9b30-ba4703f3b36b", Name: "ADALLOM_S_O365"}, {ID: "9f431833-0334-42de-a7dc-70aa40db46db", Name: "LOCKBOX_ENTERPRISE"}}},
		{SkuID: "f30db892-07e9-47e9-837c-80727f46fd3d", SkuPartNumber: "FLOW_FREE", ProductName: "Microsoft Power Automate Free", AppliesTo: "User",
			ServicePlans: []seeddata.ServicePlan{{ID: "50e68c76-46c6-4674-81f9-75456511b170", Name: "FLOW_P2_VIRAL"}}},
	}
}

// seedTenant fills t from seeddata. It returns the administrator and the
// non-administrator member it created.
func seedTenant(t *tenant, sp seedSpec) (admin, member *user) {
	g := newIDs(t.seed, 1)
	domain := t.Domain
	base := sp.now.Add(-365 * 24 * time.Hour).UTC().Truncate(time.Second)
	company := t.DisplayName

	admin = &user{
		ID: g.guid(), UserPrincipalName: "admin@" + domain, Mail: "admin@" + domain,
		DisplayName: "MOD Administrator", GivenName: "MOD", Surname: "Administrator",
		JobTitle: "IT Administrator", Department: "IT", CompanyName: company,
		UsageLocation: "US", Country: "United States", City: "Redmond", PreferredLanguage: "en-US",
		AccountEnabled: true, Created: base, Password: sp.adminPassword,
		Roles: []string{"Global Administrator"}, BusinessPhones: []string{"+1 425 555 0100"},
	}
	t.insertUser(admin, false)
	member = &user{
		ID: g.guid(), UserPrincipalName: "megan.bowen@" + domain, Mail: "megan.bowen@" + domain,
		DisplayName: "Megan Bowen", GivenName: "Megan", Surname: "Bowen",
		JobTitle: "Marketing Manager", Department: "Marketing", OfficeLocation: "12/1110", CompanyName: company,
		UsageLocation: "US", Country: "United States", City: "Pittsburgh", PreferredLanguage: "en-US",
		MobilePhone: "+1 412 555 0109", BusinessPhones: []string{"+1 412 555 0109"},
		AccountEnabled: true, Created: base.Add(time.Minute), Password: sp.memberPassword,
	}
	t.insertUser(member, false)

	n := sp.users - 2
	if n < 0 {
		n = 0
	}
	people := seeddata.People(t.seed, n)
	t.users = growUsers(t.users, len(people))
	// One backing array for all seeded users keeps 100k-user seeding to a
	// handful of allocations.
	block := make([]user, len(people))
	for i, p := range people {
		alias := strings.ToLower(p.Alias)
		if alias == "" {
			alias = fmt.Sprintf("user%d", i+1)
		}
		upn := alias + "@" + domain
		if _, taken := t.userByUPN[upn]; taken {
			upn = fmt.Sprintf("%s%d@%s", alias, i+1, domain)
		}
		display := p.DisplayName
		if display == "" {
			display = strings.TrimSpace(p.GivenName + " " + p.Surname)
		}
		if display == "" {
			display = alias
		}
		u := &block[i]
		*u = user{
			ID: g.guid(), UserPrincipalName: upn, Mail: upn, DisplayName: display,
			GivenName: p.GivenName, Surname: p.Surname, JobTitle: p.JobTitle, Department: p.Department,
			OfficeLocation: p.OfficeLocation, CompanyName: p.CompanyName, EmployeeID: p.EmployeeID,
			MobilePhone: p.MobilePhone, City: p.City, Country: p.Country, UsageLocation: p.UsageLocation,
			PreferredLanguage: "en-US", AccountEnabled: p.AccountEnabled || isZeroPerson(p),
			Created: base.Add(time.Duration(i+2) * time.Minute),
		}
		if p.BusinessPhone != "" {
			u.BusinessPhones = []string{p.BusinessPhone}
		}
		t.insertUser(u, false)
	}

	seedSKUs(t, g)
	seedGroups(t, g, sp.groups, base)
	return admin, member
}

func isZeroPerson(p seeddata.Person) bool { return p == seeddata.Person{} }

func growUsers(s []*user, n int) []*user {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]*user, len(s), len(s)+n)
	copy(out, s)
	return out
}

// seedSKUs subscribes the tenant to the catalogue with limited units: the
// first SKU covers most users and is partly consumed, the second is fully
// consumed so "no licences left" is reachable, the rest are roomy.
func seedSKUs(t *tenant, g *ids) {
	cat := seeddata.SKUs()
	if len(cat) == 0 {
		cat = fallbackSKUs()
	}
	nUsers := len(t.users)
	for i, c := range cat {
		s := &sku{SkuID: c.SkuID, SkuPartNumber: c.SkuPartNumber, ProductName: c.ProductName, AppliesTo: c.AppliesTo, SubscriptionID: g.guid()}
		if s.AppliesTo == "" {
			s.AppliesTo = "User"
		}
		for _, p := range c.ServicePlans {
			s.Plans = append(s.Plans, servicePlan{ID: p.ID, Name: p.Name, AppliesTo: "User"})
		}
		switch i {
		case 0:
			s.Enabled = nUsers * 4 / 5
		case 1:
			s.Enabled = min(2, nUsers)
		default:
			s.Enabled = nUsers + 100
		}
		t.skus = append(t.skus, s)
	}
	if len(t.skus) == 0 {
		return
	}
	// Licence the administrator and the first users that have a usage
	// location, leaving room in the first SKU.
	first := t.skus[0]
	want := nUsers * 3 / 5
	for _, u := range t.users {
		if first.consumed >= want || first.consumed >= first.Enabled {
			break
		}
		if u.UsageLocation == "" {
			continue
		}
		u.Licenses = append(u.Licenses, assignedLicense{SkuID: first.SkuID, DisabledPlans: []string{}})
		first.consumed++
	}
	if len(t.skus) > 1 {
		second := t.skus[1]
		for _, u := range t.users {
			if second.consumed >= second.Enabled {
				break
			}
			if u.UsageLocation == "" {
				continue
			}
			u.Licenses = append(u.Licenses, assignedLicense{SkuID: second.SkuID, DisabledPlans: []string{}})
			second.consumed++
		}
	}
}

func seedGroups(t *tenant, g *ids, n int, base time.Time) {
	specs := seeddata.Groups(t.seed, n, len(t.users))
	r := rand.New(rand.NewPCG(uint64(t.seed), 2))
	for i, sp := range specs {
		name := sp.DisplayName
		if name == "" {
			name = fmt.Sprintf("Group %d", i+1)
		}
		nick := sp.MailNickname
		if nick == "" {
			nick = nicknameFrom(name)
		}
		if t.groupByNickname(nick) != nil {
			nick = fmt.Sprintf("%s%d", nick, i+1)
		}
		gr := &group{
			ID: g.guid(), DisplayName: name, MailNickname: nick,
			Visibility: sp.Visibility, Created: base.Add(time.Duration(i) * time.Hour),
			GroupTypes: []string{}, memberSet: map[string]struct{}{},
		}
		if sp.Description != "" {
			gr.Description = sp.Description
		}
		if sp.Unified {
			gr.GroupTypes = []string{"Unified"}
			gr.MailEnabled = true
			gr.Mail = nick + "@" + t.Domain
			if gr.Visibility == "" {
				gr.Visibility = "Public"
			}
		} else {
			gr.SecurityEnabled = true
			gr.Visibility = ""
		}
		size := sp.Size
		if size <= 0 {
			size = min(len(t.users), 5+i*3)
		}
		size = min(size, len(t.users))
		if size > 0 {
			start := r.IntN(len(t.users))
			step := 1 + r.IntN(3)
			if size*step > len(t.users) {
				step = 1
			}
			for k := 0; len(gr.members) < size && k < len(t.users)*step; k++ {
				gr.addMember(t.users[(start+k*step)%len(t.users)].ID)
			}
		}
		if len(t.users) > 0 {
			gr.owners = []string{t.users[0].ID}
		}
		t.insertGroup(gr, false)
	}
}

// nicknameFrom derives a mail nickname the way the Microsoft 365 admin
// centre suggests one: the display name without characters Graph forbids.
func nicknameFrom(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 128 && r > ' ' && !strings.ContainsRune(`@()\[]";:.<>,`, r) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "group"
	}
	return b.String()
}
