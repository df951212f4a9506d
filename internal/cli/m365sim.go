package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tenantlink/tenantlink/m365sim"
)

// simFlags are the simulator's flags (docs/SPEC.md §9), shared with
// demo, which runs the same simulator next to tenantlink.
type simFlags struct {
	addr, tenantDomain     string
	users, groups          int
	seed                   int64
	clientID, clientSecret string
	redirectURIs           []string
	adminPassword          string
	latency                time.Duration
	throttle, json         bool
	state                  string // file the simulated tenant is kept in; empty: in memory only
}

func (f *simFlags) options(logger *slog.Logger) m365sim.Options {
	return m365sim.Options{
		TenantDomain: f.tenantDomain, Users: f.users, Groups: f.groups, Seed: f.seed,
		ClientID: f.clientID, ClientSecret: f.clientSecret, RedirectURIs: f.redirectURIs,
		AdminPassword: f.adminPassword, Latency: f.latency, Throttle: f.throttle, Logger: logger,
		StatePath: f.state,
	}
}

func newM365simCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "m365sim",
		Short: "Run the Microsoft 365 simulator",
		Long: "Runs a stateful Microsoft 365 simulator (identity platform and Graph v1.0) on one loopback port.\n" +
			"With --json the first stdout line is a JSON object with url, tenantId, tenantDomain, clientId,\n" +
			"clientSecret, adminUser, adminPassword, memberUser and memberPassword.\n" +
			"With --state FILE the simulated tenant (directory, licences, app consents, refresh token grants,\n" +
			"signing key, delta log) is loaded from FILE when it exists, else seeded from the flags and saved\n" +
			"there; it is saved again after every change and on exit. The file holds secrets: it is written 0600.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			warnIgnoredSeedFlags(cmd, logger, f.state)
			return runSimulator(cmd.Context(), cmd.OutOrStdout(), logger, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8081", "listen address")
	fl.StringVar(&f.tenantDomain, "tenant-domain", "contoso.onmicrosoft.com", "the tenant's initial domain")
	fl.IntVar(&f.users, "users", 50, "users to seed (including the administrator and the member)")
	fl.IntVar(&f.groups, "groups", 12, "groups to seed")
	fl.Int64Var(&f.seed, "seed", 1, "seed for deterministic ids, names and passwords")
	fl.StringVar(&f.clientID, "client-id", "", "client id of tenantlink's app registration (generated when empty)")
	fl.StringVar(&f.clientSecret, "client-secret", "", "client secret of tenantlink's app registration (generated when empty)")
	fl.StringArrayVar(&f.redirectURIs, "redirect-uri", nil, "redirect URI of tenantlink's app registration (repeatable)")
	fl.StringVar(&f.adminPassword, "admin-password", "", "the administrator's password (generated when empty)")
	fl.DurationVar(&f.latency, "latency", 0, "latency added to every Graph request")
	fl.BoolVar(&f.throttle, "throttle", false, "apply Graph's documented throttling limits")
	fl.BoolVar(&f.json, "json", false, "print the facts as one JSON line first")
	fl.StringVar(&f.state, "state", "", "keep the simulated tenant in this file (loaded when it exists; seeding flags then apply only to a new file)")
	return cmd
}

// warnIgnoredSeedFlags tells the person that seeding flags they gave do
// nothing because the state file already defines the tenant.
func warnIgnoredSeedFlags(cmd *cobra.Command, logger *slog.Logger, state string) {
	if state == "" {
		return
	}
	if _, err := os.Stat(state); err != nil {
		return
	}
	var ignored []string
	for _, name := range []string{"tenant-domain", "users", "groups", "seed", "client-id", "client-secret", "admin-password"} {
		if cmd.Flags().Changed(name) {
			ignored = append(ignored, "--"+name)
		}
	}
	if len(ignored) > 0 {
		logger.Warn("m365sim: the state file already defines the tenant; seeding flags ignored", "state", state, "flags", strings.Join(ignored, " "))
	}
}

// startSimulator builds and starts a simulator from flags.
func startSimulator(logger *slog.Logger, f *simFlags) (*m365sim.Server, error) {
	// The simulator's errors already begin with "m365sim:".
	sim, err := m365sim.New(f.options(logger))
	if err != nil {
		return nil, err
	}
	if err := sim.Start(f.addr); err != nil {
		sim.Close()
		return nil, err
	}
	return sim, nil
}

func runSimulator(ctx context.Context, stdout io.Writer, logger *slog.Logger, f *simFlags) error {
	sim, err := startSimulator(logger, f)
	if err != nil {
		return err
	}
	if err := printFacts(stdout, sim.Facts(), f.json); err != nil {
		sim.Close()
		return err
	}
	logger.Info("m365sim serving", "url", sim.URL())
	<-ctx.Done()
	return shutdownSimulator(sim, logger)
}

func shutdownSimulator(sim *m365sim.Server, logger *slog.Logger) error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger.Info("m365sim shutting down")
	if err := sim.Shutdown(sctx); err != nil {
		return fmt.Errorf("m365sim: %w", err)
	}
	return nil
}

// printFacts writes the simulator's facts: one JSON line for scripts, or a
// readable block for people.
func printFacts(w io.Writer, f m365sim.Facts, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("m365sim: facts: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, `Microsoft 365 simulator
  URL (authority and Graph root): %s
  Tenant:                         %s (%s)
  App client id:                  %s
  App client secret:              %s
  Administrator:                  %s / %s
  Member (not an administrator):  %s / %s
  Graph:                          %s/v1.0/users
  OpenID configuration:           %s/%s/v2.0/.well-known/openid-configuration
`, f.URL, f.TenantDomain, f.TenantID, f.ClientID, f.ClientSecret, f.AdminUser, f.AdminPassword,
		f.MemberUser, f.MemberPassword, f.URL, f.URL, f.TenantID)
	return err
}
