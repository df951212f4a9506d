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

// RunOperation runs one operation for a connection user. A refused grant
// turns the data source to re-authorization required; write operations
// are audited with their outcome. When a write applied to a list partly
// fails, both the per-item results and an error summing up the failures
// are returned: callers show the items and the error.
func (s *Service) RunOperation(ctx context.Context, p *tenantlink.Principal, id, name string, inputs map[string]any) ([]connector.Item, error) {
	ds, err := s.Store.GetDataSource(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := CanUse(p, ds); err != nil {
		return nil, err
	}
	op, err := s.operator(ds)
	if err != nil {
		return nil, err
	}
	var decl *connector.Operation
	for _, o := range op.Operations() {
		if o.Name == name {
			decl = &o
			break
		}
	}
	if decl == nil {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "data source %q has no operation %q (see GET /api/v1/datasources/%s/operations)", ds.Name, name, ds.ID)
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
		outcome, detail := "ok", operationDetail(decl, inputs, items)
		if err != nil {
			outcome, detail = "failed", fmt.Sprintf("%s: %s", decl.Label, tenantlink.ErrorMessage(err))
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
