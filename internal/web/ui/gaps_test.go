package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
)

// TestEmptyGroupWords: a group without roles or members says so in words
// on the list and on its delete confirmation, rather than a blank cell or
// "Its 0 member(s) lose the roles it gives".
func TestEmptyGroupWords(t *testing.T) {
	f := newDirectoryFixture(t)
	g, err := f.e.Dir.CreateGroup(context.Background(), tenantlink.System, directory.GroupInput{Name: ptr("Empty"), Members: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	admin := f.e.mustSignIn(t, "admin@example.com")
	list := admin.get("/groups").Body
	row := list[strings.Index(list, ">Empty</a>"):]
	row = row[:strings.Index(row, "</tr>")]
	if want := `<td><span class="muted">none</span></td>
    <td><span class="muted">none</span></td>`; !strings.Contains(row, want) {
		t.Errorf("the empty group's row lacks %q for roles and members:\n%s", want, row)
	}
	del := admin.get("/groups/" + g.ID + "/delete").Body
	if !strings.Contains(del, "It has no members and gives no roles.") || strings.Contains(del, "0 member(s)") {
		t.Errorf("the empty group's delete confirmation:\n%s", del)
	}
	staff := admin.get("/groups/" + f.staff.ID + "/delete").Body
	if !strings.Contains(staff, "Its 2 member(s) lose the roles it gives (Design business process).") {
		t.Errorf("Staff's delete confirmation does not say what its members lose:\n%s", staff)
	}
}
