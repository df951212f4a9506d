package m365sim_test

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
)

// syncDelta follows nextLinks to the deltaLink, returning every item.
func syncDelta(tb testing.TB, link, tok string) (items []map[string]any, deltaLink string) {
	tb.Helper()
	for {
		r := call(tb, "GET", link, tok, nil)
		mustStatus(tb, r, 200)
		items = append(items, r.values()...)
		if d, ok := r.body["@odata.deltaLink"].(string); ok {
			return items, d
		}
		next, ok := r.body["@odata.nextLink"].(string)
		if !ok {
			tb.Fatalf("neither nextLink nor deltaLink: %s", r.raw)
		}
		link = next
	}
}

func TestDeltaRounds(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := mustStart(t, m365sim.Options{Users: 450, Groups: 3, Seed: 11, Now: func() time.Time { return now }})
	tok := appToken(t, s, allRoles...)
	base := s.URL() + "/v1.0"
	ctl := s.URL() + "/_sim"

	users, userLink := syncDelta(t, base+"/users/delta?$select=displayName,accountEnabled", tok)
	if len(users) != 450 {
		t.Fatalf("initial users = %d, want 450", len(users))
	}
	groups, groupLink := syncDelta(t, base+"/groups/delta?$select=displayName,members", tok)
	if len(groups) != 3 {
		t.Fatalf("initial groups = %d, want 3", len(groups))
	}
	if _, ok := groups[0]["members@delta"]; !ok {
		t.Fatalf("initial group has no members@delta: %v", groups[0])
	}
	gid := groups[0]["id"].(string)

	// Nothing changed: an empty round.
	if items, _ := syncDelta(t, userLink, tok); len(items) != 0 {
		t.Errorf("unchanged round = %v, want nothing", items)
	}

	added := call(t, "POST", ctl+"/users", "", map[string]any{"userPrincipalName": "new.hire", "displayName": "New Hire"})
	mustStatus(t, added, 201)
	newID := added.body["id"].(string)
	renamed, disabled, deleted := users[10]["id"].(string), users[11]["id"].(string), users[12]["id"].(string)
	mustStatus(t, call(t, "PATCH", ctl+"/users/"+renamed, "", map[string]any{"displayName": "Renamed Person"}), 204)
	mustStatus(t, call(t, "PATCH", ctl+"/users/"+disabled, "", map[string]any{"accountEnabled": false}), 204)
	mustStatus(t, call(t, "DELETE", ctl+"/users/"+deleted, "", nil), 204)
	mustStatus(t, call(t, "POST", ctl+"/groups/"+gid+"/members/"+newID, "", nil), 204)
	var leaver string
	for _, m := range groups[0]["members@delta"].([]any) {
		if id := m.(map[string]any)["id"].(string); id != deleted {
			leaver = id
			break
		}
	}
	mustStatus(t, call(t, "DELETE", ctl+"/groups/"+gid+"/members/"+leaver, "", nil), 204)

	items, userLink2 := syncDelta(t, userLink, tok)
	got := map[string]map[string]any{}
	for _, it := range items {
		got[it["id"].(string)] = it
	}
	want := map[string]map[string]any{
		newID:    {"id": newID, "displayName": "New Hire", "accountEnabled": true},
		renamed:  {"id": renamed, "displayName": "Renamed Person", "accountEnabled": users[10]["accountEnabled"]},
		disabled: {"id": disabled, "displayName": users[11]["displayName"], "accountEnabled": false},
		// /_sim/ deletes for good: reason "deleted" ("changed" is a soft
		// deletion, TestDeletedItemsLifecycle).
		deleted: {"id": deleted, "@removed": map[string]any{"reason": "deleted"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users delta round (-want +got):\n%s", diff)
	}

	gitems, _ := syncDelta(t, groupLink, tok)
	var md []map[string]any
	for _, it := range gitems {
		if it["id"] == gid {
			for _, m := range it["members@delta"].([]any) {
				md = append(md, m.(map[string]any))
			}
		}
	}
	sort.Slice(md, func(i, j int) bool { return md[i]["id"].(string) < md[j]["id"].(string) })
	wantMD := []map[string]any{
		{"@odata.type": "#microsoft.graph.user", "id": newID},
		{"@odata.type": "#microsoft.graph.user", "id": leaver, "@removed": map[string]any{"reason": "deleted"}},
	}
	if groupHad(groups[0], deleted) {
		wantMD = append(wantMD, map[string]any{"@odata.type": "#microsoft.graph.user", "id": deleted, "@removed": map[string]any{"reason": "deleted"}})
	}
	sort.Slice(wantMD, func(i, j int) bool { return wantMD[i]["id"].(string) < wantMD[j]["id"].(string) })
	if diff := cmp.Diff(wantMD, md); diff != "" {
		t.Errorf("members@delta (-want +got):\n%s", diff)
	}

	// $deltatoken=latest: a deltaLink and no data.
	latest := call(t, "GET", base+"/users/delta?$deltatoken=latest", tok, nil)
	if _, ok := latest.body["@odata.deltaLink"]; !ok || len(latest.values()) != 0 {
		t.Errorf("latest = %s, want a deltaLink and no values", latest.raw)
	}

	// A garbled token is refused; one older than 7 days must resync.
	bad := call(t, "GET", base+"/users/delta?$deltatoken=garbage", tok, nil)
	if code, msg := bad.errorCode(); bad.status != 400 || code != "Request_BadRequest" {
		t.Errorf("garbled token = %d %s %s, want 400 Request_BadRequest", bad.status, code, msg)
	}
	now = now.Add(7*24*time.Hour + time.Minute)
	tok = appToken(t, s) // the old access token expired as well
	expired := call(t, "GET", userLink2, tok, nil)
	code, msg := expired.errorCode()
	if expired.status != 410 || code != "syncStateNotFound" || msg == "" {
		t.Errorf("expired token = %d %s %q, want 410 syncStateNotFound", expired.status, code, msg)
	}
	if got, want := expired.header.Get("Location"), base+"/users/delta?$select=displayName,accountEnabled"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

func groupHad(g map[string]any, id string) bool {
	for _, m := range g["members@delta"].([]any) {
		if m.(map[string]any)["id"] == id {
			return true
		}
	}
	return false
}

func TestClockAdvanceExpiresDelta(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 5, Groups: 1})
	tok := appToken(t, s, allRoles...)
	_, link := syncDelta(t, s.URL()+"/v1.0/groups/delta", tok)
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/clock", "", map[string]any{"advance": "169h"}), 200)
	// The access token expired too: get a new one.
	tok = appToken(t, s)
	r := call(t, "GET", link, tok, nil)
	if r.status != 410 {
		t.Errorf("status = %d, want 410; body %s", r.status, r.raw)
	}
}
