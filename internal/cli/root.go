// Package cli builds tenantlink's command tree (cobra): it parses flags and
// environment, wires packages together, runs, and shuts down on signals.
// Each command lives in its own file.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the command line and returns the process exit code; SIGINT
// and SIGTERM stop it gracefully.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// run is Main with the stop signal as a context, so that tests can stop
// long-running commands (serve, demo) by cancelling it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "tenantlink:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "tenantlink",
		Short:         "Office 365 data source for a workflow platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newDemoCmd(),
		newServeCmd(),
		newM365simCmd(),
		newAdminCmd(),
		newImportCmd(),
		newMigrateCmd(),
		newOpCmd(),
		newGroupSyncCmd(),
	)
	return root
}
