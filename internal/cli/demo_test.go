package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// banner (after which it serves), and returns what demo.json says.
func startDemo(tb testing.TB, addr, simAddr, dir string) *demoRun {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{stop: cancel, code: make(chan int, 1), stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}}
	go func() {
		d.code <- run(ctx, []string{"demo", "--addr", addr, "--sim-addr", simAddr, "--data", dir}, d.stdout, d.stderr)
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
	if info, err := os.Stat(filepath.Join(dir, "demo.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("demo.json mode = %v (%v), want 0600: it holds passwords", info.Mode().Perm(), err)
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
	if got := processNames(t, admin); len(got) != 1 || got[0] != process.OnboardingName {
		t.Errorf("processes once a data source is ready = %q, want only %q", got, process.OnboardingName)
	}
	first.Stop(t)

	// Again on the same data folder: a new simulator (same seed, new
	// token store) and the same tenantlink database.
	second := startDemo(t, addr, simAddr, dir)
	if second.facts.TenantlinkPassword != f.TenantlinkPassword {
		t.Errorf("second run's password differs from the first's: demo.json must keep it")
	}
	admin = testenv.SignIn(t, f.TenantlinkURL, f.TenantlinkAdmin, f.TenantlinkPassword)
	got := admin.GetDataSource(ds.ID)
	if got.Name != "Contoso" {
		t.Fatalf("after a restart the data source is %+v, want Contoso", got)
	}
	if got := processNames(t, admin); len(got) != 1 || got[0] != process.OnboardingName {
		t.Errorf("processes after a restart = %q, want only %q (seeded once)", got, process.OnboardingName)
	}
	// The stored grant was issued by the previous simulator, which the
	// new one does not know: the connection test finds out, and the data
	// source asks for re-authorization in words a person can act on.
	var res struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}
	admin.Must(http.StatusOK, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, &res)
	after := admin.GetDataSource(ds.ID)
	if res.OK || after.Status != "re-authorization required" {
		t.Fatalf("after a restart: test ok=%v, status %q, want a failed test and re-authorization required", res.OK, after.Status)
	}
	for _, want := range []string{"no longer valid", "Re-Authorize"} {
		if !strings.Contains(after.StatusMessage, want) || !strings.Contains(res.Message, want) {
			t.Errorf("status message %q (test: %q) lacks %q", after.StatusMessage, res.Message, want)
		}
	}
	if cb := e.Authorize(admin, ds.ID, f.AdminUser, f.AdminPassword); !cb.OK {
		t.Fatalf("re-authorize with the new simulator: %s", cb.Message)
	}
	if got := admin.GetDataSource(ds.ID); got.Status != "ready" {
		t.Errorf("after re-authorizing: status %q (%s), want ready", got.Status, got.StatusMessage)
	}
}
