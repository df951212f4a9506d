package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Service manages processes and runs their instances.
type Service struct {
	Store       store.Store
	DataSources *datasource.Service
	Now         func() time.Time
	Logger      *slog.Logger
}

func (s *Service) now() time.Time { return tenantlink.Now(s.Now) }

func (s *Service) log() *slog.Logger { return tenantlink.LoggerOr(s.Logger) }

// CanDesign reports whether p may create, change and delete processes
// and see everybody's instances.
func CanDesign(p *tenantlink.Principal) error {
	if p == tenantlink.System {
		return nil
	}
	if p == nil || p.User == nil {
		return tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first.")
	}
	if !p.Has(tenantlink.RoleAdministrator) && !p.Has(tenantlink.RoleDesignProcess) {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "Designing processes needs the Administrator or Design business process role.")
	}
	return nil
}

func signedIn(p *tenantlink.Principal) error {
	if p == tenantlink.System {
		return nil
	}
	if p == nil || p.User == nil {
		return tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first.")
	}
	return nil
}

func (s *Service) audit(ctx context.Context, st store.Store, p *tenantlink.Principal, action, target, outcome, detail string) error {
	return directory.Audit(ctx, st, s.now(), p, action, target, outcome, detail)
}

func decode(sp *store.Process) (*Process, error) {
	out := &Process{ID: sp.ID, CreatedBy: sp.CreatedBy, ModifiedBy: sp.ModifiedBy, Created: sp.CreatedAt, Modified: sp.UpdatedAt,
		NeedsDataSource: sp.NeedsDataSource, editorID: sp.EditorID}
	if err := json.Unmarshal(sp.Definition, &out.Definition); err != nil {
		return nil, fmt.Errorf("process %s: stored definition: %w", sp.ID, err)
	}
	if out.Fields == nil {
		out.Fields = []Field{}
	}
	if out.Rules == nil {
		out.Rules = []Rule{}
	}
	return out, nil
}

// List returns every process to any signed-in user: starting one is open
// to all, and the data sources' security settings decide who may run it.
func (s *Service) List(ctx context.Context, p *tenantlink.Principal) ([]*Process, error) {
	if err := signedIn(p); err != nil {
		return nil, err
	}
	list, err := s.Store.ListProcesses(ctx)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := make([]*Process, 0, len(list))
	for _, sp := range list {
		pr, err := decode(sp)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// Get returns one process to any signed-in user.
func (s *Service) Get(ctx context.Context, p *tenantlink.Principal, id string) (*Process, error) {
	if err := signedIn(p); err != nil {
		return nil, err
	}
	sp, err := s.Store.GetProcess(ctx, id)
	if err != nil {
		return nil, err
	}
	return decode(sp)
}

// Validate checks def as p would save it: the data sources must be ones
// p may use or administer. A rule may name its data source by its unique
// display name ("datasource": "Contoso 365"); Validate replaces the name
// with the id, which is what is stored, so that renaming the data source
// does not break the process and deleting it finds the process.
func (s *Service) Validate(ctx context.Context, p *tenantlink.Principal, def *Definition) error {
	if def.Trigger != nil {
		if err := s.validateTrigger(ctx, p, def.Trigger); err != nil {
			return err
		}
	}
	for i := range def.Rules {
		if def.Rules[i].DataSource == "" {
			continue
		}
		id, err := s.DataSources.ResolveID(ctx, p, def.Rules[i].DataSource)
		if err != nil {
			return err
		}
		def.Rules[i].DataSource = id
	}
	cache := map[string][]connector.Operation{}
	return Validate(def, func(id string) ([]connector.Operation, error) {
		if ops, ok := cache[id]; ok {
			return ops, nil
		}
		ops, err := s.DataSources.Operations(ctx, p, id)
		if err != nil {
			return nil, err
		}
		cache[id] = ops
		return ops, nil
	})
}

// Create validates and saves a new process.
func (s *Service) Create(ctx context.Context, p *tenantlink.Principal, def Definition) (*Process, error) {
	if err := CanDesign(p); err != nil {
		return nil, err
	}
	if err := s.Validate(ctx, p, &def); err != nil {
		return nil, err
	}
	if err := s.checkWrites(ctx, p, &def); err != nil {
		return nil, err
	}
	b, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("create process: %w", err)
	}
	now := s.now()
	sp := &store.Process{Name: def.Name, Definition: b, CreatedBy: p.Name(), ModifiedBy: p.Name(), CreatedAt: now, UpdatedAt: now, EditorID: p.ID()}
	err = s.Store.InTx(ctx, func(st store.Store) error {
		if err := st.CreateProcess(ctx, sp); err != nil {
			return err
		}
		return s.audit(ctx, st, p, "process.create", "process:"+sp.ID, "ok", def.Name)
	})
	if err != nil {
		return nil, err
	}
	return decode(sp)
}

// Update validates and replaces a process's definition. Instances already
// run keep their outcomes.
func (s *Service) Update(ctx context.Context, p *tenantlink.Principal, id string, def Definition) (*Process, error) {
	if err := CanDesign(p); err != nil {
		return nil, err
	}
	if _, err := s.Store.GetProcess(ctx, id); err != nil {
		return nil, err
	}
	if err := s.Validate(ctx, p, &def); err != nil {
		return nil, err
	}
	if err := s.checkWrites(ctx, p, &def); err != nil {
		return nil, err
	}
	b, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("update process: %w", err)
	}
	var out *store.Process
	err = s.Store.InTx(ctx, func(st store.Store) error {
		sp, err := st.GetProcess(ctx, id)
		if err != nil {
			return err
		}
		// Saving makes p the editor whose write grant the process uses,
		// and a valid definition no longer needs a deleted data source.
		sp.Name, sp.Definition, sp.ModifiedBy, sp.UpdatedAt = def.Name, b, p.Name(), s.now()
		sp.EditorID, sp.NeedsDataSource = p.ID(), ""
		if err := st.UpdateProcess(ctx, sp); err != nil {
			return err
		}
		out = sp
		return s.audit(ctx, st, p, "process.update", "process:"+id, "ok", def.Name)
	})
	if err != nil {
		return nil, err
	}
	return decode(out)
}

// Delete deletes a process and its instances.
func (s *Service) Delete(ctx context.Context, p *tenantlink.Principal, id string) error {
	if err := CanDesign(p); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(st store.Store) error {
		sp, err := st.GetProcess(ctx, id)
		if err != nil {
			return err
		}
		if err := st.DeleteProcess(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, st, p, "process.delete", "process:"+id, "ok", sp.Name)
	})
}

// MaxInstanceFields bounds the field values one start may submit.
const MaxInstanceFields = 200

// Start runs a new instance of a process as p with the submitted field
// values. Bad values are refused (EINVALID) and a caller who is not a
// connection user of every data source the rules use is refused
// (EFORBIDDEN) before anything is stored or run. Once the rules have
// started, their failures are the instance's outcome, not Start's error.
func (s *Service) Start(ctx context.Context, p *tenantlink.Principal, processID string, submitted map[string]any) (*Instance, error) {
	if err := signedIn(p); err != nil {
		return nil, err
	}
	sp, err := s.Store.GetProcess(ctx, processID)
	if err != nil {
		return nil, err
	}
	pr, err := decode(sp)
	if err != nil {
		return nil, err
	}
	if pr.NeedsDataSource != "" {
		return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "Process %q needs a data source: %q, which it used, was deleted. A designer must choose another data source and save the process.", pr.Name, pr.NeedsDataSource)
	}
	if len(submitted) > MaxInstanceFields {
		return nil, invalidf("at most %d field values", MaxInstanceFields)
	}
	fields, err := Values(&pr.Definition, submitted)
	if err != nil {
		return nil, err
	}
	ops, err := s.checkUse(ctx, p, pr)
	if err != nil {
		return nil, err
	}
	in := &Instance{Process: pr.ID, ProcessName: pr.Name, Status: StatusRunning, Fields: fields,
		Rules: []Outcome{}, StartedBy: p.ID(), StartedAt: s.now()}
	rec, err := s.record(in)
	if err != nil {
		return nil, err
	}
	// Stored before the first rule runs, so an instance cut short (a crash,
	// a shutdown) is still there to see as running.
	if err := s.Store.CreateProcessInstance(ctx, rec); err != nil {
		return nil, err
	}
	in.ID, in.StartedAt = rec.ID, rec.StartedAt
	log := s.log().With("process", pr.ID, "instance", in.ID)
	editor, err := s.editor(ctx, pr)
	if err != nil {
		return nil, err
	}
	s.run(ctx, p, editor, pr, ops, in, log)
	fin := s.now().UTC().Truncate(time.Microsecond) // as stored
	in.FinishedAt = &fin
	if rec, err = s.record(in); err != nil {
		return nil, err
	}
	// The rules' writes are done and cannot be undone: save their outcome
	// even if the request was cancelled meanwhile.
	sctx := context.WithoutCancel(ctx)
	if err := s.Store.UpdateProcessInstance(sctx, rec); err != nil {
		return nil, fmt.Errorf("save instance %s: %w", in.ID, err)
	}
	failed := 0
	for _, o := range in.Rules {
		if o.Outcome == OutcomeFailed {
			failed++
		}
	}
	detail := fmt.Sprintf("%s: instance %s %s (%d rule(s), %d failed)", pr.Name, in.ID, in.Status, len(in.Rules), failed)
	if err := s.audit(sctx, s.Store, p, "process.start", "process:"+pr.ID, in.Status, detail); err != nil {
		return nil, err
	}
	log.Info("process instance finished", "status", in.Status, "rules", len(in.Rules), "failed", failed)
	return in, nil
}

// checkUse loads the data sources the rules use and refuses a caller who
// may not run operations on one of them; it returns each data source's
// operations by id.
func (s *Service) checkUse(ctx context.Context, p *tenantlink.Principal, pr *Process) (map[string][]connector.Operation, error) {
	ids := map[string]bool{}
	for _, r := range pr.Rules {
		ids[r.DataSource] = true
	}
	sorted := sortedKeys(ids)
	out := map[string][]connector.Operation{}
	for _, id := range sorted {
		ds, err := s.Store.GetDataSource(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "Process %q uses a data source that no longer exists (%s): a designer must change the process.", pr.Name, id)
		}
		if err != nil {
			return nil, err
		}
		if err := datasource.CanUse(p, ds); err != nil {
			return nil, err
		}
		ops, err := s.DataSources.Operations(ctx, p, id)
		if err != nil {
			return nil, err
		}
		out[id] = ops
	}
	return out, nil
}

// checkWrites refuses to save a definition whose rules write through a
// data source p may not change Microsoft 365 through: the process would
// write with p's grant (see docs/decisions/0012-connection-writers.md).
func (s *Service) checkWrites(ctx context.Context, p *tenantlink.Principal, def *Definition) error {
	for i, r := range def.Rules {
		ops, err := s.DataSources.Operations(ctx, p, r.DataSource)
		if err != nil {
			return err
		}
		op := findOp(ops, r.Operation)
		if op == nil || !op.Write {
			continue
		}
		ds, err := s.Store.GetDataSource(ctx, r.DataSource)
		if err != nil {
			return err
		}
		if datasource.CanWrite(p, ds) != nil {
			return tenantlink.Errorf(tenantlink.EFORBIDDEN, "Rule %d (%s) writes through data source %q, and the process would write with your rights: %s",
				i+1, r.Title, ds.Name, datasource.MsgNeedWriter)
		}
	}
	return nil
}

// editor is the last editor of pr as they are now, whose write grant the
// write rules use: their current roles and groups, or nobody when they
// were deleted or disabled.
func (s *Service) editor(ctx context.Context, pr *Process) (*datasource.Delegate, error) {
	d := &datasource.Delegate{Name: fmt.Sprintf("the last editor of process %q (%s)", pr.Name, pr.ModifiedBy)}
	switch pr.editorID {
	case "":
		return d, nil // saved before editors were recorded, by nobody known
	case tenantlink.System.ID():
		d.Principal = tenantlink.System
		return d, nil
	}
	u, err := s.Store.GetUser(ctx, pr.editorID)
	if errors.Is(err, store.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("process %s: load last editor: %w", pr.ID, err)
	}
	if !u.Active {
		return d, nil
	}
	d.Principal, err = (&directory.Service{Store: s.Store}).Principal(ctx, u, "process")
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) record(in *Instance) (*store.ProcessInstance, error) {
	fields, err := json.Marshal(in.Fields)
	if err != nil {
		return nil, fmt.Errorf("instance fields: %w", err)
	}
	rules, err := json.Marshal(in.Rules)
	if err != nil {
		return nil, fmt.Errorf("instance rules: %w", err)
	}
	var event []byte
	if in.Event != nil {
		if event, err = json.Marshal(in.Event); err != nil {
			return nil, fmt.Errorf("instance event: %w", err)
		}
	}
	return &store.ProcessInstance{ID: in.ID, ProcessID: in.Process, Status: in.Status, StartedBy: in.StartedBy,
		Fields: fields, Rules: rules, Event: event, StartedAt: in.StartedAt, FinishedAt: in.FinishedAt}, nil
}

// run runs the rules in order, filling in.Rules, in.Fields and in.Status.
func (s *Service) run(ctx context.Context, p *tenantlink.Principal, editor *datasource.Delegate, pr *Process, ops map[string][]connector.Operation, in *Instance, log *slog.Logger) {
	byName := map[string]Field{}
	for _, f := range pr.Fields {
		byName[f.Name] = f
	}
	in.Status = StatusSucceeded
	stopped := false
	for i, r := range pr.Rules {
		o := Outcome{Title: r.Title, Operation: r.Operation}
		switch {
		case stopped:
			o.Outcome = OutcomeNotRun
		case !evaluate(r.Conditions, in.Fields):
			o.Outcome = OutcomeSkipped
		default:
			inputs := buildInputs(r, findOp(ops[r.DataSource], r.Operation), in.Fields)
			// Reads run as the caller; writes with the last editor's
			// write grant as it is now (see datasource.CheckOperation).
			items, err := s.DataSources.RunDelegated(ctx, p, editor, r.DataSource, r.Operation, inputs)
			if err != nil {
				o.Outcome, o.Message = OutcomeFailed, tenantlink.ErrorMessage(err)
				if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
					log.Error("process rule failed", "rule", i+1, "err", err)
				}
				applyError(r, byName, in.Fields, o.Message)
				in.Status = StatusFailed
				stopped = r.Stops()
			} else {
				o.Outcome, o.Items = OutcomeSucceeded, len(items)
				applySuccess(r, byName, in.Fields, items)
			}
		}
		in.Rules = append(in.Rules, o)
	}
}

func findOp(list []connector.Operation, name string) *connector.Operation {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// buildInputs maps fields and text into the operation's inputs: a table
// column becomes a list, an integer input keeps a number, and everything
// else is passed as text, which is what operations accept from forms.
func buildInputs(r Rule, op *connector.Operation, fields map[string]any) map[string]any {
	types := map[string]string{}
	if op != nil {
		for _, p := range op.Inputs {
			types[p.Name] = p.Type
		}
	}
	out := make(map[string]any, len(r.Inputs))
	for _, name := range sortedKeys(r.Inputs) {
		src := r.Inputs[name]
		if src.Text != nil {
			out[name] = render(*src.Text, fields)
			continue
		}
		v := fields[src.Field]
		if rows, ok := v.([]any); ok && src.Column != "" {
			list := make([]any, 0, len(rows))
			for _, row := range rows {
				if m, ok := row.(map[string]any); ok && !isEmpty(m[src.Column]) {
					list = append(list, text(m[src.Column]))
				}
			}
			out[name] = list
			continue
		}
		if n, ok := v.(float64); ok && types[name] == "integer" {
			out[name] = n
			continue
		}
		if v == nil {
			out[name] = nil
			continue
		}
		out[name] = text(v)
	}
	return out
}

// applySuccess writes a succeeded rule's results: outputs, counts and
// rows first, then texts, so a text can show what the outputs set.
func applySuccess(r Rule, byName map[string]Field, fields map[string]any, items []connector.Item) {
	var texts []string
	for _, name := range sortedKeys(r.Success) {
		src, f := r.Success[name], byName[name]
		switch {
		case src.Text != nil:
			texts = append(texts, name)
		case src.Output != "":
			if len(items) == 0 {
				fields[name] = zero(f)
				continue
			}
			fields[name] = coerce(f, items[0][src.Output])
		case src.Count:
			if f.Type == TypeNumber {
				fields[name] = float64(len(items))
			} else {
				fields[name] = text(float64(len(items)))
			}
		case src.Rows != "":
			var rows []any
			if src.Rows == RowsAppend {
				rows, _ = fields[name].([]any)
			}
			rows = append([]any{}, rows...)
			for _, it := range items {
				if len(rows) >= MaxTableRows {
					break
				}
				row := map[string]any{}
				for _, c := range f.Columns {
					out := c.Name
					if m, ok := src.Columns[c.Name]; ok {
						out = m
					}
					v, ok := it[out]
					if !ok {
						row[c.Name] = zero(c.field())
						continue
					}
					row[c.Name] = coerce(c.field(), v)
				}
				rows = append(rows, row)
			}
			fields[name] = rows
		}
	}
	for _, name := range texts {
		fields[name] = coerce(byName[name], render(*r.Success[name].Text, fields))
	}
}

// applyError writes a failed rule's error mapping.
func applyError(r Rule, byName map[string]Field, fields map[string]any, msg string) {
	for _, name := range sortedKeys(r.Error) {
		src := r.Error[name]
		if src.Error {
			fields[name] = msg
		} else if src.Text != nil {
			fields[name] = coerce(byName[name], render(*src.Text, fields))
		}
	}
}

// Instance returns an instance to whoever started it and to process
// designers.
func (s *Service) Instance(ctx context.Context, p *tenantlink.Principal, id string) (*Instance, error) {
	if err := signedIn(p); err != nil {
		return nil, err
	}
	// Permission first: an instance p may not see (neither its starter
	// nor a designer) is not found, exactly as an unknown id
	// (docs/decisions/0023-permission-first.md).
	rec, err := s.Store.GetProcessInstance(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && rec.StartedBy != p.ID() && CanDesign(p) != nil {
		return nil, &tenantlink.Error{Code: tenantlink.ENOTFOUND, Message: fmt.Sprintf("process instance %q not found", id), Err: store.ErrNotFound}
	}
	if err != nil {
		return nil, err
	}
	names, err := s.processNames(ctx)
	if err != nil {
		return nil, err
	}
	return fromRecord(rec, names)
}

// Instances lists a process's instances, newest first: all of them to
// designers, one's own to everyone else.
func (s *Service) Instances(ctx context.Context, p *tenantlink.Principal, processID string, limit int) ([]*Instance, error) {
	if err := signedIn(p); err != nil {
		return nil, err
	}
	if processID != "" {
		if _, err := s.Store.GetProcess(ctx, processID); err != nil {
			return nil, err
		}
	}
	f := store.InstanceFilter{ProcessID: processID, Limit: limit}
	if CanDesign(p) != nil {
		f.StartedBy = p.ID()
	}
	recs, err := s.Store.ListProcessInstances(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	names, err := s.processNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Instance, 0, len(recs))
	for _, rec := range recs {
		in, err := fromRecord(rec, names)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func (s *Service) processNames(ctx context.Context) (map[string]string, error) {
	list, err := s.Store.ListProcesses(ctx)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	names := make(map[string]string, len(list))
	for _, sp := range list {
		names[sp.ID] = sp.Name
	}
	return names, nil
}

func fromRecord(rec *store.ProcessInstance, names map[string]string) (*Instance, error) {
	in := &Instance{ID: rec.ID, Process: rec.ProcessID, ProcessName: names[rec.ProcessID], Status: rec.Status,
		StartedBy: rec.StartedBy, StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt}
	if err := json.Unmarshal(rec.Fields, &in.Fields); err != nil {
		return nil, fmt.Errorf("instance %s fields: %w", rec.ID, err)
	}
	if err := json.Unmarshal(rec.Rules, &in.Rules); err != nil {
		return nil, fmt.Errorf("instance %s rules: %w", rec.ID, err)
	}
	if len(rec.Event) > 0 {
		in.Event = &Event{}
		if err := json.Unmarshal(rec.Event, in.Event); err != nil {
			return nil, fmt.Errorf("instance %s event: %w", rec.ID, err)
		}
	}
	if in.Fields == nil {
		in.Fields = map[string]any{}
	}
	if in.Rules == nil {
		in.Rules = []Outcome{}
	}
	return in, nil
}

// byNameFold finds a process by name ignoring case.
func byNameFold(list []*Process, name string) *Process {
	for _, p := range list {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}
