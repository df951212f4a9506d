package ui_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestBrowserSyncDryRunAndProgress is issues 9 and 11 on the group page
// of a tenant of a few thousand users: a dry run lists, by name, who the
// sync would create (the first 1,000); then a real run, slowed by the
// simulator so that it can be watched, shows "x of y" with a progress bar
// while it reads, and finishes having created y users.
func TestBrowserSyncDryRunAndProgress(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 3000, Groups: 1, Seed: 7, RunJobs: true})
	s := &stack{Env: e, AdminEmail: testenv.AdminEmail, AdminPassword: testenv.Password}
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso tenant", nil)
	var g struct{ ID string }
	e.Admin.In(t).Must(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": "Everyone"}, &g)
	e.Admin.In(t).Must(http.StatusOK, "PUT", "/api/v1/groups/"+g.ID+"/sync",
		map[string]any{"enabled": true, "datasource": ds.ID, "sourceGroup": "*"}, nil)

	ctx := browserFor(t, 3*time.Minute)
	check := watchPage(t, ctx)
	signIn(t, ctx, s)

	runOrShow(t, ctx, "the group page, Dry run, its list",
		chromedp.Navigate(e.URL+"/groups/"+g.ID),
		chromedp.WaitVisible(xp(`//button[normalize-space()="Dry run"]`)),
		chromedp.Click(xp(`//button[normalize-space()="Dry run"]`)),
		chromedp.WaitVisible(xp(`//p[@role="status" and starts-with(normalize-space(), "Dry run: would create")]`)),
		chromedp.WaitVisible(chromedp.ID("dry-run-create")),
	)
	caption := read(t, ctx, "the creations' caption", chromedp.Text(chromedp.CSS("#dry-run-create caption")))
	m := regexp.MustCompile(`^Would be created \((\d+)\): the first 1000 by name$`).FindStringSubmatch(strings.TrimSpace(caption))
	if m == nil {
		t.Fatalf("dry run table caption = %q, want \"Would be created (N): the first 1000 by name\"", caption)
	}
	users, _ := strconv.Atoi(m[1])
	if users < 3000 {
		t.Errorf("the dry run would create %d users, want the tenant's 3000 and more", users)
	}
	names := read(t, ctx, "the listed names", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#dry-run-create tbody tr td:first-child")).map(function (td) { return td.textContent; })`))
	emails := read(t, ctx, "the listed emails", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#dry-run-create tbody tr td:nth-child(2)")).map(function (td) { return td.textContent; })`))
	if len(names) != 1000 || len(emails) != 1000 {
		t.Fatalf("the dry run lists %d names and %d emails, want 1000 of each", len(names), len(emails))
	}
	if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("the dry run's names are not sorted by name: %q …", names[:10])
	}
	for i := range names {
		if names[i] == "" || !strings.Contains(emails[i], "@") {
			t.Fatalf("row %d = %q, %q; want a name and an email", i, names[i], emails[i])
		}
	}
	screenshot(t, ctx, "group-sync-dry-run.png", false)

	// Every page of users now takes the simulator 3 s to answer, so the
	// run reads for a while; the count is not slowed.
	e.SimControl(t, "POST", "/_sim/faults", map[string]any{"path": `^/v1\.0/users$`, "latencyMs": 3000})
	runOrShow(t, ctx, "Run now, until the running run shows x of y with a bar",
		chromedp.Click(xp(`//button[normalize-space()="Run now"]`)),
		notice("The sync is queued"),
		// Past the first page: "0 of y" would not show the bar moving.
		chromedp.WaitVisible(xp(`//table[@id="sync-runs"]//tr[@data-status="running"]//span[@class="run-progress" and progress and not(starts-with(normalize-space(), "0 of"))]`)),
	)
	shown := read(t, ctx, "the run's progress", chromedp.Text(chromedp.CSS(`#sync-runs tr[data-status="running"] .run-progress`)))
	pm := regexp.MustCompile(`^(\d+) of (\d+)$`).FindStringSubmatch(strings.TrimSpace(shown))
	if pm == nil {
		t.Fatalf("running run shows %q, want \"x of y\"", shown)
	}
	seen, total := atoi(pm[1]), atoi(pm[2])
	if total != users || seen == 0 || seen > total {
		t.Errorf("running run shows %d of %d, want 0 < x ≤ %d of the %d users the dry run found", seen, total, users, users)
	}
	bar := read(t, ctx, "the bar", chromedp.Evaluate[[]float64](
		`(function(){var p=document.querySelector('#sync-runs tr[data-status="running"] .run-progress progress');return [p.max,p.value];})()`))
	if len(bar) != 2 || int(bar[0]) != total || int(bar[1]) != seen {
		t.Errorf("progress bar max, value = %v, want %d, %d", bar, total, seen)
	}
	screenshot(t, ctx, "group-sync-progress.png", false)

	e.SimControl(t, "DELETE", "/_sim/faults", nil)
	runOrShow(t, ctx, "the run succeeds",
		chromedp.WaitVisible(xp(`//table[@id="sync-runs"]//tr[@data-status="succeeded" and not(contains(., "dry run"))]`)),
	)
	if n := read(t, ctx, "running rows", chromedp.Evaluate[int](`document.querySelectorAll('#sync-runs .run-progress').length`)); n != 0 {
		t.Errorf("%d progress elements after the run ended, want none", n)
	}
	created := read(t, ctx, "created", chromedp.Text(xp(`//table[@id="sync-runs"]//tr[@data-status="succeeded" and not(contains(., "dry run"))]/td[4]`)))
	if atoi(created) != users {
		t.Errorf("the run created %s users, want %d", created, users)
	}

	// The next run is incremental: it reads only what changed, so its
	// unchanged cell says nothing (a dash that explains why), where the
	// full run's says 0. The run's record ends a moment before its job
	// (River records a job's completion in batches): until then Run now
	// answers "already queued or running", and is pressed again.
	for tries := 0; ; tries++ {
		run(t, ctx, "Run now again",
			// The page already shows the last Run now's notice: mark it,
			// and read the notice of the page that replaces it.
			chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "1"`),
			chromedp.Click(xp(`//button[normalize-space()="Run now"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`body[data-before]`)),
			chromedp.WaitVisible(xp(`//div[@id="notifications"]/p[contains(., "The sync is queued") or contains(., "already queued or running")]`)),
		)
		queued := read(t, ctx, "the notice", chromedp.Evaluate[bool](`document.getElementById("notifications").textContent.indexOf("The sync is queued") >= 0`))
		if queued {
			break
		}
		if tries == 100 {
			t.Fatal("Run now still answers \"already queued or running\" after 100 tries")
		}
		time.Sleep(200 * time.Millisecond)
	}
	runOrShow(t, ctx, "the incremental run succeeds",
		chromedp.WaitVisible(xp(`//table[@id="sync-runs"]/tbody/tr[1][@data-status="succeeded" and not(contains(., "dry run"))]/following-sibling::tr[@data-status="succeeded" and not(contains(., "dry run"))]`)),
	)
	cells := read(t, ctx, "unchanged cells", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#sync-runs tbody tr')).slice(0, 2).map(function (tr) { var td = tr.cells[5], s = td.querySelector("span"); return td.textContent + "|" + (s ? s.title : ""); })`))
	if len(cells) != 2 || !strings.HasPrefix(cells[0], "–|An incremental run") || cells[1] != "0|" {
		t.Errorf("unchanged cells of the incremental and the full run = %q, want a dash with its reason, then 0", cells)
	}
	check()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// runOrShow is run, saying on failure where the page is and what it
// shows, so a step that times out tells why.
func runOrShow(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 2000)`))
		t.Fatalf("%s: %v; the page:\n%s", step, err, page)
	}
}
