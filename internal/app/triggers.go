package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/store"
)

// triggerSink hands the changes group member syncs apply to the process
// triggers (decision 0024), in the sync's transaction.
type triggerSink struct{ p *process.Service }

func (t triggerSink) Watching(ctx context.Context, st store.Store, dsID string) (bool, error) {
	return t.p.Watching(ctx, st, dsID)
}

func (t triggerSink) Emit(ctx context.Context, tx store.Store, events []groupsync.Event) error {
	out := make([]process.Event, len(events))
	for i, e := range events {
		out[i] = process.Event(e)
	}
	return t.p.Emit(ctx, tx, out)
}

// processEventsArgs is the River job that starts the instances of the
// pending process events. It is unique while waiting (not while running:
// events written during a run queue the next one, which takes them).
type processEventsArgs struct{}

func (processEventsArgs) Kind() string { return "process_events" }

func (processEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	}}}
}

type processEventsWorker struct {
	river.WorkerDefaults[processEventsArgs]
	p *process.Service
}

// Work starts every pending event's instance, a batch at a time.
func (w *processEventsWorker) Work(ctx context.Context, _ *river.Job[processEventsArgs]) error {
	const batch = 100
	for {
		n, err := w.p.StartPending(ctx, batch)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// queueProcessEvents queues the job that starts pending process events.
func (a *App) queueProcessEvents(ctx context.Context) {
	if a.Jobs == nil || a.Config.Jobs.Disabled {
		return
	}
	if _, err := a.Jobs.Insert(ctx, processEventsArgs{}, nil); err != nil {
		a.Config.Logger.Warn("queue process events", "err", err)
	}
}

// runProcessEvents queues the job every minute until ctx ends, so events
// written by a sync that did not queue it (a crash right after its
// commit, the import command) start within a minute.
func (a *App) runProcessEvents(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		a.queueProcessEvents(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
