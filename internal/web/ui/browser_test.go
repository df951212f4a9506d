package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// mustChromium returns the Chromium to drive. A missing browser fails the
// test rather than skipping it: the browser test is the headline check of
// the UI, and `make test` installs Chromium.
func mustChromium(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("TENANTLINK_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("Chromium not found at %s (%v): run `make test`, which installs it, or set TENANTLINK_TEST_CHROMIUM", path, err)
	}
	return path
}

// stack is tenantlink wired to a running Microsoft 365 simulator, both on
// loopback, as `tenantlink demo` runs them.
type stack struct {
	*testenv.Env
	AdminEmail    string
	AdminPassword string
}

func mustStartStack(tb testing.TB) *stack {
	tb.Helper()
	e := testenv.New(tb, testenv.Options{Users: 12, Groups: 3, Seed: 7})
	return &stack{Env: e, AdminEmail: testenv.AdminEmail, AdminPassword: testenv.Password}
}

// mustBrowser starts headless Chromium with the popup blocker left on, so
// that the test proves the Authorize popup opens inside the click. The
// returned context has the browser running; derive timeouts from it.
func mustBrowser(tb testing.TB) context.Context {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(mustChromium(tb)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-popup-blocking", false),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start Chromium: %v (run `make test`, which installs it)", err)
	}
	return ctx
}

// browserFor is a tab of a new headless Chromium (mustBrowser) for at
// most d, cancelled when the test ends.
func browserFor(tb testing.TB, d time.Duration) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(mustBrowser(tb), d)
	tb.Cleanup(cancel)
	return ctx
}

// artifactsDir is artifacts/ at the repository root (ignored by git).
func artifactsDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "artifacts"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// screenshot saves the page as a test artifact; viewportOnly keeps a modal
// dialog's backdrop honest (a full-page capture extends past it).
func screenshot(tb testing.TB, ctx context.Context, name string, viewportOnly bool) {
	tb.Helper()
	shot := chromedp.FullScreenshot(100)
	if viewportOnly {
		shot = chromedp.CaptureScreenshot()
	}
	buf, err := chromedp.Run(ctx, shot)
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(tb), name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("screenshot: %s", path)
}

func run(tb testing.TB, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatalf("%s: %v", step, err)
	}
}

func read[T any](tb testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.Fatalf("read %s: %v", what, err)
	}
	return v
}

// xp is an XPath selector.
func xp(format string, args ...any) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(format, args...))
}

// notice waits for a notification at the top of the page with text.
func notice(text string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(xp(`//div[@id="notifications"]/p[contains(@class,"notice") and contains(., %q)]`, text))
}

// watchPage fails the test on page errors: a script exception, a
// console.error or a browser log error (CSP violations land there) would
// leave a flow silently broken for people. It also answers OK to the
// Bin's confirm(), as step 2 of the seed does.
func watchPage(t *testing.T, ctx context.Context) (check func()) {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	add := func(s string) {
		mu.Lock()
		errs = append(errs, s)
		mu.Unlock()
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			add((&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				add(fmt.Sprintf("console.error: %v", ev.Args))
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				add(fmt.Sprintf("browser log: %s (%s)", ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the browser log: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			t.Logf("confirm dialog: %q", ev.Message)
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				t.Errorf("accept the confirm dialog: %v", err)
			}
		}
	}()
	return func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			t.Errorf("the pages reported errors:\n%s", strings.Join(errs, "\n"))
		}
	}
}

// signIn signs in to tenantlink from its home page, which sends a signed-in
// Administrator to the data sources.
func signIn(t *testing.T, ctx context.Context, s *stack) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), s.AdminEmail),
		chromedp.SendKeys(chromedp.ID("password"), s.AdminPassword),
		chromedp.Click(xp(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Datasource management"]`)),
	)
}

// newOffice365 goes from the list to a filled-in, unsaved details page.
func newOffice365(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	run(t, ctx, "steps 3-5: + Add new, Office 365",
		chromedp.Click(xp(`//a[contains(normalize-space(), "Add new")]`)),
		chromedp.Click(xp(`//a[normalize-space()="Office 365"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Office 365 data connector"]`)),
	)
	run(t, ctx, "step 6: fill in the fields",
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.Click(xp(`//label[normalize-space()="Read and write users & groups"]`)),
	)
}

// authorizeInPopup clicks Authorize and signs in to Microsoft in the popup
// as a person would: email, Next, password, Sign in, Stay signed in? Yes,
// then Accept on the consent page or "Return to the application" on the
// admin-approval page, whichever the simulator shows. It returns once the
// details page shows a notification.
func authorizeInPopup(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	popups := chromedp.WaitNewTarget(ctx, func(info *target.Info) bool { return info.Type == "page" })
	run(t, ctx, "authorize: click Authorize", chromedp.Click(chromedp.ID("authorize-button")))
	var popupID target.ID
	select {
	case popupID = <-popups:
	case <-time.After(15 * time.Second):
	}
	if popupID == "" {
		t.Fatal("Authorize opened no popup window (blocked, or the click handler failed)")
	}
	popup, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(popupID))
	defer cancel()
	run(t, popup, "authorize: email, Next",
		chromedp.WaitVisible(chromedp.ID("i0116")),
		chromedp.SendKeys(chromedp.ID("i0116"), user),
		chromedp.Click(xp(`//button[normalize-space()="Next"]`)),
	)
	run(t, popup, "authorize: password, Sign in",
		chromedp.WaitVisible(chromedp.ID("i0118")),
		chromedp.SendKeys(chromedp.ID("i0118"), password),
		chromedp.Click(xp(`//button[normalize-space()="Sign in"]`)),
	)
	run(t, popup, "authorize: Stay signed in? Yes",
		chromedp.WaitVisible(xp(`//button[normalize-space()="Yes"]`)),
		chromedp.Click(xp(`//button[normalize-space()="Yes"]`)),
	)
	// What follows depends on the tenant's consent; when there is nothing
	// to answer, the popup returns to tenantlink and closes by itself.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("#notifications .notice")`))
		if err != nil {
			t.Fatalf("read the details page: %v", err)
		}
		if done {
			return
		}
		pctx, cancel := context.WithTimeout(popup, time.Second)
		button, err := chromedp.Run(pctx, chromedp.Evaluate[string](`(function(){var b=document.querySelector('button[value="accept"],button[value="return"]'); return b ? b.value : ""})()`))
		if err == nil && button != "" {
			err = chromedp.Do(pctx,
				chromedp.Evaluate[chromedp.Void](`(function(){var c=document.getElementById("cbConsentOnBehalf"); if (c) c.checked = true})()`),
				chromedp.Click(chromedp.CSS(`button[value="`+button+`"]`)))
			t.Logf("popup: clicked %q (%v)", button, err)
		}
		cancel()
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no notification on the details page 20s after the Microsoft sign-in")
}

// TestBrowserOffice365Connector clicks through the seed's steps 1–9 in a
// real browser against tenantlink and the simulator: create an Office 365
// data source, authorize it in the Microsoft popup, save, open Security,
// close, find it ready in the list and delete it with the Bin. Then a
// tenant member who is not an administrator tries, and is refused.
func TestBrowserOffice365Connector(t *testing.T) {
	s := mustStartStack(t)
	ctx := browserFor(t, 2*time.Minute)
	const name = "Contoso tenant"
	checkPage := watchPage(t, ctx)

	signIn(t, ctx, s)
	// 1. Administration > Data sources.
	run(t, ctx, "step 1: Administration > Data sources",
		chromedp.Click(xp(`//summary[normalize-space()="Administration"]`)),
		chromedp.Click(xp(`//nav//a[normalize-space()="Data sources"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Datasource management"]`)),
	)
	// 3–6. + Add new, Office 365, the fields.
	newOffice365(t, ctx, name)
	if got := read(t, ctx, "Read all users' full profiles", chromedp.Evaluate[bool](`(function(e){return e.checked && e.disabled})(document.getElementById("readAllProfiles"))`)); !got {
		t.Errorf("Read all users' full profiles is not checked and disabled")
	}

	// Authorize the connection, steps 1–5, as the tenant's administrator.
	authorizeInPopup(t, ctx, s.Facts.AdminUser, s.Facts.AdminPassword)
	// 6. The notification, status ready, Re-Authorize.
	run(t, ctx, "authorize: outcome on the details page",
		notice("Connection test succeeded"),
		chromedp.WaitVisible(xp(`//span[@id="ds-status" and normalize-space()="ready"]`)),
	)
	if got := read(t, ctx, "Authorize button", chromedp.Text(chromedp.ID("authorize-button"))); got != "Re-Authorize" {
		t.Errorf("button after authorizing: %q, want Re-Authorize", got)
	}
	if got := read(t, ctx, "display name", chromedp.Value(chromedp.ID("name"))); got != name {
		t.Errorf("display name after authorizing: %q, want %q (edits lost)", got, name)
	}
	screenshot(t, ctx, "datasource-details.png", false)

	// 7. Save.
	run(t, ctx, "step 7: Save",
		chromedp.Click(xp(`//button[normalize-space()="Save"]`)),
		notice("Details saved successfully"),
	)
	// 8. Security: open the dialog, then close it.
	run(t, ctx, "step 8: Security",
		chromedp.Click(chromedp.ID("security-open")),
		chromedp.WaitVisible(xp(`//dialog//legend[normalize-space()="Connection administrators"]`)),
	)
	screenshot(t, ctx, "datasource-security.png", true)
	run(t, ctx, "step 8: close Security",
		chromedp.Click(xp(`//dialog//button[normalize-space()="Cancel"]`)),
		chromedp.WaitNotVisible(chromedp.ID("security-dialog")),
	)
	if open := read(t, ctx, "dialog state", chromedp.Evaluate[bool](`document.getElementById("security-dialog").open`)); open {
		t.Errorf("the Security dialog is still open after Cancel")
	}
	// 9. Close: back to the list, where it is ready.
	row := fmt.Sprintf(`//tr[th/a[normalize-space()=%q]]`, name)
	run(t, ctx, "step 9: Close",
		chromedp.Click(xp(`//a[normalize-space()="Close"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Datasource management"]`)),
	)
	if got := read(t, ctx, "status in the list", chromedp.Text(chromedp.Search(row+`//span[contains(@class,"badge")]`))); got != "ready" {
		t.Errorf("status in the list: %q, want ready", got)
	}
	screenshot(t, ctx, "datasource-list.png", false)

	// 2. Delete it with the Bin and OK.
	run(t, ctx, "delete with the Bin",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Delete %s"]`, name))),
		notice("Data source deleted"),
		chromedp.WaitNotPresent(chromedp.Search(row)),
	)
	all, err := s.App.Store.ListDataSources(context.Background(), "")
	if err != nil || len(all) != 0 {
		t.Errorf("data sources left after delete: %d (%v), want 0", len(all), err)
	}
	// The Users entry of the Administration menu, for an Administrator.
	run(t, ctx, "Administration > Users",
		chromedp.Click(xp(`//summary[normalize-space()="Administration"]`)),
		chromedp.Click(xp(`//nav//a[normalize-space()="Users"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="Users"]`)),
	)
	screenshot(t, ctx, "users.png", false)
	checkPage()

	t.Run("a tenant member who is not an administrator is refused", func(t *testing.T) {
		// A fresh browser profile: no Microsoft session from the steps above.
		mctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		check := watchPage(t, mctx)
		signIn(t, mctx, s)
		newOffice365(t, mctx, "Member attempt")
		authorizeInPopup(t, mctx, s.Facts.MemberUser, s.Facts.MemberPassword)
		msg := read(t, mctx, "notification", chromedp.Text(chromedp.CSS("#notifications .notice")))
		role := read(t, mctx, "notification role", chromedp.Evaluate[string](`document.querySelector("#notifications .notice").getAttribute("role")`))
		if role != "alert" || msg == "" || strings.Contains(msg, "succeeded") {
			t.Errorf("notification %q with role %q, want an alert explaining the refusal", msg, role)
		}
		t.Logf("refusal shown: %q", msg)
		if got := read(t, mctx, "status", chromedp.Text(chromedp.ID("ds-status"))); got == "ready" {
			t.Errorf("status after a refused authorization: %q, want not ready", got)
		}
		if got := read(t, mctx, "Authorize button", chromedp.Text(chromedp.ID("authorize-button"))); got != "Authorize" {
			t.Errorf("button after a refused authorization: %q, want Authorize", got)
		}
		screenshot(t, mctx, "datasource-refused.png", false)
		check()
	})
}
