package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/store"
)

// RunTasks checks the store's scheduled-task methods. Package jobs owns
// the tasks table and creates its rows, so insert puts one task (enabled,
// with a next run) in the backend's table.
func RunTasks(t *testing.T, s store.Store, insert func(t *testing.T, ref store.TaskRef)) {
	ctx := t.Context()
	for _, ref := range []store.TaskRef{
		{ID: "t1", Name: "Sync Sales", Kind: "sync", Target: "g-sales"},
		{ID: "t2", Name: "Sync IT", Kind: "sync", Target: "g-it"},
		{ID: "t3", Name: "Sync HR", Kind: "sync", Target: "g-hr"},
		{ID: "t4", Name: "Other kind", Kind: "report", Target: "g-it"},
	} {
		insert(t, ref)
	}
	got, err := s.ListTasksByTarget(ctx, "sync", []string{"g-sales", "g-it", "g-none", "g-it"})
	must(t, err)
	want := []*store.TaskRef{
		{ID: "t2", Name: "Sync IT", Kind: "sync", Target: "g-it", Enabled: true},
		{ID: "t1", Name: "Sync Sales", Kind: "sync", Target: "g-sales", Enabled: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListTasksByTarget (-want +got):\n%s", diff)
	}
	if got, err := s.ListTasksByTarget(ctx, "sync", nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ListTasksByTarget(no targets) = %v, %v; want an empty list", got, err)
	}

	err = s.InTx(ctx, func(tx store.Store) error {
		n, err := tx.DisableTasks(ctx, []string{"t1", "t2", "unknown"}, at(3))
		if err == nil && n != 2 {
			t.Errorf("DisableTasks changed %d tasks, want 2", n)
		}
		return err
	})
	must(t, err)
	n, err := s.DisableTasks(ctx, []string{"t1"}, at(4))
	must(t, err)
	if n != 0 {
		t.Errorf("DisableTasks of a disabled task changed %d, want 0", n)
	}
	got, err = s.ListTasksByTarget(ctx, "sync", []string{"g-sales", "g-it", "g-hr"})
	must(t, err)
	want = []*store.TaskRef{
		{ID: "t3", Name: "Sync HR", Kind: "sync", Target: "g-hr", Enabled: true},
		{ID: "t2", Name: "Sync IT", Kind: "sync", Target: "g-it"},
		{ID: "t1", Name: "Sync Sales", Kind: "sync", Target: "g-sales"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after DisableTasks (-want +got):\n%s", diff)
	}
}
