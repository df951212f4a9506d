package groupsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// missingPage is how many tracked members one query of the final phase
// reads.
const missingPage = 1000

// finishRead applies what only the end of a read can tell — who is
// missing, who leaves the group — and stores the new cursor, all in one
// transaction, so the cursor never moves past changes that are not
// applied. Over the safety threshold without confirmation nothing of it
// is applied and the cursor stays where it was: the next run sees the
// same changes again. It reads what the decision needs (missingInput),
// decides (decideMissing, with no store) and applies (applyMissing).
func (r *runner) finishRead(ctx context.Context, cursor string, full bool) error {
	var stopMsg string
	var counts Counts
	var changes []Change
	// Override needs the users of every tracked member — a read of the
	// whole group — done before the transaction, which on SQLite holds
	// the write lock (decision 0026). Only this group's run writes its tracked
	// members, and its pages have committed, so the read is what the
	// transaction would see. A dry run's transaction adds the marks its
	// pages rolled back, so it reads there.
	var tracked map[string]bool
	if r.set.Override && !r.o.DryRun {
		var err error
		if tracked, err = r.trackedUsers(ctx, r.s.Store); err != nil {
			return err
		}
	}
	err := r.tx(ctx, func(tx store.Store) error {
		counts, changes = r.run.Counts, nil
		if r.o.DryRun {
			if err := r.writeDryMarks(ctx, tx); err != nil {
				return err
			}
		}
		missing, err := r.missing(ctx, tx, full)
		if err != nil {
			return err
		}
		// Nothing missing and no override: nothing to decide, and a large
		// group's member list is not worth loading.
		if len(missing) == 0 && !r.set.Override {
			return r.putState(ctx, tx, cursor)
		}
		g, err := tx.GetGroup(ctx, r.g.ID)
		if err != nil {
			return err
		}
		in, err := r.missingInput(ctx, tx, g.Members, missing, tracked)
		if err != nil {
			return err
		}
		d := decideMissing(in)
		counts.Kept += len(d.Kept)
		if d.Stop {
			stopMsg = stopMessage(d.Affected, len(g.Members), r.s.threshold(), r.o.DryRun)
			if !r.o.DryRun {
				return errStopped
			}
		}
		changes = missingChanges(in.Policy, d)
		if r.o.DryRun {
			// Named before they are applied: a removed user is gone after.
			if err := describe(ctx, tx, changes); err != nil {
				return err
			}
		}
		var disabling []string
		if in.Policy == MissingDisable {
			disabling = d.Targets
		}
		if err := r.emitMissing(ctx, tx, missing, disabling); err != nil {
			return err
		}
		msg, err := r.applyMissing(ctx, tx, in.Policy, d, &counts)
		if err != nil {
			if msg != "" {
				stopMsg = msg
			}
			return err
		}
		gone := make([]string, 0, len(missing))
		for _, m := range missing {
			gone = append(gone, m.ObjectID)
		}
		if _, err := tx.DeleteSyncMembers(ctx, r.g.ID, gone); err != nil {
			return err
		}
		return r.putState(ctx, tx, cursor)
	})
	if stopMsg != "" {
		r.addError("%s", stopMsg)
	}
	if err != nil {
		return err
	}
	r.run.Counts = counts
	r.applied(changes)
	return nil
}

// putState stores the run's new cursor.
func (r *runner) putState(ctx context.Context, tx store.Store, cursor string) error {
	return tx.PutSyncState(ctx, &store.SyncState{GroupID: r.g.ID, DataSource: r.ds.ID, Source: r.set.SourceGroup,
		Cursor: cursor, UpdatedAt: r.s.now()})
}

// missingInput reads what decideMissing needs about the missing members:
// the users another group's sync still has (disable and remove only) and,
// with override, the users the source still has: the tracked users (read
// in tx when tracked is nil) but the missing ones.
func (r *runner) missingInput(ctx context.Context, tx store.Store, members []string, missing []store.SyncMember, tracked map[string]bool) (missingInput, error) {
	in := missingInput{Policy: r.set.MissingUsers, Override: r.set.Override, Members: members,
		Threshold: r.s.threshold(), Confirm: r.o.Confirm}
	for _, m := range missing {
		if m.UserID != "" {
			in.Missing = append(in.Missing, m.UserID)
		}
	}
	var err error
	if (in.Policy == MissingDisable || in.Policy == MissingRemove) && len(in.Missing) > 0 {
		// A user another group's sync still has stays as it is: only
		// the last sync that has a user disables or removes it.
		if in.Elsewhere, err = tx.SyncTrackedElsewhere(ctx, r.g.ID, in.Missing); err != nil {
			return in, err
		}
	}
	if in.Override {
		if tracked == nil {
			if tracked, err = r.trackedUsers(ctx, tx); err != nil {
				return in, err
			}
		}
		in.Present = maps.Clone(tracked)
		for _, id := range in.Missing {
			delete(in.Present, id)
		}
	}
	return in, nil
}

// applyMissing does what d says under policy — disable or remove its
// targets, take its leavers out of the group — adding what the store
// changed to counts, then applies the rule that an active Administrator
// remains: when it would not, it returns the message and errLastAdmin.
func (r *runner) applyMissing(ctx context.Context, tx store.Store, policy string, d missingDecision, counts *Counts) (string, error) {
	adminTouched, err := r.mayTouchAdministrator(ctx, tx, d.Targets, d.Leavers)
	if err != nil {
		return "", err
	}
	switch policy {
	case MissingDisable:
		n, err := tx.SetUsersActive(ctx, d.Targets, false, r.s.now())
		if err != nil {
			return "", err
		}
		counts.Disabled += n
	case MissingRemove:
		n, err := tx.DeleteUsers(ctx, d.Targets)
		if err != nil {
			return "", err
		}
		counts.Removed += n
	}
	if len(d.Leavers) > 0 {
		n, err := tx.RemoveGroupMembers(ctx, r.g.ID, d.Leavers)
		if err != nil {
			return "", err
		}
		counts.LeftGroup += n
	}
	if adminTouched {
		if msg, err := r.checkAdministrators(ctx, tx); err != nil {
			return "", err
		} else if msg != "" {
			return msg, errLastAdmin
		}
	}
	return "", nil
}

// describe fills in the display name and email of changes that name a
// directory user only (a dry run lists people by name).
func describe(ctx context.Context, tx store.Store, changes []Change) error {
	for i := range changes {
		c := &changes[i]
		if c.UserID == "" || c.Email != "" {
			continue
		}
		u, err := tx.GetUser(ctx, c.UserID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		c.DisplayName, c.Email = u.DisplayName, u.Email
	}
	return nil
}

// missing returns the tracked members the source no longer has. A full
// run's are the tracked members it did not mark: a walk of the group's
// tracked members, a page at a time. An incremental run's can only be
// the ones its delta removed, still marked gone by this run (one the same
// round added back carries the run's own mark again): they are looked up
// by object id, so the cost follows the changes, not the group's size.
func (r *runner) missing(ctx context.Context, tx store.Store, full bool) ([]store.SyncMember, error) {
	var missing []store.SyncMember
	if !full {
		ids := slices.Sorted(maps.Keys(r.gone))
		for part := range slices.Chunk(ids, missingPage) {
			ms, err := tx.SyncMembers(ctx, r.g.ID, store.SyncMemberFilter{ObjectIDs: part, Mark: gonePrefix + r.mark()})
			if err != nil {
				return nil, err
			}
			missing = append(missing, ms...)
		}
		return missing, nil
	}
	f := store.SyncMemberFilter{NotMark: r.mark(), Limit: missingPage}
	for {
		ms, err := tx.SyncMembers(ctx, r.g.ID, f)
		if err != nil {
			return nil, err
		}
		missing = append(missing, ms...)
		if len(ms) < missingPage {
			return missing, nil
		}
		f.After = ms[len(ms)-1].ObjectID
	}
}

// trackedUsers returns the directory users of the group's tracked
// members, read from st a page at a time; the set holds ids only.
func (r *runner) trackedUsers(ctx context.Context, st store.Store) (map[string]bool, error) {
	present := map[string]bool{}
	f := store.SyncMemberFilter{Limit: missingPage}
	for {
		ms, err := st.SyncMembers(ctx, r.g.ID, f)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.UserID != "" {
				present[m.UserID] = true
			}
		}
		if len(ms) < missingPage {
			return present, nil
		}
		f.After = ms[len(ms)-1].ObjectID
	}
}

// writeDryMarks stores, inside the dry run's final transaction (which
// rolls back), the marks its pages could not keep.
func (r *runner) writeDryMarks(ctx context.Context, tx store.Store) error {
	seen := make([]store.SyncMember, 0, len(r.drySeen))
	for obj, uid := range r.drySeen {
		seen = append(seen, store.SyncMember{ObjectID: obj, UserID: uid})
	}
	if err := tx.MarkSyncMembers(ctx, r.g.ID, r.mark(), seen); err != nil {
		return err
	}
	gone := make([]store.SyncMember, 0, len(r.gone))
	for obj := range r.gone {
		gone = append(gone, store.SyncMember{ObjectID: obj})
	}
	return tx.MarkSyncMembers(ctx, r.g.ID, gonePrefix+r.mark(), gone)
}

// mayTouchAdministrator reports, before this run's disables, removals and
// departures are written, whether they can take the role from someone:
// people leave a group that grants it, or an affected user holds it. Only
// then does the run pay for the directory-wide check afterwards.
func (r *runner) mayTouchAdministrator(ctx context.Context, tx store.Store, targets, leavers []string) (bool, error) {
	if len(targets) == 0 && len(leavers) == 0 {
		return false, nil
	}
	groups, err := tx.ListGroups(ctx)
	if err != nil {
		return false, err
	}
	adminGroups := map[string]bool{}
	for _, g := range groups {
		if slices.Contains(g.Roles, tenantlink.RoleAdministrator) {
			adminGroups[g.ID] = true
		}
	}
	if len(leavers) > 0 && adminGroups[r.g.ID] {
		return true, nil
	}
	if len(targets) > adminProbeLimit {
		return true, nil
	}
	for _, id := range targets {
		u, err := tx.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if u.Active && (u.HasRole(tenantlink.RoleAdministrator) || slices.ContainsFunc(u.Groups, func(g string) bool { return adminGroups[g] })) {
			return true, nil
		}
	}
	return false, nil
}

// adminProbeLimit is how many affected users are looked at one by one
// before the run checks the whole directory instead.
const adminProbeLimit = 200

// checkAdministrators applies, after the run's changes were written in
// tx, the directory's rule that an active Administrator remains
// (directory.EnsureAdministrator, the API's rule). It returns the message
// for a run that must stop; the caller rolls the step back.
func (r *runner) checkAdministrators(ctx context.Context, tx store.Store) (string, error) {
	err := directory.EnsureAdministrator(ctx, tx)
	if !errors.Is(err, directory.ErrLastAdministrator) {
		return "", err
	}
	lead := "Stopped"
	if r.o.DryRun {
		lead = "A real run would stop"
	}
	return fmt.Sprintf("%s: disabling, removing or taking out of group %q the users this run no longer has would leave no active Administrator. Nothing of that was applied and the stored position stays; give another user the Administrator role first, or change the sync's settings.", lead, r.g.Name), nil
}
