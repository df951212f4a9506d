package ui_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSignOutUnderAutoRedirect signs in with Microsoft in Chromium
// (auto redirect on, so the home page goes straight to Microsoft's sign-in
// pages), then signs out: the browser must end signed out on the "You are
// signed out" page, although its Microsoft session would sign it straight
// back in if signing out led to /login.
func TestBrowserSignOutUnderAutoRedirect(t *testing.T) {
	s := mustStartStack(t)
	ds := s.AuthorizedDataSource(s.Admin, "Contoso", map[string]any{"singleSignOn": true})
	var g struct{ ID string }
	s.Admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "SSO bypass", "members": []string{s.Admin.UserID}}, &g)
	s.Admin.Must(200, "PUT", "/api/v1/settings/sso", map[string]any{"enabled": true, "datasource": ds.ID, "autoRedirect": true, "bypassGroup": g.ID, "createUsers": true}, nil)

	ctx := browserFor(t, 2*time.Minute)
	checkPage := watchPage(t, ctx)

	run(t, ctx, "open tenantlink: auto redirect to Microsoft",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("i0116")),
		chromedp.SendKeys(chromedp.ID("i0116"), s.Facts.AdminUser),
		chromedp.Click(xp(`//button[normalize-space()="Next"]`)),
		chromedp.WaitVisible(chromedp.ID("i0118")),
		chromedp.SendKeys(chromedp.ID("i0118"), s.Facts.AdminPassword),
		chromedp.Click(xp(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(xp(`//button[normalize-space()="Yes"]`)),
		chromedp.Click(xp(`//button[normalize-space()="Yes"]`)),
	)
	// A consent page may follow, depending on the tenant's consent.
	deadline := time.Now().Add(20 * time.Second)
	for signedIn := false; !signedIn; {
		if time.Now().After(deadline) {
			t.Fatal("not back in tenantlink, signed in, 20s after the Microsoft sign-in")
		}
		var err error
		signedIn, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('form[action="/logout"] button')`))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if !signedIn {
			_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(function(){var b=document.querySelector('button[value="accept"]'); if (b) b.click()})()`))
			time.Sleep(200 * time.Millisecond)
		}
	}
	run(t, ctx, "signed in", chromedp.WaitVisible(xp(`//span[@class="who" and contains(., "Signed in as")]`)))

	run(t, ctx, "sign out",
		chromedp.Click(xp(`//form[@action="/logout"]//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="You are signed out"]`)),
		chromedp.WaitVisible(xp(`//a[@id="sign-in" and normalize-space()="Sign in"]`)),
	)
	if got := read(t, ctx, "path", chromedp.Evaluate[string](`location.pathname`)); got != "/signed-out" {
		t.Errorf("after signing out the browser is at %q, want /signed-out", got)
	}
	screenshot(t, ctx, "sso-signed-out.png", false)
	checkPage() // the check below logs its expected 401 as a browser error
	status := read(t, ctx, "session", chromedp.Evaluate[int](`(function(){var x=new XMLHttpRequest(); x.open("GET","/api/v1/session",false); x.send(); return x.status})()`))
	if status != 401 {
		t.Errorf("GET /api/v1/session after signing out = %d, want 401 (signed out)", status)
	}
}
