package office365

import (
	"context"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365/ops"
)

var _ connector.LicenceReporter = (*Connector)(nil)

// LicenceReport reads the tenant's licence use (ops.LicenceReport) with
// an authorized Graph client; a refused grant wraps
// connector.ErrReauthorize as for operations.
func (c *Connector) LicenceReport(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore) (*connector.LicenceReport, error) {
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return nil, err
	}
	return ops.LicenceReport(ctx, ops.Env{Graph: gc, ReadWrite: ds.Settings.ReadWrite, Now: c.now, Logger: c.log.With("datasource", ds.ID)})
}

// ReclaimCall is Remove Licence from User over the users.
func (c *Connector) ReclaimCall(skuID string, userIDs []string) (string, map[string]any) {
	return ops.ReclaimCall(skuID, userIDs)
}
