package tenantlink

import (
	"strings"
	"time"
)

// Sync event kinds: the tenant changes a group member sync run reports
// (package groupsync) and that start process triggers (package process;
// decision 0024).
const (
	EventMemberAdded   = "member.added"   // a user joined the synced source group
	EventMemberRemoved = "member.removed" // a user left it (or was deleted in the tenant)
	EventUserCreated   = "user.created"   // the run created the directory user
	EventUserDisabled  = "user.disabled"  // the user became inactive (disabled in the tenant, or by the missing-users policy)
)

// SyncEventKinds lists the kinds in documentation order.
var SyncEventKinds = []string{EventMemberAdded, EventMemberRemoved, EventUserCreated, EventUserDisabled}

// SyncEvent is one change a group member sync run applied, as it reports
// it and as the process trigger it starts keeps it (decision 0024). The
// user's fields are as imported (Email is the mail address, else the user
// principal name).
type SyncEvent struct {
	Kind        string `json:"kind"`
	DataSource  string `json:"datasource"`
	Tenant      string `json:"tenant"`
	Group       string `json:"group"`     // the directory group whose sync applied it
	GroupName   string `json:"groupName"` // its name then
	SourceGroup string `json:"sourceGroup"`
	RunID       string `json:"runId"`
	UserID      string `json:"userId"`
	ObjectID    string `json:"objectId"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	// At is when the run applied the change.
	At time.Time `json:"at"`
	// RunStarted is when the run started: it read the change after that.
	// PrevRunStarted is when the sync's last succeeded run before it
	// started (zero when unknown): for a member event, the sync saw the
	// user on the other side of the change (out of the group for a join,
	// in it for a leave) at or after that. Package process orders the
	// reports of several syncs of one tenant group with them (decision
	// 0024).
	RunStarted     time.Time `json:"runStarted"`
	PrevRunStarted time.Time `json:"prevRunStarted"`
}

// Key identifies the event as the sync that applied it reported it. A
// run applies each change once, and a change committed by one run is not
// applied again by the next (a replayed page finds the user imported and
// tracked already), so kind, group, object and run make it unique. Two
// syncs of one tenant group report one membership change under two keys:
// package process gives member events a key of the change itself.
func (e SyncEvent) Key() string {
	return strings.Join([]string{e.Kind, e.Group, e.ObjectID, e.RunID}, ":")
}
