package groupsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
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
// same changes again.
func (r *runner) finishRead(ctx context.Context, cursor string, full bool) error {
	var stopMsg string
	counts := r.run.Counts
	var changes []Change
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
			return tx.PutSyncState(ctx, &store.SyncState{GroupID: r.g.ID, DataSource: r.ds.ID, Source: r.set.SourceGroup,
				Cursor: cursor, UpdatedAt: r.s.now()})
		}
		g, err := tx.GetGroup(ctx, r.g.ID)
		if err != nil {
			return err
		}
		// Gather what the decision needs (reads), decide (pure), apply.
		in := missingInput{Policy: r.set.MissingUsers, Override: r.set.Override, Members: g.Members,
			Threshold: r.s.threshold(), Confirm: r.o.Confirm}
		for _, m := range missing {
			if m.UserID != "" {
				in.Missing = append(in.Missing, m.UserID)
			}
		}
		if (in.Policy == MissingDisable || in.Policy == MissingRemove) && len(in.Missing) > 0 {
			// A user another group's sync still has stays as it is: only
			// the last sync that has a user disables or removes it.
			if in.Elsewhere, err = tx.SyncTrackedElsewhere(ctx, r.g.ID, in.Missing); err != nil {
				return err
			}
		}
		if in.Override {
			missingUser := make(map[string]bool, len(in.Missing))
			for _, id := range in.Missing {
				missingUser[id] = true
			}
			if in.Present, err = r.presentUsers(ctx, tx, missingUser); err != nil {
				return err
			}
		}
		d := decideMissing(in)
		targets, leavers := d.Targets, d.Leavers
		for _, id := range d.Kept {
			changes = append(changes, Change{Action: "keep", UserID: id, Detail: "another group's sync still imports this user"})
		}
		counts.Kept += len(d.Kept)
		if d.Stop {
			n := d.Affected
			pct := 100.0
			if len(g.Members) > 0 {
				pct = 100 * float64(n) / float64(len(g.Members))
			}
			lead := "Stopped for confirmation: this run would"
			if r.o.DryRun {
				lead = "A real run would stop for confirmation: it would"
			}
			stopMsg = fmt.Sprintf("%s disable, remove or take out of the group %d of the group's %d members (%.0f%%, over the %.0f%% safety threshold). Nothing of that was applied; run it again with confirmation to proceed.",
				lead, n, len(g.Members), math.Round(pct), 100*r.s.threshold())
			if !r.o.DryRun {
				return errStopped
			}
		}
		policy := in.Policy
		var disabling []string
		if policy == MissingDisable {
			disabling = targets
		}
		if err := r.emitMissing(ctx, tx, missing, disabling); err != nil {
			return err
		}
		adminTouched, err := r.mayTouchAdministrator(ctx, tx, targets, leavers)
		if err != nil {
			return err
		}
		switch policy {
		case MissingDisable:
			n, err := tx.SetUsersActive(ctx, targets, false, r.s.now())
			if err != nil {
				return err
			}
			counts.Disabled += n
			for _, id := range targets {
				changes = append(changes, Change{Action: "disable", UserID: id})
			}
		case MissingRemove:
			n, err := tx.DeleteUsers(ctx, targets)
			if err != nil {
				return err
			}
			counts.Removed += n
			for _, id := range targets {
				changes = append(changes, Change{Action: "remove", UserID: id})
			}
		}
		if len(leavers) > 0 {
			n, err := tx.RemoveGroupMembers(ctx, r.g.ID, leavers)
			if err != nil {
				return err
			}
			counts.LeftGroup += n
			for _, id := range leavers {
				changes = append(changes, Change{Action: "leaveGroup", UserID: id})
			}
		}
		if adminTouched {
			if msg, err := r.checkAdministrators(ctx, tx); err != nil {
				return err
			} else if msg != "" {
				stopMsg = msg
				return errLastAdmin
			}
		}
		gone := make([]string, 0, len(missing))
		for _, m := range missing {
			gone = append(gone, m.ObjectID)
		}
		if _, err := tx.DeleteSyncMembers(ctx, r.g.ID, gone); err != nil {
			return err
		}
		return tx.PutSyncState(ctx, &store.SyncState{GroupID: r.g.ID, DataSource: r.ds.ID, Source: r.set.SourceGroup,
			Cursor: cursor, UpdatedAt: r.s.now()})
	})
	if stopMsg != "" {
		r.addError("%s", stopMsg)
	}
	if err != nil {
		return err
	}
	r.run.Counts = counts
	for _, c := range changes {
		r.addChange(c)
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

// presentUsers returns the directory users of the members the source
// still has (tracked and not missing). It reads them a page at a time;
// the set holds ids only.
func (r *runner) presentUsers(ctx context.Context, tx store.Store, missingUser map[string]bool) (map[string]bool, error) {
	present := map[string]bool{}
	f := store.SyncMemberFilter{Limit: missingPage}
	for {
		ms, err := tx.SyncMembers(ctx, r.g.ID, f)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.UserID != "" && !missingUser[m.UserID] {
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

// missingInput is what deciding about missing users needs, read first.
type missingInput struct {
	Policy    string          // MissingKeep, MissingDisable or MissingRemove
	Override  bool            // the group's members become exactly the source's
	Members   []string        // the group's members (user ids)
	Missing   []string        // users this sync imported that the source no longer has
	Elsewhere []string        // those of Missing another group's sync still has
	Present   map[string]bool // users this sync imported that the source still has (override only)
	Threshold float64
	Confirm   bool
}

// missingDecision is what to do: disable or remove Targets (by policy),
// take Leavers out of the group, leave Kept alone; Stop when that touches
// more than the threshold's share of the members without confirmation.
type missingDecision struct {
	Targets, Leavers, Kept []string
	Affected               int
	Stop                   bool
}

// decideMissing is the missing-users rule, with no store: the apply step
// in finishRead does what it says.
func decideMissing(in missingInput) missingDecision {
	var d missingDecision
	affected := map[string]bool{}
	missingUser := make(map[string]bool, len(in.Missing))
	for _, id := range in.Missing {
		missingUser[id] = true
	}
	if in.Policy == MissingDisable || in.Policy == MissingRemove {
		keep := make(map[string]bool, len(in.Elsewhere))
		for _, id := range in.Elsewhere {
			keep[id] = true
		}
		d.Kept = in.Elsewhere
		for _, id := range in.Missing {
			if keep[id] {
				continue
			}
			d.Targets = append(d.Targets, id)
			affected[id] = true
		}
	}
	// Override: the group's members become exactly the source's members
	// this sync imported. Anyone else leaves the group — local users and
	// users of other syncs included — but only the membership changes:
	// users this sync did not import are never changed themselves.
	if in.Override {
		for _, id := range in.Members {
			if in.Present[id] {
				continue
			}
			if in.Policy == MissingRemove && missingUser[id] {
				continue // removed with the user
			}
			d.Leavers = append(d.Leavers, id)
			affected[id] = true
		}
	}
	d.Affected = len(affected)
	limit := in.Threshold * float64(len(in.Members))
	d.Stop = d.Affected > 0 && float64(d.Affected) > limit && !in.Confirm
	return d
}
