package apitest

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// The world these tests run in is package testenv's; the short names
// keep the access matrix and status tables readable.
type (
	env        = testenv.Env
	client     = testenv.Client
	response   = testenv.Response
	dataSource = testenv.DataSource
	callback   = testenv.Callback
)

const (
	adminEmail = testenv.AdminEmail
	// password is every local test account's password.
	password = testenv.Password
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// backends are the stores the store-dependent tests run on.
var backends = []string{"sqlite", "postgres"}

// audit returns the whole audit log, newest first, read by an Administrator.
func audit(tb testing.TB, admin *client) []tenantlink.AuditEntry {
	tb.Helper()
	var out struct{ Value []tenantlink.AuditEntry }
	admin.In(tb).Must(200, "GET", "/api/v1/audit?limit=1000", nil, &out)
	return out.Value
}

var (
	gaugeLine  = regexp.MustCompile(`(?m)^tenantlink_datasources\{([^}]*)\} (\S+)$`)
	statusAttr = regexp.MustCompile(`status="([^"]*)"`)
)

// statusGauge reads tenantlink_datasources from /metrics by status.
func statusGauge(tb testing.TB, e *env) map[string]float64 {
	tb.Helper()
	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	out := map[string]float64{}
	for _, m := range gaugeLine.FindAllStringSubmatch(string(b), -1) {
		st := statusAttr.FindStringSubmatch(m[1])
		if st == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			tb.Fatalf("metric line %q: %v", m[0], err)
		}
		out[st[1]] += v
	}
	if len(out) == 0 {
		tb.Fatalf("/metrics has no tenantlink_datasources gauge:\n%s", b)
	}
	return out
}
