package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// signInAs signs in to tenantlink from its home page as any user and
// waits for the page's Administration menu.
func signInAs(t *testing.T, ctx context.Context, s *stack, email, password string) {
	t.Helper()
	run(t, ctx, "sign in as "+email,
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(xp(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(xp(`//summary[normalize-space()="Administration"]`)),
	)
}

// TestBrowserAPITokens: a plain user creates an API token on /tokens,
// copies it from the page (shown once: a reload does not show it again),
// calls the API with it as a bearer, finds it in the list and revokes it,
// after which the API refuses it.
func TestBrowserAPITokens(t *testing.T) {
	s := mustStartStack(t)
	user := s.User(t) // a plain user: role User only
	ctx := browserFor(t, 2*time.Minute)
	check := watchPage(t, ctx)
	signInAs(t, ctx, s, user.Email, testenv.Password)

	const name = "nightly import"
	row := fmt.Sprintf(`//table//tr[th[normalize-space()=%q]]`, name)
	run(t, ctx, "Administration > API tokens, create one",
		chromedp.Click(xp(`//summary[normalize-space()="Administration"]`)),
		chromedp.Click(xp(`//nav//a[normalize-space()="API tokens"]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="API tokens"]`)),
		chromedp.WaitVisible(xp(`//p[@class="empty" and normalize-space()="No API tokens yet."]`)),
		chromedp.SendKeys(chromedp.ID("token-name"), name),
		chromedp.SetValue(chromedp.ID("token-expires"), "30"),
		chromedp.Click(xp(`//button[normalize-space()="Create token"]`)),
		notice("API token created: copy it now, it is not shown again"),
		chromedp.WaitVisible(chromedp.ID("created-token")),
		chromedp.WaitVisible(chromedp.Search(row)),
	)
	token := read(t, ctx, "the new token", chromedp.Value(chromedp.ID("created-token")))
	if !strings.HasPrefix(token, "tl_") || len(token) < 20 {
		t.Fatalf("token shown %q, want a tl_ token", token)
	}
	// The whole token is in view, to check before copying it.
	if fits := read(t, ctx, "token field width", chromedp.Evaluate[bool](`(function(e){e.scrollLeft = 1e6; var fits = e.scrollLeft === 0; e.scrollLeft = 0; return fits})(document.getElementById("created-token"))`)); !fits {
		t.Errorf("the new token does not fit its field: part of it is hidden")
	}
	if got, want := read(t, ctx, "starts with", chromedp.Text(chromedp.Search(row+`/td/code`))), token[:7]+"…"; got != want {
		t.Errorf("the list shows the token as %q, want %q", got, want)
	}
	if owner := read(t, ctx, "Owner column", chromedp.Evaluate[bool](`!!Array.from(document.querySelectorAll("table th")).find(function(th){return th.textContent === "Owner"})`)); owner {
		t.Errorf("a plain user's list has an Owner column")
	}
	screenshot(t, ctx, "tokens-created.png", false)

	// The token works against the API as a bearer, as its owner.
	bearer := testenv.TokenClient(t, s.URL, token)
	var who struct {
		User struct{ Email string } `json:"user"`
	}
	bearer.Must(http.StatusOK, "GET", "/api/v1/session", nil, &who)
	if who.User.Email != user.Email {
		t.Errorf("the bearer is %q, want %q", who.User.Email, user.Email)
	}

	// A reload does not show the secret again (nor create another token).
	run(t, ctx, "reload",
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.beforeReload = "1"`),
		chromedp.Reload(),
		chromedp.WaitNotPresent(chromedp.CSS(`body[data-before-reload]`)),
		chromedp.WaitVisible(xp(`//h1[normalize-space()="API tokens"]`)),
		chromedp.WaitVisible(chromedp.Search(row)),
	)
	html := read(t, ctx, "the page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(html, token) || strings.Contains(html, `id="created-token"`) {
		t.Errorf("the token's secret is shown again after a reload")
	}
	var list struct {
		Value []struct{ Name string } `json:"value"`
	}
	bearer.Must(http.StatusOK, "GET", "/api/v1/tokens", nil, &list)
	if len(list.Value) != 1 || list.Value[0].Name != name {
		t.Errorf("the user's tokens after the reload: %+v, want just %q", list.Value, name)
	}

	// Revoke asks first: Cancel keeps the token.
	run(t, ctx, "revoke it, cancel the question",
		chromedp.Evaluate[chromedp.Void](`window.confirm = function (m) { window.askedToRevoke = m; return false; }`),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Revoke %s"]`, name))),
		chromedp.WaitVisible(chromedp.Search(row)),
	)
	asked := read(t, ctx, "the question", chromedp.Evaluate[string](`window.askedToRevoke || ""`))
	if want := "Revoke the API token \u201c" + name + "\u201d? Scripts that use it are refused from then on."; asked != want {
		t.Errorf("Revoke asked %q, want %q", asked, want)
	}
	if got := bearer.Do("GET", "/api/v1/session", nil); got.Status != http.StatusOK {
		t.Errorf("the token after Cancel: %s, want 200", got)
	}
	run(t, ctx, "revoke it, OK",
		chromedp.Evaluate[chromedp.Void](`window.confirm = function () { return true; }`),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Revoke %s"]`, name))),
		notice("API token revoked"),
		chromedp.WaitNotPresent(chromedp.Search(row)),
		chromedp.WaitVisible(xp(`//p[@class="empty" and normalize-space()="No API tokens yet."]`)),
	)
	screenshot(t, ctx, "tokens-revoked.png", false)
	if got := bearer.Do("GET", "/api/v1/session", nil); got.Status != http.StatusUnauthorized {
		t.Errorf("the revoked token against the API: %s, want 401", got)
	}
	check()
}
