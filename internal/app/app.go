// Package app assembles tenantlink from its parts — key ring, store,
// directory and data source services, the Office 365 connector, metrics,
// the web server and its pages — so that `serve`, `demo` and end-to-end
// tests build exactly the same thing from a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/jobs"
	"github.com/tenantlink/tenantlink/internal/jobs/riverdb"
	"github.com/tenantlink/tenantlink/internal/metrics"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/internal/realtime"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/processui"
	"github.com/tenantlink/tenantlink/internal/web/syncui"
	"github.com/tenantlink/tenantlink/internal/web/ui"
)

// Config is everything `tenantlink serve` takes (docs/SPEC.md §2).
type Config struct {
	Addr      string // listen address, default 127.0.0.1:8080
	DataDir   string // default ./tenantlink-data
	DB        string // "sqlite:PATH" (default DataDir/tenantlink.db) or "postgres://…"
	KeyFile   string // default DataDir/secret.key
	PublicURL string // default http://{Addr}

	MSAuthority    string // default https://login.microsoftonline.com
	MSGraph        string // default https://graph.microsoft.com
	MSClientID     string
	MSClientSecret string // from --ms-client-secret-file; never logged

	// Jobs tunes the job queue; zero values are the defaults, and the
	// TENANTLINK_JOBS_* environment variables (undocumented, for tests
	// that run real processes) override them.
	Jobs JobsConfig
	// Realtime tunes real-time group member sync; zero values are the
	// defaults (package realtime).
	Realtime RealtimeConfig

	Logger *slog.Logger
	Now    func() time.Time

	// TrustedProxies lists the reverse proxies (CIDRs or addresses, comma
	// separated) whose X-Forwarded-For names the client; empty: none.
	TrustedProxies string
	// MetricsAddr, when set, serves /metrics on its own listener and no
	// longer on Addr; MetricsToken, when set, is the bearer token /metrics
	// requires (from --metrics-token-file; never logged).
	MetricsAddr  string
	MetricsToken string
}

// JobsConfig tunes the job queue (see jobs.Config for the defaults).
type JobsConfig struct {
	TickInterval time.Duration // TENANTLINK_JOBS_TICK
	JobTimeout   time.Duration // TENANTLINK_JOBS_TIMEOUT
	RescueAfter  time.Duration // TENANTLINK_JOBS_RESCUE_AFTER
	RetryBase    time.Duration // TENANTLINK_JOBS_RETRY_BASE
	ConflictWait time.Duration // TENANTLINK_JOBS_CONFLICT_WAIT
	// SyncStaleAfter is how long a running group sync may go without a
	// heartbeat before a new run takes it over (groupsync.Service.StaleAfter,
	// default 60 s); tests that kill processes may shorten it.
	SyncStaleAfter time.Duration // TENANTLINK_SYNC_STALE_AFTER
	// Disabled keeps this process from working jobs and ticking (the
	// import command runs its one sync in the foreground).
	Disabled bool
}

// RealtimeConfig tunes real-time group member sync (realtime.Service).
type RealtimeConfig struct {
	// Window coalesces a group's notifications into one run
	// (TENANTLINK_REALTIME_WINDOW; default realtime.DefaultWindow).
	Window time.Duration
	// Interval is how often each replica queues subscription maintenance
	// (TENANTLINK_REALTIME_INTERVAL; default 1 min).
	Interval time.Duration
}

// DefaultDataDir is the data folder when none is given.
const DefaultDataDir = "./tenantlink-data"

// DefaultDB is the database in data folder dir when none is given: SQLite.
func DefaultDB(dir string) string { return "sqlite:" + filepath.Join(dir, "tenantlink.db") }

// DefaultKeyFile is the key file in data folder dir when none is given.
func DefaultKeyFile(dir string) string { return filepath.Join(dir, "secret.key") }

// Defaults fills empty fields with their defaults.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.DB == "" {
		c.DB = DefaultDB(c.DataDir)
	}
	if c.KeyFile == "" {
		c.KeyFile = DefaultKeyFile(c.DataDir)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.MSAuthority == "" {
		c.MSAuthority = "https://login.microsoftonline.com"
	}
	if c.MSGraph == "" {
		c.MSGraph = "https://graph.microsoft.com"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// App is a wired tenantlink.
type App struct {
	Config      Config
	Store       store.Store
	DB          *sqlstore.DB
	Keys        *secrets.Keyring
	Directory   *directory.Service
	DataSources *datasource.Service
	Metrics     *metrics.Metrics
	Web         *web.Server
	Office365   *office365.Connector
	GroupSync   *groupsync.Service
	Jobs        *jobs.Scheduler
	Processes   *process.Service
	SSO         *sso.Service
	Realtime    *realtime.Service

	srv *http.Server
	ln  net.Listener // opened by Open when Addr asks for any free port
}

// Open builds the application: it creates the data folder and key file
// when missing, opens the database (applying migrations) and wires every
// service. It does not listen; see Serve.
func Open(ctx context.Context, cfg Config) (*App, error) {
	// With port 0 and no public URL, the URL every redirect is built from
	// is only known once listening: take the port now.
	var ln net.Listener
	if _, port, err := net.SplitHostPort(cfg.Addr); err == nil && port == "0" && cfg.PublicURL == "" {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		cfg.Addr = ln.Addr().String()
	}
	a, err := open(ctx, cfg)
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, err
	}
	a.ln = ln
	return a, nil
}

func open(ctx context.Context, cfg Config) (*App, error) {
	cfg.Defaults()
	if cfg.MSClientID == "" {
		return nil, errors.New("the Microsoft app registration's client id is required (--ms-client-id)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	keys, err := secrets.LoadOrCreate(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, cfg.DB, keys, cfg.Logger)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Store: db, DB: db, Keys: keys}
	a.Directory = directory.New(db, cfg.Logger)
	a.Directory.Now = cfg.Now
	a.Directory.Limiter.Now = cfg.Now
	db.Now = cfg.Now
	a.Metrics = metrics.New(func(ctx context.Context) ([]*tenantlink.DataSource, error) {
		return db.ListDataSources(ctx, "")
	})
	a.Office365 = office365.New(office365.Config{
		Authority:    cfg.MSAuthority,
		GraphURL:     cfg.MSGraph,
		ClientID:     cfg.MSClientID,
		ClientSecret: cfg.MSClientSecret,
		HTTPClient:   &http.Client{Transport: a.Metrics.GraphTransport(graphTransport()), Timeout: 2 * time.Minute},
		Now:          cfg.Now,
		Logger:       cfg.Logger.With("connector", "office365"),
	})
	a.DataSources = &datasource.Service{
		Store:       db,
		Connectors:  map[string]connector.Connector{tenantlink.ConnectorOffice365: a.Office365},
		CallbackURL: cfg.PublicURL + "/oauth/callback",
		Now:         cfg.Now,
		Logger:      cfg.Logger.With("service", "datasource"),
	}
	a.SSO = &sso.Service{
		Store: db, Connectors: a.DataSources.Connectors, CallbackURL: cfg.PublicURL + "/auth/sso/callback",
		Now: cfg.Now, Logger: cfg.Logger.With("service", "sso"),
		Credentials: a.DataSources.Credentials(), Limiter: a.Directory.Limiter,
	}
	a.Directory.LocalSignIn = a.SSO.CheckLocalSignIn
	a.Processes = &process.Service{Store: db, DataSources: a.DataSources, Now: cfg.Now, Logger: cfg.Logger.With("service", "process")}
	api, err := a.openJobs(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.openWeb(proxies, api)
	return a, nil
}

// openWeb builds the web server on the services and mounts the whole
// route table: package web's (the API, hooks, callbacks, probes), then
// the pages of ui, processui and syncui.
func (a *App) openWeb(proxies []netip.Prefix, api *web.SyncAPI) {
	cfg := a.Config
	a.Web = web.New(web.Config{
		Directory: a.Directory, DataSources: a.DataSources, SSO: a.SSO, Processes: a.Processes, Sync: api, GraphHooks: a.Realtime,
		Metrics: a.Metrics, Ping: a.DB.Ping,
		Logger: cfg.Logger.With("component", "web"), PublicURL: cfg.PublicURL, Now: cfg.Now,
		TrustedProxies: proxies, MetricsToken: cfg.MetricsToken, MetricsElsewhere: cfg.MetricsAddr != "",
	})
	a.Web.Mount(ui.Routes(ui.Deps{
		Server:        a.Web,
		Accounts:      a.Directory,
		Tokens:        a.Directory,
		Audit:         a.Directory,
		Users:         a.Directory,
		Groups:        a.Directory,
		DataSources:   a.DataSources,
		Operations:    a.DataSources,
		Licences:      a.DataSources,
		SSO:           a.SSO,
		Subscriptions: a.Realtime.States,
		Now:           cfg.Now,
		Logger:        cfg.Logger.With("component", "ui"),
	})...)
	a.Web.Mount(processui.Routes(processui.Deps{
		Processes:   a.Processes,
		DataSources: a.DataSources,
		Logger:      cfg.Logger.With("component", "processui"),
	})...)
	a.Web.Mount(syncui.Routes(syncui.Deps{
		Tasks:         api.Tasks,
		Sync:          api.Sync,
		Settings:      api, // SaveSettings also tells real time (api.Saved)
		Directory:     api.Directory,
		DataSources:   a.DataSources,
		Logger:        cfg.Logger.With("component", "syncui"),
		Subscriptions: a.Realtime.States,
	})...)
}

// openJobs wires group member sync and the job queue: the scheduler's
// sync jobs call groupsync as the system principal, and the API and pages
// reach both through the SyncAPI it returns.
func (a *App) openJobs(ctx context.Context) (*web.SyncAPI, error) {
	cfg := a.Config
	a.GroupSync = &groupsync.Service{Store: a.DB, DataSources: a.DataSources, Now: cfg.Now, StaleAfter: cfg.Jobs.SyncStaleAfter,
		Logger: cfg.Logger.With("service", "groupsync"), Events: triggerSink{a.Processes}}
	sched, err := jobs.New(ctx, jobs.Config{
		Queue:     riverdb.Opener(a.DB.SQL(), a.DB.Dialect(), cfg.DB),
		Sync:      a.runSync,
		Groups:    a.DB.GetGroup,
		Audit:     a.DB.AppendAudit,
		PublicURL: cfg.PublicURL, Logger: cfg.Logger.With("component", "jobs"), Now: cfg.Now,
		TickInterval: cfg.Jobs.TickInterval, JobTimeout: cfg.Jobs.JobTimeout, RescueAfter: cfg.Jobs.RescueAfter,
		RetryBase: cfg.Jobs.RetryBase, ConflictWait: cfg.Jobs.ConflictWait,
		Store: a.DB,
		Check: func(ctx context.Context, groupID string) error {
			return a.GroupSync.Check(ctx, tenantlink.System, groupID)
		},
		CloseDeadRuns: func(ctx context.Context) ([]jobs.DeadRun, error) {
			dead, err := a.GroupSync.CloseDeadRuns(ctx)
			out := make([]jobs.DeadRun, 0, len(dead))
			for _, d := range dead {
				out = append(out, jobs.DeadRun{RunID: d.ID, GroupID: d.GroupID, StartedAt: d.StartedAt, DryRun: d.DryRun})
			}
			return out, err
		},
		RunAlive:   a.GroupSync.Alive,
		StaleAfter: a.GroupSync.StaleWindow(),
		Register: func(w *river.Workers) error {
			if err := a.openRealtime().Register(w); err != nil {
				return err
			}
			return river.AddWorkerSafely(w, &processEventsWorker{p: a.Processes})
		},
	})
	if err != nil {
		return nil, err
	}
	a.Jobs = sched
	a.Realtime.Queue = sched
	a.Directory.GroupDeleted = sched.GroupDeleted
	a.Directory.GroupRenamed = func(ctx context.Context, p *tenantlink.Principal, groupID, name string) error {
		t, err := sched.TaskForGroup(ctx, p, groupID)
		if err != nil || t == nil {
			return err
		}
		_, err = sched.SetGroupSync(ctx, p, groupID, name, t.Enabled, nil)
		return err
	}
	a.GroupSync.Directory, a.GroupSync.Tasks = a.Directory, sched
	return &web.SyncAPI{Tasks: sched, Sync: a.GroupSync, Directory: a.Directory, Saved: a.realtimeSaved}, nil
}

// runSync is the scheduler's sync function: one groupsync run as the
// system, its progress logged page by page (operators follow long imports
// in the logs; the run record carries the same counts for the UI).
func (a *App) runSync(ctx context.Context, req jobs.SyncRequest) (jobs.SyncResult, error) {
	log := a.Config.Logger.With("component", "jobs", "group", req.GroupID, "trigger", req.Trigger)
	run, err := a.GroupSync.Run(ctx, tenantlink.System, req.GroupID, groupsync.RunOptions{
		Confirm: req.Confirm, Full: req.Full, Trigger: req.Trigger,
		Progress: func(p groupsync.Progress) {
			attrs := []any{"phase", p.Phase, "seen", p.Seen}
			if p.Total > 0 {
				attrs = append(attrs, "total", p.Total)
			}
			attrs = append(attrs, "created", p.Created, "updated", p.Updated)
			if p.Unchanged >= 0 { // not counted on incremental runs
				attrs = append(attrs, "unchanged", p.Unchanged)
			}
			log.Info("sync progress", append(attrs, "disabled", p.Disabled, "removed", p.Removed, "leftGroup", p.LeftGroup)...)
		},
	})
	if err != nil {
		return jobs.SyncResult{}, err
	}
	// The run's events (process triggers) committed with its changes:
	// start their instances now rather than at the next minute.
	a.queueProcessEvents(context.WithoutCancel(ctx))
	res := jobs.SyncResult{RunID: run.ID, Status: run.Status, Message: strings.Join(run.Errors, " ")}
	if run.Status == jobs.StatusStopped && ctx.Err() != nil {
		// Stopped by shutdown, not by the safety threshold: River retries,
		// and the next attempt resumes from the stored cursor.
		return res, fmt.Errorf("sync run %s stopped: %w", run.ID, ctx.Err())
	}
	return res, nil
}

// graphTransport keeps enough idle connections to Microsoft for the
// concurrency of batched writes and parallel syncs (the default keeps 2).
func graphTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 128
	t.MaxIdleConnsPerHost = 64
	return t
}

// Handler is the application's root HTTP handler.
func (a *App) Handler() http.Handler { return a.Web.Handler() }

// Listen opens the listener on Config.Addr.
func (a *App) Listen() (net.Listener, error) {
	if a.ln != nil {
		ln := a.ln
		a.ln = nil
		return ln, nil
	}
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is done, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	a.srv = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Config.Logger.Handler(), slog.LevelWarn),
	}
	if !a.Config.Jobs.Disabled {
		if err := a.Jobs.Start(ctx); err != nil {
			return err
		}
		go a.Realtime.Run(ctx)
		go a.runProcessEvents(ctx)
	}
	errc := make(chan error, 2)
	var msrv *http.Server
	if a.Config.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.Config.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (metrics): %w", a.Config.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Web.MetricsHandler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
			ErrorLog: slog.NewLogLogger(a.Config.Logger.Handler(), slog.LevelWarn)}
		a.Config.Logger.Info("metrics serving", "addr", mln.Addr().String())
		go func() { errc <- msrv.Serve(mln) }()
	}
	go func() { errc <- a.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if msrv != nil {
		if err := msrv.Shutdown(shutCtx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	if err := a.srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := a.Jobs.Stop(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close stops the job queue (if running) and releases the database.
func (a *App) Close() error {
	var err error
	if a.Jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err = a.Jobs.Stop(ctx)
	}
	return errors.Join(err, a.DB.Close())
}

// EnsureAdministrator creates an Administrator with email and password if
// no user with that email exists yet; it reports whether it created one.
func (a *App) EnsureAdministrator(ctx context.Context, email, password string) (bool, error) {
	_, err := a.Store.GetUserByEmail(ctx, email)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	name := "Administrator"
	roles := []tenantlink.Role{tenantlink.RoleAdministrator, tenantlink.RoleManageDatasources, tenantlink.RoleDesignProcess}
	_, err = a.Directory.CreateUser(ctx, tenantlink.System, directory.UserInput{Email: &email, DisplayName: &name, Password: &password, Roles: &roles})
	if err != nil {
		return false, err
	}
	return true, nil
}
