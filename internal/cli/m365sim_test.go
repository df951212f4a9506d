package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/m365sim"
)

// runSim runs `tenantlink m365sim --json args...` until it prints its
// facts, then stops it and returns them with what it wrote to stderr.
func runSim(tb testing.TB, args ...string) (m365sim.Facts, string) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &testenv.Buffer{}, &testenv.Buffer{}
	code := make(chan int, 1)
	go func() { code <- run(ctx, append([]string{"m365sim", "--json"}, args...), stdout, stderr) }()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "\n") {
		select {
		case c := <-code:
			tb.Fatalf("m365sim exited with %d before printing its facts; stderr:\n%s", c, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("m365sim printed no facts within a minute")
		}
	}
	var f m365sim.Facts
	if err := json.Unmarshal([]byte(strings.SplitN(stdout.String(), "\n", 2)[0]), &f); err != nil {
		tb.Fatalf("facts line: %v\n%s", err, stdout.String())
	}
	cancel()
	if c := <-code; c != 0 {
		tb.Fatalf("m365sim exited with %d after being stopped; stderr:\n%s", c, stderr.String())
	}
	return f, stderr.String()
}

func TestSimulatorStateFlag(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "sim.json")
	addr := testenv.FreeAddr(t)

	first, _ := runSim(t, "--addr", addr, "--state", state, "--users", "8", "--seed", "4")
	info, err := os.Stat(state)
	if err != nil {
		t.Fatalf("no state file after the first run: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600", info.Mode().Perm())
	}
	// Different seeding flags: the file wins, and the person is told. A
	// second free port: the first listener's may not be free again yet,
	// and where the simulator listens is not part of its state.
	second, stderr := runSim(t, "--addr", testenv.FreeAddr(t), "--state", state, "--users", "20", "--seed", "5")
	if diff := cmp.Diff(second, first, cmpopts.IgnoreFields(m365sim.Facts{}, "URL")); diff != "" {
		t.Errorf("facts of the second run (-got +want):\n%s", diff)
	}
	if !strings.Contains(stderr, "seeding flags ignored") || !strings.Contains(stderr, "--users --seed") {
		t.Errorf("stderr does not say --users and --seed were ignored:\n%s", stderr)
	}

	// A file that is not a state is an error, and stays as it was.
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, errOut := &testenv.Buffer{}, &testenv.Buffer{}
	if code := run(context.Background(), []string{"m365sim", "--addr", testenv.FreeAddr(t), "--state", broken}, stdout, errOut); code == 0 {
		t.Fatalf("m365sim with a broken state file exited 0; want an error")
	}
	if msg := errOut.String(); !strings.Contains(msg, broken) || !strings.Contains(msg, "cannot be loaded") {
		t.Errorf("error = %q, want it to name %s and say it cannot be loaded", msg, broken)
	}
	if b, _ := os.ReadFile(broken); string(b) != "{not json" {
		t.Errorf("the broken state file was overwritten: %q", b)
	}
}
