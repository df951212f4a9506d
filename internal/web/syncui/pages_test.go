package syncui_test

// Fast tests of the group page and the Scheduled tasks page on fakes
// (fakes_test.go): what each viewer is shown, what a form stores or
// refuses, where a button leads, and the JSON the page's script polls.
// The whole handler runs (package web's authentication, CSRF and error
// pages included); the services are fakes that log their calls.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web/webtest"
)

// forbiddenGroups is the error page a user without the Administrator
// role gets for any group, known or not.
const forbiddenGroups = "Reading groups needs the Administrator role"

func TestPagesByViewer(t *testing.T) {
	for _, tt := range []struct {
		name     string
		as       webtest.Viewer
		path     string
		status   int
		location string
		want     []string // in the body
		notWant  []string
		// calls are the service calls made, in order (nil: not checked).
		calls []string
	}{
		{name: "administrator sees the group page", as: adminViewer, path: "/groups/g1", status: 200,
			want: []string{"<h1>Sales</h1>", `value="Sales team"`, `<option value="ds1" selected>Contoso</option>`,
				`name="csrf" value="admin-csrf"`, "<li>ann@example.com</li>", "<li>bob@example.com</li>", `id="member-count">2<`,
				`data-live="true"`, `data-status="running"`, "40 of 100", `action="/groups/g1/sync/runs/r-running/stop"`,
				"Scheduled task: daily at 06:00", `src="/syncui/sync.js"`, `href="/tasks"`},
			notWant: []string{`action="/groups/g1/sync/runs/r-done/stop"`},
			calls:   []string{"GetGroup g1", "TaskForGroup g1", "SourceChoices", "Runs g1 20", "GetUser u-ann", "GetUser u-bob"}},
		{name: "a saved notice after the redirect", as: adminViewer, path: "/groups/g1?done=saved", status: 200,
			want: []string{"Sync settings saved."}},
		{name: "a group without sync shows the default form", as: adminViewer, path: "/groups/g2", status: 200,
			want:    []string{"<h1>Off</h1>", `id="member-count">0<`, `<option value="hourly" selected>`},
			notWant: []string{`data-live="true"`, "Scheduled task:"}},
		{name: "administrator, unknown group", as: adminViewer, path: "/groups/nope", status: 404,
			want: []string{`Group &#34;nope&#34; not found`}, calls: []string{"GetGroup nope"}},
		{name: "user without access: known group", as: userViewer, path: "/groups/g1", status: 403,
			want: []string{forbiddenGroups}, notWant: []string{"Sales", "ann@example.com"}, calls: []string{"GetGroup g1"}},
		{name: "user without access: unknown group alike", as: userViewer, path: "/groups/nope", status: 403,
			want: []string{forbiddenGroups}, notWant: []string{"nope"}, calls: []string{"GetGroup nope"}},
		{name: "anonymous is sent to sign in", as: anonymous, path: "/groups/g1", status: 303,
			location: "/login?next=%2Fgroups%2Fg1", calls: []string{}},
		{name: "administrator sees the tasks", as: adminViewer, path: "/tasks", status: 200,
			want:  []string{`<a href="/groups/g1">Sync Sales</a>`, `action="/tasks/t1/run"`, "daily at 06:00"},
			calls: []string{"ListTasks"}},
		{name: "tasks after Run now", as: adminViewer, path: "/tasks?done=already", status: 200,
			want: []string{"A run of this task is already queued or running."}},
		{name: "user without access: tasks", as: userViewer, path: "/tasks", status: 403,
			want: []string{"Scheduled tasks needs the Administrator role"}, notWant: []string{"Sync Sales"},
			calls: []string{"ListTasks"}},
		{name: "the script is public", as: anonymous, path: "/syncui/sync.js", status: 200,
			want: []string{"data-runs-url"}, calls: []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			got := st.do(t, tt.as, "GET", tt.path, nil)
			webtest.CheckAnswer(t, "GET", tt.path, got, tt.status, tt.location)
			webtest.CheckBody(t, got.Body, tt.want, tt.notWant)
			webtest.CheckCalls(t, tt.calls, *st.log)
		})
	}
}

// TestSaveSyncForm: the settings form stores what it reads and redirects,
// shows a webhook URL once instead of redirecting, and shows a refusal
// next to the submitted values with nothing stored.
func TestSaveSyncForm(t *testing.T) {
	form := func(kv ...string) url.Values {
		f := url.Values{"enabled": {"on"}, "datasource": {"ds1"}, "sourceGroup": {"Sales team"}, "missingUsers": {"remove"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tt := range []struct {
		name     string
		as       webtest.Viewer
		form     url.Values
		status   int
		location string
		want     []string
		notWant  []string
		// saved are the settings the fake stored (nil: none); told,
		// whether web.SyncAPI.Saved heard of them.
		saved *tenantlink.SyncSettings
		// triedSave: the page called SaveSettings at all.
		triedSave bool
	}{
		{name: "saved and redirected", as: adminViewer,
			form:   form("kind", "weekly", "time", "07:30", "weekday", "monday", "every", "5", "realtime", "on"),
			status: 303, location: "/groups/g1?done=saved", triedSave: true,
			saved: &tenantlink.SyncSettings{Enabled: true, DataSource: "ds1", SourceGroup: "Sales team", MissingUsers: "remove", Realtime: true,
				// Only the chosen kind's fields are kept: "every" is left out.
				Schedule: json.RawMessage(`{"kind":"weekly","time":"07:30","weekday":"monday"}`)}},
		{name: "on demand shows the webhook URL once", as: adminViewer, form: form("kind", "onDemand"),
			status: 200, triedSave: true,
			want:  []string{"https://tl.example/hooks/tasks/t-new/SECRET", "Sync settings saved; the scheduled task was created."},
			saved: &tenantlink.SyncSettings{Enabled: true, DataSource: "ds1", SourceGroup: "Sales team", MissingUsers: "remove", Schedule: json.RawMessage(`{"kind":"onDemand"}`)}},
		{name: "a schedule that is not a number is refused before saving", as: adminViewer,
			form:   form("kind", "minutes", "every", "ten", "sourceGroup", "Typed by hand"),
			status: 400,
			want: []string{`role="alert">schedule: every must be a whole number, not &#34;ten&#34;`,
				`value="Typed by hand"`, `<option value="minutes" selected>`}},
		{name: "an invalid schedule is refused before saving", as: adminViewer,
			form:   form("kind", "daily", "time", "25:00"),
			status: 400, want: []string{`role="alert">`, `value="25:00"`}},
		{name: "the service's refusal is shown with the form", as: adminViewer,
			form:   form("kind", "daily", "time", "06:00", "datasource", "ds9", "sourceGroup", "Kept as typed"),
			status: 400, triedSave: true,
			want: []string{`role="alert">data source &#34;ds9&#34; not found`, `value="Kept as typed"`}},
		{name: "a user without access saves nothing", as: userViewer, form: form("kind", "daily", "time", "06:00"),
			status: 403, triedSave: true, want: []string{"Group member sync needs the Administrator role"}, notWant: []string{"Sales"}},
		{name: "a wrong CSRF token saves nothing", as: adminViewer, form: form("kind", "daily", "time", "06:00", "csrf", "forged"),
			status: 403, want: []string{"CSRF"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			got := st.do(t, tt.as, "POST", "/groups/g1/sync", tt.form)
			webtest.CheckAnswer(t, "POST", "/groups/g1/sync", got, tt.status, tt.location)
			webtest.CheckBody(t, got.Body, tt.want, tt.notWant)
			if st.log.Has("SaveSettings") != tt.triedSave {
				t.Errorf("SaveSettings called: %t, want %t (calls %q)", !tt.triedSave, tt.triedSave, *st.log)
			}
			saved, ok := st.sync.saved["g1"]
			switch {
			case tt.saved == nil && ok:
				t.Errorf("stored %+v, want nothing stored", saved)
			case tt.saved != nil && !ok:
				t.Errorf("stored nothing, want %+v", *tt.saved)
			case tt.saved != nil:
				if diff := cmp.Diff(*tt.saved, saved, cmp.Comparer(jsonEqual)); diff != "" {
					t.Errorf("stored settings (-want +got):\n%s", diff)
				}
			}
			// The page saves as the API does: real time hears of every save.
			if want := tt.saved != nil; (len(st.told) == 1) != want || len(st.told) > 1 {
				t.Errorf("Saved told about %q, want once: %t", st.told, want)
			}
		})
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y)
}

// TestRunButtons: Run now, Dry run, Run past the safety threshold, a
// task's Run now and Stop lead where they should, and a run that cannot
// start or stop is explained on the group page.
func TestRunButtons(t *testing.T) {
	for _, tt := range []struct {
		name     string
		as       webtest.Viewer
		path     string
		form     url.Values
		already  bool
		status   int
		location string
		want     []string
		call     string // a call that must have been made
	}{
		{name: "run now queues", as: adminViewer, path: "/groups/g1/sync/run", form: url.Values{"mode": {"run"}},
			status: 303, location: "/groups/g1?done=queued", call: "SyncGroup g1 confirm=false full=false"},
		{name: "past the threshold confirms", as: adminViewer, path: "/groups/g1/sync/run", form: url.Values{"mode": {"confirm"}},
			status: 303, location: "/groups/g1?done=queued", call: "SyncGroup g1 confirm=true full=false"},
		{name: "a run already queued", as: adminViewer, path: "/groups/g1/sync/run", form: url.Values{"mode": {"run"}}, already: true,
			status: 303, location: "/groups/g1?done=already", call: "SyncGroup g1"},
		{name: "a sync that is off is explained in place", as: adminViewer, path: "/groups/g2/sync/run", form: url.Values{"mode": {"run"}},
			status: 400, want: []string{`role="alert">Group member sync is off for this group.`, "<h1>Off</h1>"}, call: "SyncGroup g2"},
		{name: "dry run lists who would change", as: adminViewer, path: "/groups/g1/sync/run", form: url.Values{"mode": {"dry"}},
			status: 200, want: []string{"Dry run: would create 1", `id="dry-run-create"`, "<td>Cy New</td><td>cy@example.com</td>"}, call: "DryRun g1 full=false"},
		{name: "a user without access runs nothing", as: userViewer, path: "/groups/g1/sync/run", form: url.Values{"mode": {"run"}},
			status: 403, want: []string{forbiddenGroups}, call: "GetGroup g1"},
		{name: "stop a running run", as: adminViewer, path: "/groups/g1/sync/runs/r-running/stop",
			status: 303, location: "/groups/g1?done=stopped", call: "Stop g1 r-running"},
		{name: "stopping a finished run is explained in place", as: adminViewer, path: "/groups/g1/sync/runs/r-done/stop",
			status: 400, want: []string{`role="alert">The run is no longer running (succeeded).`}, call: "Stop g1 r-done"},
		{name: "a task's run now", as: adminViewer, path: "/tasks/t1/run", status: 303, location: "/tasks?done=queued", call: "RunNow t1"},
		{name: "a task's run now, already queued", as: adminViewer, path: "/tasks/t1/run", already: true,
			status: 303, location: "/tasks?done=already", call: "RunNow t1"},
		{name: "an unknown task", as: adminViewer, path: "/tasks/t9/run", status: 404, want: []string{"Task &#34;t9&#34; not found"}, call: "RunNow t9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStack(t)
			st.tasks.already = map[string]bool{"g1": tt.already, "t1": tt.already}
			got := st.do(t, tt.as, "POST", tt.path, tt.form)
			webtest.CheckAnswer(t, "POST", tt.path, got, tt.status, tt.location)
			webtest.CheckBody(t, got.Body, tt.want, nil)
			if !st.log.Has(tt.call) {
				t.Errorf("no call %q among %q", tt.call, *st.log)
			}
		})
	}
}

// TestPolledJSON: the URLs the group page gives its script (the run
// history, the group and its members' users) answer the fields the
// script reads, and refuse a user without access as the page does.
func TestPolledJSON(t *testing.T) {
	st := newFakeStack(t)
	page := st.do(t, adminViewer, "GET", "/groups/g1", nil)
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]+)"`).FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("the group page has no %s", name)
		}
		return strings.ReplaceAll(m[1], "&amp;", "&")
	}
	runsURL, groupURL := attr("data-runs-url"), attr("data-group-url")
	if runsURL != "/api/v1/groups/g1/sync/runs?limit=20" || groupURL != "/api/v1/groups/g1" {
		t.Errorf("script URLs %q and %q", runsURL, groupURL)
	}
	getJSON := func(v webtest.Viewer, path string, want int, out any) {
		t.Helper()
		got := st.do(t, v, "GET", path, nil, "Accept", "application/json")
		if got.Status != want {
			t.Fatalf("GET %s as %s = %d, want %d\n%s", path, v.User.Email, got.Status, want, got.Body)
		}
		if err := json.Unmarshal([]byte(got.Body), out); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, got.Body)
		}
	}

	t.Run("runs with progress", func(t *testing.T) {
		// The fields sync.js reads of each run, as raw JSON values.
		var runs struct{ Value []map[string]any }
		getJSON(adminViewer, runsURL, 200, &runs)
		if len(runs.Value) != 2 {
			t.Fatalf("%d runs, want 2: %v", len(runs.Value), runs.Value)
		}
		type seen struct {
			ID, Status          string
			Seen, Total         any
			Created, Unchanged  any
			HasStart, HasFinish bool
		}
		var got []seen
		for _, r := range runs.Value {
			c, _ := r["counts"].(map[string]any)
			got = append(got, seen{ID: r["id"].(string), Status: r["status"].(string), Seen: r["seen"], Total: r["total"],
				Created: c["created"], Unchanged: c["unchanged"], HasStart: r["startedAt"] != nil, HasFinish: r["finishedAt"] != nil})
		}
		want := []seen{
			// An incremental run: unchanged is null, the script shows a dash.
			{ID: "r-running", Status: "running", Seen: 40.0, Total: 100.0, Created: 3.0, Unchanged: nil, HasStart: true},
			{ID: "r-done", Status: "succeeded", Seen: 0.0, Total: nil, Created: 0.0, Unchanged: 7.0, HasStart: true, HasFinish: true},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("runs as the script reads them (-want +got):\n%s", diff)
		}
	})
	t.Run("members", func(t *testing.T) {
		var g struct{ Members []string }
		getJSON(adminViewer, groupURL, 200, &g)
		var emails []string
		for _, id := range g.Members {
			var u struct{ Email string }
			getJSON(adminViewer, "/api/v1/users/"+url.PathEscape(id), 200, &u)
			emails = append(emails, u.Email)
		}
		if diff := cmp.Diff([]string{"ann@example.com", "bob@example.com"}, emails); diff != "" {
			t.Errorf("member emails (-want +got):\n%s", diff)
		}
	})
	t.Run("user without access", func(t *testing.T) {
		for _, path := range []string{runsURL, groupURL, "/api/v1/groups/nope", "/api/v1/users/u-ann"} {
			var e struct{ Error struct{ Code string } }
			getJSON(userViewer, path, http.StatusForbidden, &e)
			if e.Error.Code != tenantlink.EFORBIDDEN {
				t.Errorf("GET %s: error code %q, want %q", path, e.Error.Code, tenantlink.EFORBIDDEN)
			}
		}
		// Their own user stays readable.
		var u struct{ Email string }
		getJSON(userViewer, "/api/v1/users/u-bob", 200, &u)
		if u.Email != "bob@example.com" {
			t.Errorf("own user: %q", u.Email)
		}
	})
}
