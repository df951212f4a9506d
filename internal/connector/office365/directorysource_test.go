package office365

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

func usersPage(prefix string, n int) []connector.SourceUser {
	out := make([]connector.SourceUser, n)
	for i := range out {
		out[i] = connector.SourceUser{ObjectID: fmt.Sprintf("%s%d", prefix, i)}
	}
	return out
}

func ids(us []connector.SourceUser) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ObjectID
	}
	return out
}

// TestMergeWaiting: pages already waiting are merged in order, never past
// a page with removals (a removal must follow the users before it and
// precede those after it) and never much past mergeUpTo users; nothing
// waits for a page that has not arrived.
func TestMergeWaiting(t *testing.T) {
	big := mergeUpTo - 10
	tests := []struct {
		name        string
		first       pageMsg
		waiting     []pageMsg
		wantUsers   []string
		wantRemoved []string
		wantLeft    int
	}{
		{"nothing waiting", pageMsg{users: usersPage("a", 2)}, nil, []string{"a0", "a1"}, nil, 0},
		{"all merged", pageMsg{users: usersPage("a", 2)}, []pageMsg{{users: usersPage("b", 1)}, {users: usersPage("c", 1)}},
			[]string{"a0", "a1", "b0", "c0"}, nil, 0},
		{"first has removals", pageMsg{users: usersPage("a", 1), removed: []string{"x"}}, []pageMsg{{users: usersPage("b", 1)}},
			[]string{"a0"}, []string{"x"}, 1},
		{"stops after a page with removals", pageMsg{users: usersPage("a", 1)},
			[]pageMsg{{users: usersPage("b", 1), removed: []string{"x"}}, {users: usersPage("c", 1)}},
			[]string{"a0", "b0"}, []string{"x"}, 1},
		{"stops at the cap", pageMsg{users: usersPage("a", big)}, []pageMsg{{users: usersPage("b", 20)}, {users: usersPage("c", 1)}},
			append(ids(usersPage("a", big)), ids(usersPage("b", 20))...), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := make(chan pageMsg, len(tt.waiting))
			for _, m := range tt.waiting {
				ch <- m
			}
			got := mergeWaiting(tt.first, ch)
			if diff := cmp.Diff(tt.wantUsers, ids(got.users)); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRemoved, got.removed); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if got, want := len(ch), tt.wantLeft; got != want {
				t.Errorf("pages left waiting = %d, want %d", got, want)
			}
		})
	}
}

// TestFromDelta maps minimal users/delta answers: a property carried
// (null included) is a changed field, one left out is kept; the email is
// taken only when the answer shows it, else the user is read in full.
func TestFromDelta(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		want     connector.SourceUser
		wantRead bool // read in full instead
	}{
		{"display name only", `{"id":"u","displayName":"Ann B"}`,
			connector.SourceUser{ObjectID: "u", DisplayName: "Ann B", Partial: true, Fields: connector.FieldDisplayName}, false},
		{"job title cleared", `{"id":"u","jobTitle":null}`,
			connector.SourceUser{ObjectID: "u", Partial: true, Fields: connector.FieldJobTitle}, false},
		{"disabled", `{"id":"u","accountEnabled":false}`,
			connector.SourceUser{ObjectID: "u", Partial: true, Fields: connector.FieldEnabled}, false},
		{"mail set", `{"id":"u","mail":"ann@contoso.com"}`,
			connector.SourceUser{ObjectID: "u", Email: "ann@contoso.com", Partial: true, Fields: connector.FieldEmail}, false},
		{"mail cleared with the UPN", `{"id":"u","mail":null,"userPrincipalName":"ann@contoso.onmicrosoft.com"}`,
			connector.SourceUser{ObjectID: "u", Email: "ann@contoso.onmicrosoft.com", Partial: true, Fields: connector.FieldEmail}, false},
		{"a new user with mail, some fields never set", `{"id":"u","userPrincipalName":"new@contoso.onmicrosoft.com","mail":"new@contoso.com","displayName":"New","accountEnabled":true}`,
			connector.SourceUser{ObjectID: "u", Email: "new@contoso.com", DisplayName: "New", Enabled: true, Partial: true,
				Fields: connector.FieldEmail | connector.FieldDisplayName | connector.FieldEnabled}, false},
		{"every field: a whole change", `{"id":"u","userPrincipalName":"a@x","mail":null,"displayName":"A","givenName":null,"surname":"S","jobTitle":"J","department":"D","accountEnabled":false}`,
			connector.SourceUser{ObjectID: "u", Email: "a@x", DisplayName: "A", Surname: "S", JobTitle: "J", Department: "D"}, false},
		{"mail cleared alone", `{"id":"u","mail":null}`, connector.SourceUser{}, true},
		{"UPN changed alone", `{"id":"u","userPrincipalName":"ann2@contoso.onmicrosoft.com"}`, connector.SourceUser{}, true},
		{"nothing but the id", `{"id":"u"}`, connector.SourceUser{ObjectID: "u", Partial: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var u graph.DeltaUser
			if err := json.Unmarshal([]byte(tc.answer), &u); err != nil {
				t.Fatal(err)
			}
			got, ok := fromDelta(&u, false)
			if ok == tc.wantRead {
				t.Fatalf("ok = %v, want %v (read in full: %v)", ok, !tc.wantRead, tc.wantRead)
			}
			if ok {
				if diff := cmp.Diff(got, tc.want); diff != "" {
					t.Errorf("change (-got +want):\n%s", diff)
				}
			}
		})
	}
}
