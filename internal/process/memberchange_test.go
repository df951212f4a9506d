package process

import (
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/store"
)

// TestNewChange: which member reports are a new change rather than a
// second report of the stored one.
func TestNewChange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	joined := &store.MemberChange{Kind: EventMemberAdded, ChangedAt: min(10), RunID: "g1run"}
	for _, tc := range []struct {
		name string
		e    Event
		want bool
	}{
		{"a second sync's join, its previous run before the stored join", Event{Kind: EventMemberAdded, RunID: "g2run", RunStarted: min(11), PrevRunStarted: min(5)}, false},
		{"a second sync's join while the first applied it", Event{Kind: EventMemberAdded, RunID: "g2run", RunStarted: min(9), PrevRunStarted: min(5)}, false},
		{"a join the sync saw out after the stored join (a leave nobody reported)", Event{Kind: EventMemberAdded, RunID: "g3run", RunStarted: min(30), PrevRunStarted: min(20)}, true},
		{"a join of the sync's first run after the baseline: no previous run known", Event{Kind: EventMemberAdded, RunID: "g3run", RunStarted: min(30)}, false},
		{"the same run's join again", Event{Kind: EventMemberAdded, RunID: "g1run", RunStarted: min(9), PrevRunStarted: min(20)}, false},
		{"a leave read after the join", Event{Kind: EventMemberRemoved, RunID: "g1run2", RunStarted: min(15), PrevRunStarted: min(9)}, true},
		{"a leave by a run that started before the join was applied (may be older)", Event{Kind: EventMemberRemoved, RunID: "g2run", RunStarted: min(8), PrevRunStarted: min(1)}, false},
		{"a leave by the run that applied the join (a later page removed the user)", Event{Kind: EventMemberRemoved, RunID: "g1run", RunStarted: min(9), PrevRunStarted: min(1)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newChange(joined, &tc.e); got != tc.want {
				t.Errorf("newChange = %v, want %v", got, tc.want)
			}
		})
	}
}
