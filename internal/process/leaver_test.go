package process_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

func text(s string) process.Source { return process.Source{Text: &s} }

// leaver is a process built from the new operations: read the manager
// into a field, disable the account, remove it from its groups, remove its
// licences.
func leaver(dsID string) process.Definition {
	field := func(n string) process.Source { return process.Source{Field: n} }
	out := func(n string) process.Source { return process.Source{Output: n} }
	fail := map[string]process.Source{"status": {Error: true}}
	return process.Definition{
		Name: "Leaver",
		Fields: []process.Field{
			{Name: "email", Type: process.TypeText, Required: true},
			{Name: "manager", Type: process.TypeText, ReadOnly: true},
			{Name: "account", Type: process.TypeText, ReadOnly: true},
			{Name: "groupsLeft", Type: process.TypeNumber, ReadOnly: true},
			{Name: "licencesRemoved", Type: process.TypeNumber, ReadOnly: true},
			{Name: "status", Type: process.TypeText, ReadOnly: true},
		},
		Rules: []process.Rule{
			{Title: "Read the manager", DataSource: dsID, Operation: "GetManager",
				Inputs: map[string]process.Source{"user": field("email")}, Success: map[string]process.Source{"manager": out("userPrincipalName")}, Error: fail},
			{Title: "Disable the account", DataSource: dsID, Operation: "DisableUser",
				Inputs: map[string]process.Source{"user": field("email")}, Success: map[string]process.Source{"account": out("result")}, Error: fail},
			{Title: "Leave every group", DataSource: dsID, Operation: "RemoveUserFromAllGroups",
				Inputs: map[string]process.Source{"user": field("email")}, Success: map[string]process.Source{"groupsLeft": {Count: true}}, Error: fail},
			{Title: "Give the licences back", DataSource: dsID, Operation: "RemoveAllLicencesFromUser",
				Inputs: map[string]process.Source{"user": field("email")},
				Success: map[string]process.Source{"licencesRemoved": {Count: true},
					"status": text("{{email}} left; manager {{manager}} informed.")}, Error: fail},
		},
	}
}

// TestLeaverProcess runs the leaver end to end through the API, then
// checks Microsoft 365 through the operations, then runs it again.
func TestLeaverProcess(t *testing.T) {
	e := testenv.New(t, testenv.Options{Users: 8, Groups: 2})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	admin := e.Admin.In(t)
	op := func(name string, in map[string]any) []map[string]any {
		t.Helper()
		var out struct{ Items []map[string]any }
		admin.Must(200, "POST", "/api/v1/datasources/"+ds+"/operations/"+name, map[string]any{"inputs": in}, &out)
		return out.Items
	}
	domain := e.Facts.TenantDomain
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "boss", "displayName": "The Boss"})
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "leaver", "displayName": "Lee Ver", "usageLocation": "IE"})
	email := "leaver@" + domain
	op("UpdateUser", map[string]any{"user": email, "manager": "boss@" + domain})
	op("CreateGroup", map[string]any{"displayName": "Leaver Team A", "members": email})
	op("CreateGroup", map[string]any{"displayName": "Leaver Team B", "members": email})
	op("AssignLicenceToUser", map[string]any{"user": email, "licence": "ENTERPRISEPACK"})

	var def process.Process
	admin.Must(201, "POST", "/api/v1/processes", leaver(ds), &def)
	first := start(t, admin, def.ID, map[string]any{"email": email})
	if got, want := outcomes(first), []string{"succeeded", "succeeded", "succeeded", "succeeded"}; !cmp.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v (%+v)", got, want, first.Rules)
	}
	want := map[string]any{"email": email, "manager": "boss@" + domain, "account": "disabled",
		"groupsLeft": float64(2), "licencesRemoved": float64(1), "status": email + " left; manager boss@" + domain + " informed."}
	if diff := cmp.Diff(want, first.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}

	u := op("GetUser", map[string]any{"user": email})[0]
	if u["accountEnabled"] != false || u["licences"] != "" || u["managerUserPrincipalName"] != "boss@"+domain {
		t.Errorf("after the leaver: %v; want disabled, no licences, the manager kept", u)
	}
	if groups := op("ListUserGroups", map[string]any{"user": email, "transitive": true}); len(groups) != 0 {
		t.Errorf("still in %v", groups)
	}

	second := start(t, admin, def.ID, map[string]any{"email": email})
	if got, want := outcomes(second), []string{"succeeded", "succeeded", "succeeded", "succeeded"}; !cmp.Equal(got, want) {
		t.Fatalf("second run outcomes %v, want %v (%+v)", got, want, second.Rules)
	}
	if second.Fields["account"] != "already disabled" || second.Fields["groupsLeft"] != float64(0) || second.Fields["licencesRemoved"] != float64(0) {
		t.Errorf("second run fields %v: want already disabled, 0 groups, 0 licences", second.Fields)
	}
}
