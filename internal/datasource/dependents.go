package datasource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Kinds of Dependent.
const (
	DependentSSO       = "sso"
	DependentGroupSync = "groupSync"
	DependentTask      = "task"
	DependentProcess   = "process"
)

// Dependent is something that uses a data source: single sign-on, a
// group's member sync, the scheduled task running that sync, or a
// process whose rules call its operations.
type Dependent struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// InUseError is wrapped by the conflict Delete returns when a data source
// is in use and the deletion was not forced; the API lists Dependents.
type InUseError struct {
	Dependents []Dependent
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("data source in use by %d dependent(s)", len(e.Dependents))
}

// Dependents lists what uses data source id, to its administrators:
// single sign-on first, then group syncs, their tasks and processes, each
// by name.
func (s *Service) Dependents(ctx context.Context, p *tenantlink.Principal, ref string) ([]Dependent, error) {
	ds, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	return dependents(ctx, s.Store, ds.ID)
}

// dependents finds what uses data source id, reading through st.
func dependents(ctx context.Context, st store.Store, id string) ([]Dependent, error) {
	out := []Dependent{}
	usesSSO, err := sso.UsesDataSource(ctx, st, id)
	if err != nil {
		return nil, err
	}
	if usesSSO {
		out = append(out, Dependent{Kind: DependentSSO, ID: sso.SettingKey, Name: "Single sign-on"})
	}
	groups, err := st.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("find group syncs: %w", err)
	}
	var groupIDs []string
	for _, g := range groups {
		if g.Sync != nil && g.Sync.DataSource == id {
			out = append(out, Dependent{Kind: DependentGroupSync, ID: g.ID, Name: g.Name})
			groupIDs = append(groupIDs, g.ID)
		}
	}
	tasks, err := st.ListTasksByTarget(ctx, store.TaskKindSync, groupIDs)
	if err != nil {
		return nil, fmt.Errorf("find scheduled tasks: %w", err)
	}
	for _, t := range tasks {
		out = append(out, Dependent{Kind: DependentTask, ID: t.ID, Name: t.Name})
	}
	procs, err := st.ListProcesses(ctx)
	if err != nil {
		return nil, fmt.Errorf("find processes: %w", err)
	}
	for _, sp := range procs {
		// Only the rules' and the trigger's data sources matter here;
		// package process owns the rest of the definition (and imports
		// this package).
		var def struct {
			Rules []struct {
				DataSource string `json:"datasource"`
			} `json:"rules"`
			Trigger *struct {
				DataSource string `json:"datasource"`
			} `json:"trigger"`
		}
		if err := json.Unmarshal(sp.Definition, &def); err != nil {
			return nil, fmt.Errorf("process %s: stored definition: %w", sp.ID, err)
		}
		if def.Trigger != nil {
			def.Rules = append(def.Rules, *def.Trigger)
		}
		for _, r := range def.Rules {
			if r.DataSource == id {
				out = append(out, Dependent{Kind: DependentProcess, ID: sp.ID, Name: sp.Name})
				break
			}
		}
	}
	return out, nil
}

// inUse is the conflict that refuses to delete ds while deps use it.
func inUse(ds *tenantlink.DataSource, deps []Dependent) error {
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = dependentLabel(d)
	}
	return &tenantlink.Error{
		Code: tenantlink.ECONFLICT,
		Message: fmt.Sprintf("Data source %q is in use by %s. Deleting it turns single sign-on off, disables those group syncs and their scheduled tasks, and leaves those processes needing a data source: confirm with force=true.",
			ds.Name, strings.Join(names, ", ")),
		Err: &InUseError{Dependents: deps},
	}
}

func dependentLabel(d Dependent) string {
	switch d.Kind {
	case DependentSSO:
		return "single sign-on"
	case DependentGroupSync:
		return fmt.Sprintf("the member sync of group %q", d.Name)
	case DependentTask:
		return fmt.Sprintf("scheduled task %q", d.Name)
	default:
		return fmt.Sprintf("process %q", d.Name)
	}
}

// detach makes every dependent stop using ds, inside the deletion's
// transaction tx, with an audit entry each.
func (s *Service) detach(ctx context.Context, tx store.Store, p *tenantlink.Principal, ds *tenantlink.DataSource, deps []Dependent) error {
	now := s.Now()
	why := fmt.Sprintf("data source %q (%s) was deleted", ds.Name, ds.ID)
	var taskIDs []string
	for _, d := range deps {
		switch d.Kind {
		case DependentSSO:
			set, err := sso.DetachDataSource(ctx, tx, ds.ID)
			if err != nil {
				return err
			}
			if set != nil {
				if err := directory.Audit(ctx, tx, now, p, "sso.settings", "settings:sso", "ok", "single sign-on turned off: "+why); err != nil {
					return err
				}
			}
		case DependentGroupSync:
			g, err := tx.GetGroup(ctx, d.ID)
			if err != nil {
				return err
			}
			g.Sync.Enabled, g.Sync.DataSource = false, ""
			g.UpdatedAt = now
			if err := tx.UpdateGroup(ctx, g); err != nil {
				return err
			}
			if err := directory.Audit(ctx, tx, now, p, "group.sync.settings", "group:"+g.ID, "ok", "member sync disabled: "+why); err != nil {
				return err
			}
		case DependentTask:
			taskIDs = append(taskIDs, d.ID)
			if err := directory.Audit(ctx, tx, now, p, "task.update", "task:"+d.ID, "ok", d.Name+": disabled: "+why); err != nil {
				return err
			}
		case DependentProcess:
			sp, err := tx.GetProcess(ctx, d.ID)
			if err != nil {
				return err
			}
			sp.NeedsDataSource = ds.Name
			if err := tx.UpdateProcess(ctx, sp); err != nil {
				return err
			}
			if err := directory.Audit(ctx, tx, now, p, "process.update", "process:"+sp.ID, "ok", sp.Name+": needs a data source: "+why); err != nil {
				return err
			}
		default:
			return fmt.Errorf("datasource: unknown dependent kind %q", d.Kind)
		}
	}
	if len(taskIDs) > 0 {
		if _, err := tx.DisableTasks(ctx, taskIDs, now); err != nil {
			return err
		}
	}
	return nil
}

// AsInUse returns the dependents of an in-use refusal, if err is one.
func AsInUse(err error) ([]Dependent, bool) {
	var e *InUseError
	if errors.As(err, &e) {
		return e.Dependents, true
	}
	return nil, false
}
