package datasource_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/datasource"
)

// TestResolveByName: a data source's unique name (exact, any case) works
// wherever its id does; an id always wins; and a name someone may not see
// answers exactly as an unknown name does (no existence oracle).
func TestResolveByName(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	create := func(name string) *tenantlink.DataSource {
		t.Helper()
		ds, err := s.Create(ctx, admin, datasource.Input{Name: ptr(name), Type: ptr(tenantlink.ConnectorOffice365)})
		if err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		return ds
	}
	contoso := create("Contoso 365")
	hidden := create("Hidden Tenant")
	// Only the members of group Admins administer it, and only they use it.
	admins := &tenantlink.Group{Name: "Admins"}
	if err := s.Store.CreateGroup(ctx, admins); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSecurity(ctx, admin, hidden.ID, tenantlink.Security{Admins: []string{admins.ID}, Users: []string{admins.ID}}); err != nil {
		t.Fatal(err)
	}
	insider := principal("insider", []tenantlink.Role{tenantlink.RoleManageDatasources}, admins.ID)
	// A data source named like another's id: the id wins.
	impostor := create(contoso.ID)

	tests := []struct {
		name   string
		p      *tenantlink.Principal
		ref    string
		wantID string // "" = not found
	}{
		{"id", member, contoso.ID, contoso.ID},
		{"name", member, "Contoso 365", contoso.ID},
		{"name in another case, trimmed", member, " contoso 365 ", contoso.ID},
		{"part of a name is not a name", member, "Contoso", ""},
		{"unknown name", member, "Fabrikam", ""},
		{"id wins over a name", member, contoso.ID, contoso.ID},
		{"impostor by its own id", member, impostor.ID, impostor.ID},
		{"name of one the member may not see", member, "Hidden Tenant", ""},
		{"same name for its administrator", insider, "hidden tenant", hidden.ID},
		{"not for another manager", manager, "Hidden Tenant", ""},
		{"system", tenantlink.System, "Hidden Tenant", hidden.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := s.Get(ctx, tt.p, tt.ref)
			if tt.wantID != "" {
				if err != nil {
					t.Fatalf("Get(%q): %v", tt.ref, err)
				}
				if ds.ID != tt.wantID {
					t.Errorf("Get(%q) = %s (%s), want %s", tt.ref, ds.ID, ds.Name, tt.wantID)
				}
				return
			}
			if got := tenantlink.ErrorCode(err); got != tenantlink.ENOTFOUND {
				t.Fatalf("Get(%q) code = %q (%v), want %q", tt.ref, got, err, tenantlink.ENOTFOUND)
			}
		})
	}

	// The oracle rule: for someone without access, a name that exists and
	// one that does not give the same code and the same message shape,
	// through every service method that takes a reference.
	type call struct {
		name string
		do   func(ref string) error
	}
	calls := []call{
		{"Get", func(ref string) error { _, err := s.Get(ctx, member, ref); return err }},
		{"Operations", func(ref string) error { _, err := s.Operations(ctx, member, ref); return err }},
		{"RunOperation", func(ref string) error { _, err := s.RunOperation(ctx, member, ref, "UserList", nil); return err }},
		{"Check", func(ref string) error { return s.Check(ctx, member, ref, "UserList") }},
		{"GetSecurity", func(ref string) error { _, err := s.GetSecurity(ctx, member, ref); return err }},
		{"Authorize", func(ref string) error { _, err := s.Authorize(ctx, member, ref); return err }},
		{"Test", func(ref string) error { _, err := s.Test(ctx, member, ref); return err }},
		{"Delete", func(ref string) error { return s.Delete(ctx, member, ref, false) }},
	}
	for _, c := range calls {
		t.Run("oracle "+c.name, func(t *testing.T) {
			hiddenErr, unknownErr := c.do("Hidden Tenant"), c.do("Hidden Tenanu")
			got := []string{tenantlink.ErrorCode(hiddenErr), tenantlink.ErrorMessage(hiddenErr)}
			want := []string{tenantlink.ErrorCode(unknownErr), tenantlink.ErrorMessage(unknownErr)}
			want[1] = replaceLast(want[1], "Hidden Tenanu", "Hidden Tenant")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("forbidden name vs unknown name (-unknown +forbidden):\n%s", diff)
			}
			if got[0] == "" {
				t.Errorf("no error for a data source the member may not see")
			}
		})
	}

	// Names work for writes too: a rename keeps the id.
	ds, err := s.Update(ctx, admin, "CONTOSO 365", datasource.Input{Name: ptr("Contoso Renamed")})
	if err != nil {
		t.Fatalf("Update by name: %v", err)
	}
	if ds.ID != contoso.ID || ds.Name != "Contoso Renamed" {
		t.Errorf("Update by name changed %s %q, want %s renamed", ds.ID, ds.Name, contoso.ID)
	}
}

func replaceLast(s, old, repl string) string {
	for i := len(s) - len(old); i >= 0; i-- {
		if s[i:i+len(old)] == old {
			return s[:i] + repl + s[i+len(old):]
		}
	}
	return s
}
