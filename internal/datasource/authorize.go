package datasource

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/store"
)

// authorizeTTL is how long a started authorization may take to finish.
const authorizeTTL = 15 * time.Minute

// Authorize starts the browser authorization of a data source and returns
// the URL to open in the popup.
func (s *Service) Authorize(ctx context.Context, p *tenantlink.Principal, ref string) (string, error) {
	ds, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return "", err
	}
	a, ok := s.Connectors[ds.Type].(connector.Authorizer)
	if !ok {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "%s data sources are not authorized through a browser", ds.Type)
	}
	u, pending, err := a.BeginAuthorize(ctx, ds, s.CallbackURL)
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	err = s.Store.PutOAuthState(ctx, &store.OAuthState{
		State: pending.State, Purpose: pending.Purpose, DataSourceID: ds.ID, UserID: p.ID(),
		Nonce: pending.Nonce, Verifier: pending.Verifier, ExpiresAt: s.Now().Add(authorizeTTL),
	})
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	return u, s.audit(ctx, s.Store, p, "datasource.authorize.start", ds, "ok", ds.Settings.AuthMode)
}

// CallbackResult is what the popup shows when Microsoft sends the browser back.
type CallbackResult struct {
	DataSource *tenantlink.DataSource `json:"datasource,omitempty"`
	OK         bool                   `json:"ok"`
	Message    string                 `json:"message"`
}

// Callback completes an authorization: the browser returned to
// /oauth/callback with query. p is the signed-in user of that browser; it
// must be the one who started the authorization.
func (s *Service) Callback(ctx context.Context, p *tenantlink.Principal, query url.Values) (*CallbackResult, error) {
	state := query.Get("state")
	if state == "" || len(state) > 512 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "The sign-in answer has no valid state: start again with Authorize.")
	}
	pending, err := s.Store.TakeOAuthState(ctx, state, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "This sign-in answer is unknown, expired or already used: start again with Authorize.")
	}
	if err != nil {
		return nil, fmt.Errorf("authorize callback: %w", err)
	}
	if p == nil || p.User == nil || p.User.ID != pending.UserID {
		return nil, tenantlink.Errorf(tenantlink.EFORBIDDEN, "This authorization was started by another tenantlink user: start again with Authorize.")
	}
	ds, err := s.Store.GetDataSource(ctx, pending.DataSourceID)
	if err != nil {
		return nil, err
	}
	if err := CanAdminister(p, ds); err != nil {
		return nil, err
	}
	a, ok := s.Connectors[ds.Type].(connector.Authorizer)
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "%s data sources are not authorized through a browser", ds.Type)
	}
	grant, err := a.CompleteAuthorize(ctx, ds, connector.Pending{State: state, Nonce: pending.Nonce, Verifier: pending.Verifier, Purpose: pending.Purpose}, s.CallbackURL, query)
	if err != nil {
		msg := tenantlink.ErrorMessage(err)
		if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
			s.Logger.ErrorContext(ctx, "authorize callback", "datasource", ds.ID, "err", err)
			msg = "Authorization failed: " + err.Error()
		}
		// A data source never authorized keeps the reason on its page; one
		// that holds a working grant keeps its status and message: a failed
		// re-authorization does not take away the grant it already has.
		aerr := s.Store.InTx(ctx, func(tx store.Store) error {
			if ds.AuthorizedAt == nil {
				cur, err := tx.GetDataSource(ctx, ds.ID)
				if err != nil {
					return err
				}
				s.setStatus(cur, tenantlink.StatusIncomplete, "Authorization failed: "+msg)
				if err := tx.UpdateDataSource(ctx, cur); err != nil {
					return err
				}
				*ds = *cur
			}
			return s.audit(ctx, tx, p, "datasource.authorize", ds, "failed", msg)
		})
		if aerr != nil {
			return nil, aerr
		}
		return &CallbackResult{DataSource: ds, OK: false, Message: msg}, nil
	}
	from := ds.Status
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if err := tx.PutCredential(ctx, ds.ID, grant.Secret); err != nil {
			return err
		}
		at := grant.At
		if at.IsZero() {
			at = s.Now()
		}
		ds.AuthorizedAt = &at
		ds.AuthorizedBy = grant.AuthorizedBy
		if p.User != nil && grant.AuthorizedBy != p.User.Email {
			ds.AuthorizedBy = fmt.Sprintf("%s (signed in to tenantlink as %s)", grant.AuthorizedBy, p.User.Email)
		}
		ds.Account = grant.Account
		ds.GrantedScopes = grant.Scopes
		ds.ReauthorizeBy = reauthorizeBy(ds)
		ds.Modified, ds.ModifiedBy = s.Now(), p.Name()
		s.setStatus(ds, tenantlink.StatusIncomplete, "Authorized; testing the connection…")
		if err := tx.UpdateDataSource(ctx, ds); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "datasource.authorize", ds, "ok", fmt.Sprintf("account=%s by=%s scopes=%v", grant.Account, grant.AuthorizedBy, grant.Scopes))
	})
	if err != nil {
		return nil, fmt.Errorf("authorize callback: %w", err)
	}
	res, err := s.test(ctx, p, ds, from)
	if err != nil {
		return nil, err
	}
	return &CallbackResult{DataSource: ds, OK: res.OK, Message: res.Message}, nil
}

// Test runs the connection test and records its outcome in the status.
func (s *Service) Test(ctx context.Context, p *tenantlink.Principal, ref string) (*connector.TestResult, error) {
	ds, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	return s.test(ctx, p, ds, ds.Status)
}

func (s *Service) test(ctx context.Context, p *tenantlink.Principal, ds *tenantlink.DataSource, from tenantlink.Status) (*connector.TestResult, error) {
	t, ok := s.Connectors[ds.Type].(connector.Tester)
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "%s data sources cannot be tested", ds.Type)
	}
	var res connector.TestResult
	if ds.AuthorizedAt == nil {
		res = connector.TestResult{OK: false, Message: "Not authorized yet: click Authorize."}
	} else {
		res = t.Test(ctx, ds, s.Credentials())
	}
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		cur, err := tx.GetDataSource(ctx, ds.ID)
		if err != nil {
			return err
		}
		switch {
		case ds.AuthorizedAt == nil:
			s.setStatus(cur, tenantlink.StatusIncomplete, res.Message)
		case res.OK && cur.Settings.ReadWrite && !covers(cur.GrantedScopes, s.requiredScopes(cur)):
			// The connection works but the grant predates read/write.
			s.setStatus(cur, tenantlink.StatusReauthorize, "Read and write users & groups is on but the stored authorization does not cover it: re-authorize.")
		case res.OK:
			s.setStatus(cur, tenantlink.StatusReady, res.Message)
		case res.Reauthorize:
			s.setStatus(cur, tenantlink.StatusReauthorize, res.Message)
		default:
			s.setStatus(cur, tenantlink.StatusTestFailed, res.Message)
		}
		if err := tx.UpdateDataSource(ctx, cur); err != nil {
			return err
		}
		*ds = *cur
		outcome := "ok"
		if !res.OK {
			outcome = "failed"
		}
		return s.audit(ctx, tx, p, "datasource.test", cur, outcome, fmt.Sprintf("status %q: %s", cur.Status, res.Message))
	})
	if err != nil {
		return nil, fmt.Errorf("connection test: %w", err)
	}
	if ds.Status != from {
		s.notify(ds, from)
	}
	return &res, nil
}

// Refused records that the upstream refused a data source's stored grant
// during use (an operation, a sync): the status becomes re-authorization
// required with the reason, so that nothing retries blindly.
func (s *Service) Refused(ctx context.Context, id string, cause error) error {
	if !errors.Is(cause, connector.ErrReauthorize) {
		return nil
	}
	var from tenantlink.Status
	var ds *tenantlink.DataSource
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		var err error
		ds, err = tx.GetDataSource(ctx, id)
		if err != nil {
			return err
		}
		from = ds.Status
		s.setStatus(ds, tenantlink.StatusReauthorize, tenantlink.ErrorMessage(cause))
		if tenantlink.ErrorCode(cause) == tenantlink.EINTERNAL {
			ds.StatusMessage = cause.Error()
		}
		if err := tx.UpdateDataSource(ctx, ds); err != nil {
			return err
		}
		return s.audit(ctx, tx, tenantlink.System, "datasource.status", ds, "re-authorization required", ds.StatusMessage)
	})
	if err != nil {
		return fmt.Errorf("record refused grant: %w", err)
	}
	s.notify(ds, from)
	return nil
}
