package groupsync

import (
	"context"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Event is one change a run applied, as its EventSink receives it (its
// kinds are tenantlink.EventMemberAdded …): the one type package
// process's triggers keep too.
type Event = tenantlink.SyncEvent

// EventSink receives the changes a run applies (package process's
// triggers, wired in package app). Emit is called inside the transaction
// that applies them, with that transaction's store: what it writes
// commits or rolls back with the changes, so an event is neither lost nor
// reported for a change that did not happen. Dry runs and a sync's first
// run (which only establishes who is there) emit nothing. Watching is
// asked once a run, before anything is emitted: false spares the run the
// reads that finding events costs.
type EventSink interface {
	Watching(ctx context.Context, st store.Store, dataSourceID string) (bool, error)
	Emit(ctx context.Context, tx store.Store, events []Event) error
}

// applied is one user a page wrote, as emitPage needs it.
type applied struct {
	u      *tenantlink.User
	out    store.ImportOutcome
	member bool
}

// watching reports whether this run reports events.
func (r *runner) watching(ctx context.Context, st store.Store) (bool, error) {
	if r.s.Events == nil || r.o.DryRun || r.baseline {
		return false, nil
	}
	if r.watch == nil {
		w, err := r.s.Events.Watching(ctx, st, r.ds.ID)
		if err != nil {
			return false, err
		}
		r.watch = &w
		if w {
			if r.prevStart, err = r.lastSucceeded(ctx, st); err != nil {
				return false, err
			}
		}
	}
	return *r.watch, nil
}

// lastSucceeded returns when the sync's last succeeded real run before
// this one started (zero when none is among the last 50).
func (r *runner) lastSucceeded(ctx context.Context, st store.Store) (time.Time, error) {
	runs, err := st.ListSyncRuns(ctx, r.g.ID, 50)
	if err != nil {
		return time.Time{}, err
	}
	for _, run := range runs {
		if run.ID != r.run.ID && run.Status == store.RunSucceeded && !run.DryRun && run.StartedAt.Before(r.run.StartedAt) {
			return run.StartedAt, nil
		}
	}
	return time.Time{}, nil
}

func (r *runner) event(kind string, u *tenantlink.User, userID, objectID string) Event {
	e := Event{Kind: kind, DataSource: r.ds.ID, Tenant: strings.ToLower(r.ds.Account), Group: r.g.ID, GroupName: r.g.Name,
		SourceGroup: r.set.SourceGroup, RunID: r.run.ID, UserID: userID, ObjectID: objectID, At: r.s.now(),
		RunStarted: r.run.StartedAt, PrevRunStarted: r.prevStart}
	if u != nil {
		e.DisplayName, e.Email = u.DisplayName, u.Email
	}
	return e
}

// emitPage reports what a page applied: users created, users that became
// inactive, and members the sync did not track before (called before the
// page marks them).
func (r *runner) emitPage(ctx context.Context, tx store.Store, users []applied) error {
	if ok, err := r.watching(ctx, tx); !ok || err != nil || len(users) == 0 {
		return err
	}
	var events []Event
	var objs []string
	for _, a := range users {
		switch {
		case a.out.Outcome == store.ImportCreated:
			events = append(events, r.event(tenantlink.EventUserCreated, a.u, a.out.ID, a.u.Source.ObjectID))
		case a.out.Outcome == store.ImportUpdated && a.out.Before != nil && a.out.Before.Active && !a.u.Active:
			events = append(events, r.event(tenantlink.EventUserDisabled, a.u, a.out.ID, a.u.Source.ObjectID))
		}
		if a.member {
			objs = append(objs, a.u.Source.ObjectID)
		}
	}
	if len(objs) > 0 {
		known, err := tx.SyncMembers(ctx, r.g.ID, store.SyncMemberFilter{ObjectIDs: objs})
		if err != nil {
			return err
		}
		tracked := make(map[string]bool, len(known))
		for _, m := range known {
			tracked[m.ObjectID] = true
		}
		for _, a := range users {
			if a.member && !tracked[a.u.Source.ObjectID] {
				tracked[a.u.Source.ObjectID] = true
				events = append(events, r.event(tenantlink.EventMemberAdded, a.u, a.out.ID, a.u.Source.ObjectID))
			}
		}
	}
	if len(events) == 0 {
		return nil
	}
	return r.s.Events.Emit(ctx, tx, events)
}

// emitMissing reports, before the final phase applies them, the members
// the source no longer has and the users the missing-users policy
// disables (disabled: those it will set inactive; already inactive ones
// are not reported again).
func (r *runner) emitMissing(ctx context.Context, tx store.Store, missing []store.SyncMember, disabled []string) error {
	if ok, err := r.watching(ctx, tx); !ok || err != nil || len(missing) == 0 {
		return err
	}
	users := map[string]*tenantlink.User{}
	load := func(id string) (*tenantlink.User, error) {
		if u, ok := users[id]; ok || id == "" {
			return u, nil
		}
		u, err := tx.GetUser(ctx, id)
		if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
			u, err = nil, nil
		}
		users[id] = u
		return u, err
	}
	var events []Event
	for _, m := range missing {
		u, err := load(m.UserID)
		if err != nil {
			return err
		}
		events = append(events, r.event(tenantlink.EventMemberRemoved, u, m.UserID, m.ObjectID))
	}
	obj := map[string]string{}
	for _, m := range missing {
		obj[m.UserID] = m.ObjectID
	}
	for _, id := range disabled {
		u, err := load(id)
		if err != nil {
			return err
		}
		if u != nil && u.Active {
			events = append(events, r.event(tenantlink.EventUserDisabled, u, id, obj[id]))
		}
	}
	return r.s.Events.Emit(ctx, tx, events)
}
