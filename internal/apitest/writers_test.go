package apitest

import (
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// simGroup creates a group in the simulated tenant and returns its id.
func simGroup(t *testing.T, e *env, name string) string {
	t.Helper()
	var g struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": name}), &g); err != nil || g.ID == "" {
		t.Fatalf("create simulated group %s: %v", name, err)
	}
	return g.ID
}

// TestOrdinaryUserCannotWrite is the incident: with single sign-on any
// employee is a signed-in User, and a data source with blank security
// lists and Read and write on let her change the tenant with the
// administrator's grant. Reads stay open to her; writes need a grant.
func TestOrdinaryUserCannotWrite(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.SignIn(t, adminEmail, password)
	ds := e.AuthorizedDataSource(admin, "Contoso", map[string]any{"readWrite": true})
	it := simGroup(t, e, "IT")
	user := e.User(t)
	base := "/api/v1/datasources/" + ds.ID + "/operations/"

	user.Must(200, "POST", base+"UserList", map[string]any{"inputs": map[string]any{"maxRows": 1}}, nil)
	for _, op := range []struct {
		name   string
		inputs map[string]any
	}{
		{"AddUserToGroup", map[string]any{"user": e.Facts.MemberUser, "group": it}},
		{"AssignLicenceToUser", map[string]any{"user": e.Facts.MemberUser, "licence": "Microsoft 365 E5", "usageLocation": "IE"}},
	} {
		r := user.Do("POST", base+op.name, map[string]any{"inputs": op.inputs})
		if r.Status != 403 {
			t.Errorf("%s as an ordinary User = %s, want 403", op.name, r)
			continue
		}
		if got := r.APIError(t); got.Code != "forbidden" || !strings.Contains(got.Message, "Connection writer") {
			t.Errorf("%s as an ordinary User = %s, want 403 naming Connection writer rights", op.name, r)
		}
	}
}

// writerColumns are the callers of the connection-writer matrix: the four
// roles, and two ordinary Users listed as connection writers, one
// directly and one through a group.
var writerColumns = []string{"User", "Administrator", "Manage datasources", "Design business process", "listed writer", "writer via group"}

// writerMatrix is, per Security setting (W: Connection writers, A:
// Connection administrators, U: Connection users; + listed, - blank),
// whether each column may run write operations. Listed writers are the
// two writer columns; the listed administrator is a Manage datasources
// holder who is no column; the listed users are a group of one ordinary
// User who is no column. Administrators always administer, but writing
// also needs using: a listed Connection users list shuts them out too.
var writerMatrix = map[string]string{
	//       User  Admin Manage Design writer wgroup
	"W- A- U-": "no   yes   yes    no     no     no",
	"W+ A- U-": "no   yes   yes    no     yes    yes",
	"W- A+ U-": "no   yes   no     no     no     no",
	"W+ A+ U-": "no   yes   no     no     yes    yes",
	"W- A- U+": "no   no    no     no     no     no",
	"W+ A- U+": "no   no    no     no     yes    yes",
	"W- A+ U+": "no   no    no     no     no     no",
	"W+ A+ U+": "no   no    no     no     yes    yes",
}

// writeOperations are the write operations the Office 365 connector
// declares; the matrix checks that the list is complete.
var writeOperations = []string{"CreateGroup", "AddUserToGroup", "RemoveUserFromGroup", "AssignLicenceToUser", "RemoveLicenceFromUser",
	"CreateUser", "UpdateUser", "DisableUser", "EnableUser", "DeleteUser", "RestoreUser", "UpdateGroup", "DeleteGroup",
	"RestoreGroup", "AssignLicenceToGroup", "RemoveLicenceFromGroup", "RemoveUserFromAllGroups", "RemoveAllLicencesFromUser"}

// TestConnectionWriterMatrix runs every write operation as every column
// on a data source of every Security setting, through the API (session
// and token), the operations panel's POST handler and a process. Allowed
// operations are sent without their required inputs, so that the
// operation's own 400 shows the access check passed without changing the
// tenant; refusals are 403s naming Connection writer rights.
func TestConnectionWriterMatrix(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.SignIn(t, adminEmail, password).NewToken()
	roles := map[string][]string{
		"User": {"User"}, "Administrator": {"User", "Administrator"}, "Manage datasources": {"User", "Manage datasources"},
		"Design business process": {"User", "Design business process"}, "listed writer": {"User"}, "writer via group": {"User"},
		"cadmin": {"User", "Manage datasources"}, "reader": {"User"},
	}
	ids, callers := map[string]string{}, map[string]*client{}
	for i, col := range append(slices.Clone(writerColumns), "cadmin", "reader") {
		email := fmt.Sprintf("writer%d@tenantlink.test", i)
		var u struct{ ID string }
		admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": email, "password": password, "roles": roles[col]}, &u)
		ids[col] = u.ID
		callers[col] = e.SignIn(t, email, password)
	}
	var writers, readers struct{ ID string }
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Writers", "members": []string{ids["writer via group"]}}, &writers)
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Readers", "members": []string{ids["reader"]}}, &readers)

	var declared struct {
		Value []struct {
			Name  string
			Write bool
		}
	}
	sources := map[string]dataSource{}
	for _, setting := range slices.Sorted(maps.Keys(writerMatrix)) {
		ds := e.AuthorizedDataSource(admin.In(t), setting, map[string]any{"readWrite": true})
		sec := map[string][]string{"admins": {}, "users": {}, "writers": {}}
		if strings.Contains(setting, "W+") {
			sec["writers"] = []string{ids["listed writer"], writers.ID}
		}
		if strings.Contains(setting, "A+") {
			sec["admins"] = []string{ids["cadmin"]}
		}
		if strings.Contains(setting, "U+") {
			sec["users"] = []string{readers.ID}
		}
		var got map[string][]string
		admin.Must(200, "PUT", "/api/v1/datasources/"+ds.ID+"/security", sec, &got)
		if diff := cmp.Diff(sec["writers"], got["writers"], cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Fatalf("stored writers (-want +got):\n%s", diff)
		}
		sources[setting] = ds
	}
	admin.Must(200, "GET", "/api/v1/datasources/"+sources["W- A- U-"].ID+"/operations", nil, &declared)
	var declaredWrites []string
	for _, op := range declared.Value {
		if op.Write {
			declaredWrites = append(declaredWrites, op.Name)
		}
	}
	if diff := cmp.Diff(writeOperations, declaredWrites); diff != "" {
		t.Fatalf("declared write operations (-matrix +declared):\n%s", diff)
	}

	for setting, row := range writerMatrix {
		ds := sources[setting]
		want := strings.Fields(row)
		for i, col := range writerColumns {
			allowed := want[i] == "yes"
			// A caller who may not see the data source at all is told it
			// is not found (decision 0023), not why they may not write.
			visible := callers[col].In(t).Do("GET", "/api/v1/datasources/"+ds.ID, nil).Status == 200
			for _, op := range writeOperations {
				t.Run(fmt.Sprintf("%s/%s/%s", setting, col, op), func(t *testing.T) {
					for _, via := range []string{"session", "token"} {
						c := callers[col].In(t)
						if via == "token" {
							c = c.NewToken()
						}
						r := c.Do("POST", "/api/v1/datasources/"+ds.ID+"/operations/"+op, map[string]any{"inputs": map[string]any{}})
						switch {
						case allowed && (r.Status != 400 || !strings.Contains(r.ErrorMessage(), "needs the input")):
							t.Errorf("API (%s) = %s, want the operation's 400 for missing inputs", via, r)
						case !allowed && !visible && (r.Status != 404 || r.APIError(t).Code != "not_found"):
							t.Errorf("API (%s) = %s, want 404: the caller may not see the data source", via, r)
						case !allowed && visible && (r.Status != 403 || r.APIError(t).Code != "forbidden" || !strings.Contains(r.ErrorMessage(), "Connection writer rights")):
							t.Errorf("API (%s) = %s, want 403 naming Connection writer rights", via, r)
						}
					}
					r := callers[col].In(t).Do("POST", "/datasources/"+ds.ID+"/operations", url.Values{"op": {op}})
					body := html.UnescapeString(string(r.Body))
					switch {
					case allowed && (r.Status != 400 || !strings.Contains(body, "needs the input")):
						t.Errorf("panel POST = %d, want the operation's 400 for missing inputs; body:\n%s", r.Status, body)
					case !allowed && !visible && r.Status != 404:
						t.Errorf("panel POST = %d, want 404: the caller may not see the data source; body:\n%s", r.Status, body)
					case !allowed && visible && (r.Status != 403 || !strings.Contains(body, "Connection writer rights")):
						t.Errorf("panel POST = %d, want 403 naming Connection writer rights; body:\n%s", r.Status, body)
					}
				})
			}
		}
	}

	// Processes: only designers save them, so the process columns hold
	// Design business process besides their own role (the User column
	// stays a plain User, whom saving refuses). A process saved by someone
	// who may write runs its write for the ordinary reader; one whose
	// editor may not write is refused at save.
	for _, col := range []string{"Manage datasources", "listed writer", "writer via group"} {
		admin.Must(200, "PATCH", "/api/v1/users/"+ids[col], map[string]any{"roles": append(slices.Clone(roles[col]), "Design business process")}, nil)
	}
	group := simGroup(t, e, "Onboarded")
	for setting, row := range writerMatrix {
		ds := sources[setting]
		want := strings.Fields(row)
		for i, col := range writerColumns {
			t.Run(fmt.Sprintf("process/%s/%s", setting, col), func(t *testing.T) {
				def := writeProcess(fmt.Sprintf("%s by %s", setting, col), ds.ID, group)
				r := callers[col].In(t).Do("POST", "/api/v1/processes", def)
				switch {
				case col == "User":
					if r.Status != 403 || !strings.Contains(r.ErrorMessage(), needDesign) {
						t.Errorf("save = %s, want 403 naming the design role", r)
					}
					return
				case want[i] == "no" && callers[col].In(t).Do("GET", "/api/v1/datasources/"+ds.ID, nil).Status == 404:
					// A data source the designer may not see is not there
					// for them (decision 0023).
					if msg := r.ErrorMessage(); r.Status != 400 || !strings.Contains(msg, "there is no data source") {
						t.Errorf("save = %s, want 400: no data source the designer may see", r)
					}
					return
				case want[i] == "no":
					if msg := r.ErrorMessage(); r.Status != 403 || !strings.Contains(msg, "Connection writer rights") && !strings.Contains(msg, needUser) {
						t.Errorf("save = %s, want 403 naming Connection writer rights (or connection user)", r)
					}
					return
				case r.Status != 201:
					t.Fatalf("save = %s, want 201", r)
				}
				var p struct{ ID string }
				r.Decode(t, &p)
				var in process.Instance
				callers["reader"].In(t).Must(201, "POST", "/api/v1/processes/"+p.ID+"/instances",
					map[string]any{"fields": map[string]any{"email": e.Facts.MemberUser}}, &in)
				if in.Status != "succeeded" || len(in.Rules) != 1 || in.Rules[0].Outcome != "succeeded" {
					t.Errorf("instance started by an ordinary connection user = %+v, want the write to succeed", in)
				}
			})
		}
	}

	t.Run("the reader cannot make the same change herself", func(t *testing.T) {
		r := callers["reader"].In(t).Do("POST", "/api/v1/datasources/"+sources["W+ A- U+"].ID+"/operations/AddUserToGroup",
			map[string]any{"inputs": map[string]any{"user": e.Facts.MemberUser, "group": group}})
		if r.Status != 403 || !strings.Contains(r.ErrorMessage(), "Connection writer rights") {
			t.Errorf("direct write by the reader = %s, want 403 naming Connection writer rights", r)
		}
	})

	t.Run("an editor who loses the grant: the write rule fails at run", func(t *testing.T) {
		ds := sources["W+ A- U-"]
		var p struct{ ID string }
		callers["listed writer"].In(t).Must(201, "POST", "/api/v1/processes", writeProcess("Loses the grant", ds.ID, group), &p)
		admin.Must(200, "PUT", "/api/v1/datasources/"+ds.ID+"/security", map[string][]string{"admins": {}, "users": {}, "writers": {writers.ID}}, nil)
		var in process.Instance
		callers["reader"].In(t).Must(201, "POST", "/api/v1/processes/"+p.ID+"/instances",
			map[string]any{"fields": map[string]any{"email": e.Facts.MemberUser}}, &in)
		if in.Status != "failed" || len(in.Rules) != 1 || in.Rules[0].Outcome != "failed" {
			t.Fatalf("instance = %+v, want the write rule failed", in)
		}
		for _, want := range []string{"the last editor of process \"Loses the grant\"", "may no longer change Microsoft 365", "Connection writer rights", "save the process again"} {
			if !strings.Contains(in.Rules[0].Message, want) {
				t.Errorf("rule message = %q, want it to contain %q", in.Rules[0].Message, want)
			}
		}
		// Listing the editor again (through the group) makes it run.
		admin.Must(200, "PATCH", "/api/v1/groups/"+writers.ID, map[string]any{"members": []string{ids["writer via group"], ids["listed writer"]}}, nil)
		callers["reader"].In(t).Must(201, "POST", "/api/v1/processes/"+p.ID+"/instances",
			map[string]any{"fields": map[string]any{"email": e.Facts.MemberUser}}, &in)
		if in.Status != "succeeded" {
			t.Errorf("instance after listing the editor again = %+v, want succeeded", in)
		}
	})
}

// writeProcess is a one-rule process adding the user in field email to
// the simulated group groupID through data source dsID.
func writeProcess(name, dsID, groupID string) map[string]any {
	return map[string]any{"name": name,
		"fields": []any{map[string]any{"name": "email", "type": "text"}},
		"rules": []any{map[string]any{"title": "Add to the group", "datasource": dsID, "operation": "AddUserToGroup",
			"inputs": map[string]any{"user": map[string]any{"field": "email"}, "group": map[string]any{"text": groupID}}}}}
}
