// Package jobs owns tenantlink's background work: the River job queue
// (sharing tenantlink's database, SQLite or PostgreSQL), scheduled tasks
// stored in the tasks table with their schedules and next-run times, the
// ticker that turns due tasks into queued jobs exactly once across
// replicas, the on-demand webhook, and the worker that runs a group member
// sync. Any replica may enqueue and any may work a job; a run interrupted
// by a crash is retried by River and resumes where it stopped.
package jobs
