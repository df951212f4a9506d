package m365sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tenantlink/tenantlink/m365sim/identity"
)

// Persistence (Options.StatePath): the whole simulated Microsoft side in one
// JSON file, so a restarted simulator is the same tenant and every grant a
// client holds still works. It covers tenants (users with their passwords,
// groups, members, owners, SKUs and licence assignments, direct and through
// groups with the units they consume), soft-deleted users and Microsoft 365
// groups (directory/deletedItems, with what restoring brings back), the
// change log behind delta queries (delta and skip tokens carry no server
// state, so a delta link issued before a restart continues), each tenant's
// id stream and seeding recipe (for Reset), the facts, and identity.State (signing
// key, app registrations, consents, refresh token grants, sessions). Not
// saved: faults, statistics, throttling windows, the /_sim/clock offset,
// sign-in flows and authorization codes in progress.
//
// The file holds secrets (the signing key, the client secret, user
// passwords), so it is written 0600, always whole: a temporary file in the
// same folder, synced, then renamed over the old one.

// stateVersion is the file format Save writes. New also reads every
// version from oldestStateVersion on (restoreTenant fills in what an older
// one lacks; the next save writes the current version) and refuses a newer
// one, which a newer tenantlink wrote.
//
//   - 1: tenants, change log, id streams, facts, identity, subscriptions.
//   - 2: adds soft-deleted objects (tenantState.Deleted) and which group
//     licences consume a unit (licenceState.Counted; derived for version 1).
const (
	stateVersion       = 2
	oldestStateVersion = 1
)

// saveDelay debounces saves: the first change schedules one, and every
// change until it runs rides along. A big tenant takes long to save, so the
// delay grows to twice the last save's duration (at most maxSaveDelay):
// under a steady stream of writes saving takes at most a third of a core.
const (
	saveDelay    = 200 * time.Millisecond
	maxSaveDelay = 30 * time.Second
)

type stateFile struct {
	Version  int            `json:"version"`
	Facts    Facts          `json:"facts"` // URL left empty: it is the listener's
	Tenants  []tenantState  `json:"tenants"`
	Identity identity.State `json:"identity"`

	// Subscriptions are the Graph subscriptions (subscriptions_state.go).
	Subscriptions []subscriptionState `json:"subscriptions,omitempty"`

	sum [sha256.Size]byte // of the file as read: an unchanged state is not written back
}

type tenantState struct {
	ID          string        `json:"id"`
	Domain      string        `json:"domain"`
	DisplayName string        `json:"displayName"`
	Seed        int64         `json:"seed"`
	Created     time.Time     `json:"created"`
	Seeded      seededState   `json:"seeded"` // the recipe Reset re-seeds from
	IDs         []byte        `json:"ids"`    // the id stream for new objects (PCG state)
	Seq         int64         `json:"seq"`
	NextOrd     int64         `json:"nextOrd"`
	Users       []userState   `json:"users"`
	Groups      []groupState  `json:"groups"`
	SKUs        []sku         `json:"skus"` // consumed units are derived from the users' licences
	Log         []changeState `json:"log"`
	// Deleted are the soft-deleted users and Microsoft 365 groups, oldest
	// first (version 2).
	Deleted []deletedState `json:"deleted,omitempty"`
}

type seededState struct {
	Users          int       `json:"users"`
	Groups         int       `json:"groups"`
	AdminPassword  string    `json:"adminPassword"`
	MemberPassword string    `json:"memberPassword"`
	Now            time.Time `json:"now"`
}

// userState and groupState embed the live types, so a field added to user
// or group is saved without touching this file.
type userState struct {
	Ord int64 `json:"ord"`
	user
}

type groupState struct {
	Ord int64 `json:"ord"`
	group
	Members []string `json:"members"`
	Owners  []string `json:"owners"`
}

// deletedState is a soft-deleted user or Microsoft 365 group
// (lifecycle.go's deletedObject): exactly one of User and Group is set.
// Slices are not omitempty: null and [] stay apart, as in the live object.
type deletedState struct {
	At    time.Time   `json:"at"`
	User  *userState  `json:"user,omitempty"`
	Group *groupState `json:"group,omitempty"`
	// For a user: its userPrincipalName before deletion, the groups it was
	// a member and an owner of, and its direct licences.
	UPN      string            `json:"upn,omitempty"`
	Groups   []string          `json:"groups"`
	Owned    []string          `json:"owned"`
	Licences []assignedLicense `json:"licences"`
}

type changeState struct {
	Seq     int64  `json:"s"`
	Group   bool   `json:"g,omitempty"`
	ID      string `json:"id"`
	Removed bool   `json:"r,omitempty"`
	// Soft marks a removal to deleted items (notified as updated).
	Soft        bool   `json:"sd,omitempty"`
	Member      string `json:"m,omitempty"`
	MemberAdded bool   `json:"a,omitempty"`
	// Props are the properties an update changed (minimal delta answers);
	// absent means all of them.
	Props []string `json:"p,omitempty"`
}

// persister schedules and writes saves for one Server.
type persister struct {
	path string

	mu     sync.Mutex // guards timer, closed and delay
	timer  *time.Timer
	closed bool
	delay  time.Duration

	saveMu sync.Mutex // one write at a time, each with a fresh snapshot
	last   [sha256.Size]byte
}

// startPersisting saves the freshly seeded state once, so a bad path fails
// New, and from then on saves after changes.
func (s *Server) startPersisting(path string) error {
	s.persist = &persister{path: path, delay: saveDelay}
	return s.Save()
}

// resumePersisting is startPersisting for a state just loaded from path:
// rather than writing the same state back (seconds for a big tenant), it
// checks that the folder takes the temporary file a save needs.
func (s *Server) resumePersisting(path string, sum [sha256.Size]byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("m365sim: state file %s cannot be saved: %w", path, err)
	}
	f.Close()
	os.Remove(f.Name())
	s.persist = &persister{path: path, delay: saveDelay, last: sum}
	return nil
}

// markDirty schedules a save; it is called with s.mu or the identity
// provider's lock held, so it only touches the persister's own lock.
func (s *Server) markDirty() {
	p := s.persist
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.timer != nil {
		return
	}
	p.timer = time.AfterFunc(p.delay, func() {
		p.mu.Lock()
		p.timer = nil
		p.mu.Unlock()
		if err := s.Save(); err != nil {
			s.logger.Error("m365sim: save state", "path", p.path, "err", err)
		}
	})
}

// stopPersisting cancels a pending save and writes the final state; later
// calls do nothing.
func (s *Server) stopPersisting() error {
	p := s.persist
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.mu.Unlock()
	return s.Save()
}

// Save writes the state to Options.StatePath now. The simulator saves on its
// own after changes and on Shutdown or Close; Save is for callers that need
// the file current at a given moment.
func (s *Server) Save() error {
	p := s.persist
	if p == nil {
		return errors.New("m365sim: save: the simulator has no state file (Options.StatePath)")
	}
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	start := time.Now()
	defer func() {
		d := min(max(2*time.Since(start), saveDelay), maxSaveDelay)
		p.mu.Lock()
		p.delay = d
		p.mu.Unlock()
	}()
	b, err := s.encodeState()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if sum == p.last {
		return nil
	}
	if err := writeFileAtomic(p.path, b); err != nil {
		return fmt.Errorf("m365sim: save state file %s: %w", p.path, err)
	}
	p.last = sum
	return nil
}

func (s *Server) encodeState() ([]byte, error) {
	// Identity first and on its own: identity calls into the directory
	// (s.mu) while holding its lock, so the two are never held together.
	ist, err := s.idp.State()
	if err != nil {
		return nil, fmt.Errorf("m365sim: save state: %w", err)
	}
	f := s.facts
	f.URL = ""
	st := stateFile{Version: stateVersion, Facts: f, Identity: ist}
	// Copy under the read lock, encode after it: writers wait only for
	// the copy.
	s.mu.RLock()
	for _, t := range s.tenants {
		ts, err := s.tenantStateLocked(t)
		if err != nil {
			s.mu.RUnlock()
			return nil, err
		}
		st.Tenants = append(st.Tenants, ts)
	}
	s.mu.RUnlock()
	st.Subscriptions = s.notif.snapshot()
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("m365sim: save state: %w", err)
	}
	return append(b, '\n'), nil
}

func (s *Server) tenantStateLocked(t *tenant) (tenantState, error) {
	ids, err := t.gen.src.MarshalBinary()
	if err != nil {
		return tenantState{}, fmt.Errorf("m365sim: save state: tenant %s: %w", t.ID, err)
	}
	sp := s.specs[t.ID]
	ts := tenantState{
		ID: t.ID, Domain: t.Domain, DisplayName: t.DisplayName, Seed: t.seed, Created: t.created,
		Seeded: seededState{Users: sp.users, Groups: sp.groups, AdminPassword: sp.adminPassword, MemberPassword: sp.memberPassword, Now: sp.now},
		IDs:    ids, Seq: t.seq, NextOrd: t.nextOrd,
		Users:  make([]userState, 0, len(t.users)),
		Groups: make([]groupState, 0, len(t.groups)),
		Log:    make([]changeState, 0, len(t.log)),
	}
	for _, u := range t.users {
		ts.Users = append(ts.Users, userStateOf(u))
	}
	for _, g := range t.groups {
		ts.Groups = append(ts.Groups, groupStateOf(g))
	}
	for _, k := range t.skus {
		ts.SKUs = append(ts.SKUs, *k)
	}
	for _, c := range t.log {
		ts.Log = append(ts.Log, changeState{Seq: c.seq, Group: c.group, ID: c.id, Removed: c.removed, Soft: c.soft, Member: c.member, MemberAdded: c.memberAdded, Props: c.props})
	}
	for _, d := range t.deleted {
		ds := deletedState{At: d.at, UPN: d.upn, Groups: clone(d.groups), Owned: clone(d.owned), Licences: cloneLicences(d.licences)}
		if d.user != nil {
			us := userStateOf(d.user)
			ds.User = &us
		} else {
			gs := groupStateOf(d.group)
			ds.Group = &gs
		}
		ts.Deleted = append(ts.Deleted, ds)
	}
	return ts, nil
}

// userStateOf and groupStateOf copy deep enough that later writes to the
// live objects (which replace or append to these slices, or set a
// licence's fields in place) cannot race with encoding.
func userStateOf(u *user) userState {
	c := *u
	c.BusinessPhones = clone(u.BusinessPhones)
	c.Licenses = cloneLicences(u.Licenses)
	c.Roles = clone(u.Roles)
	c.GroupLicences = clone(u.GroupLicences)
	for i := range c.GroupLicences {
		c.GroupLicences[i].DisabledPlans = clone(c.GroupLicences[i].DisabledPlans)
	}
	return userState{Ord: u.ord, user: c}
}

func groupStateOf(g *group) groupState {
	c := *g
	c.GroupTypes = clone(g.GroupTypes)
	c.Licenses = cloneLicences(g.Licenses)
	c.memberSet = nil
	return groupState{Ord: g.ord, group: c, Members: clone(g.members), Owners: clone(g.owners)}
}

func cloneLicences(ls []assignedLicense) []assignedLicense {
	out := clone(ls)
	for i := range out {
		out[i].DisabledPlans = clone(out[i].DisabledPlans)
	}
	return out
}

// clone copies a slice, keeping nil and empty apart (Graph renders them
// differently).
func clone[T any](xs []T) []T {
	if xs == nil {
		return nil
	}
	return append(make([]T, 0, len(xs)), xs...)
}

// writeFileAtomic replaces path with data, owner-only, so that a crash
// leaves either the old file or the new one, never a mix.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is durable once the folder is synced; not every platform
	// can, and the file itself is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// readState reads a state file. A missing file is fs.ErrNotExist (New then
// seeds); anything else that keeps it from loading is an error that names
// the file, never a silent re-seed.
func readState(path string) (*stateFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("m365sim: read state file: %w", err)
	}
	invalid := func(why string, a ...any) error {
		return fmt.Errorf("m365sim: state file %s cannot be loaded: %s; repair it, or remove it to start from a newly seeded tenant", path, fmt.Sprintf(why, a...))
	}
	// The version first, leniently: a newer format may have fields this
	// one does not know, and its reader should hear about the version.
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err == nil && head.Version > stateVersion {
		return nil, fmt.Errorf("m365sim: state file %s cannot be loaded: format version %d was written by a newer tenantlink, and this one reads versions %d to %d; run the newer tenantlink, or remove the file to start from a newly seeded tenant",
			path, head.Version, oldestStateVersion, stateVersion)
	}
	var st stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, invalid("not a simulator state (%v)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("data after the state object")
	}
	if st.Version < oldestStateVersion || st.Version > stateVersion {
		return nil, invalid("format version %d, want %d to %d", st.Version, oldestStateVersion, stateVersion)
	}
	if len(st.Tenants) == 0 {
		return nil, invalid("no tenants")
	}
	st.sum = sha256.Sum256(b)
	return &st, nil
}

// restore makes s the saved simulator. Options that shape a new tenant are
// ignored; RedirectURIs, when given, replace the tenantlink app
// registration's (they follow where tenantlink listens), and Latency,
// Throttle, Now and Logger apply as given.
func (s *Server) restore(o Options, st *stateFile) error {
	path := o.StatePath
	invalid := func(why string, a ...any) error {
		return fmt.Errorf("m365sim: state file %s cannot be loaded: %s; repair it, or remove it to start from a newly seeded tenant", path, fmt.Sprintf(why, a...))
	}
	for _, ts := range st.Tenants {
		t, spec, err := restoreTenant(ts, st.Version)
		if err != nil {
			return invalid("%v", err)
		}
		if s.byID[t.ID] != nil || s.byDomain[t.Domain] != nil {
			return invalid("tenant %s (%s) appears twice", t.ID, t.Domain)
		}
		s.addTenantLocked(t, spec)
	}
	if err := s.notif.load(st.Subscriptions); err != nil {
		return invalid("%v", err)
	}
	f := st.Facts
	if s.byID[strings.ToLower(f.TenantID)] == nil || f.ClientID == "" {
		return invalid("its facts name tenant %q and client %q, which it does not hold", f.TenantID, f.ClientID)
	}
	if o.ClientID != "" && !strings.EqualFold(o.ClientID, f.ClientID) || o.ClientSecret != "" && o.ClientSecret != f.ClientSecret {
		s.logger.Warn("m365sim: the state file's app registration is kept; the given client id or secret is ignored", "path", path)
	}
	redirectsChanged := false
	if len(o.RedirectURIs) > 0 {
		for i, a := range st.Identity.Apps {
			if strings.EqualFold(a.ClientID, f.ClientID) && !slices.Equal(a.RedirectURIs, o.RedirectURIs) {
				st.Identity.Apps[i].RedirectURIs = append([]string(nil), o.RedirectURIs...)
				redirectsChanged = true
			}
		}
	}
	s.facts = f
	s.opts.ClientID, s.opts.ClientSecret = f.ClientID, f.ClientSecret
	idp, err := identity.New(identity.Options{
		Directory: directory{s}, Now: s.now, Logger: o.Logger.With("component", "identity"),
		OnChange: s.markDirty, Restore: &st.Identity,
	})
	if err != nil {
		return invalid("%v", err)
	}
	s.idp = idp
	s.logger.Info("m365sim: state loaded; seeding options ignored", "path", path, "tenants", len(st.Tenants))
	if err := s.resumePersisting(path, st.sum); err != nil {
		return err
	}
	if redirectsChanged {
		s.markDirty()
	}
	return nil
}

func restoreTenant(ts tenantState, version int) (*tenant, tenantSpec, error) {
	if ts.ID == "" || ts.Domain == "" {
		return nil, tenantSpec{}, errors.New("a tenant has no id or domain")
	}
	t := newTenant(strings.ToLower(ts.ID), strings.ToLower(ts.Domain), ts.Seed, ts.Created)
	t.DisplayName = ts.DisplayName
	if err := t.gen.src.UnmarshalBinary(ts.IDs); err != nil {
		return nil, tenantSpec{}, fmt.Errorf("tenant %s: id stream: %w", ts.ID, err)
	}
	bad := func(format string, a ...any) (*tenant, tenantSpec, error) {
		return nil, tenantSpec{}, fmt.Errorf("tenant %s: "+format, append([]any{ts.ID}, a...)...)
	}
	for i := range ts.SKUs {
		k := ts.SKUs[i]
		k.consumed = 0
		t.skus = append(t.skus, &k)
	}
	var lastOrd int64
	t.users = make([]*user, 0, len(ts.Users))
	for i := range ts.Users {
		us := &ts.Users[i]
		u := &us.user
		if u.ID == "" || u.UserPrincipalName == "" {
			return bad("a user has no id or userPrincipalName")
		}
		if us.Ord <= lastOrd || us.Ord > ts.NextOrd {
			return bad("users are out of order at %s", u.ID)
		}
		if t.userByID[u.ID] != nil || t.userByUPN[strings.ToLower(u.UserPrincipalName)] != nil {
			return bad("user %s appears twice", u.ID)
		}
		lastOrd = us.Ord
		u.ord = us.Ord
		for _, l := range u.Licenses {
			k := t.skuByID(l.SkuID)
			if k == nil {
				return bad("user %s has a licence for SKU %s, which the tenant does not subscribe to", u.ID, l.SkuID)
			}
			k.consumed++
		}
		t.users = append(t.users, u)
		t.userByID[u.ID] = u
		t.indexUPN(u)
	}
	lastOrd = 0
	for i := range ts.Groups {
		gs := &ts.Groups[i]
		g := &gs.group
		if g.ID == "" || t.groupByID[g.ID] != nil {
			return bad("a group has no id or appears twice")
		}
		if gs.Ord <= lastOrd || gs.Ord > ts.NextOrd {
			return bad("groups are out of order at %s", g.ID)
		}
		lastOrd = gs.Ord
		g.ord = gs.Ord
		if !restoreMembers(g, gs) {
			return bad("group %s lists a member twice", g.ID)
		}
		t.groups = append(t.groups, g)
		t.groupByID[g.ID] = g
	}
	// Members are users or groups (groups nest), so they are checked once
	// every group is known.
	for _, g := range t.groups {
		for _, m := range g.members {
			if t.userByID[m] == nil && t.groupByID[m] == nil {
				return bad("group %s has member %s, who is neither a user nor a group", g.ID, m)
			}
		}
	}
	// Inherited licences, and the units they consume: saved since
	// version 2, derived for version 1.
	for _, u := range t.users {
		if version < 2 {
			deriveCounted(u)
		}
		for _, l := range u.GroupLicences {
			k := t.skuByID(l.SkuID)
			switch {
			case k == nil:
				return bad("user %s inherits a licence for SKU %s, which the tenant does not subscribe to", u.ID, l.SkuID)
			case t.groupByID[l.GroupID] == nil:
				return bad("user %s inherits a licence from group %s, which the tenant does not hold", u.ID, l.GroupID)
			case l.Counted && l.State != "Active":
				return bad("user %s has an inherited licence in state %q that consumes a unit", u.ID, l.State)
			case l.Counted:
				k.groupOnly++
			}
		}
	}
	for i, ds := range ts.Deleted {
		d, err := restoreDeleted(t, ds)
		if err != nil {
			return bad("deleted item %d: %v", i+1, err)
		}
		if t.userByID[d.id()] != nil || t.groupByID[d.id()] != nil || t.deletedByID(d.id()) != nil {
			return bad("deleted item %s appears twice", d.id())
		}
		t.deleted = append(t.deleted, d)
	}
	var lastSeq int64
	t.log = make([]change, 0, len(ts.Log))
	for _, c := range ts.Log {
		if c.Seq <= lastSeq || c.Seq > ts.Seq {
			return bad("the change log is out of order at %d", c.Seq)
		}
		lastSeq = c.Seq
		t.log = append(t.log, change{seq: c.Seq, group: c.Group, id: c.ID, removed: c.Removed, soft: c.Soft, member: c.Member, memberAdded: c.MemberAdded, props: c.Props})
	}
	t.seq, t.nextOrd = ts.Seq, ts.NextOrd
	spec := tenantSpec{domain: t.Domain, id: t.ID, seed: ts.Seed, seedSpec: seedSpec{
		users: ts.Seeded.Users, groups: ts.Seeded.Groups, adminPassword: ts.Seeded.AdminPassword,
		memberPassword: ts.Seeded.MemberPassword, now: ts.Seeded.Now,
	}}
	return t, spec, nil
}

// restoreMembers sets g's members and owners from gs; false when a member
// is listed twice.
func restoreMembers(g *group, gs *groupState) bool {
	g.memberSet = make(map[string]struct{}, len(gs.Members))
	for _, m := range gs.Members {
		if !g.addMember(m) {
			return false
		}
	}
	if g.members == nil && gs.Members != nil {
		g.members = []string{}
	}
	g.owners = gs.Owners
	return true
}

// deriveCounted marks which of u's inherited licences consume a unit, as
// relicense decides it, for files older than version 2 that did not save
// it: the first active one of each SKU the user does not hold directly.
func deriveCounted(u *user) {
	active := map[string]bool{}
	for i := range u.GroupLicences {
		l := &u.GroupLicences[i]
		key := strings.ToLower(l.SkuID)
		l.Counted = l.State == "Active" && !active[key] && !u.holdsDirect(l.SkuID)
		if l.State == "Active" {
			active[key] = true
		}
	}
}

// restoreDeleted rebuilds one soft-deleted user or group. Its memberships
// may name objects deleted for good since: restoring skips those.
func restoreDeleted(t *tenant, ds deletedState) (*deletedObject, error) {
	d := &deletedObject{at: ds.At, upn: ds.UPN, groups: ds.Groups, owned: ds.Owned, licences: ds.Licences}
	switch {
	case (ds.User == nil) == (ds.Group == nil):
		return nil, errors.New("it must be either a user or a group")
	case ds.User != nil:
		u := &ds.User.user
		if u.ID == "" || ds.UPN == "" {
			return nil, errors.New("a deleted user has no id or userPrincipalName")
		}
		u.ord = ds.User.Ord
		for _, l := range ds.Licences {
			if t.skuByID(l.SkuID) == nil {
				return nil, fmt.Errorf("deleted user %s had a licence for SKU %s, which the tenant does not subscribe to", u.ID, l.SkuID)
			}
		}
		d.user = u
	default:
		g := &ds.Group.group
		if g.ID == "" {
			return nil, errors.New("a deleted group has no id")
		}
		g.ord = ds.Group.Ord
		if !restoreMembers(g, ds.Group) {
			return nil, fmt.Errorf("deleted group %s lists a member twice", g.ID)
		}
		d.group = g
	}
	return d, nil
}

// staleDelta reports whether a delta token cannot belong to this tenant's
// change log: it names changes the log never reached, as happens when the
// tenant was reset or re-seeded (state file removed) after it was issued.
// Such a token gets Graph's 410 syncStateNotFound, so the client starts a
// full sync instead of silently missing changes.
func (s *Server) staleDelta(t *tenant, upto int64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return upto > t.seq
}
