package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
)

// newImportCmd runs one group member sync in the foreground, with the
// same configuration as serve, so an operator can import a group (or
// rehearse one with --dry-run) without the server.
func newImportCmd() *cobra.Command {
	var sf storeFlags
	var cfg app.Config
	var secretFile string
	var dry, confirm, full bool
	cmd := &cobra.Command{
		Use:   "import GROUP",
		Short: "Run a group member sync once, in the foreground",
		Long: "Run one group member sync of GROUP (a directory group id or name) against the configured " +
			"database and Microsoft endpoints, showing progress, and print the final counts. Takes the same " +
			"flags (and TENANTLINK_* variables) as serve. Exits 1 when the run fails and 2 when the safety " +
			"threshold stopped it (run again with --confirm).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if dry && confirm {
				return errors.New("--dry-run and --confirm do not go together: a dry run changes nothing")
			}
			logger, err := sf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			secret, err := readSecretFile(secretFile)
			if err != nil {
				return err
			}
			cfg.DataDir, cfg.DB, cfg.KeyFile, cfg.MSClientSecret, cfg.Logger = sf.data, sf.dsn(), sf.key(), secret, logger
			cfg.Jobs.Disabled = true
			a, err := app.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			return runImport(cmd.Context(), a, cmd.OutOrStdout(), args[0], groupsync.RunOptions{DryRun: dry, Confirm: confirm, Full: full, Trigger: "cli"})
		},
	}
	sf.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&cfg.MSAuthority, "ms-authority", "https://login.microsoftonline.com", "Microsoft identity platform authority")
	f.StringVar(&cfg.MSGraph, "ms-graph", "https://graph.microsoft.com", "Microsoft Graph root")
	f.StringVar(&cfg.MSClientID, "ms-client-id", "", "client id of tenantlink's Microsoft Entra app registration")
	f.StringVar(&secretFile, "ms-client-secret-file", "", "file holding the app registration's client secret")
	f.BoolVar(&dry, "dry-run", false, "show what would change; change nothing")
	f.BoolVar(&confirm, "confirm", false, "go past the safety threshold (disabling or removing more than 20% of the group)")
	f.BoolVar(&full, "full", false, "read the whole source group instead of the changes since the last run")
	return cmd
}

// findGroup resolves GROUP as an id, then as a name (case-insensitive).
func findGroup(ctx context.Context, st store.Store, ref string) (*tenantlink.Group, error) {
	g, err := st.GetGroup(ctx, ref)
	if err == nil {
		return g, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	groups, err := st.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if strings.EqualFold(g.Name, ref) {
			return g, nil
		}
	}
	return nil, fmt.Errorf("no directory group with id or name %q", ref)
}

func runImport(ctx context.Context, a *app.App, out io.Writer, ref string, o groupsync.RunOptions) error {
	g, err := findGroup(ctx, a.Store, ref)
	if err != nil {
		return err
	}
	p := newProgressPrinter(out)
	o.Progress = p.update
	what := "Importing"
	if o.DryRun {
		what = "Dry run of"
	}
	fmt.Fprintf(out, "%s group member sync of %q\n", what, g.Name)
	run, err := a.GroupSync.Run(ctx, tenantlink.System, g.ID, o)
	p.finish()
	if err != nil {
		return fmt.Errorf("import %q: %w", g.Name, err)
	}
	c := run.Counts
	unchanged := "" // an incremental run cannot count them
	if run.Full {
		unchanged = fmt.Sprintf(", unchanged %d", c.Unchanged)
	}
	fmt.Fprintf(out, "%s: created %d, updated %d%s, disabled %d, removed %d, left group %d\n",
		run.Status, c.Created, c.Updated, unchanged, c.Disabled, c.Removed, c.LeftGroup)
	for _, e := range run.Errors {
		fmt.Fprintln(out, "  "+e)
	}
	if o.DryRun {
		for _, ch := range run.Changes {
			fmt.Fprintf(out, "  would %s %s %s\n", ch.Action, firstNonEmpty(ch.Email, ch.ObjectID, ch.UserID), ch.Detail)
		}
	}
	switch run.Status {
	case store.RunSucceeded:
		return nil
	case store.RunStopped:
		if ctx.Err() != nil {
			return &exitError{code: 1, err: fmt.Errorf("import %q interrupted: %w", g.Name, ctx.Err())}
		}
		return &exitError{code: 2, err: fmt.Errorf("import %q stopped for confirmation: run again with --confirm", g.Name)}
	}
	return &exitError{code: 1, err: fmt.Errorf("import %q %s", g.Name, run.Status)}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// progressPrinter redraws one line on a terminal and prints plain lines,
// at most one a second, elsewhere (logs, pipes, tests).
type progressPrinter struct {
	out   io.Writer
	tty   bool
	last  time.Time
	drawn bool
	spin  int
}

func newProgressPrinter(out io.Writer) *progressPrinter {
	p := &progressPrinter{out: out}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progressPrinter) update(pr groupsync.Progress) {
	now := time.Now()
	if !p.tty && pr.Phase != groupsync.PhaseDone && now.Sub(p.last) < time.Second && !p.last.IsZero() {
		return
	}
	p.last = now
	seen := fmt.Sprintf("%d seen", pr.Seen)
	if pr.Total > 0 {
		seen = fmt.Sprintf("%d of %d seen", pr.Seen, pr.Total)
	}
	unchanged := "" // -1: an incremental run cannot count them
	if pr.Unchanged >= 0 {
		unchanged = fmt.Sprintf(", %d unchanged", pr.Unchanged)
	}
	line := fmt.Sprintf("%s: %s, %d created, %d updated%s, %d disabled, %d removed, %d left group",
		pr.Phase, seen, pr.Created, pr.Updated, unchanged, pr.Disabled, pr.Removed, pr.LeftGroup)
	if !p.tty {
		fmt.Fprintln(p.out, "progress "+line)
		return
	}
	bar := progressBar(pr, p.spin)
	p.spin++
	fmt.Fprintf(p.out, "\r\x1b[2K%s %s", bar, line)
	p.drawn = true
}

// progressBar is a bar when the total is known and a moving block when it
// is not (Graph does not say how many members a delta query will return).
func progressBar(pr groupsync.Progress, step int) string {
	const width = 20
	cells := []rune(strings.Repeat("·", width))
	if pr.Total > 0 {
		n := min(width, pr.Seen*width/pr.Total)
		for i := 0; i < n; i++ {
			cells[i] = '█'
		}
	} else {
		for i := 0; i < 3; i++ {
			cells[(step+i)%width] = '█'
		}
	}
	return "[" + string(cells) + "]"
}

func (p *progressPrinter) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.out)
	}
}
