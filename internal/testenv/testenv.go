// Package testenv holds test-only helpers: it runs the Microsoft 365
// simulator (package m365sim) and tenantlink (package app, wired exactly as
// `serve` wires it) on loopback and gives tests signed-in API clients,
// local accounts, API tokens and Office 365 data sources authorized
// through the simulator's real sign-in pages. It exists so that the
// end-to-end tests of every package build the same world the same way.
//
// It is never imported by product code; TestNotImportedByProduct keeps it
// that way.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/m365sim"
)

// AdminEmail and Password are the bootstrap Administrator's sign-in;
// Password is also every local account's password that User creates.
const (
	AdminEmail = "admin@tenantlink.test"
	Password   = "correct horse battery staple"
)

// Clock is the application's injected clock: real time plus an offset a
// test moves, so that the simulator (on real time) still accepts tokens
// issued before the move.
type Clock struct{ off atomic.Int64 }

// Now is the moved time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// Advance moves the clock by d (negative moves it back).
func (c *Clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// Options shape the world New builds; zero values are the defaults.
type Options struct {
	// Users and Groups size the simulated tenant (default 6 and 1); Seed
	// fixes its contents (default 7).
	Users, Groups int
	Seed          int64
	// Latency is added to every Graph request; Throttle turns on Graph's
	// documented identity limits.
	Latency  time.Duration
	Throttle bool
	// SimHandler, when set, wraps the simulator's handler (fault
	// injection, counting requests).
	SimHandler func(http.Handler) http.Handler
	// SimProcess runs the simulator as a `tenantlink m365sim` subprocess
	// (see StartSimProcess) instead of in this process, so that this
	// process's memory and CPU are tenantlink's alone. Env.Sim is then nil
	// and Env.SimProcess set; SimHandler cannot be used with it.
	SimProcess bool

	// Backend is "sqlite" (default: a file in DataDir) or "postgres" (a
	// fresh schema in this test binary's scratch database; see Main).
	Backend string
	// DB, when set, is the DSN to open instead (a database that
	// subprocesses share, say); Backend is then ignored.
	DB string
	// Clock is the application's clock; default a new real-time Clock.
	Clock  *Clock
	Logger *slog.Logger
	// ClientSecret replaces the client secret tenantlink is configured
	// with (to test a wrong one); the simulator keeps the right one.
	ClientSecret string
	// Jobs tunes the job queue; it only runs when RunJobs is set, so that
	// tests that do not sync pay nothing for it.
	Jobs    app.JobsConfig
	RunJobs bool
	// Realtime tunes real-time sync (app.Config.Realtime).
	Realtime app.RealtimeConfig
	// Reopen, when set, opens a second application on the same simulator,
	// address, data folder and database; the first must be closed.
	Reopen *Env
	// MetricsAddr and MetricsToken are app.Config's (default: /metrics
	// on the main address without a token).
	MetricsAddr, MetricsToken string
	// NotificationDelay is the simulator's change-notification batching
	// window (its default when zero).
	NotificationDelay time.Duration
}

// Env is a running simulator and tenantlink.
type Env struct {
	App *app.App
	URL string          // tenantlink's base URL
	Sim *m365sim.Server // nil with Options.SimProcess
	// SimProcess is the simulator's subprocess with Options.SimProcess.
	SimProcess *SimProcess
	Facts      m365sim.Facts
	Clock      *Clock
	DataDir    string
	DB         string // the DSN tenantlink opened
	// Admin is the bootstrap Administrator's browser session (cookie and
	// CSRF token), reporting failures to the test that called New.
	Admin *Client

	users     atomic.Int64
	closeOnce sync.Once
	stop      context.CancelFunc
	served    chan error
}

// New starts the simulator and tenantlink on loopback, creates the
// bootstrap Administrator and signs it in; everything stops when the test
// ends.
func New(tb testing.TB, o Options) *Env {
	tb.Helper()
	if o.Users == 0 && o.Groups == 0 {
		o.Users, o.Groups = 6, 1
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	if o.Clock == nil {
		o.Clock = &Clock{}
	}
	e := &Env{Clock: o.Clock}
	addr := "127.0.0.1:0"
	var simLn net.Listener
	if r := o.Reopen; r != nil {
		// The same address: the simulator knows it as the callback.
		addr = strings.TrimPrefix(r.URL, "http://")
		e.Sim, e.SimProcess, e.Facts, e.DataDir, e.DB = r.Sim, r.SimProcess, r.Facts, r.DataDir, r.DB
	} else {
		e.DataDir = tb.TempDir()
		switch {
		case o.DB != "":
			e.DB = o.DB
		case o.Backend == "" || o.Backend == "sqlite":
			e.DB = "sqlite:" + e.DataDir + "/tenantlink.db"
		case o.Backend == "postgres":
			e.DB = PostgresDSN(tb)
		default:
			tb.Fatalf("testenv: unknown backend %q", o.Backend)
		}
		if o.SimProcess {
			// The subprocess needs tenantlink's callbacks up front, so
			// tenantlink gets a port that was free a moment ago rather
			// than the one app.Open would pick.
			if o.SimHandler != nil {
				tb.Fatal("testenv: SimHandler cannot wrap a simulator subprocess")
			}
			addr = FreeAddr(tb)
			base := "http://" + addr
			e.SimProcess = StartSimProcess(tb, SimProcessOptions{Users: o.Users, Groups: o.Groups, Seed: o.Seed,
				Latency: o.Latency, Throttle: o.Throttle, RedirectURIs: []string{base + "/oauth/callback", base + "/auth/sso/callback"}})
			e.Facts = e.SimProcess.Facts
		} else {
			simLn, e.Facts = listenSimulator(tb)
		}
	}
	secret := e.Facts.ClientSecret
	if o.ClientSecret != "" {
		secret = o.ClientSecret
	}
	jobsCfg := o.Jobs
	jobsCfg.Disabled = jobsCfg.Disabled || !o.RunJobs
	var err error
	e.App, err = app.Open(context.Background(), app.Config{
		Addr: addr, DataDir: e.DataDir, DB: e.DB,
		MSAuthority: e.Facts.URL, MSGraph: e.Facts.URL, MSClientID: e.Facts.ClientID, MSClientSecret: secret,
		Jobs: jobsCfg, Realtime: o.Realtime, Logger: o.Logger, Now: e.Clock.Now,
		MetricsAddr: o.MetricsAddr, MetricsToken: o.MetricsToken,
	})
	if err != nil {
		if simLn != nil {
			simLn.Close()
		}
		tb.Fatalf("testenv: app.Open: %v", err)
	}
	e.URL = e.App.Config.PublicURL
	if simLn != nil {
		// The simulator is created only now: its redirect URIs are
		// tenantlink's real address, which app.Open has just taken.
		e.Sim = serveSimulator(tb, o, simLn, e.Facts, e.URL)
		e.Facts = e.Sim.Facts()
	}
	ln, err := e.App.Listen()
	if err != nil {
		e.App.Close()
		tb.Fatalf("testenv: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.served = cancel, make(chan error, 1)
	go func() { e.served <- e.App.Serve(ctx, ln) }()
	tb.Cleanup(e.Close)
	if _, err := e.App.EnsureAdministrator(context.Background(), AdminEmail, Password); err != nil {
		tb.Fatalf("testenv: EnsureAdministrator: %v", err)
	}
	e.Admin = e.SignIn(tb, AdminEmail, Password)
	return e
}

// listenSimulator opens the simulator's listener and picks the app
// registration's credentials, which is all app.Open needs to know; the
// simulator itself is built once tenantlink's address is known.
func listenSimulator(tb testing.TB) (net.Listener, m365sim.Facts) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: simulator listener: %v", err)
	}
	return ln, m365sim.Facts{URL: "http://" + ln.Addr().String(), ClientID: uuid.NewString(), ClientSecret: randomHex(tb, 20)}
}

// serveSimulator builds the simulator with the credentials and address
// listenSimulator chose and serves it on ln until the test ends.
func serveSimulator(tb testing.TB, o Options, ln net.Listener, f m365sim.Facts, tenantlinkURL string) *m365sim.Server {
	tb.Helper()
	sim, err := m365sim.New(m365sim.Options{
		Users: o.Users, Groups: o.Groups, Seed: o.Seed, Latency: o.Latency, Throttle: o.Throttle, NotificationDelay: o.NotificationDelay,
		ClientID: f.ClientID, ClientSecret: f.ClientSecret,
		RedirectURIs: []string{tenantlinkURL + "/oauth/callback", tenantlinkURL + "/auth/sso/callback"},
	})
	if err != nil {
		ln.Close()
		tb.Fatalf("testenv: m365sim.New: %v", err)
	}
	sim.SetBaseURL(f.URL)
	h := sim.Handler()
	if o.SimHandler != nil {
		h = o.SimHandler(h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return sim
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Close stops tenantlink (server, job queue, database); the simulator
// stays up until the test ends, so that Reopen can use it. Later calls do
// nothing.
func (e *Env) Close() {
	e.closeOnce.Do(func() {
		e.stop()
		if err := <-e.served; err != nil && !errors.Is(err, http.ErrServerClosed) && e.App != nil {
			e.App.Config.Logger.Warn("testenv: serve", "err", err)
		}
		if e.App != nil {
			e.App.Close()
		}
	})
}

// User creates a local account with roles (default User) through the
// API and returns its signed-in session.
func (e *Env) User(tb testing.TB, roles ...string) *Client {
	tb.Helper()
	email := fmt.Sprintf("user%d@tenantlink.test", e.users.Add(1))
	if len(roles) == 0 {
		roles = []string{"User"}
	}
	e.Admin.In(tb).Must(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"email": email, "password": Password, "roles": roles}, nil)
	return e.SignIn(tb, email, Password)
}

// At is an Env for a tenantlink and simulator started elsewhere (the
// demo, `serve` subprocesses), reached at url with the simulator's facts
// and admin as the Administrator's session. Only the client,
// authorization and simulator helpers work on it: App and Sim are nil.
func At(url string, facts m365sim.Facts, admin *Client) *Env {
	return &Env{URL: url, Facts: facts, Admin: admin, Clock: &Clock{}, stop: func() {}, served: closedServe()}
}

func closedServe() chan error {
	c := make(chan error, 1)
	c <- nil
	return c
}
