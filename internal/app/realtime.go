package app

import (
	"context"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/jobs"
	"github.com/tenantlink/tenantlink/internal/realtime"
)

// openRealtime assembles the real-time sync service (its queue is set
// once the job scheduler exists), tuned by Config.Realtime.
func (a *App) openRealtime() *realtime.Service {
	cfg := a.Config
	a.Realtime = &realtime.Service{
		Store: a.DB, Connectors: a.DataSources.Connectors, Credentials: a.DataSources.Credentials(),
		PublicURL: cfg.PublicURL, Now: cfg.Now, Logger: cfg.Logger.With("service", "realtime"),
		Window: cfg.Realtime.Window, Interval: cfg.Realtime.Interval,
	}
	a.Realtime.Sync = func(ctx context.Context, groupID string) error {
		_, err := a.runSync(ctx, jobs.SyncRequest{GroupID: groupID, Trigger: realtime.TriggerRealtime})
		return err
	}
	a.Realtime.Metrics = a.Metrics.RegisterRealtime(a.Realtime.Counts)
	return a.Realtime
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
