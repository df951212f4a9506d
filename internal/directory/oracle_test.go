package directory_test

import (
	"context"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestListUsersByDataSourceNoOracle: someone who may not list users gets
// the same answer whether the data source filter names a data source that
// exists or not, so the filter cannot probe for ids; an Administrator
// hears that an unknown id is unknown.
func TestListUsersByDataSourceNoOracle(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	ds := &tenantlink.DataSource{Name: "Contoso", Type: tenantlink.ConnectorOffice365,
		Security: tenantlink.Security{Admins: []string{}, Users: []string{}, Writers: []string{}}}
	if err := s.Store.CreateDataSource(ctx, ds); err != nil {
		t.Fatal(err)
	}
	user := principal(t, s, mustUser(t, s, "user@example.com", tenantlink.RoleUser))
	admin := principal(t, s, mustUser(t, s, "admin@example.com", tenantlink.RoleAdministrator))
	for _, tc := range []struct {
		name string
		p    *tenantlink.Principal
		ds   string
		want string
	}{
		{"user, known data source", user, ds.ID, tenantlink.EFORBIDDEN},
		{"user, unknown data source", user, "00000000-0000-0000-0000-000000000000", tenantlink.EFORBIDDEN},
		{"admin, known data source", admin, ds.ID, ""},
		{"admin, unknown data source", admin, "00000000-0000-0000-0000-000000000000", tenantlink.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListUsers(ctx, tc.p, store.UserFilter{DataSource: tc.ds})
			if got := tenantlink.ErrorCode(err); got != tc.want {
				t.Errorf("ListUsers error code = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}
