package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SubscriptionCounter counts change-notification subscriptions by
// resource and state ("active", "expiring", "failed", "reauthorizing").
type SubscriptionCounter func(ctx context.Context) (map[[2]string]int, error)

// Realtime holds the real-time sync collectors (package realtime).
type Realtime struct {
	// Notifications counts received notifications by outcome
	// ("accepted", "ignored", "lifecycle").
	Notifications *prometheus.CounterVec
	// Enqueued counts group sync requests queued by notifications, and
	// how many were coalesced into a run already queued.
	Enqueued *prometheus.CounterVec
}

// RegisterRealtime registers the real-time collectors; count feeds the
// tenantlink_graph_subscriptions gauge.
func (m *Metrics) RegisterRealtime(count SubscriptionCounter) *Realtime {
	r := &Realtime{
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantlink_graph_notifications_total", Help: "Microsoft Graph change notifications received, by outcome (accepted, ignored, lifecycle).",
		}, []string{"outcome"}),
		Enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantlink_realtime_sync_requests_total", Help: "Group sync runs requested by change notifications, by result (queued, coalesced).",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(r.Notifications, r.Enqueued, &subscriptionCollector{count: count, desc: prometheus.NewDesc(
		"tenantlink_graph_subscriptions", "Change-notification subscriptions by resource and state.", []string{"resource", "state"}, nil)})
	return r
}

type subscriptionCollector struct {
	count SubscriptionCounter
	desc  *prometheus.Desc
}

func (c *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *subscriptionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
