package datasource

import (
	"context"
	"errors"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// ResolveID turns a reference to a data source — its id, or its unique
// display name (exact, case-insensitive) — into its id, so that a name
// works wherever an id does (API paths, process definitions). An id
// always wins over a name. Names are looked up only among the data
// sources p may administer or use, so an unknown name and one p may not
// see come back the same way: unchanged, for the caller's lookup by id to
// answer "not found" exactly as for an unknown id. It never errors on a
// reference it cannot resolve, for the same reason.
func (s *Service) ResolveID(ctx context.Context, p *tenantlink.Principal, ref string) (string, error) {
	_, err := s.Store.GetDataSource(ctx, ref)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return ref, err
	}
	name := strings.TrimSpace(ref)
	if name == "" || p == nil || (p.User == nil && p != tenantlink.System) {
		return ref, nil
	}
	all, err := s.Store.ListDataSources(ctx, name)
	if err != nil {
		return "", err
	}
	for _, ds := range all {
		if !strings.EqualFold(ds.Name, name) {
			continue
		}
		// The permission check comes before the match is used: a data
		// source p may not see is not there for p.
		if CanAdminister(p, ds) != nil && CanUse(p, ds) != nil {
			return ref, nil
		}
		return ds.ID, nil
	}
	return ref, nil
}
