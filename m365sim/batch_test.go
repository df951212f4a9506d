package m365sim_test

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
)

func TestBatch(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 20, Groups: 2, Seed: 5})
	tok := appToken(t, s, allRoles...)
	base := s.URL() + "/v1.0"

	body := map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/users?$top=2&$select=id"},
		{"id": "2", "method": "GET", "url": "/groups/00000000-0000-0000-0000-000000000000"},
		{"id": "3", "method": "GET", "url": "/organization", "dependsOn": []string{"2"}},
		{"id": "4", "method": "POST", "url": "/groups", "headers": map[string]string{"Content-Type": "application/json"},
			"body": map[string]any{"displayName": "Batch", "mailNickname": "batch", "mailEnabled": false, "securityEnabled": true}},
		{"id": "5", "method": "GET", "url": "users/$count", "headers": map[string]string{"ConsistencyLevel": "eventual"}, "dependsOn": []string{"1"}},
	}}
	r := call(t, "POST", base+"/$batch", tok, body)
	mustStatus(t, r, 200)
	got := map[string]float64{}
	var count any
	for _, x := range r.body["responses"].([]any) {
		item := x.(map[string]any)
		got[item["id"].(string)] = item["status"].(float64)
		if item["id"] == "5" {
			count = item["body"]
		}
	}
	want := map[string]float64{"1": 200, "2": 404, "3": 424, "4": 201, "5": 200}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("item statuses (-want +got):\n%s", diff)
	}
	if count != "20" {
		t.Errorf("item 5 body = %v, want \"20\"", count)
	}

	dup := call(t, "POST", base+"/$batch", tok, map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/me"}, {"id": "1", "method": "GET", "url": "/users"}}})
	if code, _ := dup.errorCode(); dup.status != 400 || code != "BadRequest" {
		t.Errorf("duplicate ids = %d %s, want 400 BadRequest", dup.status, code)
	}
}

func TestBatchThrottledItems(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 10, Groups: 1})
	tok := appToken(t, s, allRoles...)
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/faults", "", map[string]any{"path": "^/v1.0/organization$", "status": 429, "count": 2, "retryAfter": 7}), 201)
	var reqs []map[string]any
	for _, id := range []string{"a", "b", "c"} {
		reqs = append(reqs, map[string]any{"id": id, "method": "GET", "url": "/organization"})
	}
	r := call(t, "POST", s.URL()+"/v1.0/$batch", tok, map[string]any{"requests": reqs})
	mustStatus(t, r, 200)
	type item struct {
		ID, RetryAfter, Code string
		Status               float64
	}
	var got []item
	for _, x := range r.body["responses"].([]any) {
		m := x.(map[string]any)
		h, _ := m["headers"].(map[string]any)
		ra, _ := h["Retry-After"].(string)
		var code string
		if b, ok := m["body"].(map[string]any); ok {
			if e, ok := b["error"].(map[string]any); ok {
				code, _ = e["code"].(string)
			}
		}
		got = append(got, item{m["id"].(string), ra, code, m["status"].(float64)})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	want := []item{{"a", "7", "TooManyRequests", 429}, {"b", "7", "TooManyRequests", 429}, {"c", "", "", 200}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if st := s.Stats(); st.Throttled != 2 {
		t.Errorf("stats throttled = %d, want 2", st.Throttled)
	}
}

func TestThrottleResourceUnits(t *testing.T) {
	// A frozen clock keeps the buckets from refilling during the test.
	frozen := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := mustStart(t, m365sim.Options{Users: 10, Groups: 1, Throttle: true, Now: func() time.Time { return frozen }})
	tok := appToken(t, s, allRoles...)
	// A tenant under 50 users gets 3,500 resource units per 10 s; GET
	// /users costs 2, so the 1,751st call in one instant is throttled.
	var last response
	calls := 0
	for calls = 1; calls <= 1800; calls++ {
		reqs := make([]map[string]any, 0, 20)
		for i := 0; i < 20; i++ {
			reqs = append(reqs, map[string]any{"id": string(rune('a' + i)), "method": "GET", "url": "/users"})
		}
		last = call(t, "POST", s.URL()+"/v1.0/$batch", tok, map[string]any{"requests": reqs})
		throttled := false
		for _, x := range last.body["responses"].([]any) {
			if x.(map[string]any)["status"].(float64) == 429 {
				throttled = true
			}
		}
		if throttled {
			break
		}
	}
	if got, want := s.Stats().Throttled, 1; got < want {
		t.Fatalf("throttled = %d after %d batches, want at least %d", got, calls, want)
	}
	// 1,750 GETs fit: 87 full batches and 10 items of the 88th.
	if calls != 88 {
		t.Errorf("first throttled batch = %d, want 88", calls)
	}
	r := call(t, "GET", s.URL()+"/v1.0/users", tok, nil)
	mustStatus(t, r, 429)
	if r.header.Get("Retry-After") == "" || r.header.Get("x-ms-throttle-scope") == "" || r.header.Get("x-ms-throttle-information") != "ResourceUnitLimitExceeded" {
		t.Errorf("429 headers = %v", r.header)
	}
	if code, msg := r.errorCode(); code != "TooManyRequests" || msg != "Please retry again later." {
		t.Errorf("429 body = %s", r.raw)
	}
}
