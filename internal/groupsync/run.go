package groupsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

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
}

func (r *runner) mark() string { return r.run.ID }

func (r *runner) addError(format string, args ...any) {
	if len(r.run.Errors) >= maxErrors {
		r.dropped++
		return
	}
	r.run.Errors = append(r.run.Errors, fmt.Sprintf(format, args...))
}

func (r *runner) addChange(c Change) {
	if r.o.DryRun && len(r.run.Changes) < MaxChanges {
		r.run.Changes = append(r.run.Changes, c)
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
	r.o.Progress(Progress{Phase: phase, Seen: r.seen, Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged,
		Disabled: c.Disabled, Removed: c.Removed, LeftGroup: c.LeftGroup, Total: -1})
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
// add the members, mark the removed. The run record's counts are written
// in the same transaction, so what the UI shows has committed.
func (r *runner) page(ctx context.Context, users []connector.SourceUser, removed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	counts := r.run.Counts
	var errs []string
	var changes []Change
	var seen map[string]string
	var gone []string
	err := r.tx(ctx, func(tx store.Store) error {
		errs, changes, seen, gone = nil, nil, nil, nil
		counts = r.run.Counts
		// Attribute-only changes apply to members this sync imported.
		var attr []string
		for _, u := range users {
			if u.AttributesOnly {
				attr = append(attr, u.ObjectID)
			}
		}
		tracked := map[string]bool{}
		// Members this run already applied (added earlier in the round)
		// are applied again in case they changed, but counted once.
		already := map[string]bool{}
		if len(attr) > 0 {
			ms, err := tx.SyncMembers(ctx, r.g.ID, store.SyncMemberFilter{ObjectIDs: attr})
			if err != nil {
				return err
			}
			for _, m := range ms {
				if !strings.HasPrefix(m.Mark, gonePrefix) {
					tracked[m.ObjectID] = true
				}
				if m.Mark == r.mark() {
					already[m.ObjectID] = true
				}
			}
		}
		now := r.s.now()
		var in []*tenantlink.User
		var member []bool
		for _, su := range users {
			if su.AttributesOnly && (!tracked[su.ObjectID] || r.drySeen[su.ObjectID] != "") {
				continue
			}
			if su.Partial {
				// Only what changed arrived: the rest is as imported.
				prev, err := tx.GetUserBySource(ctx, r.ds.ID, su.ObjectID)
				switch {
				case tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND && su.Has(connector.FieldEmail):
					// A new user: what Graph did not send was never set.
					su = completePartial(&tenantlink.User{Active: true}, su)
				case tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND:
					errs = append(errs, fmt.Sprintf("user %q (object %s) changed in Microsoft 365 but was never imported (an earlier import of it failed); a full read will try it again", su.DisplayName, su.ObjectID))
					continue
				case err != nil:
					return err
				default:
					su = completePartial(prev, su)
				}
			}
			email := strings.ToLower(strings.TrimSpace(su.Email))
			if email == "" || su.ObjectID == "" {
				if !su.AttributesOnly {
					counts.Skipped++
				}
				errs = append(errs, fmt.Sprintf("user %q (object %s) not imported: it has no email address or user principal name", su.DisplayName, su.ObjectID))
				continue
			}
			in = append(in, &tenantlink.User{
				Email: email, DisplayName: su.DisplayName, GivenName: su.GivenName, Surname: su.Surname,
				JobTitle: su.JobTitle, Department: su.Department, Active: su.Enabled,
				Roles:     []tenantlink.Role{tenantlink.RoleUser},
				Source:    &tenantlink.UserSource{DataSource: r.ds.ID, ObjectID: su.ObjectID, Tenant: strings.ToLower(r.ds.Account)},
				CreatedAt: now, UpdatedAt: now,
			})
			member = append(member, !su.AttributesOnly)
		}
		var marks []store.SyncMember
		var ids []string
		var done []applied
		bs := r.s.batchSize()
		for pi, part := range slices.Collect(slices.Chunk(in, bs)) {
			outs, err := tx.UpsertImportedUsers(ctx, r.ds.ID, part)
			if err != nil {
				return err
			}
			for i, o := range outs {
				u := part[i]
				done = append(done, applied{u: u, out: o, member: member[pi*bs+i] && o.Outcome != store.ImportConflict})
				switch o.Outcome {
				case store.ImportCreated:
					counts.Created++
					changes = append(changes, Change{Action: "create", UserID: o.ID, ObjectID: u.Source.ObjectID, Email: u.Email})
				case store.ImportUpdated:
					counts.Updated++
					changes = append(changes, Change{Action: "update", UserID: o.ID, ObjectID: u.Source.ObjectID, Email: u.Email, Detail: diff(o.Before, u)})
				case store.ImportUnchanged:
					if !already[u.Source.ObjectID] {
						counts.Unchanged++
					}
				case store.ImportConflict:
					if member[pi*bs+i] {
						counts.Skipped++
					}
					errs = append(errs, fmt.Sprintf("user %s (object %s) not imported: the email belongs to directory user %s (a local account, or a user of another tenant), which a sync never takes over and leaves as it is", u.Email, u.Source.ObjectID, o.ConflictWith))
					changes = append(changes, Change{Action: "skip", ObjectID: u.Source.ObjectID, Email: u.Email, Detail: "email belongs to user " + o.ConflictWith})
					continue
				}
				if member[pi*bs+i] {
					marks = append(marks, store.SyncMember{ObjectID: u.Source.ObjectID, UserID: o.ID})
					ids = append(ids, o.ID)
				}
			}
		}
		if err := r.emitPage(ctx, tx, done); err != nil {
			return err
		}
		if len(marks) > 0 {
			if r.o.DryRun {
				seen = map[string]string{}
				for _, m := range marks {
					seen[m.ObjectID] = m.UserID
				}
			}
			if err := tx.MarkSyncMembers(ctx, r.g.ID, r.mark(), marks); err != nil {
				return err
			}
			if _, err := tx.AddGroupMembers(ctx, r.g.ID, ids); err != nil {
				return err
			}
		}
		if len(removed) > 0 {
			ms, err := tx.SyncMembers(ctx, r.g.ID, store.SyncMemberFilter{ObjectIDs: removed})
			if err != nil {
				return err
			}
			for _, m := range ms {
				gone = append(gone, m.ObjectID)
			}
			if len(ms) > 0 {
				if err := tx.MarkSyncMembers(ctx, r.g.ID, gonePrefix+r.mark(), ms); err != nil {
					return err
				}
			}
		}
		if r.o.DryRun {
			return nil
		}
		next := *r.run
		next.Counts = counts
		rec, err := next.toStore(r.s.now())
		if err != nil {
			return err
		}
		return tx.UpdateSyncRun(ctx, rec)
	})
	if err != nil {
		return fmt.Errorf("apply page: %w", err)
	}
	r.run.Counts = counts
	r.seen += len(users) + len(removed)
	for _, e := range errs {
		r.addError("%s", e)
	}
	for _, c := range changes {
		r.addChange(c)
	}
	for k, v := range seen {
		r.drySeen[k] = v
	}
	for _, id := range gone {
		r.gone[id] = true
	}
	r.progress(PhaseReading)
	return nil
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
