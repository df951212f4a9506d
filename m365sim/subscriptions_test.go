package m365sim_test

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// receiver is a webhook endpoint on loopback: it answers the validation
// handshake as told and records every notification POST it acknowledges.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	handshake string          // "echo" (default), "wrong", "slow", "500", "json"
	answers   []int           // statuses for the next notification POSTs; 202 after
	delays    []time.Duration // delays before answering the next notification POSTs
	attempts  int             // notification POSTs received, acknowledged or not
	posts     chan []map[string]any
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{handshake: "echo", posts: make(chan []map[string]any, 1000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if tok := r.URL.Query().Get("validationToken"); tok != "" {
		rc.mu.Lock()
		mode := rc.handshake
		rc.mu.Unlock()
		switch mode {
		case "wrong":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, strings.ToUpper(tok))
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
		case "500":
			w.WriteHeader(500)
		case "json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tok)
		default:
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
		}
		return
	}
	var body struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(400)
		return
	}
	rc.mu.Lock()
	rc.attempts++
	status, delay := 202, time.Duration(0)
	if len(rc.answers) > 0 {
		status, rc.answers = rc.answers[0], rc.answers[1:]
	}
	if len(rc.delays) > 0 {
		delay, rc.delays = rc.delays[0], rc.delays[1:]
	}
	rc.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
	if status/100 == 2 {
		rc.posts <- body.Value
	}
}

func (rc *receiver) set(f func(*receiver)) {
	rc.mu.Lock()
	f(rc)
	rc.mu.Unlock()
}

// next waits for the next acknowledged POST.
func (rc *receiver) next(t *testing.T) []map[string]any {
	t.Helper()
	select {
	case v := <-rc.posts:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no notification arrived at %s", rc.URL)
		return nil
	}
}

// none checks that nothing was acknowledged so far.
func (rc *receiver) none(t *testing.T) {
	t.Helper()
	select {
	case v := <-rc.posts:
		t.Fatalf("unexpected notification %v", v)
	default:
	}
}

func subOptions() m365sim.Options {
	return m365sim.Options{
		Users: 8, Groups: 2, Seed: 18,
		NotificationDelay:   20 * time.Millisecond,
		ValidationTimeout:   500 * time.Millisecond,
		NotificationTimeout: 500 * time.Millisecond,
		NotificationRetry:   20 * time.Millisecond,
	}
}

func subscribe(t *testing.T, s *m365sim.Server, token string, body map[string]any) response {
	t.Helper()
	return call(t, "POST", s.URL()+"/v1.0/subscriptions", token, body)
}

func subBody(resource, url string, extra ...any) map[string]any {
	b := map[string]any{
		"changeType": "updated,deleted", "notificationUrl": url, "resource": resource,
		"expirationDateTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339), "clientState": "secret-state",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

// waitStats polls /_sim/notifications until ok holds.
func waitStats(t *testing.T, s *m365sim.Server, what string, ok func(m365sim.NotificationStats) bool) m365sim.NotificationStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.NotificationStats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: stats %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func firstID(t *testing.T, s *m365sim.Server, token, path string) string {
	t.Helper()
	r := call(t, "GET", s.URL()+"/v1.0/"+path, token, nil)
	mustStatus(t, r, 200)
	v := r.values()
	if len(v) == 0 {
		t.Fatalf("GET %s: empty", path)
	}
	return v[0]["id"].(string)
}

func TestSubscriptionCreate(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.Read.All", "Group.Read.All")
	group := firstID(t, s, tok, "groups")
	good := newReceiver(t)
	tooLong := time.Now().Add(41761 * time.Minute).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	tests := []struct {
		name      string
		handshake string
		body      map[string]any
		status    int
		code      string
		message   string
	}{
		{name: "users", body: subBody("users", good.URL), status: 201},
		{name: "one user by upn", body: subBody("users/"+s.Facts().AdminUser, good.URL), status: 201},
		{name: "groups", body: subBody("/groups", good.URL), status: 201},
		{name: "group members", body: subBody("groups/"+group+"/members", good.URL), status: 201},
		{name: "with lifecycle url", body: subBody("users", good.URL, "lifecycleNotificationUrl", good.URL+"/lifecycle"), status: 201},
		{name: "longest lifetime", body: subBody("users", good.URL, "expirationDateTime", time.Now().Add(41759*time.Minute).UTC().Format(time.RFC3339)), status: 201},
		{name: "wrong token echoed", handshake: "wrong", body: subBody("users", ""), status: 400, code: "ValidationError",
			message: "Subscription validation request failed. Response must exactly match validationToken query parameter."},
		{name: "token as json", handshake: "json", body: subBody("users", ""), status: 400, code: "ValidationError",
			message: "Subscription validation request failed. Response must exactly match validationToken query parameter."},
		{name: "endpoint answers 500", handshake: "500", body: subBody("users", ""), status: 400, code: "ValidationError",
			message: "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."},
		{name: "slow endpoint", handshake: "slow", body: subBody("users", ""), status: 400, code: "ValidationError",
			message: "Subscription validation request timed out."},
		{name: "lifecycle endpoint fails", handshake: "lifecycle-500", body: subBody("users", good.URL), status: 400, code: "ValidationError",
			message: "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."},
		{name: "expiry too long", body: subBody("users", good.URL, "expirationDateTime", tooLong), status: 400, code: "ExtensionError",
			message: "Operation: Create; Exception: [Status Code: BadRequest; Reason: Subscription expiration can only be 41760 minutes in the future.]"},
		{name: "expiry in the past", body: subBody("users", good.URL, "expirationDateTime", past), status: 400, code: "ExtensionError"},
		{name: "no expiry", body: subBody("users", good.URL, "expirationDateTime", nil), status: 400, code: "InvalidRequest"},
		{name: "unknown change type", body: subBody("users", good.URL, "changeType", "updated,renamed"), status: 400, code: "InvalidRequest"},
		{name: "client state too long", body: subBody("users", good.URL, "clientState", strings.Repeat("x", 129)), status: 400, code: "InvalidRequest"},
		{name: "client state of 128", body: subBody("users", good.URL, "clientState", strings.Repeat("x", 128)), status: 201},
		{name: "unsupported resource", body: subBody("me/messages", good.URL), status: 400, code: "InvalidRequest"},
		{name: "resource data", body: subBody("users", good.URL, "includeResourceData", true), status: 400, code: "InvalidRequest"},
		{name: "unknown user", body: subBody("users/00000000-0000-0000-0000-000000000001", good.URL), status: 404, code: "Request_ResourceNotFound"},
		{name: "http to a remote host", body: subBody("users", "http://example.com/hook"), status: 400, code: "InvalidRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.handshake != "" {
				rc := newReceiver(t)
				if tc.handshake == "lifecycle-500" {
					rc.set(func(r *receiver) { r.handshake = "500" })
					body["lifecycleNotificationUrl"] = rc.URL
				} else {
					rc.set(func(r *receiver) { r.handshake = tc.handshake })
					body["notificationUrl"] = rc.URL
				}
			}
			if body["expirationDateTime"] == nil {
				delete(body, "expirationDateTime")
			}
			r := subscribe(t, s, tok, body)
			mustStatus(t, r, tc.status)
			if tc.status != 201 {
				code, msg := r.errorCode()
				if code != tc.code || (tc.message != "" && msg != tc.message) {
					t.Errorf("error = %s %q, want %s %q", code, msg, tc.code, tc.message)
				}
				return
			}
			for _, k := range []string{"id", "resource", "applicationId", "changeType", "clientState", "notificationUrl", "expirationDateTime", "creatorId"} {
				if r.body[k] == nil {
					t.Errorf("created subscription lacks %s: %s", k, r.raw)
				}
			}
			if got, want := r.body["applicationId"], s.Facts().ClientID; got != want {
				t.Errorf("applicationId = %v, want %v", got, want)
			}
		})
	}
	if got := s.NotificationStats().ValidationFailures; got != 5 {
		t.Errorf("validationFailures = %d, want 5", got)
	}
}

func TestSubscriptionPermissions(t *testing.T) {
	rc := newReceiver(t)
	tests := []struct {
		name     string
		roles    []string
		resource string
		status   int
	}{
		{"users with User.Read.All", []string{"User.Read.All"}, "users", 201},
		{"users with Directory.Read.All", []string{"Directory.Read.All"}, "users", 201},
		{"users with only group permissions", []string{"GroupMember.Read.All"}, "users", 403},
		{"groups with GroupMember.Read.All", []string{"GroupMember.Read.All"}, "groups", 201},
		{"groups with Group.Read.All", []string{"Group.Read.All"}, "groups", 201},
		{"groups with only user permissions", []string{"User.Read.All"}, "groups", 403},
		{"members with only organization permissions", []string{"Organization.Read.All"}, "groups/{group}/members", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStart(t, subOptions()) // consent only adds: a fresh tenant per case
			admin := appToken(t, s, "Group.Read.All")
			group := firstID(t, s, admin, "groups")
			s.Identity().RevokeApp(s.Facts().TenantID, s.Facts().ClientID)
			tok := appToken(t, s, tc.roles...)
			r := subscribe(t, s, tok, subBody(strings.ReplaceAll(tc.resource, "{group}", group), rc.URL))
			mustStatus(t, r, tc.status)
			if tc.status == 403 {
				if code, msg := r.errorCode(); code != "ExtensionError" || msg != "Operation: Create; Exception: [Status Code: Forbidden; Reason: Forbidden]" {
					t.Errorf("error = %s %q", code, msg)
				}
			}
		})
	}
	t.Run("delegated needs User.Read.All", func(t *testing.T) {
		o := subOptions()
		o.RedirectURIs = []string{"http://127.0.0.1:9/callback"}
		s := mustStart(t, o)
		f := s.Facts()
		s.Identity().GrantConsent(f.TenantID, f.ClientID, []string{"User.Read"}, nil)
		tok := delegatedToken(t, s, f.MemberUser, f.MemberPassword, "User.Read")
		mustStatus(t, subscribe(t, s, tok.AccessToken, subBody("users", rc.URL)), 403)
		s.Identity().GrantConsent(f.TenantID, f.ClientID, []string{"User.Read.All"}, nil)
		tok = delegatedToken(t, s, f.MemberUser, f.MemberPassword, "User.Read.All")
		r := subscribe(t, s, tok.AccessToken, subBody("users", rc.URL))
		mustStatus(t, r, 201)
		// Another user of the same app does not see it; the app does not either
		// through a delegated token of someone else.
		other := delegatedToken(t, s, f.AdminUser, f.AdminPassword, "User.Read.All")
		mustStatus(t, call(t, "GET", s.URL()+"/v1.0/subscriptions/"+r.body["id"].(string), other.AccessToken, nil), 404)
		mustStatus(t, call(t, "GET", s.URL()+"/v1.0/subscriptions/"+r.body["id"].(string), tok.AccessToken, nil), 200)
	})
}

func TestSubscriptionQuota(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.Read.All")
	rc := newReceiver(t)
	for i := 0; i < 100; i++ {
		mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
	}
	r := subscribe(t, s, tok, subBody("users", rc.URL))
	mustStatus(t, r, 403)
	if code, msg := r.errorCode(); code != "ExtensionError" || !strings.Contains(msg, "at most 100 subscriptions") {
		t.Errorf("error = %s %q", code, msg)
	}
	if got := len(call(t, "GET", s.URL()+"/v1.0/subscriptions", tok, nil).values()); got != 100 {
		t.Errorf("listed %d subscriptions, want 100", got)
	}
	// Deleting one frees a place.
	id := call(t, "GET", s.URL()+"/v1.0/subscriptions", tok, nil).values()[0]["id"].(string)
	mustStatus(t, call(t, "DELETE", s.URL()+"/v1.0/subscriptions/"+id, tok, nil), 204)
	mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
}

// normalize replaces the ids and times of a notification batch with
// placeholders, so it can be compared with the golden file.
func normalize(batch []map[string]any, names map[string]string) []map[string]any {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				switch k {
				case "eventTime", "subscriptionExpirationDateTime":
					if s, ok := e.(string); ok && s != "" {
						e = "{time}"
					}
				case "sequenceNumber":
					if _, ok := e.(float64); ok {
						e = "{seq}"
					}
				}
				out[k] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e)
			}
			return out
		case string:
			for id, name := range names {
				x = strings.ReplaceAll(x, id, name)
			}
			return x
		}
		return v
	}
	out := make([]map[string]any, len(batch))
	for i, m := range batch {
		out[i] = walk(m).(map[string]any)
	}
	return out
}

// TestNotificationShapes drives every kind of change through Graph and
// /_sim/ and compares what the receivers get with testdata/notifications.golden
// (shapes as in Microsoft's directory examples).
func TestNotificationShapes(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.ReadWrite.All", "Group.ReadWrite.All")
	f := s.Facts()
	users, groups, members := newReceiver(t), newReceiver(t), newReceiver(t)
	group := firstID(t, s, tok, "groups")
	subU := subscribe(t, s, tok, subBody("users", users.URL))
	subG := subscribe(t, s, tok, subBody("groups", groups.URL))
	subM := subscribe(t, s, tok, subBody("groups/"+group+"/members", members.URL, "clientState", nil))
	for _, r := range []response{subU, subG, subM} {
		mustStatus(t, r, 201)
	}
	created := call(t, "POST", s.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "nora.new", "displayName": "Nora New"})
	mustStatus(t, created, 201)
	nora := created.body["id"].(string)
	names := map[string]string{
		subU.body["id"].(string): "{users-subscription}", subG.body["id"].(string): "{groups-subscription}",
		subM.body["id"].(string): "{members-subscription}", f.TenantID: "{tenant}", nora: "{nora}", group: "{group}",
	}
	got := map[string][]map[string]any{}
	got["1 user created (_sim): users"] = normalize(users.next(t), names)

	mustStatus(t, call(t, "PATCH", s.URL()+"/v1.0/users/"+nora, tok, map[string]any{"jobTitle": "Engineer"}), 204)
	got["2 user updated (Graph): users"] = normalize(users.next(t), names)

	mustStatus(t, call(t, "POST", s.URL()+"/v1.0/groups/"+group+"/members/$ref", tok,
		map[string]any{"@odata.id": s.URL() + "/v1.0/directoryObjects/" + nora}), 204)
	got["3 member added (Graph): groups"] = normalize(groups.next(t), names)
	got["3 member added (Graph): members"] = normalize(members.next(t), names)

	mustStatus(t, call(t, "DELETE", s.URL()+"/_sim/groups/"+group+"/members/"+nora, "", nil), 204)
	got["4 member removed (_sim): groups"] = normalize(groups.next(t), names)
	got["4 member removed (_sim): members"] = normalize(members.next(t), names)

	mustStatus(t, call(t, "PATCH", s.URL()+"/v1.0/groups/"+group, tok, map[string]any{"description": "Changed"}), 204)
	got["5 group updated (Graph): groups"] = normalize(groups.next(t), names)

	mustStatus(t, call(t, "DELETE", s.URL()+"/_sim/users/"+nora, "", nil), 204)
	got["6 user deleted (_sim): users"] = normalize(users.next(t), names)

	mustStatus(t, call(t, "DELETE", s.URL()+"/v1.0/groups/"+group, tok, nil), 204)
	got["7 group deleted (Graph): groups"] = normalize(groups.next(t), names)

	raw, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "notifications.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(raw)+"\n"); diff != "" {
		t.Errorf("notifications differ from %s (-want +got):\n%s", golden, diff)
	}
	users.none(t)
	groups.none(t)
	members.none(t)
}

func TestNotificationBatching(t *testing.T) {
	o := subOptions()
	o.NotificationDelay = 300 * time.Millisecond
	s := mustStart(t, o)
	tok := appToken(t, s, "User.Read.All")
	rc := newReceiver(t)
	mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
	var ids []string
	for _, v := range call(t, "GET", s.URL()+"/v1.0/users?$top=3", tok, nil).values() {
		ids = append(ids, v["id"].(string))
	}
	for _, id := range append(ids, ids[0]) { // the first user twice: one notification
		mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "Batch " + id}), 204)
	}
	batch := rc.next(t)
	var got []string
	for _, n := range batch {
		if n["clientState"] != "secret-state" {
			t.Errorf("clientState = %v, want secret-state", n["clientState"])
		}
		got = append(got, n["resourceData"].(map[string]any)["id"].(string))
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("one POST with each user once (-want +got):\n%s", diff)
	}
	st := waitStats(t, s, "delivery", func(st m365sim.NotificationStats) bool { return st.Delivered == 3 })
	if st.Posts != 1 || st.Pending != 0 {
		t.Errorf("posts = %d, pending = %d; want 1 and 0", st.Posts, st.Pending)
	}
}

func TestNotificationDeliveryFaults(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*testing.T, *m365sim.Server, *receiver)
		changes int
		posts   int // acknowledged POSTs expected at the receiver
		check   func(*testing.T, m365sim.NotificationStats, *receiver)
	}{
		{
			name: "retry after 500",
			setup: func(t *testing.T, s *m365sim.Server, rc *receiver) {
				rc.set(func(r *receiver) { r.answers = []int{500, 503} })
			},
			changes: 1, posts: 1,
			check: func(t *testing.T, st m365sim.NotificationStats, rc *receiver) {
				if st.Failed != 2 || st.Retried != 2 || st.Delivered != 1 {
					t.Errorf("failed/retried/delivered = %d/%d/%d, want 2/2/1", st.Failed, st.Retried, st.Delivered)
				}
			},
		},
		{
			name: "retry after a slow answer",
			setup: func(t *testing.T, s *m365sim.Server, rc *receiver) {
				rc.set(func(r *receiver) { r.delays = []time.Duration{2 * time.Second} })
			},
			changes: 1, posts: 1,
			check: func(t *testing.T, st m365sim.NotificationStats, rc *receiver) {
				if st.Failed != 1 || st.Delivered != 1 {
					t.Errorf("failed/delivered = %d/%d, want 1/1", st.Failed, st.Delivered)
				}
			},
		},
		{
			name: "drop the next one",
			setup: func(t *testing.T, s *m365sim.Server, rc *receiver) {
				mustStatus(t, call(t, "POST", s.URL()+"/_sim/notifications", "", map[string]any{"drop": 1}), 200)
			},
			changes: 2, posts: 1,
			check: func(t *testing.T, st m365sim.NotificationStats, rc *receiver) {
				if st.Dropped != 1 || st.Delivered != 1 || st.Drop != 0 {
					t.Errorf("dropped/delivered/drop = %d/%d/%d, want 1/1/0", st.Dropped, st.Delivered, st.Drop)
				}
			},
		},
		{
			name: "duplicate the next one",
			setup: func(t *testing.T, s *m365sim.Server, rc *receiver) {
				mustStatus(t, call(t, "POST", s.URL()+"/_sim/notifications", "", map[string]any{"duplicate": 1}), 200)
			},
			changes: 1, posts: 2,
			check: func(t *testing.T, st m365sim.NotificationStats, rc *receiver) {
				if st.Duplicated != 1 || rc.attempts != 2 {
					t.Errorf("duplicated = %d, receiver attempts = %d; want 1 and 2", st.Duplicated, rc.attempts)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStart(t, subOptions())
			tok := appToken(t, s, "User.Read.All")
			rc := newReceiver(t)
			mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
			tc.setup(t, s, rc)
			id := firstID(t, s, tok, "users")
			for i := 0; i < tc.changes; i++ {
				mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "Fault " + string(rune('A'+i))}), 204)
				if tc.changes > 1 {
					waitStats(t, s, "the change to leave the batch", func(st m365sim.NotificationStats) bool { return st.Dropped+st.Delivered > i })
				}
			}
			for i := 0; i < tc.posts; i++ {
				batch := rc.next(t)
				if len(batch) != 1 || batch[0]["resource"] != "Users/"+id {
					t.Errorf("POST %d = %v, want one notification for Users/%s", i, batch, id)
				}
			}
			st := waitStats(t, s, "nothing pending", func(st m365sim.NotificationStats) bool { return st.Pending == 0 })
			rc.mu.Lock()
			defer rc.mu.Unlock()
			tc.check(t, st, rc)
		})
	}
	t.Run("delay holds delivery back", func(t *testing.T) {
		s := mustStart(t, subOptions())
		tok := appToken(t, s, "User.Read.All")
		rc := newReceiver(t)
		mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
		mustStatus(t, call(t, "POST", s.URL()+"/_sim/notifications", "", map[string]any{"latencyMs": 60000}), 200)
		id := firstID(t, s, tok, "users")
		mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "Late"}), 204)
		st := waitStats(t, s, "the notification in flight", func(st m365sim.NotificationStats) bool { return st.Pending == 1 })
		if st.LatencyMs != 60000 || st.Delivered != 0 {
			t.Errorf("latencyMs = %d, delivered = %d; want 60000 and 0", st.LatencyMs, st.Delivered)
		}
		rc.none(t)
		got := call(t, "GET", s.URL()+"/_sim/notifications", "", nil)
		mustStatus(t, got, 200)
		if got.body["pending"] != float64(1) {
			t.Errorf("GET /_sim/notifications pending = %v, want 1", got.body["pending"])
		}
	})
	t.Run("retries stop after four hours", func(t *testing.T) {
		o := subOptions()
		o.NotificationRetry = 200 * time.Millisecond
		s := mustStart(t, o)
		tok := appToken(t, s, "User.Read.All")
		rc := newReceiver(t)
		mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
		rc.set(func(r *receiver) { r.answers = []int{500, 500, 500, 500, 500, 500, 500, 500} })
		id := firstID(t, s, tok, "users")
		mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "Never"}), 204)
		waitStats(t, s, "a failure", func(st m365sim.NotificationStats) bool { return st.Failed >= 1 })
		s.Advance(4*time.Hour + time.Minute)
		st := waitStats(t, s, "giving up", func(st m365sim.NotificationStats) bool { return st.GaveUp == 1 })
		if st.Pending != 0 || st.Delivered != 0 {
			t.Errorf("pending = %d, delivered = %d; want 0 and 0", st.Pending, st.Delivered)
		}
	})
}

func TestSubscriptionLifecycle(t *testing.T) {
	o := subOptions()
	o.ReauthorizeBefore = time.Hour
	s := mustStart(t, o)
	tok := appToken(t, s, "User.Read.All")
	rc, life := newReceiver(t), newReceiver(t)
	exp := time.Now().Add(3 * time.Hour).UTC()
	r := subscribe(t, s, tok, subBody("users", rc.URL, "lifecycleNotificationUrl", life.URL, "expirationDateTime", exp.Format(time.RFC3339)))
	mustStatus(t, r, 201)
	id := r.body["id"].(string)
	base := s.URL() + "/v1.0/subscriptions/" + id

	// Two hours on, less than the hour remains: a reauthorizationRequired.
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/clock", "", map[string]any{"advance": "2h1m"}), 200)
	got := life.next(t)
	want := []map[string]any{{
		"subscriptionId": id, "subscriptionExpirationDateTime": exp.Format("2006-01-02T15:04:05-07:00"),
		"tenantId": s.Facts().TenantID, "clientState": "secret-state", "lifecycleEvent": "reauthorizationRequired",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lifecycle notification (-want +got):\n%s", diff)
	}
	// Reauthorizing clears the challenge without extending the expiry.
	tok = appToken(t, s) // a token issued now (the old one has expired in simulator time)
	mustStatus(t, call(t, "POST", base+"/reauthorize", tok, nil), 204)
	if g := call(t, "GET", base, tok, nil); g.body["expirationDateTime"] != exp.Format("2006-01-02T15:04:05Z") {
		t.Errorf("expiry after reauthorize = %v, want %s", g.body["expirationDateTime"], exp.Format(time.RFC3339))
	}
	// PATCH renews: too long is refused, within the limit is taken.
	r = call(t, "PATCH", base, tok, map[string]any{"expirationDateTime": time.Now().Add(2*time.Hour + 41762*time.Minute).UTC().Format(time.RFC3339)})
	mustStatus(t, r, 400)
	if code, msg := r.errorCode(); code != "ExtensionError" || !strings.Contains(msg, "Operation: Update") {
		t.Errorf("error = %s %q", code, msg)
	}
	mustStatus(t, call(t, "PATCH", base, tok, map[string]any{"clientState": "new"}), 400)
	renewed := time.Now().Add(2*time.Hour + 48*time.Hour).UTC().Truncate(time.Second)
	r = call(t, "PATCH", base, tok, map[string]any{"expirationDateTime": renewed.Format(time.RFC3339)})
	mustStatus(t, r, 200)
	if r.body["expirationDateTime"] != renewed.Format("2006-01-02T15:04:05Z") {
		t.Errorf("renewed expiry = %v, want %s", r.body["expirationDateTime"], renewed)
	}
	// Past the new expiry the subscription is gone.
	s.Advance(49 * time.Hour)
	tok = appToken(t, s)
	mustStatus(t, call(t, "GET", base, tok, nil), 404)
	life.none(t) // the clock jumped past the renewed expiry: no second challenge
}

func TestSubscriptionRevokedGrant(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.Read.All")
	rc, life := newReceiver(t), newReceiver(t)
	r := subscribe(t, s, tok, subBody("users", rc.URL, "lifecycleNotificationUrl", life.URL))
	mustStatus(t, r, 201)
	id := r.body["id"].(string)
	s.Advance(2 * time.Second) // tokens carry whole seconds: tok is now clearly older than the revocation
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/revoke", "", map[string]any{"app": true}), 204)
	got := life.next(t)
	if len(got) != 1 || got[0]["lifecycleEvent"] != "reauthorizationRequired" || got[0]["subscriptionId"] != id {
		t.Fatalf("lifecycle = %v, want reauthorizationRequired for %s", got, id)
	}
	// Changes are not delivered until the subscription is reauthorized.
	user := firstID(t, s, tok, "users")
	mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+user, "", map[string]any{"jobTitle": "Unseen"}), 204)
	if st := s.NotificationStats(); st.Paused != 1 {
		t.Errorf("paused = %d, want 1", st.Paused)
	}
	// The token issued before the revocation cannot reauthorize, nor one
	// without the permission.
	r = call(t, "POST", s.URL()+"/v1.0/subscriptions/"+id+"/reauthorize", tok, nil)
	mustStatus(t, r, 403)
	mustStatus(t, call(t, "POST", s.URL()+"/v1.0/subscriptions/"+id+"/reauthorize", appToken(t, s), nil), 403)
	// After a new consent and a new token it can.
	mustStatus(t, call(t, "POST", s.URL()+"/v1.0/subscriptions/"+id+"/reauthorize", appToken(t, s, "User.Read.All"), nil), 204)
	mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+user, "", map[string]any{"jobTitle": "Seen"}), 204)
	if batch := rc.next(t); len(batch) != 1 || batch[0]["resource"] != "Users/"+user {
		t.Errorf("after reauthorize = %v, want one notification for Users/%s", batch, user)
	}
}

func TestSubscriptionEndpoints(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.Read.All")
	rc := newReceiver(t)
	r := subscribe(t, s, tok, subBody("users", rc.URL))
	mustStatus(t, r, 201)
	id := r.body["id"].(string)
	base := s.URL() + "/v1.0/subscriptions/"
	unknown := "6e3ff9a1-0000-4000-8000-000000000000"
	tests := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", unknown, nil, 404},
		{"PATCH", unknown, map[string]any{"expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 404},
		{"DELETE", unknown, nil, 404},
		{"POST", unknown + "/reauthorize", nil, 404},
		{"GET", id, nil, 200},
		{"DELETE", id, nil, 204},
		{"GET", id, nil, 404},
		{"DELETE", id, nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			mustStatus(t, call(t, tc.method, base+tc.path, tok, tc.body), tc.status)
		})
	}
	// A deleted subscription is not listed and sends nothing.
	user := firstID(t, s, tok, "users")
	mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+user, "", map[string]any{"jobTitle": "After delete"}), 204)
	if got := call(t, "GET", s.URL()+"/v1.0/subscriptions", tok, nil).values(); len(got) != 0 {
		t.Errorf("list after delete = %v, want none", got)
	}
	// The expire control removes a subscription now.
	r = subscribe(t, s, tok, subBody("users", rc.URL))
	mustStatus(t, r, 201)
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/subscriptions/"+r.body["id"].(string)+"/expire", "", nil), 204)
	mustStatus(t, call(t, "GET", base+r.body["id"].(string), tok, nil), 404)
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/subscriptions/"+unknown+"/expire", "", nil), 404)
	if st := s.NotificationStats(); st.Expired != 1 || st.Delivered != 0 {
		t.Errorf("expired = %d, delivered = %d; want 1 and 0", st.Expired, st.Delivered)
	}
	rc.none(t)
}

// TestNotificationThrottling follows Graph's documented throttling of slow
// endpoints: after 100 POSTs, 10 % slow answers delay the endpoint's
// notifications (and its retries) by ThrottleDelay, 15 % drop them.
func TestNotificationThrottling(t *testing.T) {
	tests := []struct {
		name      string
		slow      int // of the first 100 POSTs, answered after the timeout
		throttled int // endpoints
		held      int // notifications of the second change held back
		dropped   int // at least, of the second change (and retries)
	}{
		{name: "5 % slow: not throttled", slow: 5},
		{name: "12 % slow: delayed", slow: 12, throttled: 1, held: 100},
		{name: "20 % slow: dropped", slow: 20, throttled: 1, dropped: 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := subOptions()
			o.NotificationTimeout = time.Second
			o.ThrottleDelay = time.Minute
			s := mustStart(t, o)
			tok := appToken(t, s, "User.Read.All")
			rc := newReceiver(t)
			for i := 0; i < 100; i++ { // one POST per subscription and change
				mustStatus(t, subscribe(t, s, tok, subBody("users", rc.URL)), 201)
			}
			rc.set(func(r *receiver) {
				for i := 0; i < tc.slow; i++ {
					r.delays = append(r.delays, 1200*time.Millisecond)
				}
			})
			id := firstID(t, s, tok, "users")
			mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "First"}), 204)
			st := waitStats(t, s, "the first 100 answers", func(st m365sim.NotificationStats) bool {
				return st.Failed == tc.slow && st.Delivered >= 100-tc.slow
			})
			if st.ThrottledEndpoints != tc.throttled {
				t.Errorf("throttledEndpoints = %d, want %d", st.ThrottledEndpoints, tc.throttled)
			}
			mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "Second"}), 204)
			switch {
			case tc.held > 0:
				st = waitStats(t, s, "the second change held back", func(st m365sim.NotificationStats) bool { return st.Throttled == tc.held })
				if st.Delivered > 100 || st.Pending < tc.held {
					t.Errorf("delivered = %d, pending = %d; want at most 100 and at least %d", st.Delivered, st.Pending, tc.held)
				}
			case tc.dropped > 0:
				st = waitStats(t, s, "the second change dropped", func(st m365sim.NotificationStats) bool {
					return st.ThrottleDropped >= tc.dropped && st.Pending <= tc.slow
				})
				if st.Delivered > 100 {
					t.Errorf("delivered = %d, want at most 100", st.Delivered)
				}
			default:
				waitStats(t, s, "all delivered", func(st m365sim.NotificationStats) bool { return st.Delivered == 200 && st.Pending == 0 })
			}
		})
	}
}

// TestSubscriptionsSurviveRestart: with a state file, subscriptions (not
// notifications in flight) are kept across a restart and keep delivering.
func TestSubscriptionsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	o := subOptions()
	o.StatePath = path
	s1 := mustStart(t, o)
	tok := appToken(t, s1, "User.Read.All")
	rc := newReceiver(t)
	r := subscribe(t, s1, tok, subBody("users", rc.URL))
	mustStatus(t, r, 201)
	id := r.body["id"].(string)
	gone := subscribe(t, s1, tok, subBody("users", rc.URL))
	mustStatus(t, gone, 201)
	mustStatus(t, call(t, "DELETE", s1.URL()+"/v1.0/subscriptions/"+gone.body["id"].(string), tok, nil), 204)
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	o2 := subOptions()
	o2.StatePath = path
	s2 := mustStart(t, o2)
	list := call(t, "GET", s2.URL()+"/v1.0/subscriptions", tok, nil)
	mustStatus(t, list, 200)
	if diff := cmp.Diff(r.body["id"], list.values()[0]["id"]); diff != "" || len(list.values()) != 1 {
		t.Fatalf("subscriptions after restart = %s, want only %s", list.raw, id)
	}
	want := map[string]any{}
	for k, v := range r.body {
		if k != "@odata.context" {
			want[k] = v
		}
	}
	if diff := cmp.Diff(want, list.values()[0]); diff != "" {
		t.Errorf("subscription after restart (-before +after):\n%s", diff)
	}
	user := firstID(t, s2, tok, "users")
	mustStatus(t, call(t, "PATCH", s2.URL()+"/_sim/users/"+user, "", map[string]any{"jobTitle": "Restarted"}), 204)
	if batch := rc.next(t); len(batch) != 1 || batch[0]["subscriptionId"] != id || batch[0]["clientState"] != "secret-state" {
		t.Errorf("after restart = %v, want one notification for subscription %s", batch, id)
	}
}

func TestSubscriptionLifecycleControls(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.Read.All")
	rc, life := newReceiver(t), newReceiver(t)
	plain := subscribe(t, s, tok, subBody("users", rc.URL))
	mustStatus(t, plain, 201)
	r := subscribe(t, s, tok, subBody("users", rc.URL, "lifecycleNotificationUrl", life.URL))
	mustStatus(t, r, 201)
	id := r.body["id"].(string)
	ctl := s.URL() + "/_sim/subscriptions/"

	listed := call(t, "GET", s.URL()+"/_sim/subscriptions", "", nil)
	mustStatus(t, listed, 200)
	if got := listed.values(); len(got) != 2 || got[1]["id"] != id || got[1]["clientState"] != nil {
		t.Errorf("GET /_sim/subscriptions = %s, want both, oldest first, without clientState", listed.raw)
	}
	tests := []struct {
		name   string
		sub    string
		event  string
		status int
		alive  bool // the subscription still exists afterwards
	}{
		{"unknown event", id, "renamed", 400, true},
		{"no lifecycle url", plain.body["id"].(string), "missed", 409, true},
		{"unknown subscription", "6e3ff9a1-0000-4000-8000-000000000000", "missed", 404, false},
		{"missed", id, "missed", 204, true},
		{"subscriptionRemoved", id, "subscriptionRemoved", 204, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustStatus(t, call(t, "POST", ctl+tc.sub+"/lifecycle", "", map[string]any{"event": tc.event}), tc.status)
			if tc.status == 204 {
				got := life.next(t)
				if len(got) != 1 || got[0]["lifecycleEvent"] != tc.event || got[0]["subscriptionId"] != id {
					t.Errorf("lifecycle = %v, want %s for %s", got, tc.event, id)
				}
			}
			want := 404
			if tc.alive {
				want = 200
			}
			mustStatus(t, call(t, "GET", s.URL()+"/v1.0/subscriptions/"+tc.sub, tok, nil), want)
		})
	}
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/notifications", "", map[string]any{"drop": -1}), 400)
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/notifications", "", map[string]any{"drop": 2, "duplicate": 1, "latencyMs": 5}), 200)
	mustStatus(t, call(t, "DELETE", s.URL()+"/_sim/notifications", "", nil), 204)
	if st := waitStats(t, s, "two lifecycle notifications", func(st m365sim.NotificationStats) bool { return st.Lifecycle == 2 }); st.Drop != 0 || st.Duplicate != 0 || st.LatencyMs != 0 {
		t.Errorf("controls after DELETE = %+v, want none and 2 lifecycle notifications", st)
	}
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/reset", "", nil), 204)
	if st := s.NotificationStats(); st.Subscriptions != 0 {
		t.Errorf("subscriptions after reset = %d, want 0", st.Subscriptions)
	}
}

// TestSubscriptionRevokedUser: revoking a user's sessions challenges the
// subscriptions that user created with delegated tokens, and only those;
// the old token is refused, a new sign-in reauthorizes.
func TestSubscriptionRevokedUser(t *testing.T) {
	o := subOptions()
	o.RedirectURIs = []string{"http://127.0.0.1:9/callback"}
	s := mustStart(t, o)
	f := s.Facts()
	s.Identity().GrantConsent(f.TenantID, f.ClientID, []string{"User.Read.All"}, []string{"User.Read.All"})
	member := delegatedToken(t, s, f.MemberUser, f.MemberPassword, "User.Read.All").AccessToken
	app := appToken(t, s)
	rc, life := newReceiver(t), newReceiver(t)
	mine := subscribe(t, s, member, subBody("users", rc.URL, "lifecycleNotificationUrl", life.URL))
	mustStatus(t, mine, 201)
	appSub := subscribe(t, s, app, subBody("users", rc.URL, "lifecycleNotificationUrl", life.URL))
	mustStatus(t, appSub, 201)
	id := mine.body["id"].(string)

	s.Advance(2 * time.Second)
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/revoke", "", map[string]any{"user": f.MemberUser}), 204)
	if got := life.next(t); len(got) != 1 || got[0]["subscriptionId"] != id || got[0]["lifecycleEvent"] != "reauthorizationRequired" {
		t.Fatalf("lifecycle = %v, want reauthorizationRequired for %s only", got, id)
	}
	user := firstID(t, s, app, "users")
	mustStatus(t, call(t, "PATCH", s.URL()+"/_sim/users/"+user, "", map[string]any{"jobTitle": "Half seen"}), 204)
	if batch := rc.next(t); len(batch) != 1 || batch[0]["subscriptionId"] != appSub.body["id"] {
		t.Errorf("delivered = %v, want only the app's subscription", batch)
	}
	if st := s.NotificationStats(); st.Paused != 1 {
		t.Errorf("paused = %d, want 1 (the member's subscription)", st.Paused)
	}
	mustStatus(t, call(t, "POST", s.URL()+"/v1.0/subscriptions/"+id+"/reauthorize", member, nil), 401)
	member = delegatedToken(t, s, f.MemberUser, f.MemberPassword, "User.Read.All").AccessToken
	mustStatus(t, call(t, "POST", s.URL()+"/v1.0/subscriptions/"+id+"/reauthorize", member, nil), 204)
	life.none(t)
}

// TestDeletionChangeTypes: Microsoft sends "updated" when a user or a
// group is soft-deleted (moved to deleted items) and "deleted" only when it
// is deleted permanently (Microsoft Entra events: "Microsoft Graph sends an
// updated event when users are soft deleted"; UserDeleted and GroupDeleted
// are "permanently deleted"; decision 0018).
func TestDeletionChangeTypes(t *testing.T) {
	s := mustStart(t, subOptions())
	tok := appToken(t, s, "User.ReadWrite.All", "Group.ReadWrite.All")
	users, groups := newReceiver(t), newReceiver(t)
	mustStatus(t, subscribe(t, s, tok, subBody("users", users.URL)), 201)
	mustStatus(t, subscribe(t, s, tok, subBody("groups", groups.URL)), 201)
	for _, tc := range []struct {
		name    string
		create  string         // /_sim/ path
		body    map[string]any // creation body
		delete  string         // path prefix of the deletion, id appended
		rc      *receiver
		resName string
		want    string
	}{
		{"user soft-deleted through Graph", "/_sim/users", map[string]any{"userPrincipalName": "soft.user"}, "/v1.0/users/", users, "Users/", "updated"},
		{"user deleted permanently through /_sim/", "/_sim/users", map[string]any{"userPrincipalName": "hard.user"}, "/_sim/users/", users, "Users/", "deleted"},
		{"Microsoft 365 group soft-deleted through Graph", "/_sim/groups", map[string]any{"displayName": "Soft team", "unified": true}, "/v1.0/groups/", groups, "Groups/", "updated"},
		{"security group deleted through Graph (permanent)", "/_sim/groups", map[string]any{"displayName": "Hard security"}, "/v1.0/groups/", groups, "Groups/", "deleted"},
		{"group deleted permanently through /_sim/", "/_sim/groups", map[string]any{"displayName": "Hard sim", "unified": true}, "/_sim/groups/", groups, "Groups/", "deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			created := call(t, "POST", s.URL()+tc.create, "", tc.body)
			mustStatus(t, created, 201)
			id := created.body["id"].(string)
			tc.rc.next(t) // the creation
			token := ""
			if strings.HasPrefix(tc.delete, "/v1.0/") {
				token = tok
			}
			mustStatus(t, call(t, "DELETE", s.URL()+tc.delete+id, token, nil), 204)
			var got []string
			for _, n := range tc.rc.next(t) {
				if n["resource"] == tc.resName+id {
					got = append(got, n["changeType"].(string))
				}
			}
			if want := []string{tc.want}; !slices.Equal(got, want) {
				t.Errorf("changeType of %s%s = %v, want %v", tc.resName, id, got, want)
			}
		})
	}
}

// TestDeletedItemsLifecycle follows a user and a Microsoft 365 group
// through deleted items: what a subscriber is notified and what a delta
// reader sees. Microsoft: a soft deletion is notified "updated" and shows
// in delta as @removed reason "changed"; a permanent deletion — purged
// through DELETE /directory/deletedItems/{id} or after the 30-day
// retention — is "deleted" in both (delta-query-users; Microsoft Entra
// events; decision 0018). A restore brings the object back: "updated", and
// delta returns it without @removed.
func TestDeletedItemsLifecycle(t *testing.T) {
	type env struct {
		s   *m365sim.Server
		tok string
		sub string // subscription id
		id  string // the user or group
		obj string // "users" or "groups"
	}
	roles := []string{"User.ReadWrite.All", "Group.ReadWrite.All"}
	softDelete := func(t *testing.T, e *env) {
		mustStatus(t, call(t, "DELETE", e.s.URL()+"/v1.0/"+e.obj+"/"+e.id, e.tok, nil), 204)
	}
	advance := func(t *testing.T, e *env, d string) {
		mustStatus(t, call(t, "POST", e.s.URL()+"/_sim/clock", "", map[string]any{"advance": d}), 200)
		e.tok = appToken(t, e.s, roles...) // the old token has expired
	}
	for _, kind := range []struct {
		obj    string
		create string
		body   map[string]any
	}{
		{"users", "/_sim/users", map[string]any{"userPrincipalName": "leaver"}},
		{"groups", "/_sim/groups", map[string]any{"displayName": "Project team", "unified": true}},
	} {
		for _, tc := range []struct {
			name       string
			setup, act func(*testing.T, *env)
			wantChange string // the notification's changeType
			wantReason string // delta's @removed reason; "" when returned as present
		}{
			{"soft delete", nil, softDelete, "updated", "changed"},
			{"restore", softDelete, func(t *testing.T, e *env) {
				mustStatus(t, call(t, "POST", e.s.URL()+"/v1.0/directory/deletedItems/"+e.id+"/restore", e.tok, nil), 200)
			}, "updated", ""},
			{"purge through deletedItems", softDelete, func(t *testing.T, e *env) {
				mustStatus(t, call(t, "DELETE", e.s.URL()+"/v1.0/directory/deletedItems/"+e.id, e.tok, nil), 204)
				mustStatus(t, call(t, "GET", e.s.URL()+"/v1.0/directory/deletedItems/"+e.id, e.tok, nil), 404)
			}, "deleted", "deleted"},
			{"purge when the retention runs out", func(t *testing.T, e *env) {
				softDelete(t, e)
				// 25 days on, still restorable; the subscription is renewed
				// (at most 41,760 minutes) and the delta link taken within
				// its 7 days.
				advance(t, e, "600h")
				mustStatus(t, call(t, "GET", e.s.URL()+"/v1.0/directory/deletedItems/"+e.id, e.tok, nil), 200)
				exp := time.Now().Add(600*time.Hour + 20*24*time.Hour).UTC().Format(time.RFC3339)
				mustStatus(t, call(t, "PATCH", e.s.URL()+"/v1.0/subscriptions/"+e.sub, e.tok, map[string]any{"expirationDateTime": exp}), 200)
			}, func(t *testing.T, e *env) {
				advance(t, e, "121h") // 30 days and an hour after the deletion
			}, "deleted", "deleted"},
		} {
			t.Run(kind.obj+"/"+tc.name, func(t *testing.T) {
				e := &env{s: mustStart(t, subOptions()), obj: kind.obj}
				e.tok = appToken(t, e.s, roles...)
				rc := newReceiver(t)
				sub := subscribe(t, e.s, e.tok, subBody(kind.obj, rc.URL, "expirationDateTime", time.Now().Add(41000*time.Minute).UTC().Format(time.RFC3339)))
				mustStatus(t, sub, 201)
				e.sub = sub.body["id"].(string)
				created := call(t, "POST", e.s.URL()+kind.create, "", kind.body)
				mustStatus(t, created, 201)
				e.id = created.body["id"].(string)
				rc.next(t) // the creation
				if tc.setup != nil {
					tc.setup(t, e)
					rc.next(t)
				}
				latest := call(t, "GET", e.s.URL()+"/v1.0/"+kind.obj+"/delta?$deltatoken=latest", e.tok, nil)
				mustStatus(t, latest, 200)
				link := latest.body["@odata.deltaLink"].(string)

				tc.act(t, e)
				resource := map[string]string{"users": "Users/", "groups": "Groups/"}[kind.obj] + e.id
				var got []string
				for _, n := range rc.next(t) {
					if n["resource"] == resource {
						got = append(got, n["changeType"].(string))
					}
				}
				if want := []string{tc.wantChange}; !slices.Equal(got, want) {
					t.Errorf("changeType of %s = %v, want %v", resource, got, want)
				}
				items, _ := syncDelta(t, link, e.tok)
				reason, seen := "", false
				for _, it := range items {
					if it["id"] != e.id {
						continue
					}
					seen = true
					if r, ok := it["@removed"].(map[string]any); ok {
						reason, _ = r["reason"].(string)
					}
				}
				if !seen || reason != tc.wantReason {
					t.Errorf("delta: %s seen %v with @removed reason %q, want seen with %q (items %v)", e.id, seen, reason, tc.wantReason, items)
				}
			})
		}
	}
}
