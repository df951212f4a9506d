package groupsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/store"
)

// errRollback ends a dry run's transactions without committing them.
var errRollback = errors.New("dry run: roll back")

// errStopped ends a run stopped by the safety threshold.
var errStopped = errors.New("stopped for confirmation")

// errLastAdmin ends a run whose final phase would leave no active
// Administrator.
var errLastAdmin = errors.New("would leave no active Administrator")

// errClosedElsewhere cancels a run whose record was closed by someone
// else: an Administrator stopped it, or another process took it for dead.
var errClosedElsewhere = errors.New("the run was closed from outside")

const gonePrefix = "gone:"

// runner is one run in progress.
type runner struct {
	s      *Service
	p      *tenantlink.Principal
	g      *tenantlink.Group
	set    *tenantlink.SyncSettings
	ds     *tenantlink.DataSource
	reader connector.DirectoryReader
	o      RunOptions
	run    *Run
	log    *slog.Logger

	seen    int
	dropped int // error items beyond maxErrors
	// A dry run commits nothing, so the marks a real run stores per page
	// are kept here (object id → user id) and written inside the final,
	// rolled-back transaction. Ids only: a dry run of a large tenant costs
	// a few tens of bytes per member.
	drySeen map[string]string
	// gone are the tracked members this run marked gone (left the group
	// or deleted), by object id. On an incremental run they are the only
	// candidates for missing, so the final phase looks them up by id
	// rather than searching the group's tracked members for the mark. Ids
	// only, and only as many as the delta removed.
	gone map[string]bool
	// baseline: the sync has no position of this source yet, so this
	// run establishes who is there and reports no events; watch caches
	// the EventSink's Watching.
	baseline bool
	watch    *bool
	// prevStart is when the sync's last succeeded run started (set with
	// watch; see Event.PrevRunStarted).
	prevStart time.Time
	// dry is the changes a dry run lists (see applied).
	dry changeList
}

func (r *runner) mark() string { return r.run.ID }

func (r *runner) addError(format string, args ...any) {
	if len(r.run.Errors) >= maxErrors {
		r.dropped++
		return
	}
	r.run.Errors = append(r.run.Errors, fmt.Sprintf(format, args...))
}

// applied is the one place every change of a run passes, once the
// transaction that made it committed (a dry run's changes: once the
// transaction that would have made them rolled back), in the order they
// were made. A dry run keeps the first MaxChanges of each action by name
// for its record.
func (r *runner) applied(cs []Change) {
	if r.o.DryRun {
		r.dry.add(cs...)
	}
}

// tx runs fn in a transaction that commits, or, in a dry run, always
// rolls back (fn's work is still done, so counts are exact).
func (r *runner) tx(ctx context.Context, fn func(store.Store) error) error {
	err := r.s.Store.InTx(ctx, func(tx store.Store) error {
		if err := fn(tx); err != nil {
			return err
		}
		if r.o.DryRun {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		return nil
	}
	return err
}

func (r *runner) progress(phase string) {
	if r.o.Progress == nil {
		return
	}
	c := r.run.Counts
	p := Progress{Phase: phase, Seen: r.seen, Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged,
		Disabled: c.Disabled, Removed: c.Removed, LeftGroup: c.LeftGroup, Total: -1}
	if r.run.Total > 0 {
		p.Total = r.run.Total
	}
	if !r.run.Full {
		p.Unchanged = -1
	}
	r.o.Progress(p)
}

// countTimeout bounds asking the connector for a full read's total: the
// total only draws a progress bar, and a slow answer must not hold the
// run.
const countTimeout = 15 * time.Second

// countTotal asks the connector, when it can say (connector.MemberCounter),
// how many users the full read about to start will deliver, and stores it
// with the run's record so the group page — served by any replica — shows
// "x of y". A failure only leaves the total unknown.
func (r *runner) countTotal(ctx context.Context) {
	mc, ok := r.reader.(connector.MemberCounter)
	if !ok {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, countTimeout)
	n, err := mc.CountSourceMembers(cctx, r.ds, r.s.DataSources.Credentials(), r.set.SourceGroup)
	cancel()
	if err != nil {
		r.log.Warn("group sync: the source's member count is unknown; progress is shown without a total", "err", err)
		return
	}
	r.run.Total = n
	if r.o.DryRun {
		return
	}
	rec, err := r.run.toStore(r.s.now())
	if err == nil {
		err = r.s.Store.UpdateSyncRun(ctx, rec)
	}
	if err != nil {
		r.log.Warn("group sync: store the run's total", "err", err)
	}
}

// execute runs the sync and leaves the outcome in r.run.
func (r *runner) execute(ctx context.Context) {
	r.gone = map[string]bool{}
	if r.o.DryRun {
		r.drySeen = map[string]string{}
	}
	cursor := ""
	st, err := r.s.Store.GetSyncState(ctx, r.g.ID)
	switch {
	case err == nil:
		// A cursor belongs to one data source and source group: after a
		// change of either, only a full read knows who is missing.
		if !r.o.Full && st.DataSource == r.ds.ID && st.Source == r.set.SourceGroup {
			cursor = st.Cursor
		}
	case !errors.Is(err, store.ErrNotFound):
		r.fail(ctx, err)
		return
	}
	r.baseline = err != nil || st.DataSource != r.ds.ID || st.Source != r.set.SourceGroup
	r.run.Full = cursor == ""
	if r.run.Full {
		r.countTotal(ctx)
	}
	r.progress(PhaseReading)
	newCursor, full, err := r.reader.ReadGroupMembers(ctx, r.ds, r.s.DataSources.Credentials(), r.set.SourceGroup, cursor, func(users []connector.SourceUser, removed []string) error {
		return r.page(ctx, users, removed)
	})
	if err != nil {
		r.fail(ctx, err)
		return
	}
	r.run.Full = full
	if c := r.run.Counts; full && c.Skipped > 0 && c.Created+c.Updated+c.Unchanged == 0 {
		// A full read whose every user was refused: nothing was imported,
		// and the final phase would take everyone tracked for missing.
		// Fail with the cursor where it was, so the next run reads them
		// again. (An incremental run whose few new members were refused
		// goes on: its other changes must not wait for them.)
		r.run.Status = store.RunFailed
		r.run.Errors = append([]string{fmt.Sprintf("Nothing was imported: all %d users the source returned were refused (see the errors below). Nothing else was changed; the next run reads them again.", c.Skipped)}, r.run.Errors...)
		r.log.Warn("group sync imported nothing", "skipped", c.Skipped)
		return
	}
	r.progress(PhaseMissing)
	if err := r.finishRead(ctx, newCursor, full); err != nil {
		switch {
		case errors.Is(err, errStopped):
			r.run.Status = store.RunStopped
			return
		case errors.Is(err, errLastAdmin):
			r.run.Status = store.RunFailed
			return
		}
		r.fail(ctx, err)
		return
	}
	r.run.Status = store.RunSucceeded
	if r.dropped > 0 {
		r.run.Errors = append(r.run.Errors, fmt.Sprintf("… and %d more errors (see the logs)", r.dropped))
	}
	r.progress(PhaseDone)
}

// fail records why a run ended early. What was committed stays and is in
// the counts; the stored cursor still points before the uncommitted pages.
func (r *runner) fail(ctx context.Context, err error) {
	switch {
	case errors.Is(context.Cause(ctx), errClosedElsewhere):
		r.run.Status = store.RunStopped
		r.addError("Stopped before the end: the run was closed from outside (stopped by an Administrator, or taken for dead). Changes already applied are kept.")
	case ctx.Err() != nil:
		r.run.Status = store.RunStopped
		r.addError("Stopped before the end: the run was cancelled. Changes already applied are kept and counted; the next run picks up from the last stored position.")
	case errors.Is(err, connector.ErrReauthorize):
		r.run.Status = store.RunFailed
		r.addError("The data source refused the stored authorization: %s Re-authorize the data source; changes already applied are kept and counted.", strings.TrimSuffix(message(err), ".")+".")
		if rerr := r.s.DataSources.Refused(context.WithoutCancel(ctx), r.ds.ID, err); rerr != nil {
			r.log.Error("group sync: mark data source", "err", rerr)
		}
	default:
		r.run.Status = store.RunFailed
		r.addError("%s", message(err))
	}
	r.log.Warn("group sync ended early", "status", r.run.Status, "err", err)
}

// message is what a person reads about err: the tenantlink message, or
// the error text for other errors (they carry no secrets: Graph errors
// name the method and path, never tokens or queries).
func message(err error) string {
	var te *tenantlink.Error
	if errors.As(err, &te) {
		return te.Message
	}
	return err.Error()
}

// page applies one page in one transaction: upsert the users, track and
// add the members, mark the removed. The run record's counts and position
// are written in the same transaction, so what the UI shows has
// committed. What to import and what it amounts to are decided by
// planPage and tallyPage; this reads what they need and applies it.
func (r *runner) page(ctx context.Context, users []connector.SourceUser, removed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var res pageResult
	var gone []string
	seen := r.seen + len(users) + len(removed)
	err := r.tx(ctx, func(tx store.Store) error {
		in, err := r.readPage(ctx, tx, users)
		if err != nil {
			return err
		}
		plan := planPage(in)
		outs, err := upsertUsers(ctx, tx, r.ds.ID, plan.Upsert, r.s.batchSize())
		if err != nil {
			return err
		}
		res = tallyPage(plan, outs, in.Already, r.run.Counts)
		done := make([]applied, len(outs))
		for i, o := range outs {
			done[i] = applied{u: plan.Upsert[i], out: o, member: plan.Member[i] && o.Outcome != store.ImportConflict}
		}
		// Before the page marks its members: a member not tracked yet joined.
		if err := r.emitPage(ctx, tx, done); err != nil {
			return err
		}
		if gone, err = r.applyPage(ctx, tx, res.Marks, removed); err != nil {
			return err
		}
		if r.o.DryRun {
			return nil
		}
		next := *r.run
		next.Counts, next.Seen, next.Total = res.Counts, seen, totalFor(r.run.Total, seen)
		rec, err := next.toStore(r.s.now())
		if err != nil {
			return err
		}
		return tx.UpdateSyncRun(ctx, rec)
	})
	if err != nil {
		return fmt.Errorf("apply page: %w", err)
	}
	r.run.Counts = res.Counts
	r.seen, r.run.Seen = seen, seen
	r.run.Total = totalFor(r.run.Total, seen)
	for _, e := range res.Errors {
		r.addError("%s", e)
	}
	r.applied(res.Changes)
	if r.o.DryRun {
		for _, m := range res.Marks {
			r.drySeen[m.ObjectID] = m.UserID
		}
	}
	for _, id := range gone {
		r.gone[id] = true
	}
	r.progress(PhaseReading)
	return nil
}

// totalFor is the total to show after seen members: the source's count,
// or seen when the read has gone past it (Graph counts from an eventually
// consistent index, so members added just before the run may be read and
// not yet counted); 0 stays unknown.
func totalFor(total, seen int) int {
	if total > 0 && seen > total {
		return seen
	}
	return total
}

// readPage reads what planPage needs: which attribute-only users this
// sync tracks (and which this run already applied), and the stored user
// of each partial change.
func (r *runner) readPage(ctx context.Context, tx store.Store, users []connector.SourceUser) (pageInput, error) {
	in := pageInput{Users: users, Tracked: map[string]bool{}, Already: map[string]bool{}, DrySeen: r.drySeen,
		Prev: map[string]*tenantlink.User{}, DataSource: r.ds.ID, Tenant: strings.ToLower(r.ds.Account), Now: r.s.now()}
	var attr []string
	for _, u := range users {
		if u.AttributesOnly {
			attr = append(attr, u.ObjectID)
		}
	}
	if len(attr) > 0 {
		ms, err := tx.SyncMembers(ctx, r.g.ID, store.SyncMemberFilter{ObjectIDs: attr})
		if err != nil {
			return in, err
		}
		for _, m := range ms {
			if !strings.HasPrefix(m.Mark, gonePrefix) {
				in.Tracked[m.ObjectID] = true
			}
			if m.Mark == r.mark() {
				in.Already[m.ObjectID] = true
			}
		}
	}
	for _, su := range users {
		if _, read := in.Prev[su.ObjectID]; !su.Partial || read || !in.applies(su) {
			continue
		}
		prev, err := tx.GetUserBySource(ctx, r.ds.ID, su.ObjectID)
		switch {
		case tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND:
			in.Prev[su.ObjectID] = nil
		case err != nil:
			return in, err
		default:
			in.Prev[su.ObjectID] = prev
		}
	}
	return in, nil
}

// upsertUsers imports users in statements of batch users and returns
// their outcomes in order.
func upsertUsers(ctx context.Context, tx store.Store, datasource string, users []*tenantlink.User, batch int) ([]store.ImportOutcome, error) {
	outs := make([]store.ImportOutcome, 0, len(users))
	for part := range slices.Chunk(users, batch) {
		o, err := tx.UpsertImportedUsers(ctx, datasource, part)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o...)
	}
	return outs, nil
}

// applyPage marks the page's members as seen by this run and adds them to
// the group, and marks the tracked members the page removed as gone. It
// returns the object ids marked gone.
func (r *runner) applyPage(ctx context.Context, tx store.Store, marks []store.SyncMember, removed []string) ([]string, error) {
	if len(marks) > 0 {
		if err := tx.MarkSyncMembers(ctx, r.g.ID, r.mark(), marks); err != nil {
			return nil, err
		}
		ids := make([]string, len(marks))
		for i, m := range marks {
			ids[i] = m.UserID
		}
		if _, err := tx.AddGroupMembers(ctx, r.g.ID, ids); err != nil {
			return nil, err
		}
	}
	if len(removed) == 0 {
		return nil, nil
	}
	ms, err := tx.SyncMembers(ctx, r.g.ID, store.SyncMemberFilter{ObjectIDs: removed})
	if err != nil {
		return nil, err
	}
	gone := make([]string, 0, len(ms))
	for _, m := range ms {
		gone = append(gone, m.ObjectID)
	}
	if len(ms) > 0 {
		if err := tx.MarkSyncMembers(ctx, r.g.ID, gonePrefix+r.mark(), ms); err != nil {
			return nil, err
		}
	}
	return gone, nil
}

// diff names the imported fields that changed.
func diff(before, after *tenantlink.User) string {
	if before == nil {
		return ""
	}
	var d []string
	add := func(name, a, b string) {
		if a != b {
			d = append(d, fmt.Sprintf("%s %q → %q", name, a, b))
		}
	}
	add("email", before.Email, after.Email)
	add("displayName", before.DisplayName, after.DisplayName)
	add("givenName", before.GivenName, after.GivenName)
	add("surname", before.Surname, after.Surname)
	add("jobTitle", before.JobTitle, after.JobTitle)
	add("department", before.Department, after.Department)
	if before.Active != after.Active {
		d = append(d, fmt.Sprintf("active %v → %v", before.Active, after.Active))
	}
	return strings.Join(d, ", ")
}

// completePartial is the whole user a partial change makes of prev, the
// user as imported before: the fields the change carries, prev's for the
// others.
func completePartial(prev *tenantlink.User, su connector.SourceUser) connector.SourceUser {
	out := connector.SourceUser{ObjectID: su.ObjectID, AttributesOnly: su.AttributesOnly,
		Email: prev.Email, DisplayName: prev.DisplayName, GivenName: prev.GivenName, Surname: prev.Surname,
		JobTitle: prev.JobTitle, Department: prev.Department, Enabled: prev.Active}
	for _, f := range []struct {
		field    connector.SourceFields
		dst, src *string
	}{
		{connector.FieldEmail, &out.Email, &su.Email},
		{connector.FieldDisplayName, &out.DisplayName, &su.DisplayName},
		{connector.FieldGivenName, &out.GivenName, &su.GivenName},
		{connector.FieldSurname, &out.Surname, &su.Surname},
		{connector.FieldJobTitle, &out.JobTitle, &su.JobTitle},
		{connector.FieldDepartment, &out.Department, &su.Department},
	} {
		if su.Has(f.field) {
			*f.dst = *f.src
		}
	}
	if su.Has(connector.FieldEnabled) {
		out.Enabled = su.Enabled
	}
	return out
}
