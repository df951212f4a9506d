package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// testPruneProcessEvents checks what pruning the process-trigger history
// keeps (decision 0024): pending outbox rows, started rows whose dedupe
// key is still live, rows younger than the cutoff; member.added changes,
// changes of a user a sync still tracks, changes with an outbox row left,
// and young ones.
func testPruneProcessEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := &store.Process{Name: "Prune", Definition: []byte(`{"name":"Prune"}`)}
	must(t, s.CreateProcess(ctx, p))
	key := func(kind, obj string) string { return kind + ":ds:g:" + obj + ":g1" }

	rows := map[string]*store.ProcessEvent{
		"old started":       {ProcessID: p.ID, Key: key("member.removed", "gone"), CreatedAt: at(1)},
		"old started, live": {ProcessID: p.ID, Key: key("member.added", "live"), CreatedAt: at(1)},
		"old pending":       {ProcessID: p.ID, Key: key("member.removed", "pending"), CreatedAt: at(1)},
		"young started":     {ProcessID: p.ID, Key: "user.created:ds:young:r1", CreatedAt: at(5)},
	}
	for _, r := range rows {
		r.Event = []byte(`{}`)
	}
	list := []*store.ProcessEvent{rows["old started"], rows["old started, live"], rows["old pending"], rows["young started"]}
	_, err := s.AddProcessEvents(ctx, list)
	must(t, err)
	for _, name := range []string{"old started", "old started, live", "young started"} {
		ok, err := s.ClaimProcessEvent(ctx, rows[name].ID, "inst-"+name)
		must(t, err)
		if !ok {
			t.Fatalf("claim %s = false", name)
		}
	}
	// Dedupe keys: expired for "old started", live (recorded late) for
	// "old started, live".
	_, err = s.MarkEventProcessed(ctx, "process:"+p.ID+":"+rows["old started"].Key, at(1), at(0))
	must(t, err)
	_, err = s.MarkEventProcessed(ctx, "process:"+p.ID+":"+rows["old started, live"].Key, at(4), at(0))
	must(t, err)
	_, err = s.MarkEventProcessed(ctx, "process:"+p.ID+":"+rows["young started"].Key, at(5), at(0))
	must(t, err)
	_, err = s.MarkEventProcessed(ctx, "other:key", at(1), at(0))
	must(t, err)

	n, err := s.PruneProcessEvents(ctx, at(3))
	must(t, err)
	if n != 1 {
		t.Errorf("PruneProcessEvents = %d, want 1 (the old started row whose key expired)", n)
	}
	pending, err := s.PendingProcessEvents(ctx, 10)
	must(t, err)
	if len(pending) != 1 || pending[0].ID != rows["old pending"].ID {
		t.Errorf("pending after pruning = %+v, want the old pending row", pending)
	}
	// The pruned row's key can be written again; the kept ones cannot.
	for name, want := range map[string]int{"old started": 1, "old started, live": 0, "young started": 0} {
		n, err := s.AddProcessEvents(ctx, []*store.ProcessEvent{{ProcessID: p.ID, Key: rows[name].Key, Event: []byte(`{}`), CreatedAt: at(6)}})
		must(t, err)
		if n != want {
			t.Errorf("re-adding %s's key = %d rows, want %d", name, n, want)
		}
	}
	// Only the "process:" dedupe keys are pruned, and only expired ones.
	for k, want := range map[string]bool{"other:key": false, "process:" + p.ID + ":" + rows["old started"].Key: true, "process:" + p.ID + ":" + rows["young started"].Key: false} {
		first, err := s.MarkEventProcessed(ctx, k, at(6), at(0))
		must(t, err)
		if first != want {
			t.Errorf("MarkEventProcessed(%s) after pruning = %v, want %v", k, first, want)
		}
	}

	// Membership changes.
	g := &tenantlink.Group{Name: "Pruned sync", Roles: []tenantlink.Role{}, Members: []string{}}
	must(t, s.CreateGroup(ctx, g))
	must(t, s.MarkSyncMembers(ctx, g.ID, "run1", []store.SyncMember{{ObjectID: "tracked", UserID: "u1"}}))
	changes := map[string]string{ // object id: kind
		"left":    "member.removed", // pruned: old, no sync tracks them, no outbox row
		"joined":  "member.added",   // a member: kept
		"tracked": "member.removed", // a sync still tracks them: kept
		"young":   "member.removed", // younger than the cutoff: kept
		"pending": "member.removed", // its pending outbox row is left: kept
		"live":    "member.removed", // the row of its join is left: kept
		"gone":    "member.removed", // its (re-added) outbox row is left: kept
	}
	for obj, kind := range changes {
		c := &store.MemberChange{Scope: "ds:g", ObjectID: obj, Generation: 1, Kind: kind, ChangedAt: at(1), RunID: "r"}
		if obj == "young" {
			c.ChangedAt = at(5)
		}
		ok, err := s.PutMemberChange(ctx, c, 0)
		must(t, err)
		if !ok {
			t.Fatalf("PutMemberChange(%s) = false", obj)
		}
	}
	// The same user in another scope is its own change.
	_, err = s.PutMemberChange(ctx, &store.MemberChange{Scope: "ds:h", ObjectID: "gone", Generation: 1, Kind: "member.removed", ChangedAt: at(1), RunID: "r"}, 0)
	must(t, err)

	n, err = s.PruneMemberChanges(ctx, at(3))
	must(t, err)
	if n != 2 {
		t.Errorf("PruneMemberChanges = %d, want 2 (left in ds:g, gone in ds:h)", n)
	}
	var kept []string
	for _, obj := range []string{"gone", "joined", "left", "live", "pending", "tracked", "young"} {
		_, err := s.GetMemberChange(ctx, "ds:g", obj)
		switch tenantlink.ErrorCode(err) {
		case "":
			kept = append(kept, obj)
		case tenantlink.ENOTFOUND:
		default:
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"gone", "joined", "live", "pending", "tracked", "young"}, kept); diff != "" {
		t.Errorf("changes kept in ds:g (-want +got):\n%s", diff)
	}
	if _, err := s.GetMemberChange(ctx, "ds:h", "gone"); tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
		t.Errorf("ds:h gone after pruning: err = %v, want not found", err)
	}
}
