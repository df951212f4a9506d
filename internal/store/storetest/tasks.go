package storetest

import (
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"

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

// testTaskSchedule checks the list, deletion, due tasks, advancing a
// task's next run once, and recording run outcomes.
func testTaskSchedule(t *testing.T, s store.Store) {
	ctx := t.Context()
	ptr := func(v time.Time) *time.Time { return &v }
	mk := func(id, name, target string, enabled bool, next *time.Time) *store.Task {
		task := &store.Task{ID: id, Name: name, Kind: "sync", Target: target, Schedule: []byte(`{"kind":"hourly"}`),
			Enabled: enabled, WebhookHash: "h-" + id, NextRun: next, CreatedAt: at(1), UpdatedAt: at(1)}
		must(t, s.CreateTask(ctx, task))
		return task
	}
	a := mk("a", "Sync B", "g-b", true, ptr(at(5)))
	b := mk("b", "Sync A", "g-a", true, ptr(at(3)))
	c := mk("c", "Sync C", "g-c", false, ptr(at(2))) // disabled: never due
	d := mk("d", "Sync D", "g-d", true, nil)         // no next run: never due
	e := mk("e", "Sync E", "g-e", true, ptr(at(9)))  // not yet due

	list, err := s.ListTasks(ctx)
	must(t, err)
	if diff := cmp.Diff([]*store.Task{b, a, c, d, e}, list); diff != "" {
		t.Errorf("ListTasks (-want +got):\n%s", diff)
	}
	due, err := s.DueTasks(ctx, at(5))
	must(t, err)
	if diff := cmp.Diff([]*store.Task{b, a}, due); diff != "" {
		t.Errorf("DueTasks(at 5) (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name      string
		id        string
		due       time.Time
		next      *time.Time
		want      bool
		wantAfter *time.Time
	}{
		{"moves on from the due time", "b", at(3), ptr(at(4)), true, ptr(at(4))},
		{"a second replica's stale due time changes nothing", "b", at(3), ptr(at(6)), false, ptr(at(4))},
		{"no next run clears it", "a", at(5), nil, true, nil},
		{"unknown task", "nope", at(5), ptr(at(6)), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := s.AdvanceTask(ctx, tc.id, tc.due, tc.next)
			must(t, err)
			if ok != tc.want {
				t.Errorf("AdvanceTask = %v, want %v", ok, tc.want)
			}
			if tc.id == "nope" {
				return
			}
			got, err := s.GetTask(ctx, tc.id)
			must(t, err)
			if diff := cmp.Diff(tc.wantAfter, got.NextRun); diff != "" {
				t.Errorf("next run (-want +got):\n%s", diff)
			}
		})
	}

	must(t, s.MarkTaskQueued(ctx, "e"))
	must(t, s.RecordTaskRun(ctx, "d", at(6), store.RunRunning, ""))
	must(t, s.MarkTaskQueued(ctx, "d")) // running stays running
	must(t, s.RecordTaskRun(ctx, "nope", at(6), store.RunFailed, "x"))
	must(t, s.MarkTaskQueued(ctx, "nope"))
	for _, w := range []struct {
		id, status, message string
		at                  *time.Time
	}{
		{"e", store.RunQueued, "", nil},
		{"d", store.RunRunning, "", ptr(at(6))},
	} {
		got, err := s.GetTask(ctx, w.id)
		must(t, err)
		if got.LastStatus != w.status || got.LastMessage != w.message || !cmp.Equal(got.LastRunAt, w.at) {
			t.Errorf("task %s last run = %v %q %q, want %v %q %q", w.id, got.LastRunAt, got.LastStatus, got.LastMessage, w.at, w.status, w.message)
		}
	}
	must(t, s.RecordTaskRun(ctx, "d", at(7), store.RunFailed, "Microsoft unreachable"))
	got, err := s.GetTask(ctx, "d")
	must(t, err)
	if got.LastStatus != store.RunFailed || got.LastMessage != "Microsoft unreachable" || !got.LastRunAt.Equal(at(7)) {
		t.Errorf("after RecordTaskRun: %+v", got)
	}

	must(t, s.DeleteTask(ctx, "a"))
	wantErr(t, s.DeleteTask(ctx, "a"), tenantlink.ENOTFOUND, store.ErrNotFound)
	n, err := s.DeleteTasksFor(ctx, "sync", "g-c")
	must(t, err)
	if n != 1 {
		t.Errorf("DeleteTasksFor deleted %d, want 1", n)
	}
	n, err = s.DeleteTasksFor(ctx, "sync", "g-c")
	must(t, err)
	if n != 0 {
		t.Errorf("DeleteTasksFor again deleted %d, want 0", n)
	}
	list, err = s.ListTasks(ctx)
	must(t, err)
	var ids []string
	for _, task := range list {
		ids = append(ids, task.ID)
	}
	if diff := cmp.Diff([]string{"b", "d", "e"}, ids); diff != "" {
		t.Errorf("tasks after deletes (-want +got):\n%s", diff)
	}
}
