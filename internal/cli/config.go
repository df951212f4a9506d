package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

// storeFlags are the flags every command that opens the database shares.
type storeFlags struct {
	data    string
	db      string
	keyFile string
	logLvl  string
}

func (f *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.data, "data", app.DefaultDataDir, "data folder (SQLite database, key file)")
	fs.StringVar(&f.db, "db", "", "database: sqlite:PATH (default DATA/tenantlink.db) or postgres://…")
	fs.StringVar(&f.keyFile, "key-file", "", "secret key file, created 0600 on first start (default DATA/secret.key)")
	fs.StringVar(&f.logLvl, "log-level", "info", "log level: debug, info, warn, error")
}

func (f *storeFlags) dsn() string {
	if f.db != "" {
		return f.db
	}
	return app.DefaultDB(f.data)
}

func (f *storeFlags) key() string {
	if f.keyFile != "" {
		return f.keyFile
	}
	return app.DefaultKeyFile(f.data)
}

func (f *storeFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLvl)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", f.logLvl)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (*sqlstore.DB, error) {
	if err := os.MkdirAll(f.data, 0o700); err != nil && f.db == "" {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	keys, err := secrets.LoadOrCreate(f.key())
	if err != nil {
		return nil, err
	}
	return sqlstore.Open(ctx, f.dsn(), keys, logger)
}

// bindEnv gives every flag of cmd a TENANTLINK_* environment equivalent
// (--ms-client-id ↔ TENANTLINK_MS_CLIENT_ID); a flag set on the command
// line wins.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed {
			return
		}
		name := "TENANTLINK_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := cmd.Flags().Set(fl.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

func readSecretFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}
