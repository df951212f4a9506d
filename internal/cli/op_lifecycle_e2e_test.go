package cli_test

import (
	"strings"
	"testing"
)

// TestOpNewOperations: the CLI offers the operations added after the
// first ten without knowing them (it reads the declarations), booleans as
// text included.
func TestOpNewOperations(t *testing.T) {
	e := startOpEnv(t, opEnvOptions{})
	t.Setenv("TENANTLINK_TOKEN", e.Token)
	code, list, stderr := runCLI(t, "op", e2eDSName, "--server", e.URL)
	if code != 0 {
		t.Fatalf("listing: exit %d: %s", code, stderr)
	}
	for _, name := range []string{"GetUser", "CreateUser", "DisableUser", "ListGroupMembers", "AssignLicenceToGroup"} {
		if !strings.Contains(list, name) {
			t.Errorf("the listing lacks %s:\n%s", name, list)
		}
	}
	upn := "cli.leaver@" + e.Facts.TenantDomain
	created := e.opJSON(t, "CreateUser", "userPrincipalName="+upn, "displayName=CLI Leaver", "accountEnabled=true")
	if len(created) != 1 || created[0]["result"] != "created" {
		t.Fatalf("CreateUser: %v", created)
	}
	for _, want := range []string{"disabled", "already disabled"} {
		items := e.opJSON(t, "DisableUser", "user="+upn)
		if len(items) != 1 || items[0]["result"] != want {
			t.Errorf("DisableUser: %v, want %s", items, want)
		}
	}
	groups := e.opJSON(t, "GroupList")
	gid := groups[0]["id"].(string)
	e.opJSON(t, "AddUserToGroup", "user="+upn, "group="+gid)
	got := e.opJSON(t, "ListUserGroups", "user="+upn, "transitive=true")
	if len(got) != 1 || got[0]["id"] != gid {
		t.Errorf("ListUserGroups: %v, want %s", got, gid)
	}
	check := e.opJSON(t, "CheckMembership", "user="+upn, "group="+gid)
	if len(check) != 1 || check[0]["member"] != true {
		t.Errorf("CheckMembership: %v, want member", check)
	}
}
