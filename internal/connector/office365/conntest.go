package office365

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// testOK is the message the seed documentation shows on success.
const testOK = "Connection test succeeded"

// Test checks ds's stored grant with a token request and one read. It
// never writes, even for read/write data sources: a test must be safe to
// run at any time.
func (c *Connector) Test(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore) connector.TestResult {
	// One retry at most: a person is waiting for the answer, and the
	// Graph client's default backoff could keep them a minute.
	ctx = graph.WithPriority(ctx, graph.PriorityNormal)
	gc, err := c.client(ctx, ds, creds, 1)
	if err != nil {
		return c.failed(ctx, ds, err)
	}
	_, err = gc.Organization(ctx)
	if errors.Is(err, graph.ErrForbidden) {
		// Some tenants restrict /organization; reading one user id proves
		// the grant just as well.
		err = gc.ListUsers(ctx, graph.Query{Select: []string{"id"}, Top: 1, Max: 1}, func([]graph.User) error { return nil })
	}
	if err != nil {
		return c.failed(ctx, ds, err)
	}
	return connector.TestResult{OK: true, Message: testOK}
}

// failed turns a test failure into a result whose message names the cause.
func (c *Connector) failed(ctx context.Context, ds *tenantlink.DataSource, err error) connector.TestResult {
	c.log.WarnContext(ctx, "office365 connection test failed", "datasource", ds.ID, "err", err)
	switch {
	case errors.Is(err, connector.ErrReauthorize):
		return connector.TestResult{Message: tenantlink.ErrorMessage(err), Reauthorize: true}
	case errors.Is(err, connector.ErrNotAuthorized):
		return connector.TestResult{Message: "Not authorized yet: click Authorize."}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return connector.TestResult{Message: "Connection test failed: it was cancelled or timed out."}
	}
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Status == 403 && mode(ds) == tenantlink.AuthApplication && c.roleless(ds.ID) {
		// Withdrawn admin consent does not fail the client-credentials
		// request: Microsoft still issues a token, with no roles in it.
		return connector.TestResult{
			Message:     "Microsoft Graph refused access and tenantlink's app-only token carries no permissions: the admin consent was withdrawn from the tenant. Click Re-Authorize.",
			Reauthorize: true,
		}
	}
	if errors.As(err, &ge) {
		msg := fmt.Sprintf("Connection test failed: Microsoft Graph answered %s", graphReason(err))
		if ge.Status == 403 {
			msg += ". Re-authorize so that the missing permission is granted."
		}
		return connector.TestResult{Message: msg}
	}
	if tenantlink.ErrorCode(err) != tenantlink.EINTERNAL {
		return connector.TestResult{Message: tenantlink.ErrorMessage(err)}
	}
	return connector.TestResult{Message: fmt.Sprintf("Connection test failed: cannot reach Microsoft Graph at %s: %s", c.cfg.GraphURL, netReason(err))}
}

// roleless reports whether ds's cached app-only token has no roles.
func (c *Connector) roleless(dsID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.cache[dsID]
	return t != nil && len(t.granted) == 0
}
