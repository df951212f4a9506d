package cli

import (
	"fmt"

	"github.com/spf13/cobra"

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
	return cmd
}
