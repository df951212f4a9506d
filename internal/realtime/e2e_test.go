package realtime_test

// End-to-end tests over the whole stack (testenv: the simulator and
// tenantlink on loopback, River working jobs): subscriptions made when a
// group's sync turns real time on, the handshake, notifications turning
// into runs, renewal, recreation and reauthorization.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/realtime"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// world is a running stack with an authorized data source, a source group
// in the tenant and a local group syncing it in real time.
type world struct {
	E        *testenv.Env
	DSID     string
	Tenant   string
	SrcGroup string // the tenant's group id
	Group    string // the local group id
}

func newWorld(t *testing.T, o testenv.Options) *world {
	t.Helper()
	if o.Realtime.Window == 0 {
		o.Realtime.Window = 300 * time.Millisecond
	}
	o.Realtime.Interval = time.Hour // tests drive maintenance themselves
	o.RunJobs = true
	if o.Users == 0 {
		o.Users, o.Groups = 8, 1
	}
	e := testenv.New(t, o)
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", nil)
	w := &world{E: e, DSID: ds.ID}
	var stored struct{ Account string }
	e.Admin.In(t).Must(http.StatusOK, "GET", "/api/v1/datasources/"+ds.ID, nil, &stored)
	w.Tenant = stored.Account
	var g struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": "Realtime source"}), &g); err != nil {
		t.Fatal(err)
	}
	w.SrcGroup = g.ID
	var lg struct{ ID string }
	e.Admin.In(t).Must(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": "Realtime"}, &lg)
	w.Group = lg.ID
	return w
}

// turnOn sets the group's sync with real time on and waits for both
// subscriptions to be active.
func (w *world) turnOn(t *testing.T) []*store.GraphSubscription {
	t.Helper()
	w.E.Admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+w.Group+"/sync", map[string]any{
		"enabled": true, "datasource": w.DSID, "sourceGroup": w.SrcGroup, "missingUsers": "remove", "realtime": true}, nil)
	var subs []*store.GraphSubscription
	testenv.WaitFor(t, 30*time.Second, "both subscriptions active", func() bool {
		subs = w.subs(t)
		return len(subs) == 2 && subs[0].Status == store.SubscriptionActive && subs[1].Status == store.SubscriptionActive
	})
	return subs
}

func (w *world) subs(t *testing.T) []*store.GraphSubscription {
	t.Helper()
	subs, err := w.E.App.Store.ListGraphSubscriptions(context.Background(), w.DSID)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// newMember creates a user in the tenant and adds it to the source group.
func (w *world) newMember(t *testing.T, name string) string {
	t.Helper()
	var u struct{ ID string }
	if err := json.Unmarshal(w.E.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": name, "displayName": name}), &u); err != nil {
		t.Fatal(err)
	}
	w.E.SimControl(t, "POST", "/_sim/groups/"+w.SrcGroup+"/members/"+u.ID, nil)
	return u.ID
}

// members is the local group's members as emails' local parts, sorted.
func (w *world) members(t *testing.T) []string {
	t.Helper()
	var g struct{ Members []string }
	w.E.Admin.In(t).Must(http.StatusOK, "GET", "/api/v1/groups/"+w.Group, nil, &g)
	names := []string{}
	for _, id := range g.Members {
		var u struct{ Email string }
		w.E.Admin.In(t).Must(http.StatusOK, "GET", "/api/v1/users/"+id, nil, &u)
		names = append(names, strings.SplitN(u.Email, "@", 2)[0])
	}
	slices.Sort(names)
	return names
}

func (w *world) runs(t *testing.T) map[string]int {
	t.Helper()
	var out struct {
		Value []struct{ Trigger, Status string } `json:"value"`
	}
	w.E.Admin.In(t).Must(http.StatusOK, "GET", "/api/v1/groups/"+w.Group+"/sync/runs", nil, &out)
	n := map[string]int{}
	for _, r := range out.Value {
		n[r.Trigger]++
	}
	return n
}

// post sends a raw notification POST to the hook.
func (w *world) post(t *testing.T, path, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(w.E.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestHandshake(t *testing.T) {
	w := newWorld(t, testenv.Options{})
	token := "Validation: Testing client application reachability for subscription Request-Id: 1a2b"
	for _, tc := range []struct {
		name     string
		query    string
		status   int
		wantBody string
	}{
		{"good", "?validationToken=" + url.QueryEscape(token), http.StatusOK, token},
		{"empty", "?validationToken=", http.StatusOK, ""},
		{"twice", "?validationToken=a&validationToken=b", http.StatusBadRequest, ""},
		{"too long", "?validationToken=" + strings.Repeat("x", 2000), http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, ct, body := w.post(t, "/hooks/graph/"+w.DSID+tc.query, "")
			if status != tc.status || body != tc.wantBody {
				t.Errorf("handshake = %d %q, want %d %q", status, body, tc.status, tc.wantBody)
			}
			if tc.status == http.StatusOK && !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
		})
	}
}

// TestRealtimeMembership: turning real time on subscribes (the simulator
// ran the handshake against tenantlink); a member added in the tenant
// appears, one removed disappears, without any scheduled run.
func TestRealtimeMembership(t *testing.T) {
	w := newWorld(t, testenv.Options{})
	subs := w.turnOn(t)
	if got := []string{subs[0].Resource, subs[1].Resource}; !cmp.Equal(got, []string{"groups", "users"}) {
		t.Errorf("subscribed resources = %v, want groups and users", got)
	}
	for _, s := range subs {
		if len(s.ClientState) < 40 {
			t.Errorf("clientState of %s is %d characters, want a random secret", s.Resource, len(s.ClientState))
		}
	}
	// Five members before (the first notification's run imports them
	// all); removing one is under the safety threshold.
	alice := w.newMember(t, "alice")
	for _, n := range []string{"bob", "carol", "dave", "erin"} {
		w.newMember(t, n)
	}
	testenv.WaitFor(t, 30*time.Second, "five members", func() bool { return slices.Equal(w.members(t), []string{"alice", "bob", "carol", "dave", "erin"}) })
	w.newMember(t, "frank")
	testenv.WaitFor(t, 30*time.Second, "frank in the group", func() bool { return slices.Contains(w.members(t), "frank") })
	w.E.SimControl(t, "DELETE", "/_sim/groups/"+w.SrcGroup+"/members/"+alice, nil)
	testenv.WaitFor(t, 30*time.Second, "alice gone", func() bool { return slices.Equal(w.members(t), []string{"bob", "carol", "dave", "erin", "frank"}) })
	if n := w.runs(t); n["realtime"] == 0 || n["schedule"] != 0 {
		t.Errorf("runs by trigger = %v, want real-time runs only", n)
	}
	// The audit says the runs were real-time ones (actor: the system).
	realtimeAudits := 0
	for _, a := range w.E.Audit(t) {
		if a.Action == "group.sync" && a.Target == "group:"+w.Group {
			if !strings.HasPrefix(a.Detail, "trigger realtime;") || a.Actor != tenantlink.System.Name() {
				t.Errorf("group.sync audit entry by %q: %q, want the system's with \"trigger realtime; …\"", a.Actor, a.Detail)
			}
			realtimeAudits++
		}
	}
	if realtimeAudits == 0 {
		t.Error("no group.sync audit entry for the real-time runs")
	}
	// Turning real time off deletes both subscriptions, here and in the tenant.
	w.E.Admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+w.Group+"/sync", map[string]any{
		"enabled": true, "datasource": w.DSID, "sourceGroup": w.SrcGroup, "missingUsers": "remove"}, nil)
	testenv.WaitFor(t, 30*time.Second, "subscriptions removed", func() bool { return len(w.subs(t)) == 0 })
	if n := simSubscriptions(t, w.E); n != 0 {
		t.Errorf("simulator still holds %d subscriptions", n)
	}
}

func simSubscriptions(t *testing.T, e *testenv.Env) int {
	t.Helper()
	var out struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(e.SimControl(t, "GET", "/_sim/subscriptions", nil), &out); err != nil {
		t.Fatal(err)
	}
	return len(out.Value)
}

// TestForgedNotifications: a notification with another clientState, an
// unknown subscription or another tenant is answered 202 like any other
// and queues nothing.
func TestForgedNotifications(t *testing.T) {
	w := newWorld(t, testenv.Options{})
	subs := w.turnOn(t)
	users := subs[1]
	note := func(sub, state, tenant string) string {
		return fmt.Sprintf(`{"value":[{"changeType":"updated","clientState":%q,"resource":"Groups/%s","resourceData":{"@odata.type":"#Microsoft.Graph.Group","id":%q},"subscriptionId":%q,"tenantId":%q}]}`,
			state, w.SrcGroup, w.SrcGroup, sub, tenant)
	}
	before := w.runs(t)
	for _, tc := range []struct{ name, path, body string }{
		{"wrong clientState", "/hooks/graph/" + w.DSID, note(users.SubscriptionID, "guess", w.Tenant)},
		{"no clientState", "/hooks/graph/" + w.DSID, note(users.SubscriptionID, "", w.Tenant)},
		{"unknown subscription", "/hooks/graph/" + w.DSID, note("00000000-0000-0000-0000-000000000000", users.ClientState, w.Tenant)},
		{"other tenant", "/hooks/graph/" + w.DSID, note(users.SubscriptionID, users.ClientState, "11111111-1111-1111-1111-111111111111")},
		{"other data source", "/hooks/graph/nope", note(users.SubscriptionID, users.ClientState, w.Tenant)},
		{"not JSON", "/hooks/graph/" + w.DSID, "{"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := w.post(t, tc.path, tc.body)
			if status != http.StatusAccepted || body != "" {
				t.Errorf("answer = %d %q, want 202 and nothing", status, body)
			}
		})
	}
	time.Sleep(time.Second) // a queued run would start after the 300 ms window
	if diff := cmp.Diff(w.runs(t), before); diff != "" {
		t.Errorf("runs changed after forged notifications (-got +want):\n%s", diff)
	}
	// The genuine one queues a run.
	if status, _, _ := w.post(t, "/hooks/graph/"+w.DSID, note(users.SubscriptionID, users.ClientState, w.Tenant)); status != http.StatusAccepted {
		t.Fatalf("genuine notification answered %d", status)
	}
	testenv.WaitFor(t, 30*time.Second, "a real-time run", func() bool { return w.runs(t)["realtime"] > before["realtime"] })
}

// TestSubscriptionLifecycle: renewal before expiry on the simulator's
// clock, recreation after a 404, reauthorization on request.
func TestSubscriptionLifecycle(t *testing.T) {
	w := newWorld(t, testenv.Options{})
	ctx := context.Background()
	subs := w.turnOn(t)

	t.Run("renewed before expiry", func(t *testing.T) {
		before := *subs[1].ExpiresAt
		// Two and a half days on (of three): within the renewal margin.
		w.E.Clock.Advance(60 * time.Hour)
		w.E.SimControl(t, "POST", "/_sim/clock", map[string]any{"advance": "60h"})
		w.E.Admin = w.E.SignIn(t, testenv.AdminEmail, testenv.Password) // the session expired
		if err := w.E.App.Realtime.Maintain(ctx, w.DSID); err != nil {
			t.Fatal(err)
		}
		after := w.subs(t)
		if after[1].SubscriptionID != subs[1].SubscriptionID || !after[1].ExpiresAt.After(before.Add(59*time.Hour)) {
			t.Errorf("users subscription after renewal = %s until %v, want %s until after %v",
				after[1].SubscriptionID, after[1].ExpiresAt, subs[1].SubscriptionID, before.Add(59*time.Hour))
		}
		subs = after
	})

	t.Run("recreated after 404", func(t *testing.T) {
		w.E.SimControl(t, "POST", "/_sim/subscriptions/"+subs[0].SubscriptionID+"/expire", nil)
		// Force a renewal attempt: it answers 404.
		w.E.Clock.Advance(60 * time.Hour)
		w.E.SimControl(t, "POST", "/_sim/clock", map[string]any{"advance": "60h"})
		w.E.Admin = w.E.SignIn(t, testenv.AdminEmail, testenv.Password) // the session expired
		if err := w.E.App.Realtime.Maintain(ctx, w.DSID); err != nil {
			t.Fatal(err)
		}
		after := w.subs(t)
		if after[0].SubscriptionID == subs[0].SubscriptionID || after[0].Status != store.SubscriptionActive {
			t.Errorf("groups subscription = %s (%s), want a new active one instead of %s", after[0].SubscriptionID, after[0].Status, subs[0].SubscriptionID)
		}
		subs = after
		// And it delivers.
		w.newMember(t, "carol")
		testenv.WaitFor(t, 30*time.Second, "carol in the group", func() bool { return slices.Contains(w.members(t), "carol") })
	})

	t.Run("reauthorizationRequired", func(t *testing.T) {
		w.E.SimControl(t, "POST", "/_sim/subscriptions/"+subs[1].SubscriptionID+"/lifecycle", map[string]any{"event": "reauthorizationRequired"})
		// The notification marks it; the queued maintenance reauthorizes.
		testenv.WaitFor(t, 30*time.Second, "reauthorized", func() bool {
			s := w.subs(t)[1]
			return s.Status == store.SubscriptionActive && s.SubscriptionID == subs[1].SubscriptionID && w.auditHas(t, "datasource.subscription.reauthorize")
		})
	})

	t.Run("states", func(t *testing.T) {
		st, err := w.E.App.Realtime.States(ctx, w.DSID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range st {
			got = append(got, s.Resource+" "+s.State)
		}
		if diff := cmp.Diff(got, []string{"groups active", "users active"}); diff != "" {
			t.Errorf("states (-got +want):\n%s", diff)
		}
	})
}

func (w *world) auditHas(t *testing.T, action string) bool {
	for _, e := range w.E.Audit(t) {
		if e.Action == action && e.Outcome == "ok" {
			return true
		}
	}
	return false
}

var _ = realtime.TriggerRealtime
