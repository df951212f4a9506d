package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

func newMigrateCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (serve also does it at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			applied, err := sqlstore.Migrate(cmd.Context(), sf.dsn())
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "database schema is current")
				return nil
			}
			for _, v := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "applied", v)
			}
			return nil
		},
	}
	sf.register(cmd.Flags())
	return cmd
}
