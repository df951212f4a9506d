package groupsync

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/store"
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

// TestPlanPage is what a page imports, on its own: members are imported,
// attribute-only changes only for members this sync tracks (once per dry
// run), partial changes completed from the user as imported, users
// without an email refused.
func TestPlanPage(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	user := func(obj, email, name string) connector.SourceUser {
		return connector.SourceUser{ObjectID: obj, Email: email, DisplayName: name, Enabled: true}
	}
	attr := func(su connector.SourceUser) connector.SourceUser { su.AttributesOnly = true; return su }
	partial := func(su connector.SourceUser, f connector.SourceFields) connector.SourceUser {
		su.Partial, su.Fields = true, f
		return su
	}
	imported := func(email, name string, upsert bool) planned { return planned{email, name, upsert} }
	for _, tc := range []struct {
		name        string
		in          pageInput
		want        []planned
		skipped     int
		errorsCount int
	}{
		{"members are imported, email lower-cased", pageInput{Users: []connector.SourceUser{user("o1", " Ann@Example.com ", "Ann"), user("o2", "bob@example.com", "Bob")}},
			[]planned{imported("ann@example.com", "Ann", true), imported("bob@example.com", "Bob", true)}, 0, 0},
		{"no email: skipped with an error", pageInput{Users: []connector.SourceUser{user("o1", "", "Ann")}}, nil, 1, 1},
		{"attribute-only, not tracked: ignored", pageInput{Users: []connector.SourceUser{attr(user("o1", "a@example.com", "Ann"))}}, nil, 0, 0},
		{"attribute-only, tracked: applied, not a member", pageInput{Users: []connector.SourceUser{attr(user("o1", "a@example.com", "Ann"))},
			Tracked: map[string]bool{"o1": true}}, []planned{imported("a@example.com", "Ann", false)}, 0, 0},
		{"attribute-only, tracked, already applied by this dry run: ignored", pageInput{Users: []connector.SourceUser{attr(user("o1", "a@example.com", "Ann"))},
			Tracked: map[string]bool{"o1": true}, DrySeen: map[string]string{"o1": "u1"}}, nil, 0, 0},
		{"attribute-only without email: an error, not skipped", pageInput{Users: []connector.SourceUser{attr(user("o1", "", "Ann"))},
			Tracked: map[string]bool{"o1": true}}, nil, 0, 1},
		{"partial: the rest as imported", pageInput{Users: []connector.SourceUser{partial(user("o1", "", "Ann Renamed"), connector.FieldDisplayName)},
			Prev: map[string]*tenantlink.User{"o1": {Email: "ann@example.com", DisplayName: "Ann", Active: true}}},
			[]planned{imported("ann@example.com", "Ann Renamed", true)}, 0, 0},
		{"partial, never imported, with email: a new user", pageInput{Users: []connector.SourceUser{partial(user("o1", "new@example.com", "New"), connector.FieldEmail|connector.FieldDisplayName)}},
			[]planned{imported("new@example.com", "New", true)}, 0, 0},
		{"partial, never imported, without email: an error", pageInput{Users: []connector.SourceUser{partial(user("o1", "", "Who"), connector.FieldDisplayName)}},
			nil, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.DataSource, tc.in.Tenant, tc.in.Now = "ds1", "tenant-1", now
			p := planPage(tc.in)
			var got []planned
			for i, u := range p.Upsert {
				if u.Source == nil || u.Source.DataSource != "ds1" || u.Source.Tenant != "tenant-1" || !u.CreatedAt.Equal(now) {
					t.Errorf("user %s: source %+v, created %v; want ds1, tenant-1, %v", u.Email, u.Source, u.CreatedAt, now)
				}
				got = append(got, planned{u.Email, u.DisplayName, p.Member[i]})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("planPage upserts (-want +got):\n%s", diff)
			}
			if p.Skipped != tc.skipped || len(p.Errors) != tc.errorsCount {
				t.Errorf("skipped %d, errors %q; want %d skipped, %d errors", p.Skipped, p.Errors, tc.skipped, tc.errorsCount)
			}
		})
	}
}

type planned struct {
	Email, Name string
	Member      bool
}

// TestTallyPage is what a page's upsert outcomes amount to.
func TestTallyPage(t *testing.T) {
	u := func(obj, email, name string) *tenantlink.User {
		return &tenantlink.User{Email: email, DisplayName: name, Source: &tenantlink.UserSource{ObjectID: obj}}
	}
	plan := pagePlan{
		Upsert: []*tenantlink.User{u("o1", "a@x", "Ann"), u("o2", "b@x", "Bob"), u("o3", "c@x", "Cat"), u("o4", "d@x", "Dan"), u("o5", "e@x", "Eve"), u("o6", "f@x", "Fay")},
		Member: []bool{true, true, true, true, true, false},
		Errors: []string{"planned error"}, Skipped: 1,
	}
	outs := []store.ImportOutcome{
		{ID: "u1", Outcome: store.ImportCreated},
		{ID: "u2", Outcome: store.ImportUpdated, Before: &tenantlink.User{Email: "b@x", DisplayName: "Robert"}},
		{ID: "u3", Outcome: store.ImportUnchanged},
		{ID: "u4", Outcome: store.ImportUnchanged}, // applied earlier in the round: not counted again
		{Outcome: store.ImportConflict, ConflictWith: "local1"},
		{ID: "u6", Outcome: store.ImportUpdated}, // attribute-only: counted, not marked
	}
	got := tallyPage(plan, outs, map[string]bool{"o4": true}, Counts{Created: 10})
	want := pageResult{
		Counts: Counts{Created: 11, Updated: 2, Unchanged: 1, Skipped: 2},
		Changes: []Change{
			{Action: ActionCreate, UserID: "u1", ObjectID: "o1", Email: "a@x", DisplayName: "Ann"},
			{Action: ActionUpdate, UserID: "u2", ObjectID: "o2", Email: "b@x", DisplayName: "Bob", Detail: `displayName "Robert" → "Bob"`},
			{Action: ActionSkip, ObjectID: "o5", Email: "e@x", DisplayName: "Eve", Detail: "email belongs to user local1"},
			{Action: ActionUpdate, UserID: "u6", ObjectID: "o6", Email: "f@x", DisplayName: "Fay"},
		},
		Marks: []store.SyncMember{{ObjectID: "o1", UserID: "u1"}, {ObjectID: "o2", UserID: "u2"}, {ObjectID: "o3", UserID: "u3"}, {ObjectID: "o4", UserID: "u4"}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(pageResult{}, "Errors")); diff != "" {
		t.Errorf("tallyPage (-want +got):\n%s", diff)
	}
	if len(got.Errors) != 2 || got.Errors[0] != "planned error" || !strings.Contains(got.Errors[1], "directory user local1") {
		t.Errorf("errors = %q, want the planned one then the conflict", got.Errors)
	}
}

// TestMissingChanges: the changes a missing-users decision makes, by
// policy.
func TestMissingChanges(t *testing.T) {
	d := missingDecision{Targets: []string{"t1"}, Leavers: []string{"l1"}, Kept: []string{"k1"}}
	keep := Change{Action: ActionKeep, UserID: "k1", Detail: "another group's sync still imports this user"}
	leave := Change{Action: ActionLeaveGroup, UserID: "l1"}
	for _, tc := range []struct {
		policy string
		want   []Change
	}{
		{MissingKeep, []Change{keep, leave}},
		{MissingDisable, []Change{keep, {Action: ActionDisable, UserID: "t1"}, leave}},
		{MissingRemove, []Change{keep, {Action: ActionRemove, UserID: "t1"}, leave}},
	} {
		if diff := cmp.Diff(tc.want, missingChanges(tc.policy, d)); diff != "" {
			t.Errorf("missingChanges(%s) (-want +got):\n%s", tc.policy, diff)
		}
	}
	if got := missingChanges(MissingDisable, missingDecision{}); got != nil {
		t.Errorf("nothing decided: %v, want no changes", got)
	}
}

// TestStopMessage: the safety threshold's message, real and dry.
func TestStopMessage(t *testing.T) {
	for _, tc := range []struct {
		affected, members int
		dry               bool
		want              string
	}{
		{3, 10, false, "Stopped for confirmation: this run would disable, remove or take out of the group 3 of the group's 10 members (30%, over the 20% safety threshold)."},
		{3, 10, true, "A real run would stop for confirmation: it would disable, remove or take out of the group 3 of the group's 10 members (30%, over the 20% safety threshold)."},
		{1, 0, false, "1 of the group's 0 members (100%, over the 20% safety threshold)."},
	} {
		if got := stopMessage(tc.affected, tc.members, 0.2, tc.dry); !strings.Contains(got, tc.want) {
			t.Errorf("stopMessage(%d, %d, dry %v) = %q, want it to contain %q", tc.affected, tc.members, tc.dry, got, tc.want)
		}
	}
}

// TestChangeList: a dry run lists, per action, the first MaxChanges by
// name, actions in a fixed order, whatever order the changes came in.
func TestChangeList(t *testing.T) {
	var l changeList
	if got := l.list(); got != nil {
		t.Errorf("empty list = %v, want nil", got)
	}
	n := 3*MaxChanges + 7
	for i := n - 1; i >= 0; i-- { // reverse order: the last given sort first
		l.add(Change{Action: ActionCreate, DisplayName: fmt.Sprintf("Person %05d", i), Email: fmt.Sprintf("p%05d@x", i)})
	}
	l.add(Change{Action: ActionLeaveGroup, UserID: "u2", DisplayName: "bea", Email: "b@x"},
		Change{Action: ActionDisable, UserID: "u3", DisplayName: "Zed", Email: "z@x"},
		Change{Action: ActionLeaveGroup, UserID: "u1", DisplayName: "Abe", Email: "a@x"},
		Change{Action: ActionLeaveGroup, UserID: "u0", DisplayName: "abe", Email: "0@x"})
	got := l.list()
	if len(got) != MaxChanges+4 {
		t.Fatalf("listed %d changes, want %d", len(got), MaxChanges+4)
	}
	for i, c := range got[:MaxChanges] {
		if want := fmt.Sprintf("Person %05d", i); c.Action != ActionCreate || c.DisplayName != want {
			t.Fatalf("change %d = %+v, want create %s", i, c, want)
		}
	}
	var rest []string
	for _, c := range got[MaxChanges:] {
		rest = append(rest, c.Action+" "+c.UserID)
	}
	if diff := cmp.Diff([]string{"disable u3", "leaveGroup u0", "leaveGroup u1", "leaveGroup u2"}, rest); diff != "" {
		t.Errorf("after the creations (-want +got):\n%s", diff)
	}
}

// TestTotalFor: the total shown never falls below what was read; unknown
// stays unknown.
func TestTotalFor(t *testing.T) {
	for _, tc := range []struct{ total, seen, want int }{
		{10, 3, 10}, {10, 10, 10}, {10, 12, 12}, {0, 5, 0},
	} {
		if got := totalFor(tc.total, tc.seen); got != tc.want {
			t.Errorf("totalFor(%d, %d) = %d, want %d", tc.total, tc.seen, got, tc.want)
		}
	}
}
