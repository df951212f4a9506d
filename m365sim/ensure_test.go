package m365sim

import "testing"

func TestEnsureGroup(t *testing.T) {
	s, err := New(Options{Users: 2, Groups: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := len(s.tenants[0].groups)
	id := s.EnsureGroup("New hires", "People who just joined")
	if id == "" || len(s.tenants[0].groups) != before+1 {
		t.Fatalf("EnsureGroup = %q with %d groups, want a new group", id, len(s.tenants[0].groups))
	}
	g := s.tenants[0].groupByID[id]
	if g == nil || g.DisplayName != "New hires" || !g.SecurityEnabled || g.Description != "People who just joined" {
		t.Fatalf("the group = %+v, want the security group as asked", g)
	}
	if again := s.EnsureGroup("NEW HIRES", ""); again != id || len(s.tenants[0].groups) != before+1 {
		t.Errorf("EnsureGroup of an existing name = %q (%d groups), want %q and no new group", again, len(s.tenants[0].groups), id)
	}
}
