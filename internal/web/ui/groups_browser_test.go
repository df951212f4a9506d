package ui_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestBrowserGroupSyncFromTheUI is what issue 9 found missing: an
// Administrator creates a directory group in the UI, sets up its member
// sync from Office 365 on the group's sync page, runs it, sees the
// imported members, and finds the change in the audit log by its target.
// Only the data source is prepared through the API.
func TestBrowserGroupSyncFromTheUI(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 12, Groups: 3, Seed: 7, RunJobs: true})
	s := &stack{Env: e, AdminEmail: testenv.AdminEmail, AdminPassword: testenv.Password}
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso tenant", nil)
	ctx := browserFor(t, 3*time.Minute)
	check := watchPage(t, ctx)
	signIn(t, ctx, s)

	run(t, ctx, "Administration > Groups, New group",
		chromedp.Click(xp(`//summary[normalize-space()="Administration"]`)),
		chromedp.Click(xp(`//nav//a[normalize-space()="Groups"]`)),
		chromedp.WaitVisible(xp(`//h2[normalize-space()="New group"]`)),
		chromedp.SendKeys(chromedp.ID("new-group-name"), "Imported staff"),
		chromedp.Click(xp(`//label[normalize-space()="Design business process"]`)),
		chromedp.Click(xp(`//button[normalize-space()="Create group"]`)),
		notice("Group created"),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Imported staff"]`)),
	)
	path := read(t, ctx, "edit page path", chromedp.Evaluate[string](`location.pathname`))
	id := strings.TrimSuffix(strings.TrimPrefix(path, "/groups/"), "/edit")
	if id == path || strings.Contains(id, "/") {
		t.Fatalf("after creating: at %s, want /groups/{id}/edit", path)
	}

	// Unsaved edits: Close asks first, and answering Cancel stays.
	run(t, ctx, "unsaved name, Close, Cancel",
		chromedp.SendKeys(chromedp.ID("group-name"), " (draft)"),
		chromedp.Evaluate[chromedp.Void](`window.confirm = function (m) { window.askedBeforeClose = m; return false; }`),
		chromedp.Click(xp(`//a[@data-close and normalize-space()="Close"]`)),
	)
	asked := read(t, ctx, "the question", chromedp.Evaluate[string](`window.askedBeforeClose || ""`))
	if here := read(t, ctx, "path", chromedp.Evaluate[string](`location.pathname`)); !strings.Contains(asked, "unsaved changes") || here != path {
		t.Errorf("Close with an unsaved name: asked %q, now at %s; want the question and to stay at %s", asked, here, path)
	}
	run(t, ctx, "reload without the draft", chromedp.Navigate(e.URL+path), chromedp.WaitVisible(chromedp.ID("group-name")))

	run(t, ctx, "the group's sync page: turn member sync on",
		chromedp.Click(xp(`//a[normalize-space()="Group member sync"]`)),
		chromedp.WaitVisible(chromedp.ID("sync-enabled")),
		chromedp.Click(chromedp.ID("sync-enabled")),
		chromedp.SetValue(chromedp.ID("sync-ds"), ds.ID),
		chromedp.SendKeys(chromedp.ID("sync-source"), "*"),
		chromedp.Click(xp(`//form[contains(@action,"/sync")]//button[normalize-space()="Save"]`)),
		notice("Sync settings saved"),
	)
	screenshot(t, ctx, "group-sync-settings.png", false)
	run(t, ctx, "Run now, until the run succeeds",
		chromedp.Click(xp(`//button[normalize-space()="Run now"]`)),
		notice("The sync is queued"),
		chromedp.WaitVisible(xp(`//table[@id="sync-runs"]//tr[@data-status="succeeded"]`)),
	)
	screenshot(t, ctx, "group-sync-run.png", false)
	// Live rows (drawn by sync.js) show times like every page: a <time
	// data-local> in the browser's zone, the UTC text as its tooltip.
	live := read(t, ctx, "a live run's start", chromedp.Evaluate[string](
		`(function(){var e=document.querySelector('#sync-runs tr[data-status="succeeded"] time[data-local]');return e?e.textContent+"|"+e.title:"";})()`))
	if text, title, _ := strings.Cut(live, "|"); strings.Contains(text, "UTC") || !strings.Contains(text, ", ") || !strings.HasSuffix(title, " UTC") {
		t.Errorf("live run start shown as %q (tooltip %q), want the local format like 2 Dec 2026, 16:53 with the UTC time as tooltip", text, title)
	}

	run(t, ctx, "the imported members on the group's page",
		chromedp.Click(xp(`//a[normalize-space()="Name, roles and members"]`)),
		chromedp.WaitVisible(xp(`//section[@id="members"]//tbody/tr`)),
	)
	if n := read(t, ctx, "member rows", chromedp.Evaluate[int](`document.querySelectorAll("#members tbody tr").length`)); n < 10 {
		t.Errorf("members after the sync: %d rows, want the tenant's users", n)
	}
	if sub := read(t, ctx, "sync summary", chromedp.Text(chromedp.CSS(".page-head .subtitle"))); !strings.Contains(sub, "on, from Contoso tenant") {
		t.Errorf("group page says %q, want the sync on from Contoso tenant", sub)
	}
	screenshot(t, ctx, "group-edit.png", false)

	run(t, ctx, "Administration > Audit log",
		chromedp.Click(xp(`//summary[normalize-space()="Administration"]`)),
		chromedp.Click(xp(`//nav//a[normalize-space()="Audit log"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Audit log"]`)),
	)
	targetsShown := func() []string {
		return texts(t, ctx, "targets", "table.audit td.target .id") // the target as stored; a name links it while it exists
	}
	// Unfiltered, the log holds more than the group's entries (the data
	// source, the sign-in), so the filter below has something to leave out.
	if all := targetsShown(); !slices.ContainsFunc(all, func(s string) bool { return s != "group:"+id }) {
		t.Fatalf("the unfiltered audit log shows only %v, want other targets too", all)
	}
	run(t, ctx, "filter by the group",
		chromedp.SendKeys(chromedp.ID("f-target"), "group:"+id),
		// The unfiltered page already lists these rows: mark it, and wait
		// for the filtered page to replace it, or the reads below race the
		// navigation.
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.unfiltered = "1"`),
		chromedp.Click(xp(`//button[normalize-space()="Filter"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`body[data-unfiltered]`)),
		chromedp.WaitVisible(xp(`//tr[td[normalize-space()="group.sync.settings"]]`)),
		chromedp.WaitVisible(xp(`//tr[td[normalize-space()="group.create"]]`)),
	)
	// Only the group's entries, each linking the group's page; the filter
	// keeps its value.
	for _, target := range targetsShown() {
		if target != "group:"+id {
			t.Errorf("the audit log filtered by group:%s shows an entry about %q", id, target)
		}
	}
	if href := read(t, ctx, "target link", chromedp.Evaluate[string](`document.querySelector("table.audit td.target a").getAttribute("href")`)); href != path {
		t.Errorf("the target links %q, want the group's page %s", href, path)
	}
	if got := read(t, ctx, "filter value", chromedp.Value(chromedp.ID("f-target"))); got != "group:"+id {
		t.Errorf("the Target filter shows %q after filtering, want group:%s", got, id)
	}
	// Times are shown in the browser's zone, in the one format.
	shown := read(t, ctx, "a time", chromedp.Text(chromedp.CSS("table.audit time")))
	if strings.Contains(shown, "UTC") || !strings.Contains(shown, ", ") {
		t.Errorf("audit time shown as %q, want the local format like 2 Dec 2026, 16:53", shown)
	}
	screenshot(t, ctx, "audit.png", false)
	check()
}
