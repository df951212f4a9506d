// Package tasks holds the scheduled task's types and schedules: what the
// API, the pages and package jobs share. It has no dependency on River or
// any SQL driver, so handlers can speak of tasks without the job queue.
package tasks

import (
	"encoding/json"
	"time"

	"github.com/tenantlink/tenantlink/internal/store"
)

// KindSync is the kind of a task that runs a group member sync; its
// target is the directory group id.
const KindSync = "sync"

// Last-run statuses, the same words as a sync run's status (docs/SPEC.md
// §6), plus queued while a job waits for a worker.
const (
	StatusQueued    = store.RunQueued
	StatusRunning   = store.RunRunning
	StatusSucceeded = store.RunSucceeded
	StatusFailed    = store.RunFailed
	StatusStopped   = store.RunStopped
)

// Task is a scheduled task: the task list shows its name, schedule, last
// run, next run and status.
type Task struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Kind         string     `json:"kind"`
	Target       string     `json:"target"`
	Schedule     Schedule   `json:"schedule"`
	ScheduleText string     `json:"scheduleText"`
	Enabled      bool       `json:"enabled"`
	Status       string     `json:"status"`
	LastRun      *LastRun   `json:"lastRun,omitempty"`
	NextRun      *time.Time `json:"nextRun,omitempty"`
	// WebhookURL is set only in the answer that created the secret: it
	// is stored hashed and cannot be shown again.
	WebhookURL string    `json:"webhookUrl,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`

	// WebhookHash is the SHA-256 of the webhook secret; never shown.
	WebhookHash string `json:"-"`
}

// LastRun is the outcome of a task's latest run.
type LastRun struct {
	At      time.Time `json:"at"`
	Status  string    `json:"status"`
	Message string    `json:"message,omitempty"`
}

// TaskInput creates or changes a task. Nil fields are left as they are.
type TaskInput struct {
	Name     *string          `json:"name"`
	Kind     *string          `json:"kind"`
	Target   *string          `json:"target"`
	Schedule *json.RawMessage `json:"schedule"`
	Enabled  *bool            `json:"enabled"`
	// RotateWebhook replaces the webhook secret; the answer carries the
	// new webhook URL once.
	RotateWebhook bool `json:"rotateWebhook,omitempty"`
}

// StatusText is what the list shows in its Status column.
func (t *Task) StatusText() string {
	switch {
	case !t.Enabled:
		return "disabled"
	case t.LastRun != nil && t.LastRun.Status != "":
		return t.LastRun.Status
	case t.Schedule.Kind == OnDemand:
		return "waiting for webhook"
	}
	return "scheduled"
}

// Enqueued says what a run request did.
type Enqueued struct {
	JobID int64 `json:"job"`
	// Already is true when an equal request was still queued or running:
	// nothing new was queued.
	Already bool `json:"already"`
}
