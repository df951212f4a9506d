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
	return t.p.Emit(ctx, tx, events)
}

// processEventsArgs is the River job that starts the instances of the
// pending process events, for the one-second slot starting at Due. It is
// unique by slot in every state: requests share a job until it starts,
// and a request that finds its slot's job started queues the next slot's
// (as realtime's runs do), so events committed while a job runs are never
// left for the minute's tick.
type processEventsArgs struct {
	Due time.Time `json:"due" river:"unique"`
}

func (processEventsArgs) Kind() string { return "process_events" }

func (processEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// pruneEvery is how often runProcessEvents prunes the trigger history.
const pruneEvery = time.Hour

// processEventsSlot is the width of a slot.
const processEventsSlot = time.Second

type processEventsWorker struct {
	river.WorkerDefaults[processEventsArgs]
	p *process.Service
}

// Work waits for its slot, then starts every pending event's instance, a
// batch at a time.
func (w *processEventsWorker) Work(ctx context.Context, job *river.Job[processEventsArgs]) error {
	if d := time.Until(job.Args.Due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
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

// queueProcessEvents queues the job that starts pending process events:
// the current slot's, or the next one's when that has started.
func (a *App) queueProcessEvents(ctx context.Context) {
	if a.Jobs == nil || a.Config.Jobs.Disabled {
		return
	}
	start := time.Now().Truncate(processEventsSlot)
	for j := range 3 {
		res, err := a.Jobs.Insert(ctx, processEventsArgs{Due: start.Add(time.Duration(j) * processEventsSlot)}, nil)
		if err != nil {
			a.Config.Logger.Warn("queue process events", "err", err)
			return
		}
		if !res.UniqueSkippedAsDuplicate {
			return
		}
		switch res.Job.State {
		case rivertype.JobStateRunning, rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			continue // started already: it may have looked before this request's events committed
		}
		return // waiting: it will see them
	}
}

// runProcessEvents queues the job every minute until ctx ends, so events
// written by a sync that did not queue it (a crash right after its
// commit, the import command) start within a minute. Once at start and
// then every pruneEvery it prunes the trigger history (process.Service.Prune;
// every replica may: the deletes are idempotent).
func (a *App) runProcessEvents(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	var pruned time.Time
	for {
		a.queueProcessEvents(ctx)
		if now := time.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			if _, _, err := a.Processes.Prune(ctx); err != nil && ctx.Err() == nil {
				a.Config.Logger.Warn("prune process trigger history", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
