package datasource

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

func (s *Service) reporter(ds *tenantlink.DataSource) (connector.LicenceReporter, error) {
	rep, ok := s.Connectors[ds.Type].(connector.LicenceReporter)
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "%s data sources have no licence report.", ds.Type)
	}
	return rep, nil
}

// usable refuses a data source that cannot reach its upstream yet, as
// RunOperation does.
func usable(ds *tenantlink.DataSource) error {
	switch ds.Status {
	case tenantlink.StatusIncomplete:
		return tenantlink.Errorf(tenantlink.ECONFLICT, "Data source %q is not authorized yet: an administrator must click Authorize.", ds.Name)
	case tenantlink.StatusReauthorize:
		return tenantlink.Errorf(tenantlink.ECONFLICT, "Data source %q needs re-authorization: %s", ds.Name, ds.StatusMessage)
	}
	return nil
}

// LicenceReport reads a data source's licence use for one of its
// connection users (a read, like the read operations).
func (s *Service) LicenceReport(ctx context.Context, p *tenantlink.Principal, id string) (*tenantlink.DataSource, *connector.LicenceReport, error) {
	ds, err := s.find(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	if err := CanUse(p, ds); err != nil {
		return nil, nil, err
	}
	rep, err := s.reporter(ds)
	if err != nil {
		return nil, nil, err
	}
	if err := usable(ds); err != nil {
		return nil, nil, err
	}
	report, err := rep.LicenceReport(ctx, ds, s.Credentials())
	if errors.Is(err, connector.ErrReauthorize) {
		if rerr := s.Refused(ctx, ds.ID, err); rerr != nil {
			return nil, nil, errors.Join(err, rerr)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return ds, report, nil
}

// ReclaimResult is what reclaiming one SKU did: one item per user with its
// outcome, and the error summing up failures ("" when none).
type ReclaimResult struct {
	SkuID         string           `json:"skuId"`
	SkuPartNumber string           `json:"skuPartNumber"`
	Items         []connector.Item `json:"items"`
	Error         string           `json:"error,omitempty"`
}

// ReclaimLicences removes the licences of disabled accounts that the
// report counts as reclaimable (assigned directly and nowhere else), one
// write operation per SKU through RunOperation: the data source's write
// permission, its read-and-write setting and the audit apply exactly as
// when someone runs the operation by hand. A refusal before anything was
// written is the error; per-user failures are in the results.
func (s *Service) ReclaimLicences(ctx context.Context, p *tenantlink.Principal, id string) ([]ReclaimResult, error) {
	ds, report, err := s.LicenceReport(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !ds.Settings.ReadWrite {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"Reclaiming licences writes to Office 365: turn on Read and write users & groups for data source %q and re-authorize.", ds.Name)
	}
	rep, _ := s.reporter(ds)
	out := []ReclaimResult{}
	for _, sku := range report.SKUs {
		if len(sku.DisabledUsers) == 0 {
			continue
		}
		ids := make([]string, len(sku.DisabledUsers))
		for i, u := range sku.DisabledUsers {
			ids[i] = u.ID
		}
		op, in := rep.ReclaimCall(sku.SkuID, ids)
		items, err := s.RunOperation(ctx, p, id, op, in)
		if err != nil && len(items) == 0 {
			if len(out) == 0 {
				return nil, err
			}
			// Earlier SKUs were reclaimed: report them with this failure.
			out = append(out, ReclaimResult{SkuID: sku.SkuID, SkuPartNumber: sku.SkuPartNumber, Items: []connector.Item{}, Error: tenantlink.ErrorMessage(err)})
			return out, fmt.Errorf("reclaiming %s: %w", sku.SkuPartNumber, err)
		}
		r := ReclaimResult{SkuID: sku.SkuID, SkuPartNumber: sku.SkuPartNumber, Items: items}
		if err != nil {
			r.Error = tenantlink.ErrorMessage(err)
		}
		out = append(out, r)
	}
	return out, nil
}
