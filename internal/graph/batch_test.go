package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// batchServer answers POST /v1.0/$batch, each item through item, and
// records the ids of every envelope.
type batchServer struct {
	mu        sync.Mutex
	envelopes [][]BatchRequest
	item      func(r BatchRequest, seen int) BatchResponse // seen: times this id was sent before
	sent      map[string]int
}

func (b *batchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1.0/$batch" || r.Method != http.MethodPost {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
		return
	}
	var env struct {
		Requests []BatchRequest `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&env); err != nil || len(env.Requests) > 20 {
		writeJSON(w, 400, `{"error":{"code":"BadRequest","message":"Number of requests inside batch exceeds the limit."}}`)
		return
	}
	b.mu.Lock()
	b.envelopes = append(b.envelopes, env.Requests)
	if b.sent == nil {
		b.sent = map[string]int{}
	}
	var out []BatchResponse
	for _, it := range env.Requests {
		out = append(out, b.item(it, b.sent[it.ID]))
		b.sent[it.ID]++
	}
	b.mu.Unlock()
	// Graph answers in any order.
	slices.Reverse(out)
	body, _ := json.Marshal(map[string]any{"responses": out})
	writeJSON(w, 200, string(body))
}

func (b *batchServer) envelopeIDs() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out [][]string
	for _, e := range b.envelopes {
		var ids []string
		for _, r := range e {
			ids = append(ids, r.ID+dependsSuffix(r))
		}
		out = append(out, ids)
	}
	return out
}

func dependsSuffix(r BatchRequest) string {
	if len(r.DependsOn) == 0 {
		return ""
	}
	return "<" + strings.Join(r.DependsOn, ",")
}

func ok(id string) BatchResponse {
	return BatchResponse{ID: id, Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: json.RawMessage(`{"id":"` + id + `"}`)}
}

func tooMany(id, after string) BatchResponse {
	h := map[string]string{"Content-Type": "application/json"}
	if after != "" {
		h["Retry-After"] = after
	}
	return BatchResponse{ID: id, Status: 429, Headers: h, Body: json.RawMessage(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)}
}

func gets(ids ...string) []BatchRequest {
	var out []BatchRequest
	for _, id := range ids {
		out = append(out, BatchRequest{ID: id, Method: "GET", URL: "/users/" + id})
	}
	return out
}

func statuses(rs []BatchResponse) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s:%d", r.ID, r.Status))
	}
	return out
}

func TestBatchRetriesThrottledItemsAlone(t *testing.T) {
	bs := &batchServer{item: func(r BatchRequest, seen int) BatchResponse {
		switch {
		case r.ID == "2" && seen == 0:
			return tooMany(r.ID, "3")
		case r.ID == "4" && seen == 0:
			return tooMany(r.ID, "7.5")
		case r.ID == "5":
			return BatchResponse{ID: r.ID, Status: 403, Body: json.RawMessage(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)}
		}
		return ok(r.ID)
	}}
	c, sl, _ := newTestClient(t, bs)
	got, err := c.Batch(context.Background(), gets("1", "2", "3", "4", "5"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1:200", "2:200", "3:200", "4:200", "5:403"}, statuses(got)); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"1", "2", "3", "4", "5"}, {"2", "4"}}, bs.envelopeIDs()); diff != "" {
		t.Errorf("envelopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{7500 * time.Millisecond}, sl.Waits()); diff != "" {
		t.Errorf("waits: longest Retry-After expected (-want +got):\n%s", diff)
	}
	if err := got[4].Err(); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "User.Read.All") {
		t.Errorf("item 5 Err() = %v, want ErrForbidden naming User.Read.All", err)
	}
	if st := c.Stats(); st != (Stats{Requests: 2, Retries: 2, Throttled: 2}) {
		t.Errorf("stats = %+v, want 2 requests, 2 retries, 2 throttled", st)
	}
}

func TestBatchThrottledUntilExhausted(t *testing.T) {
	bs := &batchServer{item: func(r BatchRequest, seen int) BatchResponse {
		if r.ID == "b" {
			return tooMany(r.ID, "")
		}
		return ok(r.ID)
	}}
	c, sl, _ := newTestClient(t, bs)
	c.maxRetries = 2
	got, err := c.Batch(context.Background(), gets("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := got[1].Err(); !errors.Is(err, ErrThrottled) {
		t.Errorf("b Err() = %v, want ErrThrottled", err)
	}
	if got[0].Err() != nil {
		t.Errorf("a Err() = %v, want nil", got[0].Err())
	}
	if want := []time.Duration{500 * time.Millisecond, time.Second}; !cmp.Equal(want, sl.Waits()) {
		t.Errorf("waits = %v, want backoff %v", sl.Waits(), want)
	}
}

func TestBatchSplitsAndKeepsOrder(t *testing.T) {
	bs := &batchServer{item: func(r BatchRequest, seen int) BatchResponse { return ok(r.ID) }}
	c, _, _ := newTestClient(t, bs)
	var ids []string
	for i := range 45 {
		ids = append(ids, fmt.Sprint(i))
	}
	got, err := c.Batch(context.Background(), gets(ids...))
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, r := range got {
		gotIDs = append(gotIDs, r.ID)
	}
	if diff := cmp.Diff(ids, gotIDs); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	var sizes []int
	for _, e := range bs.envelopeIDs() {
		sizes = append(sizes, len(e))
	}
	slices.Sort(sizes)
	if diff := cmp.Diff([]int{5, 20, 20}, sizes); diff != "" {
		t.Errorf("envelope sizes (-want +got):\n%s", diff)
	}
}

func TestBatchDependsOn(t *testing.T) {
	t.Run("dependant of a throttled item is retried with it", func(t *testing.T) {
		bs := &batchServer{item: func(r BatchRequest, seen int) BatchResponse {
			if r.ID == "1" && seen == 0 {
				return tooMany(r.ID, "1")
			}
			if slices.Contains(r.DependsOn, "1") && seen == 0 {
				return BatchResponse{ID: r.ID, Status: 424}
			}
			return ok(r.ID)
		}}
		c, _, _ := newTestClient(t, bs)
		reqs := gets("1", "2", "3")
		reqs[1].DependsOn = []string{"1"}
		reqs[2].DependsOn = []string{"2"}
		got, err := c.Batch(context.Background(), reqs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1:200", "2:200", "3:200"}, statuses(got)); diff != "" {
			t.Errorf("responses (-want +got):\n%s", diff)
		}
		// 3 succeeded the first time (the fake only fails direct
		// dependants of 1), so only 1 and 2 go again, 2 still after 1.
		if diff := cmp.Diff([][]string{{"1", "2<1", "3<2"}, {"1", "2<1"}}, bs.envelopeIDs()); diff != "" {
			t.Errorf("envelopes (-want +got):\n%s", diff)
		}
	})
	t.Run("across envelopes", func(t *testing.T) {
		bs := &batchServer{item: func(r BatchRequest, seen int) BatchResponse {
			if r.ID == "0" {
				return BatchResponse{ID: r.ID, Status: 404, Body: json.RawMessage(`{"error":{"code":"Request_ResourceNotFound","message":"x"}}`)}
			}
			return ok(r.ID)
		}}
		c, _, _ := newTestClient(t, bs)
		var ids []string
		for i := range 23 {
			ids = append(ids, fmt.Sprint(i))
		}
		reqs := gets(ids...)
		reqs[20].DependsOn = []string{"0"} // failed in envelope 1: answered 424 here
		reqs[21].DependsOn = []string{"1"} // succeeded in envelope 1: dropped
		reqs[22].DependsOn = []string{"21"}
		got, err := c.Batch(context.Background(), reqs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"20:424", "21:200", "22:200"}, statuses(got[20:])); diff != "" {
			t.Errorf("responses (-want +got):\n%s", diff)
		}
		envs := bs.envelopeIDs()
		if len(envs) != 2 {
			t.Fatalf("envelopes = %d, want 2", len(envs))
		}
		if diff := cmp.Diff([]string{"21", "22<21"}, envs[1]); diff != "" {
			t.Errorf("second envelope (-want +got):\n%s", diff)
		}
	})
}

func TestBatchRejectsDuplicateIDs(t *testing.T) {
	c := New(Config{BaseURL: "http://127.0.0.1:1"})
	if _, err := c.Batch(context.Background(), gets("a", "a")); err == nil {
		t.Error("Batch with duplicate ids succeeded; want an error")
	}
}

// memberServer is a deterministic stand-in for the membership rules of
// graph-contracts.md section 5: a bind chunk fails whole when one id is
// already a member (400) or missing (404).
type memberServer struct {
	*batchServer
	mu      sync.Mutex
	known   map[string]bool
	members map[string]bool
	created map[string]any
}

func newMemberServer(known []string, members ...string) *memberServer {
	m := &memberServer{known: map[string]bool{}, members: map[string]bool{}}
	for _, k := range known {
		m.known[k] = true
	}
	for _, k := range members {
		m.members[k] = true
	}
	m.batchServer = &batchServer{item: m.item}
	return m
}

func (m *memberServer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.members)
}

func idOf(link string) string { return link[strings.LastIndex(link, "/")+1:] }

func (m *memberServer) item(r BatchRequest, _ int) BatchResponse {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	switch {
	case r.Method == "PATCH" && r.URL == "/groups/g1":
		var body map[string][]string
		json.Unmarshal(r.Body, &body)
		for _, l := range body["members@odata.bind"] {
			ids = append(ids, idOf(l))
		}
	case r.Method == "POST" && r.URL == "/groups/g1/members/$ref":
		var body map[string]string
		json.Unmarshal(r.Body, &body)
		ids = []string{idOf(body["@odata.id"])}
	case r.Method == "DELETE" && strings.HasPrefix(r.URL, "/groups/g1/members/"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL, "/groups/g1/members/"), "/$ref")
		if !m.members[id] {
			return BatchResponse{ID: r.ID, Status: 404, Body: json.RawMessage(`{"error":{"code":"Request_ResourceNotFound","message":"Resource '` + id + `' does not exist or one of its queried reference-property objects are not present."}}`)}
		}
		delete(m.members, id)
		return BatchResponse{ID: r.ID, Status: 204}
	default:
		return BatchResponse{ID: r.ID, Status: 404, Body: json.RawMessage(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'g-other' does not exist or one of its queried reference-property objects are not present."}}`)}
	}
	if len(ids) > 20 {
		return BatchResponse{ID: r.ID, Status: 400, Body: json.RawMessage(`{"error":{"code":"Request_BadRequest","message":"A resource cannot contain more than 20 link changes"}}`)}
	}
	for _, id := range ids {
		if m.members[id] {
			return BatchResponse{ID: r.ID, Status: 400, Body: json.RawMessage(`{"error":{"code":"Request_BadRequest","message":"One or more added object references already exist for the following modified properties: 'members'."}}`)}
		}
		if !m.known[id] {
			return BatchResponse{ID: r.ID, Status: 404, Body: json.RawMessage(`{"error":{"code":"Request_ResourceNotFound","message":"Resource '` + id + `' does not exist or one of its queried reference-property objects are not present."}}`)}
		}
	}
	for _, id := range ids {
		m.members[id] = true
	}
	return BatchResponse{ID: r.ID, Status: 204}
}

func (m *memberServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/v1.0/groups" {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		m.mu.Lock()
		m.created = body
		for _, k := range []string{"owners@odata.bind", "members@odata.bind"} {
			links, _ := body[k].([]any)
			if len(links) > 0 && k == "members@odata.bind" {
				for _, l := range links {
					m.members[idOf(l.(string))] = true
				}
			}
		}
		m.mu.Unlock()
		writeJSON(w, 201, `{"id":"g1","displayName":"`+body["displayName"].(string)+`"}`)
		return
	}
	m.batchServer.ServeHTTP(w, r)
}

func users(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("u%d", i))
	}
	return out
}

// outcome renders a Result for comparison.
func outcome(r Result) string {
	switch {
	case r.Err == nil:
		return r.ID + " added"
	case errors.Is(r.Err, ErrAlreadyExists):
		return r.ID + " already a member"
	case errors.Is(r.Err, ErrNotFound):
		return r.ID + " not found"
	}
	return r.ID + " " + r.Err.Error()
}

func TestAddMembersExactOutcomes(t *testing.T) {
	all := users(45)
	ms := newMemberServer(slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "u30" }), "u7")
	c, _, _ := newTestClient(t, ms)
	in := append(slices.Clone(all), "u3") // a duplicate is sent once
	res, err := c.AddMembers(context.Background(), "g1", in)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, id := range all {
		switch id {
		case "u7":
			want = append(want, id+" already a member")
		case "u30":
			want = append(want, id+" not found")
		default:
			want = append(want, id+" added")
		}
	}
	for _, r := range res {
		got = append(got, outcome(r))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	// One envelope of 3 binds, then chunks 1 and 2 (40 ids) one by one.
	var sizes []int
	for _, e := range ms.envelopeIDs() {
		sizes = append(sizes, len(e))
	}
	if diff := cmp.Diff([]int{3, 20, 20}, sizes); diff != "" {
		t.Errorf("envelope sizes (-want +got):\n%s", diff)
	}
	if n := ms.count(); n != 44 {
		t.Errorf("members = %d, want 44", n)
	}
}

func TestAddMembersGroupMissing(t *testing.T) {
	ms := newMemberServer(users(3))
	c, _, _ := newTestClient(t, ms)
	res, err := c.AddMembers(context.Background(), "g-other", users(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", r.ID, r.Err)
		}
	}
	if n := len(ms.envelopeIDs()); n != 1 {
		t.Errorf("envelopes = %d, want 1 (no per-member fallback when the group is missing)", n)
	}
}

func TestRemoveMembers(t *testing.T) {
	ms := newMemberServer(users(5), "u0", "u2")
	c, _, _ := newTestClient(t, ms)
	res, err := c.RemoveMembers(context.Background(), "g1", []string{"u0", "u1", "u2"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, outcome(r))
	}
	if diff := cmp.Diff([]string{"u0 added", "u1 not found", "u2 added"}, got); diff != "" {
		t.Errorf("results (-want +got; 'added' means done):\n%s", diff)
	}
	if n := ms.count(); n != 0 {
		t.Errorf("members left = %d, want none", n)
	}
}

func TestCreateGroupLinkLimit(t *testing.T) {
	ms := newMemberServer(users(50))
	c, _, _ := newTestClient(t, ms)
	g, err := c.CreateGroup(context.Background(), NewGroup{
		DisplayName: "Sales", MailNickname: "sales", SecurityEnabled: true,
		OwnerIDs: users(15), MemberIDs: users(40),
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != "g1" || g.DisplayName != "Sales" {
		t.Errorf("group = %+v, want g1 Sales", g)
	}
	ms.mu.Lock()
	created := ms.created
	ms.mu.Unlock()
	owners, _ := created["owners@odata.bind"].([]any)
	members, _ := created["members@odata.bind"].([]any)
	if len(owners) != 15 || len(members) != 5 {
		t.Errorf("binds in create: %d owners + %d members, want 15 + 5", len(owners), len(members))
	}
	if got, want := created["groupTypes"], []any{}; !cmp.Equal(got, want) {
		t.Errorf("groupTypes = %#v, want []", got)
	}
	if n := ms.count(); n != 40 {
		t.Errorf("members after create = %d, want 40", n)
	}
}
