package m365sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/m365sim"
)

// TestLifecyclePermissions: the new endpoints refuse a token without the
// permission their Graph page lists, with Graph's 403 body.
func TestLifecyclePermissions(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 5, Groups: 1})
	g := s.URL() + "/v1.0"
	readOnly := appToken(t, s, "User.Read.All", "GroupMember.Read.All", "Organization.Read.All")
	users := call(t, "GET", g+"/users?$select=id", readOnly, nil).values()
	uid := users[2]["id"].(string)
	gid := call(t, "GET", g+"/groups?$select=id", readOnly, nil).values()[0]["id"].(string)
	ref := map[string]string{"@odata.id": g + "/users/" + users[3]["id"].(string)}
	tests := []struct {
		method, path string
		body         any
	}{
		{"POST", "/users", map[string]any{"accountEnabled": true, "displayName": "X", "mailNickname": "x", "userPrincipalName": "x@" + s.Facts().TenantDomain,
			"passwordProfile": map[string]any{"password": "Aa1!aaaaaaaa"}}},
		{"DELETE", "/users/" + uid, nil},
		{"PUT", "/users/" + uid + "/manager/$ref", ref},
		{"DELETE", "/users/" + uid + "/manager/$ref", nil},
		{"POST", "/groups/" + gid + "/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []any{}}},
		{"POST", "/directory/deletedItems/" + uid + "/restore", nil},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := call(t, tc.method, g+tc.path, readOnly, tc.body)
			mustStatus(t, r, 403)
			if code, _ := r.errorCode(); code != "Authorization_RequestDenied" {
				t.Errorf("code %q, want Authorization_RequestDenied", code)
			}
		})
	}
	// Consent accumulates: a second tenant-wide simulator grants less.
	s2 := mustStart(t, m365sim.Options{Users: 5, Groups: 1})
	g2 := s2.URL() + "/v1.0"
	usersOnly := appToken(t, s2, "Organization.Read.All")
	uid = call(t, "GET", g2+"/organization", usersOnly, nil).values()[0]["id"].(string) // any id: refused first
	for _, p := range []string{"/groups/" + gid + "/transitiveMembers", "/users/" + uid + "/transitiveMemberOf", "/users/" + uid + "/manager", "/directory/deletedItems/microsoft.graph.user"} {
		if r := call(t, "GET", g2+p, usersOnly, nil); r.status != 403 {
			t.Errorf("GET %s without read permissions: %d, want 403", p, r.status)
		}
	}
}

func TestUserLifecycleWire(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 5, Groups: 1})
	g := s.URL() + "/v1.0"
	tok := appToken(t, s, allRoles...)
	domain := s.Facts().TenantDomain
	upn := "ada@" + domain
	newUser := func(pw string) response {
		return call(t, "POST", g+"/users", tok, map[string]any{"accountEnabled": true, "displayName": "Ada", "mailNickname": "ada",
			"userPrincipalName": upn, "usageLocation": "IE", "passwordProfile": map[string]any{"password": pw, "forceChangePasswordNextSignIn": true}})
	}
	if r := newUser("short"); r.status != 400 || !strings.Contains(string(r.raw), "password complexity") {
		t.Errorf("weak password: %d %s", r.status, r.raw)
	}
	r := newUser("Str0ng!Passw0rd")
	mustStatus(t, r, 201)
	id := r.body["id"].(string)
	if r.body["usageLocation"] != "IE" || r.body["userPrincipalName"] != upn {
		t.Errorf("created %v", r.body)
	}
	dup := newUser("Str0ng!Passw0rd")
	mustStatus(t, dup, 400)
	if !strings.Contains(string(dup.raw), `"ObjectConflict"`) {
		t.Errorf("duplicate: %s, want an ObjectConflict detail", dup.raw)
	}

	// Manager and direct reports.
	boss := call(t, "GET", g+"/users?$select=id,userPrincipalName", tok, nil).values()[1]
	if r := call(t, "GET", g+"/users/"+id+"/manager", tok, nil); r.status != 404 {
		t.Errorf("no manager: %d, want 404", r.status)
	}
	mustStatus(t, call(t, "PUT", g+"/users/"+id+"/manager/$ref", tok, map[string]string{"@odata.id": g + "/users/" + boss["id"].(string)}), 204)
	m := call(t, "GET", g+"/users/"+id+"/manager?$select=id", tok, nil)
	if m.body["@odata.type"] != "#microsoft.graph.user" || m.body["id"] != boss["id"] {
		t.Errorf("manager %v", m.body)
	}
	reports := call(t, "GET", g+"/users/"+boss["id"].(string)+"/directReports?$select=id", tok, nil).values()
	if len(reports) != 1 || reports[0]["id"] != id {
		t.Errorf("direct reports %v", reports)
	}
	if r := call(t, "PUT", g+"/users/"+id+"/manager/$ref", tok, map[string]string{"@odata.id": g + "/users/" + id}); r.status != 400 {
		t.Errorf("own manager: %d, want 400", r.status)
	}

	// Soft delete, listed in deletedItems with the prefixed name, restored.
	mustStatus(t, call(t, "DELETE", g+"/users/"+id, tok, nil), 204)
	mustStatus(t, call(t, "GET", g+"/users/"+id, tok, nil), 404)
	del := call(t, "GET", g+"/directory/deletedItems/microsoft.graph.user", tok, nil).values()
	if len(del) != 1 || del[0]["id"] != id || del[0]["userPrincipalName"] != strings.ReplaceAll(id, "-", "")+upn || del[0]["deletedDateTime"] == nil {
		t.Fatalf("deleted users %v", del)
	}
	mustStatus(t, call(t, "GET", g+"/directory/deletedItems/"+id, tok, nil), 200)
	res := call(t, "POST", g+"/directory/deletedItems/"+id+"/restore", tok, nil)
	mustStatus(t, res, 200)
	if res.body["userPrincipalName"] != upn || res.body["deletedDateTime"] != nil {
		t.Errorf("restored %v", res.body)
	}
	mustStatus(t, call(t, "GET", g+"/users/"+id, tok, nil), 200)

	// After 30 days a deleted user is gone for good.
	mustStatus(t, call(t, "DELETE", g+"/users/"+id, tok, nil), 204)
	s.Advance(30*24*time.Hour + time.Minute)
	tok = appToken(t, s, allRoles...)
	if r := call(t, "POST", g+"/directory/deletedItems/"+id+"/restore", tok, nil); r.status != 404 {
		t.Errorf("restore after 30 days: %d, want 404", r.status)
	}
}

func TestNestedMembershipWire(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 6, Groups: 1})
	g := s.URL() + "/v1.0"
	tok := appToken(t, s, allRoles...)
	users := call(t, "GET", g+"/users?$select=id", tok, nil).values()
	newGroup := func(name string) string {
		r := call(t, "POST", g+"/groups", tok, map[string]any{"displayName": name, "mailNickname": name, "mailEnabled": false, "securityEnabled": true})
		mustStatus(t, r, 201)
		return r.body["id"].(string)
	}
	outer, inner := newGroup("outer"), newGroup("inner")
	add := func(group, id string) {
		mustStatus(t, call(t, "POST", g+"/groups/"+group+"/members/$ref", tok, map[string]string{"@odata.id": g + "/directoryObjects/" + id}), 204)
	}
	a, b := users[2]["id"].(string), users[3]["id"].(string)
	add(outer, a)
	add(outer, inner)
	add(inner, b)
	got := call(t, "GET", g+"/groups/"+outer+"/transitiveMembers?$select=id", tok, nil).values()
	var ids []string
	for _, o := range got {
		ids = append(ids, o["@odata.type"].(string)+" "+o["id"].(string))
	}
	if diff := cmp.Diff([]string{"#microsoft.graph.user " + a, "#microsoft.graph.group " + inner, "#microsoft.graph.user " + b}, ids); diff != "" {
		t.Errorf("transitiveMembers (-want +got):\n%s", diff)
	}
	if only := call(t, "GET", g+"/groups/"+outer+"/transitiveMembers/microsoft.graph.user?$select=id", tok, nil).values(); len(only) != 2 {
		t.Errorf("cast to users: %v", only)
	}
	of := map[string]bool{}
	for _, o := range call(t, "GET", g+"/users/"+b+"/transitiveMemberOf?$select=id", tok, nil).values() {
		of[o["id"].(string)] = true
	}
	if !of[inner] || !of[outer] || of[a] {
		t.Errorf("transitiveMemberOf %v, want inner and outer among them", of)
	}
	chk := call(t, "POST", g+"/users/"+b+"/checkMemberGroups", tok, map[string]any{"groupIds": []string{outer, "00000000-0000-4000-8000-000000000000"}})
	if v, _ := chk.body["value"].([]any); len(v) != 1 || v[0] != outer {
		t.Errorf("checkMemberGroups %s", chk.raw)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = outer
	}
	if r := call(t, "POST", g+"/users/"+b+"/checkMemberGroups", tok, map[string]any{"groupIds": many}); r.status != 400 {
		t.Errorf("21 ids: %d, want 400", r.status)
	}
}

func TestGroupLicensingWire(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 20, Groups: 1})
	g := s.URL() + "/v1.0"
	tok := appToken(t, s, allRoles...)
	facts := s.LicenceFacts("")
	full := facts[1] // seeded fully consumed
	if full.Consumed < full.Enabled {
		t.Fatalf("second SKU %s not full: %d of %d", full.SkuPartNumber, full.Consumed, full.Enabled)
	}
	users := call(t, "GET", g+"/users?$select=id,assignedLicenses,usageLocation", tok, nil).values()
	var member string
	for _, u := range users {
		if l, _ := u["assignedLicenses"].([]any); len(l) == 0 && u["usageLocation"] != nil {
			member = u["id"].(string)
			break
		}
	}
	r := call(t, "POST", g+"/groups", tok, map[string]any{"displayName": "lic", "mailNickname": "lic", "mailEnabled": false, "securityEnabled": true,
		"members@odata.bind": []string{g + "/users/" + member}})
	mustStatus(t, r, 201)
	gid := r.body["id"].(string)
	a := call(t, "POST", g+"/groups/"+gid+"/assignLicense", tok, map[string]any{"addLicenses": []any{map[string]any{"skuId": full.SkuID, "disabledPlans": []string{}}}, "removeLicenses": []string{}})
	mustStatus(t, a, 200)
	if st, _ := a.body["licenseProcessingState"].(map[string]any); st["state"] != "ProcessingComplete" {
		t.Errorf("licenseProcessingState %v", a.body["licenseProcessingState"])
	}
	u := call(t, "GET", g+"/users/"+member+"?$select=assignedLicenses,licenseAssignmentStates", tok, nil)
	states, _ := u.body["licenseAssignmentStates"].([]any)
	if len(states) != 1 {
		t.Fatalf("states %s", u.raw)
	}
	st := states[0].(map[string]any)
	if st["assignedByGroup"] != gid || st["state"] != "Error" || st["error"] != "CountViolation" {
		t.Errorf("state %v, want Error CountViolation from %s", st, gid)
	}
	if l, _ := u.body["assignedLicenses"].([]any); len(l) != 0 {
		t.Errorf("a failed group assignment shows in assignedLicenses: %v", l)
	}
	if after := s.LicenceFacts("")[1]; after.Consumed != full.Consumed {
		t.Errorf("consumed %d, was %d: an error state consumed a unit", after.Consumed, full.Consumed)
	}
	// A security group deleted for good takes its licences away.
	mustStatus(t, call(t, "DELETE", g+"/groups/"+gid, tok, nil), 204)
	if del := call(t, "GET", g+"/directory/deletedItems/microsoft.graph.group", tok, nil).values(); len(del) != 0 {
		t.Errorf("a security group in deleted items: %v", del)
	}
	u = call(t, "GET", g+"/users/"+member+"?$select=licenseAssignmentStates", tok, nil)
	if states, _ := u.body["licenseAssignmentStates"].([]any); len(states) != 0 {
		t.Errorf("states after the group went: %v", states)
	}
}
