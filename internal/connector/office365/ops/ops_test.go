package ops

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestOperationsGolden(t *testing.T) {
	got, err := json.MarshalIndent(Operations(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "operations.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Operations() differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestOperationsMatchProduct(t *testing.T) {
	// docs/SPEC.md §12's path names, in section 5's order, and which
	// of them write.
	want := []struct {
		name, label string
		write       bool
	}{
		{"UserList", "User List", false}, {"GroupList", "Group List", false},
		{"FindUsers", "Find Users", false}, {"FindGroups", "Find Groups", false},
		{"CreateGroup", "Create Group", true}, {"AddUserToGroup", "Add User to Group", true},
		{"RemoveUserFromGroup", "Remove User From Group", true}, {"LicencePlanList", "Licence Plan List", false},
		{"AssignLicenceToUser", "Assign Licence to User", true}, {"RemoveLicenceFromUser", "Remove Licence from User", true},
	}
	ops := Operations()
	if len(ops) != len(want)+len(newOps) {
		t.Fatalf("got %d operations, want %d (the ten, then lifecycle_test.go's newOps)", len(ops), len(want)+len(newOps))
	}
	for i, w := range want {
		if ops[i].Name != w.name || ops[i].Label != w.label || ops[i].Write != w.write {
			t.Errorf("operation %d: got %s %q write=%v, want %s %q write=%v", i, ops[i].Name, ops[i].Label, ops[i].Write, w.name, w.label, w.write)
		}
	}
	ops[0].Inputs[0].Name = "changed"
	if got := Operations()[0].Inputs[0].Name; got != "maxRows" {
		t.Errorf("Operations() shares its slices: got input %q after a caller's change, want maxRows", got)
	}
}

func TestInputValidation(t *testing.T) {
	tn := startTenant(t, tenantOpts{users: 5, groups: 1})
	tests := []struct {
		name      string
		op        string
		readWrite bool
		in        map[string]any
		code      string
		fragments []string
	}{
		{"unknown operation", "DeleteTenant", true, nil, tenantlink.ENOTFOUND, []string{`"DeleteTenant"`, "UserList"}},
		{"unknown input", "UserList", false, map[string]any{"top": 5}, tenantlink.EINVALID, []string{`"top"`, "maxRows"}},
		{"input of an operation without inputs", "LicencePlanList", false, map[string]any{"x": 1}, tenantlink.EINVALID, []string{"takes no inputs"}},
		{"maxRows zero", "UserList", false, map[string]any{"maxRows": 0.0}, tenantlink.EINVALID, []string{"maxRows", "1 to 100000"}},
		{"maxRows too large", "GroupList", false, map[string]any{"maxRows": 100001.0}, tenantlink.EINVALID, []string{"maxRows"}},
		{"maxRows fraction", "UserList", false, map[string]any{"maxRows": 1.5}, tenantlink.EINVALID, []string{"1.5"}},
		{"maxRows text", "UserList", false, map[string]any{"maxRows": "ten"}, tenantlink.EINVALID, []string{`"ten"`}},
		{"maxRows boolean", "UserList", false, map[string]any{"maxRows": true}, tenantlink.EINVALID, []string{"maxRows"}},
		{"missing query", "FindUsers", false, map[string]any{"field": "mail"}, tenantlink.EINVALID, []string{`"query"`}},
		{"blank query", "FindGroups", false, map[string]any{"query": "  "}, tenantlink.EINVALID, []string{`"query"`}},
		{"query not text", "FindUsers", false, map[string]any{"query": 5.0}, tenantlink.EINVALID, []string{"must be text"}},
		{"unknown field", "FindUsers", false, map[string]any{"query": "a", "field": "password"}, tenantlink.EINVALID,
			[]string{`"field"`, "displayName, mail, userPrincipalName"}},
		{"group field on users", "FindUsers", false, map[string]any{"query": "a", "field": "mailNickname"}, tenantlink.EINVALID, []string{`"field"`}},
		{"unknown match", "FindGroups", false, map[string]any{"query": "a", "match": "regex"}, tenantlink.EINVALID,
			[]string{"startsWith, equals, contains", `"regex"`}},
		{"contains on mail", "FindUsers", false, map[string]any{"query": "a", "field": "mail", "match": "contains"}, tenantlink.EINVALID,
			[]string{"cannot look inside mail", "displayName"}},
		{"unknown group type", "CreateGroup", true, map[string]any{"displayName": "x", "groupType": "dynamic"}, tenantlink.EINVALID,
			[]string{"security, microsoft365"}},
		{"unknown visibility", "CreateGroup", true, map[string]any{"displayName": "x", "visibility": "secret"}, tenantlink.EINVALID,
			[]string{"Public, Private, HiddenMembership"}},
		{"hidden security group", "CreateGroup", true, map[string]any{"displayName": "x", "visibility": "hiddenmembership"}, tenantlink.EINVALID,
			[]string{"Microsoft 365 groups only"}},
		{"bad nickname", "CreateGroup", true, map[string]any{"displayName": "x", "mailNickname": "a b"}, tenantlink.EINVALID, []string{"mailNickname"}},
		{"missing display name", "CreateGroup", true, map[string]any{"groupType": "security"}, tenantlink.EINVALID, []string{`"displayName"`}},
		{"user list with a number", "AddUserToGroup", true, map[string]any{"user": []any{"a@b.c", 3.0}, "group": "g"}, tenantlink.EINVALID,
			[]string{"item 2"}},
		{"user an object", "AddUserToGroup", true, map[string]any{"user": map[string]any{}, "group": "g"}, tenantlink.EINVALID, []string{`"user"`}},
		{"empty user list", "RemoveUserFromGroup", true, map[string]any{"user": []any{}, "group": "g"}, tenantlink.EINVALID, []string{`"user"`}},
		{"missing group", "AddUserToGroup", true, map[string]any{"user": "a@b.c"}, tenantlink.EINVALID, []string{`"group"`}},
		{"missing licence", "AssignLicenceToUser", true, map[string]any{"user": "a@b.c"}, tenantlink.EINVALID, []string{`"licence"`}},
		{"bad usage location", "AssignLicenceToUser", true, map[string]any{"user": "a@b.c", "licence": "x", "usageLocation": "IRL"},
			tenantlink.EINVALID, []string{"two-letter"}},
		{"write while read-only", "CreateGroup", false, map[string]any{"displayName": "x"}, tenantlink.EFORBIDDEN,
			[]string{"Create Group is a write operation: turn on Read and write users & groups for this data source and re-authorize."}},
		{"add while read-only", "AddUserToGroup", false, map[string]any{"user": "a@b.c", "group": "g"}, tenantlink.EFORBIDDEN,
			[]string{"Add User to Group is a write operation"}},
		{"licence while read-only", "AssignLicenceToUser", false, map[string]any{"user": "a@b.c", "licence": "E3"}, tenantlink.EFORBIDDEN,
			[]string{"Assign Licence to User is a write operation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tn.sim.Stats().Requests
			items, err := Run(context.Background(), tn.env(tt.readWrite), tt.op, tt.in)
			wantCode(t, err, tt.code, tt.fragments...)
			if len(items) != 0 {
				t.Errorf("got %d items, want none", len(items))
			}
			if got := tn.sim.Stats().Requests - before; got != 0 {
				t.Errorf("got %d Graph requests, want none before the inputs are valid", got)
			}
		})
	}
}

func TestInputsAccepted(t *testing.T) {
	op, _ := lookup(FindUsers)
	tests := []struct {
		name string
		raw  map[string]any
		want inputs
	}{
		{"JSON number and canonical enums", map[string]any{"query": " Zoë ", "field": "MAIL", "match": "equals", "maxRows": 10.0},
			inputs{str: map[string]string{"query": "Zoë", "field": "mail", "match": "equals"}, ints: map[string]int{"maxRows": 10}, lists: map[string][]string{}}},
		{"integer as text, null as absent", map[string]any{"query": "a", "maxRows": "25", "field": nil},
			inputs{str: map[string]string{"query": "a"}, ints: map[string]int{"maxRows": 25}, lists: map[string][]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInputs(op.Operation, tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(inputs{})); diff != "" {
				t.Errorf("parseInputs (-want +got):\n%s", diff)
			}
		})
	}
	add, _ := lookup(AddUserToGroup)
	lists := []struct {
		raw  any
		want []string
	}{
		{"a@x.com", []string{"a@x.com"}},
		{"a@x.com; b@x.com,c@x.com\nd@x.com", []string{"a@x.com", "b@x.com", "c@x.com", "d@x.com"}},
		{[]any{" a@x.com ", "", "b@x.com"}, []string{"a@x.com", "b@x.com"}},
		{[]string{"a@x.com"}, []string{"a@x.com"}},
	}
	for _, l := range lists {
		got, err := parseInputs(add.Operation, map[string]any{"user": l.raw, "group": "g"})
		if err != nil {
			t.Fatalf("user %#v: %v", l.raw, err)
		}
		if diff := cmp.Diff(l.want, got.lists["user"]); diff != "" {
			t.Errorf("user %#v (-want +got):\n%s", l.raw, diff)
		}
	}
}

func TestNicknames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sales Team", "SalesTeam"},
		{"Zoë's Team (Sales)", "Zoe'sTeamSales"},
		{"Straße & Søn: R&D.", "Strasse&SonR&D"},
		{"営業", "group"},
		{"a-b_c", "a-b_c"},
		{string(make([]byte, 0)) + "x" + string(bytesOf('y', 80)), "x" + string(bytesOf('y', 63))},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := deriveNickname(tt.in)
			if got != tt.want {
				t.Errorf("deriveNickname(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !validNickname(got) {
				t.Errorf("deriveNickname(%q) = %q, which validNickname refuses", tt.in, got)
			}
		})
	}
	long := withSuffix(string(bytesOf('n', 64)))
	if len(long) != 64 || long[59] != '-' {
		t.Errorf("withSuffix of a 64-character nickname = %q (%d characters), want 64 ending in -xxxx", long, len(long))
	}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestQuoting(t *testing.T) {
	tests := []struct{ got, want string }{
		{quote("O'Brien"), "'O''Brien'"},
		{quote("''"), "''''''"},
		{quote("x') or (1 eq 1"), "'x'') or (1 eq 1'"},
		{searchPhrase("displayName", `say "hi" \o/`), `"displayName:say \"hi\" \\o/"`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
