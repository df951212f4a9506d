package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/metrics"
)

func TestMetricsExposure(t *testing.T) {
	m := metrics.New(func(context.Context) ([]*tenantlink.DataSource, error) { return nil, nil })
	tests := []struct {
		name       string
		cfg        Config
		auth       string
		main, side int // status on the main handler and on MetricsHandler
	}{
		{"default: open on the main address", Config{Metrics: m}, "", 200, 200},
		{"own address: gone from the main one", Config{Metrics: m, MetricsElsewhere: true}, "", 404, 200},
		{"token: refused without it", Config{Metrics: m, MetricsToken: "s3cret-metrics"}, "", 401, 401},
		{"token: refused with another", Config{Metrics: m, MetricsToken: "s3cret-metrics"}, "Bearer nope", 401, 401},
		{"token: served with it", Config{Metrics: m, MetricsToken: "s3cret-metrics"}, "Bearer s3cret-metrics", 200, 200},
		{"token and own address", Config{Metrics: m, MetricsToken: "s3cret-metrics", MetricsElsewhere: true}, "Bearer s3cret-metrics", 404, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.cfg)
			for _, c := range []struct {
				h    http.Handler
				want int
				what string
			}{{s.Handler(), tt.main, "main"}, {s.MetricsHandler(), tt.side, "metrics"}} {
				req := httptest.NewRequest("GET", "/metrics", nil)
				if tt.auth != "" {
					req.Header.Set("Authorization", tt.auth)
				}
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != c.want {
					t.Errorf("%s handler: GET /metrics = %d, want %d", c.what, rec.Code, c.want)
				}
			}
		})
	}
}
