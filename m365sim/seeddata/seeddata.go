// Package seeddata owns the simulator's deterministic, realistic tenant
// content: people with names from many cultures, groups of realistic names
// and sizes, and the licence catalogue with Microsoft's real identifiers.
// The same seed always yields the same tenant, so tests and demos can name
// the people and groups they expect.
package seeddata

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
)

// Person is one generated member of the tenant.
type Person struct {
	GivenName, Surname, DisplayName, Alias                        string // Alias: ASCII mail nickname, unique within one People() call
	JobTitle, Department, OfficeLocation, CompanyName, EmployeeID string
	MobilePhone, BusinessPhone                                    string
	City, Country, UsageLocation                                  string // UsageLocation: ISO 3166 alpha-2 of Country, "" for about 5%
	AccountEnabled                                                bool   // false for about 3%
}

// CompanyName is the organisation every generated person works for.
const CompanyName = "Contoso"

// Shares of people generated without a usage location (who cannot be
// licensed until one is set) and with a disabled account, per thousand.
const (
	noUsageLocationPerMille = 50
	disabledPerMille        = 30
)

// newRand returns the generator for one stream; the stream constant keeps
// People and Groups independent for the same seed.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// People returns n people, deterministic for (seed, n).
func People(seed int64, n int) []Person {
	if n <= 0 {
		return []Person{}
	}
	r := newRand(seed, 0x9e3779b97f4a7c15)
	deptPick := weights(len(departments), func(i int) int { return departments[i].weight })
	sitePick := weights(len(sites), func(i int) int { return sites[i].weight })
	people := make([]Person, n)
	aliases := make(map[string]int, n)
	givenFold, surFold := foldedNames()
	for i := range people {
		gi, si := r.IntN(len(givenNames)), r.IntN(len(surnames))
		given, sur := givenNames[gi], surnames[si]
		d := departments[deptPick(r)]
		s := sites[sitePick(r)]
		// Most people hold the common titles; the senior ones are rare.
		ti := r.IntN(len(d.titles))
		if ti >= len(d.titles)-2 && r.IntN(4) != 0 {
			ti = r.IntN(len(d.titles) - 2)
		}
		p := Person{
			GivenName:      given,
			Surname:        sur,
			DisplayName:    given + " " + sur,
			Alias:          uniqueAlias(aliases, givenFold[gi]+"."+surFold[si]),
			JobTitle:       d.titles[ti],
			Department:     d.name,
			OfficeLocation: strconv.Itoa(1+r.IntN(40)) + "/" + strconv.Itoa(1000+r.IntN(3000)),
			CompanyName:    CompanyName,
			EmployeeID:     strconv.Itoa(100000 + i),
			MobilePhone:    phone(r, s.dial),
			BusinessPhone:  phone(r, s.dial),
			City:           s.city,
			Country:        s.country,
			UsageLocation:  s.iso,
			AccountEnabled: true,
		}
		if r.IntN(1000) < noUsageLocationPerMille {
			p.UsageLocation = ""
		}
		if r.IntN(1000) < disabledPerMille {
			p.AccountEnabled = false
		}
		people[i] = p
	}
	return people
}

// phone formats "+<country> <area> NNN NNNN" without fmt, which dominated
// the cost of People.
func phone(r *rand.Rand, dial string) string {
	b := make([]byte, 0, len(dial)+9)
	b = append(b, dial...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(100+r.IntN(900)), 10)
	b = append(b, ' ')
	x := r.IntN(10000)
	b = append(b, byte('0'+x/1000), byte('0'+x/100%10), byte('0'+x/10%10), byte('0'+x%10))
	return string(b)
}

// foldedNames returns the alias spelling of every given name and surname,
// computed once per call rather than once per person.
func foldedNames() (given, sur []string) {
	given = make([]string, len(givenNames))
	for i, g := range givenNames {
		given[i] = fold(g)
	}
	sur = make([]string, len(surnames))
	for i, s := range surnames {
		sur[i] = fold(s)
	}
	return given, sur
}

// weights returns a picker of an index in [0,n) with the given weights.
func weights(n int, w func(int) int) func(*rand.Rand) int {
	cum := make([]int, n)
	total := 0
	for i := range n {
		total += w(i)
		cum[i] = total
	}
	return func(r *rand.Rand) int {
		x := r.IntN(total)
		for i, c := range cum {
			if x < c {
				return i
			}
		}
		return n - 1
	}
}

// fold turns a name into the lower-case ASCII letters and digits a mail
// nickname may hold: "Łukasz" → "lukasz", "O'Brien" → "obrien",
// "van der Berg" → "vanderberg".
func fold(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r > unicode.MaxASCII:
			b.WriteString(foldRune(r))
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

// uniqueAlias returns base, or base2, base3… when base is taken. seen maps
// each base to the last suffix handed out, so repeats cost O(1).
func uniqueAlias(seen map[string]int, base string) string {
	if _, taken := seen[base]; !taken {
		seen[base] = 1
		return base
	}
	for n := seen[base] + 1; ; n++ {
		alias := base + strconv.Itoa(n)
		if _, taken := seen[alias]; !taken {
			seen[base] = n
			seen[alias] = 1
			return alias
		}
	}
}

// foldRune is the ASCII spelling of one non-ASCII rune, "" if it has none.
func foldRune(r rune) string {
	if l := unicode.ToLower(r); l <= unicode.MaxASCII {
		return string(l)
	} else {
		return asciiFold[l]
	}
}

// GroupSpec describes one generated group. Visibility is "Public" or
// "Private" for Microsoft 365 (Unified) groups and "" (null at Graph) for
// security groups. Size is how many of the tenant's users should be members.
type GroupSpec struct {
	DisplayName, Description, MailNickname, Visibility string
	Unified                                            bool
	Size                                               int
}

// Groups returns n groups for a tenant of users people: a mix of Microsoft
// 365 and security groups with realistic names, unique display names and
// mail nicknames, and sizes that never exceed users. The first group is
// "All Company" with about 60% of users.
func Groups(seed int64, n, users int) []GroupSpec {
	if n <= 0 {
		return []GroupSpec{}
	}
	if users < 0 {
		users = 0
	}
	r := newRand(seed, 0xd1b54a32d192ed03)
	out := make([]GroupSpec, 0, n)
	names := map[string]bool{}
	nicks := map[string]int{}
	add := func(name, desc string, unified bool, size int) {
		if names[name] {
			return
		}
		names[name] = true
		vis := ""
		if unified {
			vis = "Public"
			if r.IntN(3) == 0 {
				vis = "Private"
			}
		}
		out = append(out, GroupSpec{
			DisplayName:  name,
			Description:  desc,
			MailNickname: uniqueAlias(nicks, nickname(name)),
			Visibility:   vis,
			Unified:      unified,
			Size:         min(max(size, 0), users),
		})
	}
	share := func(lo, hi float64) int {
		return int(float64(users) * (lo + r.Float64()*(hi-lo)))
	}

	add("All Company", "Everyone at "+CompanyName+". Company-wide announcements and conversations.", true, users*58/100+r.IntN(users*4/100+1))

	// Candidates in a seed-dependent order, most realistic kinds first.
	var cands []func()
	for _, d := range departments {
		cands = append(cands, func() {
			add(d.name, "Members of the "+d.name+" department.", true, share(0.02, 0.15))
		})
	}
	for _, name := range secGroups {
		cands = append(cands, func() {
			add(name, "Security group used for access policy: "+name+".", false, share(0.005, 0.2))
		})
	}
	for _, c := range codenames {
		for _, f := range projectFmt {
			cands = append(cands, func() {
				name := fmt.Sprintf(f, c)
				add(name, "Collaboration space for "+name+".", true, 3+r.IntN(25))
			})
		}
	}
	for _, d := range departments {
		for _, reg := range regions {
			cands = append(cands, func() {
				add(d.name+" - "+reg, d.name+" team for the "+reg+" region.", r.IntN(4) != 0, share(0.005, 0.04))
			})
		}
	}
	for _, s := range sites {
		cands = append(cands, func() {
			add(s.city+" Office", "Everyone based in the "+s.city+" office.", true, share(0.01, 0.08))
		})
	}
	for _, c := range socialClub {
		cands = append(cands, func() {
			add(c, "Community group: "+c+".", true, 5+r.IntN(40))
		})
	}
	// Keep the leading department groups first, shuffle the rest so small
	// n still gives a mix of kinds.
	head := len(departments) / 2
	rest := cands[head:]
	r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	for _, c := range cands {
		if len(out) >= n {
			break
		}
		c()
	}
	// Beyond the catalogue, number further project teams.
	for k := 2; len(out) < n; k++ {
		for _, c := range codenames {
			if len(out) >= n {
				break
			}
			add(fmt.Sprintf("Project %s %d", c, k), "Collaboration space for a follow-up project.", true, 3+r.IntN(25))
		}
	}
	return out
}

// nickname derives a mailNickname: ASCII letters and digits only, since
// Graph refuses @ ( ) \ [ ] " ; : . < > , and spaces in it.
func nickname(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-' || r == '_':
			b.WriteRune(r)
		case r > unicode.MaxASCII:
			b.WriteString(foldRune(r))
		}
	}
	s := strings.Trim(b.String(), "-_")
	if s == "" {
		s = "group"
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}
