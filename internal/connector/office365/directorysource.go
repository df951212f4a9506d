package office365

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

var (
	_ connector.DirectoryReader = (*Connector)(nil)
	_ connector.MemberCounter   = (*Connector)(nil)
)

// memberFields is the $select of a member read: only what the import maps
// (docs/SPEC.md §6), which keeps pages small.
var memberFields = []string{"id", "userPrincipalName", "mail", "displayName", "givenName", "surname", "jobTitle", "department", "accountEnabled"}

// idsPerFilter is how many ids one "id in (…)" filter carries when
// fetching users added to the source group: Graph caps a filter's
// expressions at 15.
const idsPerFilter = 15

// pipelineDepth is how many fetched pages may wait while the caller
// applies one: Graph paging is sequential (each page names the next), so
// overlap comes from fetching page n+1 while page n is being stored. Two
// pages ahead were enough on average but not through the store's
// occasional slow commit (a WAL checkpoint, a busy machine), which then
// stalled the fetching too; eight absorb those for about 2.5 MB of
// 999-user pages.
const pipelineDepth = 8

// cursor is ReadGroupMembers' opaque position: the delta links of the
// group's membership and of users' attributes. Delta links carry no
// secret (the token travels in the Authorization header).
type cursor struct {
	V      int    `json:"v"`
	Group  string `json:"g"` // resolved group id; "*" for all users
	Groups string `json:"gd,omitempty"`
	Users  string `json:"ud"`
	// Pending are members the group's delta showed added whose
	// attributes a real-time read left to the next read
	// (connector.ChangeHints.FollowUp): read first next time.
	Pending []string `json:"pa,omitempty"`
}

// ReadGroupMembers implements connector.DirectoryReader for a group id, an
// exact group display name or "*" (all users).
//
// A sync is background work: its Graph requests say
// x-ms-throttle-priority: low, so under load Graph throttles them before
// the operations people are waiting for.
func (c *Connector) ReadGroupMembers(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, sourceGroup, cur string,
	page func(users []connector.SourceUser, removed []string) error) (string, bool, error) {
	ctx = graph.WithPriority(ctx, graph.PriorityLow)
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return "", false, err
	}
	var cs cursor
	resumable := cur != "" && json.Unmarshal([]byte(cur), &cs) == nil && cs.V == 1 && cs.Users != ""
	groupID, src := "*", strings.TrimSpace(sourceGroup)
	switch {
	case src == "*":
	case resumable && isGUID(src) && strings.EqualFold(cs.Group, src) && cs.Groups != "":
		// The cursor was taken for this very group id: its groups/delta
		// says whether the group was deleted, so looking it up again
		// would only cost a request per run.
		groupID = cs.Group
	default:
		groupID, err = c.resolveGroup(ctx, gc, src)
		if err != nil {
			return "", false, err
		}
	}
	if resumable {
		if cs.Group == groupID && (groupID == "*" || cs.Groups != "") {
			next, err := c.readChanges(ctx, gc, groupID, cs, page)
			if !errors.Is(err, graph.ErrDeltaExpired) {
				return next, false, mapGraphErr(err)
			}
			c.log.Info("delta token expired: reading the source group in full", "datasource", ds.ID)
		}
	}
	next, err := c.readFull(ctx, gc, groupID, page)
	return next, true, mapGraphErr(err)
}

// mapGraphErr leaves refusals (already wrapping connector.ErrReauthorize)
// and tenantlink errors as they are and names Graph answers for people.
func mapGraphErr(err error) error {
	var ge *graph.Error
	var te *tenantlink.Error
	switch {
	case err == nil, errors.Is(err, connector.ErrReauthorize), errors.As(err, &te):
		return err
	case errors.As(err, &ge):
		return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: fmt.Sprintf("Microsoft Graph refused %s (%d %s): %s", ge.Op, ge.Status, ge.Code, ge.Message), Err: err}
	}
	return err
}

// resolveGroup finds the source group by id, else by exact display name.
func (c *Connector) resolveGroup(ctx context.Context, gc *graph.Client, src string) (string, error) {
	if isGUID(src) {
		g, err := gc.GetGroup(ctx, src, []string{"id", "displayName"})
		if err == nil {
			return g.ID, nil
		}
		if !errors.Is(err, graph.ErrNotFound) {
			return "", mapGraphErr(err)
		}
	}
	var found []graph.Group
	err := gc.ListGroups(ctx, graph.Query{Select: []string{"id", "displayName"}, Filter: "displayName eq '" + strings.ReplaceAll(src, "'", "''") + "'", Max: 20}, func(gs []graph.Group) error {
		found = append(found, gs...)
		return nil
	})
	if err != nil {
		return "", mapGraphErr(err)
	}
	switch len(found) {
	case 0:
		return "", tenantlink.Errorf(tenantlink.EINVALID, "The source group %q was not found in the tenant: give a group id or its exact display name.", src)
	case 1:
		return found[0].ID, nil
	}
	var names []string
	for _, g := range found {
		names = append(names, fmt.Sprintf("%s (%s)", g.DisplayName, g.ID))
	}
	return "", tenantlink.Errorf(tenantlink.EINVALID, "The source group name %q is ambiguous: %d groups have it: %s. Give the group id instead.", src, len(found), strings.Join(names, ", "))
}

// deltaURL is the first link of a delta round whose changes start now:
// $deltatoken=latest answers with a delta link and no data.
func (c *Connector) deltaURL(entity string, q url.Values) string {
	q.Set("$deltatoken", "latest")
	return c.cfg.GraphURL + "/v1.0/" + entity + "/delta?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

func groupDeltaQuery(groupID string) url.Values {
	return url.Values{"$select": {"id,members"}, "$filter": {"id eq '" + groupID + "'"}}
}

// readFull reads every member. The delta links are taken first, so a
// change made during the read is replayed by the next run rather than
// lost (replays are harmless: applying a user twice changes nothing).
func (c *Connector) readFull(ctx context.Context, gc *graph.Client, groupID string, page func([]connector.SourceUser, []string) error) (string, error) {
	cs := cursor{V: 1, Group: groupID}
	// Both links must exist before the first page is read; they need not
	// wait for each other.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		cs.Users, err = gc.UsersDelta(gctx, c.deltaURL("users", url.Values{"$select": {strings.Join(memberFields, ",")}}), nil, func(graph.DeltaPage) error { return nil })
		return err
	})
	if groupID != "*" {
		g.Go(func() (err error) {
			cs.Groups, err = gc.GroupsDelta(gctx, c.deltaURL("groups", groupDeltaQuery(groupID)), nil, func(graph.DeltaPage) error { return nil })
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	err := pipeline(ctx, true, page, func(ctx context.Context, emit func([]connector.SourceUser, []string) error) error {
		if groupID == "*" {
			return gc.ListUsers(ctx, graph.Query{Select: memberFields}, func(us []graph.User) error {
				out := make([]connector.SourceUser, 0, len(us))
				for i := range us {
					out = append(out, fromUser(&us[i], false))
				}
				return emit(out, nil)
			})
		}
		return gc.ListGroupMembers(ctx, groupID, graph.Query{Select: memberFields}, func(ms []graph.DirectoryObject) error {
			out := make([]connector.SourceUser, 0, len(ms))
			for i := range ms {
				// Members can be groups, devices or service principals:
				// only users are imported (nested groups are not expanded).
				if m := &ms[i]; m.ODataType == "" || m.ODataType == graph.TypeUser {
					out = append(out, fromMember(m))
				}
			}
			return emit(out, nil)
		})
	})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(cs)
	return string(b), err
}

// readChanges replays the changes since cs: membership first (additions
// with their attributes, removals), then users' attribute changes, which
// cover every user of the tenant and so are marked AttributesOnly for a
// group (the caller applies them to members only).
//
// users/delta is asked for minimal answers (Prefer: return=minimal): a
// changed user comes with only the properties that changed, so the
// changes are handed on as Partial and the caller keeps the other fields
// as imported. The email is the one field made of two properties (mail,
// else userPrincipalName): a user whose answer changes one without
// showing the email is read in full instead. An answer that carries
// every field (as when Graph ignores the header) is a whole change. See
// docs/decisions/0014-graph-throttling.md.
//
// Each delta round is a sequence of requests (each page names the next),
// so an incremental run costs its page count times Graph's latency; what
// can overlap does: users/delta is fetched while groups/delta and the
// added users are, the added users' "id in" reads run a few at a time,
// and every page is fetched while the caller stores the previous one.
// The order the caller sees is unchanged: membership, then attributes.
//
// For a group, the first pages of both delta rounds travel in one $batch,
// with "id in" reads of the members that change notifications said were
// added (connector.ChangeHints): a real-time run that finds only those
// changes costs one HTTP round trip (docs/decisions/0021). Added members
// the hints did not name are read as above.
func (c *Connector) readChanges(ctx context.Context, gc *graph.Client, groupID string, cs cursor, page func([]connector.SourceUser, []string) error) (string, error) {
	attrOnly := groupID != "*"
	var first *firstPages
	if groupID != "*" {
		var err error
		if first, err = c.batchFirstPages(ctx, gc, cs); err != nil {
			return "", err
		}
	}
	err := pipeline(ctx, false, page, func(ctx context.Context, emit func([]connector.SourceUser, []string) error) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// users/delta pages wait here (at most pipelineDepth of them, so
		// memory stays bounded) until the membership changes are out.
		userPages := make(chan pageMsg, pipelineDepth)
		usersDone := make(chan error, 1)
		go func() {
			defer close(userPages)
			var err error
			onPage := func(p graph.DeltaPage) error {
				var users []connector.SourceUser
				var removed, reread []string
				for i := range p.Users {
					u := &p.Users[i]
					if u.Removed != nil {
						removed = append(removed, u.ID)
						continue
					}
					su, ok := fromDelta(u, attrOnly)
					if !ok {
						reread = append(reread, u.ID)
						continue
					}
					users = append(users, su)
				}
				for start := 0; start < len(reread); start += idsPerFilter {
					err := gc.ListUsers(ctx, graph.Query{Select: memberFields, Filter: idFilter(reread[start:min(start+idsPerFilter, len(reread))])}, func(us []graph.User) error {
						for i := range us {
							users = append(users, fromUser(&us[i], attrOnly))
						}
						return nil
					})
					if err != nil {
						return err
					}
				}
				select {
				case userPages <- pageMsg{users, removed}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if first != nil {
				cs.Users, err = gc.UsersDeltaMinimalFrom(ctx, cs.Users, first.users, onPage)
			} else {
				cs.Users, err = gc.UsersDeltaMinimal(ctx, cs.Users, onPage)
			}
			usersDone <- err
		}()
		// stop ends the users/delta reader early and waits for it, so
		// cs.Users is not written after readChanges returns.
		stop := func(err error) error {
			cancel()
			for range userPages {
			}
			<-usersDone
			return err
		}
		if groupID != "*" {
			var err error
			cs.Groups, cs.Pending, err = c.membershipChanges(ctx, gc, groupID, cs.Groups, cs.Pending, first, emit)
			if err != nil {
				return stop(err)
			}
		}
		for m := range userPages {
			if err := emit(m.users, m.removed); err != nil {
				return stop(err)
			}
		}
		return <-usersDone
	})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(cs)
	return string(b), err
}

// maxHinted bounds the hinted members prefetched in a run's $batch: with
// the two delta reads, at most 20 items (Graph's limit per envelope).
const maxHinted = 18 * idsPerFilter

// firstPages are the answers of a group's incremental read's $batch.
type firstPages struct {
	groups, users graph.BatchResponse
	// added are the hinted members as read with the deltas, by
	// lower-case id.
	added map[string]graph.User
}

// batchFirstPages sends the first requests of both delta rounds, and the
// "id in" reads of the members the hints say were added, in one $batch.
func (c *Connector) batchFirstPages(ctx context.Context, gc *graph.Client, cs cursor) (*firstPages, error) {
	var hinted []string
	seen := map[string]bool{}
	for _, id := range append(slices.Clone(cs.Pending), connector.ChangeHintsFrom(ctx).AddedMembers...) {
		id = strings.ToLower(id)
		if isGUID(id) && !seen[id] && len(hinted) < maxHinted {
			seen[id] = true
			hinted = append(hinted, id)
		}
	}
	reqs := []graph.BatchRequest{gc.GroupsDeltaRequest("groups", cs.Groups), gc.UsersDeltaMinimalRequest("users", cs.Users)}
	var queries []graph.Query
	for start := 0; start < len(hinted); start += idsPerFilter {
		q := graph.Query{Select: memberFields, Filter: idFilter(hinted[start:min(start+idsPerFilter, len(hinted))])}
		queries = append(queries, q)
		reqs = append(reqs, gc.ListUsersRequest(fmt.Sprintf("added%d", len(queries)), q))
	}
	res, err := gc.Batch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	out := &firstPages{groups: res[0], users: res[1], added: map[string]graph.User{}}
	for i, q := range queries {
		// A failed prefetch only means those members are read the usual way.
		err := gc.ListUsersFrom(ctx, q, res[2+i], func(us []graph.User) error {
			for _, u := range us {
				out.added[strings.ToLower(u.ID)] = u
			}
			return nil
		})
		if err != nil {
			c.log.Debug("prefetch of added members failed; reading them one filter at a time", "err", err)
		}
	}
	return out, nil
}

// prefetched returns a hinted member read with the deltas.
func (f *firstPages) prefetched(id string) (graph.User, bool) {
	if f == nil {
		return graph.User{}, false
	}
	u, ok := f.added[strings.ToLower(id)]
	return u, ok
}

// filterFetches is how many "id in (…)" reads of added members run at
// once: enough to overlap Graph's latency, few enough to stay far from
// its throttling limits.
const filterFetches = 4

// membershipChanges replays groups/delta from link for one group and emits
// the members added (with their attributes) and then those removed; it
// returns the next delta link.
//
// pending are additions an earlier read left to this one (they come
// first; the delta may have removed them since). In a real-time read
// (connector.ChangeHints.FollowUp) the additions neither the hints nor
// pending covered are returned as the next read's pending instead of
// being read now: their notifications are on their way and queue that
// read.
func (c *Connector) membershipChanges(ctx context.Context, gc *graph.Client, groupID, link string, pending []string, first *firstPages, emit func([]connector.SourceUser, []string) error) (string, []string, error) {
	state := map[string]bool{} // member id -> net added
	var order []string
	for _, id := range pending {
		if _, ok := state[id]; !ok {
			order = append(order, id)
		}
		state[id] = true
	}
	var deleted bool
	onPage := func(p graph.DeltaPage) error {
		for _, g := range p.Groups {
			// $filter on groups/delta is honoured by Graph; check anyway
			// so a wider answer cannot leak other groups' members in.
			if !strings.EqualFold(g.ID, groupID) {
				continue
			}
			if g.Removed != nil {
				deleted = true
			}
			for _, m := range g.MembersDelta {
				if m.ODataType != "" && m.ODataType != graph.TypeUser {
					continue
				}
				if _, ok := state[m.ID]; !ok {
					order = append(order, m.ID)
				}
				state[m.ID] = m.Removed == nil
			}
		}
		return nil
	}
	var next string
	var err error
	if first != nil {
		next, err = gc.GroupsDeltaFrom(ctx, link, first.groups, onPage)
	} else {
		next, err = gc.GroupsDelta(ctx, link, nil, onPage)
	}
	if err != nil {
		return "", nil, err
	}
	if deleted {
		return "", nil, tenantlink.Errorf(tenantlink.EUPSTREAM, "The source group %s was deleted in the tenant: choose another source group.", groupID)
	}
	var added, removed, later []string
	var ready []connector.SourceUser
	followUp := connector.ChangeHintsFrom(ctx).FollowUp && first != nil
	wasPending := make(map[string]bool, len(pending))
	for _, id := range pending {
		wasPending[id] = true
	}
	for _, id := range order {
		switch u, ok := first.prefetched(id); {
		case !state[id]:
			removed = append(removed, id)
		case ok:
			ready = append(ready, fromUser(&u, false))
		case followUp && !wasPending[id] && len(later) < maxHinted/2:
			later = append(later, id)
		default:
			added = append(added, id)
		}
	}
	if len(ready) > 0 {
		if err := emit(ready, nil); err != nil {
			return "", nil, err
		}
	}
	// emit is not safe for concurrent use: the reads share one lock.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(filterFetches)
	var mu sync.Mutex
	for start := 0; start < len(added); start += idsPerFilter {
		filter := idFilter(added[start:min(start+idsPerFilter, len(added))])
		g.Go(func() error {
			return gc.ListUsers(gctx, graph.Query{Select: memberFields, Filter: filter}, func(us []graph.User) error {
				out := make([]connector.SourceUser, 0, len(us))
				for i := range us {
					out = append(out, fromUser(&us[i], false))
				}
				mu.Lock()
				defer mu.Unlock()
				return emit(out, nil)
			})
		})
	}
	if err := g.Wait(); err != nil {
		return "", nil, err
	}
	if len(removed) > 0 {
		if err := emit(nil, removed); err != nil {
			return "", nil, err
		}
	}
	return next, later, nil
}

// idFilter is the "id in (…)" filter of ids (at most idsPerFilter).
func idFilter(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = "'" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	return "id in (" + strings.Join(quoted, ",") + ")"
}

func enabled(b *bool) bool { return b == nil || *b }

// fromDelta maps a user of a minimal users/delta answer to a partial
// change carrying the fields whose properties the answer carried. ok is
// false when the answer does not show the email although it changes mail
// or userPrincipalName (mail cleared without the UPN; a UPN without mail):
// the caller reads that user in full.
func fromDelta(u *graph.DeltaUser, attrOnly bool) (su connector.SourceUser, ok bool) {
	su = connector.SourceUser{ObjectID: u.ID, AttributesOnly: attrOnly, Partial: true}
	for _, p := range []struct {
		name  string
		field connector.SourceFields
		dst   *string
		v     string
	}{
		{"displayName", connector.FieldDisplayName, &su.DisplayName, u.DisplayName},
		{"givenName", connector.FieldGivenName, &su.GivenName, u.GivenName},
		{"surname", connector.FieldSurname, &su.Surname, u.Surname},
		{"jobTitle", connector.FieldJobTitle, &su.JobTitle, u.JobTitle},
		{"department", connector.FieldDepartment, &su.Department, u.Department},
	} {
		if u.Has(p.name) {
			*p.dst = p.v
			su.Fields |= p.field
		}
	}
	if u.Has("accountEnabled") {
		su.Enabled = enabled(u.AccountEnabled)
		su.Fields |= connector.FieldEnabled
	}
	hasMail, hasUPN := u.Has("mail"), u.Has("userPrincipalName")
	switch {
	case hasMail && u.Mail != "":
		su.Email = u.Mail
	case hasMail && hasUPN:
		su.Email = u.UserPrincipalName
	case hasMail || hasUPN:
		// Mail cleared without the UPN, or a UPN (a rename, or a new
		// user without mail) without mail: the email is not known.
		return su, false
	}
	if su.Email != "" {
		su.Fields |= connector.FieldEmail
	}
	// An answer with every field (a full answer, or a user whose every
	// field changed) is a whole change, as from a full read.
	su.Partial = su.Fields != connector.FieldEmail|connector.FieldDisplayName|connector.FieldGivenName|
		connector.FieldSurname|connector.FieldJobTitle|connector.FieldDepartment|connector.FieldEnabled
	if !su.Partial {
		su.Fields = 0
	}
	return su, true
}

func email(mail, upn string) string {
	if mail != "" {
		return mail
	}
	return upn
}

func fromUser(u *graph.User, attrOnly bool) connector.SourceUser {
	return connector.SourceUser{ObjectID: u.ID, Email: email(u.Mail, u.UserPrincipalName), DisplayName: u.DisplayName,
		GivenName: u.GivenName, Surname: u.Surname, JobTitle: u.JobTitle, Department: u.Department,
		Enabled: enabled(u.AccountEnabled), AttributesOnly: attrOnly}
}

func fromMember(m *graph.DirectoryObject) connector.SourceUser {
	return connector.SourceUser{ObjectID: m.ID, Email: email(m.Mail, m.UserPrincipalName), DisplayName: m.DisplayName,
		GivenName: m.GivenName, Surname: m.Surname, JobTitle: m.JobTitle, Department: m.Department,
		Enabled: enabled(m.AccountEnabled)}
}

type pageMsg struct {
	users   []connector.SourceUser
	removed []string
}

// mergeUpTo is how many users one call of the caller's page function
// may carry when a full read merges pages that are already waiting: when
// storing falls behind fetching, a few pages stored as one cost less
// than one at a time (a commit writes every index page a page of users
// touched, and users keyed by random object ids touch most of them), so
// the store catches up instead of holding the read back. When it keeps
// up, nothing waits and pages go one by one.
const mergeUpTo = 4000

// pipeline runs produce in a goroutine that fetches pages while the
// caller's page function applies the previous ones, at most pipelineDepth
// ahead. The first error of either side stops both. With merge, pages
// already waiting are handed over together (up to mergeUpTo users); only
// full reads merge: their pages hold only users, so applying several at
// once is the same as applying them in turn.
func pipeline(ctx context.Context, merge bool, page func([]connector.SourceUser, []string) error,
	produce func(context.Context, func([]connector.SourceUser, []string) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan pageMsg, pipelineDepth)
	done := make(chan error, 1)
	go func() {
		defer close(ch)
		done <- produce(ctx, func(us []connector.SourceUser, rm []string) error {
			select {
			case ch <- pageMsg{us, rm}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	for m := range ch {
		if merge {
			m = mergeWaiting(m, ch)
		}
		if err := page(m.users, m.removed); err != nil {
			cancel()
			for range ch {
			}
			<-done
			return err
		}
	}
	return <-done
}

// mergeWaiting appends to m the pages already in ch, without waiting,
// while m has no removals and fewer than mergeUpTo users.
func mergeWaiting(m pageMsg, ch <-chan pageMsg) pageMsg {
	for len(m.removed) == 0 && len(m.users) < mergeUpTo {
		select {
		case next, ok := <-ch:
			if !ok {
				return m
			}
			m.users = append(m.users, next.users...)
			m.removed = next.removed
		default:
			return m
		}
	}
	return m
}

// ResolveSourceGroup checks a group member sync's source group against
// the tenant when its settings are saved: "*" (all users), a group id, or
// an exact display name; a name several groups share is EINVALID listing
// them, so the administrator can paste the id. It returns the group id
// ("*" for all users).
func (c *Connector) ResolveSourceGroup(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, sourceGroup string) (string, error) {
	src := strings.TrimSpace(sourceGroup)
	if src == "*" {
		return "*", nil
	}
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return "", err
	}
	return c.resolveGroup(ctx, gc, src)
}

// CountSourceMembers implements connector.MemberCounter: the users a full
// read of sourceGroup delivers, counted by Graph without reading them —
// GET /users/$count for "*", else GET
// /groups/{id}/members/microsoft.graph.user/$count (only user members are
// read, so only they are counted). Both need ConsistencyLevel: eventual,
// which the graph client sends; the count is as fresh as Graph's
// advanced-query index. Like the read itself it is background work
// (x-ms-throttle-priority: low).
func (c *Connector) CountSourceMembers(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, sourceGroup string) (int, error) {
	ctx = graph.WithPriority(ctx, graph.PriorityLow)
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return 0, err
	}
	src := strings.TrimSpace(sourceGroup)
	if src == "*" {
		n, err := gc.CountUsers(ctx, "")
		return n, mapGraphErr(err)
	}
	id, err := c.resolveGroup(ctx, gc, src)
	if err != nil {
		return 0, err
	}
	n, err := gc.CountGroupMembers(ctx, id, "microsoft.graph.user")
	return n, mapGraphErr(err)
}
