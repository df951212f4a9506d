package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

// newAdminSSOCmd is `admin sso show|disable`: the single sign-on settings
// from the server's shell, and the way back to local sign-in for everyone
// when single sign-on locks people out (Microsoft unreachable, a wrong
// tenant, a bypass group without Administrators).
func newAdminSSOCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sso",
		Short: "Show single sign-on settings, or disable single sign-on to restore local sign-in",
	}
	var showFlags, disableFlags storeFlags
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the single sign-on settings as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDirectory(cmd, &showFlags, func(_ *directory.Service, db *sqlstore.DB) error {
				set, err := (&sso.Service{Store: db}).Current(cmd.Context())
				if err != nil {
					return err
				}
				return printSSO(cmd, set)
			})
		},
	}
	disable := &cobra.Command{
		Use:   "disable",
		Short: "Turn single sign-on and auto redirect off (audited); everyone signs in with a password again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDirectory(cmd, &disableFlags, func(_ *directory.Service, db *sqlstore.DB) error {
				set, err := (&sso.Service{Store: db}).Disable(cmd.Context(), tenantlink.System, "tenantlink admin sso disable")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "single sign-on disabled: everyone signs in with their email and password")
				return printSSO(cmd, set)
			})
		},
	}
	showFlags.register(show.Flags())
	disableFlags.register(disable.Flags())
	cmd.AddCommand(show, disable)
	return cmd
}

func printSSO(cmd *cobra.Command, set sso.Settings) error {
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}
