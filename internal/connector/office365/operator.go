package office365

import (
	"context"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365/ops"
	"github.com/tenantlink/tenantlink/internal/graph"
)

var _ connector.Operator = (*Connector)(nil)

// Operations declares the data source operations (package ops owns them).
func (c *Connector) Operations() []connector.Operation { return ops.Operations() }

// Run runs an operation with an authorized Graph client. A refused grant,
// at the start or on a Graph 401 during the run, comes back wrapping
// connector.ErrReauthorize so the service marks the data source.
//
// Operations are interactive (a person or a process step waits for them):
// their Graph requests say x-ms-throttle-priority: normal.
func (c *Connector) Run(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, name string, inputs map[string]any) ([]connector.Item, error) {
	ctx = graph.WithPriority(ctx, graph.PriorityNormal)
	gc, err := c.Client(ctx, ds, creds)
	if err != nil {
		return nil, err
	}
	return ops.Run(ctx, ops.Env{Graph: gc, ReadWrite: ds.Settings.ReadWrite, Now: c.now, Logger: c.log.With("datasource", ds.ID)}, name, inputs)
}
