package jobs

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Insert queues any job on the scheduler's queue (package realtime's jobs
// and its coalesced group syncs, whose SyncArgs use Trigger "realtime").
func (s *Scheduler) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return s.q.Insert(ctx, args, opts)
}
