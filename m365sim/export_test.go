package m365sim

import (
	"bytes"
	"reflect"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// StateDiff compares everything two simulators hold about their tenants,
// unexported fields and derived bookkeeping included (consumed units,
// which group licences count, deleted items, id streams, seeding
// recipes), so a test of the state file sees what no Graph answer shows
// yet. Callbacks and the clock are left out.
func StateDiff(a, b *Server) string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	b.mu.RLock()
	defer b.mu.RUnlock()
	opts := cmp.Options{
		cmp.Exporter(func(reflect.Type) bool { return true }),
		cmpopts.IgnoreFields(tenant{}, "onChange", "clock", "onRecord"),
		cmp.Comparer(func(x, y *ids) bool {
			bx, errx := x.src.MarshalBinary()
			by, erry := y.src.MarshalBinary()
			return errx == nil && erry == nil && bytes.Equal(bx, by)
		}),
	}
	return cmp.Diff(a.tenants, b.tenants, opts) + cmp.Diff(a.specs, b.specs, opts)
}
