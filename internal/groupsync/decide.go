package groupsync

// The decisions of a run, with no store and no context: what a page
// imports and what its outcomes amount to (planPage, tallyPage), what
// happens to the users the source no longer has (decideMissing,
// missingChanges, stopMessage), and which changes a dry run lists
// (changeList). The steps in run.go and missing.go read what these need,
// call them, and apply what they say.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Change actions (Change.Action).
const (
	ActionCreate     = "create"
	ActionUpdate     = "update"
	ActionDisable    = "disable"
	ActionRemove     = "remove"
	ActionLeaveGroup = "leaveGroup"
	ActionKeep       = "keep"
	ActionSkip       = "skip"
)

// actionOrder is the order a dry run lists its changes in.
var actionOrder = []string{ActionCreate, ActionUpdate, ActionDisable, ActionRemove, ActionLeaveGroup, ActionKeep, ActionSkip}

// pageInput is what deciding a page needs, read first.
type pageInput struct {
	Users []connector.SourceUser
	// Tracked are the attribute-only users this sync imported and the
	// source still has (not marked gone); Already those this run applied
	// earlier in its round (applied again, counted once).
	Tracked, Already map[string]bool
	// DrySeen are the members a dry run applied on earlier pages
	// (object id → user id; nil on real runs).
	DrySeen map[string]string
	// Prev is, for each partial change that applies, the user as
	// imported before (nil: never imported), by object id.
	Prev map[string]*tenantlink.User
	// DataSource, Tenant and Now stamp the users to import.
	DataSource, Tenant string
	Now                time.Time
}

// applies reports whether su is applied at all: an attribute-only change
// applies to a member this sync imported, once per dry run.
func (in *pageInput) applies(su connector.SourceUser) bool {
	return !su.AttributesOnly || (in.Tracked[su.ObjectID] && in.DrySeen[su.ObjectID] == "")
}

// pagePlan is what a page imports: Upsert, and for each of them whether
// it is a member (Member; attribute-only changes are not); Skipped
// members and Errors for the users it cannot import.
type pagePlan struct {
	Upsert  []*tenantlink.User
	Member  []bool
	Skipped int
	Errors  []string
}

// planPage decides what a page imports.
func planPage(in pageInput) pagePlan {
	var p pagePlan
	for _, su := range in.Users {
		if !in.applies(su) {
			continue
		}
		if su.Partial {
			// Only what changed arrived: the rest is as imported.
			switch prev := in.Prev[su.ObjectID]; {
			case prev == nil && su.Has(connector.FieldEmail):
				// A new user: what Graph did not send was never set.
				su = completePartial(&tenantlink.User{Active: true}, su)
			case prev == nil:
				p.Errors = append(p.Errors, fmt.Sprintf("user %q (object %s) changed in Microsoft 365 but was never imported (an earlier import of it failed); a full read will try it again", su.DisplayName, su.ObjectID))
				continue
			default:
				su = completePartial(prev, su)
			}
		}
		email := strings.ToLower(strings.TrimSpace(su.Email))
		if email == "" || su.ObjectID == "" {
			if !su.AttributesOnly {
				p.Skipped++
			}
			p.Errors = append(p.Errors, fmt.Sprintf("user %q (object %s) not imported: it has no email address or user principal name", su.DisplayName, su.ObjectID))
			continue
		}
		p.Upsert = append(p.Upsert, &tenantlink.User{
			Email: email, DisplayName: su.DisplayName, GivenName: su.GivenName, Surname: su.Surname,
			JobTitle: su.JobTitle, Department: su.Department, Active: su.Enabled,
			Roles:     []tenantlink.Role{tenantlink.RoleUser},
			Source:    &tenantlink.UserSource{DataSource: in.DataSource, ObjectID: su.ObjectID, Tenant: in.Tenant},
			CreatedAt: in.Now, UpdatedAt: in.Now,
		})
		p.Member = append(p.Member, !su.AttributesOnly)
	}
	return p
}

// pageResult is what a page amounts to once its users were upserted:
// the run's counts after it, its changes, the members to mark as seen by
// this run (and add to the group), and its error items.
type pageResult struct {
	Counts  Counts
	Changes []Change
	Marks   []store.SyncMember
	Errors  []string
}

// tallyPage adds a page's upsert outcomes (one per plan.Upsert, in order)
// to counts.
func tallyPage(plan pagePlan, outs []store.ImportOutcome, already map[string]bool, counts Counts) pageResult {
	res := pageResult{Counts: counts, Errors: slices.Clone(plan.Errors)}
	res.Counts.Skipped += plan.Skipped
	for i, o := range outs {
		u := plan.Upsert[i]
		switch o.Outcome {
		case store.ImportCreated:
			res.Counts.Created++
			res.Changes = append(res.Changes, Change{Action: ActionCreate, UserID: o.ID, ObjectID: u.Source.ObjectID, Email: u.Email, DisplayName: u.DisplayName})
		case store.ImportUpdated:
			res.Counts.Updated++
			res.Changes = append(res.Changes, Change{Action: ActionUpdate, UserID: o.ID, ObjectID: u.Source.ObjectID, Email: u.Email, DisplayName: u.DisplayName, Detail: diff(o.Before, u)})
		case store.ImportUnchanged:
			if !already[u.Source.ObjectID] {
				res.Counts.Unchanged++
			}
		case store.ImportConflict:
			if plan.Member[i] {
				res.Counts.Skipped++
			}
			res.Errors = append(res.Errors, fmt.Sprintf("user %s (object %s) not imported: the email belongs to directory user %s (a local account, or a user of another tenant), which a sync never takes over and leaves as it is", u.Email, u.Source.ObjectID, o.ConflictWith))
			res.Changes = append(res.Changes, Change{Action: ActionSkip, ObjectID: u.Source.ObjectID, Email: u.Email, DisplayName: u.DisplayName, Detail: "email belongs to user " + o.ConflictWith})
			continue
		}
		if plan.Member[i] {
			res.Marks = append(res.Marks, store.SyncMember{ObjectID: u.Source.ObjectID, UserID: o.ID})
		}
	}
	return res
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

// missingChanges are the changes a missing-users decision makes under
// policy: Kept users kept, Targets disabled or removed, Leavers taken out
// of the group, in that order.
func missingChanges(policy string, d missingDecision) []Change {
	var out []Change
	for _, id := range d.Kept {
		out = append(out, Change{Action: ActionKeep, UserID: id, Detail: "another group's sync still imports this user"})
	}
	action := map[string]string{MissingDisable: ActionDisable, MissingRemove: ActionRemove}[policy]
	if action != "" {
		for _, id := range d.Targets {
			out = append(out, Change{Action: action, UserID: id})
		}
	}
	for _, id := range d.Leavers {
		out = append(out, Change{Action: ActionLeaveGroup, UserID: id})
	}
	return out
}

// stopMessage says why a run stops for confirmation: it would disable,
// remove or take out of the group affected of the group's members, over
// the threshold. A dry run says a real run would.
func stopMessage(affected, members int, threshold float64, dry bool) string {
	pct := 100.0
	if members > 0 {
		pct = 100 * float64(affected) / float64(members)
	}
	lead := "Stopped for confirmation: this run would"
	if dry {
		lead = "A real run would stop for confirmation: it would"
	}
	return fmt.Sprintf("%s disable, remove or take out of the group %d of the group's %d members (%.0f%%, over the %.0f%% safety threshold). Nothing of that was applied; run it again with confirmation to proceed.",
		lead, affected, members, math.Round(pct), 100*threshold)
}

// changeList keeps, per action, the first MaxChanges changes by name
// (display name, then email) of all it is given, in memory bounded by
// twice that per action whatever the run's size.
type changeList struct {
	by map[string][]Change
}

func (l *changeList) add(cs ...Change) {
	if l.by == nil {
		l.by = map[string][]Change{}
	}
	for _, c := range cs {
		s := append(l.by[c.Action], c)
		if len(s) >= 2*MaxChanges {
			slices.SortFunc(s, byName)
			s = slices.Clip(s[:MaxChanges])
		}
		l.by[c.Action] = s
	}
}

// list returns the changes kept, by action in actionOrder (others after,
// by action name), each action's sorted by name and capped at
// MaxChanges; nil when there are none.
func (l *changeList) list() []Change {
	var out []Change
	actions := slices.Clone(actionOrder)
	var other []string
	for a := range l.by {
		if !slices.Contains(actionOrder, a) {
			other = append(other, a)
		}
	}
	slices.Sort(other)
	for _, a := range append(actions, other...) {
		s := l.by[a]
		slices.SortFunc(s, byName)
		out = append(out, s[:min(len(s), MaxChanges)]...)
	}
	return out
}

// byName orders changes by display name (case-insensitive), then email,
// then ids, so the order is total.
func byName(a, b Change) int {
	return cmp.Or(
		cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)),
		cmp.Compare(a.Email, b.Email),
		cmp.Compare(a.ObjectID, b.ObjectID),
		cmp.Compare(a.UserID, b.UserID),
	)
}
