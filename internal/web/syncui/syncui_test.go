package syncui_test

// Handler tests of the group page and the Scheduled tasks page over the
// whole stack (package app through testenv, the simulator on loopback):
// the pages call the same services as the API, so the API is what the
// tests read back to see what a form stored.

import (
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/testenv"
	webpage "github.com/tenantlink/tenantlink/internal/web/page"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// world is one running stack with an authorized data source, shared by
// the tests of this file because authorizing through the simulator's
// sign-in pages is the slow part.
type world struct {
	E    *testenv.Env
	DSID string
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	// Jobs run so that Run now is seen to reach the queue and finish
	// (Run now inserts a job that is worked at once; no tick is waited for).
	e := testenv.New(tb, testenv.Options{RunJobs: true})
	ds := e.AuthorizedDataSource(e.Admin.In(tb), "Contoso", nil)
	return &world{E: e, DSID: ds.ID}
}

// group creates a local group as the Administrator and returns its id.
func (w *world) group(tb testing.TB, name string) string {
	tb.Helper()
	var g struct{ ID string }
	w.E.Admin.In(tb).Must(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": name}, &g)
	return g.ID
}

// syncView is GET /api/v1/groups/{id}/sync, the stored settings and task.
type syncView struct {
	Settings *struct {
		Enabled      bool   `json:"enabled"`
		DataSource   string `json:"datasource"`
		SourceGroup  string `json:"sourceGroup"`
		Override     bool   `json:"override"`
		MissingUsers string `json:"missingUsers"`
	} `json:"settings"`
	Task *task `json:"task"`
}

type task struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	ScheduleText string     `json:"scheduleText"`
	Status       string     `json:"status"`
	NextRun      *time.Time `json:"nextRun"`
}

func (w *world) syncView(tb testing.TB, groupID string) syncView {
	tb.Helper()
	var v syncView
	w.E.Admin.In(tb).Must(http.StatusOK, "GET", "/api/v1/groups/"+groupID+"/sync", nil, &v)
	return v
}

type run struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Trigger string `json:"trigger"`
	DryRun  bool   `json:"dryRun"`
}

func (w *world) runs(tb testing.TB, groupID string) []run {
	tb.Helper()
	var out struct {
		Value []run `json:"value"`
	}
	w.E.Admin.In(tb).Must(http.StatusOK, "GET", "/api/v1/groups/"+groupID+"/sync/runs", nil, &out)
	return out.Value
}

// settingsForm is the group page's form as a browser submits it, with
// the session's CSRF token in the form field (not the header), as the
// page's hidden input sends it.
func settingsForm(c *testenv.Client, dsID string, schedule url.Values) url.Values {
	f := url.Values{"enabled": {"on"}, "datasource": {dsID}, "sourceGroup": {"*"}, "missingUsers": {"disable"}, "csrf": {c.CSRF}}
	for k, v := range schedule {
		f[k] = v
	}
	return f
}

// browser is c sending the CSRF token only in the form, as the page does.
func browser(tb testing.TB, c *testenv.Client) *testenv.Client {
	tb.Helper()
	return c.In(tb).WithoutCSRF()
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	csrfRE = regexp.MustCompile(`(name="csrf" value="|name="csrf-token" content=")[^"]*"`)
	// The application's clock is real time (testenv runs the simulator,
	// whose tokens expire on it), so dates are masked, not fixed.
	dateRE = regexp.MustCompile(`<time data-local datetime="[^"]*">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC</time>`)
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// normalize replaces what differs between runs (ids, tokens, dates,
// ports) so that pages can be compared with golden files.
func normalize(s string) string {
	ids := map[string]string{}
	s = uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = "ID" + string(rune('A'+len(ids)))
		}
		return ids[id]
	})
	s = csrfRE.ReplaceAllString(s, `${1}CSRF"`)
	s = dateRE.ReplaceAllString(s, "DATE")
	return portRE.ReplaceAllString(s, "127.0.0.1:PORT")
}

func checkGolden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = normalize(got)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestSyncPages(t *testing.T) {
	w := newWorld(t)
	admin := w.E.Admin

	t.Run("group page golden", func(t *testing.T) {
		id := w.group(t, "Golden group")
		checkGolden(t, "group_new", admin.In(t).Get("/groups/"+id))

		// Settings and a dry run, so the page has a task line and a run
		// in its history.
		b := browser(t, admin)
		form := settingsForm(admin, w.DSID, url.Values{"kind": {"daily"}, "time": {"09:00"}, "timeZone": {"UTC"}})
		if r := b.Do("POST", "/groups/"+id+"/sync", form); r.Status != http.StatusOK {
			t.Fatalf("save settings: %s, want 200", r)
		}
		r := b.Do("POST", "/groups/"+id+"/sync/run", url.Values{"mode": {"dry"}, "csrf": {admin.CSRF}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Dry run: would create 6,") {
			t.Fatalf("dry run: %d, want 200 with the dry run's counts (6 users to create); body:\n%s", r.Status, r.Body)
		}
		// Under the notice, who would be created, by name.
		checkGolden(t, "group_dry_run", string(r.Body))
		checkGolden(t, "group_history", admin.In(t).Get("/groups/"+id+"?done=saved"))
	})

	t.Run("save settings", func(t *testing.T) {
		tests := []struct {
			name     string
			schedule url.Values
			wantText string // the task's schedule text, read back from the API
		}{
			{"daily", url.Values{"kind": {"daily"}, "time": {"06:30"}, "timeZone": {"UTC"}}, "Daily at 06:30 (UTC)"},
			{"every 30 minutes, leftover fields of other kinds ignored", url.Values{"kind": {"minutes"}, "every": {"30"}, "time": {"99:99"}, "day": {"x"}}, "Every 30 minutes"},
			{"on demand", url.Values{"kind": {"onDemand"}}, ""},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := w.group(t, "Saved group "+string(rune('A'+i)))
				// Creating the task makes its webhook secret, shown once
				// in the answer itself rather than through a redirect
				// that would put it in the browser history.
				r := browser(t, admin).Do("POST", "/groups/"+id+"/sync", settingsForm(admin, w.DSID, tc.schedule))
				if r.Status != http.StatusOK {
					t.Fatalf("POST /groups/{id}/sync: %s, want 200", r)
				}
				for _, want := range []string{"Sync settings saved; the scheduled task was created.", "/hooks/tasks/"} {
					if !strings.Contains(string(r.Body), want) {
						t.Errorf("answer lacks %q:\n%s", want, r.Body)
					}
				}
				v := w.syncView(t, id)
				if v.Settings == nil || !v.Settings.Enabled || v.Settings.DataSource != w.DSID || v.Settings.SourceGroup != "*" || v.Settings.MissingUsers != "disable" {
					t.Errorf("stored settings = %+v, want enabled, data source %s, source *, missing users disable", v.Settings, w.DSID)
				}
				if v.Task == nil {
					t.Fatal("no scheduled task was created")
				}
				if tc.wantText != "" && v.Task.ScheduleText != tc.wantText {
					t.Errorf("task schedule: got %q, want %q", v.Task.ScheduleText, tc.wantText)
				}
			})
		}

		t.Run("saving again changes the task and redirects", func(t *testing.T) {
			id := w.group(t, "Resaved group")
			b := browser(t, admin)
			if r := b.Do("POST", "/groups/"+id+"/sync", settingsForm(admin, w.DSID, url.Values{"kind": {"daily"}, "time": {"06:30"}})); r.Status != http.StatusOK {
				t.Fatalf("first save: %s, want 200", r)
			}
			first := w.syncView(t, id).Task
			r := b.Do("POST", "/groups/"+id+"/sync", settingsForm(admin, w.DSID, url.Values{"kind": {"hourly"}, "minute": {"5"}}))
			if got, want := r.Location(), "/groups/"+id+"?done=saved"; r.Status != http.StatusSeeOther || got != want {
				t.Fatalf("second save: %d %q, want 303 %q", r.Status, got, want)
			}
			if strings.Contains(string(r.Body), "/hooks/tasks/") {
				t.Errorf("the second save shows the webhook secret again")
			}
			if body := admin.In(t).Get(r.Location()); !strings.Contains(body, "Sync settings saved.") {
				t.Errorf("page after the redirect lacks the saved notice")
			}
			second := w.syncView(t, id).Task
			if second == nil || second.ID != first.ID || second.ScheduleText == first.ScheduleText {
				t.Errorf("task after the second save = %+v, want task %s with a new schedule (was %q)", second, first.ID, first.ScheduleText)
			}
		})
	})

	t.Run("bad input stores nothing", func(t *testing.T) {
		tests := []struct {
			name     string
			dsID     string
			schedule url.Values
			wantBody string
		}{
			{"hour out of range", w.DSID, url.Values{"kind": {"weekly"}, "weekday": {"monday"}, "time": {"25:00"}}, "25:00"},
			{"minutes not a number", w.DSID, url.Values{"kind": {"minutes"}, "every": {"often"}}, `every must be a whole number, not &#34;often&#34;`},
			{"unknown kind", w.DSID, url.Values{"kind": {"fortnightly"}}, "fortnightly"},
			{"unknown data source", "00000000-0000-0000-0000-000000000000", url.Values{"kind": {"daily"}, "time": {"09:00"}}, "ata source"},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := w.group(t, "Refused group "+string(rune('A'+i)))
				form := settingsForm(admin, tc.dsID, tc.schedule)
				form.Set("sourceGroup", "kept-on-refusal")
				r := browser(t, admin).Do("POST", "/groups/"+id+"/sync", form)
				body := string(r.Body)
				if r.Status != http.StatusBadRequest {
					t.Fatalf("POST /groups/{id}/sync: %d, want 400; body:\n%s", r.Status, body)
				}
				if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, tc.wantBody) {
					t.Errorf("answer lacks an alert with %q:\n%s", tc.wantBody, body)
				}
				// The form comes back as submitted, so nothing is retyped.
				if !strings.Contains(body, `value="kept-on-refusal"`) {
					t.Errorf("the refused form does not show the submitted source group again")
				}
				if v := w.syncView(t, id); (v.Settings != nil && v.Settings.Enabled) || v.Task != nil {
					t.Errorf("after a refusal: settings %+v, task %+v; want nothing stored", v.Settings, v.Task)
				}
			})
		}
	})

	t.Run("without the CSRF token", func(t *testing.T) {
		id := w.group(t, "CSRF group")
		form := settingsForm(admin, w.DSID, url.Values{"kind": {"daily"}, "time": {"09:00"}})
		form.Del("csrf")
		if r := browser(t, admin).Do("POST", "/groups/"+id+"/sync", form); r.Status != http.StatusForbidden {
			t.Errorf("POST without CSRF: got %d, want 403", r.Status)
		}
		if v := w.syncView(t, id); v.Task != nil {
			t.Errorf("a request without the CSRF token created task %+v", v.Task)
		}
	})

	t.Run("non-Administrator is refused", func(t *testing.T) {
		id := w.group(t, "Guarded group")
		if r := browser(t, admin).Do("POST", "/groups/"+id+"/sync", settingsForm(admin, w.DSID, url.Values{"kind": {"onDemand"}})); r.Status != http.StatusOK {
			t.Fatalf("save as Administrator: %s", r)
		}
		taskID := w.syncView(t, id).Task.ID
		user := w.E.User(t)
		ub := browser(t, user)
		tests := []struct {
			method, path string
			form         url.Values
		}{
			{"GET", "/groups/" + id, nil},
			{"GET", "/tasks", nil},
			{"POST", "/groups/" + id + "/sync", settingsForm(user, w.DSID, url.Values{"kind": {"daily"}, "time": {"09:00"}})},
			{"POST", "/groups/" + id + "/sync/run", url.Values{"mode": {"run"}, "csrf": {user.CSRF}}},
			{"POST", "/tasks/" + taskID + "/run", url.Values{"csrf": {user.CSRF}}},
		}
		for _, tc := range tests {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				var body any
				if tc.form != nil {
					body = tc.form
				}
				if r := ub.In(t).Do(tc.method, tc.path, body); r.Status != http.StatusForbidden {
					t.Errorf("%s %s as a User: got %d, want 403", tc.method, tc.path, r.Status)
				}
			})
		}
		if got := w.syncView(t, id).Task; got == nil || got.ID != taskID || got.Status == "queued" {
			t.Errorf("task after the User's attempts = %+v, want task %s as the Administrator left it, not queued", got, taskID)
		}
		if got := w.runs(t, id); len(got) != 0 {
			t.Errorf("runs after the User's attempts = %+v, want none", got)
		}
	})

	t.Run("tasks page and Run now", func(t *testing.T) {
		id := w.group(t, "Listed group")
		b := browser(t, admin)
		if r := b.Do("POST", "/groups/"+id+"/sync", settingsForm(admin, w.DSID, url.Values{"kind": {"daily"}, "time": {"07:15"}, "timeZone": {"UTC"}})); r.Status != http.StatusOK {
			t.Fatalf("save settings: %s", r)
		}
		tk := w.syncView(t, id).Task
		if tk == nil || tk.NextRun == nil {
			t.Fatalf("task = %+v, want one with a next run", tk)
		}
		page := admin.In(t).Get("/tasks")
		row := taskRow(t, page, tk.ID)
		for _, want := range []string{
			`<a href="/groups/` + id + `">` + tk.Name + `</a>`,  // name, linking to the group
			"<td>" + tk.ScheduleText + "</td>",                  // schedule
			`<span class="muted">never</span>`,                  // last run
			"<td>" + string(webpage.Time(tk.NextRun)) + "</td>", // next run
			"<td>" + tk.Status,                                  // status
			`action="/tasks/` + tk.ID + `/run"`,                 // Run now
		} {
			if !strings.Contains(row, want) {
				t.Errorf("task row lacks %q:\n%s", want, row)
			}
		}
		if !strings.Contains(tk.Name, "Listed group") {
			t.Errorf("task name %q does not name the group", tk.Name)
		}

		r := b.Do("POST", "/tasks/"+tk.ID+"/run", url.Values{"csrf": {admin.CSRF}})
		if r.Status != http.StatusSeeOther || r.Location() != "/tasks?done=queued" {
			t.Fatalf("Run now: %d %q, want 303 to /tasks?done=queued", r.Status, r.Location())
		}
		if body := admin.In(t).Get(r.Location()); !strings.Contains(body, "The run is queued.") {
			t.Errorf("tasks page after Run now lacks the notice:\n%s", body)
		}
		testenv.WaitFor(t, 20*time.Second, "the queued run to succeed", func() bool {
			for _, r := range w.runs(t, id) {
				if !r.DryRun && r.Status == "succeeded" {
					return true
				}
			}
			return false
		})
		page = admin.In(t).Get("/tasks")
		if row := taskRow(t, page, tk.ID); strings.Contains(row, "never") || !strings.Contains(row, "succeeded") {
			t.Errorf("task row after the run lacks its last run and status:\n%s", row)
		}

		// The group page's Run now queues a sync of the group too. River
		// marks the finished job completed a moment after the run record
		// says succeeded, and until then Run now rightly answers that a
		// run is already going; so press it until it queues.
		testenv.WaitFor(t, 10*time.Second, "the group page's Run now to queue a run", func() bool {
			r := b.Do("POST", "/groups/"+id+"/sync/run", url.Values{"mode": {"run"}, "csrf": {admin.CSRF}})
			if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/groups/"+id+"?done=") {
				t.Fatalf("group Run now: %d %q, want 303 back to the group", r.Status, r.Location())
			}
			return r.Location() == "/groups/"+id+"?done=queued"
		})
		testenv.WaitFor(t, 20*time.Second, "the group page's run to succeed", func() bool {
			n := 0
			for _, r := range w.runs(t, id) {
				if !r.DryRun && r.Status == "succeeded" {
					n++
				}
			}
			return n == 2
		})
		if body := admin.In(t).Get("/groups/" + id + "?done=queued"); !strings.Contains(body, "The sync is queued") || strings.Count(body, `<tr data-status="succeeded">`) != 2 {
			t.Errorf("group page lacks the queued notice or its two succeeded runs")
		}
	})
}

// taskRow is the table row of task id on the tasks page.
func taskRow(tb testing.TB, page, id string) string {
	tb.Helper()
	i := strings.Index(page, `action="/tasks/`+id+`/run"`)
	if i < 0 {
		tb.Fatalf("the tasks page has no row for task %s:\n%s", id, page)
	}
	start := strings.LastIndex(page[:i], "<tr>")
	end := strings.Index(page[i:], "</tr>")
	if start < 0 || end < 0 {
		tb.Fatalf("task %s is not in a table row", id)
	}
	return page[start : i+end]
}
