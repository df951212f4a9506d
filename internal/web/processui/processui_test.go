package processui_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// readWrite are the settings of the data sources processes write to.
var readWrite = map[string]any{"readWrite": true}

var update = flag.Bool("update", false, "rewrite the golden files")

type page struct {
	Status   int
	Location string
	Body     string
}

func get(tb testing.TB, c *testenv.Client, path string) page {
	tb.Helper()
	resp, err := c.HC.Get(c.Base + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	return read(tb, resp)
}

// post submits a form with the session's CSRF token, as the pages do.
func post(tb testing.TB, c *testenv.Client, path string, form url.Values) page {
	tb.Helper()
	form.Set("csrf", c.CSRF)
	resp, err := c.HC.PostForm(c.Base+path, form)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	return read(tb, resp)
}

func read(tb testing.TB, resp *http.Response) page {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(b)}
}

func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
	}
}

func TestPages(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	if err := process.SeedDemo(context.Background(), e.App.Processes, tenantlink.System, ds); err != nil {
		t.Fatal(err)
	}
	var list struct{ Value []process.Process }
	e.Admin.In(t).Must(200, "GET", "/api/v1/processes", nil, &list)
	pid := list.Value[0].ID
	e.Admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "plain@tenantlink.test", "password": testenv.Password, "roles": []string{"User"}}, nil)
	user := e.SignIn(t, "plain@tenantlink.test", testenv.Password)
	designer := e.SignIn(t, testenv.AdminEmail, testenv.Password)

	t.Run("list", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			c         *testenv.Client
			newButton bool
		}{{"user", user, false}, {"designer", designer, true}} {
			p := get(t, tc.c, "/processes")
			if p.Status != 200 || !strings.Contains(p.Body, `href="/processes/`+pid+`">Employee onboarding</a>`) {
				t.Errorf("%s: GET /processes = %d, want 200 linking the process:\n%s", tc.name, p.Status, p.Body)
			}
			if got := strings.Contains(p.Body, `href="/processes/new"`); got != tc.newButton {
				t.Errorf("%s: New process button shown = %v, want %v", tc.name, got, tc.newButton)
			}
		}
	})

	t.Run("start form", func(t *testing.T) {
		p := get(t, user, "/processes/"+pid)
		if p.Status != 200 {
			t.Fatalf("GET /processes/{id} = %d", p.Status)
		}
		body := strings.NewReplacer(pid, "PROCESS", user.CSRF, "CSRF").Replace(p.Body)
		golden(t, "process_start", body)
	})

	e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "page.hire", "displayName": "Page Hire"})
	email := "page.hire@" + e.Facts.TenantDomain

	t.Run("start with a missing required field shows the form again", func(t *testing.T) {
		p := post(t, user, "/processes/"+pid+"/start", url.Values{"f.email": {email}, "f.department": {""}})
		if p.Status != 400 || !strings.Contains(p.Body, `is required`) || !strings.Contains(p.Body, `value="`+email+`"`) {
			t.Errorf("POST start without department = %d, want 400 with the message and the submitted email:\n%s", p.Status, p.Body)
		}
	})

	t.Run("start and see the instance", func(t *testing.T) {
		p := post(t, user, "/processes/"+pid+"/start", url.Values{"f.email": {email}, "f.department": {"Page Team"},
			"f.licence": {"ENTERPRISEPACK"}, "f.usageLocation": {"IE"}})
		if p.Status != 303 || !strings.HasPrefix(p.Location, "/instances/") {
			t.Fatalf("POST start = %d to %q, want 303 to the instance:\n%s", p.Status, p.Location, p.Body)
		}
		inst := get(t, user, p.Location)
		for _, want := range []string{`data-status="succeeded"`, `<th scope="row">Employee email</th>`, email,
			`<th scope="row">Add the employee to the group</th>`, "added", "assigned"} {
			if !strings.Contains(inst.Body, want) {
				t.Errorf("instance page lacks %q:\n%s", want, inst.Body)
			}
		}
		if got := strings.Count(inst.Body, `data-outcome="succeeded"`); got != 4 {
			t.Errorf("succeeded rules on the page = %d, want 4 (the group was created)", got)
		}
		other := e.SignIn(t, func() string {
			e.Admin.In(t).Must(201, "POST", "/api/v1/users", map[string]any{"email": "other@tenantlink.test", "password": testenv.Password}, nil)
			return "other@tenantlink.test"
		}(), testenv.Password)
		// Not theirs to see: not found, as an unknown id (decision 0023).
		if p := get(t, other, p.Location); p.Status != 404 {
			t.Errorf("another user's view of the instance = %d, want 404", p.Status)
		}
	})

	t.Run("editor", func(t *testing.T) {
		if p := get(t, user, "/processes/new"); p.Status != 403 {
			t.Errorf("GET /processes/new as a User = %d, want 403", p.Status)
		}
		bad := post(t, designer, "/processes", url.Values{"definition": {`{"name":"Broken","fields":[{"name":"x","type":"colour"}],"rules":[]}`}})
		if bad.Status != 400 || !strings.Contains(bad.Body, "type must be text, number, date, boolean, table or list") || !strings.Contains(bad.Body, "colour") {
			t.Errorf("POST an invalid definition = %d, want 400 showing the problem and keeping the text:\n%s", bad.Status, bad.Body)
		}
		good := post(t, designer, "/processes", url.Values{"definition": {`{"name":"Fine","fields":[{"name":"x","type":"text"}],"rules":[]}`}})
		if good.Status != 303 || !strings.Contains(good.Location, "?done=created") {
			t.Fatalf("POST a valid definition = %d to %q, want 303", good.Status, good.Location)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(good.Location, "/processes/"), "?done=created")
		edit := get(t, designer, "/processes/"+id+"/edit")
		if edit.Status != 200 || !strings.Contains(edit.Body, "&#34;name&#34;: &#34;Fine&#34;") {
			t.Errorf("GET edit = %d, want the definition in the textarea:\n%s", edit.Status, edit.Body)
		}
		saved := post(t, designer, "/processes/"+id+"/edit", url.Values{"definition": {`{"name":"Finer","fields":[],"rules":[]}`}})
		if saved.Status != 303 {
			t.Errorf("POST edit = %d, want 303:\n%s", saved.Status, saved.Body)
		}
		if del := post(t, designer, "/processes/"+id+"/delete", url.Values{}); del.Status != 303 {
			t.Errorf("POST delete = %d, want 303", del.Status)
		}
		e.Admin.In(t).Must(404, "GET", "/api/v1/processes/"+id, nil, nil)
	})
}

// TestTriggerPages: a triggered process says when it starts by itself,
// and its instance says which event started it.
func TestTriggerPages(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ds := e.AuthorizedDataSource(e.Admin.In(t), "Contoso", readWrite).ID
	var g struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/groups", map[string]any{"displayName": "New hires"}), &g); err != nil {
		t.Fatal(err)
	}
	var lg struct{ ID string }
	e.Admin.In(t).Must(201, "POST", "/api/v1/groups", map[string]any{"name": "New hires"}, &lg)
	e.Admin.In(t).Must(200, "PUT", "/api/v1/groups/"+lg.ID+"/sync", map[string]any{"enabled": true, "datasource": ds, "sourceGroup": "New hires"}, nil)
	var p process.Process
	e.Admin.In(t).Must(201, "POST", "/api/v1/processes", map[string]any{"name": "Welcome",
		"fields":  []map[string]any{{"name": "who", "type": "text"}},
		"trigger": map[string]any{"event": "member.added", "datasource": ds, "group": "New hires", "fields": map[string]any{"who": map[string]any{"output": "displayName"}}},
		"rules":   []map[string]any{}}, &p)
	designer := e.SignIn(t, testenv.AdminEmail, testenv.Password)

	page := get(t, designer, "/processes/"+p.ID)
	want := `Starts by itself when a user joins in group &#34;New hires&#34; (` + g.ID + `) of data source Contoso`
	if page.Status != 200 || !strings.Contains(page.Body, want) {
		t.Errorf("GET /processes/{id} = %d, want it to say %q:\n%s", page.Status, want, page.Body)
	}

	ctx := context.Background()
	syncNow := func() {
		if _, err := e.App.GroupSync.Run(ctx, tenantlink.System, lg.ID, groupsync.RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	syncNow() // baseline
	var u struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "ivy", "displayName": "Ivy Joiner"}), &u); err != nil {
		t.Fatal(err)
	}
	e.SimControl(t, "POST", "/_sim/groups/"+g.ID+"/members/"+u.ID, nil)
	syncNow()
	if n, err := e.App.Processes.StartPending(ctx, 0); err != nil || n != 1 {
		t.Fatalf("StartPending = %d, %v; want 1", n, err)
	}
	var list struct{ Value []process.Instance }
	e.Admin.In(t).Must(200, "GET", "/api/v1/processes/"+p.ID+"/instances", nil, &list)
	if len(list.Value) != 1 {
		t.Fatalf("instances = %d, want 1", len(list.Value))
	}
	page = get(t, designer, "/instances/"+list.Value[0].ID)
	for _, want := range []string{`<dt>Started by</dt>`, `event <code>member.added</code>: Ivy Joiner &lt;ivy@`, `(object ` + u.ID + `)`, `sync of group New hires from New hires`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("instance page lacks %q:\n%s", want, page.Body)
		}
	}
}
