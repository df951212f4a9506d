package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/process"
	"github.com/tenantlink/tenantlink/m365sim"
)

// DemoAdmin is the demo's tenantlink Administrator.
const DemoAdmin = "admin@tenantlink.test"

// demoFacts is demo.json: the simulator's facts plus tenantlink's own.
type demoFacts struct {
	m365sim.Facts
	TenantlinkURL      string `json:"tenantlinkUrl"`
	TenantlinkAdmin    string `json:"tenantlinkAdmin"`
	TenantlinkPassword string `json:"tenantlinkPassword"`
}

// demoStateFile is the simulated tenant's state file in the data folder.
const demoStateFile = "m365sim-state.json"

// demoFiles are what the demo keeps in its data folder, in the order
// --reset removes them: the database before the key file that seals its
// secrets, so a failure part-way never leaves a database without its key.
var demoFiles = []string{
	"tenantlink.db", "tenantlink.db-wal", "tenantlink.db-shm", "tenantlink.db-journal",
	demoStateFile, "demo.json", "secret.key",
}

// newDemoCmd runs the whole product for a first look: the Microsoft 365
// simulator on one loopback port, tenantlink wired to it on another, an
// Administrator, and demo.json with every credential. A second run reuses
// the data folder: the tenantlink database, the simulated tenant (kept in
// m365sim-state.json, so data sources stay authorized) and the
// Administrator's password from demo.json. --reset starts afresh.
func newDemoCmd() *cobra.Command {
	var addr, simAddr, data, logLevel string
	var reset bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything embedded for a first look",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", logLevel)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
			if reset {
				if err := resetDemo(data); err != nil {
					return err
				}
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), logger, addr, simAddr, data)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "tenantlink's listen address")
	cmd.Flags().StringVar(&simAddr, "sim-addr", "127.0.0.1:8081", "the Microsoft 365 simulator's listen address")
	cmd.Flags().StringVar(&data, "data", "./tenantlink-demo", "data folder (reused by later runs)")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	cmd.Flags().BoolVar(&reset, "reset", false, "start afresh: remove the data folder's database, key file, simulated tenant and demo.json first")
	return cmd
}

// resetDemo removes the demo's own files from the data folder (nothing
// else: --data may point at a folder that holds more).
func resetDemo(data string) error {
	for _, name := range demoFiles {
		if err := os.Remove(filepath.Join(data, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("demo --reset: %w", err)
		}
	}
	// A simulator killed mid-save leaves its temporary file behind.
	tmps, _ := filepath.Glob(filepath.Join(data, "."+demoStateFile+".tmp-*"))
	for _, tmp := range tmps {
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("demo --reset: %w", err)
		}
	}
	return nil
}

func runDemo(ctx context.Context, stdout io.Writer, logger *slog.Logger, addr, simAddr, data string) error {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("demo: data folder: %w", err)
	}
	f := simFlags{addr: simAddr, tenantDomain: "contoso.onmicrosoft.com", users: 50, groups: 12, seed: 1,
		redirectURIs: []string{"http://" + addr + "/oauth/callback", "http://" + addr + "/auth/sso/callback"},
		state:        filepath.Join(data, demoStateFile)}
	sim, err := startSimulator(logger.With("component", "m365sim"), &f)
	if err != nil {
		return fmt.Errorf("demo: %w (demo --reset starts afresh)", err)
	}
	defer func() {
		if err := shutdownSimulator(sim, logger); err != nil {
			logger.Error("demo: the simulated tenant may not be saved", "err", err)
		}
	}()
	facts := sim.Facts()
	// The group the triggered onboarding watches (decision 0024).
	sim.EnsureGroup(process.NewHiresGroup, "People who just joined: adding a user here starts Employee onboarding (New hires).")

	a, err := app.Open(ctx, app.Config{
		Addr: addr, DataDir: data,
		MSAuthority: sim.URL(), MSGraph: sim.URL(),
		MSClientID: facts.ClientID, MSClientSecret: facts.ClientSecret,
		Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	// The demo ships the "Employee onboarding" process (docs/SPEC.md
	// §8): it needs a data source, so it is created when the first Office 365
	// data source becomes ready.
	a.DataSources.OnStatus = func(ds *tenantlink.DataSource, _ tenantlink.Status) {
		if ds.Status != tenantlink.StatusReady || ds.Type != tenantlink.ConnectorOffice365 {
			return
		}
		if err := process.SeedDemo(context.WithoutCancel(ctx), a.Processes, tenantlink.System, ds.ID); err != nil {
			logger.Warn("demo: could not create the Employee onboarding process", "err", err)
		}
		if err := setUpNewHires(context.WithoutCancel(ctx), a, ds.ID); err != nil {
			logger.Warn("demo: could not set up the New hires onboarding", "err", err)
		}
	}

	factsPath := filepath.Join(data, "demo.json")
	password := previousDemoPassword(factsPath)
	if password == "" {
		password = GeneratePassword()
	}
	if err := ensureDemoAdmin(ctx, a, password); err != nil {
		ln.Close()
		return fmt.Errorf("demo: %w", err)
	}
	df := demoFacts{Facts: facts, TenantlinkURL: a.Config.PublicURL, TenantlinkAdmin: DemoAdmin, TenantlinkPassword: password}
	b, err := json.MarshalIndent(df, "", "  ")
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: %w", err)
	}
	// demo.json holds passwords and the client secret: owner-only.
	if err := os.WriteFile(factsPath, append(b, '\n'), 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("demo: write demo.json: %w", err)
	}
	fmt.Fprintf(stdout, `tenantlink demo is running.

  1. Open %s and sign in as %s / %s
  2. Administration > Data sources > + Add new > Office 365
  3. Type a Display name, tick what you need, click Authorize.
  4. In the Microsoft popup sign in as the tenant administrator:
       %s / %s
     (Next, Sign in, Yes). A non-administrator to try the refusal: %s / %s
  5. "Connection test succeeded", status ready. Save, Security, Close.
  6. Run operations from the data source's page, or try the "Employee onboarding"
     process (Administration > Processes), created once a data source is ready.
  7. Add a user to the tenant's "New hires" group (the simulator's POST
     /_sim/groups/{id}/members/{userId}): the "New hires" group syncs in real
     time and "Employee onboarding (New hires)" starts for them.

  Microsoft 365 simulator: %s (tenant %s, %s)
  Every credential is in %s. Stop with Ctrl+C.
  The next run reuses %s (data sources stay authorized); demo --reset starts afresh.
`, a.Config.PublicURL, DemoAdmin, password, facts.AdminUser, facts.AdminPassword, facts.MemberUser, facts.MemberPassword,
		facts.URL, facts.TenantDomain, facts.TenantID, factsPath, data)
	return a.Serve(ctx, ln)
}

// setUpNewHires makes the demo's triggered onboarding work: a directory
// group "New hires" syncing the tenant's group of that name in real time
// (created once, with a first run that establishes who is there: a sync's
// first run starts no processes), and the "Employee onboarding (New
// hires)" process on the data source.
func setUpNewHires(ctx context.Context, a *app.App, dsID string) error {
	groups, err := a.Store.ListGroups(ctx)
	if err != nil {
		return err
	}
	exists := false
	for _, g := range groups {
		exists = exists || strings.EqualFold(g.Name, process.NewHiresGroup)
	}
	if !exists {
		name := process.NewHiresGroup
		g, err := a.Directory.CreateGroup(ctx, tenantlink.System, directory.GroupInput{Name: &name})
		if err != nil {
			return err
		}
		if _, err := a.GroupSync.SaveSettings(ctx, tenantlink.System, g.ID, tenantlink.SyncSettings{Enabled: true, DataSource: dsID,
			SourceGroup: process.NewHiresGroup, MissingUsers: groupsync.MissingKeep, Realtime: true}); err != nil {
			return err
		}
		if err := a.Realtime.QueueMaintain(ctx, dsID, "demo"); err != nil {
			return err
		}
		if _, err := a.Jobs.SyncGroup(ctx, tenantlink.System, g.ID, false, false); err != nil {
			return err
		}
	}
	return process.SeedDemoNewHires(ctx, a.Processes, tenantlink.System, dsID)
}

func previousDemoPassword(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var df demoFacts
	if json.Unmarshal(b, &df) != nil {
		return ""
	}
	return df.TenantlinkPassword
}

// ensureDemoAdmin creates the demo Administrator, or sets its password to
// the one demo.json records (so demo.json is always right).
func ensureDemoAdmin(ctx context.Context, a *app.App, password string) error {
	created, err := a.EnsureAdministrator(ctx, DemoAdmin, password)
	if err != nil || created {
		return err
	}
	u, err := a.Store.GetUserByEmail(ctx, DemoAdmin)
	if err != nil {
		return err
	}
	active := true
	_, err = a.Directory.UpdateUser(ctx, tenantlink.System, u.ID, directory.UserInput{Password: &password, Active: &active})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return err
}
