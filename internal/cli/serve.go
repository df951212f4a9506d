package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tenantlink/tenantlink/internal/app"
)

func newServeCmd() *cobra.Command {
	var sf storeFlags
	var cfg app.Config
	var secretFile, metricsTokenFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the production server",
		Long: "Run tenantlink. Every flag has a TENANTLINK_* environment equivalent " +
			"(--ms-client-id is TENANTLINK_MS_CLIENT_ID).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if cfg.Realtime.Window < 0 || cfg.Realtime.Interval < 0 {
				return fmt.Errorf("--realtime-window and --realtime-interval must not be negative")
			}
			logger, err := sf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			secret, err := readSecretFile(secretFile)
			if err != nil {
				return err
			}
			if cfg.MetricsToken, err = readSecretFile(metricsTokenFile); err != nil {
				return err
			}
			cfg.DataDir, cfg.DB, cfg.KeyFile, cfg.MSClientSecret, cfg.Logger = sf.data, sf.dsn(), sf.key(), secret, logger
			a, err := app.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := a.Listen()
			if err != nil {
				return err
			}
			logger.Info("tenantlink serving", "url", a.Config.PublicURL, "addr", ln.Addr().String())
			fmt.Fprintf(cmd.OutOrStdout(), "tenantlink serving on %s\n", a.Config.PublicURL)
			return a.Serve(cmd.Context(), ln)
		},
	}
	sf.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	f.StringVar(&cfg.PublicURL, "public-url", "", "URL browsers use to reach tenantlink (default http://ADDR); https makes cookies Secure")
	f.StringVar(&cfg.MSAuthority, "ms-authority", "https://login.microsoftonline.com", "Microsoft identity platform authority")
	f.StringVar(&cfg.MSGraph, "ms-graph", "https://graph.microsoft.com", "Microsoft Graph root")
	f.StringVar(&cfg.MSClientID, "ms-client-id", "", "client id of tenantlink's Microsoft Entra app registration")
	f.StringVar(&secretFile, "ms-client-secret-file", "", "file holding the app registration's client secret")
	f.StringVar(&cfg.TrustedProxies, "trusted-proxies", "", "reverse proxies whose X-Forwarded-For names the client: CIDRs or IPs, comma separated (default none: the TCP peer is the client)")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve /metrics on this address instead of --addr (e.g. 127.0.0.1:9090)")
	f.StringVar(&metricsTokenFile, "metrics-token-file", "", "file holding a bearer token that /metrics then requires")
	jobsFlags(f, &cfg.Jobs)
	realtimeFlags(f, &cfg.Realtime)
	return cmd
}

// jobsFlags registers the job queue's tuning flags, hidden: tests with
// real processes shorten them (TENANTLINK_JOBS_TICK and so on, through
// bindEnv like every flag). Zero keeps the default (jobs.Config).
func jobsFlags(f *pflag.FlagSet, j *app.JobsConfig) {
	for _, d := range []struct {
		name, usage string
		v           *time.Duration
	}{
		{"jobs-tick", "how often this replica looks for due tasks", &j.TickInterval},
		{"jobs-timeout", "how long one sync job attempt may run", &j.JobTimeout},
		{"jobs-rescue-after", "when a job still marked running is handed out again", &j.RescueAfter},
		{"jobs-retry-base", "the first retry's delay, doubled per attempt", &j.RetryBase},
		{"jobs-conflict-wait", "how long a job waits for the group's previous run", &j.ConflictWait},
		{"sync-stale-after", "how long without a heartbeat makes a sync run dead", &j.SyncStaleAfter},
	} {
		f.DurationVar(d.v, d.name, 0, d.usage+" (0: the default)")
		_ = f.MarkHidden(d.name)
	}
}

// realtimeFlags registers real-time sync's tuning flags, hidden like the
// job queue's (TENANTLINK_REALTIME_WINDOW, TENANTLINK_REALTIME_INTERVAL
// through bindEnv). Zero keeps the default (package realtime).
func realtimeFlags(f *pflag.FlagSet, r *app.RealtimeConfig) {
	f.DurationVar(&r.Window, "realtime-window", 0, "how long a group's change notifications are coalesced into one run (0: the default)")
	f.DurationVar(&r.Interval, "realtime-interval", 0, "how often subscriptions are checked and renewed (0: the default)")
	_ = f.MarkHidden("realtime-window")
	_ = f.MarkHidden("realtime-interval")
}
