package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

func testProcesses(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := &store.Process{Name: "Employee onboarding", Definition: []byte(`{"name":"Employee onboarding"}`),
		CreatedBy: "u1", ModifiedBy: "u1", EditorID: "id-u1"}
	must(t, s.CreateProcess(ctx, p))
	if p.ID == "" || p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Fatalf("created process = %+v, want an id and equal created/updated times", p)
	}
	got, err := s.GetProcess(ctx, p.ID)
	must(t, err)
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("GetProcess (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		p    *store.Process
		code string
	}{
		{"same name in another case", &store.Process{Name: "EMPLOYEE ONBOARDING", Definition: []byte(`{}`)}, tenantlink.ECONFLICT},
		{"no name", &store.Process{Name: " ", Definition: []byte(`{}`)}, tenantlink.EINVALID},
		{"no definition", &store.Process{Name: "Empty"}, tenantlink.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sentinel error
			if tc.code == tenantlink.ECONFLICT {
				sentinel = store.ErrConflict
			}
			wantErr(t, s.CreateProcess(ctx, tc.p), tc.code, sentinel)
		})
	}

	b := &store.Process{Name: "access request", Definition: []byte(`{"name":"access request"}`), CreatedAt: at(1)}
	must(t, s.CreateProcess(ctx, b))
	list, err := s.ListProcesses(ctx)
	must(t, err)
	var names []string
	for _, x := range list {
		names = append(names, x.Name)
	}
	if diff := cmp.Diff([]string{"access request", "Employee onboarding"}, names); diff != "" {
		t.Errorf("ListProcesses names, case-insensitive order (-want +got):\n%s", diff)
	}

	b.Name, b.Definition, b.ModifiedBy, b.UpdatedAt = "Access request", []byte(`{"name":"Access request"}`), "u2", at(2)
	b.EditorID, b.NeedsDataSource = "id-u2", "Contoso"
	must(t, s.UpdateProcess(ctx, b))
	got, err = s.GetProcess(ctx, b.ID)
	must(t, err)
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("updated process (-want +got):\n%s", diff)
	}
	b.Name = "employee Onboarding"
	wantErr(t, s.UpdateProcess(ctx, b), tenantlink.ECONFLICT, store.ErrConflict)
	wantErr(t, s.UpdateProcess(ctx, &store.Process{ID: "nope", Name: "x", Definition: []byte(`{}`)}), tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.GetProcess(ctx, "nope")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.DeleteProcess(ctx, "nope"), tenantlink.ENOTFOUND, store.ErrNotFound)
}

func testProcessInstances(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := &store.Process{Name: "P", Definition: []byte(`{}`)}
	must(t, s.CreateProcess(ctx, p))
	other := &store.Process{Name: "Q", Definition: []byte(`{}`)}
	must(t, s.CreateProcess(ctx, other))

	i1 := &store.ProcessInstance{ProcessID: p.ID, Status: "running", StartedBy: "u1",
		Fields: []byte(`{"email":"a@b.c"}`), StartedAt: at(1)}
	must(t, s.CreateProcessInstance(ctx, i1))
	if i1.ID == "" || string(i1.Rules) != "[]" {
		t.Fatalf("created instance = %+v, want an id and rules []", i1)
	}
	fin := at(2)
	i1.Status, i1.Fields, i1.Rules, i1.FinishedAt = "succeeded", []byte(`{"email":"a@b.c","status":"done"}`),
		[]byte(`[{"title":"r","outcome":"succeeded"}]`), &fin
	must(t, s.UpdateProcessInstance(ctx, i1))
	got, err := s.GetProcessInstance(ctx, i1.ID)
	must(t, err)
	if diff := cmp.Diff(i1, got); diff != "" {
		t.Errorf("GetProcessInstance (-want +got):\n%s", diff)
	}

	i2 := &store.ProcessInstance{ProcessID: p.ID, Status: "running", StartedBy: "u2", StartedAt: at(3)}
	must(t, s.CreateProcessInstance(ctx, i2))
	i3 := &store.ProcessInstance{ProcessID: other.ID, Status: "running", StartedBy: "u1", StartedAt: at(4)}
	must(t, s.CreateProcessInstance(ctx, i3))

	ids := func(l []*store.ProcessInstance) []string {
		out := []string{}
		for _, x := range l {
			out = append(out, x.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.InstanceFilter
		want []string
	}{
		{"all, newest first", store.InstanceFilter{}, []string{i3.ID, i2.ID, i1.ID}},
		{"one process", store.InstanceFilter{ProcessID: p.ID}, []string{i2.ID, i1.ID}},
		{"one starter", store.InstanceFilter{StartedBy: "u1"}, []string{i3.ID, i1.ID}},
		{"both", store.InstanceFilter{ProcessID: p.ID, StartedBy: "u1"}, []string{i1.ID}},
		{"limit", store.InstanceFilter{Limit: 1}, []string{i3.ID}},
		{"none", store.InstanceFilter{StartedBy: "nobody"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := s.ListProcessInstances(ctx, tc.f)
			must(t, err)
			if diff := cmp.Diff(tc.want, ids(list)); diff != "" {
				t.Errorf("ListProcessInstances(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}

	wantErr(t, s.CreateProcessInstance(ctx, &store.ProcessInstance{ProcessID: "nope", Status: "running"}), tenantlink.ENOTFOUND, store.ErrNotFound)
	wantErr(t, s.UpdateProcessInstance(ctx, &store.ProcessInstance{ID: "nope", Status: "failed"}), tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.GetProcessInstance(ctx, "nope")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	// Deleting a process deletes its instances and no others.
	must(t, s.DeleteProcess(ctx, p.ID))
	_, err = s.GetProcessInstance(ctx, i1.ID)
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	if _, err := s.GetProcessInstance(ctx, i3.ID); err != nil {
		t.Errorf("instance of another process after delete: %v, want it kept", err)
	}
}
