package m365sim_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
)

// firstWith returns the id of a user matching pred, listing via Graph.
func userIDs(tb testing.TB, s *m365sim.Server, tok string) []map[string]any {
	tb.Helper()
	r := call(tb, "GET", s.URL()+"/v1.0/users?$top=999&$select=id,userPrincipalName,usageLocation,assignedLicenses", tok, nil)
	mustStatus(tb, r, 200)
	return r.values()
}

func TestDocumentedErrors(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 30, Groups: 4, Seed: 7})
	tok := appToken(t, s, allRoles...)
	base := s.URL() + "/v1.0"

	groups := call(t, "GET", base+"/groups", tok, nil)
	mustStatus(t, groups, 200)
	g := groups.values()[0]
	gid := g["id"].(string)
	members := call(t, "GET", base+"/groups/"+gid+"/members?$select=id", tok, nil)
	mustStatus(t, members, 200)
	existing := members.values()[0]["id"].(string)
	users := userIDs(t, s, tok)
	var nonMember string
	memberSet := map[string]bool{}
	for _, m := range members.values() {
		memberSet[m["id"].(string)] = true
	}
	for _, u := range users {
		if !memberSet[u["id"].(string)] {
			nonMember = u["id"].(string)
			break
		}
	}
	skus := call(t, "GET", base+"/subscribedSkus", tok, nil)
	mustStatus(t, skus, 200)
	var fullSku string
	for _, sk := range skus.values() {
		pp := sk["prepaidUnits"].(map[string]any)
		if sk["consumedUnits"].(float64) >= pp["enabled"].(float64) {
			fullSku = sk["skuId"].(string)
		}
	}
	if fullSku == "" {
		t.Fatalf("no fully consumed SKU in %s", skus.raw)
	}
	var unlicensed string
	for _, u := range users {
		if u["usageLocation"] != nil && len(u["assignedLicenses"].([]any)) == 0 {
			unlicensed = u["id"].(string)
			break
		}
	}
	noLoc := call(t, "POST", s.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "noloc", "displayName": "No Location"})
	mustStatus(t, noLoc, 201)
	noLocID := noLoc.body["id"].(string)
	unified := call(t, "POST", base+"/groups", tok, map[string]any{"displayName": "Library", "mailNickname": "library", "mailEnabled": true, "securityEnabled": false, "groupTypes": []string{"Unified"}})
	mustStatus(t, unified, 201)

	ref := func(id string) string { return "https://graph.microsoft.com/v1.0/directoryObjects/" + id }
	var links []string
	for i := 0; i < 21; i++ {
		links = append(links, ref(users[i]["id"].(string)))
	}
	batch := func(n int) map[string]any {
		var reqs []map[string]any
		for i := 0; i < n; i++ {
			reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/users?$top=1"})
		}
		return map[string]any{"requests": reqs}
	}

	tests := []struct {
		name          string
		method, path  string
		body          any
		headers       []string
		status        int
		code, message string
	}{
		{"count segment without ConsistencyLevel", "GET", "/users/$count", nil, nil, 400, "Request_BadRequest", "$count is not currently supported."},
		{"search without ConsistencyLevel", "GET", `/users?$search="displayName:meg"`, nil, nil, 400, "Request_UnsupportedQuery",
			"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"},
		{"advanced filter without $count", "GET", "/users?$filter=" + url.QueryEscape("endswith(mail,'@contoso.onmicrosoft.com')"), nil, []string{"ConsistencyLevel", "eventual"}, 400, "Request_UnsupportedQuery", "Unsupported Query."},
		{"top above 999", "GET", "/users?$top=1000", nil, nil, 400, "Request_BadRequest", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"duplicate member add", "POST", "/groups/" + gid + "/members/$ref", map[string]any{"@odata.id": ref(existing)}, nil, 400, "Request_BadRequest",
			"One or more added object references already exist for the following modified properties: 'members'."},
		{"bulk add with an existing member", "PATCH", "/groups/" + gid, map[string]any{"members@odata.bind": []string{ref(nonMember), ref(existing)}}, nil, 400, "Request_BadRequest",
			"One or more added object references already exist for the following modified properties: 'members'."},
		{"bulk add with 21 links", "PATCH", "/groups/" + gid, map[string]any{"members@odata.bind": links}, nil, 400, "Request_BadRequest", "A resource cannot contain more than 20 link changes"},
		{"create group with 21 links", "POST", "/groups", map[string]any{"displayName": "x", "mailNickname": "x", "mailEnabled": false, "securityEnabled": true, "members@odata.bind": links}, nil, 400, "Request_BadRequest", "A resource cannot contain more than 20 link changes"},
		{"mailNickname duplicate", "POST", "/groups", map[string]any{"displayName": "Library 2", "mailNickname": "library", "mailEnabled": true, "securityEnabled": false, "groupTypes": []string{"Unified"}}, nil, 400, "Request_BadRequest",
			"Another object with the same value for property mailNickname already exists."},
		{"mailNickname invalid", "POST", "/groups", map[string]any{"displayName": "Bad", "mailNickname": "a b", "mailEnabled": false, "securityEnabled": true}, nil, 400, "Request_BadRequest",
			"Invalid value specified for property 'mailNickname' of resource 'Group'."},
		{"assignLicense without usageLocation", "POST", "/users/" + noLocID + "/assignLicense", map[string]any{"addLicenses": []map[string]any{{"skuId": fullSku, "disabledPlans": []string{}}}, "removeLicenses": []string{}}, nil, 400, "Request_BadRequest",
			"License assignment cannot be done for user with invalid usage location."},
		{"assignLicense with no units left", "POST", "/users/" + unlicensed + "/assignLicense", map[string]any{"addLicenses": []map[string]any{{"skuId": fullSku, "disabledPlans": []string{}}}, "removeLicenses": []string{}}, nil, 400, "Request_BadRequest",
			"Subscription with SKU " + fullSku + " does not have any available licenses."},
		{"assignLicense unknown sku", "POST", "/users/" + unlicensed + "/assignLicense", map[string]any{"addLicenses": []map[string]any{{"skuId": "00000000-0000-0000-0000-000000000001"}}, "removeLicenses": []string{}}, nil, 400, "Request_BadRequest",
			"License 00000000-0000-0000-0000-000000000001 does not correspond to a valid company License."},
		{"unknown user", "GET", "/users/00000000-0000-0000-0000-00000000abcd", nil, nil, 404, "Request_ResourceNotFound",
			"Resource '00000000-0000-0000-0000-00000000abcd' does not exist or one of its queried reference-property objects are not present."},
		{"unknown group", "DELETE", "/groups/00000000-0000-0000-0000-00000000abcd", nil, nil, 404, "Request_ResourceNotFound",
			"Resource '00000000-0000-0000-0000-00000000abcd' does not exist or one of its queried reference-property objects are not present."},
		{"remove a non-member", "DELETE", "/groups/" + gid + "/members/" + nonMember + "/$ref", nil, nil, 404, "Request_ResourceNotFound",
			"One or more removed object references do not exist for the following modified properties: 'members'."},
		{"batch over 20", "POST", "/$batch", batch(21), nil, 400, "BadRequest", "Number of requests inside batch exceeds the limit."},
		{"me with an app token", "GET", "/me", nil, nil, 400, "Request_BadRequest", "/me request is only valid with delegated authentication flow."},
		{"no token", "GET", "/users", nil, []string{"Authorization", ""}, 401, "InvalidAuthenticationToken", "Access token is empty."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := tok
			if len(tc.headers) == 2 && tc.headers[0] == "Authorization" {
				token = ""
			}
			r := call(t, tc.method, base+tc.path, token, tc.body, tc.headers...)
			code, msg := r.errorCode()
			got := fmt.Sprintf("%d %s %s", r.status, code, msg)
			want := fmt.Sprintf("%d %s %s", tc.status, tc.code, tc.message)
			if got != want {
				t.Errorf("got %s, want %s (body %s)", got, want, r.raw)
			}
			e, _ := r.body["error"].(map[string]any)
			inner, _ := e["innerError"].(map[string]any)
			if inner["request-id"] != r.header.Get("request-id") || inner["date"] == nil {
				t.Errorf("innerError = %v, want date and request-id %q", inner, r.header.Get("request-id"))
			}
		})
	}

	// The failed bulk add added nothing.
	after := call(t, "GET", base+"/groups/"+gid+"/members/$count", tok, nil, "ConsistencyLevel", "eventual")
	if got, want := string(after.raw), fmt.Sprint(len(members.values())); got != want {
		t.Errorf("members after failed bulk add = %s, want %s", got, want)
	}
	// The mailNickname conflict names its target.
	dup := call(t, "POST", base+"/groups", tok, map[string]any{"displayName": "Library 3", "mailNickname": "LIBRARY", "mailEnabled": true, "securityEnabled": false, "groupTypes": []string{"Unified"}})
	e := dup.body["error"].(map[string]any)
	if diff := cmp.Diff([]any{map[string]any{"target": "mailNickname", "code": "ObjectConflict"}}, e["details"]); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

func TestMembershipAndLicences(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 30, Groups: 4, Seed: 8})
	tok := appToken(t, s, allRoles...)
	base := s.URL() + "/v1.0"
	users := userIDs(t, s, tok)
	ref := func(id string) string { return "https://graph.microsoft.com/v1.0/directoryObjects/" + id }

	created := call(t, "POST", base+"/groups", tok, map[string]any{
		"displayName": "Onboarding", "mailNickname": "onboarding", "mailEnabled": false, "securityEnabled": true,
		"owners@odata.bind": []string{ref(users[0]["id"].(string))}, "members@odata.bind": []string{ref(users[1]["id"].(string))},
	})
	mustStatus(t, created, 201)
	gid := created.body["id"].(string)
	if got, want := created.body["@odata.context"], base+"/$metadata#groups/$entity"; got != want {
		t.Errorf("context = %v, want %v", got, want)
	}
	mustStatus(t, call(t, "POST", base+"/groups/"+gid+"/members/$ref", tok, map[string]any{"@odata.id": ref(users[2]["id"].(string))}), 204)
	mustStatus(t, call(t, "PATCH", base+"/groups/"+gid, tok, map[string]any{"members@odata.bind": []string{ref(users[3]["id"].(string)), ref(users[4]["id"].(string))}}), 204)
	dup := call(t, "PATCH", base+"/groups/"+gid, tok, map[string]any{"members@odata.bind": []string{ref(users[5]["id"].(string)), ref(users[5]["id"].(string))}})
	mustStatus(t, dup, 400)
	mustStatus(t, call(t, "DELETE", base+"/groups/"+gid+"/members/"+users[1]["id"].(string)+"/$ref", tok, nil), 204)
	m := call(t, "GET", base+"/groups/"+gid+"/members?$select=id", tok, nil)
	var got []string
	for _, v := range m.values() {
		got = append(got, v["id"].(string))
	}
	want := []string{users[2]["id"].(string), users[3]["id"].(string), users[4]["id"].(string)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	// memberOf lists the new group for a member.
	mo := call(t, "GET", base+"/users/"+users[3]["id"].(string)+"/memberOf", tok, nil)
	found := false
	for _, v := range mo.values() {
		if v["id"] == gid && v["@odata.type"] == "#microsoft.graph.group" {
			found = true
		}
	}
	if !found {
		t.Errorf("memberOf = %s, want group %s", mo.raw, gid)
	}

	// Licences: consumed units follow assignments.
	skus := call(t, "GET", base+"/subscribedSkus", tok, nil).values()
	var roomy map[string]any
	for _, sk := range skus {
		if sk["consumedUnits"].(float64) < sk["prepaidUnits"].(map[string]any)["enabled"].(float64) {
			roomy = sk
			break
		}
	}
	plans := roomy["servicePlans"].([]any)
	disabled := plans[0].(map[string]any)["servicePlanId"].(string)
	var target string
	for _, u := range users {
		if u["usageLocation"] != nil && len(u["assignedLicenses"].([]any)) == 0 {
			target = u["id"].(string)
			break
		}
	}
	skuID := roomy["skuId"].(string)
	r := call(t, "POST", base+"/users/"+target+"/assignLicense", tok, map[string]any{"addLicenses": []map[string]any{{"skuId": skuID, "disabledPlans": []string{disabled}}}, "removeLicenses": []string{}})
	mustStatus(t, r, 200)
	if diff := cmp.Diff([]any{map[string]any{"skuId": skuID, "disabledPlans": []any{disabled}}}, r.body["assignedLicenses"]); diff != "" {
		t.Errorf("assignedLicenses (-want +got):\n%s", diff)
	}
	after := call(t, "GET", base+"/subscribedSkus/"+s.Facts().TenantID+"_"+skuID, tok, nil)
	if got, want := after.body["consumedUnits"], roomy["consumedUnits"].(float64)+1; got != want {
		t.Errorf("consumedUnits = %v, want %v", got, want)
	}
	ld := call(t, "GET", base+"/users/"+target+"/licenseDetails", tok, nil)
	if len(ld.values()) != 1 || ld.values()[0]["skuId"] != skuID {
		t.Fatalf("licenseDetails = %s", ld.raw)
	}
	status := ld.values()[0]["servicePlans"].([]any)[0].(map[string]any)["provisioningStatus"]
	if status != "Disabled" {
		t.Errorf("disabled plan provisioningStatus = %v, want Disabled", status)
	}
	mustStatus(t, call(t, "POST", base+"/users/"+target+"/assignLicense", tok, map[string]any{"addLicenses": []any{}, "removeLicenses": []string{skuID}}), 200)
	after = call(t, "GET", base+"/subscribedSkus/"+s.Facts().TenantID+"_"+skuID, tok, nil)
	if got, want := after.body["consumedUnits"], roomy["consumedUnits"]; got != want {
		t.Errorf("consumedUnits after removal = %v, want %v", got, want)
	}
	// PATCH user then read it back.
	mustStatus(t, call(t, "PATCH", base+"/users/"+target, tok, map[string]any{"jobTitle": "Buyer", "usageLocation": "IE", "accountEnabled": false}), 204)
	u := call(t, "GET", base+"/users/"+target+"?$select=jobTitle,usageLocation,accountEnabled", tok, nil)
	if diff := cmp.Diff(map[string]any{"@odata.context": base + "/$metadata#users(jobTitle,usageLocation,accountEnabled)/$entity", "jobTitle": "Buyer", "usageLocation": "IE", "accountEnabled": false}, u.body); diff != "" {
		t.Errorf("patched user (-want +got):\n%s", diff)
	}
	mustStatus(t, call(t, "DELETE", base+"/groups/"+gid, tok, nil), 204)
	mustStatus(t, call(t, "GET", base+"/groups/"+gid, tok, nil), 404)
}

func TestPagingReturnsEveryUserOnce(t *testing.T) {
	const n = 2500
	s := mustStart(t, m365sim.Options{Users: n, Groups: 2, Seed: 3})
	tok := appToken(t, s, "User.Read.All")
	seen := map[string]int{}
	next := s.URL() + "/v1.0/users?$top=999&$count=true&$select=id,displayName"
	pages := 0
	for next != "" {
		r := call(t, "GET", next, tok, nil, "ConsistencyLevel", "eventual")
		mustStatus(t, r, 200)
		pages++
		count, hasCount := r.body["@odata.count"]
		if pages == 1 && count != float64(n) {
			t.Errorf("@odata.count on first page = %v, want %d", count, n)
		}
		if pages > 1 && hasCount {
			t.Errorf("@odata.count on page %d, want only on the first", pages)
		}
		for _, v := range r.values() {
			seen[v["id"].(string)]++
		}
		next, _ = r.body["@odata.nextLink"].(string)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	if len(seen) != n {
		t.Errorf("distinct users = %d, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("user %s seen %d times", id, c)
		}
	}
	cnt := call(t, "GET", s.URL()+"/v1.0/users/$count", tok, nil, "ConsistencyLevel", "eventual")
	if got, want := string(cnt.raw), fmt.Sprint(n); got != want || !strings.HasPrefix(cnt.header.Get("Content-Type"), "text/plain") {
		t.Errorf("$count = %q (%s), want %q text/plain", got, cnt.header.Get("Content-Type"), want)
	}
}
