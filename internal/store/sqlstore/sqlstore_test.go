package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
	"github.com/tenantlink/tenantlink/internal/store/storetest"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pg is the PostgreSQL database this test run owns: created on first use,
// dropped by TestMain, so parallel runs (and other packages) never collide.
var pg struct {
	once    sync.Once
	err     error
	admin   string // DSN of the database we connect to in order to create ours
	dsn     string // DSN of our database
	name    string
	schemas atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.name != "" {
		if err := dropDatabase(pg.admin, pg.name); err != nil {
			fmt.Fprintf(os.Stderr, "sqlstore test: drop database %s: %v\n", pg.name, err)
		}
	}
	os.Exit(code)
}

func postgresAdminDSN() string {
	if v := os.Getenv("TENANTLINK_TEST_POSTGRES"); v != "" {
		return v
	}
	return defaultPostgres
}

// postgresDB returns the DSN of a database owned by this test run. An
// unreachable server fails the test: the PostgreSQL backend must be tested.
func postgresDB(tb testing.TB) string {
	tb.Helper()
	pg.once.Do(func() {
		pg.admin = postgresAdminDSN()
		admin, err := sql.Open("pgx", pg.admin)
		if err != nil {
			pg.err = err
			return
		}
		defer admin.Close()
		if err := admin.PingContext(context.Background()); err != nil {
			pg.err = err
			return
		}
		b := make([]byte, 6)
		rand.Read(b)
		name := "tl_" + hex.EncodeToString(b)
		if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
			pg.err = err
			return
		}
		pg.name = name
		pg.dsn = testenv.WithDatabase(pg.admin, name, nil)
	})
	if pg.err != nil {
		tb.Fatalf("PostgreSQL at TENANTLINK_TEST_POSTGRES (default %s) is not usable: %v\n"+
			"Run `make test`, which installs and starts PostgreSQL via scripts/test-deps.sh.", defaultPostgres, pg.err)
	}
	return pg.dsn
}

// postgresSchema returns a DSN whose search_path is a fresh, empty schema in
// this run's database: one per store keeps conformance cases independent
// without paying for a CREATE DATABASE each.
func postgresSchema(tb testing.TB) string {
	tb.Helper()
	dsn := postgresDB(tb)
	schema := fmt.Sprintf("s%d", pg.schemas.Add(1))
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	return testenv.WithDatabase(dsn, "", map[string]string{"search_path": schema})
}

func dropDatabase(admin, name string) error {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

func sqliteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + tb.TempDir() + "/tenantlink.db"
}

// mustOpen opens a store on dsn with a fresh test keyring, closed when tb ends.
func mustOpen(tb testing.TB, dsn string) *sqlstore.DB {
	tb.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, secretstest.NewTestKeyring(tb), nil)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var backends = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", sqliteDSN},
	{"postgres", postgresSchema},
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				db, err := sqlstore.Open(t.Context(), b.dsn(t), secretstest.NewTestKeyring(t), nil)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if got := db.Dialect(); got != b.name {
					t.Errorf("Dialect = %q, want %q", got, b.name)
				}
				return db
			})
		})
	}
}

func TestConformanceTasks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db, err := sqlstore.Open(t.Context(), b.dsn(t), secretstest.NewTestKeyring(t), nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			storetest.RunTasks(t, db, func(t *testing.T, ref store.TaskRef) {
				now := sqlstore.TimeValue(db.Dialect(), time.Now())
				_, err := db.SQL().ExecContext(t.Context(), `INSERT INTO tasks (id, name, kind, target, schedule, enabled, next_run, created_at, updated_at)
					VALUES ($1, $2, $3, $4, '{}', $5, $6, $7, $8)`, ref.ID, ref.Name, ref.Kind, ref.Target, true, now, now, now)
				if err != nil {
					t.Fatalf("insert task %s: %v", ref.ID, err)
				}
			})
		})
	}
}

func TestMigrate(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := b.dsn(t)
			// Several processes starting at once: exactly one applies each
			// migration, none fails.
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				total []string
			)
			for range 4 {
				wg.Go(func() {
					applied, err := sqlstore.Migrate(ctx, dsn)
					if err != nil {
						t.Errorf("concurrent Migrate: %v", err)
					}
					mu.Lock()
					total = append(total, applied...)
					mu.Unlock()
				})
			}
			wg.Wait()
			want := migrationVersions(t, b.name)
			slices.Sort(total)
			if got, want := strings.Join(total, ","), strings.Join(want, ","); got != want {
				t.Errorf("migrations applied across concurrent runs = %q, want %q", got, want)
			}
			again, err := sqlstore.Migrate(ctx, dsn)
			if err != nil || len(again) != 0 {
				t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
			}
			db := mustOpen(t, dsn)
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(want) {
				t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, len(want))
			}
		})
	}
}

// migrationVersions lists the migration files of a dialect, so the test
// follows new migrations without edits.
func migrationVersions(tb testing.TB, dialect string) []string {
	tb.Helper()
	entries, err := os.ReadDir("migrations/" + dialect)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if v, ok := strings.CutSuffix(e.Name(), ".sql"); ok {
			out = append(out, v)
		}
	}
	if len(out) == 0 || out[0] != "0001_init" {
		tb.Fatalf("migrations/%s = %v, want 0001_init first", dialect, out)
	}
	return out
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	keys := secretstest.NewTestKeyring(t)
	for _, tc := range []struct {
		name, dsn string
		keys      bool
		wantErr   string
	}{
		{"unknown scheme", "mysql://u:hunter2@h/db", true, `unsupported database "mysql"`},
		{"empty sqlite path", "sqlite:", true, "needs a file path"},
		{"sqlite memory", "sqlite::memory:", true, "needs a file path"},
		{"no keyring", "sqlite:" + t.TempDir() + "/x.db", false, "keyring is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := keys
			if !tc.keys {
				k = nil
			}
			db, err := sqlstore.Open(ctx, tc.dsn, k, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) err = nil, want %q", tc.dsn, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open(%q) err = %v, want it to contain %q", tc.dsn, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q reveals the DSN password", err)
			}
		})
	}
}

func TestSQLiteFileMode(t *testing.T) {
	dir := t.TempDir() + "/data"
	db := mustOpen(t, "sqlite:"+dir+"/tenantlink.db")
	if err := db.PutSetting(t.Context(), "k", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tenantlink.db", "tenantlink.db-wal"} {
		fi, err := os.Stat(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&0o077 != 0 {
			t.Errorf("%s mode = %04o, want no group/other access", name, got)
		}
	}
}

func TestAuditAppendOnly(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpen(t, b.dsn(t))
			must(t, db.AppendAudit(ctx, auditEntry("created")))
			for _, q := range []string{`UPDATE audit SET action = 'forged'`, `DELETE FROM audit`} {
				if _, err := db.SQL().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: err = %v, want append-only refusal", q, err)
				}
			}
		})
	}
}

// TestMigrationEditorBackfill: migration 0009 gives processes saved before
// it their last editor's user id, found by the email kept in modified_by
// (case-insensitively), and none when no user has that email. The
// migration is undone by hand and applied again over such rows.
func TestMigrationEditorBackfill(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := b.dsn(t)
			db := mustOpen(t, dsn)
			ann := &tenantlink.User{Email: "ann@contoso.com", Roles: []tenantlink.Role{}, Active: true}
			if err := db.CreateUser(ctx, ann); err != nil {
				t.Fatal(err)
			}
			for name, by := range map[string]string{"Known": "Ann@Contoso.com", "Unknown": "gone@contoso.com"} {
				if err := db.CreateProcess(ctx, &store.Process{Name: name, Definition: []byte(`{}`), ModifiedBy: by}); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range []string{
				`ALTER TABLE processes DROP COLUMN editor_id`,
				`ALTER TABLE processes DROP COLUMN needs_datasource`,
				`DELETE FROM schema_migrations WHERE version = '0009_access'`,
			} {
				if _, err := db.SQL().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			applied, err := sqlstore.Migrate(ctx, dsn)
			if err != nil || !slices.Equal(applied, []string{"0009_access"}) {
				t.Fatalf("Migrate = %v, %v; want 0009_access applied", applied, err)
			}
			db = mustOpen(t, dsn)
			list, err := db.ListProcesses(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range list {
				got[p.Name] = p.EditorID
			}
			if want := map[string]string{"Known": ann.ID, "Unknown": ""}; !maps.Equal(got, want) {
				t.Errorf("editors after the migration = %v, want %v", got, want)
			}
		})
	}
}
