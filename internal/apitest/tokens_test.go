package apitest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

type tokenOut struct {
	ID, Name, Owner, Token string
	CreatedAt, ExpiresAt   time.Time
	LastUsedAt             time.Time
}

// TestTokensAPI: tokens are listed (own; all for Administrators) without
// their secret, revoked (own; anyone's for Administrators; someone else's
// is not found), may expire, and a password change needs the current
// password, ends the other sessions and can revoke the tokens.
func TestTokensAPI(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.SignIn(t, adminEmail, password)
	for _, u := range []string{"jane", "bob"} {
		admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": u + "@tenantlink.test", "password": password}, nil)
	}
	jane := e.SignIn(t, "jane@tenantlink.test", password)
	bob := e.SignIn(t, "bob@tenantlink.test", password)

	var jt, bt tokenOut
	jane.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "expiresInDays": 7}, &jt)
	bob.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "cron"}, &bt)
	if !strings.HasPrefix(jt.Token, "tl_") || jt.ExpiresAt.Sub(jt.CreatedAt) != 7*24*time.Hour || !bt.ExpiresAt.IsZero() {
		t.Fatalf("created tokens %+v, %+v: want a tl_ secret, 7 days' expiry, none for bob's", jt, bt)
	}
	list := func(c *client) []string {
		r := c.Must(200, "GET", "/api/v1/tokens", nil, nil)
		for _, secret := range []string{jt.Token, bt.Token, `"hash"`, `"token"`} {
			if strings.Contains(string(r.Body), secret) {
				t.Errorf("token list shows %q: %s", secret, r.Body)
			}
		}
		var out struct{ Value []tokenOut }
		r.Decode(t, &out)
		var got []string
		for _, x := range out.Value {
			got = append(got, x.Owner+" "+x.Name)
		}
		return got
	}
	if diff := cmp.Diff(list(jane), []string{"jane@tenantlink.test ci"}); diff != "" {
		t.Errorf("jane's tokens (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(list(admin), []string{"jane@tenantlink.test ci", "bob@tenantlink.test cron"}); diff != "" {
		t.Errorf("admin's tokens (-got +want):\n%s", diff)
	}

	// Last use shows once the token is used.
	jc := testenv.TokenClient(t, e.URL, jt.Token)
	jc.Must(200, "GET", "/api/v1/session", nil, nil)
	var mine struct{ Value []tokenOut }
	jane.Must(200, "GET", "/api/v1/tokens", nil, &mine)
	if len(mine.Value) != 1 || mine.Value[0].LastUsedAt.IsZero() {
		t.Errorf("lastUsedAt not set after a use: %+v", mine.Value)
	}

	// Someone else's token answers exactly like an unknown one.
	other := jane.Do("DELETE", "/api/v1/tokens/"+bt.ID, nil)
	unknown := jane.Do("DELETE", "/api/v1/tokens/"+strings.Repeat("0", len(bt.ID)), nil)
	if other.Status != 404 || unknown.Status != 404 ||
		strings.ReplaceAll(string(other.Body), bt.ID, "ID") != strings.ReplaceAll(string(unknown.Body), strings.Repeat("0", len(bt.ID)), "ID") {
		t.Errorf("revoking bob's token as jane = %s; an unknown one = %s: want the same 404", other, unknown)
	}
	testenv.TokenClient(t, e.URL, bt.Token).Must(200, "GET", "/api/v1/session", nil, nil)
	admin.Must(204, "DELETE", "/api/v1/tokens/"+bt.ID, nil, nil)
	if r := testenv.TokenClient(t, e.URL, bt.Token).Do("GET", "/api/v1/session", nil); r.Status != 401 {
		t.Errorf("revoked token = %s, want 401", r)
	}

	// A password change: the current password is required; revokeTokens
	// revokes jane's tokens; her other session ends, this one stays.
	janeElsewhere := e.SignIn(t, "jane@tenantlink.test", password)
	r := jane.Do("PATCH", "/api/v1/users/"+jane.UserID, map[string]any{"password": "a new good password"})
	if r.Status != 400 || !strings.Contains(r.APIError(t).Message, "current password") {
		t.Errorf("own password change without the current one = %s, want 400", r)
	}
	r = jane.Do("PATCH", "/api/v1/users/"+jane.UserID, map[string]any{"password": "a new good password", "currentPassword": "wrong password!"})
	if r.Status != 400 {
		t.Errorf("own password change with a wrong current one = %s, want 400", r)
	}
	jane.Must(200, "PATCH", "/api/v1/users/"+jane.UserID, map[string]any{"password": "a new good password", "currentPassword": password, "revokeTokens": true}, nil)
	if r := jc.Do("GET", "/api/v1/session", nil); r.Status != 401 {
		t.Errorf("jane's token after a password change with revokeTokens = %s, want 401", r)
	}
	if r := janeElsewhere.Do("GET", "/api/v1/session", nil); r.Status != 401 {
		t.Errorf("jane's other session after her password change = %s, want 401", r)
	}
	jane.Must(200, "GET", "/api/v1/session", nil, nil)

	var doc struct {
		Paths map[string]map[string]any
	}
	admin.Must(200, "GET", "/api/v1/openapi.json", nil, &doc)
	for path, method := range map[string]string{"/api/v1/tokens": "get", "/api/v1/tokens/{id}": "delete"} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("OpenAPI lacks %s %s", method, path)
		}
	}

	var actions []string
	for _, a := range audit(t, admin) {
		if strings.HasPrefix(a.Action, "token.") {
			actions = append(actions, a.Action+" "+a.Actor)
		}
	}
	want := []string{
		"token.revoke jane@tenantlink.test", // with the password change
		"token.revoke admin@tenantlink.test",
		"token.create bob@tenantlink.test",
		"token.create jane@tenantlink.test",
	}
	if diff := cmp.Diff(actions, want); diff != "" {
		t.Errorf("token audit entries (-got +want):\n%s", diff)
	}
}
