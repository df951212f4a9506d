package datasource

import (
	"context"
	"errors"
	"fmt"
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
	return s.byName(ctx, p, ref)
}

// load is the data source ref names (see ResolveID), read once when ref
// is an id, as it usually is.
func (s *Service) load(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	ds, err := s.Store.GetDataSource(ctx, ref)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return ds, err
	}
	id, rerr := s.byName(ctx, p, ref)
	if rerr != nil {
		return nil, rerr
	}
	if id == ref {
		return nil, err // unknown, or not visible to p: the id's own not found
	}
	return s.Store.GetDataSource(ctx, id)
}

// byName is ResolveID after ref was found not to be an id.
func (s *Service) byName(ctx context.Context, p *tenantlink.Principal, ref string) (string, error) {
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

// Visible reports whether p may see ds at all: administer it or use it,
// the data sources List shows p. One p may not see answers exactly as an
// unknown one (see Find).
func Visible(p *tenantlink.Principal, ds *tenantlink.DataSource) bool {
	return CanAdminister(p, ds) == nil || CanUse(p, ds) == nil
}

// notFound is the one answer for a data source reference that names
// nothing p may see, unknown and hidden alike
// (docs/decisions/0023-permission-first.md).
func notFound(ref string) error {
	return &tenantlink.Error{Code: tenantlink.ENOTFOUND, Message: fmt.Sprintf("data source %q not found", ref), Err: store.ErrNotFound}
}

// find is the data source ref names, permission first: a data source p
// may not see is not found, exactly as an unknown reference, so the
// answer never tells one from the other. Refusals that follow (403) are
// for data sources p can see but may not act on.
func (s *Service) find(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	ds, err := s.load(ctx, p, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(ref)
	}
	if err != nil {
		return nil, err
	}
	if !Visible(p, ds) {
		return nil, notFound(ref)
	}
	return ds, nil
}

// findToAdminister is find for the administration entry points: the role
// check first (it does not depend on the data source, so refusing it
// before the look-up tells nothing), then find, then the data source's
// own list of connection administrators.
func (s *Service) findToAdminister(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	if err := CanAdminister(p, nil); err != nil {
		return nil, err
	}
	ds, err := s.find(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := CanAdminister(p, ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// administers re-checks, inside a transaction, a data source that
// findToAdminister returned: hidden by now is not found, listed no longer
// is refused.
func administers(p *tenantlink.Principal, ds *tenantlink.DataSource, ref string) error {
	if !Visible(p, ds) {
		return notFound(ref)
	}
	return CanAdminister(p, ds)
}
