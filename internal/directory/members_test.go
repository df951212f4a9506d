package directory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

func TestGroupMembers(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	admin := mustUser(t, s, "admin@example.com")
	ann := mustUser(t, s, "ann@example.com")
	bob := mustUser(t, s, "bob@example.com")
	// The only Administrator holds the role through the group.
	g, err := s.CreateGroup(ctx, tenantlink.System, directory.GroupInput{Name: ptr("Admins"), Roles: &[]tenantlink.Role{tenantlink.RoleAdministrator}, Members: &[]string{admin.ID}})
	if err != nil {
		t.Fatal(err)
	}
	p := principal(t, s, admin)

	// Refusals first, while admin is the only member and Administrator.
	for _, tc := range []struct {
		name string
		p    *tenantlink.Principal
		ids  []string
		add  bool
		code string
		msg  string
	}{
		{"unknown user", p, []string{"nope"}, true, tenantlink.EINVALID, `"nope" is not a directory user`},
		{"none", p, []string{" "}, true, tenantlink.EINVALID, "choose at least one user"},
		{"not an Administrator", principal(t, s, mustUser(t, s, "plain@example.com")), []string{bob.ID}, false, tenantlink.EFORBIDDEN, "Administrator role"},
		{"last Administrator", p, []string{admin.ID}, false, tenantlink.ECONFLICT, "no active Administrator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.add {
				_, err = s.AddGroupMembers(ctx, tc.p, g.ID, tc.ids)
			} else {
				_, err = s.RemoveGroupMembers(ctx, tc.p, g.ID, tc.ids)
			}
			wantCode(t, err, tc.code, tc.msg)
			after, err := s.Store.GetGroup(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Members) != 1 {
				t.Errorf("members after a refusal = %v, want the 1 unchanged", after.Members)
			}
		})
	}

	got, err := s.AddGroupMembers(ctx, p, g.ID, []string{bob.ID, ann.ID, ann.ID, admin.ID})
	if err != nil {
		t.Fatalf("add members: %v", err)
	}
	want := []string{admin.ID, bob.ID, ann.ID}
	if diff := cmp.Diff(len(want), len(got.Members)); diff != "" {
		t.Errorf("members after add (-want +got):\n%s", diff)
	}
	es, err := s.ListAudit(ctx, p, store.AuditFilter{Target: "group:" + g.ID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantDetail := fmt.Sprintf("Admins: 2 user(s): ann@example.com (%s), bob@example.com (%s)", ann.ID, bob.ID)
	if len(es) != 1 || es[0].Action != "group.members.add" || es[0].Detail != wantDetail || es[0].ActorID != admin.ID {
		t.Errorf("audit entry = %+v, want group.members.add by %s with detail %q", es, admin.ID, wantDetail)
	}

	got, err = s.RemoveGroupMembers(ctx, p, g.ID, []string{bob.ID})
	if err != nil {
		t.Fatalf("remove bob: %v", err)
	}
	if strings.Contains(strings.Join(got.Members, ","), bob.ID) || len(got.Members) != 2 {
		t.Errorf("members after removing bob = %v", got.Members)
	}
}

func TestListNames(t *testing.T) {
	var names []string
	for i := range 23 {
		names = append(names, fmt.Sprint(i))
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, ""},
		{2, "0, 1"},
		{20, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19"},
		{23, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 and 3 more"},
	} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			if got := directory.ListNames(names[:tc.n]); got != tc.want {
				t.Errorf("ListNames(%d names) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}

func TestListAuditOwnEntries(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	admin := mustUser(t, s, "admin@example.com", tenantlink.RoleAdministrator)
	ann := mustUser(t, s, "ann@example.com")
	pa, pann := principal(t, s, admin), principal(t, s, ann)
	if _, err := s.UpdateUser(ctx, pann, ann.ID, directory.UserInput{DisplayName: ptr("Ann")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, pa, ann.ID, directory.UserInput{Surname: ptr("Admin-set")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    *tenantlink.Principal
		f    store.AuditFilter
		want []string // actors
	}{
		{"a user sees their own entries only", pann, store.AuditFilter{}, []string{"ann@example.com"}},
		{"asking for someone else's id changes nothing", pann, store.AuditFilter{ActorID: admin.ID}, []string{"ann@example.com"}},
		{"an Administrator sees everyone's", pa, store.AuditFilter{Target: "user:" + ann.ID}, []string{"admin@example.com", "ann@example.com", "system"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := s.ListAudit(ctx, tc.p, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, e := range es {
				got = append(got, e.Actor)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("actors (-want +got):\n%s", diff)
			}
		})
	}
	_, err := s.ListAudit(ctx, nil, store.AuditFilter{})
	wantCode(t, err, tenantlink.EUNAUTHORIZED, "sign in")
}
