package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tenantlink/tenantlink"
)

// SyncArgs is a queued group member sync. The fields tagged unique make
// the job's identity: a scheduled run is (task, due time), so replicas
// enqueuing the same tick insert one job; a manual or webhook run has no
// due time and is unique while queued or running.
type SyncArgs struct {
	TaskID  string    `json:"taskId,omitempty" river:"unique"`
	GroupID string    `json:"groupId" river:"unique"`
	Due     time.Time `json:"due,omitzero" river:"unique"`
	Trigger string    `json:"trigger" river:"unique"`
	Confirm bool      `json:"confirm,omitempty"`
	Full    bool      `json:"full,omitempty"`
	By      string    `json:"by,omitempty"`
}

// Kind is River's name for the job.
func (SyncArgs) Kind() string { return "group_sync" }

// InsertOpts makes every sync job unique by its tagged arguments in
// River's default states (queued, running, completed and not yet cleaned
// out), which is what scheduled runs need; manual runs narrow the states.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Scheduler
}

// Work runs the sync. Errors that another attempt cannot fix (a deleted
// group, sync turned off, bad settings) cancel the job; a run of the group
// already going snoozes it; anything else (Microsoft unreachable, the
// database gone, shutdown) returns the error so River retries, and the
// next attempt resumes from the stored cursor.
func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	s, a := w.s, job.Args
	log := s.logger.With("job", job.ID, "group", a.GroupID, "task", a.TaskID, "trigger", a.Trigger, "attempt", job.Attempt)
	log.Info("sync job started")
	if err := s.recordRun(ctx, a.TaskID, StatusRunning, "", s.now()); err != nil {
		return err
	}
	res, err := s.cfg.Sync(ctx, SyncRequest{GroupID: a.GroupID, TaskID: a.TaskID, Trigger: a.Trigger,
		Confirm: a.Confirm, Full: a.Full, Attempt: job.Attempt})
	// The outcome is recorded even when the job's context has ended.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		log.Info("sync job finished", "run", res.RunID, "status", res.Status)
		return s.recordRun(rctx, a.TaskID, res.Status, res.Message, s.now())
	}
	switch tenantlink.ErrorCode(err) {
	case tenantlink.ECONFLICT:
		log.Info("group is already syncing; waiting", "wait", s.cfg.ConflictWait)
		if rerr := s.recordRun(rctx, a.TaskID, StatusQueued, tenantlink.ErrorMessage(err), s.now()); rerr != nil {
			return rerr
		}
		return river.JobSnooze(s.cfg.ConflictWait)
	case tenantlink.EINVALID, tenantlink.ENOTFOUND, tenantlink.EFORBIDDEN:
		log.Warn("sync job failed; not retrying", "err", err)
		if s.groupGone(rctx, a.GroupID) {
			// The group was deleted: its task would fail every tick.
			if derr := s.GroupDeleted(rctx, a.GroupID); derr != nil {
				return derr
			}
			return river.JobCancel(err)
		}
		if rerr := s.recordRun(rctx, a.TaskID, StatusFailed, tenantlink.ErrorMessage(err), s.now()); rerr != nil {
			return rerr
		}
		return river.JobCancel(err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		log.Info("sync job interrupted; it will be retried", "err", err)
		return fmt.Errorf("sync of group %s interrupted: %w", a.GroupID, err)
	}
	log.Error("sync job failed; it will be retried", "err", err)
	msg := tenantlink.ErrorMessage(err)
	if rerr := s.recordRun(rctx, a.TaskID, StatusFailed, msg, s.now()); rerr != nil {
		return errors.Join(err, rerr)
	}
	return fmt.Errorf("sync of group %s: %w", a.GroupID, err)
}

func (s *Scheduler) groupGone(ctx context.Context, groupID string) bool {
	if s.cfg.Groups == nil {
		return false
	}
	_, err := s.cfg.Groups(ctx, groupID)
	return tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND
}
