package office365

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// Client returns a Graph client authorized with ds's stored grant. It gets
// a token first, so a refused grant surfaces here as an error wrapping
// connector.ErrReauthorize rather than inside the first Graph call. During
// use, a Graph 401 drops the cached token and retries once with a fresh
// one; a refusal then also wraps connector.ErrReauthorize.
func (c *Connector) Client(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore) (*graph.Client, error) {
	return c.client(ctx, ds, creds, 0)
}

// client is Client with the Graph client's MaxRetries (0 for its default).
func (c *Connector) client(ctx context.Context, ds *tenantlink.DataSource, creds connector.CredentialStore, maxRetries int) (*graph.Client, error) {
	s, err := loadSecret(ctx, creds, ds.ID)
	if err != nil {
		return nil, err
	}
	if mode(ds) != s.Mode {
		return nil, &tenantlink.Error{
			Code:    tenantlink.EUPSTREAM,
			Message: fmt.Sprintf("The data source was authorized in %s mode but is now set to %s mode: click Re-Authorize.", s.Mode, mode(ds)),
			Err:     connector.ErrReauthorize,
		}
	}
	src := &grantSource{c: c, dsID: ds.ID, creds: creds, grant: s.Grant}
	if _, err := src.token(ctx, ""); err != nil {
		return nil, err
	}
	base := c.hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := &http.Client{Transport: &authTransport{src: src, base: base}, Timeout: c.hc.Timeout}
	return graph.New(graph.Config{
		BaseURL:    c.cfg.GraphURL,
		HTTPClient: hc,
		Logger:     c.log.With("datasource", ds.ID),
		Now:        c.now,
		Sleep:      src.sleep,
		MaxRetries: maxRetries,
		Pacer:      c.pacer(ds),
	}), nil
}

// pacer returns the Graph pacer of ds's tenant (its Account, set once
// authorized; the data source id before that), shared by every client and
// so by syncs and operations running at once: Graph's identity limits
// are per app+tenant.
func (c *Connector) pacer(ds *tenantlink.DataSource) *graph.Pacer {
	key := "tenant:" + strings.ToLower(ds.Account)
	if ds.Account == "" {
		key = "datasource:" + ds.ID
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.pacers == nil {
		c.pacers = map[string]*graph.Pacer{}
	}
	p := c.pacers[key]
	if p == nil {
		p = graph.NewPacer(c.now)
		c.pacers[key] = p
	}
	return p
}

// grantSource supplies one data source's tokens to one Graph client.
type grantSource struct {
	c     *Connector
	dsID  string
	creds connector.CredentialStore
	grant string

	mu       sync.Mutex
	terminal error // a refusal no retry can fix
}

func (g *grantSource) token(ctx context.Context, reject string) (string, error) {
	t, err := g.c.token(ctx, g.dsID, g.creds, g.grant, reject)
	if err != nil {
		if permanent(err) {
			g.mu.Lock()
			g.terminal = err
			g.mu.Unlock()
		}
		return "", err
	}
	return t.value, nil
}

// permanent reports whether err is a token refusal that waiting cannot fix:
// the grant is gone or tenantlink's app registration is misconfigured.
func permanent(err error) bool {
	if errors.Is(err, connector.ErrReauthorize) {
		return true
	}
	var te *tokenError
	return errors.As(err, &te) && tenantlink.ErrorCode(err) == tenantlink.EUPSTREAM
}

// sleep is the Graph client's wait before a retry. The Graph client
// retries GETs after transport errors, and a refused token reaches it as
// one; returning the refusal here stops those blind retries (and their
// backoff) at once, with the refusal still in the error chain.
func (g *grantSource) sleep(ctx context.Context, d time.Duration) error {
	g.mu.Lock()
	err := g.terminal
	g.mu.Unlock()
	if err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// authTransport adds the bearer token and, on a 401, retries once with a
// fresh one: the cached token may have been revoked or signed with a
// rolled key before its expiry.
type authTransport struct {
	src  *grantSource
	base http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.src.token(req.Context(), "")
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil // the body is spent; let the caller see the 401
	}
	fresh, err := t.src.token(req.Context(), tok)
	if err != nil {
		drain(resp)
		return nil, err
	}
	if fresh == tok {
		return resp, nil
	}
	drain(resp)
	r2 := req.Clone(req.Context())
	if req.GetBody != nil {
		if r2.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("office365: replay request body: %w", err)
		}
	}
	return t.send(r2, fresh)
}

// send clones req (a RoundTripper must not modify it) with the token.
func (t *authTransport) send(req *http.Request, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(r)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// staticClient carries one access token, for the administrator check
// made before any grant is stored.
func (c *Connector) staticClient(tok string) *http.Client {
	base := c.hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Timeout: c.hc.Timeout, Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
		return base.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// graphReason describes a Graph failure for a message: Graph's status,
// code and message, and the permission a 403 lacks.
func graphReason(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		s := fmt.Sprintf("%d %s", ge.Status, ge.Code)
		if ge.Message != "" {
			s += ": " + ge.Message
		}
		if ge.Permission != "" {
			s += fmt.Sprintf(" (tenantlink needs the %s permission)", ge.Permission)
		}
		return s
	}
	if m := tenantlink.ErrorMessage(err); tenantlink.ErrorCode(err) != tenantlink.EINTERNAL {
		return m
	}
	return err.Error()
}

func base64URLDecode(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
