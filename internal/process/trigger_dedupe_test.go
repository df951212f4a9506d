package process_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// syncGroup runs directory group id's sync now (past the safety threshold).
func (w *trigWorld) syncGroup(t *testing.T, id string) {
	t.Helper()
	r, err := w.e.App.GroupSync.Run(context.Background(), tenantlink.System, id, groupsync.RunOptions{Confirm: true})
	if err != nil || r.Status != store.RunSucceeded {
		t.Errorf("sync run of %s: %v %+v", id, err, r)
	}
}

// TestTriggerTwoSyncsOneEvent: two directory groups sync the same tenant
// group (one names it, the other gives its id). A join both syncs
// observe starts the member.added process once, a leave starts the
// member.removed process once, and a second join after the leave starts
// one more — also when both syncs run at the same time.
func TestTriggerTwoSyncsOneEvent(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testTriggerTwoSyncs(t, "") })
	t.Run("postgres", func(t *testing.T) { testTriggerTwoSyncs(t, testenv.PostgresDSN(t)) })
}

func testTriggerTwoSyncs(t *testing.T, db string) {
	w := newTrigWorldOn(t, false, db)
	other, procs := w.secondSyncAndMemberProcesses(t)
	groups := []string{w.group, other.ID}
	both := func(together bool) {
		if !together {
			for _, g := range groups {
				w.syncGroup(t, g)
			}
			return
		}
		var wg sync.WaitGroup
		for _, g := range groups {
			wg.Add(1)
			go func() { defer wg.Done(); w.syncGroup(t, g) }()
		}
		wg.Wait()
	}
	count := func(step string, want map[string]int) {
		t.Helper()
		w.checkInstances(t, step, procs, want)
	}

	both(false) // the baselines
	ann := w.tenantUser(t, "ann", "Ann Hire", true)
	both(false)
	count("a join both syncs observe", map[string]int{process.EventMemberAdded: 1, process.EventMemberRemoved: 0})

	w.e.SimControl(t, "DELETE", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	both(false)
	count("a leave both syncs observe", map[string]int{process.EventMemberAdded: 1, process.EventMemberRemoved: 1})

	w.e.SimControl(t, "POST", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	both(true)
	count("a second join, both syncs at once", map[string]int{process.EventMemberAdded: 2, process.EventMemberRemoved: 1})

	w.e.SimControl(t, "DELETE", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	both(true)
	count("a second leave, both syncs at once", map[string]int{process.EventMemberAdded: 2, process.EventMemberRemoved: 2})

	// A join the first sync sees first starts once; the second sync,
	// running later, sees the same join (it saw Ann leave): nothing more.
	w.e.SimControl(t, "POST", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	w.syncGroup(t, w.group)
	count("a third join, first sync only", map[string]int{process.EventMemberAdded: 3, process.EventMemberRemoved: 2})
	w.syncGroup(t, other.ID)
	count("the second sync catches up", map[string]int{process.EventMemberAdded: 3, process.EventMemberRemoved: 2})
}

// TestTriggerRejoinUnobserved: a leave no sync reported (the only sync
// was deleted meanwhile) does not hide the next join: a new sync of the
// tenant group, which saw the user out after the stored join, starts
// the process again.
func TestTriggerRejoinUnobserved(t *testing.T) {
	w := newTrigWorld(t, false)
	var p process.Process
	w.e.Admin.In(t).Must(201, "POST", "/api/v1/processes", welcome(process.EventMemberAdded), &p)
	w.syncGroup(t, w.group) // baseline
	ann := w.tenantUser(t, "ann", "Ann Hire", true)
	w.syncGroup(t, w.group)
	w.e.Admin.In(t).Must(204, "DELETE", "/api/v1/groups/"+w.group, nil, nil)

	w.e.SimControl(t, "DELETE", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	var g struct{ ID string }
	w.e.Admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "New hires again"}, &g)
	w.e.Admin.In(t).Must(200, "PUT", "/api/v1/groups/"+g.ID+"/sync", map[string]any{
		"enabled": true, "datasource": w.ds, "sourceGroup": "New hires", "missingUsers": "keep"}, nil)
	w.syncGroup(t, g.ID) // its baseline: Ann is out
	w.e.SimControl(t, "POST", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	w.syncGroup(t, g.ID)
	if _, err := w.e.App.Processes.StartPending(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if n := len(w.instances(t, p.ID)); n != 2 {
		t.Errorf("instances = %d, want 2: the join before the unreported leave and the one after it", n)
	}
}

// TestTriggerPrunedHistory: pruning the trigger history (everything older
// than the retention, here all of it) starts nothing twice. A leave one
// sync reported while the other still tracks the user is kept, so the
// other's late report of it is still a repeat; once no sync tracks her
// the leave goes, and her next join starts once.
func TestTriggerPrunedHistory(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testTriggerPrunedHistory(t, "") })
	t.Run("postgres", func(t *testing.T) { testTriggerPrunedHistory(t, testenv.PostgresDSN(t)) })
}

func testTriggerPrunedHistory(t *testing.T, db string) {
	w := newTrigWorldOn(t, false, db)
	ctx := context.Background()
	other, procs := w.secondSyncAndMemberProcesses(t)
	count := func(step string, want map[string]int) {
		t.Helper()
		w.checkInstances(t, step, procs, want)
	}
	p := w.e.App.Processes
	prune := func(step string) (int, int) {
		t.Helper()
		p.Now = func() time.Time { return time.Now().Add(365 * 24 * time.Hour) } // all of it is old
		defer func() { p.Now = nil }()
		events, changes, err := p.Prune(ctx)
		if err != nil {
			t.Fatalf("%s: Prune: %v", step, err)
		}
		return events, changes
	}

	w.syncGroup(t, w.group) // baselines
	w.syncGroup(t, other.ID)
	ann := w.tenantUser(t, "ann", "Ann Hire", true)
	w.syncGroup(t, w.group)
	w.syncGroup(t, other.ID)
	count("a join", map[string]int{process.EventMemberAdded: 1, process.EventMemberRemoved: 0})

	// Ann leaves; only the first sync has run since.
	w.e.SimControl(t, "DELETE", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	w.syncGroup(t, w.group)
	count("a leave, first sync", map[string]int{process.EventMemberAdded: 1, process.EventMemberRemoved: 1})
	if events, changes := prune("while the second sync tracks Ann"); events != 2 || changes != 0 {
		t.Errorf("prune while the second sync tracks Ann = %d events, %d changes; want 2 (the started rows), 0 (her leave is kept)", events, changes)
	}
	w.syncGroup(t, other.ID)
	count("the second sync reports the leave late", map[string]int{process.EventMemberAdded: 1, process.EventMemberRemoved: 1})

	if _, changes := prune("no sync tracks Ann"); changes != 1 {
		t.Errorf("prune once no sync tracks Ann = %d changes, want 1 (her leave)", changes)
	}
	w.syncGroup(t, w.group)
	w.syncGroup(t, other.ID)
	count("runs after the pruning", map[string]int{process.EventMemberAdded: 1, process.EventMemberRemoved: 1})

	w.e.SimControl(t, "POST", "/_sim/groups/"+w.src+"/members/"+ann, nil)
	w.syncGroup(t, w.group)
	w.syncGroup(t, other.ID)
	count("a join after the pruning", map[string]int{process.EventMemberAdded: 2, process.EventMemberRemoved: 1})
	w.syncGroup(t, other.ID)
	w.syncGroup(t, w.group)
	count("runs after that join", map[string]int{process.EventMemberAdded: 2, process.EventMemberRemoved: 1})
}

// secondSyncAndMemberProcesses adds a second directory group syncing the
// world's tenant group (by its id, where the first names it), and one
// process on member.added and one on member.removed; it returns the new
// group's id and the processes' ids by event kind.
func (w *trigWorld) secondSyncAndMemberProcesses(t *testing.T) (other struct{ ID string }, procs map[string]string) {
	t.Helper()
	w.e.Admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "New hires (copy)"}, &other)
	w.e.Admin.In(t).Must(200, "PUT", "/api/v1/groups/"+other.ID+"/sync", map[string]any{
		"enabled": true, "datasource": w.ds, "sourceGroup": w.src, "missingUsers": "keep"}, nil)
	procs = map[string]string{}
	for _, ev := range []string{process.EventMemberAdded, process.EventMemberRemoved} {
		var p process.Process
		w.e.Admin.In(t).Must(201, "POST", "/api/v1/processes", welcome(ev), &p)
		procs[ev] = p.ID
	}
	return other, procs
}

// checkInstances starts what is pending and compares the number of
// instances of each process (by event kind) with want.
func (w *trigWorld) checkInstances(t *testing.T, step string, procs map[string]string, want map[string]int) {
	t.Helper()
	if _, err := w.e.App.Processes.StartPending(context.Background(), 0); err != nil {
		t.Fatalf("%s: StartPending: %v", step, err)
	}
	got := map[string]int{}
	for ev, id := range procs {
		got[ev] = len(w.instances(t, id))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: instances per event (-want +got):\n%s", step, diff)
	}
}
