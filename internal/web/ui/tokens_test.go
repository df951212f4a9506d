package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
)

var (
	createdTokenRE = regexp.MustCompile(`id="created-token" type="text" readonly value="(tl_[^"]+)"`)
	tokenPrefixRE  = regexp.MustCompile(`<code>tl_[A-Za-z0-9_-]{4}…</code>`)
	tokenDateRE    = regexp.MustCompile(`\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC`)
)

// TestTokensPage: every signed-in user creates (shown once), lists and
// revokes their own tokens on /tokens; an Administrator sees and revokes
// everyone's; a plain user never sees another's.
func TestTokensPage(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	ctx := context.Background()
	admin := e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	jane := e.mustCreateUser(t, "jane@example.com", tenantlink.RoleUser)
	bob := e.mustCreateUser(t, "bob@example.com", tenantlink.RoleUser)
	_, bobs, err := e.Dir.IssueToken(ctx, e.mustPrincipal(t, bob), directory.TokenInput{Name: "bob's secret job"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Dir.IssueToken(ctx, e.mustPrincipal(t, admin), directory.TokenInput{Name: "admin deploy", ExpiresInDays: 90}); err != nil {
		t.Fatal(err)
	}

	b := e.mustSignIn(t, "jane@example.com")
	if got := b.post("/tokens", url.Values{"name": {"nightly import"}, "expiresInDays": {"30"}}, false); got.Status != http.StatusForbidden {
		t.Errorf("POST /tokens without CSRF = %d, want 403", got.Status)
	}
	created := b.post("/tokens", url.Values{"name": {"nightly import"}, "expiresInDays": {"30"}}, true)
	m := createdTokenRE.FindStringSubmatch(created.Body)
	if created.Status != http.StatusCreated || m == nil {
		t.Fatalf("POST /tokens = %d without the new token:\n%s", created.Status, created.Body)
	}
	if u, err := e.Dir.Authenticate(ctx, m[1]); err != nil || u.ID != jane.ID {
		t.Errorf("the token shown does not sign in as jane: %v, %v", u, err)
	}
	// page.js turns the answer into a GET of /tokens (no form re-sent by
	// a reload) where this mark is.
	if !strings.Contains(created.Body, `data-shown-once`) {
		t.Error("the card with the new token is not marked data-shown-once")
	}
	page := b.get("/tokens")
	if strings.Contains(page.Body, m[1]) || strings.Contains(page.Body, "data-shown-once") {
		t.Error("the token's secret is shown again on the list")
	}
	for _, not := range []string{"bob's secret job", "admin deploy", "bob@example.com"} {
		if strings.Contains(page.Body, not) {
			t.Errorf("jane's /tokens shows %q", not)
		}
	}
	if !strings.Contains(page.Body, "nightly import") || !strings.Contains(menu(t, page.Body)["API tokens"], "/tokens") {
		t.Errorf("jane's /tokens lacks her token or the menu entry:\n%s", page.Body)
	}
	// Someone else's token: not found, and still there.
	if got := b.post("/tokens/"+bobs.ID+"/revoke", nil, true); got.Status != http.StatusNotFound {
		t.Errorf("jane revoking bob's token = %d, want 404", got.Status)
	}
	if list, _ := e.Dir.ListTokens(ctx, e.mustPrincipal(t, bob)); len(list) != 1 {
		t.Errorf("bob's tokens after jane's attempt: %d, want 1", len(list))
	}
	mine, _ := e.Dir.ListTokens(ctx, e.mustPrincipal(t, jane))
	if got := b.post("/tokens/"+mine[0].ID+"/revoke", nil, true); got.Status != http.StatusSeeOther || got.Location != "/tokens?notice=revoked" {
		t.Errorf("jane revoking her token = %d %q, want 303 /tokens?notice=revoked", got.Status, got.Location)
	}
	if _, err := e.Dir.Authenticate(ctx, m[1]); err == nil {
		t.Error("revoked token still signs in")
	}

	// The Administrator's page: everyone's tokens, with their owners.
	a := e.mustSignIn(t, "admin@example.com")
	adminPage := a.get("/tokens")
	if adminPage.Status != http.StatusOK {
		t.Fatalf("GET /tokens as admin = %d", adminPage.Status)
	}
	body := tokenDateRE.ReplaceAllString(tokenPrefixRE.ReplaceAllString(adminPage.Body, "<code>tl_XXXX…</code>"), "DATE")
	checkGolden(t, "tokens_admin", body)
	if got := a.post("/tokens/"+bobs.ID+"/revoke", nil, true); got.Status != http.StatusSeeOther {
		t.Errorf("admin revoking bob's token = %d, want 303", got.Status)
	}
}

// TestChangePasswordPage: the form needs the current password, ends the
// other sessions, keeps this one, and revokes the tokens when asked.
func TestChangePasswordPage(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	ctx := context.Background()
	jane := e.mustCreateUser(t, "jane@example.com", tenantlink.RoleUser)
	raw, _, err := e.Dir.IssueToken(ctx, e.mustPrincipal(t, jane), directory.TokenInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.mustSignIn(t, "jane@example.com")
	elsewhere := e.mustSignIn(t, "jane@example.com")
	form := func(current string) url.Values {
		return url.Values{"currentPassword": {current}, "newPassword": {"a new good password"}, "confirmPassword": {"a new good password"}, "revokeTokens": {"on"}}
	}
	if got := b.post("/account/password", form("wrong password"), true); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "not your current password") {
		t.Errorf("wrong current password = %d:\n%s", got.Status, got.Body)
	}
	if got := b.post("/account/password", form(testPassword), true); got.Status != http.StatusSeeOther {
		t.Fatalf("change password = %d:\n%s", got.Status, got.Body)
	}
	if got := b.get("/api/v1/session"); got.Status != http.StatusOK {
		t.Errorf("this session after the change = %d, want 200", got.Status)
	}
	if got := elsewhere.get("/api/v1/session"); got.Status != http.StatusUnauthorized {
		t.Errorf("the other session after the change = %d, want 401", got.Status)
	}
	if _, err := e.Dir.Authenticate(ctx, raw); err == nil {
		t.Error("token survived a password change with Also revoke all my API tokens")
	}
}

// TestRevokeTokenAsksFirst: Revoke on /tokens asks first, as deleting a
// group or a data source does: the button opens a confirmation page
// (GET /tokens/{id}/revoke, which changes nothing) whose form revokes;
// with JavaScript, app.js asks with confirm() and posts the same form.
// Someone else's token is not found for a non-Administrator, exactly as
// an unknown id.
func TestRevokeTokenAsksFirst(t *testing.T) {
	e := mustOpenEnv(t, envConfig{})
	ctx := context.Background()
	e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	jane := e.mustCreateUser(t, "jane@example.com", tenantlink.RoleUser)
	bob := e.mustCreateUser(t, "bob@example.com", tenantlink.RoleUser)
	_, janes, err := e.Dir.IssueToken(ctx, e.mustPrincipal(t, jane), directory.TokenInput{Name: "nightly <import>"})
	if err != nil {
		t.Fatal(err)
	}
	_, bobs, err := e.Dir.IssueToken(ctx, e.mustPrincipal(t, bob), directory.TokenInput{Name: "bob's job"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.mustSignIn(t, "jane@example.com")

	list := b.get("/tokens")
	for _, want := range []string{
		`<form method="get" action="/tokens/` + janes.ID + `/revoke" class="inline js-confirm" data-action="/tokens/` + janes.ID + `/revoke" data-confirm="Revoke the API token “nightly &lt;import&gt;”? Scripts that use it are refused from then on.">`,
	} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("/tokens lacks %q:\n%s", want, list.Body)
		}
	}

	confirm := b.get("/tokens/" + janes.ID + "/revoke")
	for _, want := range []string{
		"<title>Revoke API token – tenantlink</title>",
		"Revoke the API token <strong>nightly &lt;import&gt;</strong> (<code>" + janes.Prefix + "…</code>)?",
		`<form method="post" action="/tokens/` + janes.ID + `/revoke" class="actions">`,
		`<button type="submit" class="danger">Revoke</button>`,
		`<a class="button" href="/tokens">Cancel</a>`,
		`aria-current="page">API tokens</a>`,
	} {
		if !strings.Contains(confirm.Body, want) {
			t.Errorf("GET /tokens/{id}/revoke lacks %q:\n%s", want, confirm.Body)
		}
	}
	if confirm.Status != http.StatusOK {
		t.Errorf("GET /tokens/{id}/revoke = %d, want 200", confirm.Status)
	}
	if mine, _ := e.Dir.ListTokens(ctx, e.mustPrincipal(t, jane)); len(mine) != 1 {
		t.Errorf("jane's tokens after the confirmation page: %d, want 1 (a GET changes nothing)", len(mine))
	}

	// Someone else's token and an unknown one: the same 404 page.
	other, unknown := b.get("/tokens/"+bobs.ID+"/revoke"), b.get("/tokens/no-such-token/revoke")
	if other.Status != http.StatusNotFound || unknown.Status != http.StatusNotFound ||
		strings.ReplaceAll(other.Body, bobs.ID, "ID") != strings.ReplaceAll(unknown.Body, "no-such-token", "ID") {
		t.Errorf("bob's token %d and an unknown one %d differ or are not 404:\n%s\n---\n%s", other.Status, unknown.Status, other.Body, unknown.Body)
	}
	if strings.Contains(other.Body, "bob's job") {
		t.Error("jane's confirmation page for bob's token names it")
	}

	// The Administrator is asked about anyone's, with its owner.
	a := e.mustSignIn(t, "admin@example.com")
	if got := a.get("/tokens/" + bobs.ID + "/revoke"); got.Status != http.StatusOK || !strings.Contains(got.Body, "<strong>bob&#39;s job</strong>") || !strings.Contains(got.Body, "of bob@example.com") {
		t.Errorf("the Administrator's confirmation of bob's token = %d:\n%s", got.Status, got.Body)
	}

	// The confirmation's form revokes.
	if got := b.post("/tokens/"+janes.ID+"/revoke", nil, true); got.Status != http.StatusSeeOther || got.Location != "/tokens?notice=revoked" {
		t.Errorf("confirming = %d %q, want 303 /tokens?notice=revoked", got.Status, got.Location)
	}
}
