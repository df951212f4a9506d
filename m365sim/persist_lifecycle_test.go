package m365sim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
)

// The state file and what a restart must not lose beyond the basics
// (persist_test.go): soft-deleted users and Microsoft 365 groups
// (directory/deletedItems, restorable for 30 days), group-based
// licensing with the units it consumes, and nested groups.

// stateClock is the frozen clock of these tests, so that timestamps
// (deletedDateTime, lastUpdatedDateTime) compare equal across simulators.
var stateClock = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func stateOptions(path string) m365sim.Options {
	return m365sim.Options{Users: 8, Groups: 2, Seed: 11, StatePath: path, Now: func() time.Time { return stateClock }}
}

// buildLifecycleScenario gives a tenant every kind of state a restart
// must keep and returns the names the steps below refer to:
//   - ann, bob, cat: members of the security group "licensed", which is
//     assigned a roomy SKU and the seeded-full one. ann and cat consume a
//     roomy unit through it; bob holds the roomy SKU directly, so his
//     group licence consumes none; all three are in CountViolation for the
//     full SKU. ann is in "licensed2" too (same roomy SKU, no second unit).
//   - outer: a security group with dan and the group "licensed" as members.
//   - dan: holds the first SKU directly, is in "licensed" and "outer",
//     then soft-deleted.
//   - team: a Microsoft 365 group with eve and dan, soft-deleted.
func buildLifecycleScenario(tb testing.TB, s *m365sim.Server, tok string) map[string]string {
	tb.Helper()
	g, ctl := s.URL()+"/v1.0", s.URL()+"/_sim"
	facts := s.LicenceFacts("")
	roomy := facts[len(facts)-1]
	if roomy.Enabled-roomy.Consumed < 10 {
		tb.Fatalf("SKU %s is not roomy: %d of %d", roomy.SkuPartNumber, roomy.Consumed, roomy.Enabled)
	}
	if facts[1].Consumed < facts[1].Enabled {
		tb.Fatalf("SKU %s is not full: %d of %d", facts[1].SkuPartNumber, facts[1].Consumed, facts[1].Enabled)
	}
	ids := map[string]string{"first": facts[0].SkuID, "full": facts[1].SkuID, "roomy": roomy.SkuID}
	for _, name := range []string{"ann", "bob", "cat", "dan", "eve"} {
		r := call(tb, "POST", ctl+"/users", "", map[string]any{"userPrincipalName": name, "usageLocation": "US"})
		mustStatus(tb, r, 201)
		ids[name] = r.body["id"].(string)
	}
	licence := func(user, sku string) {
		mustStatus(tb, call(tb, "POST", g+"/users/"+ids[user]+"/assignLicense", tok, map[string]any{
			"addLicenses": []any{map[string]any{"skuId": ids[sku], "disabledPlans": []string{}}}, "removeLicenses": []string{}}), 200)
	}
	licence("bob", "roomy")
	licence("dan", "first")
	newGroup := func(name string, body map[string]any, members ...string) {
		var binds []string
		for _, m := range members {
			binds = append(binds, g+"/directoryObjects/"+ids[m])
		}
		body["displayName"], body["mailNickname"] = name, name
		if len(binds) > 0 {
			body["members@odata.bind"] = binds
		}
		r := call(tb, "POST", g+"/groups", tok, body)
		mustStatus(tb, r, 201)
		ids[name] = r.body["id"].(string)
	}
	security := func() map[string]any { return map[string]any{"mailEnabled": false, "securityEnabled": true} }
	newGroup("licensed", security(), "ann", "bob", "cat", "dan")
	newGroup("licensed2", security(), "ann")
	newGroup("outer", security(), "dan")
	mustStatus(tb, call(tb, "POST", g+"/groups/"+ids["outer"]+"/members/$ref", tok, map[string]string{"@odata.id": g + "/directoryObjects/" + ids["licensed"]}), 204)
	newGroup("team", map[string]any{"mailEnabled": true, "securityEnabled": false, "groupTypes": []string{"Unified"},
		"owners@odata.bind": []string{g + "/users/" + ids["eve"]}}, "eve", "dan")
	groupLicence := func(group string, skus ...string) {
		var add []any
		for _, k := range skus {
			add = append(add, map[string]any{"skuId": ids[k], "disabledPlans": []string{}})
		}
		mustStatus(tb, call(tb, "POST", g+"/groups/"+ids[group]+"/assignLicense", tok, map[string]any{"addLicenses": add, "removeLicenses": []string{}}), 200)
	}
	groupLicence("licensed", "roomy", "full")
	groupLicence("licensed2", "roomy")
	mustStatus(tb, call(tb, "DELETE", g+"/users/"+ids["dan"], tok, nil), 204)
	mustStatus(tb, call(tb, "DELETE", g+"/groups/"+ids["team"], tok, nil), 204)
	return ids
}

// simStep is one Graph request; {name} in Path and in Body strings is
// replaced by the scenario's id of that name, {graph} by the Graph root.
type simStep struct {
	Method, Path string
	Body         any
}

// simAnswer is what the simulator answered, with its own address replaced
// by http://sim so that two simulators' answers compare.
type simAnswer struct {
	Step   string `json:"step"`
	Status int    `json:"status"`
	Body   any    `json:"body,omitempty"`
}

var (
	// licensingViews are the answers that depend on group-based licensing
	// and nesting.
	licensingViews = []simStep{
		{"GET", "/users?$select=id,userPrincipalName,assignedLicenses,licenseAssignmentStates", nil},
		{"GET", "/users/{ann}?$select=assignedLicenses,licenseAssignmentStates", nil},
		{"GET", "/subscribedSkus", nil},
		{"GET", "/groups?$select=id,displayName,assignedLicenses,licenseProcessingState", nil},
		{"GET", "/groups/{outer}/transitiveMembers?$select=id", nil},
	}
	// deletedViews list directory/deletedItems.
	deletedViews = []simStep{
		{"GET", "/directory/deletedItems/microsoft.graph.user", nil},
		{"GET", "/directory/deletedItems/microsoft.graph.group", nil},
	}
	// licensingMoves change memberships of licensed groups, which must
	// release and take units as they did before the restart.
	licensingMoves = []simStep{
		{"DELETE", "/groups/{licensed}/members/{ann}/$ref", nil},
		{"DELETE", "/groups/{licensed}/members/{cat}/$ref", nil},
		{"POST", "/groups/{licensed}/members/$ref", map[string]string{"@odata.id": "{graph}/directoryObjects/{eve}"}},
		{"POST", "/groups/{licensed2}/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []string{"{roomy}"}}},
	}
	// restores bring the deleted user and group back.
	restores = []simStep{
		{"POST", "/directory/deletedItems/{dan}/restore", nil},
		{"GET", "/users/{dan}?$select=id,userPrincipalName,assignedLicenses,licenseAssignmentStates", nil},
		{"GET", "/users/{dan}/memberOf?$select=id", nil},
		{"POST", "/directory/deletedItems/{team}/restore", nil},
		{"GET", "/groups/{team}/members?$select=id", nil},
		{"GET", "/users/{dan}/memberOf?$select=id", nil},
	}
)

func steps(lists ...[]simStep) []simStep {
	var out []simStep
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func runSteps(tb testing.TB, s *m365sim.Server, tok string, ids map[string]string, list []simStep) []simAnswer {
	tb.Helper()
	graph := s.URL() + "/v1.0"
	expand := func(v string) string {
		v = strings.ReplaceAll(v, "{graph}", graph)
		for k, id := range ids {
			v = strings.ReplaceAll(v, "{"+k+"}", id)
		}
		return v
	}
	var expandAny func(any) any
	expandAny = func(v any) any {
		switch v := v.(type) {
		case string:
			return expand(v)
		case []string:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = expand(x)
			}
			return out
		case map[string]string:
			out := map[string]any{}
			for k, x := range v {
				out[k] = expand(x)
			}
			return out
		case map[string]any:
			out := map[string]any{}
			for k, x := range v {
				out[k] = expandAny(x)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = expandAny(x)
			}
			return out
		}
		return v
	}
	var out []simAnswer
	for _, st := range list {
		var body any
		if st.Body != nil {
			body = expandAny(st.Body)
		}
		r := call(tb, st.Method, graph+expand(st.Path), tok, body)
		a := simAnswer{Step: st.Method + " " + st.Path, Status: r.status}
		if len(r.raw) > 0 {
			if err := json.Unmarshal([]byte(strings.ReplaceAll(string(r.raw), s.URL(), "http://sim")), &a.Body); err != nil {
				tb.Fatalf("%s: decode %s: %v", a.Step, r.raw, err)
			}
		}
		out = append(out, a)
	}
	return out
}

// TestStateKeepsDeletedItemsAndGroupLicences saves a simulator with
// soft-deleted objects, group-assigned licences and nested groups, starts
// a second one from the file while the first keeps running, and sends both
// the same requests: every answer must be the same.
func TestStateKeepsDeletedItemsAndGroupLicences(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s1 := mustStart(t, stateOptions(path))
	tok1 := appToken(t, s1, allRoles...)
	ids := buildLifecycleScenario(t, s1, tok1)
	s2 := startFromCopy(t, s1, path)
	tok2 := appToken(t, s2, allRoles...)
	// Everything the tenants hold, bookkeeping included, came back.
	if diff := m365sim.StateDiff(s1, s2); diff != "" {
		t.Errorf("tenants after loading the saved state (-before +after):\n%s", diff)
	}

	list := steps(licensingViews, deletedViews, []simStep{{"GET", "/directory/deletedItems/{dan}", nil}},
		licensingMoves, licensingViews, restores, licensingViews, deletedViews)
	want := runSteps(t, s1, tok1, ids, list)
	got := runSteps(t, s2, tok2, ids, list)
	for i := range want {
		if diff := cmp.Diff(want[i], got[i]); diff != "" {
			t.Errorf("step %d %s after restart (-before +after):\n%s", i, want[i].Step, diff)
		}
	}
	if diff := m365sim.StateDiff(s1, s2); diff != "" {
		t.Errorf("tenants after the same requests (-original +restarted):\n%s", diff)
	}
	// The comparison is only worth something if the scenario did what it
	// says: dan and team were listed, restored, and units moved.
	for i, a := range want {
		if a.Status >= 300 {
			t.Errorf("step %d %s answered %d on the original simulator: %v", i, a.Step, a.Status, a.Body)
		}
	}
	for i, want := range []int{1, 1, 0, 0} { // deleted users and groups, before and after restoring
		at := len(licensingViews) + i%2
		if i >= 2 {
			at = len(list) - 2 + i%2
		}
		if got := len(got[at].Body.(map[string]any)["value"].([]any)); got != want {
			t.Errorf("step %d %s listed %d items, want %d", at, list[at].Method+" "+list[at].Path, got, want)
		}
	}
}

// TestStateLoadsVersion1 loads a state file in format version 1, written
// before soft-deleted objects and group licences' units were saved: by
// buildLifecycleScenario with commit ad33d1c, then saved before the
// answers in state-v1.answers.json were recorded from that simulator
// (licensingViews, licensingMoves, licensingViews). Version 1 kept the
// inherited licences but not which of them consume a unit, and no deleted
// items; a nested group made it unloadable.
func TestStateLoadsVersion1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "state-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"version":1,`) {
		t.Fatalf("testdata/state-v1.json is not a version 1 file: %.40s", b)
	}
	var golden struct {
		IDs     map[string]string `json:"ids"`
		Answers []simAnswer       `json:"answers"`
	}
	g, err := os.ReadFile(filepath.Join("testdata", "state-v1.answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g, &golden); err != nil {
		t.Fatal(err)
	}
	// A copy: the loaded file is rewritten in the current version when
	// the simulator closes.
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustStart(t, stateOptions(path))
	tok := appToken(t, s, allRoles...)
	list := steps(licensingViews, licensingMoves, licensingViews)
	got := runSteps(t, s, tok, golden.IDs, list)
	if len(got) != len(golden.Answers) {
		t.Fatalf("%d answers, golden has %d", len(got), len(golden.Answers))
	}
	for i := range got {
		if diff := cmp.Diff(golden.Answers[i], got[i]); diff != "" {
			t.Errorf("step %d %s (-recorded before saving +after loading):\n%s", i, got[i].Step, diff)
		}
	}
	for _, a := range runSteps(t, s, tok, golden.IDs, deletedViews) {
		if n := len(a.Body.(map[string]any)["value"].([]any)); a.Status != 200 || n != 0 {
			t.Errorf("%s = %d with %d items, want 200 and none: version 1 kept no deleted items", a.Step, a.Status, n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Closing wrote the changes in the current version, which loads.
	b, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"version":2,`) {
		t.Errorf("state file after closing starts %.40s, want version 2", b)
	}
	s2 := mustStart(t, stateOptions(path))
	views := runSteps(t, s2, appToken(t, s2, allRoles...), golden.IDs, licensingViews)
	if diff := cmp.Diff(golden.Answers[len(golden.Answers)-len(licensingViews):], views); diff != "" {
		t.Errorf("after saving in version 2 and loading again (-recorded +got):\n%s", diff)
	}
}

// TestStateCorruptLifecycle: a state file whose deleted items or group
// licences do not hold together is refused with a message naming the
// problem, like any other broken file (TestStateCorruptFile).
func TestStateCorruptLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustStart(t, stateOptions(path))
	ids := buildLifecycleScenario(t, s, appToken(t, s, allRoles...))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const unknown = "00000000-0000-4000-8000-000000000000"
	// user returns the saved user of that scenario name.
	user := func(ten map[string]any, name string) map[string]any {
		for _, u := range ten["users"].([]any) {
			if u := u.(map[string]any); u["ID"] == ids[name] {
				return u
			}
		}
		t.Fatalf("no user %s in the state file", name)
		return nil
	}
	tests := []struct {
		name   string
		mutate func(ten map[string]any)
		want   string
	}{
		{"deleted item neither user nor group", func(ten map[string]any) {
			delete(ten["deleted"].([]any)[0].(map[string]any), "user")
		}, "either a user or a group"},
		{"deleted item both user and group", func(ten map[string]any) {
			d := ten["deleted"].([]any)
			d[0].(map[string]any)["group"] = d[1].(map[string]any)["group"]
		}, "either a user or a group"},
		{"deleted user without its name", func(ten map[string]any) {
			delete(ten["deleted"].([]any)[0].(map[string]any), "upn")
		}, "no id or userPrincipalName"},
		{"deleted user licence for an unknown SKU", func(ten map[string]any) {
			ten["deleted"].([]any)[0].(map[string]any)["licences"] = []any{map[string]any{"SkuID": unknown, "DisabledPlans": []any{}}}
		}, "had a licence for SKU " + unknown},
		{"deleted item is live too", func(ten map[string]any) {
			d := ten["deleted"].([]any)[0].(map[string]any)["user"].(map[string]any)
			d["ID"] = ids["ann"]
		}, "deleted item " + ids["ann"] + " appears twice"},
		{"group licence for an unknown SKU", func(ten map[string]any) {
			user(ten, "ann")["GroupLicences"].([]any)[0].(map[string]any)["SkuID"] = unknown
		}, "inherits a licence for SKU " + unknown},
		{"group licence from an unknown group", func(ten map[string]any) {
			user(ten, "ann")["GroupLicences"].([]any)[0].(map[string]any)["GroupID"] = unknown
		}, "inherits a licence from group " + unknown},
		{"failed group licence consuming a unit", func(ten map[string]any) {
			for _, l := range user(ten, "ann")["GroupLicences"].([]any) {
				if l := l.(map[string]any); l["State"] == "Error" {
					l["Counted"] = true
				}
			}
		}, `in state "Error" that consumes a unit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st map[string]any
			if err := json.Unmarshal(valid, &st); err != nil {
				t.Fatal(err)
			}
			tt.mutate(st["tenants"].([]any)[0].(map[string]any))
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := m365sim.New(stateOptions(p))
			if err == nil {
				s.Close()
				t.Fatalf("New loaded a broken state file; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error = %q, want it to name %s and say %q", err, p, tt.want)
			}
		})
	}
}

// TestStateKeepsPurges: purges — through DELETE /directory/deletedItems/{id}
// and when the 30-day retention runs out — are permanent deletions in the
// change log, so a simulator started from the saved file holds the same
// tenants and answers a delta link taken before them with @removed reason
// "deleted".
func TestStateKeepsPurges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s1 := mustStart(t, stateOptions(path))
	tok := appToken(t, s1, allRoles...)
	g1 := s1.URL() + "/v1.0"
	u := call(t, "POST", s1.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "purged.user"})
	mustStatus(t, u, 201)
	g := call(t, "POST", s1.URL()+"/_sim/groups", "", map[string]any{"displayName": "Expiring team", "unified": true})
	mustStatus(t, g, 201)
	uid, gid := u.body["id"].(string), g.body["id"].(string)
	mustStatus(t, call(t, "DELETE", g1+"/users/"+uid, tok, nil), 204)
	mustStatus(t, call(t, "DELETE", g1+"/groups/"+gid, tok, nil), 204)
	s1.Advance(719 * time.Hour) // 29 days 23 hours: both still restorable
	tok = appToken(t, s1, allRoles...)
	links := map[string]string{}
	for _, e := range []string{"users", "groups"} {
		r := call(t, "GET", g1+"/"+e+"/delta?$deltatoken=latest", tok, nil)
		mustStatus(t, r, 200)
		links[e] = r.body["@odata.deltaLink"].(string)
	}
	mustStatus(t, call(t, "DELETE", g1+"/directory/deletedItems/"+uid, tok, nil), 204)
	s1.Advance(2 * time.Hour) // the group's retention runs out
	s2 := startFromCopy(t, s1, path)
	if diff := m365sim.StateDiff(s1, s2); diff != "" {
		t.Errorf("tenants after loading the saved state (-before +after):\n%s", diff)
	}
	tok2 := appToken(t, s2, allRoles...)
	for e, id := range map[string]string{"users": uid, "groups": gid} {
		mustStatus(t, call(t, "GET", s2.URL()+"/v1.0/directory/deletedItems/"+id, tok2, nil), 404)
		items, _ := syncDelta(t, strings.Replace(links[e], s1.URL(), s2.URL(), 1), tok2)
		want := []map[string]any{{"id": id, "@removed": map[string]any{"reason": "deleted"}}}
		if diff := cmp.Diff(want, items); diff != "" {
			t.Errorf("%s delta after restart (-want +got):\n%s", e, diff)
		}
	}
}

// startFromCopy saves s1 to path and starts a second simulator from a
// copy of that file (next to it), while s1 keeps running.
func startFromCopy(t *testing.T, s1 *m365sim.Server, path string) *m365sim.Server {
	t.Helper()
	if err := s1.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(filepath.Dir(path), "copy.json")
	if err := os.WriteFile(copyPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := m365sim.New(stateOptions(copyPath))
	if err != nil {
		t.Fatalf("New from the saved state: %v", err)
	}
	if err := s2.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}
