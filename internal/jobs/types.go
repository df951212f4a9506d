package jobs

import "github.com/tenantlink/tenantlink/internal/jobs/tasks"

// The task types live in package tasks (free of River and SQL drivers);
// these names keep package jobs' callers reading as before.
type (
	Task      = tasks.Task
	LastRun   = tasks.LastRun
	TaskInput = tasks.TaskInput
	Enqueued  = tasks.Enqueued
	Schedule  = tasks.Schedule
)

// Task kinds, statuses and schedule kinds (see package tasks).
const (
	KindSync        = tasks.KindSync
	StatusQueued    = tasks.StatusQueued
	StatusRunning   = tasks.StatusRunning
	StatusSucceeded = tasks.StatusSucceeded
	StatusFailed    = tasks.StatusFailed
	StatusStopped   = tasks.StatusStopped
	EveryMinutes    = tasks.EveryMinutes
	Hourly          = tasks.Hourly
	Daily           = tasks.Daily
	Weekly          = tasks.Weekly
	Monthly         = tasks.Monthly
	Once            = tasks.Once
	OnDemand        = tasks.OnDemand
)

// ParseSchedule and DefaultSchedule are package tasks' functions.
var (
	ParseSchedule   = tasks.ParseSchedule
	DefaultSchedule = tasks.DefaultSchedule
)
