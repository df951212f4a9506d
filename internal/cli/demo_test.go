package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// demoRun is one `tenantlink demo` in this process.
type demoRun struct {
	stop   context.CancelFunc
	code   chan int
	stdout *testenv.Buffer
	stderr *testenv.Buffer
	facts  demoFacts
}

// startDemo runs the demo until it has written demo.json and printed its
// banner (after which it serves), and returns what demo.json says. extra
// are more flags, e.g. --reset.
func startDemo(tb testing.TB, addr, simAddr, dir string, extra ...string) *demoRun {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{stop: cancel, code: make(chan int, 1), stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}}
	args := append([]string{"demo", "--addr", addr, "--sim-addr", simAddr, "--data", dir}, extra...)
	go func() {
		d.code <- run(ctx, args, d.stdout, d.stderr)
	}()
	tb.Cleanup(func() { d.Stop(tb) })
	// The banner comes after demo.json is written and the listener open.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(d.stdout.String(), "tenantlink demo is running.") {
		select {
		case code := <-d.code:
			d.code <- code
			tb.Fatalf("demo exited with %d before it was running; stderr:\n%s", code, d.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("demo is not running after a minute; stdout:\n%s\nstderr:\n%s", d.stdout.String(), d.stderr.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		tb.Fatalf("read demo.json: %v", err)
	}
	if err := json.Unmarshal(b, &d.facts); err != nil {
		tb.Fatalf("demo.json: %v\n%s", err, b)
	}
	return d
}

// Stop cancels the demo and checks that it shut down cleanly; later calls
// do nothing.
func (d *demoRun) Stop(tb testing.TB) {
	tb.Helper()
	if d.stop == nil {
		return
	}
	d.stop()
	d.stop = nil
	select {
	case code := <-d.code:
		if code != 0 {
			tb.Errorf("demo exited with %d after being stopped, want 0; stderr:\n%s", code, d.stderr.String())
		}
	case <-time.After(time.Minute):
		tb.Errorf("demo did not stop within a minute of being cancelled")
	}
}

func processNames(tb testing.TB, c *testenv.Client) []string {
	tb.Helper()
	var out struct {
		Value []struct{ Name string }
	}
	c.Must(http.StatusOK, "GET", "/api/v1/processes", nil, &out)
	var names []string
	for _, p := range out.Value {
		names = append(names, p.Name)
	}
	return names
}

// runOp runs one operation through the API and returns its items.
func runOp(tb testing.TB, c *testenv.Client, dsID, name string, inputs map[string]any) []map[string]any {
	tb.Helper()
	var res struct {
		Items []map[string]any `json:"items"`
	}
	c.Must(http.StatusOK, "POST", "/api/v1/datasources/"+dsID+"/operations/"+name, map[string]any{"inputs": inputs}, &res)
	return res.Items
}

func userIDs(items []map[string]any) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, fmt.Sprint(it["id"]))
	}
	return ids
}

func results(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprint(it["result"]))
	}
	return out
}

func dataSourceNames(tb testing.TB, c *testenv.Client) []string {
	tb.Helper()
	var out struct {
		Value []struct{ Name string }
	}
	c.Must(http.StatusOK, "GET", "/api/v1/datasources", nil, &out)
	names := []string{}
	for _, d := range out.Value {
		names = append(names, d.Name)
	}
	return names
}

func TestDemo(t *testing.T) {
	addr, simAddr, dir := testenv.FreeAddr(t), testenv.FreeAddr(t), t.TempDir()

	first := startDemo(t, addr, simAddr, dir)
	f := first.facts
	if f.TenantlinkURL != "http://"+addr || f.URL != "http://"+simAddr {
		t.Errorf("demo.json URLs = %q and %q, want http://%s and http://%s", f.TenantlinkURL, f.URL, addr, simAddr)
	}
	if f.TenantlinkAdmin != DemoAdmin || f.TenantlinkPassword == "" || f.AdminUser == "" || f.AdminPassword == "" {
		t.Fatalf("demo.json lacks credentials: admin %q, Microsoft admin %q", f.TenantlinkAdmin, f.AdminUser)
	}
	for _, name := range []string{"demo.json", demoStateFile} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600: it holds secrets", name, info.Mode().Perm())
		}
	}
	if out := first.stdout.String(); !strings.Contains(out, f.TenantlinkPassword) || !strings.Contains(out, f.AdminUser) {
		t.Errorf("banner lacks the sign-in credentials:\n%s", out)
	}

	admin := testenv.SignIn(t, f.TenantlinkURL, f.TenantlinkAdmin, f.TenantlinkPassword)
	if got := processNames(t, admin); len(got) != 0 {
		t.Errorf("processes before any data source = %q, want none", got)
	}
	e := testenv.At(f.TenantlinkURL, f.Facts, admin)
	ds := e.AuthorizedDataSource(admin, "Contoso", map[string]any{"readWrite": true})
	if ds.Status != "ready" {
		t.Fatalf("data source status %q (%s), want ready", ds.Status, ds.StatusMessage)
	}
	demoProcesses := []string{process.OnboardingName, process.OnboardingNewHiresName}
	if got := processNames(t, admin); !cmp.Equal(got, demoProcesses) {
		t.Errorf("processes once a data source is ready = %q, want %q", got, demoProcesses)
	}
	newHireOnboarded(t, e, admin, ds.ID)
	// A change in the simulated tenant, to find again after a restart.
	users := runOp(t, admin, ds.ID, "UserList", nil)
	groups := runOp(t, admin, ds.ID, "GroupList", nil)
	if len(users) < 3 || len(groups) == 0 {
		t.Fatalf("UserList and GroupList: %d users, %d groups; want the seeded tenant", len(users), len(groups))
	}
	group := fmt.Sprint(groups[0]["id"])
	var outsiders []string // users not in the group yet
	for _, u := range users {
		in := runOp(t, admin, ds.ID, "AddUserToGroup", map[string]any{"user": []any{u["id"]}, "group": group})
		if results(in)[0] == "added" {
			outsiders = append(outsiders, fmt.Sprint(u["id"]))
			if len(outsiders) == 1 {
				break
			}
		}
	}
	if len(outsiders) != 1 {
		t.Fatalf("no user could be added to group %s", group)
	}
	first.Stop(t)

	// Again on the same data folder: the same tenantlink database and the
	// same simulated tenant, so the stored grant still works.
	second := startDemo(t, addr, simAddr, dir)
	s := second.facts
	if s.TenantlinkPassword != f.TenantlinkPassword {
		t.Errorf("second run's password differs from the first's: demo.json must keep it")
	}
	if s.TenantID != f.TenantID || s.ClientID != f.ClientID || s.ClientSecret != f.ClientSecret || s.AdminPassword != f.AdminPassword {
		t.Errorf("second run's tenant %s (client %s) differs from the first's %s (client %s)", s.TenantID, s.ClientID, f.TenantID, f.ClientID)
	}
	admin = testenv.SignIn(t, f.TenantlinkURL, f.TenantlinkAdmin, f.TenantlinkPassword)
	if got := admin.GetDataSource(ds.ID); got.Name != "Contoso" || got.Status != "ready" {
		t.Fatalf("after a restart the data source is %q, status %q (%s); want Contoso, ready", got.Name, got.Status, got.StatusMessage)
	}
	if got := processNames(t, admin); !cmp.Equal(got, demoProcesses) {
		t.Errorf("processes after a restart = %q, want %q (seeded once)", got, demoProcesses)
	}
	var res struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}
	admin.Must(http.StatusOK, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, &res)
	if !res.OK {
		t.Errorf("connection test after a restart failed: %s", res.Message)
	}
	if diff := cmp.Diff(userIDs(runOp(t, admin, ds.ID, "UserList", nil)), userIDs(users)); diff != "" {
		t.Errorf("UserList after a restart (-got +want):\n%s", diff)
	}
	// The member added before the restart is still one (a re-seeded
	// tenant would take them again), and writes work.
	got := runOp(t, admin, ds.ID, "AddUserToGroup", map[string]any{"user": []any{outsiders[0]}, "group": group})
	if diff := cmp.Diff(results(got), []string{"already a member"}); diff != "" {
		t.Errorf("adding again the member added before the restart (-got +want):\n%s", diff)
	}
	second.Stop(t)

	// --reset: a new tenantlink and a freshly seeded tenant.
	third := startDemo(t, addr, simAddr, dir, "--reset")
	if third.facts.TenantlinkPassword == f.TenantlinkPassword {
		t.Errorf("after --reset the Administrator's password is the old one; demo.json must be new")
	}
	admin = testenv.SignIn(t, f.TenantlinkURL, f.TenantlinkAdmin, third.facts.TenantlinkPassword)
	if got := dataSourceNames(t, admin); len(got) != 0 {
		t.Errorf("data sources after --reset = %q, want none", got)
	}
	if got := processNames(t, admin); len(got) != 0 {
		t.Errorf("processes after --reset = %q, want none", got)
	}
	e = testenv.At(f.TenantlinkURL, third.facts.Facts, admin)
	ds = e.AuthorizedDataSource(admin, "Contoso", map[string]any{"readWrite": true})
	got = runOp(t, admin, ds.ID, "AddUserToGroup", map[string]any{"user": []any{outsiders[0]}, "group": group})
	if diff := cmp.Diff(results(got), []string{"added"}); diff != "" {
		t.Errorf("the member added before --reset, added again after (-got +want):\n%s", diff)
	}
}

// newHireOnboarded adds a user to the tenant's "New hires" group once the
// demo's sync of it has run its first (baseline) run, syncs, and expects
// one instance of the triggered onboarding with the user's values.
func newHireOnboarded(t *testing.T, e *testenv.Env, admin *testenv.Client, dsID string) {
	t.Helper()
	var groups struct {
		Value []struct{ ID, Name string }
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/groups", nil, &groups)
	gid := ""
	for _, g := range groups.Value {
		if g.Name == process.NewHiresGroup {
			gid = g.ID
		}
	}
	if gid == "" {
		t.Fatalf("groups = %+v, want the demo's %q", groups.Value, process.NewHiresGroup)
	}
	succeeded := func() int {
		var runs struct {
			Value []struct{ Status string } `json:"value"`
		}
		admin.Must(http.StatusOK, "GET", "/api/v1/groups/"+gid+"/sync/runs", nil, &runs)
		n := 0
		for _, r := range runs.Value {
			if r.Status == "succeeded" {
				n++
			}
		}
		return n
	}
	testenv.WaitFor(t, time.Minute, "the New hires baseline run", func() bool { return succeeded() > 0 })
	var src struct{ Value []map[string]any }
	admin.Must(http.StatusOK, "GET", "/api/v1/processes", nil, &src)
	pid := ""
	for _, p := range src.Value {
		if p["name"] == process.OnboardingNewHiresName {
			pid = fmt.Sprint(p["id"])
		}
	}
	var u struct{ ID string }
	if err := json.Unmarshal(e.SimControl(t, "POST", "/_sim/users", map[string]any{"userPrincipalName": "nina.hire", "displayName": "Nina Hire"}), &u); err != nil {
		t.Fatal(err)
	}
	found := runOp(t, admin, dsID, "FindGroups", map[string]any{"query": process.NewHiresGroup, "match": "equals"})
	if len(found) != 1 {
		t.Fatalf("the tenant's %q groups = %v, want one", process.NewHiresGroup, found)
	}
	groupID := fmt.Sprint(found[0]["id"])
	e.SimControl(t, "POST", "/_sim/groups/"+groupID+"/members/"+u.ID, nil)
	// Real time would run the sync within seconds; run it now so the test
	// does not depend on the subscription being active yet.
	admin.Must(http.StatusAccepted, "POST", "/api/v1/groups/"+gid+"/sync", nil, nil)
	var list struct{ Value []process.Instance }
	testenv.WaitFor(t, time.Minute, "the triggered onboarding", func() bool {
		admin.Must(http.StatusOK, "GET", "/api/v1/processes/"+pid+"/instances", nil, &list)
		return len(list.Value) > 0 && list.Value[0].Status != process.StatusRunning
	})
	in := list.Value[0]
	if len(list.Value) != 1 || in.Event == nil || in.Event.Kind != process.EventMemberAdded || in.Fields["employee"] != "Nina Hire" ||
		!strings.HasPrefix(fmt.Sprint(in.Fields["email"]), "nina.hire@") || in.Fields["department"] != "All employees" {
		t.Errorf("instances = %+v, want one for Nina's join with her values", list.Value)
	}
}
