package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestBrowserRealtimeMember: an Administrator turns real time on on the
// group page; a user added to the source group in the tenant appears in
// the page's member list without reloading.
func TestBrowserRealtimeMember(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 6, Groups: 1, Seed: 7, RunJobs: true, Realtime: app.RealtimeConfig{Window: 300 * time.Millisecond}})
	s := &stack{Env: e, AdminEmail: testenv.AdminEmail, AdminPassword: testenv.Password}
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso tenant", nil)
	var src struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": "New hires"}), &src); err != nil {
		t.Fatal(err)
	}
	var g struct{ ID string }
	e.Admin.In(t).Must(http.StatusCreated, "POST", "/api/v1/groups", map[string]any{"name": "New hires"}, &g)

	ctx := browserFor(t, 90*time.Second)
	check := watchPage(t, ctx)
	signIn(t, ctx, s)
	run(t, ctx, "turn real time on",
		chromedp.Navigate(e.URL+"/groups/"+g.ID),
		chromedp.WaitVisible(chromedp.ID("sync-enabled")),
		chromedp.Click(chromedp.ID("sync-enabled")),
		chromedp.SetValue(chromedp.ID("sync-ds"), ds.ID),
		chromedp.SendKeys(chromedp.ID("sync-source"), src.ID),
		chromedp.Click(chromedp.ID("sync-realtime")),
		chromedp.Click(xp(`//form[contains(@action,"/sync")]//button[normalize-space()="Save"]`)),
		notice("Sync settings saved"),
	)
	deadline := time.Now().Add(30 * time.Second)
	for {
		subs, err := e.App.Store.ListGraphSubscriptions(context.Background(), ds.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) == 2 && subs[0].Status == "active" && subs[1].Status == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscriptions not active within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	run(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	var u struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "nina.new", "displayName": "Nina New"}), &u); err != nil {
		t.Fatal(err)
	}
	e.SimControl(t, "POST", "/_sim/groups/"+src.ID+"/members/"+u.ID, nil)
	run(t, ctx, "the new member appears",
		chromedp.WaitVisible(xp(`//ul[@id="group-members"]/li[starts-with(normalize-space(), "nina.new@")]`)),
	)
	if !read(t, ctx, "page not reloaded", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Error("the page was reloaded")
	}
	if n := read(t, ctx, "member count", chromedp.Text(chromedp.ID("member-count"))); n != "1" {
		t.Errorf("member count = %q, want 1", n)
	}
	check()
}
