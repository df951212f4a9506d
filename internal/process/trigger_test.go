package process_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// trigWorld is a stack with a data source, a "New hires" group in the
// tenant and a directory group syncing it (missing users disabled).
type trigWorld struct {
	e     *testenv.Env
	ds    string
	src   string // the tenant group's id
	group string // the directory group's id
}

func newTrigWorld(t *testing.T, runJobs bool) *trigWorld {
	return newTrigWorldOn(t, runJobs, "")
}

// newTrigWorldOn is newTrigWorld on database db ("" for SQLite).
func newTrigWorldOn(t *testing.T, runJobs bool, db string) *trigWorld {
	t.Helper()
	e := testenv.New(t, testenv.Options{Users: 4, Groups: 1, RunJobs: runJobs, DB: db})
	w := &trigWorld{e: e, ds: e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID}
	var g struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": "New hires"}), &g); err != nil {
		t.Fatal(err)
	}
	w.src = g.ID
	var lg struct{ ID string }
	e.Admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "New hires"}, &lg)
	w.group = lg.ID
	e.Admin.In(t).Must(200, "PUT", "/api/v1/groups/"+w.group+"/sync", map[string]any{
		"enabled": true, "datasource": w.ds, "sourceGroup": "New hires", "missingUsers": "disable"}, nil)
	return w
}

// tenantUser creates a tenant user, in the source group when join.
func (w *trigWorld) tenantUser(t *testing.T, local, name string, join bool) string {
	t.Helper()
	var u struct{ ID string }
	if err := json.Unmarshal(w.e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": local, "displayName": name}), &u); err != nil {
		t.Fatal(err)
	}
	if join {
		w.e.SimControl(t, "POST", "/_sim/groups/"+w.src+"/members/"+u.ID, nil)
	}
	return u.ID
}

// sync runs the group's sync now (past the safety threshold).
func (w *trigWorld) sync(t *testing.T, dry bool) {
	t.Helper()
	r, err := w.e.App.GroupSync.Run(context.Background(), tenantlink.System, w.group, groupsync.RunOptions{DryRun: dry, Confirm: true})
	if err != nil || r.Status != store.RunSucceeded {
		t.Fatalf("sync run: %v %+v", err, r)
	}
}

// welcome is a process triggered by event on "New hires" (data source
// named by its name): the event's values go into fields, and a rule reads
// the user from Microsoft 365 by object id.
func welcome(event string) map[string]any {
	out := func(n string) map[string]any { return map[string]any{"output": n} }
	return map[string]any{
		"name": "Welcome " + event,
		"fields": []map[string]any{
			{"name": "objectId", "type": "text", "required": true},
			{"name": "email", "type": "text"},
			{"name": "name", "type": "text"},
			{"name": "group", "type": "text"},
			{"name": "kind", "type": "text"},
			{"name": "when", "type": "date"},
			{"name": "upn", "type": "text", "readOnly": true},
			{"name": "status", "type": "text", "readOnly": true},
		},
		"trigger": map[string]any{"event": event, "datasource": "Contoso", "group": "New hires",
			"fields": map[string]any{"objectId": out("objectId"), "email": out("email"), "name": out("displayName"),
				"group": out("groupName"), "kind": out("event"), "when": out("date"), "status": map[string]any{"text": "{{name}}: {{kind}}"}}},
		"rules": []map[string]any{{"title": "Read the user", "datasource": "Contoso", "operation": "GetUser",
			"inputs": map[string]any{"user": map[string]any{"field": "objectId"}}, "success": map[string]any{"upn": out("userPrincipalName")},
			"error": map[string]any{"status": map[string]any{"error": true}}}},
	}
}

// instances lists a process's instances through the API, oldest first.
func (w *trigWorld) instances(t *testing.T, id string) []process.Instance {
	t.Helper()
	var list struct{ Value []process.Instance }
	w.e.Admin.In(t).Must(200, "GET", "/api/v1/processes/"+id+"/instances", nil, &list)
	slices.Reverse(list.Value)
	return list.Value
}

func local(email string) string { return strings.SplitN(email, "@", 2)[0] }

// TestTriggerKinds: each kind of event starts its process once, with the
// event's values in the fields and the event on the instance; dry runs,
// the baseline run, replayed runs, re-written events and two workers
// start nothing more.
func TestTriggerKinds(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testTriggerKinds(t, "") })
	t.Run("postgres", func(t *testing.T) { testTriggerKinds(t, testenv.PostgresDSN(t)) })
}

func testTriggerKinds(t *testing.T, db string) {
	w := newTrigWorldOn(t, false, db)
	ctx := context.Background()
	ann := w.tenantUser(t, "ann", "Ann Old", true)
	bob := w.tenantUser(t, "bob", "Bob Old", true)
	procs := map[string]string{}
	for _, ev := range process.TriggerEvents {
		var p process.Process
		w.e.Admin.In(t).Must(201, "POST", "/api/v1/processes", welcome(ev), &p)
		if p.Trigger == nil || p.Trigger.DataSource != w.ds || p.Trigger.GroupID != w.src {
			t.Fatalf("saved trigger = %+v, want the data source's id and the group's id %s", p.Trigger, w.src)
		}
		procs[ev] = p.ID
	}
	w.sync(t, false) // the baseline: Ann and Bob are there
	w.sync(t, false)

	cara := w.tenantUser(t, "cara", "Cara New", true)
	w.e.SimControl(t, "DELETE", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	w.e.SimControl(t, "PATCH", "/_sim/users/"+bob, map[string]any{"accountEnabled": false})
	w.sync(t, true) // a dry run starts nothing
	if n, err := w.e.App.Processes.StartPending(ctx, 0); err != nil || n != 0 {
		t.Fatalf("StartPending after the baseline and a dry run = %d, %v; want 0", n, err)
	}

	w.sync(t, false)
	w.sync(t, false) // a second run finds nothing new

	// Two workers at once.
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.e.App.Processes.StartPending(ctx, 0)
			if err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != 5 {
		t.Errorf("the workers started %v instances, want 5 in all", counts)
	}

	want := map[string][]string{
		process.EventMemberAdded:   {"cara"},
		process.EventMemberRemoved: {"ann"},
		process.EventUserCreated:   {"cara"},
		process.EventUserDisabled:  {"ann", "bob"},
	}
	objects := map[string]string{"ann": ann, "bob": bob, "cara": cara}
	names := map[string]string{"ann": "Ann Old", "bob": "Bob Old", "cara": "Cara New"}
	today := time.Now().UTC().Format("2006-01-02")
	var events []process.Event
	for ev, id := range procs {
		list := w.instances(t, id)
		var got []string
		for _, in := range list {
			who := local(fmt.Sprint(in.Fields["email"]))
			got = append(got, who)
			if in.Event == nil || in.Event.Kind != ev || in.Event.ObjectID != objects[who] || in.Event.DataSource != w.ds {
				t.Errorf("%s instance's event = %+v, want %s of %s", ev, in.Event, ev, who)
				continue
			}
			events = append(events, *in.Event)
			wantFields := map[string]any{"objectId": objects[who], "email": in.Event.Email, "name": names[who], "group": "New hires",
				"kind": ev, "when": today, "upn": in.Event.Email, "status": names[who] + ": " + ev}
			if diff := cmp.Diff(wantFields, in.Fields); diff != "" {
				t.Errorf("%s instance of %s fields (-want +got):\n%s", ev, who, diff)
			}
			if in.Status != process.StatusSucceeded || in.StartedBy != "system" {
				t.Errorf("%s instance of %s = %s started by %q, want succeeded by the system", ev, who, in.Status, in.StartedBy)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff(want[ev], got); diff != "" {
			t.Errorf("%s instances (-want +got):\n%s", ev, diff)
		}
	}

	// The same events written again (a replayed write) start nothing.
	err := w.e.App.Store.InTx(ctx, func(tx store.Store) error { return w.e.App.Processes.Emit(ctx, tx, events) })
	if err != nil {
		t.Fatal(err)
	}
	w.sync(t, false)
	if n, err := w.e.App.Processes.StartPending(ctx, 0); err != nil || n != 0 {
		t.Errorf("StartPending after replays = %d, %v; want 0", n, err)
	}
}

// TestTriggerValidation: a trigger is checked like the rest of the
// definition; its data source must be one the editor may read, and its
// group must exist in the tenant. Nothing is stored when refused.
func TestTriggerValidation(t *testing.T) {
	w := newTrigWorld(t, false)
	restricted := w.e.AuthorizedDataSource(w.e.Admin.In(t), "Restricted", nil).ID
	designer := w.e.User(t, "User", "Design business process")
	w.e.RestrictUsers(t, restricted, w.e.Admin.UserID)
	with := func(edit func(trig map[string]any)) map[string]any {
		def := welcome(process.EventMemberAdded)
		edit(def["trigger"].(map[string]any))
		return def
	}
	for _, tc := range []struct {
		name   string
		who    *testenv.Client
		def    map[string]any
		status int
		want   string
	}{
		{"unknown group", w.e.Admin, with(func(tr map[string]any) { tr["group"] = "No such group" }), 400, "No such group"},
		{"unknown data source", w.e.Admin, with(func(tr map[string]any) { tr["datasource"] = "Nowhere" }), 400, `no data source "Nowhere"`},
		{"group of a data source the editor may not read", designer, with(func(tr map[string]any) { tr["datasource"] = restricted }), 403, "Restricted"},
		{"member event without a group", w.e.Admin, with(func(tr map[string]any) { delete(tr, "group") }), 400, "needs the tenant group"},
		{"unknown event", w.e.Admin, with(func(tr map[string]any) { tr["event"] = "user.born" }), 400, "user.born"},
		{"unknown event value", w.e.Admin, with(func(tr map[string]any) {
			tr["fields"] = map[string]any{"objectId": map[string]any{"output": "shoeSize"}}
		}), 400, "shoeSize"},
		{"required field left empty", w.e.Admin, with(func(tr map[string]any) { tr["fields"] = map[string]any{} }), 400, `"objectId" is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.who.In(t).Do("POST", "/api/v1/processes", tc.def)
			if r.Status != tc.status || !strings.Contains(r.ErrorMessage(), tc.want) {
				t.Fatalf("save = %s, want %d naming %q", r, tc.status, tc.want)
			}
		})
	}
	var list struct{ Value []process.Process }
	w.e.Admin.In(t).Must(200, "GET", "/api/v1/processes", nil, &list)
	if len(list.Value) != 0 {
		t.Errorf("processes after refusals = %d, want none", len(list.Value))
	}
	// The designer may trigger on the open data source.
	designer.In(t).Must(201, "POST", "/api/v1/processes", welcome(process.EventMemberAdded), nil)
}

// TestTriggerEndToEnd: through the simulator and the job queue — a user
// added to "New hires" in the tenant, the sync run from the API, and one
// instance of the triggered onboarding appears with the mapped fields.
func TestTriggerEndToEnd(t *testing.T) {
	w := newTrigWorld(t, true)
	var p process.Process
	w.e.Admin.In(t).Must(201, "POST", "/api/v1/processes", welcome(process.EventMemberAdded), &p)
	runNow := func() {
		before := len(w.runs(t))
		// The previous request's job may not have ended yet: ask again
		// until a new one is queued.
		testenv.WaitFor(t, 30*time.Second, "a new sync request queued", func() bool {
			var q struct{ Already bool }
			w.e.Admin.In(t).Must(202, "POST", "/api/v1/groups/"+w.group+"/sync?confirm=true", nil, &q)
			return !q.Already
		})
		testenv.WaitFor(t, 30*time.Second, "the sync run ends", func() bool {
			runs := w.runs(t)
			return len(runs) > before && runs[0] != store.RunRunning
		})
	}
	runNow() // baseline
	w.tenantUser(t, "dana", "Dana Hire", true)
	runNow()
	var list []process.Instance
	testenv.WaitFor(t, 30*time.Second, "one instance", func() bool {
		list = w.instances(t, p.ID)
		return len(list) == 1 && list[0].Status != process.StatusRunning
	})
	in := list[0]
	if in.Event == nil || in.Event.Kind != process.EventMemberAdded || local(in.Event.Email) != "dana" ||
		in.Fields["name"] != "Dana Hire" || in.Fields["group"] != "New hires" || in.Status != process.StatusSucceeded {
		t.Errorf("instance = %+v, want Dana's join with mapped fields, succeeded", in)
	}
	runNow()
	testenv.WaitFor(t, 30*time.Second, "no pending events", func() bool {
		rows, err := w.e.App.Store.PendingProcessEvents(context.Background(), 0)
		return err == nil && len(rows) == 0
	})
	if n := len(w.instances(t, p.ID)); n != 1 {
		t.Errorf("instances after another run = %d, want 1", n)
	}
}

func (w *trigWorld) runs(t *testing.T) []string {
	t.Helper()
	var out struct {
		Value []struct{ Status string } `json:"value"`
	}
	w.e.Admin.In(t).Must(200, "GET", "/api/v1/groups/"+w.group+"/sync/runs", nil, &out)
	var st []string
	for _, r := range out.Value {
		st = append(st, r.Status)
	}
	return st
}

// TestTriggerDataSourceDeleted: a data source only a trigger uses is a
// dependent of the process like a rule's: deleting it is refused without
// force, and with force flags the process, which then starts nothing.
func TestTriggerDataSourceDeleted(t *testing.T) {
	w := newTrigWorld(t, false)
	def := welcome(process.EventMemberAdded)
	def["rules"] = []map[string]any{}
	var p process.Process
	w.e.Admin.In(t).Must(201, "POST", "/api/v1/processes", def, &p)
	if r := w.e.Admin.In(t).Do("DELETE", "/api/v1/datasources/"+w.ds, nil); r.Status != 409 || !strings.Contains(r.ErrorMessage(), `process "Welcome member.added"`) {
		t.Fatalf("delete without force = %s, want 409 naming the process", r)
	}
	w.e.Admin.In(t).Must(204, "DELETE", "/api/v1/datasources/"+w.ds+"?force=true", nil, nil)
	var got process.Process
	w.e.Admin.In(t).Must(200, "GET", "/api/v1/processes/"+p.ID, nil, &got)
	if got.NeedsDataSource != "Contoso" {
		t.Errorf("needsDataSource = %q, want Contoso", got.NeedsDataSource)
	}
	ok, err := w.e.App.Processes.Watching(context.Background(), w.e.App.Store, w.ds)
	if err != nil || ok {
		t.Errorf("Watching the deleted data source = %v, %v; want false", ok, err)
	}
}

// TestTriggerUnreadableEvent: an outbox row that can never be read is set
// aside instead of failing every job after it.
func TestTriggerUnreadableEvent(t *testing.T) {
	w := newTrigWorld(t, false)
	ctx := context.Background()
	var p process.Process
	w.e.Admin.In(t).Must(201, "POST", "/api/v1/processes", welcome(process.EventMemberAdded), &p)
	if _, err := w.e.App.Store.AddProcessEvents(ctx, []*store.ProcessEvent{
		{ProcessID: p.ID, Key: "broken", Event: []byte(`{"kind":`)},
	}); err != nil {
		t.Fatal(err)
	}
	n, err := w.e.App.Processes.StartPending(ctx, 0)
	if err != nil || n != 0 {
		t.Fatalf("StartPending = %d, %v; want 0 and no error", n, err)
	}
	rows, err := w.e.App.Store.PendingProcessEvents(ctx, 0)
	if err != nil || len(rows) != 0 {
		t.Errorf("pending after an unreadable row = %d, %v; want none", len(rows), err)
	}
	if list := w.instances(t, p.ID); len(list) != 0 {
		t.Errorf("instances = %d, want none", len(list))
	}
}

// TestTriggerEditorDisabled: a triggered instance runs as the process's
// last editor; when that editor was disabled, the instance is recorded as
// failed saying why, and no rule runs.
func TestTriggerEditorDisabled(t *testing.T) {
	w := newTrigWorld(t, false)
	ctx := context.Background()
	designer := w.e.User(t, "User", "Design business process")
	var p process.Process
	designer.In(t).Must(201, "POST", "/api/v1/processes", welcome(process.EventMemberAdded), &p)
	w.sync(t, false) // baseline
	w.tenantUser(t, "eve", "Eve Late", true)
	w.sync(t, false)
	w.e.Admin.In(t).Must(200, "PATCH", "/api/v1/users/"+designer.UserID, map[string]any{"active": false}, nil)
	if n, err := w.e.App.Processes.StartPending(ctx, 0); err != nil || n != 1 {
		t.Fatalf("StartPending = %d, %v; want 1", n, err)
	}
	list := w.instances(t, p.ID)
	if len(list) != 1 {
		t.Fatalf("instances = %d, want 1", len(list))
	}
	in := list[0]
	if in.Status != process.StatusFailed || outcomes(in)[0] != process.OutcomeNotRun || !strings.Contains(in.Rules[0].Message, "deleted or disabled") {
		t.Errorf("instance = %s %+v, want failed, not run, saying the editor was disabled", in.Status, in.Rules)
	}
	if in.Fields["upn"] != "" {
		t.Errorf("upn = %v, want empty: the rule must not have run", in.Fields["upn"])
	}
}
