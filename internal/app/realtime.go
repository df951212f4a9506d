package app

import (
	"context"
	"os"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/jobs"
	"github.com/tenantlink/tenantlink/internal/realtime"
)

// openRealtime assembles the real-time sync service (its queue is set
// once the job scheduler exists). TENANTLINK_REALTIME_WINDOW sets the
// coalescing window and TENANTLINK_REALTIME_INTERVAL the maintenance
// interval (durations such as 2s).
func (a *App) openRealtime() *realtime.Service {
	cfg := a.Config
	a.Realtime = &realtime.Service{
		Store: a.DB, Connectors: a.DataSources.Connectors, Credentials: a.DataSources.Credentials(),
		PublicURL: cfg.PublicURL, Now: cfg.Now, Logger: cfg.Logger.With("service", "realtime"),
		Window: envDuration("TENANTLINK_REALTIME_WINDOW"), Interval: envDuration("TENANTLINK_REALTIME_INTERVAL"),
	}
	a.Realtime.Sync = func(ctx context.Context, groupID string) error {
		_, err := a.runSync(ctx, jobs.SyncRequest{GroupID: groupID, Trigger: realtime.TriggerRealtime})
		return err
	}
	a.Realtime.Metrics = a.Metrics.RegisterRealtime(a.Realtime.Counts)
	return a.Realtime
}

func envDuration(name string) time.Duration {
	d, err := time.ParseDuration(os.Getenv(name))
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// realtimeSaved queues the maintenance of the data source a group's sync
// settings name, so that turning real time on subscribes within seconds
// rather than at the next tick (turning it off is the tick's).
func (a *App) realtimeSaved(ctx context.Context, groupID string, s *tenantlink.SyncSettings) {
	if s == nil || s.DataSource == "" {
		return
	}
	if err := a.Realtime.QueueMaintain(ctx, s.DataSource, "settings"); err != nil {
		a.Config.Logger.Warn("queue real-time maintenance", "group", groupID, "err", err)
	}
}
