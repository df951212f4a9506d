package cli_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestGroupSyncCommand(t *testing.T) {
	e := startOpEnv(t, opEnvOptions{Users: 8, Groups: 2})
	t.Setenv("TENANTLINK_TOKEN", e.Token)
	var g struct{ ID string }
	e.session.mustDo(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": "Staff"}, &g)

	code, out, stderr := runCLI(t, "group-sync", "Staff", "--server", e.URL)
	if code != 0 || !strings.Contains(out, "not set up") {
		t.Fatalf("group-sync Staff = %d, %q, %q; want the settings shown as not set up", code, out, stderr)
	}

	code, out, stderr = runCLI(t, "group-sync", "staff", "--server", e.URL, "--enabled", "--datasource", e2eDSName,
		"--source-group", "*", "--missing", "disable", "--schedule", `{"kind":"daily","time":"09:00","weekdaysOnly":true}`, "--dry-run")
	if code != 0 {
		t.Fatalf("group-sync with flags = %d, stdout %q, stderr %q", code, out, stderr)
	}
	var view struct {
		Settings struct {
			Enabled      bool   `json:"enabled"`
			DataSource   string `json:"datasource"`
			SourceGroup  string `json:"sourceGroup"`
			MissingUsers string `json:"missingUsers"`
		} `json:"settings"`
		Task map[string]any `json:"task"`
	}
	e.session.mustDo(http.StatusOK, "GET", "/api/v1/groups/"+g.ID+"/sync", nil, &view)
	if !view.Settings.Enabled || view.Settings.DataSource != e.DSID || view.Settings.SourceGroup != "*" || view.Settings.MissingUsers != "disable" {
		t.Errorf("stored settings = %+v, want enabled, the data source, all users, disable", view.Settings)
	}
	if view.Task == nil {
		t.Fatalf("no scheduled task after turning sync on; stdout %q", out)
	}
	sched, _ := json.Marshal(view.Task["schedule"])
	if !strings.Contains(string(sched), `"daily"`) || !strings.Contains(string(sched), `"09:00"`) {
		t.Errorf("task schedule = %s, want daily at 09:00", sched)
	}
	if !strings.Contains(out, "saved") || !strings.Contains(out, "dry run:") || !strings.Contains(out, `"created": 8`) {
		t.Errorf("output %q: want saved, and a dry run that would create the tenant's 8 users", out)
	}
	var users struct{ Value []any }
	e.session.mustDo(http.StatusOK, "GET", "/api/v1/users?datasource="+e.DSID, nil, &users)
	if len(users.Value) != 0 {
		t.Errorf("dry run imported %d users, want none", len(users.Value))
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown group", []string{"group-sync", "Nobody", "--server", e.URL}, `no directory group "Nobody"`},
		{"bad missing policy", []string{"group-sync", "Staff", "--server", e.URL, "--missing", "delete"}, "missingUsers must be keep, disable or remove"},
		{"bad schedule", []string{"group-sync", "Staff", "--server", e.URL, "--schedule", "fortnightly"}, "schedule"},
		{"unknown data source", []string{"group-sync", "Staff", "--server", e.URL, "--datasource", "Nope"}, `no data source named "Nope"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q", code, stderr, tt.want)
			}
		})
	}
}
