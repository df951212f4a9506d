package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestAuditLinksOnlyExistingTargets: the audit log links a user, group or
// data source target to its page only while it exists, named; one that was
// deleted is its id as text, marked deleted, not a link to a 404.
func TestAuditLinksOnlyExistingTargets(t *testing.T) {
	ctx := context.Background()
	f := newDirectoryFixture(t)
	sys := tenantlink.System
	gone, err := f.e.Dir.CreateGroup(ctx, sys, directory.GroupInput{Name: ptr("Gone <group>"), Members: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := f.e.Dir.CreateGroup(ctx, sys, directory.GroupInput{Name: ptr("Kept & well"), Members: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Dir.DeleteGroup(ctx, sys, gone.ID); err != nil {
		t.Fatal(err)
	}
	leaver, err := f.e.Dir.CreateUser(ctx, sys, directory.UserInput{Email: ptr("leaver@example.com"), Roles: &[]tenantlink.Role{tenantlink.RoleUser}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Dir.DeleteUser(ctx, sys, leaver.ID); err != nil {
		t.Fatal(err)
	}
	dsGone := f.e.mustCreateDataSource(t, f.admin, "Old tenant", false)
	if err := f.e.DS.Delete(ctx, f.e.mustPrincipal(t, f.admin), dsGone.ID, false); err != nil {
		t.Fatal(err)
	}
	dsKept := f.e.mustCreateDataSource(t, f.admin, "New tenant", false)
	// Processes and scheduled tasks: the audit entries package process and
	// the task owners write, made here directly.
	proc := &store.Process{Name: "Onboarding", Definition: []byte(`{}`), CreatedBy: "admin@example.com", ModifiedBy: "admin@example.com", EditorID: f.admin.ID}
	if err := f.e.Store.CreateProcess(ctx, proc); err != nil {
		t.Fatal(err)
	}
	task := &store.Task{Name: "Nightly sync", Kind: "groupsync", Target: kept.ID, Schedule: []byte(`{"every":"1h"}`)}
	if err := f.e.Store.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"process:" + proc.ID, "process:p-gone", "task:" + task.ID, "task:t-gone"} {
		if err := directory.Audit(ctx, f.e.Store, testNow, sys, "test.touch", target, "ok", ""); err != nil {
			t.Fatal(err)
		}
	}

	admin := f.e.mustSignIn(t, "admin@example.com")
	page := admin.get("/audit?limit=200").Body
	for _, want := range []string{
		`<a class="target-name" href="/groups/` + kept.ID + `/edit">Kept &amp; well</a>`,
		`<a class="target-name" href="/datasources/` + dsKept.ID + `">New tenant</a>`,
		`<a class="target-name" href="/users/` + f.plain.ID + `">`,
		`<span class="id">group:` + gone.ID + `</span> <span class="muted">(deleted)</span>`,
		`<span class="id">user:` + leaver.ID + `</span> <span class="muted">(deleted)</span>`,
		`<span class="id">datasource:` + dsGone.ID + `</span> <span class="muted">(deleted)</span>`,
		`<a class="target-name" href="/processes/` + proc.ID + `">Onboarding</a>`,
		`<span class="id">process:p-gone</span> <span class="muted">(deleted)</span>`,
		`<a class="target-name" href="/tasks">Nightly sync</a>`,
		`<span class="id">task:t-gone</span> <span class="muted">(deleted)</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/audit lacks %q", want)
		}
	}
	for _, dead := range []string{`href="/groups/` + gone.ID, `href="/users/` + leaver.ID, `href="/datasources/` + dsGone.ID} {
		if strings.Contains(page, dead) {
			t.Errorf("/audit links a deleted target: %q", dead)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}

	// A plain user's own entries link nothing (those pages are the
	// Administrator's), as before.
	plain := f.e.mustSignIn(t, "plain@example.com")
	if body := plain.get("/audit").Body; strings.Contains(body, `class="target-name"`) {
		t.Errorf("a plain user's audit log links targets:\n%s", body)
	}
}
