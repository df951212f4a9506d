package cli

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Create users, reset passwords, create, list and revoke API tokens, without the web UI",
	}
	cmd.AddCommand(newAdminCreateUserCmd(), newAdminResetPasswordCmd(), newAdminCreateTokenCmd(), newAdminListTokensCmd(), newAdminRevokeTokenCmd())
	cmd.AddCommand(newAdminSSOCmd())
	return cmd
}

// withDirectory opens the store and runs fn with a directory service acting
// as the system (the operator at the console).
func withDirectory(cmd *cobra.Command, sf *storeFlags, fn func(*directory.Service, *sqlstore.DB) error) error {
	if err := bindEnv(cmd); err != nil {
		return err
	}
	logger, err := sf.logger(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	db, err := sf.open(cmd.Context(), logger)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(directory.New(db, logger), db)
}

// readPassword takes the password from stdin (one line) when asked to,
// else generates one and says so: passwords never go on the command line,
// where other users of the machine could read them.
func readPassword(stdin io.Reader, fromStdin bool) (pw string, generated bool, err error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", false, fmt.Errorf("read password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", false, fmt.Errorf("no password on stdin")
		}
		return pw, false, nil
	}
	return GeneratePassword(), true, nil
}

// GeneratePassword returns a random 20-character password.
func GeneratePassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newAdminCreateUserCmd() *cobra.Command {
	var sf storeFlags
	var email, name string
	var roles []string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "create-user",
		Short: "Create a local user (password from --password-stdin, else generated and printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return fmt.Errorf("--email is required")
			}
			rs := make([]tenantlink.Role, 0, len(roles))
			for _, r := range roles {
				rs = append(rs, tenantlink.Role(r))
			}
			pw, generated, err := readPassword(cmd.InOrStdin(), stdin)
			if err != nil {
				return err
			}
			return withDirectory(cmd, &sf, func(d *directory.Service, _ *sqlstore.DB) error {
				in := directory.UserInput{Email: &email, Password: &pw, Roles: &rs}
				if name != "" {
					in.DisplayName = &name
				}
				u, err := d.CreateUser(cmd.Context(), tenantlink.System, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created user %s (%s) with roles %v\n", u.Email, u.ID, u.Roles)
				if generated {
					fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", pw)
				}
				return nil
			})
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&email, "email", "", "email (sign-in name)")
	cmd.Flags().StringVar(&name, "name", "", "display name")
	cmd.Flags().StringSliceVar(&roles, "role", []string{"User"}, "role (repeatable): User, Administrator, Manage datasources, Design business process")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of stdin")
	return cmd
}

func newAdminResetPasswordCmd() *cobra.Command {
	var sf storeFlags
	var email string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "reset-password",
		Short: "Set a user's password (from --password-stdin, else generated and printed once); signs them out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return fmt.Errorf("--email is required")
			}
			pw, generated, err := readPassword(cmd.InOrStdin(), stdin)
			if err != nil {
				return err
			}
			return withDirectory(cmd, &sf, func(d *directory.Service, db *sqlstore.DB) error {
				u, err := db.GetUserByEmail(cmd.Context(), email)
				if err != nil {
					return err
				}
				if _, err := d.UpdateUser(cmd.Context(), tenantlink.System, u.ID, directory.UserInput{Password: &pw}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password reset for %s\n", u.Email)
				if generated {
					fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", pw)
				}
				return nil
			})
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&email, "email", "", "the user's email")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of stdin")
	return cmd
}

func newAdminCreateTokenCmd() *cobra.Command {
	var sf storeFlags
	var email, name string
	var days int
	cmd := &cobra.Command{
		Use:   "create-token",
		Short: "Create an API token for a user (printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return fmt.Errorf("--email is required")
			}
			return withDirectory(cmd, &sf, func(d *directory.Service, db *sqlstore.DB) error {
				u, err := db.GetUserByEmail(cmd.Context(), email)
				if err != nil {
					return err
				}
				raw, _, err := d.IssueToken(cmd.Context(), tenantlink.System, directory.TokenInput{UserID: u.ID, Name: name, ExpiresInDays: days})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), raw)
				return nil
			})
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&email, "email", "", "the user's email")
	cmd.Flags().StringVar(&name, "name", "cli", "a name to recognise the token by")
	cmd.Flags().IntVar(&days, "expires-in-days", 0, "days until the token expires (0: never)")
	return cmd
}

func newAdminListTokensCmd() *cobra.Command {
	var sf storeFlags
	var email string
	cmd := &cobra.Command{
		Use:   "list-tokens",
		Short: "List API tokens (every user's, or --email's): id, owner, name, created, expires, last used; never the secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDirectory(cmd, &sf, func(d *directory.Service, db *sqlstore.DB) error {
				list, err := d.ListTokens(cmd.Context(), tenantlink.System)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tOWNER\tNAME\tCREATED\tEXPIRES\tLAST USED")
				for _, t := range list {
					if email != "" && !strings.EqualFold(t.Owner, email) {
						continue
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Owner, t.Name, stamp(t.CreatedAt, ""), stamp(t.ExpiresAt, "never"), stamp(t.LastUsedAt, "never"))
				}
				return w.Flush()
			})
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&email, "email", "", "only this user's tokens")
	return cmd
}

func stamp(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

func newAdminRevokeTokenCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "revoke-token ID",
		Short: "Revoke an API token by id (see list-tokens)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDirectory(cmd, &sf, func(d *directory.Service, db *sqlstore.DB) error {
				if err := d.RevokeToken(cmd.Context(), tenantlink.System, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
				return nil
			})
		},
	}
	sf.register(cmd.Flags())
	return cmd
}
