package syncui

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/groupsync"
)

// TestDryLists: the group page shows a table per action a dry run would
// take — created, disabled, removed, taken out of the group — with the
// listed people and the action's whole count, and none for an action
// with no one (updates, kept and refused users are in the notice and the
// errors, not listed).
func TestDryLists(t *testing.T) {
	ann := groupsync.Change{Action: groupsync.ActionCreate, DisplayName: "Ann", Email: "ann@x"}
	bob := groupsync.Change{Action: groupsync.ActionLeaveGroup, DisplayName: "Bob", Email: "bob@x"}
	run := &groupsync.Run{
		Counts:  groupsync.Counts{Created: 1500, Updated: 3, LeftGroup: 1},
		Changes: []groupsync.Change{ann, {Action: groupsync.ActionUpdate, DisplayName: "Cy"}, bob, {Action: groupsync.ActionKeep, UserID: "u9"}},
	}
	want := []dryList{
		{Action: groupsync.ActionCreate, Title: "Would be created", Count: 1500, Changes: []groupsync.Change{ann}},
		{Action: groupsync.ActionLeaveGroup, Title: "Would be taken out of the group", Count: 1, Changes: []groupsync.Change{bob}},
	}
	if diff := cmp.Diff(want, dryLists(run)); diff != "" {
		t.Errorf("dryLists (-want +got):\n%s", diff)
	}
	if got := dryLists(&groupsync.Run{}); got != nil {
		t.Errorf("a dry run that changes nothing: %v, want no tables", got)
	}
}
