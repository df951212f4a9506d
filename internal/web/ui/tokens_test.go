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
