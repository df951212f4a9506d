package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chooseOperation picks name in the panel's chooser as a person would;
// the script swaps in the operation's form without a reload.
func chooseOperation(t *testing.T, ctx context.Context, name, firstInput string) {
	t.Helper()
	run(t, ctx, "choose "+name,
		chromedp.Evaluate[chromedp.Void](`(function(s){s.value=`+"`"+name+"`"+`; s.dispatchEvent(new Event("change", {bubbles: true}))})(document.getElementById("op-select"))`),
	)
	// The new form first: the previous operation's form may have an
	// input of the same id (maxRows), which must not take the keys.
	run(t, ctx, "wait for "+name+"'s form", chromedp.WaitVisible(xp(`//form[@id="op-run" and @data-op=%q]`, name)))
	if firstInput != "" {
		run(t, ctx, "wait for "+name+"'s inputs", chromedp.WaitVisible(xp(`//form[@id="op-run" and @data-op=%q]//*[@id=%q]`, name, firstInput)))
	}
}

// runAndCount clicks Run and returns the count line the script renders.
func runAndCount(t *testing.T, ctx context.Context) string {
	t.Helper()
	run(t, ctx, "clear the last result", chromedp.Evaluate[chromedp.Void](`document.getElementById("op-result").textContent = ""`))
	run(t, ctx, "Run", chromedp.Click(chromedp.ID("op-run-button")), chromedp.WaitVisible(chromedp.CSS("#op-count, #op-error")))
	return read(t, ctx, "result", chromedp.Text(chromedp.CSS("#op-count, #op-error")))
}

// TestBrowserRunOperation runs operations from the details page's panel in
// a real browser: the chooser loads each operation's inputs without a
// reload, Run renders rows from the API, and a write asks OK/Cancel first
// (answered OK by watchPage) and shows per-user results.
func TestBrowserRunOperation(t *testing.T) {
	s := mustStartStack(t)
	ctx := browserFor(t, 2*time.Minute)
	check := watchPage(t, ctx)

	signIn(t, ctx, s)
	newOffice365(t, ctx, "Contoso operations")
	authorizeInPopup(t, ctx, s.Facts.AdminUser, s.Facts.AdminPassword)
	path := read(t, ctx, "details path", chromedp.Evaluate[string](`location.pathname`))
	run(t, ctx, "open the saved details page",
		chromedp.Navigate(s.URL+path),
		chromedp.WaitVisible(chromedp.ID("operation-panel")),
	)

	chooseOperation(t, ctx, "FindUsers", "op-in-query")
	run(t, ctx, "Find Users: query", chromedp.SendKeys(chromedp.ID("op-in-query"), "MOD Admin"))
	if got := runAndCount(t, ctx); got != "1 item(s)" {
		t.Fatalf("Find Users: got %q, want 1 item(s)", got)
	}
	if got := read(t, ctx, "found user", chromedp.Text(chromedp.CSS("#op-results tbody tr td:nth-child(2)"))); got != s.Facts.AdminUser {
		t.Errorf("Find Users row: userPrincipalName %q, want %q", got, s.Facts.AdminUser)
	}
	if got := read(t, ctx, "address", chromedp.Evaluate[string](`location.pathname + location.search`)); got != path+"?op=FindUsers" {
		t.Errorf("address after choosing: %q, want %q (a reload shows the same form)", got, path+"?op=FindUsers")
	}

	chooseOperation(t, ctx, "GroupList", "op-in-maxRows")
	run(t, ctx, "Group List: max rows", chromedp.SendKeys(chromedp.ID("op-in-maxRows"), "1"))
	if got := runAndCount(t, ctx); got != "1 item(s)" {
		t.Fatalf("Group List maxRows=1: got %q, want 1 item(s)", got)
	}
	group := read(t, ctx, "group name", chromedp.Text(chromedp.CSS("#op-results tbody tr td:nth-child(2)")))

	chooseOperation(t, ctx, "AddUserToGroup", "op-in-user")
	run(t, ctx, "Add User to Group: inputs",
		chromedp.SendKeys(chromedp.ID("op-in-user"), s.Facts.AdminUser+"\n"+s.Facts.MemberUser),
		chromedp.SendKeys(chromedp.ID("op-in-group"), group),
	)
	// The simulator's administrator may be a member already; the second
	// run finds both users members either way.
	for i, want := range []string{"added", "already a member"} {
		if got := runAndCount(t, ctx); got != "2 item(s)" {
			t.Fatalf("Add User to Group: got %q, want 2 item(s)", got)
		}
		results := read(t, ctx, "results", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#op-results tbody tr td:nth-child(4)")).map(function(td){return td.textContent}).join("|")`))
		if i == 0 && !strings.Contains(results, want) || i == 1 && results != want+"|"+want {
			t.Errorf("Add User to Group run %d results: %q, want %q", i+1, results, want)
		}
	}
	heads := read(t, ctx, "columns", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#op-results thead th")).map(function(th){return th.textContent}).join("|")`))
	if !strings.HasSuffix(heads, "|Result|Error") {
		t.Errorf("write operation columns %q lack Result and Error", heads)
	}

	screenshot(t, ctx, "operation-panel.png", false)
	// The refusal below is a 400 the browser logs as a failed load, so
	// the page's errors are checked before it.
	check()

	chooseOperation(t, ctx, "FindUsers", "op-in-query")
	run(t, ctx, "Find Users: query", chromedp.SendKeys(chromedp.ID("op-in-query"), "a"))
	run(t, ctx, "Find Users: max rows 0", chromedp.SendKeys(chromedp.ID("op-in-maxRows"), "0"),
		// The browser's own min=1 check would stop the form; the API's
		// message is what this step checks.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("op-run").noValidate = true`))
	if got := runAndCount(t, ctx); !strings.Contains(got, "maxRows") {
		t.Errorf("refused run: got %q, want the API's message about maxRows", got)
	}
	if role := read(t, ctx, "error role", chromedp.Evaluate[string](`document.getElementById("op-error").getAttribute("role")`)); role != "alert" {
		t.Errorf("error role %q, want alert", role)
	}
}
