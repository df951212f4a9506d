package process_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// readWrite are the settings of the data sources processes write to.
var readWrite = map[string]any{"readWrite": true}

func outcomes(in process.Instance) []string {
	out := make([]string, len(in.Rules))
	for i, o := range in.Rules {
		out[i] = o.Outcome
	}
	return out
}

func start(tb testing.TB, c *testenv.Client, processID string, fields map[string]any) process.Instance {
	tb.Helper()
	var in process.Instance
	c.In(tb).Must(201, "POST", "/api/v1/processes/"+processID+"/instances", map[string]any{"fields": fields}, &in)
	return in
}

// groupsNamed runs Find Groups as the administrator, to see the tenant.
func groupsNamed(tb testing.TB, e *testenv.Env, dsID, name string) []map[string]any {
	tb.Helper()
	var out struct{ Items []map[string]any }
	e.Admin.In(tb).Must(200, "POST", "/api/v1/datasources/"+dsID+"/operations/FindGroups",
		map[string]any{"inputs": map[string]any{"query": name, "match": "equals"}}, &out)
	return out.Items
}

func onboarding(tb testing.TB, e *testenv.Env, dsID string) string {
	tb.Helper()
	if err := process.SeedDemo(context.Background(), e.App.Processes, tenantlink.System, dsID); err != nil {
		tb.Fatalf("SeedDemo: %v", err)
	}
	var list struct{ Value []process.Process }
	e.Admin.In(tb).Must(200, "GET", "/api/v1/processes", nil, &list)
	for _, p := range list.Value {
		if p.Name == process.OnboardingName {
			return p.ID
		}
	}
	tb.Fatalf("no %q process after SeedDemo: %+v", process.OnboardingName, list.Value)
	return ""
}

func TestEmployeeOnboarding(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	pid := onboarding(t, e, ds)
	t.Run("SeedDemo twice keeps one process", func(t *testing.T) {
		onboarding(t, e, ds)
		var list struct{ Value []process.Process }
		e.Admin.In(t).Must(200, "GET", "/api/v1/processes", nil, &list)
		if len(list.Value) != 1 {
			t.Errorf("processes after a second SeedDemo = %d, want 1", len(list.Value))
		}
	})
	// A new hire without a usage location: the licence rule must set it.
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "new.hire", "displayName": "New Hire"})
	email := "new.hire@" + e.Facts.TenantDomain
	caller := e.User(t) // a plain User: any signed-in connection user may start it
	fields := map[string]any{"email": email, "department": "Onboarding Test", "licence": "ENTERPRISEPACK", "usageLocation": "IE"}

	if got := groupsNamed(t, e, ds, "Onboarding Test"); len(got) != 0 {
		t.Fatalf("the group exists before onboarding: %v", got)
	}
	first := start(t, caller, pid, fields)
	if got, want := outcomes(first), []string{"succeeded", "succeeded", "succeeded", "succeeded"}; !cmp.Equal(got, want) {
		t.Fatalf("first run outcomes = %v, want %v (%+v)", got, want, first.Rules)
	}
	groups := groupsNamed(t, e, ds, "Onboarding Test")
	if len(groups) != 1 {
		t.Fatalf("groups named Onboarding Test after the first run = %v, want one", groups)
	}
	wantFields := map[string]any{
		"email": email, "department": "Onboarding Test", "licence": "ENTERPRISEPACK", "usageLocation": "IE",
		"groupId": groups[0]["id"], "membership": "added", "licenceResult": "assigned",
		"status": email + ": added in Onboarding Test, licence ENTERPRISEPACK assigned.",
	}
	if diff := cmp.Diff(wantFields, first.Fields); diff != "" {
		t.Errorf("first run fields (-want +got):\n%s", diff)
	}
	if first.Status != process.StatusSucceeded || first.StartedBy != caller.UserID || first.FinishedAt == nil {
		t.Errorf("first run = status %q, started by %q, finished %v; want succeeded by %s, finished", first.Status, first.StartedBy, first.FinishedAt, caller.UserID)
	}
	if first.Rules[0].Items != 0 || first.Rules[1].Items != 1 {
		t.Errorf("items = %d, %d; want 0 groups found, 1 created", first.Rules[0].Items, first.Rules[1].Items)
	}

	t.Run("stored as answered", func(t *testing.T) {
		var got process.Instance
		caller.In(t).Must(200, "GET", "/api/v1/instances/"+first.ID, nil, &got)
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("GET /api/v1/instances/{id} (-answered +stored):\n%s", diff)
		}
	})

	t.Run("second run finds the group and changes nothing", func(t *testing.T) {
		second := start(t, caller, pid, fields)
		if got, want := outcomes(second), []string{"succeeded", "skipped", "succeeded", "succeeded"}; !cmp.Equal(got, want) {
			t.Fatalf("second run outcomes = %v, want %v (%+v)", got, want, second.Rules)
		}
		for name, want := range map[string]any{"groupId": groups[0]["id"], "membership": "already a member", "licenceResult": "already assigned"} {
			if got := second.Fields[name]; got != want {
				t.Errorf("second run %s = %v, want %v", name, got, want)
			}
		}
		if got := groupsNamed(t, e, ds, "Onboarding Test"); len(got) != 1 {
			t.Errorf("groups named Onboarding Test after the second run = %d, want still 1", len(got))
		}
	})
}

func TestErrorMapping(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	pid := onboarding(t, e, ds)
	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "no.location", "displayName": "No Location"})
	domain := e.Facts.TenantDomain
	for _, tc := range []struct {
		name       string
		fields     map[string]any
		want       []string
		wantStatus string // words the status field must hold
		failed     int    // index of the failed rule
	}{
		{"unknown user stops before the licence",
			map[string]any{"email": "nobody@" + domain, "department": "Errors A", "licence": "ENTERPRISEPACK"},
			[]string{"succeeded", "succeeded", "failed", "not run"}, "nobody@" + domain, 2},
		{"no usage location",
			map[string]any{"email": "no.location@" + domain, "department": "Errors B", "licence": "ENTERPRISEPACK", "usageLocation": ""},
			[]string{"succeeded", "succeeded", "succeeded", "failed"}, "usage location", 3},
		{"unknown licence",
			map[string]any{"email": "no.location@" + domain, "department": "Errors B", "licence": "NO_SUCH_SKU"},
			[]string{"succeeded", "skipped", "succeeded", "failed"}, "NO_SUCH_SKU", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, e.Admin, pid, tc.fields)
			if got := outcomes(in); !cmp.Equal(got, tc.want) {
				t.Fatalf("outcomes = %v, want %v (%+v)", got, tc.want, in.Rules)
			}
			msg := in.Rules[tc.failed].Message
			if msg == "" || in.Fields["status"] != msg {
				t.Errorf("status field = %q, want the failed rule's message %q", in.Fields["status"], msg)
			}
			if !strings.Contains(msg, tc.wantStatus) {
				t.Errorf("message %q does not mention %q", msg, tc.wantStatus)
			}
			if in.Status != process.StatusFailed {
				t.Errorf("instance status = %q, want failed", in.Status)
			}
		})
	}

	t.Run("stopOnError false carries on", func(t *testing.T) {
		no := false
		def := map[string]any{
			"name":   "Carry on",
			"fields": []map[string]any{{"name": "status", "type": "text"}, {"name": "after", "type": "text"}},
			"rules": []map[string]any{
				{"title": "Fails", "datasource": ds, "operation": "AddUserToGroup", "stopOnError": no,
					"inputs": map[string]any{"user": map[string]any{"text": "nobody@" + domain}, "group": map[string]any{"text": "no such group"}},
					"error":  map[string]any{"status": map[string]any{"text": "failed: continuing"}}},
				{"title": "Runs anyway", "datasource": ds, "operation": "LicencePlanList",
					"success": map[string]any{"after": map[string]any{"text": "ran after {{status}}"}}},
			},
		}
		var p process.Process
		e.Admin.In(t).Must(201, "POST", "/api/v1/processes", def, &p)
		in := start(t, e.Admin, p.ID, nil)
		if got, want := outcomes(in), []string{"failed", "succeeded"}; !cmp.Equal(got, want) {
			t.Fatalf("outcomes = %v, want %v", got, want)
		}
		if diff := cmp.Diff(map[string]any{"status": "failed: continuing", "after": "ran after failed: continuing"}, in.Fields); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
		if in.Status != process.StatusFailed {
			t.Errorf("status = %q, want failed (a rule failed)", in.Status)
		}
	})
}

func TestConditions(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	rule := func(title string, cond any) map[string]any {
		r := map[string]any{"title": title, "datasource": ds, "operation": "LicencePlanList",
			"success": map[string]any{"count": map[string]any{"count": true}}}
		if cond != nil {
			r["conditions"] = cond
		}
		return r
	}
	c := func(field, op string, value any) map[string]any {
		m := map[string]any{"field": field, "operator": op}
		if value != nil {
			m["value"] = value
		}
		return m
	}
	def := map[string]any{
		"name": "Conditions",
		"fields": []map[string]any{{"name": "a", "type": "text"}, {"name": "n", "type": "number"}, {"name": "m", "type": "number", "default": 10},
			{"name": "flag", "type": "boolean"}, {"name": "when", "type": "date"}, {"name": "count", "type": "number"}},
		"rules": []map[string]any{
			rule("and", map[string]any{"groups": []any{map[string]any{"conditions": []any{c("a", "equals", "X"), c("n", "greaterThan", 5)}}}}),
			rule("or", map[string]any{"groups": []any{map[string]any{"join": "or", "conditions": []any{c("a", "startsWith", "y"), c("flag", "equals", true)}}}}),
			rule("groups or", map[string]any{"join": "or", "groups": []any{
				map[string]any{"conditions": []any{c("a", "isEmpty", nil)}},
				map[string]any{"conditions": []any{c("n", "lessThan", map[string]any{"field": "m"}), c("when", "greaterThan", "2026-01-01")}}}}),
			rule("no conditions", nil),
			// Sees what the rule before it wrote: LicencePlanList's count of SKUs.
			rule("after a write", map[string]any{"groups": []any{map[string]any{"conditions": []any{c("count", "greaterThan", "0"), c("a", "notEquals", "stop")}}}}),
		},
	}
	var p process.Process
	e.Admin.In(t).Must(201, "POST", "/api/v1/processes", def, &p)
	for _, tc := range []struct {
		name   string
		fields map[string]any
		want   []string
	}{
		{"all hold", map[string]any{"a": "x", "n": 6, "flag": true, "when": "2026-02-01"},
			[]string{"succeeded", "succeeded", "succeeded", "succeeded", "succeeded"}},
		{"empty fields", map[string]any{},
			[]string{"skipped", "skipped", "succeeded", "succeeded", "succeeded"}},
		{"and needs both", map[string]any{"a": "x", "n": 5},
			[]string{"skipped", "skipped", "skipped", "succeeded", "succeeded"}},
		{"or needs one", map[string]any{"a": "yes", "n": "4", "when": "2026-03-01"},
			[]string{"skipped", "succeeded", "succeeded", "succeeded", "succeeded"}},
		{"second group needs both", map[string]any{"a": "stop", "n": 4, "when": "2025-12-31"},
			[]string{"skipped", "skipped", "skipped", "succeeded", "skipped"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, e.Admin, p.ID, tc.fields)
			if got := outcomes(in); !cmp.Equal(got, tc.want) {
				t.Errorf("outcomes = %v, want %v", got, tc.want)
			}
			if in.Status != process.StatusSucceeded {
				t.Errorf("status = %q, want succeeded (skipped rules are not failures)", in.Status)
			}
		})
	}
}

func TestNotAConnectionUser(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	open := e.AuthorizedDataSource(e.Admin.In(t), "Open", readWrite).ID
	restricted := e.AuthorizedDataSource(e.Admin.In(t), "Restricted", readWrite).ID
	allowed := e.User(t)
	stranger := e.User(t)
	e.RestrictUsers(t, restricted, allowed.UserID)
	def := map[string]any{
		"name":   "Two sources",
		"fields": []map[string]any{{"name": "name", "type": "text", "required": true}, {"name": "id", "type": "text"}},
		"rules": []map[string]any{
			{"title": "Create on the open one", "datasource": open, "operation": "CreateGroup",
				"inputs": map[string]any{"displayName": map[string]any{"field": "name"}}, "success": map[string]any{"id": map[string]any{"output": "id"}}},
			{"title": "Read the restricted one", "datasource": restricted, "operation": "LicencePlanList"},
		},
	}
	var p process.Process
	e.Admin.In(t).Must(201, "POST", "/api/v1/processes", def, &p)

	r := stranger.In(t).Do("POST", "/api/v1/processes/"+p.ID+"/instances", map[string]any{"fields": map[string]any{"name": "Should Not Exist"}})
	if r.Status != 403 || !strings.Contains(r.ErrorMessage(), "not a connection user") || !strings.Contains(r.ErrorMessage(), "Restricted") {
		t.Fatalf("start as a stranger = %s, want 403 naming the data source", r)
	}
	if got := groupsNamed(t, e, open, "Should Not Exist"); len(got) != 0 {
		t.Errorf("the first rule ran before the refusal: %v", got)
	}
	var list struct{ Value []process.Instance }
	e.Admin.In(t).Must(200, "GET", "/api/v1/processes/"+p.ID+"/instances", nil, &list)
	if len(list.Value) != 0 {
		t.Errorf("instances after the refusal = %d, want none stored", len(list.Value))
	}

	in := start(t, allowed, p.ID, map[string]any{"name": "Allowed Group"})
	if got, want := outcomes(in), []string{"succeeded", "succeeded"}; !cmp.Equal(got, want) {
		t.Errorf("outcomes for a connection user = %v, want %v", got, want)
	}
	t.Run("instances are private to their starter and designers", func(t *testing.T) {
		// Not theirs to see: not found, as an unknown id (decision 0023).
		if r := stranger.In(t).Do("GET", "/api/v1/instances/"+in.ID, nil); r.Status != 404 {
			t.Errorf("another user reads the instance: %s, want 404", r)
		}
		designer := e.User(t, "User", "Design business process")
		designer.In(t).Must(200, "GET", "/api/v1/instances/"+in.ID, nil, nil)
		var mine struct{ Value []process.Instance }
		stranger.In(t).Must(200, "GET", "/api/v1/processes/"+p.ID+"/instances", nil, &mine)
		if len(mine.Value) != 0 {
			t.Errorf("a stranger lists %d instances, want only their own (none)", len(mine.Value))
		}
	})
}

// TestValidation saves definitions with one mistake each and checks the
// 400 names it and nothing is stored.
func TestValidation(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	designer := e.User(t, "User", "Design business process")
	// The base definition writes: its designer needs Connection writer rights.
	e.Admin.In(t).Must(200, "PUT", "/api/v1/datasources/"+ds+"/security",
		map[string]any{"admins": []string{}, "users": []string{}, "writers": []string{designer.UserID}}, nil)
	base := func() map[string]any {
		return map[string]any{
			"name": "Valid",
			"fields": []any{
				map[string]any{"name": "email", "type": "text"},
				map[string]any{"name": "n", "type": "number"},
				map[string]any{"name": "rows", "type": "table", "columns": []any{map[string]any{"name": "id"}}},
			},
			"rules": []any{map[string]any{"title": "Add", "datasource": ds, "operation": "AddUserToGroup",
				"inputs":  map[string]any{"user": map[string]any{"field": "email"}, "group": map[string]any{"text": "Sales"}},
				"success": map[string]any{"email": map[string]any{"output": "result"}},
				"error":   map[string]any{"email": map[string]any{"error": true}}}},
		}
	}
	rule := func(d map[string]any) map[string]any { return d["rules"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name   string
		change func(d map[string]any)
		want   string
	}{
		{"no name", func(d map[string]any) { d["name"] = " " }, "name is required"},
		{"bad field name", func(d map[string]any) {
			d["fields"] = append(d["fields"].([]any), map[string]any{"name": "1st", "type": "text"})
		}, `not "1st"`},
		{"duplicate field", func(d map[string]any) {
			d["fields"] = append(d["fields"].([]any), map[string]any{"name": "email", "type": "text"})
		}, "defined twice"},
		{"unknown type", func(d map[string]any) {
			d["fields"] = append(d["fields"].([]any), map[string]any{"name": "x", "type": "colour"})
		}, `not "colour"`},
		{"required and read-only", func(d map[string]any) {
			d["fields"] = append(d["fields"].([]any), map[string]any{"name": "r", "type": "text", "required": true, "readOnly": true})
		}, "cannot be required"},
		{"table without columns", func(d map[string]any) {
			d["fields"] = append(d["fields"].([]any), map[string]any{"name": "t", "type": "table"})
		}, "needs columns"},
		{"bad default", func(d map[string]any) {
			d["fields"] = append(d["fields"].([]any), map[string]any{"name": "d", "type": "date", "default": "tomorrow"})
		}, "must be a date"},
		{"unknown data source", func(d map[string]any) { rule(d)["datasource"] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" }, "there is no data source"},
		{"unknown operation", func(d map[string]any) { rule(d)["operation"] = "Explode" }, `no operation "Explode"`},
		{"unknown input", func(d map[string]any) { rule(d)["inputs"].(map[string]any)["colour"] = map[string]any{"text": "red"} }, `no input "colour"`},
		{"required input missing", func(d map[string]any) { delete(rule(d)["inputs"].(map[string]any), "group") }, `needs the input "group"`},
		{"input from unknown field", func(d map[string]any) { rule(d)["inputs"].(map[string]any)["user"] = map[string]any{"field": "mail"} }, `no field "mail"`},
		{"placeholder of unknown field", func(d map[string]any) {
			rule(d)["inputs"].(map[string]any)["group"] = map[string]any{"text": "{{dept}} team"}
		}, "{{dept}} names no field"},
		{"table without column", func(d map[string]any) { rule(d)["inputs"].(map[string]any)["user"] = map[string]any{"field": "rows"} }, "name one of its columns"},
		{"two sources at once", func(d map[string]any) {
			rule(d)["inputs"].(map[string]any)["group"] = map[string]any{"text": "x", "field": "email"}
		}, "exactly one of"},
		{"unknown output", func(d map[string]any) {
			rule(d)["success"].(map[string]any)["email"] = map[string]any{"output": "colour"}
		}, `no output "colour"`},
		{"output into a table", func(d map[string]any) {
			rule(d)["success"].(map[string]any)["rows"] = map[string]any{"output": "userId"}
		}, "is a table"},
		{"bad rows mode", func(d map[string]any) { rule(d)["success"].(map[string]any)["rows"] = map[string]any{"rows": "merge"} }, `not "merge"`},
		{"success into unknown field", func(d map[string]any) {
			rule(d)["success"].(map[string]any)["nope"] = map[string]any{"output": "result"}
		}, `no field "nope"`},
		{"error source not allowed", func(d map[string]any) {
			rule(d)["error"].(map[string]any)["email"] = map[string]any{"output": "result"}
		}, `"output" is not allowed here`},
		{"error into a number", func(d map[string]any) { rule(d)["error"].(map[string]any)["n"] = map[string]any{"error": true} }, "error messages go into text fields"},
		{"bad operator", func(d map[string]any) {
			rule(d)["conditions"] = map[string]any{"groups": []any{map[string]any{"conditions": []any{map[string]any{"field": "email", "operator": "like", "value": "x"}}}}}
		}, `not "like"`},
		{"condition on unknown field", func(d map[string]any) {
			rule(d)["conditions"] = map[string]any{"groups": []any{map[string]any{"conditions": []any{map[string]any{"field": "mail", "operator": "isEmpty"}}}}}
		}, `no field "mail"`},
		{"value missing", func(d map[string]any) {
			rule(d)["conditions"] = map[string]any{"groups": []any{map[string]any{"conditions": []any{map[string]any{"field": "email", "operator": "equals"}}}}}
		}, "equals needs a value"},
		{"bad join", func(d map[string]any) {
			rule(d)["conditions"] = map[string]any{"join": "xor", "groups": []any{map[string]any{"conditions": []any{map[string]any{"field": "email", "operator": "isEmpty"}}}}}
		}, `not "xor"`},
		{"empty group", func(d map[string]any) {
			rule(d)["conditions"] = map[string]any{"groups": []any{map[string]any{"conditions": []any{}}}}
		}, "at least one condition"},
		{"value refers to unknown field", func(d map[string]any) {
			rule(d)["conditions"] = map[string]any{"groups": []any{map[string]any{"conditions": []any{map[string]any{"field": "n", "operator": "lessThan", "value": map[string]any{"field": "max"}}}}}}
		}, `value: there is no field "max"`},
		{"unknown member", func(d map[string]any) { rule(d)["then"] = "jump" }, `unknown field "then"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.change(d)
			r := designer.In(t).Do("POST", "/api/v1/processes", d)
			if r.Status != 400 || !strings.Contains(r.ErrorMessage(), tc.want) {
				t.Errorf("POST = %s, want 400 containing %q", r, tc.want)
			}
		})
	}
	var list struct{ Value []process.Process }
	designer.In(t).Must(200, "GET", "/api/v1/processes", nil, &list)
	if len(list.Value) != 0 {
		t.Fatalf("processes after refused definitions = %d, want none", len(list.Value))
	}
	t.Run("the base is valid", func(t *testing.T) {
		designer.In(t).Must(201, "POST", "/api/v1/processes", base(), nil)
	})
	t.Run("every problem at once", func(t *testing.T) {
		d := base()
		d["name"] = ""
		rule(d)["operation"] = "Explode"
		r := designer.In(t).Do("POST", "/api/v1/processes", d)
		if msg := r.ErrorMessage(); r.Status != 400 || !strings.Contains(msg, "2 problems") {
			t.Errorf("POST = %s, want 400 listing 2 problems", r)
		}
	})
	t.Run("a user who may not design", func(t *testing.T) {
		r := e.User(t).In(t).Do("POST", "/api/v1/processes", base())
		if r.Status != 403 || !strings.Contains(r.ErrorMessage(), "Design business process") {
			t.Errorf("POST as a User = %s, want 403 naming the role", r)
		}
	})
}

func TestBadInput(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	def := map[string]any{
		"name": "Inputs",
		"fields": []any{
			map[string]any{"name": "email", "type": "text", "required": true},
			map[string]any{"name": "n", "type": "number"},
			map[string]any{"name": "when", "type": "date"},
			map[string]any{"name": "ok", "type": "boolean"},
			map[string]any{"name": "plan", "type": "list", "options": []any{"E3", "E5"}},
			map[string]any{"name": "rows", "type": "table", "columns": []any{map[string]any{"name": "id"}, map[string]any{"name": "size", "type": "number"}}},
			map[string]any{"name": "out", "type": "text", "readOnly": true},
		},
		"rules": []any{map[string]any{"title": "Read", "datasource": ds, "operation": "LicencePlanList"}},
	}
	var p process.Process
	e.Admin.In(t).Must(201, "POST", "/api/v1/processes", def, &p)
	ok := map[string]any{"email": "a@b.c"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{"email": "a@b.c"}
		m[k] = v
		return m
	}
	path := "/api/v1/processes/" + p.ID + "/instances"
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{"malformed JSON", "POST", path, `{"fields":`, 400, "malformed JSON"},
		{"unknown body member", "POST", path, map[string]any{"field": ok}, 400, `unknown field "field"`},
		{"fields not an object", "POST", path, map[string]any{"fields": []any{}}, 400, `"fields" must be`},
		{"unknown field", "POST", path, map[string]any{"fields": with("colour", "red")}, 400, `no field "colour"`},
		{"required missing", "POST", path, map[string]any{"fields": map[string]any{"n": 1}}, 400, `"email" (email) is required`},
		{"text as number", "POST", path, map[string]any{"fields": with("email", 5)}, 400, "must be text"},
		{"number as words", "POST", path, map[string]any{"fields": with("n", "five")}, 400, "must be a number"},
		{"bad date", "POST", path, map[string]any{"fields": with("when", "31/12/2026")}, 400, "YYYY-MM-DD"},
		{"bad boolean", "POST", path, map[string]any{"fields": with("ok", "maybe")}, 400, "true or false"},
		{"not an option", "POST", path, map[string]any{"fields": with("plan", "E1")}, 400, "one of E3, E5"},
		{"table not a list", "POST", path, map[string]any{"fields": with("rows", "x")}, 400, "array of rows"},
		{"table unknown column", "POST", path, map[string]any{"fields": with("rows", []any{map[string]any{"colour": "red"}})}, 400, `no column "colour"`},
		{"read-only field", "POST", path, map[string]any{"fields": with("out", "x")}, 400, "read-only"},
		{"table cell type", "POST", path, map[string]any{"fields": with("rows", []any{map[string]any{"size": "big"}})}, 400, "must be a number"},
		{"unknown process", "POST", "/api/v1/processes/nope/instances", map[string]any{"fields": ok}, 404, "not found"},
		{"definition malformed", "POST", "/api/v1/processes", `{"name":`, 400, "malformed JSON"},
		{"definition wrong type", "POST", "/api/v1/processes", map[string]any{"name": "X", "fields": "email"}, 400, `"fields" must be`},
		{"definition duplicate name", "POST", "/api/v1/processes", map[string]any{"name": "INPUTS", "fields": []any{}, "rules": []any{}}, 409, "already exists"},
		{"put invalid", "PUT", "/api/v1/processes/" + p.ID, map[string]any{"name": "Inputs", "fields": []any{map[string]any{"name": "x"}}}, 400, "type is required"},
		{"put unknown", "PUT", "/api/v1/processes/nope", map[string]any{"name": "X"}, 404, "not found"},
		{"bad limit", "GET", path + "?limit=0", nil, 400, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Admin.In(t).Do(tc.method, tc.path, tc.body)
			if r.Status != tc.status || !strings.Contains(r.ErrorMessage(), tc.want) {
				t.Errorf("%s %s = %s, want %d containing %q", tc.method, tc.path, r, tc.status, tc.want)
			}
		})
	}
	var list struct{ Value []process.Instance }
	e.Admin.In(t).Must(200, "GET", path, nil, &list)
	if len(list.Value) != 0 {
		t.Errorf("instances after bad input = %d, want none", len(list.Value))
	}
	var got process.Process
	e.Admin.In(t).Must(200, "GET", "/api/v1/processes/"+p.ID, nil, &got)
	if len(got.Fields) != 7 || got.Modified != p.Modified {
		t.Errorf("process after a refused PUT = %d fields, modified %v; want it unchanged (7, %v)", len(got.Fields), got.Modified, p.Modified)
	}
	t.Run("good input converts", func(t *testing.T) {
		in := start(t, e.Admin, p.ID, map[string]any{"email": "a@b.c", "n": "4.5", "when": "2026-05-01", "ok": "true", "plan": "E5",
			"rows": []any{map[string]any{"id": "r1", "size": 2}}})
		want := map[string]any{"email": "a@b.c", "n": 4.5, "when": "2026-05-01", "ok": true, "plan": "E5", "out": "",
			"rows": []any{map[string]any{"id": "r1", "size": 2.0}}}
		if diff := cmp.Diff(want, in.Fields); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
	})
}
