package groupsync

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecideMissing is the missing-users rule on its own: no store, no
// connector.
func TestDecideMissing(t *testing.T) {
	members := []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"}
	present := func(ids ...string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, tc := range []struct {
		name string
		in   missingInput
		want missingDecision
	}{
		{"keep changes no one", missingInput{Policy: MissingKeep, Members: members, Missing: []string{"u1"}, Threshold: 0.2},
			missingDecision{}},
		{"disable targets the missing", missingInput{Policy: MissingDisable, Members: members, Missing: []string{"u1"}, Threshold: 0.2},
			missingDecision{Targets: []string{"u1"}, Affected: 1}},
		{"a user another sync has is kept", missingInput{Policy: MissingRemove, Members: members, Missing: []string{"u1", "u2"},
			Elsewhere: []string{"u2"}, Threshold: 0.2},
			missingDecision{Targets: []string{"u1"}, Kept: []string{"u2"}, Affected: 1}},
		{"over the threshold stops", missingInput{Policy: MissingDisable, Members: members, Missing: []string{"u1", "u2", "u3"}, Threshold: 0.2},
			missingDecision{Targets: []string{"u1", "u2", "u3"}, Affected: 3, Stop: true}},
		{"confirmed, it does not", missingInput{Policy: MissingDisable, Members: members, Missing: []string{"u1", "u2", "u3"}, Threshold: 0.2, Confirm: true},
			missingDecision{Targets: []string{"u1", "u2", "u3"}, Affected: 3}},
		{"override takes everyone else out of the group", missingInput{Policy: MissingKeep, Override: true, Members: []string{"u1", "local", "u2"},
			Missing: []string{"u2"}, Present: present("u1"), Threshold: 1},
			missingDecision{Leavers: []string{"local", "u2"}, Affected: 2}},
		{"override with remove: the removed user does not also leave", missingInput{Policy: MissingRemove, Override: true,
			Members: []string{"u1", "local", "u2"}, Missing: []string{"u2"}, Present: present("u1"), Threshold: 1},
			missingDecision{Targets: []string{"u2"}, Leavers: []string{"local"}, Affected: 2}},
		{"an empty group never stops", missingInput{Policy: MissingDisable, Threshold: 0.2}, missingDecision{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, decideMissing(tc.in)); diff != "" {
				t.Errorf("decideMissing (-want +got):\n%s", diff)
			}
		})
	}
}
