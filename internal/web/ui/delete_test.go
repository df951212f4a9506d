package ui_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

var deleteCardRE = regexp.MustCompile(`(?s)<section class="card narrow">.*?</section>`)

// TestDeleteInUsePage: the delete page of a data source that single
// sign-on, a group sync with its scheduled task and a process use lists
// them and asks to confirm; a post without the confirmation (the Bin
// button's JavaScript path) comes back to the page with 409; the
// confirmed post deletes it and turns them off; something the page did
// not show stops a confirmed post.
func TestDeleteInUsePage(t *testing.T) {
	ctx := context.Background()
	e := mustOpenEnv(t, envConfig{})
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	ds := e.mustCreateDataSource(t, admin, "Contoso", false)
	b := e.mustSignIn(t, "admin@example.com")

	sso, _ := json.Marshal(map[string]any{"enabled": true, "datasource": ds.ID, "autoRedirect": true})
	must(t, e.Store.PutSetting(ctx, "sso", sso))
	sales := &tenantlink.Group{Name: "Sales", Roles: []tenantlink.Role{}, Members: []string{},
		Sync: &tenantlink.SyncSettings{Enabled: true, DataSource: ds.ID, SourceGroup: "*", MissingUsers: "keep"}}
	must(t, e.Store.CreateGroup(ctx, sales))
	db := e.Store.(*sqlstore.DB)
	now := sqlstore.TimeValue(db.Dialect(), time.Now())
	_, err := db.SQL().ExecContext(ctx, `INSERT INTO tasks (id, name, kind, target, schedule, enabled, next_run, created_at, updated_at)
		VALUES ('01a237bb-0000-7000-8000-000000000001', 'Sync Sales', 'sync', $1, '{}', true, $2, $3, $4)`, sales.ID, now, now, now)
	must(t, err)
	proc := &store.Process{Name: "Onboarding", Definition: []byte(`{"name":"Onboarding","rules":[{"datasource":"` + ds.ID + `"}]}`)}
	must(t, e.Store.CreateProcess(ctx, proc))

	page := b.get("/datasources/" + ds.ID + "/delete")
	if page.Status != http.StatusOK {
		t.Fatalf("delete page: status %d\n%s", page.Status, page.Body)
	}
	checkGolden(t, "datasource_delete_in_use", deleteCardRE.FindString(page.Body))

	got := b.post("/datasources/"+ds.ID+"/delete", nil, true)
	if got.Status != http.StatusConflict || !strings.Contains(got.Body, `name="force" value="true"`) || !strings.Contains(got.Body, "Sync Sales") {
		t.Fatalf("unconfirmed POST: status %d, want 409 with the confirmation page; body:\n%s", got.Status, got.Body)
	}

	t.Run("something the page did not show", func(t *testing.T) {
		shown := url.Values{"force": {"true"}, "shown": {"sso:sso", "groupSync:" + sales.ID, "task:01a237bb-0000-7000-8000-000000000001"}}
		got := b.post("/datasources/"+ds.ID+"/delete", shown, true)
		if got.Status != http.StatusConflict || !strings.Contains(got.Body, "Onboarding") {
			t.Errorf("POST forcing without the process shown: status %d, want 409 listing it; body:\n%s", got.Status, got.Body)
		}
		if _, err := e.Store.GetDataSource(ctx, ds.ID); err != nil {
			t.Errorf("data source gone after a refused delete: %v", err)
		}
	})

	confirm := url.Values{"force": {"true"}, "shown": {"sso:sso", "groupSync:" + sales.ID, "task:01a237bb-0000-7000-8000-000000000001", "process:" + proc.ID}}
	got = b.post("/datasources/"+ds.ID+"/delete", confirm, true)
	if got.Status != http.StatusSeeOther || got.Location != "/datasources?notice=deleted" {
		t.Fatalf("confirmed POST: got %d %q, want 303; body:\n%s", got.Status, got.Location, got.Body)
	}
	if _, err := e.Store.GetDataSource(ctx, ds.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: GetDataSource error %v, want ErrNotFound", err)
	}
	raw, err := e.Store.GetSetting(ctx, "sso")
	must(t, err)
	var set struct {
		Enabled, AutoRedirect bool
		DataSource            string
	}
	must(t, json.Unmarshal(raw, &set))
	if set.Enabled || set.AutoRedirect || set.DataSource != "" {
		t.Errorf("sso settings after delete = %+v, want off", set)
	}
	g, err := e.Store.GetGroup(ctx, sales.ID)
	must(t, err)
	if g.Sync == nil || g.Sync.Enabled || g.Sync.DataSource != "" {
		t.Errorf("Sales sync after delete = %+v, want disabled", g.Sync)
	}
	tasks, err := e.Store.ListTasksByTarget(ctx, store.TaskKindSync, []string{sales.ID})
	must(t, err)
	if len(tasks) != 1 || tasks[0].Enabled {
		t.Errorf("Sales tasks after delete = %+v, want one, disabled", tasks)
	}
	sp, err := e.Store.GetProcess(ctx, proc.ID)
	must(t, err)
	if sp.NeedsDataSource != "Contoso" {
		t.Errorf("process after delete: needsDataSource %q, want Contoso", sp.NeedsDataSource)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
