package storetest

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// testProcessEvents checks the process-trigger outbox: a (process, key)
// is stored once, pending rows come oldest first, a row is claimed by one
// instance only (also by concurrent claimers), instances keep their
// event, and deleting the process deletes its rows.
func testProcessEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := &store.Process{Name: "Onboarding", Definition: []byte(`{"name":"Onboarding"}`)}
	must(t, s.CreateProcess(ctx, p))

	evs := []*store.ProcessEvent{
		{ProcessID: p.ID, Key: "k1", Event: []byte(`{"kind":"member.added"}`), CreatedAt: at(1)},
		{ProcessID: p.ID, Key: "k2", Event: []byte(`{"kind":"user.created"}`), CreatedAt: at(2)},
	}
	n, err := s.AddProcessEvents(ctx, evs)
	must(t, err)
	if n != 2 || evs[0].ID == "" || evs[1].ID == "" {
		t.Fatalf("AddProcessEvents = %d, ids %q %q; want 2 with ids", n, evs[0].ID, evs[1].ID)
	}
	// The same event again (a replayed write) adds nothing.
	n, err = s.AddProcessEvents(ctx, []*store.ProcessEvent{{ProcessID: p.ID, Key: "k1", Event: []byte(`{"kind":"other"}`)}})
	must(t, err)
	if n != 0 {
		t.Errorf("AddProcessEvents of a stored key = %d, want 0", n)
	}
	_, err = s.AddProcessEvents(ctx, []*store.ProcessEvent{{ProcessID: "nope", Key: "k", Event: []byte(`{}`)}})
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)
	_, err = s.AddProcessEvents(ctx, []*store.ProcessEvent{{ProcessID: p.ID, Event: []byte(`{}`)}})
	wantErr(t, err, tenantlink.EINVALID, nil)

	pending, err := s.PendingProcessEvents(ctx, 0)
	must(t, err)
	if diff := cmp.Diff(evs, pending); diff != "" {
		t.Errorf("PendingProcessEvents (-want +got):\n%s", diff)
	}

	// Two claimers of the same row: exactly one wins.
	var wg sync.WaitGroup
	wins := make([]bool, 2)
	errs := make([]error, 2)
	for i := range wins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(ctx, func(tx store.Store) error {
				var err error
				wins[i], err = tx.ClaimProcessEvent(ctx, evs[0].ID, []string{"inst-a", "inst-b"}[i])
				return err
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	if wins[0] == wins[1] {
		t.Errorf("concurrent claims won = %v, want exactly one", wins)
	}
	ok, err := s.ClaimProcessEvent(ctx, evs[0].ID, "inst-c")
	must(t, err)
	if ok {
		t.Error("ClaimProcessEvent of a claimed row = true, want false")
	}
	_, err = s.ClaimProcessEvent(ctx, "nope", "inst")
	wantErr(t, err, tenantlink.ENOTFOUND, store.ErrNotFound)

	pending, err = s.PendingProcessEvents(ctx, 10)
	must(t, err)
	if len(pending) != 1 || pending[0].Key != "k2" {
		t.Errorf("pending after a claim = %+v, want only k2", pending)
	}

	// An instance keeps the event that started it; a form start has none.
	in := &store.ProcessInstance{ProcessID: p.ID, Status: "running", Event: []byte(`{"kind":"member.added"}`)}
	must(t, s.CreateProcessInstance(ctx, in))
	form := &store.ProcessInstance{ProcessID: p.ID, Status: "running"}
	must(t, s.CreateProcessInstance(ctx, form))
	got, err := s.GetProcessInstance(ctx, in.ID)
	must(t, err)
	if string(got.Event) != `{"kind":"member.added"}` {
		t.Errorf("instance event = %q, want the stored event", got.Event)
	}
	got, err = s.GetProcessInstance(ctx, form.ID)
	must(t, err)
	if got.Event != nil {
		t.Errorf("form instance event = %q, want none", got.Event)
	}

	must(t, s.DeleteProcess(ctx, p.ID))
	pending, err = s.PendingProcessEvents(ctx, 10)
	must(t, err)
	if len(pending) != 0 {
		t.Errorf("pending after deleting the process = %d rows, want 0", len(pending))
	}
}

// testMemberChanges checks the membership changes behind member triggers:
// the first write of a key inserts, a write moves the row only from the
// generation it read, and of concurrent writers from one generation
// exactly one wins.
func testMemberChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetMemberChange(ctx, "ds:g", "obj"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Fatalf("GetMemberChange of nothing = %v, want not found", err)
	}
	joined := &store.MemberChange{Scope: "ds:g", ObjectID: "obj", Generation: 1, Kind: "member.added", ChangedAt: at(1), RunID: "r1"}
	if ok, err := s.PutMemberChange(ctx, joined, 0); !ok || err != nil {
		t.Fatalf("first PutMemberChange = %v, %v; want stored", ok, err)
	}
	again := *joined
	again.RunID = "r2"
	if ok, err := s.PutMemberChange(ctx, &again, 0); ok || err != nil {
		t.Fatalf("second insert of the key = %v, %v; want false", ok, err)
	}
	got, err := s.GetMemberChange(ctx, "ds:g", "obj")
	must(t, err)
	if diff := cmp.Diff(joined, got); diff != "" {
		t.Errorf("stored change (-want +got):\n%s", diff)
	}
	if _, err := s.PutMemberChange(ctx, &store.MemberChange{Scope: "ds:g", ObjectID: "obj", Generation: 1, Kind: "member.removed"}, 1); tenantlink.ErrorCode(err) != tenantlink.EINVALID {
		t.Errorf("a generation not past the read one = %v, want invalid", err)
	}

	// Two writers that both read generation 1.
	var wg sync.WaitGroup
	wins := make([]bool, 4)
	for i := range wins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			left := &store.MemberChange{Scope: "ds:g", ObjectID: "obj", Generation: 2, Kind: "member.removed", ChangedAt: at(2), RunID: "w"}
			ok, err := s.PutMemberChange(ctx, left, 1)
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			wins[i] = ok
		}()
	}
	wg.Wait()
	n := 0
	for _, w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Errorf("concurrent writers from generation 1: %d won, want 1", n)
	}
	got, err = s.GetMemberChange(ctx, "ds:g", "obj")
	must(t, err)
	if got.Generation != 2 || got.Kind != "member.removed" || !got.ChangedAt.Equal(at(2)) {
		t.Errorf("after the writers: %+v, want generation 2, member.removed", got)
	}
	// Other objects and scopes are their own.
	if ok, err := s.PutMemberChange(ctx, &store.MemberChange{Scope: "ds:other", ObjectID: "obj", Generation: 1, Kind: "member.added", ChangedAt: at(3)}, 0); !ok || err != nil {
		t.Errorf("another scope's first change = %v, %v; want stored", ok, err)
	}
}
