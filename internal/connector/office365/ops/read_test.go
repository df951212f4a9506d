package ops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

func TestUserList(t *testing.T) {
	// 2,100 users are three of Graph's 999-user pages.
	tn := startTenant(t, tenantOpts{users: 2100, groups: 1})
	zoe := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("zoe.adams"), "displayName": "Zoë Adams",
		"givenName": "Zoë", "surname": "Adams", "jobTitle": "Engineer", "department": "R&D", "officeLocation": "Dublin 2",
		"companyName": "Contoso", "employeeId": "E-42", "mobilePhone": "+353 1 555 0100",
		"businessPhones": []string{"+353 1 555 0101", "+353 1 555 0102"}, "city": "Dublin", "country": "Ireland",
		"usageLocation": "IE", "accountEnabled": false})
	all := tn.users(t)

	tests := []struct {
		name      string
		in        map[string]any
		wantCount int
		wantPages int
	}{
		{"every user across pages", nil, len(all), 3},
		{"maxRows within a page", map[string]any{"maxRows": 5.0}, 5, 1},
		{"maxRows across pages", map[string]any{"maxRows": "1500"}, 1500, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tn.sim.Stats().Routes["GET /v1.0/users"]
			items := run(t, tn.env(false), UserList, tt.in)
			if len(items) != tt.wantCount {
				t.Errorf("got %d users, want %d", len(items), tt.wantCount)
			}
			if got := tn.sim.Stats().Routes["GET /v1.0/users"] - before; got != tt.wantPages {
				t.Errorf("got %d page requests, want %d", got, tt.wantPages)
			}
			seen := map[any]bool{}
			for _, it := range items {
				if seen[it["id"]] {
					t.Fatalf("user %v listed twice", it["id"])
				}
				seen[it["id"]] = true
			}
		})
	}

	items := run(t, tn.env(false), UserList, nil)
	want := connector.Item{"id": zoe, "userPrincipalName": tn.upn("zoe.adams"), "displayName": "Zoë Adams",
		"givenName": "Zoë", "surname": "Adams", "mail": tn.upn("zoe.adams"), "jobTitle": "Engineer", "department": "R&D",
		"officeLocation": "Dublin 2", "companyName": "Contoso", "employeeId": "E-42", "mobilePhone": "+353 1 555 0100",
		"businessPhone": "+353 1 555 0101", "city": "Dublin", "country": "Ireland", "usageLocation": "IE", "accountEnabled": false}
	last := items[len(items)-1]
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("user record (-want +got):\n%s", diff)
	}
	if got, want := len(last), len(userOutputs); got != want {
		t.Errorf("got %d fields, want the %d declared outputs", got, want)
	}
}

func TestStreamStopsOnCallerError(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 2100, groups: 1})
	stop := tenantlink.Errorf(tenantlink.EINTERNAL, "client went away")
	pages := 0
	err := Stream(context.Background(), tn.env(false), UserList, nil, func(p []connector.Item) error {
		pages++
		return stop
	})
	if err != stop {
		t.Errorf("got %v, want the caller's error back unchanged", err)
	}
	if pages != 1 {
		t.Errorf("got %d pages delivered, want 1", pages)
	}
}

func TestFindUsers(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 30, groups: 1})
	obrien := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("sean.obrien"), "displayName": "Seán O'Brien",
		"givenName": "Seán", "surname": "O'Brien", "department": "Skunkworks", "jobTitle": "Analyst"})
	zoe := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("zoe.adams"), "displayName": "Zoë Adams",
		"givenName": "Zoë", "surname": "Adams", "department": "Skunkworks", "jobTitle": "Engineer"})
	tricky := tn.addUser(t, map[string]any{"userPrincipalName": tn.upn("quote"), "displayName": "x') or startswith(displayName,'"})

	tests := []struct {
		name string
		in   map[string]any
		want []string
	}{
		{"startsWith with a quote", map[string]any{"query": "Seán O'Br"}, []string{obrien}},
		{"surname equals with a quote", map[string]any{"query": "o'brien", "field": "surname", "match": "equals"}, []string{obrien}},
		{"non-ASCII prefix", map[string]any{"query": "Zoë"}, []string{zoe}},
		{"ASCII is not the accented name", map[string]any{"query": "Zoe A"}, nil},
		{"mail equals", map[string]any{"query": tn.upn("zoe.adams"), "field": "mail", "match": "equals"}, []string{zoe}},
		{"userPrincipalName startsWith", map[string]any{"query": "sean.", "field": "userPrincipalName"}, []string{obrien}},
		{"givenName", map[string]any{"query": "Seán", "field": "givenName", "match": "equals"}, []string{obrien}},
		{"contains a word of the display name", map[string]any{"query": "Brien", "match": "contains"}, []string{obrien}},
		{"contains with accents", map[string]any{"query": "adams", "match": "contains"}, []string{zoe}},
		{"injection stays a literal", map[string]any{"query": "x') or startswith(displayName,'"}, []string{tricky}},
		{"no match", map[string]any{"query": "Nobody Here", "match": "equals"}, nil},
		{"maxRows", map[string]any{"query": "skunkworks", "field": "department", "match": "equals", "maxRows": 1.0}, []string{obrien}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := run(t, tn.env(false), FindUsers, tt.in)
			got := strs(items, "id")
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("found ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupListAndFind(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 20, groups: 3})
	m365 := tn.addGroup(t, map[string]any{"displayName": "Zoë's Project", "description": "Launch planning for Q3", "unified": true, "mailNickname": "zoesproject"})
	sec := tn.addGroup(t, map[string]any{"displayName": "O'Brien Auditors", "description": "Audit staff"})

	items := run(t, tn.env(false), GroupList, nil)
	if got, want := len(items), 5; got != want {
		t.Fatalf("got %d groups, want %d", got, want)
	}
	byID := map[string]connector.Item{}
	for _, it := range items {
		byID[it["id"].(string)] = it
	}
	wantM365 := connector.Item{"id": m365, "displayName": "Zoë's Project", "description": "Launch planning for Q3",
		"mail": "zoesproject@" + tn.facts.TenantDomain, "mailNickname": "zoesproject", "groupType": "microsoft365",
		"securityEnabled": false, "mailEnabled": true, "visibility": "Public", "createdDateTime": byID[m365]["createdDateTime"]}
	if diff := cmp.Diff(wantM365, byID[m365]); diff != "" {
		t.Errorf("Microsoft 365 group record (-want +got):\n%s", diff)
	}
	if byID[m365]["createdDateTime"] == "" {
		t.Errorf("createdDateTime is empty")
	}
	if got := byID[sec]["groupType"]; got != "security" {
		t.Errorf("security group's groupType = %v, want security", got)
	}
	if got := run(t, tn.env(false), GroupList, map[string]any{"maxRows": 2.0}); len(got) != 2 {
		t.Errorf("GroupList maxRows 2 gave %d groups", len(got))
	}

	finds := []struct {
		name string
		in   map[string]any
		want []string
	}{
		{"startsWith with a quote", map[string]any{"query": "O'Brien"}, []string{sec}},
		{"non-ASCII", map[string]any{"query": "Zoë's"}, []string{m365}},
		{"description contains", map[string]any{"query": "planning", "field": "description", "match": "contains"}, []string{m365}},
		{"mailNickname equals", map[string]any{"query": "zoesproject", "field": "mailNickname", "match": "equals"}, []string{m365}},
		{"mail startsWith", map[string]any{"query": "zoesp", "field": "mail"}, []string{m365}},
	}
	for _, tt := range finds {
		t.Run(tt.name, func(t *testing.T) {
			got := strs(run(t, tn.env(false), FindGroups, tt.in), "id")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("found ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupKinds(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name      string
		types     []string
		mail, sec *bool
		want      string
	}{
		{"unified", []string{"Unified"}, &yes, &no, "microsoft365"},
		{"distribution", nil, &yes, &no, "distribution"},
		{"mail-enabled security", nil, &yes, &yes, "mailEnabledSecurity"},
		{"security", nil, &no, &yes, "security"},
		{"nothing selected", nil, nil, nil, "security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := groupRecordFrom(tt.types, tt.mail, tt.sec)
			if got := g["groupType"]; got != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestLicencePlanList(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 20, groups: 1})
	items := run(t, tn.env(false), LicencePlanList, nil)
	if len(items) < 3 {
		t.Fatalf("got %d plans, want the simulator's catalogue", len(items))
	}
	e3 := items[0]
	if got, want := e3["skuPartNumber"], "ENTERPRISEPACK"; got != want {
		t.Fatalf("first plan %v, want %s", got, want)
	}
	if got, want := e3["productName"], "Office 365 E3"; got != want {
		t.Errorf("productName = %v, want %s", got, want)
	}
	if got, want := e3["availableUnits"], e3["enabledUnits"].(int)-e3["consumedUnits"].(int); got != want {
		t.Errorf("availableUnits = %v, want %d", got, want)
	}
	if got := e3["capabilityStatus"]; got != "Enabled" {
		t.Errorf("capabilityStatus = %v, want Enabled", got)
	}
	if s, _ := e3["servicePlans"].(string); s == "" || !containsWord(s, "EXCHANGE_S_ENTERPRISE") {
		t.Errorf("servicePlans = %q, want a comma-separated list naming EXCHANGE_S_ENTERPRISE", s)
	}
	e5 := items[1]
	if got := e5["availableUnits"]; got != 0 {
		t.Errorf("the fully used plan has availableUnits %v, want 0", got)
	}
}

func containsWord(list, w string) bool {
	for _, x := range splitComma(list) {
		if x == w {
			return true
		}
	}
	return false
}

func TestReadErrors(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 10, groups: 1, roles: []string{"User.Read.All"}})
	_, err := Run(context.Background(), tn.env(false), GroupList, nil)
	wantCode(t, err, tenantlink.EFORBIDDEN, "list groups", "GroupMember.Read.All", "re-authorize")

	tn.ctl(t, http.MethodPost, "/_sim/faults", map[string]any{"path": "^/v1\\.0/users$", "status": 401, "count": 1}, nil)
	_, err = Run(context.Background(), tn.env(false), UserList, nil)
	if !isUnauthorized(err) {
		t.Errorf("got %v, want an error matching graph.ErrUnauthorized", err)
	}

	tn.ctl(t, http.MethodPost, "/_sim/faults", map[string]any{"path": "^/v1\\.0/users$", "status": 429, "count": 0}, nil)
	_, err = Run(context.Background(), tn.env(false), UserList, nil)
	wantCode(t, err, tenantlink.ETOOMANY, "throttling")
	tn.ctl(t, http.MethodDelete, "/_sim/faults", nil, nil)

	// A 503 or 504 that does not clear is an outage, not throttling.
	for _, st := range []int{503, 504} {
		tn.ctl(t, http.MethodPost, "/_sim/faults", map[string]any{"path": "^/v1\\.0/users$", "status": st, "count": 0}, nil)
		_, err = Run(context.Background(), tn.env(false), UserList, nil)
		wantCode(t, err, tenantlink.EUNAVAILABLE, fmt.Sprintf("Microsoft 365 is unavailable right now (HTTP %d from Microsoft Graph) — try again in a few minutes.", st))
		if strings.Contains(tenantlink.ErrorMessage(err), "throttl") {
			t.Errorf("HTTP %d: message %q blames throttling", st, tenantlink.ErrorMessage(err))
		}
		tn.ctl(t, http.MethodDelete, "/_sim/faults", nil, nil)
	}

	tn.ctl(t, http.MethodPost, "/_sim/faults", map[string]any{"path": "^/v1\\.0/users$", "status": 500, "count": 1}, nil)
	_, err = Run(context.Background(), tn.env(false), UserList, nil)
	wantCode(t, err, tenantlink.EUPSTREAM, "try again later")
}
