package apitest

import (
	"net"
	"net/http"
	"testing"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestMetricsAddr: with a metrics address, /metrics is served there
// (behind the token when one is set) and no longer on the main address.
func TestMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a free port for the application's metrics listener
	e := testenv.New(t, testenv.Options{MetricsAddr: addr, MetricsToken: "metrics-secret"})
	get := func(url, bearer string) int {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		url, bearer string
		want        int
	}{
		{e.URL + "/metrics", "", 404},
		{e.URL + "/metrics", "metrics-secret", 401}, // not an API token
		{"http://" + addr + "/metrics", "", 401},
		{"http://" + addr + "/metrics", "wrong", 401},
		{"http://" + addr + "/metrics", "metrics-secret", 200},
		{"http://" + addr + "/api/v1/session", "", 404},
	} {
		if got := get(tt.url, tt.bearer); got != tt.want {
			t.Errorf("GET %s (bearer %q) = %d, want %d", tt.url, tt.bearer, got, tt.want)
		}
	}
}
