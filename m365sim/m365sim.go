// Package m365sim is the Microsoft 365 simulator: a stateful, in-memory
// stand-in for the Microsoft identity platform and the Graph v1.0 endpoints
// tenantlink uses, so everything runs and is tested over loopback without a
// real tenant. It owns the directory state (tenants, users, groups,
// licences, the change log behind delta queries), the Graph API, the
// throttling model and the /_sim/ control endpoints; sign-in and tokens are
// delegated to package identity, which reads users through Directory.
//
// Use it like fsouza/fake-gcs-server's fakestorage: New, then Start or
// mount Handler, then point clients at URL.
package m365sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantlink/tenantlink/m365sim/identity"
)

// Options configures a simulator. The zero value is usable.
type Options struct {
	TenantDomain           string // default "contoso.onmicrosoft.com"
	Users, Groups          int    // default 50 users, 12 groups
	Seed                   int64
	ClientID, ClientSecret string // the app registration for tenantlink; generated when empty
	RedirectURIs           []string
	AdminPassword          string        // generated when empty; non-admin passwords generated too
	Latency                time.Duration // added to every Graph request
	Throttle               bool          // Graph's documented identity limits
	Now                    func() time.Time
	Logger                 *slog.Logger

	// StatePath, when set, is the file the simulator keeps its state in
	// (persist.go): loaded by New when it exists, in which case the seeding
	// options (TenantDomain, Users, Groups, Seed, ClientID, ClientSecret,
	// AdminPassword) are ignored; written when it does not, and again after
	// every change (debounced) and on Shutdown or Close.
	StatePath string

	// ThrottleTimeScale divides the windows of Graph's limits (not the
	// limits) so a benchmark can run into them sooner: at 10, 3,000
	// writes per 150 s become 3,000 per 15 s. 0 means 1.
	ThrottleTimeScale float64
	// Change notifications (subscriptions.go, notify.go; decision 0018).
	// Zero values take the defaults in brackets.
	NotificationDelay   time.Duration // changes are coalesced this long per subscription before a POST [200ms]
	ValidationTimeout   time.Duration // the endpoint's time to answer the validation handshake [10s, Graph's]
	NotificationTimeout time.Duration // a receiver must answer 2xx within this, else it is retried [3s, Graph's]
	NotificationRetry   time.Duration // the first retry delay, doubling up to 64 times it, for 4 hours [10s]
	ReauthorizeBefore   time.Duration // reauthorizationRequired when less than this remains before expiry [1h]
	ThrottleDelay       time.Duration // what a slow endpoint's notifications wait, first try and retries [10m, Graph's]
}

// Facts is everything a client needs to use the simulator.
type Facts struct {
	URL            string `json:"url"`
	TenantID       string `json:"tenantId"`
	TenantDomain   string `json:"tenantDomain"`
	ClientID       string `json:"clientId"`
	ClientSecret   string `json:"clientSecret"`
	AdminUser      string `json:"adminUser"`
	AdminPassword  string `json:"adminPassword"`
	MemberUser     string `json:"memberUser"`
	MemberPassword string `json:"memberPassword"`
}

// TenantFacts describes an additional tenant.
type TenantFacts struct {
	TenantID       string `json:"tenantId"`
	TenantDomain   string `json:"tenantDomain"`
	AdminUser      string `json:"adminUser"`
	AdminPassword  string `json:"adminPassword"`
	MemberUser     string `json:"memberUser"`
	MemberPassword string `json:"memberPassword"`
}

// Server is a running (or ready to run) simulator.
type Server struct {
	opts   Options
	logger *slog.Logger
	idp    *identity.Provider

	mu       sync.RWMutex
	tenants  []*tenant
	byID     map[string]*tenant
	byDomain map[string]*tenant
	specs    map[string]tenantSpec // how each tenant was seeded, for Reset
	offset   atomic.Int64          // nanoseconds added to opts.Now by /_sim/clock

	ctl   *controls
	thr   *throttler
	facts Facts

	graphOnce sync.Once
	graphH    http.Handler

	srv      *http.Server
	listener net.Listener
	baseURL  string

	persist *persister // nil without Options.StatePath

	notif *notifier // subscriptions and change notifications (notify.go)
}

type tenantSpec struct {
	domain string
	id     string
	seed   int64
	seedSpec
}

// New builds and seeds a simulator; it does not listen yet.
func New(o Options) (*Server, error) {
	if o.TenantDomain == "" {
		o.TenantDomain = "contoso.onmicrosoft.com"
	}
	if o.Users <= 0 {
		o.Users = 50
	}
	if o.Groups < 0 {
		o.Groups = 0
	} else if o.Groups == 0 {
		o.Groups = 12
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		opts: o, logger: o.Logger,
		byID: map[string]*tenant{}, byDomain: map[string]*tenant{}, specs: map[string]tenantSpec{},
		ctl: newControls(),
	}
	s.thr = newThrottler(s.now, o.ThrottleTimeScale)
	s.notif = newNotifier(s)
	if o.StatePath != "" {
		st, err := readState(o.StatePath)
		if err == nil {
			if err := s.restore(o, st); err != nil {
				return nil, err
			}
			return s, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	g := newIDs(o.Seed, 0)
	tenantID := g.guid()
	if o.ClientID == "" {
		o.ClientID = g.guid()
	} else {
		g.guid()
	}
	if o.ClientSecret == "" {
		o.ClientSecret = g.secret()
	} else {
		g.secret()
	}
	adminPW, memberPW := g.password(), g.password()
	if o.AdminPassword != "" {
		adminPW = o.AdminPassword
	}
	s.opts = o

	idp, err := identity.New(identity.Options{Directory: directory{s}, Now: s.now, Logger: o.Logger.With("component", "identity"), OnChange: s.markDirty})
	if err != nil {
		return nil, fmt.Errorf("m365sim: identity: %w", err)
	}
	s.idp = idp

	spec := tenantSpec{domain: strings.ToLower(o.TenantDomain), id: tenantID, seed: o.Seed, seedSpec: seedSpec{
		users: o.Users, groups: o.Groups, adminPassword: adminPW, memberPassword: memberPW, now: o.Now(),
	}}
	t, admin, member := buildTenant(spec)
	s.addTenantLocked(t, spec)
	idp.RegisterApp(identity.App{
		ClientID: o.ClientID, ClientSecret: o.ClientSecret, DisplayName: "tenantlink",
		HomeTenantID: tenantID, RedirectURIs: o.RedirectURIs, MultiTenant: true,
	})
	s.facts = Facts{
		TenantID: tenantID, TenantDomain: spec.domain, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		AdminUser: admin.UserPrincipalName, AdminPassword: adminPW,
		MemberUser: member.UserPrincipalName, MemberPassword: memberPW,
	}
	if o.StatePath != "" {
		if err := s.startPersisting(o.StatePath); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func buildTenant(spec tenantSpec) (*tenant, *user, *user) {
	t := newTenant(spec.id, spec.domain, spec.seed, spec.now)
	admin, member := seedTenant(t, spec.seedSpec)
	return t, admin, member
}

func (s *Server) addTenantLocked(t *tenant, spec tenantSpec) {
	t.clock = s.now
	s.tenants = append(s.tenants, t)
	s.byID[t.ID] = t
	s.byDomain[t.Domain] = t
	s.specs[t.ID] = spec
	t.onChange = s.markDirty
	t.onRecord = func(c change) { s.notif.changed(t, c) }
}

// now is the simulator's clock: the injected clock plus any /_sim/clock
// advance, shared with identity so token and delta expiry move together.
func (s *Server) now() time.Time {
	return s.opts.Now().Add(time.Duration(s.offset.Load()))
}

// AddTenant seeds another tenant on the same host and signing keys, for
// multi-tenant tests.
func (s *Server) AddTenant(domain string, users int, seed int64) (TenantFacts, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || strings.ContainsAny(domain, " /@") {
		return TenantFacts{}, fmt.Errorf("m365sim: add tenant: invalid domain %q", domain)
	}
	if users <= 0 {
		users = 10
	}
	g := newIDs(seed, 3)
	spec := tenantSpec{domain: domain, id: g.guid(), seed: seed, seedSpec: seedSpec{
		users: users, groups: 3, adminPassword: g.password(), memberPassword: g.password(), now: s.now(),
	}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byDomain[domain]; dup {
		return TenantFacts{}, fmt.Errorf("m365sim: add tenant %s: domain already exists", domain)
	}
	if _, dup := s.byID[spec.id]; dup {
		return TenantFacts{}, fmt.Errorf("m365sim: add tenant %s: seed %d already used", domain, seed)
	}
	t, admin, member := buildTenant(spec)
	s.addTenantLocked(t, spec)
	s.markDirty()
	return TenantFacts{
		TenantID: t.ID, TenantDomain: domain, AdminUser: admin.UserPrincipalName, AdminPassword: spec.adminPassword,
		MemberUser: member.UserPrincipalName, MemberPassword: spec.memberPassword,
	}, nil
}

// Reset returns every tenant to its seeded state and forgets identity
// grants, faults, throttling and statistics.
func (s *Server) Reset() {
	s.mu.Lock()
	old := s.tenants
	s.tenants = nil
	s.byID, s.byDomain = map[string]*tenant{}, map[string]*tenant{}
	for _, t := range old {
		spec := s.specs[t.ID]
		nt, _, _ := buildTenant(spec)
		s.addTenantLocked(nt, spec)
	}
	s.offset.Store(0)
	s.mu.Unlock()
	s.markDirty()
	s.idp.Reset()
	s.ctl.reset()
	s.thr.reset()
	s.notif.reset()
}

// Handler serves identity, Graph under /v1.0/ and control under /_sim/.
func (s *Server) Handler() http.Handler {
	graph := s.graph()
	ctl := s.controlHandler()
	idp := s.idp.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/_sim/"):
			ctl.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/v1.0/") || r.URL.Path == "/v1.0":
			if d := s.opts.Latency; d > 0 {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
			if s.injectFault(w, r, r.URL.Path) {
				return
			}
			graph.ServeHTTP(w, r)
		default:
			if s.injectFault(w, r, r.URL.Path) {
				return
			}
			idp.ServeHTTP(w, r)
		}
	})
}

// Start listens on addr ("127.0.0.1:0" picks a port) and serves in the
// background; URL is valid once it returns.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("m365sim: listen %s: %w", addr, err)
	}
	s.listener = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.idp.SetBaseURL(s.baseURL)
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("m365sim: serve", "err", err)
		}
	}()
	return nil
}

// SetBaseURL tells the simulator its public base URL when it is mounted
// with Handler rather than started with Start.
func (s *Server) SetBaseURL(u string) {
	s.baseURL = strings.TrimRight(u, "/")
	s.idp.SetBaseURL(s.baseURL)
}

// URL is the base URL: the identity authority and Graph root alike.
func (s *Server) URL() string { return s.baseURL }

// Facts returns the credentials and endpoints of the first tenant.
func (s *Server) Facts() Facts {
	f := s.facts
	f.URL = s.baseURL
	return f
}

// Shutdown stops serving, letting in-flight requests finish until ctx ends.
// With Options.StatePath it then saves the state a last time.
func (s *Server) Shutdown(ctx context.Context) error {
	s.notif.close()
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			return errors.Join(fmt.Errorf("m365sim: shutdown: %w", err), s.stopPersisting())
		}
	}
	return s.stopPersisting()
}

// Close stops serving immediately and, with Options.StatePath, saves the
// state a last time.
func (s *Server) Close() error {
	s.notif.close()
	if s.srv != nil {
		if err := s.srv.Close(); err != nil {
			return errors.Join(fmt.Errorf("m365sim: close: %w", err), s.stopPersisting())
		}
	}
	return s.stopPersisting()
}

// Identity exposes the simulated identity platform, e.g. to grant consent
// in tests without walking the consent pages.
func (s *Server) Identity() *identity.Provider { return s.idp }

// graph is the Graph router, built once and shared by $batch items.
func (s *Server) graph() http.Handler {
	s.graphOnce.Do(func() { s.graphH = s.graphHandler() })
	return s.graphH
}

func (s *Server) tenantByID(id string) *tenant {
	if t, ok := s.byID[strings.ToLower(id)]; ok {
		return t
	}
	return s.byDomain[strings.ToLower(id)]
}
