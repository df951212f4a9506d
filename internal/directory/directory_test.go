package directory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

const password = "correct horse battery staple"

// newService is a directory over a real SQLite store, with the sign-in
// limiter on a clock the test moves.
func newService(tb testing.TB) (*directory.Service, *time.Time) {
	tb.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+tb.TempDir()+"/t.db", secretstest.NewTestKeyring(tb), nil)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	s := directory.New(st, nil)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.Limiter.Now = func() time.Time { return now }
	return s, &now
}

func ptr[T any](v T) *T { return &v }

func mustUser(tb testing.TB, s *directory.Service, email string, roles ...tenantlink.Role) *tenantlink.User {
	tb.Helper()
	u, err := s.CreateUser(context.Background(), tenantlink.System, directory.UserInput{Email: &email, Password: ptr(password), Roles: &roles})
	if err != nil {
		tb.Fatalf("create %s: %v", email, err)
	}
	return u
}

func principal(tb testing.TB, s *directory.Service, u *tenantlink.User) *tenantlink.Principal {
	tb.Helper()
	// Reload so that group memberships are current.
	u, err := s.Store.GetUser(context.Background(), u.ID)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := s.Principal(context.Background(), u, "session")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func wantCode(tb testing.TB, err error, code, msg string) {
	tb.Helper()
	if got := tenantlink.ErrorCode(err); got != code || !strings.Contains(tenantlink.ErrorMessage(err), msg) {
		tb.Errorf("err = %v (code %q), want code %q with a message containing %q", err, got, code, msg)
	}
}

func TestSignInRateLimit(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// fail makes the failures; then the account's correct password is
		// tried from client.
		fail   func(s *directory.Service)
		client string
		want   string // "" = signed in, else the error code
	}{
		{"four failures still allow", func(s *directory.Service) {
			for range 4 {
				s.SignIn(ctx, "jane@tenantlink.test", "wrong password!", "10.0.0.1")
			}
		}, "10.0.0.1", ""},
		{"five failures lock the email from anywhere", func(s *directory.Service) {
			for range 5 {
				s.SignIn(ctx, "JANE@tenantlink.test", "wrong password!", "10.0.0.1")
			}
		}, "10.0.0.2", tenantlink.ETOOMANY},
		{"five failures from one address lock it for every email", func(s *directory.Service) {
			for _, e := range []string{"a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test"} {
				s.SignIn(ctx, e, "wrong password!", "10.0.0.9")
			}
		}, "10.0.0.9", tenantlink.ETOOMANY},
		{"unknown emails count like wrong passwords", func(s *directory.Service) {
			for range 5 {
				s.SignIn(ctx, "nobody@tenantlink.test", "whatever", "10.0.0.3")
			}
		}, "10.0.0.3", tenantlink.ETOOMANY},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			mustUser(t, s, "jane@tenantlink.test")
			tt.fail(s)
			_, err := s.SignIn(ctx, "jane@tenantlink.test", password, tt.client)
			if got := tenantlink.ErrorCode(err); got != tt.want {
				t.Fatalf("sign-in with the right password: err = %v, want code %q", err, tt.want)
			}
			if tt.want == tenantlink.ETOOMANY && !strings.Contains(tenantlink.ErrorMessage(err), "Try again in") {
				t.Errorf("message %q does not say when to try again", tenantlink.ErrorMessage(err))
			}
		})
	}

	t.Run("lock lifts when the oldest failure leaves the window", func(t *testing.T) {
		s, now := newService(t)
		mustUser(t, s, "jane@tenantlink.test")
		for range 5 {
			s.SignIn(ctx, "jane@tenantlink.test", "wrong password!", "10.0.0.1")
			*now = now.Add(time.Minute)
		}
		// Failures at 0..4 minutes; now is 5 minutes: the first has left.
		if _, err := s.SignIn(ctx, "jane@tenantlink.test", password, "10.0.0.1"); err != nil {
			t.Errorf("sign-in after the window: %v", err)
		}
	})

	t.Run("same answer for unknown email, wrong password, inactive user", func(t *testing.T) {
		s, _ := newService(t)
		mustUser(t, s, "jane@tenantlink.test")
		off := mustUser(t, s, "off@tenantlink.test")
		if _, err := s.UpdateUser(ctx, tenantlink.System, off.ID, directory.UserInput{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		sso, err := s.CreateUser(ctx, tenantlink.System, directory.UserInput{Email: ptr("sso@tenantlink.test")})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []struct{ email, pw string }{
			{"nobody@tenantlink.test", password}, {"jane@tenantlink.test", "wrong password!"},
			{"off@tenantlink.test", password}, {sso.Email, ""}, {sso.Email, "anything at all"},
		} {
			_, err := s.SignIn(ctx, c.email, c.pw, "10.0.1."+string(rune('0'+i)))
			if err != directory.ErrBadCredentials {
				t.Errorf("SignIn(%s) = %v, want ErrBadCredentials", c.email, err)
			}
		}
	})
}

func TestInactiveUser(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	u := mustUser(t, s, "jane@tenantlink.test")
	raw, _, err := s.CreateToken(ctx, principal(t, s, u), "", "ci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, raw); err != nil {
		t.Fatalf("token of an active user: %v", err)
	}
	sess := &store.Session{IDHash: "h", UserID: u.ID, CSRFToken: "c", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, tenantlink.System, u.ID, directory.UserInput{Active: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(ctx, raw)
	wantCode(t, err, tenantlink.EUNAUTHORIZED, "not valid")
	if _, err := s.Store.GetSession(ctx, "h", time.Now()); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("session after deactivation: err = %v, want it deleted", err)
	}
}

func TestSelfService(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	jane := mustUser(t, s, "jane@tenantlink.test")
	bob := mustUser(t, s, "bob@tenantlink.test")
	p := principal(t, s, jane)
	tests := []struct {
		name string
		id   string
		in   directory.UserInput
		code string
		msg  string
	}{
		{"own names", jane.ID, directory.UserInput{DisplayName: ptr("Jane D."), GivenName: ptr("Jane")}, "", ""},
		{"own password", jane.ID, directory.UserInput{Password: ptr("another good password"), CurrentPassword: ptr(password)}, "", ""},
		{"own weak password", jane.ID, directory.UserInput{Password: ptr("short"), CurrentPassword: ptr(password)}, tenantlink.EINVALID, "at least 10"},
		{"own roles", jane.ID, directory.UserInput{Roles: &[]tenantlink.Role{tenantlink.RoleAdministrator}}, tenantlink.EFORBIDDEN, "Administrator role"},
		{"own status", jane.ID, directory.UserInput{Active: ptr(true)}, tenantlink.EFORBIDDEN, "Administrator role"},
		{"own email", jane.ID, directory.UserInput{Email: ptr("j@tenantlink.test")}, tenantlink.EFORBIDDEN, "Administrator role"},
		{"another user's names", bob.ID, directory.UserInput{DisplayName: ptr("Bobby")}, tenantlink.EFORBIDDEN, "changing other users needs the Administrator role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Store.GetUser(ctx, tt.id)
			_, err := s.UpdateUser(ctx, p, tt.id, tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("UpdateUser: %v", err)
				}
				return
			}
			wantCode(t, err, tt.code, tt.msg)
			after, _ := s.Store.GetUser(ctx, tt.id)
			if after.DisplayName != before.DisplayName || after.Email != before.Email || after.PasswordHash != before.PasswordHash || len(after.Roles) != len(before.Roles) {
				t.Errorf("refused change was stored: %+v → %+v", before, after)
			}
		})
	}
	if _, err := s.SignIn(ctx, "jane@tenantlink.test", "another good password", "10.0.0.1"); err != nil {
		t.Errorf("sign-in with the changed password: %v", err)
	}
	if _, err := s.GetUser(ctx, p, jane.ID); err != nil {
		t.Errorf("reading yourself: %v", err)
	}
	_, err := s.GetUser(ctx, p, bob.ID)
	wantCode(t, err, tenantlink.EFORBIDDEN, "Administrator role")
	_, _, err = s.CreateToken(ctx, p, bob.ID, "for bob")
	wantCode(t, err, tenantlink.EFORBIDDEN, "Administrator role")
}

func TestLastAdministrator(t *testing.T) {
	ctx := context.Background()
	admin := []tenantlink.Role{tenantlink.RoleUser, tenantlink.RoleAdministrator}
	user := []tenantlink.Role{tenantlink.RoleUser}
	tests := []struct {
		name string
		// change runs against a directory holding one Administrator, ann,
		// plus carl, who is an Administrator only through group Admins
		// when viaGroup is set.
		viaGroup bool
		change   func(s *directory.Service, ann, carl *tenantlink.User, group *tenantlink.Group) error
		code     string
		msg      string
	}{
		{"remove own role", false, func(s *directory.Service, ann, _ *tenantlink.User, _ *tenantlink.Group) error {
			_, err := s.UpdateUser(ctx, principal(t, s, ann), ann.ID, directory.UserInput{Roles: &user})
			return err
		}, tenantlink.ECONFLICT, "from yourself"},
		{"deactivate yourself", false, func(s *directory.Service, ann, _ *tenantlink.User, _ *tenantlink.Group) error {
			_, err := s.UpdateUser(ctx, principal(t, s, ann), ann.ID, directory.UserInput{Active: ptr(false)})
			return err
		}, tenantlink.ECONFLICT, "deactivate your own"},
		{"delete yourself", false, func(s *directory.Service, ann, _ *tenantlink.User, _ *tenantlink.Group) error {
			return s.DeleteUser(ctx, principal(t, s, ann), ann.ID)
		}, tenantlink.ECONFLICT, "your own account"},
		{"CLI removes the last role", false, func(s *directory.Service, ann, _ *tenantlink.User, _ *tenantlink.Group) error {
			_, err := s.UpdateUser(ctx, tenantlink.System, ann.ID, directory.UserInput{Roles: &user})
			return err
		}, tenantlink.ECONFLICT, "no active Administrator"},
		{"CLI deactivates the last", false, func(s *directory.Service, ann, _ *tenantlink.User, _ *tenantlink.Group) error {
			_, err := s.UpdateUser(ctx, tenantlink.System, ann.ID, directory.UserInput{Active: ptr(false)})
			return err
		}, tenantlink.ECONFLICT, "no active Administrator"},
		{"CLI deletes the last", false, func(s *directory.Service, ann, _ *tenantlink.User, _ *tenantlink.Group) error {
			return s.DeleteUser(ctx, tenantlink.System, ann.ID)
		}, tenantlink.ECONFLICT, "no active Administrator"},
		{"demote the other when two", true, func(s *directory.Service, ann, carl *tenantlink.User, g *tenantlink.Group) error {
			_, err := s.UpdateGroup(ctx, principal(t, s, ann), g.ID, directory.GroupInput{Roles: &user})
			return err
		}, "", ""},
		{"group loses the role of the last", true, func(s *directory.Service, ann, carl *tenantlink.User, g *tenantlink.Group) error {
			if _, err := s.UpdateUser(ctx, principal(t, s, carl), ann.ID, directory.UserInput{Roles: &user}); err != nil {
				return err
			}
			_, err := s.UpdateGroup(ctx, principal(t, s, carl), g.ID, directory.GroupInput{Roles: &user})
			return err
		}, tenantlink.ECONFLICT, "no active Administrator"},
		{"last leaves the group", true, func(s *directory.Service, ann, carl *tenantlink.User, g *tenantlink.Group) error {
			if err := s.DeleteUser(ctx, principal(t, s, carl), ann.ID); err != nil {
				return err
			}
			_, err := s.UpdateGroup(ctx, principal(t, s, carl), g.ID, directory.GroupInput{Members: &[]string{}})
			return err
		}, tenantlink.ECONFLICT, "no active Administrator"},
		{"group of the last deleted", true, func(s *directory.Service, ann, carl *tenantlink.User, g *tenantlink.Group) error {
			if _, err := s.UpdateUser(ctx, tenantlink.System, ann.ID, directory.UserInput{Active: ptr(false)}); err != nil {
				return err
			}
			return s.DeleteGroup(ctx, principal(t, s, carl), g.ID)
		}, tenantlink.ECONFLICT, "no active Administrator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			ann := mustUser(t, s, "ann@tenantlink.test", admin...)
			carl := mustUser(t, s, "carl@tenantlink.test", user...)
			var g *tenantlink.Group
			if tt.viaGroup {
				var err error
				g, err = s.CreateGroup(ctx, tenantlink.System, directory.GroupInput{Name: ptr("Admins"), Roles: &admin, Members: &[]string{carl.ID}})
				if err != nil {
					t.Fatal(err)
				}
			}
			err := tt.change(s, ann, carl, g)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("change: %v", err)
				}
				return
			}
			wantCode(t, err, tt.code, tt.msg)
			// Someone can still administer.
			users, _ := s.Store.ListUsers(ctx, store.UserFilter{})
			var admins []string
			for _, u := range users {
				if p := principal(t, s, u); u.Active && p.Has(tenantlink.RoleAdministrator) {
					admins = append(admins, u.Email)
				}
			}
			if len(admins) == 0 {
				t.Error("no active Administrator left after the refused change")
			}
		})
	}
}
