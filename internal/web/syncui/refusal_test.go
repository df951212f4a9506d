package syncui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestSyncRefusals: input a sync cannot use is refused with the reason,
// and changes nothing: a source group the tenant does not have (or a
// name two groups share), a one-time schedule in the past, and running a
// group whose sync is off or whose data source is broken — through the
// group's API, the task's Run now and the group page.
func TestSyncRefusals(t *testing.T) {
	w := newWorld(t)
	admin := w.E.Admin
	twins := make([]string, 2)
	for i := range twins {
		var g struct{ ID string }
		mustJSON(t, w.E.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": "Twins", "members": []string{}}), &g)
		twins[i] = g.ID
	}
	saves := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"unknown group id", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "0f0e0d0c-0b0a-4909-8807-060504030201"},
			[]string{"was not found in the tenant"}},
		{"unknown group name", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "No such group"},
			[]string{"was not found in the tenant"}},
		{"ambiguous name", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "Twins"},
			[]string{"ambiguous", twins[0], twins[1]}},
		{"one-time schedule in the past", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "*",
			"schedule": map[string]any{"kind": "once", "at": "2020-01-01T09:00", "timeZone": "UTC"}}, []string{"in the past"}},
	}
	for _, tc := range saves {
		t.Run("save: "+tc.name, func(t *testing.T) {
			id := w.group(t, "Refused "+tc.name)
			r := admin.In(t).Do("PUT", "/api/v1/groups/"+id+"/sync", tc.body)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("PUT: %s, want 400", r)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.ErrorMessage(), want) {
					t.Errorf("message %q lacks %q", r.ErrorMessage(), want)
				}
			}
			if v := w.syncView(t, id); v.Settings != nil || v.Task != nil {
				t.Errorf("after the refusal: settings %+v, task %+v; want none", v.Settings, v.Task)
			}
		})
	}
	t.Run("save: an existing group's exact name", func(t *testing.T) {
		id := w.group(t, "Accepted")
		var g struct{ ID string }
		mustJSON(t, w.E.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": "Only once", "members": []string{}}), &g)
		admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+id+"/sync", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "Only once"}, nil)
	})

	// A sync that is off, and one whose data source needs
	// re-authorization: every way of running them is refused.
	off := w.group(t, "Sync off")
	admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+off+"/sync", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "*"}, nil)
	admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+off+"/sync", map[string]any{"enabled": false, "datasource": w.DSID, "sourceGroup": "*"}, nil)
	broken := w.group(t, "Data source broken")
	ds2 := w.E.AuthorizedDataSource(admin.In(t), "Contoso 2", nil)
	admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+broken+"/sync", map[string]any{"enabled": true, "datasource": ds2.ID, "sourceGroup": "*"}, nil)
	if err := w.E.App.DataSources.Refused(context.Background(), ds2.ID, fmt.Errorf("invalid_grant: %w", connector.ErrReauthorize)); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ name, id, want string }{
		{"sync off", off, "off"},
		{"data source needs re-authorization", broken, "re-authoriz"},
	} {
		task := w.syncView(t, g.id).Task
		if task == nil {
			t.Fatalf("%s: no task", g.name)
		}
		b := browser(t, admin)
		runs := []struct {
			name   string
			do     func() (int, string)
			status int
		}{
			{"POST /api/v1/groups/{id}/sync", func() (int, string) {
				r := admin.In(t).Do("POST", "/api/v1/groups/"+g.id+"/sync", nil)
				return r.Status, r.ErrorMessage()
			}, http.StatusBadRequest},
			{"POST /api/v1/tasks/{id}/run", func() (int, string) {
				r := admin.In(t).Do("POST", "/api/v1/tasks/"+task.ID+"/run", nil)
				return r.Status, r.ErrorMessage()
			}, http.StatusBadRequest},
			{"group page Run now", func() (int, string) {
				r := b.Do("POST", "/groups/"+g.id+"/sync/run", url.Values{"mode": {"run"}, "csrf": {admin.CSRF}})
				return r.Status, string(r.Body)
			}, http.StatusBadRequest},
		}
		for _, rc := range runs {
			t.Run(g.name+": "+rc.name, func(t *testing.T) {
				status, msg := rc.do()
				if status != rc.status || !strings.Contains(msg, g.want) {
					t.Errorf("answer %d %q, want %d mentioning %q", status, firstLine(msg), rc.status, g.want)
				}
				if got := w.runs(t, g.id); len(got) != 0 {
					t.Errorf("runs = %+v, want none", got)
				}
				if tk := w.syncView(t, g.id).Task; tk == nil || tk.Status == "queued" {
					t.Errorf("task after the refusal = %+v, want not queued", tk)
				}
			})
		}
	}
}

func firstLine(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 && len(s) > 200 {
		return s[:i]
	}
	return s
}

// TestConcurrentSavesAgree: concurrent PUTs of a group's sync settings,
// turning it on and off, always leave the settings and the task agreeing
// (the task is written in the settings' transaction).
func TestConcurrentSavesAgree(t *testing.T) {
	w := newWorld(t)
	id := w.group(t, "Raced")
	admin := w.E.Admin
	for round := range 10 {
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := map[string]any{"enabled": (round+i)%2 == 0, "datasource": w.DSID, "sourceGroup": "*"}
				if r := admin.Do("PUT", "/api/v1/groups/"+id+"/sync", body); r.Status != http.StatusOK {
					t.Errorf("round %d save %d: %s", round, i, r)
				}
			}()
		}
		wg.Wait()
		var v struct {
			Settings *struct{ Enabled bool } `json:"settings"`
			Task     *struct{ Enabled bool } `json:"task"`
		}
		admin.In(t).Must(http.StatusOK, "GET", "/api/v1/groups/"+id+"/sync", nil, &v)
		if v.Settings == nil || v.Task == nil || v.Settings.Enabled != v.Task.Enabled {
			t.Fatalf("round %d: settings %+v, task %+v; want them to agree", round, v.Settings, v.Task)
		}
	}
}

// TestStopStuckRun: an Administrator stops a run that is stuck as
// running (from the API and from the group page, which offers a Stop
// button with a confirmation); a User cannot.
func TestStopStuckRun(t *testing.T) {
	w := newWorld(t)
	admin := w.E.Admin
	id := w.group(t, "Stuck")
	admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+id+"/sync", map[string]any{"enabled": true, "datasource": w.DSID, "sourceGroup": "*"}, nil)
	stuck := func() string {
		r := &store.SyncRun{GroupID: id, Trigger: "schedule", Result: []byte(`{}`), StartedAt: time.Now(), HeartbeatAt: time.Now()}
		if err := w.E.App.DB.CreateSyncRun(context.Background(), r, time.Time{}); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}

	first := stuck()
	page := admin.In(t).Get("/groups/" + id)
	form := `action="/groups/` + id + `/sync/runs/` + first + `/stop"`
	if !strings.Contains(page, form) || !strings.Contains(page, `data-confirm="Stop this run?`) {
		t.Errorf("group page lacks the Stop form with a confirmation for run %s", first)
	}
	user := w.E.User(t, "User")
	if r := user.Do("POST", "/api/v1/groups/"+id+"/sync/runs/"+first+"/stop", nil); r.Status != http.StatusForbidden {
		t.Errorf("User's stop: %s, want 403", r)
	}
	var got run
	admin.In(t).Must(http.StatusOK, "POST", "/api/v1/groups/"+id+"/sync/runs/"+first+"/stop", nil, &got)
	if got.Status != "stopped" {
		t.Errorf("stopped run = %+v", got)
	}
	if r := admin.In(t).Do("POST", "/api/v1/groups/"+id+"/sync/runs/"+first+"/stop", nil); r.Status != http.StatusConflict {
		t.Errorf("second stop: %s, want 409", r)
	}

	second := stuck()
	r := browser(t, admin).Do("POST", "/groups/"+id+"/sync/runs/"+second+"/stop", url.Values{"csrf": {admin.CSRF}})
	if r.Status != http.StatusSeeOther || r.Location() != "/groups/"+id+"?done=stopped" {
		t.Fatalf("page stop: %d %q", r.Status, r.Location())
	}
	for _, rr := range w.runs(t, id) {
		if rr.Status == "running" {
			t.Errorf("run %s still running", rr.ID)
		}
	}
	n := 0
	for _, e := range w.E.Audit(t) {
		if e.Action == "group.sync.stop" && e.Target == "group:"+id {
			n++
		}
	}
	if n != 2 {
		t.Errorf("group.sync.stop audit entries = %d, want 2", n)
	}
}

func mustJSON(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
}
