package seeddata

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

func TestPeopleDeterministic(t *testing.T) {
	tests := []struct {
		name         string
		seed1, seed2 int64
		wantSame     bool
	}{
		{"same seed", 42, 42, true},
		{"different seed", 42, 43, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := People(tt.seed1, 500), People(tt.seed2, 500)
			if got := cmp.Equal(a, b); got != tt.wantSame {
				t.Errorf("People(%d) == People(%d): got %v, want %v", tt.seed1, tt.seed2, got, tt.wantSame)
			}
		})
	}
}

func TestPeopleShape(t *testing.T) {
	const n = 20000
	people := People(7, n)
	if got := len(people); got != n {
		t.Fatalf("len(People) = %d, want %d", got, n)
	}
	// Graph accepts user mail nicknames of ASCII letters, digits and
	// single inner dots; the generator only ever makes those.
	aliasRE := regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9]+)*$`)
	aliases := map[string]bool{}
	ids := map[string]bool{}
	disabled, noLocation, nonASCII := 0, 0, 0
	for _, p := range people {
		if !aliasRE.MatchString(p.Alias) || len(p.Alias) > 64 {
			t.Errorf("alias %q of %q is not a valid ASCII mail nickname", p.Alias, p.DisplayName)
		}
		if aliases[p.Alias] {
			t.Errorf("alias %q repeated", p.Alias)
		}
		aliases[p.Alias] = true
		if ids[p.EmployeeID] {
			t.Errorf("employeeId %q repeated", p.EmployeeID)
		}
		ids[p.EmployeeID] = true
		if got, want := p.DisplayName, p.GivenName+" "+p.Surname; got != want {
			t.Errorf("DisplayName = %q, want %q", got, want)
		}
		for _, f := range []string{p.JobTitle, p.Department, p.OfficeLocation, p.CompanyName, p.MobilePhone, p.BusinessPhone, p.City, p.Country} {
			if f == "" {
				t.Fatalf("person %+v has an empty field", p)
			}
		}
		if !p.AccountEnabled {
			disabled++
		}
		if p.UsageLocation == "" {
			noLocation++
		} else if want := countryISO(t, p.Country); p.UsageLocation != want {
			t.Errorf("UsageLocation of %s in %s = %q, want %q", p.DisplayName, p.Country, p.UsageLocation, want)
		}
		if strings.IndexFunc(p.DisplayName, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
			nonASCII++
		}
	}
	share := func(k int) float64 { return float64(k) / n }
	if s := share(disabled); s < 0.02 || s > 0.04 {
		t.Errorf("disabled share = %.3f, want about 0.03", s)
	}
	if s := share(noLocation); s < 0.04 || s > 0.06 {
		t.Errorf("no usageLocation share = %.3f, want about 0.05", s)
	}
	if s := share(nonASCII); s < 0.1 {
		t.Errorf("non-ASCII display name share = %.3f, want at least 0.1", s)
	}
}

func countryISO(tb testing.TB, country string) string {
	tb.Helper()
	for _, s := range sites {
		if s.country == country {
			return s.iso
		}
	}
	tb.Fatalf("unknown country %q", country)
	return ""
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Zoë", "zoe"}, {"José", "jose"}, {"Łukasz", "lukasz"}, {"Siobhán", "siobhan"},
		{"O'Brien", "obrien"}, {"Weiß", "weiss"}, {"Øystein", "oystein"}, {"van der Berg", "vanderberg"},
		{"Ó Súilleabháin", "osuilleabhain"}, {"Nguyễn", "nguyen"}, {"Çağrı", "cagri"}, {"İstanbul", "istanbul"},
		{"王", "user"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := fold(tt.in); got != tt.want {
				t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNamesFoldCompletely guards the name lists: every letter in them must
// have an ASCII spelling, or aliases would silently lose letters.
func TestNamesFoldCompletely(t *testing.T) {
	var all []string
	all = append(all, givenNames...)
	all = append(all, surnames...)
	for _, s := range sites {
		all = append(all, s.city)
	}
	for _, name := range all {
		for _, r := range name {
			if unicode.IsLetter(r) && r > unicode.MaxASCII && foldRune(r) == "" {
				t.Errorf("%q: letter %q has no ASCII fold", name, r)
			}
		}
	}
	for _, want := range []string{"Zoë", "José", "Łukasz", "Siobhán"} {
		if !contains(givenNames, want) {
			t.Errorf("givenNames lacks %q", want)
		}
	}
	if !contains(surnames, "O'Brien") {
		t.Errorf("surnames lacks O'Brien")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUniqueAlias(t *testing.T) {
	seen := map[string]int{}
	var got []string
	for _, base := range []string{"adele.vance", "adele.vance", "adele.vance2", "adele.vance", "alex"} {
		got = append(got, uniqueAlias(seen, base))
	}
	want := []string{"adele.vance", "adele.vance2", "adele.vance22", "adele.vance3", "alex"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("aliases mismatch (-want +got):\n%s", diff)
	}
}

func TestGroups(t *testing.T) {
	nickRE := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	tests := []struct {
		n, users int
	}{
		{1, 10}, {5, 0}, {25, 1000}, {300, 5000}, {600, 100},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			groups := Groups(3, tt.n, tt.users)
			if got := len(groups); got != tt.n {
				t.Fatalf("len(Groups(%d, %d)) = %d, want %d", tt.n, tt.users, got, tt.n)
			}
			if diff := cmp.Diff(groups, Groups(3, tt.n, tt.users)); diff != "" {
				t.Errorf("Groups not deterministic (-first +second):\n%s", diff)
			}
			all := groups[0]
			if all.DisplayName != "All Company" || !all.Unified {
				t.Errorf("first group = %+v, want the Unified All Company group", all)
			}
			if lo, hi := tt.users*55/100, tt.users*65/100+1; all.Size < lo || all.Size > hi {
				t.Errorf("All Company size = %d, want between %d and %d", all.Size, lo, hi)
			}
			names, nicks := map[string]bool{}, map[string]bool{}
			unified := 0
			for _, g := range groups {
				if names[g.DisplayName] {
					t.Errorf("display name %q repeated", g.DisplayName)
				}
				names[g.DisplayName] = true
				if nicks[strings.ToLower(g.MailNickname)] || !nickRE.MatchString(g.MailNickname) {
					t.Errorf("mailNickname %q repeated or invalid", g.MailNickname)
				}
				nicks[strings.ToLower(g.MailNickname)] = true
				if g.Size < 0 || g.Size > tt.users {
					t.Errorf("%q size %d outside [0, %d]", g.DisplayName, g.Size, tt.users)
				}
				if g.Unified {
					unified++
					if g.Visibility != "Public" && g.Visibility != "Private" {
						t.Errorf("%q visibility %q, want Public or Private", g.DisplayName, g.Visibility)
					}
				} else if g.Visibility != "" {
					t.Errorf("security group %q visibility %q, want empty", g.DisplayName, g.Visibility)
				}
				if g.Description == "" {
					t.Errorf("%q has no description", g.DisplayName)
				}
			}
			if tt.n >= 25 && (unified == 0 || unified == tt.n) {
				t.Errorf("unified groups = %d of %d, want a mix", unified, tt.n)
			}
		})
	}
	if got := Groups(1, 0, 10); len(got) != 0 {
		t.Errorf("Groups(n=0) = %v, want none", got)
	}
}

func TestSKUs(t *testing.T) {
	guidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	skus := SKUs()
	byPart := map[string]SKU{}
	planIDs := map[string]string{}
	for _, s := range skus {
		if !guidRE.MatchString(s.SkuID) {
			t.Errorf("%s skuId %q is not a lower-case GUID", s.SkuPartNumber, s.SkuID)
		}
		if s.AppliesTo != "User" || s.ProductName == "" || len(s.ServicePlans) < 2 {
			t.Errorf("%s = %+v, want User, a product name and several plans", s.SkuPartNumber, s)
		}
		byPart[s.SkuPartNumber] = s
		for _, p := range s.ServicePlans {
			if !guidRE.MatchString(p.ID) {
				t.Errorf("%s plan %s id %q is not a GUID", s.SkuPartNumber, p.Name, p.ID)
			}
			if id, ok := planIDs[p.Name]; ok && id != p.ID {
				t.Errorf("plan %s has ids %s and %s", p.Name, id, p.ID)
			}
			planIDs[p.Name] = p.ID
		}
	}
	for part, id := range map[string]string{
		"ENTERPRISEPACK":        "6fd2c87f-b296-42f0-b197-1e91e994b900",
		"SPE_E5":                "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
		"SPE_E3":                "05e9a617-0261-4cee-bb44-138d3ef5d965",
		"ENTERPRISEPREMIUM":     "c7df2760-2c81-4ef7-b578-5b5392b571df",
		"FLOW_FREE":             "f30db892-07e9-47e9-837c-80727f46fd3d",
		"POWER_BI_STANDARD":     "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235",
		"EMS":                   "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
		"O365_BUSINESS_PREMIUM": "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
		"SPB":                   "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
	} {
		if got := byPart[part].SkuID; got != id {
			t.Errorf("%s skuId = %q, want %q", part, got, id)
		}
	}
	for name, id := range map[string]string{
		"EXCHANGE_S_ENTERPRISE": "efb87545-963c-4e0d-99df-69c6916d9eb0",
		"SHAREPOINTENTERPRISE":  "5dbe027f-2339-4123-9542-606e4d348a72",
		"TEAMS1":                "57ff2da0-773e-42df-b2af-ffb7a2317929",
	} {
		if got := planIDs[name]; got != id {
			t.Errorf("plan %s id = %q, want %q", name, got, id)
		}
	}
	skus[0].ServicePlans[0].Name = "MUTATED"
	if SKUs()[0].ServicePlans[0].Name == "MUTATED" {
		t.Error("SKUs() shares service plan slices between calls")
	}
}

func BenchmarkPeople(b *testing.B) {
	for b.Loop() {
		People(1, 100_000)
	}
}

func BenchmarkGroups(b *testing.B) {
	for b.Loop() {
		Groups(1, 500, 100_000)
	}
}
