package datasource

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// MaxOperationInputs bounds how many inputs one call may carry.
const MaxOperationInputs = 50

func (s *Service) operator(ds *tenantlink.DataSource) (connector.Operator, error) {
	op, ok := s.Connectors[ds.Type].(connector.Operator)
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "%s data sources offer no operations", ds.Type)
	}
	return op, nil
}

// Operations lists the operations a data source offers, to its
// connection users and administrators.
func (s *Service) Operations(ctx context.Context, p *tenantlink.Principal, id string) ([]connector.Operation, error) {
	ds, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	op, err := s.operator(ds)
	if err != nil {
		return nil, err
	}
	return op.Operations(), nil
}

// Delegate is whose write grant a write operation uses when it is not the
// caller's own: a process writes with its last editor's grant, so that an
// ordinary user can run a designed process without being able to make
// changes of their own choosing.
type Delegate struct {
	// Principal is the last editor as they are now (roles and groups
	// re-read), or nil when they no longer exist or are disabled.
	Principal *tenantlink.Principal
	// Name says who it is in messages and audit entries, e.g.
	// `the last editor of process "Onboarding" (ann@contoso.com)`.
	Name string
}

// CheckOperation returns the refusal RunOperation would give p for
// running the operation decl of ds (nil when allowed), without running
// it: reads need a connection user, writes need a write grant (p's own,
// or the delegate's) and Read and write on.
func CheckOperation(p *tenantlink.Principal, d *Delegate, ds *tenantlink.DataSource, decl connector.Operation) error {
	if !decl.Write {
		return CanUse(p, ds)
	}
	if d != nil {
		if err := CanUse(p, ds); err != nil {
			return err
		}
		if d.Principal == nil {
			return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s writes through data source %q, but %s is no longer an active user: %s",
				decl.Label, ds.Name, d.Name, MsgNeedWriter)
		}
		if err := CanWrite(d.Principal, ds); err != nil {
			return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s writes through data source %q, but %s may no longer change Microsoft 365 through it: %s A designer who has them must save the process again.",
				decl.Label, ds.Name, d.Name, MsgNeedWriter)
		}
	} else if err := CanWrite(p, ds); err != nil {
		return err
	}
	if !ds.Settings.ReadWrite {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "%s changes Microsoft 365, but data source %q has Read and write users & groups off: a connection administrator must turn it on (and re-authorize).", decl.Label, ds.Name)
	}
	return nil
}

// RunOperation runs one operation as p. Reads need p to be a connection
// user; writes need p's own write grant (see CanWrite). A refused grant
// turns the data source to re-authorization required; write operations
// are audited with their outcome. When a write applied to a list partly
// fails, both the per-item results and an error summing up the failures
// are returned: callers show the items and the error.
func (s *Service) RunOperation(ctx context.Context, p *tenantlink.Principal, id, name string, inputs map[string]any) ([]connector.Item, error) {
	// Permission first: a data source p may not see is not found.
	if _, err := s.find(ctx, p, id); err != nil {
		return nil, err
	}
	return s.runOperation(ctx, p, nil, id, name, inputs)
}

// RunDelegated runs one operation for p with d's write grant: p must be a
// connection user, and a write operation needs d to hold the write grant
// now (see CheckOperation). Processes run their rules this way.
func (s *Service) RunDelegated(ctx context.Context, p *tenantlink.Principal, d *Delegate, id, name string, inputs map[string]any) ([]connector.Item, error) {
	if d == nil {
		return nil, errors.New("datasource: RunDelegated without a delegate")
	}
	return s.runOperation(ctx, p, d, id, name, inputs)
}

// Check returns the refusal RunOperation would give p for the operation
// name of data source id, without running it (nil when p may run it). A
// refused write is audited, as RunOperation does.
func (s *Service) Check(ctx context.Context, p *tenantlink.Principal, id, name string) error {
	_, _, _, err := s.allowed(ctx, p, nil, id, name)
	return err
}

// allowed loads what running name needs and checks that p (with d's
// grant for writes) may run it.
func (s *Service) allowed(ctx context.Context, p *tenantlink.Principal, d *Delegate, ref, name string) (*tenantlink.DataSource, connector.Operator, *connector.Operation, error) {
	ds, err := s.load(ctx, p, ref)
	if err != nil {
		return nil, nil, nil, err
	}
	if p == nil || p.User == nil && p != tenantlink.System {
		return nil, nil, nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first.")
	}
	op, err := s.operator(ds)
	if err != nil {
		if cerr := CanUse(p, ds); cerr != nil {
			return nil, nil, nil, cerr
		}
		return nil, nil, nil, err
	}
	var decl *connector.Operation
	for _, o := range op.Operations() {
		if o.Name == name {
			decl = &o
			break
		}
	}
	if decl == nil {
		if err := CanUse(p, ds); err != nil {
			return nil, nil, nil, err
		}
		return nil, nil, nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "data source %q has no operation %q (see GET /api/v1/datasources/%s/operations)", ds.Name, name, ds.ID)
	}
	if err := CheckOperation(p, d, ds, *decl); err != nil {
		if decl.Write && tenantlink.ErrorCode(err) == tenantlink.EFORBIDDEN {
			if aerr := s.audit(ctx, s.Store, p, "datasource.operation", ds, "denied", fmt.Sprintf("%s%s: %s", decl.Label, via(d), tenantlink.ErrorMessage(err))); aerr != nil {
				return nil, nil, nil, errors.Join(err, aerr)
			}
		}
		return nil, nil, nil, err
	}
	return ds, op, decl, nil
}

func (s *Service) runOperation(ctx context.Context, p *tenantlink.Principal, d *Delegate, id, name string, inputs map[string]any) ([]connector.Item, error) {
	ds, op, decl, err := s.allowed(ctx, p, d, id, name)
	if err != nil {
		return nil, err
	}
	if len(inputs) > MaxOperationInputs {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "at most %d inputs", MaxOperationInputs)
	}
	switch ds.Status {
	case tenantlink.StatusIncomplete:
		return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "Data source %q is not authorized yet: an administrator must click Authorize.", ds.Name)
	case tenantlink.StatusReauthorize:
		return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "Data source %q needs re-authorization: %s", ds.Name, ds.StatusMessage)
	}
	items, err := op.Run(ctx, ds, s.Credentials(), name, inputs)
	if errors.Is(err, connector.ErrReauthorize) {
		if rerr := s.Refused(ctx, ds.ID, err); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
	}
	if decl.Write {
		outcome, detail := "ok", operationDetail(decl, via(d), inputs, items)
		if err != nil {
			outcome, detail = "failed", fmt.Sprintf("%s%s: %s", decl.Label, via(d), tenantlink.ErrorMessage(err))
		}
		if aerr := s.audit(ctx, s.Store, p, "datasource.operation", ds, outcome, detail); aerr != nil {
			return nil, errors.Join(err, aerr)
		}
	}
	if err != nil {
		// Write operations apply lists item by item: the items that did
		// go through come back with the error that sums up the others.
		return items, fmt.Errorf("%s: %w", decl.Label, err)
	}
	return items, nil
}

// via names the delegate in audit details.
func via(d *Delegate) string {
	if d == nil {
		return ""
	}
	return " (with the write grant of " + d.Name + ")"
}
