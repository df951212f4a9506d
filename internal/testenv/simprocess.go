package testenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/m365sim"
)

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary builds cmd/tenantlink once per test binary and returns its path,
// for tests and benchmarks that need real processes. The file is left in
// the system's temporary folder: it is shared by every test of the run,
// so no single test's cleanup may remove it.
func Binary(tb testing.TB) string {
	tb.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "tenantlink-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "tenantlink")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/tenantlink/tenantlink/cmd/tenantlink").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		tb.Fatalf("testenv: %v", binary.err)
	}
	return binary.path
}

// SimProcessOptions shape a simulator run as a subprocess; zero values are
// `tenantlink m365sim`'s defaults.
type SimProcessOptions struct {
	Users, Groups int
	Seed          int64
	Latency       time.Duration
	Throttle      bool
	// RedirectURIs are tenantlink's callbacks the app registration accepts.
	RedirectURIs []string
	// ClientID and ClientSecret fix the app registration's credentials
	// (generated when empty).
	ClientID, ClientSecret string
}

// SimProcess is a `tenantlink m365sim` subprocess. It exists so that a
// benchmark can measure tenantlink's own memory: an in-process simulator
// holding a 100,000-user tenant is most of the process's resident set.
type SimProcess struct {
	Facts m365sim.Facts
	cmd   *exec.Cmd
	done  chan struct{}
}

// StartSimProcess runs the simulator as a subprocess on a free loopback
// port, waits for the facts it prints and stops it when the test ends.
func StartSimProcess(tb testing.TB, o SimProcessOptions) *SimProcess {
	tb.Helper()
	args := []string{"m365sim", "--addr", "127.0.0.1:0", "--json"}
	if o.Users > 0 {
		args = append(args, "--users", strconv.Itoa(o.Users))
	}
	if o.Groups > 0 {
		args = append(args, "--groups", strconv.Itoa(o.Groups))
	}
	if o.Seed != 0 {
		args = append(args, "--seed", strconv.FormatInt(o.Seed, 10))
	}
	if o.Latency > 0 {
		args = append(args, "--latency", o.Latency.String())
	}
	if o.Throttle {
		args = append(args, "--throttle")
	}
	for _, u := range o.RedirectURIs {
		args = append(args, "--redirect-uri", u)
	}
	if o.ClientID != "" {
		args = append(args, "--client-id", o.ClientID)
	}
	if o.ClientSecret != "" {
		// On the command line, visible to this machine's process list:
		// acceptable for a throwaway simulator credential on loopback.
		args = append(args, "--client-secret", o.ClientSecret)
	}
	cmd := exec.Command(Binary(tb), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testenv: start simulator: %v", err)
	}
	p := &SimProcess{cmd: cmd, done: make(chan struct{})}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		line := ""
		if sc.Scan() {
			line = sc.Text()
		}
		first <- line
		for sc.Scan() {
		}
		cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(p.stop)
	// Seeding 100,000 users takes about a second; a loaded machine more.
	select {
	case line := <-first:
		if err := json.Unmarshal([]byte(line), &p.Facts); err != nil || p.Facts.URL == "" {
			tb.Fatalf("testenv: simulator's first line %q is not its facts (%v); its log:\n%s", line, err, logs)
		}
	case <-time.After(2 * time.Minute):
		tb.Fatalf("testenv: the simulator printed no facts in 2 minutes; its log:\n%s", logs)
	}
	return p
}

// stop asks the simulator to shut down (SIGTERM) and kills it if it has
// not within 10 s.
func (p *SimProcess) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Stats is the simulator's GET /_sim/stats.
func (p *SimProcess) Stats(tb testing.TB) m365sim.Stats {
	tb.Helper()
	res, err := http.Get(p.Facts.URL + "/_sim/stats")
	if err != nil {
		tb.Fatalf("testenv: simulator stats: %v", err)
	}
	defer res.Body.Close()
	var st m365sim.Stats
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("testenv: simulator stats: status %d", res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		tb.Fatalf("testenv: simulator stats: %v", err)
	}
	return st
}

// PeakRSS is the subprocess's peak resident set in bytes (VmHWM, Linux),
// or 0 when the system does not say.
func (p *SimProcess) PeakRSS() uint64 {
	return ProcStatus(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid), "VmHWM:")
}

// ProcStatus reads one kB field of a /proc/…/status file (VmHWM:, VmRSS:)
// in bytes, or 0 when the file or field is missing.
func ProcStatus(file, field string) uint64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
