package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Trigger events: the tenant changes a group member sync reports
// (decision 0024).
const (
	EventMemberAdded   = tenantlink.EventMemberAdded
	EventMemberRemoved = tenantlink.EventMemberRemoved
	EventUserCreated   = tenantlink.EventUserCreated
	EventUserDisabled  = tenantlink.EventUserDisabled
)

// TriggerEvents lists the trigger events in documentation order.
var TriggerEvents = tenantlink.SyncEventKinds

// EventOutputs are the values of an event a trigger maps into fields
// with {"output": name}, as a rule's success mapping takes an
// operation's outputs.
var EventOutputs = []string{"event", "userId", "objectId", "displayName", "email", "groupId", "groupName", "time", "date"}

// Trigger starts a process when a tenant event happens instead of from
// its form: Event of data source DataSource (a unique name is replaced by
// the id on save), for member events in the tenant group Group (an id or
// an exact display name, checked in the tenant on save, its id kept in
// GroupID). Fields maps event values into the process's fields:
// {"output": one of EventOutputs} or {"text"} with {{field}}
// placeholders; other fields take their defaults.
type Trigger struct {
	Event      string            `json:"event"`
	DataSource string            `json:"datasource"`
	Group      string            `json:"group,omitempty"`
	GroupID    string            `json:"groupId,omitempty"`
	Fields     map[string]Source `json:"fields,omitempty"`
}

// Event is the tenant event that started an instance, as the sync that
// applied the change reported it. Its Key is the sync's; a member event's
// outbox key is its change's (memberKey).
type Event = tenantlink.SyncEvent

// matches reports whether t fires on e.
func (t *Trigger) matches(e *Event) bool {
	if t == nil || t.Event != e.Kind || t.DataSource != e.DataSource {
		return false
	}
	if t.GroupID == "" && t.Group == "" {
		return true
	}
	src := strings.TrimSpace(e.SourceGroup)
	return (t.GroupID != "" && strings.EqualFold(src, t.GroupID)) || (t.Group != "" && strings.EqualFold(src, t.Group))
}

// item is the event as the mapping reads it.
func (t *Trigger) item(e *Event) connector.Item {
	groupID := t.GroupID
	if groupID == "" {
		groupID = e.SourceGroup
	}
	groupName := t.Group
	if groupName == "" || strings.EqualFold(groupName, t.GroupID) {
		groupName = e.GroupName
	}
	at := e.At.UTC()
	return connector.Item{"event": e.Kind, "userId": e.UserID, "objectId": e.ObjectID, "displayName": e.DisplayName,
		"email": e.Email, "groupId": groupID, "groupName": groupName,
		"time": at.Format(time.RFC3339), "date": at.Format(dateLayout)}
}

// checkTrigger checks a trigger's shape and mapping (the data source and
// group are checked by Service.Validate, which can reach them).
func checkTrigger(pr *problems, t *Trigger, list []Field, fields map[string]Field) {
	const at = "trigger"
	if !slices.Contains(TriggerEvents, t.Event) {
		pr.add("%s: event must be one of %s, not %q", at, strings.Join(TriggerEvents, ", "), t.Event)
	}
	if t.DataSource == "" {
		pr.add("%s: datasource is required", at)
	}
	member := t.Event == EventMemberAdded || t.Event == EventMemberRemoved
	switch g := strings.TrimSpace(t.Group); {
	case member && g == "":
		pr.add("%s: %s needs the tenant group (\"group\": its id or exact display name)", at, t.Event)
	case g == "*":
		pr.add("%s: group must name one group, not \"*\"", at)
	case len(g) > 256 || strings.ContainsAny(g, "\r\n"):
		pr.add("%s: group must be one line of at most 256 characters", at)
	}
	outputs := map[string]bool{}
	for _, o := range EventOutputs {
		outputs[o] = true
	}
	for _, name := range sortedKeys(t.Fields) {
		src, f := t.Fields[name], fields[name]
		fat := fmt.Sprintf("%s: mapping of %q", at, name)
		if _, ok := fields[name]; !ok {
			pr.add("%s: there is no field %q", fat, name)
			continue
		}
		if f.Type == TypeTable {
			pr.add("%s: %q is a table; an event fills single-value fields", fat, name)
			continue
		}
		switch oneOf(pr, fat, src, "output", "text") {
		case "output":
			if !outputs[src.Output] {
				pr.add("%s: an event has no value %q (its values are %s)", fat, src.Output, strings.Join(EventOutputs, ", "))
			}
		case "text":
			checkText(pr, fat, *src.Text, fields)
		}
	}
	for _, f := range list {
		if _, mapped := t.Fields[f.Name]; f.Required && !mapped && isEmpty(f.Default) {
			pr.add("%s: field %q is required, and the trigger neither fills it nor has it a default", at, f.Name)
		}
	}
}

// validateTrigger resolves the trigger's data source (name → id) and
// group (checked in the tenant, id kept) as p saves it: p must be a
// connection user of the data source, since the instances read as the
// last editor.
func (s *Service) validateTrigger(ctx context.Context, p *tenantlink.Principal, t *Trigger) error {
	if t.DataSource == "" {
		return nil // reported by checkTrigger
	}
	id, err := s.DataSources.ResolveID(ctx, p, t.DataSource)
	if err != nil {
		return err
	}
	ds, err := s.Store.GetDataSource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return invalidf("trigger: there is no data source %q", t.DataSource)
	}
	if err != nil {
		return err
	}
	if err := datasource.CanUse(p, ds); err != nil {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "trigger: the process's instances read data source %q with your rights, and you may not read it: %s", ds.Name, tenantlink.ErrorMessage(err))
	}
	t.DataSource = id
	t.Group = strings.TrimSpace(t.Group)
	t.GroupID = ""
	if t.Group == "" || t.Group == "*" {
		return nil
	}
	res, ok := s.DataSources.Connectors[ds.Type].(connector.SourceGroupResolver)
	if !ok {
		return invalidf("trigger: data source %q (%s) has no groups to watch", ds.Name, ds.Type)
	}
	if ds.Status != tenantlink.StatusReady || ds.Account == "" {
		return invalidf("trigger: data source %q is not ready (status %q), so the group %q cannot be checked: authorize it first", ds.Name, ds.Status, t.Group)
	}
	gid, err := res.ResolveSourceGroup(ctx, ds, s.DataSources.Credentials(), t.Group)
	if err != nil {
		if tenantlink.ErrorCode(err) == tenantlink.EINVALID {
			return invalidf("trigger: %s", tenantlink.ErrorMessage(err))
		}
		return invalidf("trigger: the group %q could not be checked in the tenant: %s", t.Group, tenantlink.ErrorMessage(err))
	}
	t.GroupID = gid
	return nil
}

// Watching reports whether a process has a trigger on data source dsID
// (a group member sync then reports its changes; groupsync.EventSink).
func (s *Service) Watching(ctx context.Context, st store.Store, dsID string) (bool, error) {
	prs, err := triggered(ctx, st)
	if err != nil {
		return false, err
	}
	for _, pr := range prs {
		if pr.Trigger.DataSource == dsID {
			return true, nil
		}
	}
	return false, nil
}

// Emit writes, in tx (the sync's transaction that applied the changes),
// one outbox row per event and process whose trigger it matches. A row
// already written for the same process and event is not written again.
//
// A member event is first recorded as a change of the user's membership
// of the tenant group (memberChange), once for all the triggers on that
// group whatever their kind: the report of a change another sync of the
// same tenant group stored already writes no row, and the rows of a new
// change are keyed by the change itself (memberKey), so one join or leave
// starts a process once however many syncs observe it.
func (s *Service) Emit(ctx context.Context, tx store.Store, events []Event) error {
	prs, err := triggered(ctx, tx)
	if err != nil || len(prs) == 0 {
		return err
	}
	changes, err := memberChanges(ctx, tx, prs, events)
	if err != nil {
		return err
	}
	var rows []*store.ProcessEvent
	for i := range events {
		e := &events[i]
		for _, pr := range prs {
			if !pr.Trigger.matches(e) {
				continue
			}
			key := e.Key()
			if isMember(e.Kind) {
				c, ok := changes[changeID{memberScope(pr.Trigger, e), e.ObjectID, i}]
				if !ok || !c.fresh {
					continue // reported by another sync first
				}
				key = memberKey(e.Kind, c.scope, e.ObjectID, c.gen)
			}
			b, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("process event: %w", err)
			}
			rows = append(rows, &store.ProcessEvent{ProcessID: pr.ID, Key: key, Event: b, CreatedAt: e.At})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	n, err := tx.AddProcessEvents(ctx, rows)
	if err != nil {
		return fmt.Errorf("process events: %w", err)
	}
	s.log().Info("process events queued", "events", len(events), "instances", n)
	return nil
}

func isMember(kind string) bool { return kind == EventMemberAdded || kind == EventMemberRemoved }

// watchesGroup reports whether t is a member trigger on the tenant group
// whose change e reports, whatever the kind it starts on.
func (t *Trigger) watchesGroup(e *Event) bool {
	if t == nil || !isMember(t.Event) || !isMember(e.Kind) {
		return false
	}
	m := *t
	m.Event = e.Kind
	return m.matches(e)
}

// memberScope names the tenant group of a member trigger's data source
// whose membership changes are recorded together: the group's id as
// resolved on save (its name for a trigger saved without one), so that a
// sync naming the group and one giving its id share their changes.
func memberScope(t *Trigger, e *Event) string {
	g := t.GroupID
	if g == "" {
		g = t.Group
	}
	return e.DataSource + ":" + strings.ToLower(strings.TrimSpace(g))
}

// memberKey is the outbox key of a membership change: kind, scope, the
// user's object id and the change's generation. Two syncs reporting one
// change write the same key; the next change of the same user has the
// next generation.
func memberKey(kind, scope, objectID string, gen int64) string {
	return fmt.Sprintf("%s:%s:%s:g%d", kind, scope, objectID, gen)
}

// changeID is one member event (its index in the batch) in one scope.
type changeID struct {
	scope, objectID string
	event           int
}

type change struct {
	scope string
	gen   int64
	fresh bool
}

// memberChanges records the membership changes the member events report
// in every scope a trigger watches, in (scope, object id) order (two
// transactions writing the same rows take their locks in one order), and
// returns each event's change.
func memberChanges(ctx context.Context, tx store.Store, prs []*Process, events []Event) (map[changeID]change, error) {
	var ids []changeID
	seen := map[changeID]bool{}
	for i := range events {
		e := &events[i]
		for _, pr := range prs {
			if !pr.Trigger.watchesGroup(e) {
				continue
			}
			id := changeID{memberScope(pr.Trigger, e), e.ObjectID, i}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.SortStableFunc(ids, func(a, b changeID) int {
		if c := strings.Compare(a.scope, b.scope); c != 0 {
			return c
		}
		return strings.Compare(a.objectID, b.objectID)
	})
	out := make(map[changeID]change, len(ids))
	for _, id := range ids {
		gen, fresh, err := memberChange(ctx, tx, id.scope, &events[id.event])
		if err != nil {
			return nil, err
		}
		out[id] = change{id.scope, gen, fresh}
	}
	return out, nil
}

// memberChange records the membership change member event e reports in
// scope and returns its generation, and whether e is its first report
// (only the first starts processes). Stored with a compare-and-set on
// the generation read: a sync that applies the same change at the same
// time (another replica) makes this one read again and find it a report
// of a stored change.
func memberChange(ctx context.Context, tx store.Store, scope string, e *Event) (int64, bool, error) {
	for range 5 {
		var prev int64
		cur, err := tx.GetMemberChange(ctx, scope, e.ObjectID)
		switch {
		case tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND:
		case err != nil:
			return 0, false, fmt.Errorf("membership change: %w", err)
		case !newChange(cur, e):
			return cur.Generation, false, nil
		default:
			prev = cur.Generation
		}
		next := &store.MemberChange{Scope: scope, ObjectID: e.ObjectID, Generation: prev + 1, Kind: e.Kind, ChangedAt: e.At, RunID: e.RunID}
		ok, err := tx.PutMemberChange(ctx, next, prev)
		if err != nil {
			return 0, false, fmt.Errorf("membership change: %w", err)
		}
		if ok {
			return next.Generation, true, nil
		}
		// Another sync stored a change meanwhile: judge e against it.
	}
	return 0, false, fmt.Errorf("membership change of %s in %s: changed by other syncs too often", e.ObjectID, scope)
}

// newChange reports whether e reports a change after cur, the last one
// stored, rather than cur again (decision 0024). The times are the
// syncs' own: cur.ChangedAt is when it was applied (its sync read it
// before), e.RunStarted when e's run started (it read e after), and
// e.PrevRunStarted when e's sync's last succeeded run started (it saw the
// user on the other side of e after that).
//
//   - The same kind: a report of cur by a second sync, unless e's sync saw
//     the user on the other side after cur was applied (a change between
//     them nobody reported: a leave and a join the other syncs missed, or
//     made while no trigger watched).
//   - The other kind: a new change, unless cur was applied, by another
//     run, after e's run started: that run may have read after e's did,
//     so e may be older than cur. It is left to the syncs' next runs (a
//     sync that sees the user on e's side after cur reports it again).
func newChange(cur *store.MemberChange, e *Event) bool {
	if cur.Kind == e.Kind {
		return cur.RunID != e.RunID && cur.ChangedAt.Before(e.PrevRunStarted)
	}
	return cur.RunID == e.RunID || cur.ChangedAt.Before(e.RunStarted)
}

// triggered returns the processes with a trigger that can run.
func triggered(ctx context.Context, st store.Store) ([]*Process, error) {
	list, err := st.ListProcesses(ctx)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []*Process
	for _, sp := range list {
		pr, err := decode(sp)
		if err != nil {
			return nil, err
		}
		if pr.Trigger != nil && pr.NeedsDataSource == "" {
			out = append(out, pr)
		}
	}
	return out, nil
}

// processedFor is how long an event's dedupe key is kept.
const processedFor = 30 * 24 * time.Hour

// errClaimed rolls back a start another worker made first.
var errClaimed = errors.New("process event started elsewhere")

// StartPending starts an instance for each pending outbox row (up to
// limit; 0 = 100), oldest first, and returns how many it started. Each row
// starts at most one instance, however many workers run it: the instance
// is created, the row claimed and the event's dedupe key recorded in one
// transaction, which a second worker's claim cannot pass. Failures of the
// rules are the instance's outcome; an instance that cannot start (its
// last editor was deleted, a required field stays empty) is recorded as
// failed saying why.
func (s *Service) StartPending(ctx context.Context, limit int) (int, error) {
	rows, err := s.Store.PendingProcessEvents(ctx, limit)
	if err != nil {
		return 0, err
	}
	started := 0
	var errs []error
	for _, row := range rows {
		if err := ctx.Err(); err != nil {
			return started, err
		}
		// One row's failure (the database, for a moment) does not hold up
		// the others; the job is retried for it.
		ok, err := s.startEvent(ctx, row)
		if err != nil {
			errs = append(errs, fmt.Errorf("process event %s: %w", row.ID, err))
		}
		if ok {
			started++
		}
	}
	return started, errors.Join(errs...)
}

func (s *Service) startEvent(ctx context.Context, row *store.ProcessEvent) (bool, error) {
	sp, err := s.Store.GetProcess(ctx, row.ProcessID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // deleted meanwhile: its rows went with it
	}
	if err != nil {
		return false, err
	}
	pr, err := decode(sp)
	if err != nil {
		return false, err
	}
	var ev Event
	if err := json.Unmarshal(row.Event, &ev); err != nil {
		// Never readable: set it aside rather than retry it for ever.
		s.log().Error("process event unreadable; set aside", "row", row.ID, "process", pr.ID, "err", err)
		_, cerr := s.Store.ClaimProcessEvent(ctx, row.ID, "unreadable")
		return false, cerr
	}
	trig := pr.Trigger
	if trig == nil {
		trig = &Trigger{} // the trigger was removed since: defaults only
	}
	byName := map[string]Field{}
	fields := map[string]any{}
	for _, f := range pr.Fields {
		byName[f.Name] = f
		v, err := normalize(f, f.Default)
		if err != nil {
			v = zero(f)
		}
		fields[f.Name] = v
	}
	applySuccess(Rule{Success: trig.Fields}, byName, fields, []connector.Item{trig.item(&ev)})
	in := &Instance{Process: pr.ID, ProcessName: pr.Name, Status: StatusRunning, Fields: fields, Rules: []Outcome{},
		StartedBy: tenantlink.System.ID(), StartedAt: s.now(), Event: &ev}
	rec, err := s.record(in)
	if err != nil {
		return false, err
	}
	now := s.now()
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		first, err := tx.MarkEventProcessed(ctx, "process:"+pr.ID+":"+row.Key, now, now.Add(-processedFor))
		if err != nil {
			return err
		}
		if !first {
			// Started before under another row (the process's rows were
			// written again): drain this one without a second instance.
			if _, err := tx.ClaimProcessEvent(ctx, row.ID, "duplicate"); err != nil {
				return err
			}
			return errClaimed
		}
		if err := tx.CreateProcessInstance(ctx, rec); err != nil {
			return err
		}
		ok, err := tx.ClaimProcessEvent(ctx, row.ID, rec.ID)
		if err != nil {
			return err
		}
		if !ok {
			return errClaimed
		}
		return nil
	})
	if errors.Is(err, errClaimed) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	in.ID, in.StartedAt = rec.ID, rec.StartedAt
	log := s.log().With("process", pr.ID, "instance", in.ID, "event", ev.Kind)
	why := s.runTriggered(ctx, pr, in, log)
	if why != "" {
		in.Status = StatusFailed
		in.Rules = in.Rules[:0]
		for i, r := range pr.Rules {
			o := Outcome{Title: r.Title, Operation: r.Operation, Outcome: OutcomeNotRun}
			if i == 0 {
				o.Message = why
			}
			in.Rules = append(in.Rules, o)
		}
		log.Warn("triggered process instance not run", "why", why)
	}
	fin := s.now().UTC().Truncate(time.Microsecond)
	in.FinishedAt = &fin
	if rec, err = s.record(in); err != nil {
		return true, err
	}
	sctx := context.WithoutCancel(ctx)
	if err := s.Store.UpdateProcessInstance(sctx, rec); err != nil {
		return true, fmt.Errorf("save instance %s: %w", in.ID, err)
	}
	detail := fmt.Sprintf("%s: instance %s %s, started by %s of %s", pr.Name, in.ID, in.Status, ev.Kind, firstNonEmpty(ev.Email, ev.ObjectID))
	if why != "" {
		detail += ": " + why
	}
	if err := s.audit(sctx, s.Store, tenantlink.System, "process.start", "process:"+pr.ID, in.Status, detail); err != nil {
		return true, err
	}
	log.Info("triggered process instance finished", "status", in.Status)
	return true, nil
}

// runTriggered runs a triggered instance's rules as the process's last
// editor (reads with their rights, writes with their write grant), or
// returns why it cannot run.
func (s *Service) runTriggered(ctx context.Context, pr *Process, in *Instance, log *slog.Logger) string {
	if pr.NeedsDataSource != "" {
		return fmt.Sprintf("The process needs a data source: %q, which it used, was deleted.", pr.NeedsDataSource)
	}
	for _, f := range pr.Fields {
		if f.Required && isEmpty(in.Fields[f.Name]) {
			return fmt.Sprintf("%q (%s) is required and the event left it empty.", f.Name, f.Title())
		}
	}
	editor, err := s.editor(ctx, pr)
	if err != nil {
		log.Error("triggered process: load the last editor", "err", err)
		return "The process's last editor could not be loaded."
	}
	if editor.Principal == nil {
		return fmt.Sprintf("The process runs as its last editor (%s), who was deleted or disabled: a designer must save the process again.", pr.ModifiedBy)
	}
	ops, err := s.checkUse(ctx, editor.Principal, pr)
	if err != nil {
		return tenantlink.ErrorMessage(err)
	}
	s.run(ctx, editor.Principal, editor, pr, ops, in, log)
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Prune deletes the trigger history that no longer guards against a
// double start (decision 0024): the started outbox rows older than the
// dedupe keys' retention (processedFor) whose key has expired, then the
// membership changes that are an old member.removed of a user no sync
// tracks any more and whose outbox keys are gone. A sync reports a leave
// only for a user it tracks, so no report can repeat a pruned leave; the
// next report is a join, new whatever the stored change, and with no
// outbox row or dedupe key left its restarted generation cannot meet an
// old key. Joins are kept: another sync's later report of the same join
// must find it. It returns how many outbox rows and changes it deleted.
func (s *Service) Prune(ctx context.Context) (events, changes int, err error) {
	before := s.now().Add(-processedFor)
	if events, err = s.Store.PruneProcessEvents(ctx, before); err != nil {
		return 0, 0, err
	}
	if changes, err = s.Store.PruneMemberChanges(ctx, before); err != nil {
		return events, 0, err
	}
	if events+changes > 0 {
		s.log().Info("process trigger history pruned", "events", events, "memberChanges", changes)
	}
	return events, changes, nil
}
