// Package metrics owns tenantlink's Prometheus registry and collectors:
// HTTP requests, Graph calls by outcome and data sources by status.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenantlink/tenantlink"
)

// Metrics holds the collectors. The zero value is not usable; call New.
type Metrics struct {
	Registry     *prometheus.Registry
	HTTPRequests *prometheus.CounterVec
	HTTPDuration *prometheus.HistogramVec
	GraphCalls   *prometheus.CounterVec
}

// DataSourceLister lists data sources for the status gauge.
type DataSourceLister func(ctx context.Context) ([]*tenantlink.DataSource, error)

// New registers every collector on a fresh registry.
func New(list DataSourceLister) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantlink_http_requests_total", Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tenantlink_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		GraphCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantlink_graph_requests_total", Help: "Microsoft Graph requests by outcome (ok, throttled, client_error, server_error, network_error).",
		}, []string{"outcome"}),
	}
	m.Registry.MustRegister(m.HTTPRequests, m.HTTPDuration, m.GraphCalls,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if list != nil {
		m.Registry.MustRegister(&statusCollector{list: list, desc: prometheus.NewDesc(
			"tenantlink_datasources", "Data sources by type and status.", []string{"type", "status"}, nil)})
	}
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// ObserveHTTP records one request.
func (m *Metrics) ObserveHTTP(method, route string, code int, d time.Duration) {
	m.HTTPRequests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.HTTPDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveGraph records one Graph call by its HTTP status (0 = network error).
func (m *Metrics) ObserveGraph(status int) {
	var o string
	switch {
	case status == 0:
		o = "network_error"
	case status == 429:
		o = "throttled"
	case status >= 500:
		o = "server_error"
	case status >= 400:
		o = "client_error"
	default:
		o = "ok"
	}
	m.GraphCalls.WithLabelValues(o).Inc()
}

// GraphTransport wraps rt so every Graph call is counted.
func (m *Metrics) GraphTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil {
			m.ObserveGraph(0)
			return nil, err
		}
		m.ObserveGraph(resp.StatusCode)
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type statusCollector struct {
	list DataSourceLister
	desc *prometheus.Desc
}

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := c.list(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	counts := map[[2]string]int{}
	for _, ds := range all {
		counts[[2]string{ds.Type, string(ds.Status)}]++
	}
	for _, st := range []tenantlink.Status{tenantlink.StatusIncomplete, tenantlink.StatusReady, tenantlink.StatusTestFailed, tenantlink.StatusReauthorize} {
		if _, ok := counts[[2]string{tenantlink.ConnectorOffice365, string(st)}]; !ok {
			counts[[2]string{tenantlink.ConnectorOffice365, string(st)}] = 0
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
