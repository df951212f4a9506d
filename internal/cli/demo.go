package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newDemoCmd runs the Microsoft 365 simulator for a first look. At this
// stage it starts only the simulator and writes its facts; tenantlink
// itself joins once the server exists (--addr is reserved for it).
func newDemoCmd() *cobra.Command {
	var addr, simAddr, data string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything embedded for a first look",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			f := simFlags{addr: simAddr, tenantDomain: "contoso.onmicrosoft.com", users: 50, groups: 12, seed: 1,
				redirectURIs: []string{"http://" + addr + "/oauth/callback", "http://" + addr + "/auth/sso/callback"}}
			sim, err := startSimulator(logger, &f)
			if err != nil {
				return err
			}
			facts := sim.Facts()
			if err := os.MkdirAll(data, 0o700); err != nil {
				sim.Close()
				return fmt.Errorf("demo: data folder: %w", err)
			}
			b, err := json.MarshalIndent(facts, "", "  ")
			if err != nil {
				sim.Close()
				return fmt.Errorf("demo: facts: %w", err)
			}
			// demo.json holds passwords and the client secret: owner-only.
			if err := os.WriteFile(filepath.Join(data, "demo.json"), append(b, '\n'), 0o600); err != nil {
				sim.Close()
				return fmt.Errorf("demo: write demo.json: %w", err)
			}
			if err := printFacts(cmd.OutOrStdout(), facts, false); err != nil {
				sim.Close()
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "  Facts written to:               %s\n", filepath.Join(data, "demo.json"))
			<-cmd.Context().Done()
			return shutdownSimulator(sim, logger)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "tenantlink's listen address")
	cmd.Flags().StringVar(&simAddr, "sim-addr", "127.0.0.1:8081", "the Microsoft 365 simulator's listen address")
	cmd.Flags().StringVar(&data, "data", "./tenantlink-demo", "data folder")
	return cmd
}
