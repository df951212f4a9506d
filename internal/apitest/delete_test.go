package apitest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

type dependent struct {
	Kind, ID, Name string
}

type syncView struct {
	Settings struct {
		Enabled    bool
		DataSource string
	}
	Task *struct {
		ID, Name, Status string
		Enabled          bool
		NextRun          *string
	}
}

// TestDeleteDataSourceInUse deletes a data source that single sign-on, a
// group's member sync (with its scheduled task) and a process use: refused
// with 409 listing each, until forced; the forced deletion turns single
// sign-on off, disables the sync and its task and flags the process, with
// an audit entry each, and leaves what used another data source alone.
func TestDeleteDataSourceInUse(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.SignIn(t, adminEmail, password).NewToken()
	ds := e.AuthorizedDataSource(admin.In(t), "Contoso", map[string]any{"singleSignOn": true})
	other := e.AuthorizedDataSource(admin.In(t), "Fabrikam", nil)
	admin.Must(200, "PUT", "/api/v1/settings/sso", map[string]any{"enabled": true, "datasource": ds.ID}, nil)
	var sales, hr struct{ ID string }
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Sales"}, &sales)
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "HR"}, &hr)
	var sync syncView
	admin.Must(200, "PUT", "/api/v1/groups/"+sales.ID+"/sync",
		map[string]any{"enabled": true, "datasource": ds.ID, "sourceGroup": "*", "missingUsers": "keep"}, &sync)
	if sync.Task == nil || !sync.Task.Enabled || sync.Task.NextRun == nil {
		t.Fatalf("sync task = %+v, want an enabled, scheduled task", sync.Task)
	}
	task := *sync.Task
	admin.Must(200, "PUT", "/api/v1/groups/"+hr.ID+"/sync",
		map[string]any{"enabled": true, "datasource": other.ID, "sourceGroup": "*", "missingUsers": "keep"}, nil)
	var proc, otherProc struct{ ID string }
	admin.Must(201, "POST", "/api/v1/processes", processDefinition("Count plans", ds.ID), &proc)
	admin.Must(201, "POST", "/api/v1/processes", processDefinition("Count Fabrikam plans", other.ID), &otherProc)
	auditBefore := len(audit(t, admin))

	wantDeps := []dependent{
		{"sso", "sso", "Single sign-on"},
		{"groupSync", sales.ID, "Sales"},
		{"task", task.ID, task.Name},
		{"process", proc.ID, "Count plans"},
	}
	t.Run("in use: 409 listing each dependent, nothing changed", func(t *testing.T) {
		r := admin.In(t).Do("DELETE", "/api/v1/datasources/"+ds.ID, nil)
		var body struct {
			Error struct {
				Code, Message string
				Dependents    []dependent
			}
		}
		r.Decode(t, &body)
		if r.Status != 409 || body.Error.Code != "conflict" {
			t.Fatalf("DELETE = %s, want 409 conflict", r)
		}
		if diff := cmp.Diff(wantDeps, body.Error.Dependents); diff != "" {
			t.Errorf("dependents (-want +got):\n%s", diff)
		}
		for _, want := range []string{"single sign-on", `group "Sales"`, "scheduled task", `process "Count plans"`, "force=true"} {
			if !strings.Contains(body.Error.Message, want) {
				t.Errorf("message %q lacks %q", body.Error.Message, want)
			}
		}
		if r := admin.In(t).Do("DELETE", "/api/v1/datasources/"+ds.ID+"?force=yes", nil); r.Status != 400 {
			t.Errorf("DELETE ?force=yes = %s, want 400", r)
		}
		admin.In(t).Must(200, "GET", "/api/v1/datasources/"+ds.ID, nil, nil)
		var sso struct{ Enabled bool }
		admin.In(t).Must(200, "GET", "/api/v1/settings/sso", nil, &sso)
		if !sso.Enabled {
			t.Errorf("single sign-on turned off by a refused delete")
		}
		if got := len(audit(t, admin)); got != auditBefore {
			t.Errorf("audit entries after a refused delete = %d, want %d", got, auditBefore)
		}
	})

	t.Run("forced: everything it touched, with audit entries", func(t *testing.T) {
		admin.In(t).Must(204, "DELETE", "/api/v1/datasources/"+ds.ID+"?force=true", nil, nil)
		if r := admin.In(t).Do("GET", "/api/v1/datasources/"+ds.ID, nil); r.Status != 404 {
			t.Errorf("GET deleted data source = %s, want 404", r)
		}
		var sso struct {
			Enabled, AutoRedirect bool
			DataSource            string
		}
		admin.In(t).Must(200, "GET", "/api/v1/settings/sso", nil, &sso)
		if sso.Enabled || sso.DataSource != "" {
			t.Errorf("single sign-on after the delete = %+v, want off, no data source", sso)
		}
		var got syncView
		admin.In(t).Must(200, "GET", "/api/v1/groups/"+sales.ID+"/sync", nil, &got)
		if got.Settings.Enabled || got.Settings.DataSource != "" || got.Task == nil || got.Task.Enabled || got.Task.NextRun != nil || got.Task.Status != "disabled" {
			t.Errorf("Sales sync after the delete = %+v, task %+v; want disabled, no data source, task disabled and unscheduled", got.Settings, got.Task)
		}
		browser := e.SignIn(t, adminEmail, password)
		if r := browser.Do("GET", "/groups/"+sales.ID, nil); r.Status != 200 {
			t.Errorf("group page of the disabled sync = %d, want 200", r.Status)
		}
		if page := browser.Get("/processes"); !strings.Contains(page, ">needs a data source</span>") {
			t.Errorf("processes page does not show the flagged process as needing a data source:\n%s", page)
		}
		if page := browser.Get("/processes/" + proc.ID); !strings.Contains(page, `id="needs-datasource"`) || !strings.Contains(page, "Contoso, which it used, was deleted") {
			t.Errorf("process page does not say it needs a data source:\n%s", page)
		}
		admin.In(t).Must(200, "GET", "/api/v1/groups/"+hr.ID+"/sync", nil, &got)
		if !got.Settings.Enabled || got.Settings.DataSource != other.ID || got.Task == nil || !got.Task.Enabled {
			t.Errorf("HR sync (another data source) after the delete = %+v, task %+v; want unchanged", got.Settings, got.Task)
		}
		var p struct{ NeedsDataSource string }
		admin.In(t).Must(200, "GET", "/api/v1/processes/"+proc.ID, nil, &p)
		if p.NeedsDataSource != "Contoso" {
			t.Errorf("process needsDataSource = %q, want Contoso", p.NeedsDataSource)
		}
		r := admin.In(t).Do("POST", "/api/v1/processes/"+proc.ID+"/instances", map[string]any{"fields": map[string]any{}})
		if r.Status != 409 || !strings.Contains(r.ErrorMessage(), "needs a data source") || !strings.Contains(r.ErrorMessage(), "Contoso") {
			t.Errorf("starting the flagged process = %s, want 409 saying it needs a data source", r)
		}
		p.NeedsDataSource = "" // omitted when empty
		admin.In(t).Must(200, "GET", "/api/v1/processes/"+otherProc.ID, nil, &p)
		if p.NeedsDataSource != "" {
			t.Errorf("process on another data source flagged %q", p.NeedsDataSource)
		}
		admin.In(t).Must(201, "POST", "/api/v1/processes/"+otherProc.ID+"/instances", map[string]any{"fields": map[string]any{}}, nil)

		entries := audit(t, admin)
		var got2 []string
		for _, a := range entries[:len(entries)-auditBefore] {
			if a.Action != "process.start" && a.Action != "session.create" {
				got2 = append(got2, a.Action+" "+a.Target+" "+a.Outcome)
			}
		}
		want := []string{
			"datasource.delete datasource:" + ds.ID + " ok",
			"process.update process:" + proc.ID + " ok",
			"task.update task:" + task.ID + " ok",
			"group.sync.settings group:" + sales.ID + " ok",
			"sso.settings settings:sso ok",
		}
		if diff := cmp.Diff(want, got2); diff != "" {
			t.Errorf("audit entries of the forced delete, newest first (-want +got):\n%s", diff)
		}

		// Saving the process again with another data source clears the flag.
		p.NeedsDataSource = ""
		admin.In(t).Must(200, "PUT", "/api/v1/processes/"+proc.ID, processDefinition("Count plans", other.ID), &p)
		if p.NeedsDataSource != "" {
			t.Errorf("process saved with another data source: needsDataSource %q, want none", p.NeedsDataSource)
		}
	})
}
