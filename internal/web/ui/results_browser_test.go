package ui_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/graph"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// texts reads the text of every element matching a CSS selector.
func texts(t *testing.T, ctx context.Context, what, css string) []string {
	t.Helper()
	js := fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(function(e){return e.textContent})`, css)
	return read(t, ctx, what, chromedp.Evaluate[[]string](js))
}

// waitFile waits for a finished download in dir whose name ends in ext.
func waitFile(t *testing.T, dir, ext string) []byte {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ext) {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && len(b) > 0 {
					return b
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s file downloaded to %s", ext, dir)
	return nil
}

// TestBrowserOperationResults runs User List on a tenant of 50+ users in a
// real browser: the panel appears as soon as the popup reports the new
// data source authorized (no Save, no reload), the result shows 25 rows a
// page, sorts by a column both ways, hides a column (remembered after a
// reload), and downloads the whole result as CSV (read back from the
// download directory and compared with the API's items, formula cells
// defused) and JSON.
func TestBrowserOperationResults(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 50, Groups: 3, Seed: 7})
	s := &stack{Env: e, AdminEmail: testenv.AdminEmail, AdminPassword: testenv.Password}
	// Values a spreadsheet would run, and ones CSV must quote.
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "formula", "displayName": "=HYPERLINK(\"http://evil.example\",\"x\")", "jobTitle": "+1 boss", "department": "@SUM(A1)"})
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "quoted", "displayName": `Doe, "Jane"`, "jobTitle": "-minus", "department": "Line\nbreak"})

	ctx := browserFor(t, 3*time.Minute)
	check := watchPage(t, ctx)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}

	signIn(t, ctx, s)
	newOffice365(t, ctx, "Contoso results")
	authorizeInPopup(t, ctx, s.Facts.AdminUser, s.Facts.AdminPassword)
	// The popup's report alone brings the panel: no Save, no reload.
	run(t, ctx, "the panel appears after authorizing", chromedp.WaitVisible(chromedp.ID("operation-panel")))
	path := read(t, ctx, "details path", chromedp.Evaluate[string](`location.pathname`))
	dsID := strings.TrimPrefix(path, "/datasources/")

	var api struct {
		Items []map[string]any `json:"items"`
	}
	e.Admin.In(t).Must(http.StatusOK, "POST", "/api/v1/datasources/"+dsID+"/operations/UserList", map[string]any{"inputs": map[string]any{}}, &api)
	n := len(api.Items)
	if n <= 50 {
		t.Fatalf("User List has %d users, want more than 50 for three pages", n)
	}

	chooseOperation(t, ctx, "UserList", "op-in-maxRows")
	if got, want := runAndCount(t, ctx), fmt.Sprintf("%d item(s)", n); got != want {
		t.Fatalf("User List: %q, want %q", got, want)
	}
	pages := (n + 24) / 25
	run(t, ctx, "the tools", chromedp.WaitVisible(chromedp.ID("op-tools")))
	if got := len(texts(t, ctx, "rows", "#op-results tbody tr")); got != 25 {
		t.Errorf("rows on page 1: %d, want 25", got)
	}
	if got, want := read(t, ctx, "pager", chromedp.Text(chromedp.ID("op-page"))), fmt.Sprintf("Page 1 of %d (rows 1–25 of %d)", pages, n); got != want {
		t.Errorf("pager: %q, want %q", got, want)
	}
	run(t, ctx, "Next", chromedp.Click(chromedp.ID("op-next")))
	if got, want := read(t, ctx, "pager", chromedp.Text(chromedp.ID("op-page"))), fmt.Sprintf("Page 2 of %d (rows 26–50 of %d)", pages, n); got != want {
		t.Errorf("pager after Next: %q, want %q", got, want)
	}
	run(t, ctx, "100 a page", chromedp.SetValue(chromedp.ID("op-page-size"), "100"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("op-page-size").dispatchEvent(new Event("change"))`))
	if got := len(texts(t, ctx, "rows", "#op-results tbody tr")); got != min(n, 100) {
		t.Errorf("rows at 100 a page: %d, want %d", got, min(n, 100))
	}
	if hidden := read(t, ctx, "pager hidden", chromedp.Evaluate[bool](`document.getElementById("op-pager").hidden`)); hidden != (n <= 100) {
		t.Errorf("pager hidden = %v with %d rows at 100 a page", hidden, n)
	}

	// Sort by display name, then the other way. The order is the
	// reader's collation (Intl.Collator: "Øystein" after "Olivia"), so
	// the check compares neighbours with the browser's localeCompare and
	// the two directions with each other.
	var apiNames []string
	for _, it := range api.Items {
		apiNames = append(apiNames, it["displayName"].(string))
	}
	col := func() []string {
		return texts(t, ctx, "display names", `#op-results tbody td:nth-child(3)`)
	}
	run(t, ctx, "sort by Display name", chromedp.Click(chromedp.CSS(`button.op-sort[data-col="displayName"]`)))
	names := col()
	if got, want := slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(apiNames)); !cmp.Equal(got, want) {
		t.Fatalf("sorted column is not the result's display names:\n%s", cmp.Diff(want, got))
	}
	if slices.Equal(names, apiNames) {
		t.Errorf("sorting by display name kept the result's order")
	}
	arg, _ := json.Marshal(names)
	if bad := read(t, ctx, "order", chromedp.Evaluate[int](fmt.Sprintf(`(function(a){for (var i=1;i<a.length;i++) if (a[i-1].localeCompare(a[i], undefined, {numeric:true, sensitivity:"base"}) > 0) return i; return 0})(%s)`, arg))); bad != 0 {
		t.Errorf("display names out of order at row %d: %q before %q", bad, names[bad-1], names[bad])
	}
	if got := read(t, ctx, "aria-sort", chromedp.Evaluate[string](`document.querySelector('th[data-col="displayName"]').getAttribute("aria-sort")`)); got != "ascending" {
		t.Errorf("aria-sort = %q, want ascending", got)
	}
	run(t, ctx, "sort descending", chromedp.Click(chromedp.CSS(`button.op-sort[data-col="displayName"]`)))
	desc := col()
	slices.Reverse(desc)
	if diff := cmp.Diff(names, desc); diff != "" {
		t.Errorf("descending is not ascending reversed (-asc +reversed desc):\n%s", diff)
	}
	run(t, ctx, "sort ascending again", chromedp.Click(chromedp.CSS(`button.op-sort[data-col="displayName"]`)))

	// Hide the Id column.
	run(t, ctx, "hide Id", chromedp.Click(chromedp.CSS(`#op-columns summary`)), chromedp.Click(chromedp.ID("op-col-id")))
	heads := texts(t, ctx, "columns", "#op-results thead th")
	if slices.Contains(heads, "Id") || !slices.Contains(heads, "Display name") {
		t.Errorf("columns after hiding Id: %v", heads)
	}

	// Text breaks between words only: a display name cell does not allow
	// breaking anywhere; an id cell does.
	wraps := read(t, ctx, "overflow-wrap", chromedp.Evaluate[[]string](`[getComputedStyle(document.querySelector('#op-results tbody td:nth-child(2)')).overflowWrap, getComputedStyle(document.querySelector('#op-results tbody td:nth-child(1)')).overflowWrap]`))
	if diff := cmp.Diff([]string{"normal", "anywhere"}, wraps); diff != "" {
		t.Errorf("overflow-wrap of display name, user principal name cells (-want +got):\n%s", diff)
	}
	run(t, ctx, "close the column menu", chromedp.Click(chromedp.CSS(`#op-columns summary`)))
	run(t, ctx, "scroll to the result", chromedp.Evaluate[chromedp.Void](`document.getElementById("op-count").scrollIntoView()`))
	screenshot(t, ctx, "operation-results.png", true)

	// CSV: the whole result, sorted as shown, the columns shown.
	run(t, ctx, "Download CSV", chromedp.Click(chromedp.ID("op-csv")))
	raw := waitFile(t, dir, ".csv")
	if !bytes.HasPrefix(raw, []byte("\ufeff")) {
		t.Errorf("CSV does not start with a byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("parse the CSV: %v\n%s", err, raw)
	}
	if diff := cmp.Diff(heads, recs[0]); diff != "" {
		t.Errorf("CSV header (-shown +csv):\n%s", diff)
	}
	if len(recs)-1 != n {
		t.Fatalf("CSV rows: %d, want %d (the whole result, not a page)", len(recs)-1, n)
	}
	byUPN := map[string][]string{}
	var csvNames []string
	for _, r := range recs[1:] {
		byUPN[r[0]] = r
		csvNames = append(csvNames, r[1])
	}
	var wantCSV []string
	for _, n := range names {
		if strings.ContainsAny(n[:1], "=+-@") {
			n = "'" + n // defused, as the escaping test below checks
		}
		wantCSV = append(wantCSV, n)
	}
	if diff := cmp.Diff(wantCSV, csvNames); diff != "" {
		t.Errorf("CSV display names, in the order shown (-want +got):\n%s", diff)
	}
	domain := s.Facts.TenantDomain
	for _, tc := range []struct {
		upn  string
		want map[int]string // column index → cell
	}{
		{"formula@" + domain, map[int]string{1: `'=HYPERLINK("http://evil.example","x")`, 6: "'@SUM(A1)", 5: "'+1 boss"}},
		{"quoted@" + domain, map[int]string{1: `Doe, "Jane"`, 5: "'-minus", 6: "Line\nbreak"}},
	} {
		row, ok := byUPN[tc.upn]
		if !ok {
			t.Errorf("CSV has no row for %s", tc.upn)
			continue
		}
		for i, want := range tc.want {
			if row[i] != want {
				t.Errorf("CSV %s column %q = %q, want %q", tc.upn, recs[0][i], row[i], want)
			}
		}
	}
	// Every other cell is the API's value as the table shows it.
	for _, it := range api.Items {
		row := byUPN[it["userPrincipalName"].(string)]
		if row == nil {
			t.Errorf("CSV lacks %v", it["userPrincipalName"])
			continue
		}
		if strings.Contains(it["displayName"].(string), "=") {
			continue
		}
		if row[1] != it["displayName"] {
			t.Errorf("CSV display name of %v = %q, want %q", it["userPrincipalName"], row[1], it["displayName"])
		}
	}

	// JSON: the items themselves.
	run(t, ctx, "Download JSON", chromedp.Click(chromedp.ID("op-json")))
	var got []map[string]any
	if err := json.Unmarshal(waitFile(t, dir, ".json"), &got); err != nil {
		t.Fatalf("parse the JSON: %v", err)
	}
	if len(got) != n {
		t.Errorf("JSON items: %d, want %d", len(got), n)
	}

	// The column choice is remembered for User List.
	run(t, ctx, "reload", chromedp.Navigate(s.URL+path+"?op=UserList"), chromedp.WaitVisible(chromedp.ID("op-in-maxRows")))
	runAndCount(t, ctx)
	if heads := texts(t, ctx, "columns", "#op-results thead th"); slices.Contains(heads, "Id") {
		t.Errorf("columns after a reload: %v, want Id still hidden", heads)
	}

	// List inputs take commas and semicolons in the panel as in the API.
	chooseOperation(t, ctx, "AddUserToGroup", "op-in-user")
	var groups struct {
		Items []map[string]any `json:"items"`
	}
	e.Admin.In(t).Must(http.StatusOK, "POST", "/api/v1/datasources/"+dsID+"/operations/GroupList", map[string]any{"inputs": map[string]any{"maxRows": 1}}, &groups)
	group := groups.Items[0]["id"].(string)
	run(t, ctx, "Add User to Group: two users on one line",
		chromedp.SendKeys(chromedp.ID("op-in-user"), "formula@"+domain+", quoted@"+domain+";"),
		chromedp.SendKeys(chromedp.ID("op-in-group"), group),
	)
	if got := runAndCount(t, ctx); got != "2 item(s)" {
		t.Errorf("Add User to Group with a comma-separated list: %q, want 2 item(s)", got)
	}
	check()
}

// TestBrowserCSVEscaping checks the CSV cell rule the download uses, in
// the browser that runs it: RFC 4180 quoting and formula cells defused.
func TestBrowserCSVEscaping(t *testing.T) {
	s := mustStartStack(t)
	ctx := browserFor(t, time.Minute)
	signIn(t, ctx, s)
	run(t, ctx, "wait for results.js", chromedp.Navigate(s.URL+"/datasources/new/office365"), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.Poll[chromedp.Void](`!!window.tenantlinkResults`))
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"plain", "Adele Vance", "Adele Vance"},
		{"comma", "Doe, Jane", `"Doe, Jane"`},
		{"quote", `say "hi"`, `"say ""hi"""`},
		{"new line", "a\nb", "\"a\nb\""},
		{"carriage return inside", "a\r\nb", "\"a\r\nb\""},
		{"equals", "=1+2", "'=1+2"},
		{"plus", "+31 20 555", "'+31 20 555"},
		{"minus", "-5", "'-5"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab first", "\tx", "'\tx"},
		{"formula with comma", `=HYPERLINK("x","y")`, `"'=HYPERLINK(""x"",""y"")"`},
		{"equals inside is fine", "a=b", "a=b"},
		{"boolean", true, "Yes"},
		{"number", 42, "42"},
		{"negative number", -3, "'-3"},
		{"null", nil, ""},
		{"list", []string{"a", "b"}, `"a, b"`},
		{"leading space kept", " x", `" x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arg, _ := json.Marshal(tt.in)
			got := read(t, ctx, "csvCell", chromedp.Evaluate[string](fmt.Sprintf(`window.tenantlinkResults.csvCell(%s)`, arg)))
			if got != tt.want {
				t.Errorf("csvCell(%s) = %q, want %q", arg, got, tt.want)
			}
		})
	}
	got := read(t, ctx, "toCSV", chromedp.Evaluate[string](`window.tenantlinkResults.toCSV([{name:"a",label:"A"},{name:"b",label:"B, b"}], [{a:"1",b:"=x"},{a:"",b:null}])`))
	if want := "\ufeffA,\"B, b\"\r\n1,'=x\r\n,\r\n"; got != want {
		t.Errorf("toCSV = %q, want %q", got, want)
	}
}

// TestBrowserMicrosoftUnavailable: against a Microsoft that answers 503 to
// everything, a run shows a spinner with the time so far, then says
// Microsoft 365 is unavailable (not throttling): the operation gives up by
// itself, within the interactive retry budget (under the 30 s issue 9
// allows). Cancel stops a run: the browser shows it at once and the
// server stops calling Graph.
func TestBrowserMicrosoftUnavailable(t *testing.T) {
	s := mustStartStack(t)
	ctx := browserFor(t, 3*time.Minute)
	signIn(t, ctx, s)
	ds := s.AuthorizedDataSource(s.Admin.In(t), "Contoso down", nil)
	s.SimControl(t, "POST", "/_sim/faults", map[string]any{"path": "^/v1\\.0/", "status": 503, "count": 1000000})
	run(t, ctx, "open the panel", chromedp.Navigate(s.URL+"/datasources/"+ds.ID+"?op=UserList"), chromedp.WaitVisible(chromedp.ID("op-in-maxRows")))

	run(t, ctx, "Run", chromedp.Click(chromedp.ID("op-run-button")))
	run(t, ctx, "the spinner shows", chromedp.WaitVisible(chromedp.ID("op-running")), chromedp.WaitVisible(chromedp.ID("op-cancel")))
	run(t, ctx, "the elapsed time counts", chromedp.Poll[chromedp.Void](`/^[1-9]\d* s$/.test(document.getElementById("op-elapsed").textContent)`))
	screenshot(t, ctx, "operation-running.png", false)
	run(t, ctx, "the outcome", chromedp.WaitVisible(chromedp.ID("op-error")))
	msg := read(t, ctx, "error", chromedp.Text(chromedp.ID("op-error")))
	if want := "Microsoft 365 is unavailable right now (HTTP 503 from Microsoft Graph) — try again in a few minutes."; !strings.Contains(msg, want) || strings.Contains(msg, "throttl") {
		t.Errorf("message %q, want it to say %q and not blame throttling", msg, want)
	}
	if visible := read(t, ctx, "spinner after", chromedp.Evaluate[bool](`!document.getElementById("op-running").hidden`)); visible {
		t.Errorf("the spinner still shows after the run ended")
	}
	if disabled := read(t, ctx, "Run after the outcome", chromedp.Evaluate[bool](`document.getElementById("op-run-button").disabled`)); disabled {
		t.Errorf("Run stays disabled after the run ended")
	}
	// The operation gave up by itself (no Cancel, no client timeout: the
	// message is the server's): no Graph request follows the answer.
	faults := func() int {
		var st struct{ Faults int }
		if err := json.Unmarshal(s.SimControl(t, "GET", "/_sim/stats", nil), &st); err != nil {
			t.Fatal(err)
		}
		return st.Faults
	}
	if ended := faults(); ended == 0 {
		t.Errorf("the simulator answered no request with 503")
	} else if time.Sleep(3 * time.Second); faults() != ended {
		t.Errorf("Graph requests after the outcome was shown: the operation kept retrying")
	}
	// It gives up within the 30 s an operation may take against an outage:
	// the retry budget of interactive requests (a person waits for them;
	// the panel's operations are sent as such) is below it, and the
	// stack's Graph client keeps the default budget.
	if graph.InteractiveRetryBudget >= 30*time.Second {
		t.Errorf("graph.InteractiveRetryBudget = %v, want under 30 s", graph.InteractiveRetryBudget)
	}

	// Cancel.
	run(t, ctx, "clear", chromedp.Evaluate[chromedp.Void](`document.getElementById("op-result").textContent = ""`))
	run(t, ctx, "Run again", chromedp.Click(chromedp.ID("op-run-button")), chromedp.WaitVisible(chromedp.ID("op-cancel")))
	time.Sleep(1500 * time.Millisecond) // a retry or two
	run(t, ctx, "Cancel", chromedp.Click(chromedp.ID("op-cancel")), chromedp.WaitVisible(chromedp.ID("op-error")))
	if msg := read(t, ctx, "cancelled", chromedp.Text(chromedp.ID("op-error"))); !strings.HasPrefix(msg, "Cancelled") {
		t.Errorf("after Cancel: %q, want Cancelled…", msg)
	}
	if disabled := read(t, ctx, "Run after cancel", chromedp.Evaluate[bool](`document.getElementById("op-run-button").disabled`)); disabled {
		t.Errorf("Run stays disabled after Cancel")
	}
	// The server stops too: no Graph request reaches Microsoft once the
	// request is gone (the backoff between retries is at most a few
	// seconds this early, so 8 s would likely see the next one).
	time.Sleep(300 * time.Millisecond)
	before := faults()
	time.Sleep(8 * time.Second)
	if after := faults(); after != before {
		t.Errorf("Graph requests after Cancel: %d more, want none (the operation kept running)", after-before)
	}
}
