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
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/metrics"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/ui"
)

// Config is everything `tenantlink serve` takes (PRODUCT.md section 2).
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

	Logger *slog.Logger
	Now    func() time.Time
}

// Defaults fills empty fields with their defaults.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./tenantlink-data"
	}
	if c.DB == "" {
		c.DB = "sqlite:" + filepath.Join(c.DataDir, "tenantlink.db")
	}
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "secret.key")
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

	srv *http.Server
}

// Open builds the application: it creates the data folder and key file
// when missing, opens the database (applying migrations) and wires every
// service. It does not listen; see Serve.
func Open(ctx context.Context, cfg Config) (*App, error) {
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
	db, err := sqlstore.Open(ctx, cfg.DB, keys, cfg.Logger)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Store: db, DB: db, Keys: keys}
	a.Directory = directory.New(db, cfg.Logger)
	a.Directory.Now = cfg.Now
	a.Metrics = metrics.New(func(ctx context.Context) ([]*tenantlink.DataSource, error) {
		return db.ListDataSources(ctx, "")
	})
	a.Office365 = office365.New(office365.Config{
		Authority:    cfg.MSAuthority,
		GraphURL:     cfg.MSGraph,
		ClientID:     cfg.MSClientID,
		ClientSecret: cfg.MSClientSecret,
		HTTPClient:   &http.Client{Transport: a.Metrics.GraphTransport(http.DefaultTransport), Timeout: 2 * time.Minute},
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
	a.Web = web.New(web.Config{
		Store: db, Directory: a.Directory, DataSources: a.DataSources, Metrics: a.Metrics,
		Logger: cfg.Logger.With("component", "web"), PublicURL: cfg.PublicURL, Now: cfg.Now,
	})
	ui.Register(ui.Deps{Server: a.Web, Directory: a.Directory, DataSources: a.DataSources, Now: cfg.Now, Logger: cfg.Logger.With("component", "ui")})
	return a, nil
}

// Handler is the application's root HTTP handler.
func (a *App) Handler() http.Handler { return a.Web.Handler() }

// Listen opens the listener on Config.Addr.
func (a *App) Listen() (net.Listener, error) {
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
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

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
