package office365

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

func TestRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ds := newDataSource("ds-run", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	if got := len(e.conn.Operations()); got == 0 {
		t.Fatal("Operations() is empty")
	}
	items, err := e.conn.Run(ctx, ds, e.creds, "UserList", map[string]any{})
	if err != nil {
		t.Fatalf("UserList: %v", err)
	}
	if len(items) == 0 {
		t.Error("UserList returned no users")
	}
	// The cached token is refused by Graph after the revocation: the run
	// refreshes once and reports the refused grant.
	e.control(t, "/_sim/revoke", map[string]string{"user": e.facts.AdminUser})
	_, err = e.conn.Run(ctx, ds, e.creds, "UserList", map[string]any{})
	if !errors.Is(err, connector.ErrReauthorize) {
		t.Errorf("UserList after revocation: err = %v, want connector.ErrReauthorize", err)
	}
}

func TestModeChangedNeedsReauthorization(t *testing.T) {
	e := newEnv(t)
	ds := newDataSource("ds-mode", tenantlink.AuthDelegated, false)
	e.mustAuthorize(t, ds)
	ds.Settings.AuthMode = tenantlink.AuthApplication
	res := e.conn.Test(context.Background(), ds, e.creds)
	if res.OK || !res.Reauthorize {
		t.Errorf("Test after switching to application mode = %+v, want Reauthorize", res)
	}
}
