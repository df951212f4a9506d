package directory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestOwnPasswordNeedsCurrent: changing your own password needs the
// current one — a stolen session must not be enough to take the account.
func TestOwnPasswordNeedsCurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	jane := mustUser(t, s, "jane@tenantlink.test")
	admin := mustUser(t, s, "admin@tenantlink.test", tenantlink.RoleAdministrator)
	before, _ := s.Store.GetUser(ctx, jane.ID)
	_, err := s.UpdateUser(ctx, principal(t, s, jane), jane.ID, directory.UserInput{Password: ptr("another good password")})
	wantCode(t, err, tenantlink.EINVALID, "current password")
	_, err = s.UpdateUser(ctx, principal(t, s, admin), admin.ID, directory.UserInput{Password: ptr("another good password")})
	wantCode(t, err, tenantlink.EINVALID, "current password")
	after, _ := s.Store.GetUser(ctx, jane.ID)
	if after.PasswordHash != before.PasswordHash {
		t.Error("password changed without the current one")
	}
}

func TestPasswordChangeSessionsAndTokens(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	jane := mustUser(t, s, "jane@tenantlink.test")
	admin := mustUser(t, s, "admin@tenantlink.test", tenantlink.RoleAdministrator)
	p := principal(t, s, jane)
	exp := time.Now().Add(time.Hour)
	for _, h := range []string{"here", "elsewhere"} {
		if err := s.Store.CreateSession(ctx, &store.Session{IDHash: h, UserID: jane.ID, CSRFToken: "c", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	raw, _, err := s.CreateToken(ctx, p, "", "ci")
	if err != nil {
		t.Fatal(err)
	}

	_, err = s.UpdateUser(ctx, p, jane.ID, directory.UserInput{Password: ptr("another good password"), CurrentPassword: ptr("not the password")})
	wantCode(t, err, tenantlink.EINVALID, "not your current password")
	_, err = s.UpdateUser(ctx, p, jane.ID, directory.UserInput{RevokeTokens: ptr(true)})
	wantCode(t, err, tenantlink.EINVALID, "go with a new password")

	in := directory.UserInput{Password: ptr("another good password"), CurrentPassword: ptr(password), RevokeTokens: ptr(true)}
	if _, err := s.UpdateUser(directory.KeepSession(ctx, "here"), p, jane.ID, in); err != nil {
		t.Fatalf("change own password: %v", err)
	}
	now := time.Now()
	if _, err := s.Store.GetSession(ctx, "here", now); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	if _, err := s.Store.GetSession(ctx, "elsewhere", now); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("the other session survived the password change: %v", err)
	}
	if _, err := s.Authenticate(ctx, raw); tenantlink.ErrorCode(err) != tenantlink.EUNAUTHORIZED {
		t.Errorf("token survived a password change with revokeTokens: %v", err)
	}

	// An Administrator resets someone else's password without theirs, and
	// every session of that user ends.
	raw2, _, err := s.CreateToken(ctx, principal(t, s, jane), "", "kept")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(directory.KeepSession(ctx, "admin-session"), principal(t, s, admin), jane.ID, directory.UserInput{Password: ptr("a third good password")}); err != nil {
		t.Fatalf("admin reset: %v", err)
	}
	if _, err := s.Store.GetSession(ctx, "here", now); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("jane's session survived an admin reset: %v", err)
	}
	if _, err := s.Authenticate(ctx, raw2); err != nil {
		t.Errorf("token revoked though revokeTokens was not asked: %v", err)
	}
	es, err := s.Store.ListAudit(ctx, store.AuditFilter{Target: "user:" + jane.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Detail)
	}
	want := []string{"user.update password", "token.create kept", "token.revoke all 1 tokens, with a password change", "user.update password, revoke tokens", "token.create ci", "user.create jane@tenantlink.test"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("audit (-got +want):\n%s", diff)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s, now := newService(t)
	s.Now = func() time.Time { return *now }
	jane := mustUser(t, s, "jane@tenantlink.test")
	bob := mustUser(t, s, "bob@tenantlink.test")
	admin := mustUser(t, s, "admin@tenantlink.test", tenantlink.RoleAdministrator)
	pj, pb, pa := principal(t, s, jane), principal(t, s, bob), principal(t, s, admin)

	rawJ, tj, err := s.IssueToken(ctx, pj, directory.TokenInput{Name: "ci", ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(30 * 24 * time.Hour); !tj.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", tj.ExpiresAt, want)
	}
	_, tb, err := s.IssueToken(ctx, pb, directory.TokenInput{Name: "bob's"})
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range []int{-1, directory.MaxTokenDays + 1} {
		_, _, err := s.IssueToken(ctx, pj, directory.TokenInput{ExpiresInDays: days})
		wantCode(t, err, tenantlink.EINVALID, "expiresInDays")
	}
	_, _, err = s.IssueToken(ctx, pj, directory.TokenInput{Name: "evil\u202Egnp.exe"})
	wantCode(t, err, tenantlink.EINVALID, "invisible")

	names := func(p *tenantlink.Principal) []string {
		list, err := s.ListTokens(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range list {
			out = append(out, x.Owner+" "+x.Name)
		}
		return out
	}
	if diff := cmp.Diff(names(pj), []string{"jane@tenantlink.test ci"}); diff != "" {
		t.Errorf("jane's list (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(names(pa), []string{"jane@tenantlink.test ci", "bob@tenantlink.test bob's"}); diff != "" {
		t.Errorf("admin's list (-got +want):\n%s", diff)
	}

	// Last use: written once a minute at most.
	if _, err := s.Authenticate(ctx, rawJ); err != nil {
		t.Fatal(err)
	}
	first := *now
	*now = now.Add(30 * time.Second)
	if _, err := s.Authenticate(ctx, rawJ); err != nil {
		t.Fatal(err)
	}
	list, _ := s.ListTokens(ctx, pj)
	if !list[0].LastUsedAt.Equal(first) {
		t.Errorf("LastUsedAt = %v, want %v (second use within the minute not written)", list[0].LastUsedAt, first)
	}

	// Someone else's token is not found, like an unknown one.
	err = s.RevokeToken(ctx, pj, tb.ID)
	wantCode(t, err, tenantlink.ENOTFOUND, "not found")
	err2 := s.RevokeToken(ctx, pj, "no-such-id")
	if tenantlink.ErrorMessage(err) != strings.Replace(tenantlink.ErrorMessage(err2), "no-such-id", tb.ID, 1) {
		t.Errorf("someone else's token answered %q, an unknown one %q", err, err2)
	}
	if err := s.RevokeToken(ctx, pa, tb.ID); err != nil {
		t.Errorf("admin revokes bob's token: %v", err)
	}
	if err := s.RevokeToken(ctx, pj, tj.ID); err != nil {
		t.Errorf("jane revokes her own token: %v", err)
	}
	if _, err := s.Authenticate(ctx, rawJ); tenantlink.ErrorCode(err) != tenantlink.EUNAUTHORIZED {
		t.Errorf("revoked token still works: %v", err)
	}

	// Expiry.
	rawE, _, err := s.IssueToken(ctx, pj, directory.TokenInput{ExpiresInDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(24*time.Hour - time.Second)
	if _, err := s.Authenticate(ctx, rawE); err != nil {
		t.Errorf("token refused before it expires: %v", err)
	}
	*now = now.Add(time.Second)
	_, err = s.Authenticate(ctx, rawE)
	wantCode(t, err, tenantlink.EUNAUTHORIZED, "expired")
}
