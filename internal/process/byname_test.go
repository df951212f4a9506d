package process_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestDataSourceByName: a data source's name works in API paths
// (URL-escaped, any case) and in process definitions, where it is stored
// as the id; a list input given as one text with commas and semicolons
// reaches the operation as several users; and a user who may not use a
// data source gets the same answer for its name as for an unknown one.
func TestDataSourceByName(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso 365", readWrite)
	byName := "/api/v1/datasources/" + url.PathEscape("contoso 365")

	var got struct{ ID, Name string }
	e.Admin.In(t).Must(http.StatusOK, "GET", byName, nil, &got)
	if got.ID != ds.ID {
		t.Errorf("GET by name = %s, want %s", got.ID, ds.ID)
	}
	// A name with a slash and a percent sign, escaped as one path segment.
	odd := e.Admin.In(t).CreateDataSource("Fabrikam/EU 100%", nil)
	e.Admin.In(t).Must(http.StatusOK, "GET", "/api/v1/datasources/"+url.PathEscape("fabrikam/eu 100%"), nil, &got)
	if got.ID != odd.ID {
		t.Errorf("GET by a name with / and %%: %s, want %s", got.ID, odd.ID)
	}
	var plans struct{ Count int }
	e.Admin.In(t).Must(http.StatusOK, "POST", byName+"/operations/LicencePlanList", map[string]any{"inputs": map[string]any{}}, &plans)
	if plans.Count == 0 {
		t.Errorf("LicencePlanList by name: no plans")
	}

	domain := e.Facts.TenantDomain
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "ann.byname", "displayName": "Ann Byname"})
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "bob.byname", "displayName": "Bob Byname"})
	def := map[string]any{
		"name":   "By name",
		"fields": []map[string]any{{"name": "people", "type": "text"}},
		"rules": []map[string]any{{"title": "Create", "datasource": "CONTOSO 365", "operation": "CreateGroup",
			"inputs": map[string]any{"displayName": map[string]any{"text": "By Name, Inc."}, "members": map[string]any{"field": "people"}}}},
	}
	var p process.Process
	e.Admin.In(t).Must(http.StatusCreated, "POST", "/api/v1/processes", def, &p)
	if p.Rules[0].DataSource != ds.ID {
		t.Errorf("stored rule data source = %q, want the id %s", p.Rules[0].DataSource, ds.ID)
	}
	in := start(t, e.Admin, p.ID, map[string]any{"people": "ann.byname@" + domain + ", bob.byname@" + domain + ";"})
	if got, want := outcomes(in), []string{"succeeded"}; !cmp.Equal(got, want) {
		t.Fatalf("outcomes = %v, want %v (%+v)", got, want, in.Rules)
	}
	groups := groupsNamed(t, e, ds.ID, "By Name, Inc.")
	if len(groups) != 1 {
		t.Fatalf("groups named %q: %d, want 1 (a display name with a comma is not split)", "By Name, Inc.", len(groups))
	}
	// Adding both again finds them members already: the text became two users.
	var again struct{ Items []map[string]any }
	e.Admin.In(t).Must(http.StatusOK, "POST", byName+"/operations/AddUserToGroup",
		map[string]any{"inputs": map[string]any{"group": "By Name, Inc.", "user": "ann.byname@" + domain + "; bob.byname@" + domain}}, &again)
	var results []string
	for _, it := range again.Items {
		results = append(results, it["user"].(string)+": "+it["result"].(string))
	}
	if want := []string{"ann.byname@" + domain + ": already a member", "bob.byname@" + domain + ": already a member"}; !cmp.Equal(results, want) {
		t.Errorf("members = %v, want %v", results, want)
	}

	// Someone who is not a connection user: the name answers as an
	// unknown name does.
	insider, user := e.User(t), e.User(t)
	e.RestrictUsers(t, ds.ID, insider.UserID)
	hidden := user.In(t).Do("GET", byName, nil)
	unknown := user.In(t).Do("GET", "/api/v1/datasources/"+url.PathEscape("contoso 366"), nil)
	he, ue := hidden.APIError(t), unknown.APIError(t)
	ue.Message = strings.Replace(ue.Message, "contoso 366", "contoso 365", 1)
	if hidden.Status != unknown.Status || he != ue {
		t.Errorf("forbidden name answers %d %+v, unknown name %d %+v: want the same", hidden.Status, he, unknown.Status, ue)
	}
	if hidden.Status != http.StatusNotFound {
		t.Errorf("forbidden name: status %d, want 404", hidden.Status)
	}
}

// TestUnavailableMicrosoft: against a Microsoft that answers 503 to every
// Graph request, an operation returns the unavailable message, not
// throttling.
func TestUnavailableMicrosoft(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", nil)
	e.SimControl(t, "POST", "/_sim/faults", map[string]any{"path": "^/v1\\.0/", "status": 503, "count": 100000})
	r := e.Admin.In(t).Do("POST", "/api/v1/datasources/"+ds.ID+"/operations/UserList", map[string]any{"inputs": map[string]any{}})
	ae := r.APIError(t)
	want := "Microsoft 365 is unavailable right now (HTTP 503 from Microsoft Graph) — try again in a few minutes."
	if r.Status != http.StatusServiceUnavailable || ae.Code != "unavailable" || !strings.Contains(ae.Message, want) {
		t.Errorf("UserList against a 503 Microsoft: %d %+v, want 503 unavailable with %q", r.Status, ae, want)
	}
	if strings.Contains(ae.Message, "throttl") {
		t.Errorf("message %q blames throttling", ae.Message)
	}
}
