package groupsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
)

// outboxSink writes each event as a process_events row of one process, in
// the run's transaction, so what it holds is what committed. failKind
// makes the next Emit carrying that kind fail once (after writing, so the
// rollback is what keeps the rows out).
type outboxSink struct {
	process  string
	watched  int
	failKind string
}

func (s *outboxSink) Watching(ctx context.Context, st store.Store, ds string) (bool, error) {
	s.watched++
	return true, nil
}

func (s *outboxSink) Emit(ctx context.Context, tx store.Store, events []groupsync.Event) error {
	var rows []*store.ProcessEvent
	fail := false
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		rows = append(rows, &store.ProcessEvent{ProcessID: s.process, Key: e.Key(), Event: b})
		fail = fail || (s.failKind != "" && e.Kind == s.failKind)
	}
	if _, err := tx.AddProcessEvents(ctx, rows); err != nil {
		return err
	}
	if fail {
		s.failKind = ""
		return errors.New("sink failed")
	}
	return nil
}

// committed lists the committed events as "kind user-local-part", sorted.
func (s *outboxSink) committed(t *testing.T, e *env) []string {
	t.Helper()
	rows, err := e.st.PendingProcessEvents(context.Background(), 1000)
	must(t, err)
	out := []string{}
	for _, r := range rows {
		var ev groupsync.Event
		must(t, json.Unmarshal(r.Event, &ev))
		if ev.DataSource != e.ds.ID || ev.ObjectID == "" || ev.RunID == "" || ev.At.IsZero() {
			t.Errorf("event %+v lacks its data source, object, run or time", ev)
		}
		// A run that reports events follows a succeeded one (the baseline
		// at least), which started before it.
		if ev.RunStarted.IsZero() || ev.PrevRunStarted.IsZero() || !ev.PrevRunStarted.Before(ev.RunStarted) {
			t.Errorf("event %s of %s: run started %v, previous succeeded run %v; want both, the previous first", ev.Kind, ev.Email, ev.RunStarted, ev.PrevRunStarted)
		}
		out = append(out, ev.Kind+" "+strings.SplitN(ev.Email, "@", 2)[0])
	}
	slices.Sort(out)
	return out
}

func newSinkEnv(t *testing.T, dsn string) (*env, *outboxSink) {
	t.Helper()
	e := newEnv(t, dsn, m365sim.Options{Users: 2, Groups: 1})
	p := &store.Process{Name: "Sink", Definition: []byte(`{"name":"Sink"}`)}
	must(t, e.st.CreateProcess(context.Background(), p))
	sink := &outboxSink{process: p.ID}
	e.svc.Events = sink
	return e, sink
}

// TestEvents: a sync reports each applied change once — members that
// joined or left the source group, users it created and users that became
// inactive — and its first run (the baseline), dry runs and replays
// report nothing more.
func TestEvents(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e, sink := newSinkEnv(t, b.dsn(t))
			a := e.simUser(t, upn(e, "ann"), "Ann")
			bob := e.simUser(t, upn(e, "bob"), "Bob")
			src := e.simGroup(t, "New hires", []string{a, bob})
			g := e.syncedGroup(t, "New hires", "New hires", false, groupsync.MissingDisable)

			if r := e.run(t, g, groupsync.RunOptions{}); r.Status != store.RunSucceeded || r.Counts.Created != 2 {
				t.Fatalf("baseline run = %s %+v %q", r.Status, r.Counts, r.Errors)
			}
			if got := sink.committed(t, e); len(got) != 0 || sink.watched != 0 {
				t.Fatalf("baseline run reported %q (watching asked %d times), want nothing", got, sink.watched)
			}

			// Cara is new in the tenant and joins; Ann leaves (disabled by
			// the policy); Bob is disabled in the tenant.
			cara := e.simUser(t, upn(e, "cara"), "Cara")
			e.control(t, "POST", "/_sim/groups/"+src+"/members/"+cara, nil, nil)
			e.control(t, "DELETE", "/_sim/groups/"+src+"/members/"+a, nil, nil)
			e.control(t, "PATCH", "/_sim/users/"+bob, map[string]any{"accountEnabled": false}, nil)

			// A dry run reports nothing.
			if r := e.run(t, g, groupsync.RunOptions{DryRun: true}); r.Status != store.RunSucceeded {
				t.Fatalf("dry run = %s %q", r.Status, r.Errors)
			}
			if got := sink.committed(t, e); len(got) != 0 {
				t.Fatalf("dry run reported %q, want nothing", got)
			}

			// The first real run fails in its final phase: its pages'
			// events committed, the final phase's rolled back, the cursor
			// stayed. The next run replays the same changes.
			sink.failKind = tenantlink.EventMemberRemoved
			if r := e.run(t, g, groupsync.RunOptions{Confirm: true}); r.Status != store.RunFailed {
				t.Fatalf("failing run = %s %q, want failed", r.Status, r.Errors)
			}
			if r := e.run(t, g, groupsync.RunOptions{Confirm: true}); r.Status != store.RunSucceeded {
				t.Fatalf("replaying run = %s %q", r.Status, r.Errors)
			}
			// And a third run, with nothing new, reports nothing.
			if r := e.run(t, g, groupsync.RunOptions{}); r.Status != store.RunSucceeded {
				t.Fatalf("quiet run = %s %q", r.Status, r.Errors)
			}
			want := []string{"member.added cara", "member.removed ann", "user.created cara", "user.disabled ann", "user.disabled bob"}
			if diff := cmp.Diff(want, sink.committed(t, e)); diff != "" {
				t.Errorf("committed events (-want +got):\n%s", diff)
			}
		})
	}
}
