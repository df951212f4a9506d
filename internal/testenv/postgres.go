package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// DefaultPostgres is the server the tests use when
// TENANTLINK_TEST_POSTGRES is unset (the one `make test` starts).
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// One scratch database per test binary, one schema per caller: creating a
// database costs far more than a schema, and Main drops the lot at exit.
var pg struct {
	once    sync.Once
	err     error
	admin   string
	dsn     string
	name    string
	schemas atomic.Int64
	main    atomic.Bool
}

// Main runs the tests and then drops the scratch PostgreSQL database, if
// any test made one; a package whose tests use PostgreSQL calls it from
// TestMain: func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }.
func Main(m *testing.M) int {
	pg.main.Store(true)
	code := m.Run()
	if pg.name != "" {
		if err := dropDatabase(pg.admin, pg.name); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: drop database %s: %v\n", pg.name, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// PostgresDSN returns the DSN of a fresh schema in this test binary's
// scratch database on TENANTLINK_TEST_POSTGRES (default DefaultPostgres).
// An unreachable server fails the test: it is never skipped.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	if !pg.main.Load() {
		tb.Fatal("testenv: PostgreSQL needs TestMain to call testenv.Main, which drops the scratch database")
	}
	pg.once.Do(func() {
		pg.admin = os.Getenv("TENANTLINK_TEST_POSTGRES")
		if pg.admin == "" {
			pg.admin = DefaultPostgres
		}
		db, err := sql.Open("pgx", pg.admin)
		if err != nil {
			pg.err = err
			return
		}
		defer db.Close()
		b := make([]byte, 6)
		rand.Read(b)
		name := "tl_testenv_" + hex.EncodeToString(b)
		if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
			pg.err = err
			return
		}
		pg.name, pg.dsn = name, WithDatabase(pg.admin, name, nil)
	})
	if pg.err != nil {
		tb.Fatalf("PostgreSQL at TENANTLINK_TEST_POSTGRES (default %s) is not usable: %v\nRun `make test`, which starts it.", DefaultPostgres, pg.err)
	}
	schema := fmt.Sprintf("s%d", pg.schemas.Add(1))
	db, err := sql.Open("pgx", pg.dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("testenv: create schema: %v", err)
	}
	return WithDatabase(pg.dsn, "", map[string]string{"search_path": schema})
}

// PostgresDatabase creates a database of its own for one test (for
// processes that need a whole database, such as River's) and drops it
// when the test ends; it returns its DSN.
func PostgresDatabase(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("TENANTLINK_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultPostgres
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "tl_testenv_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("PostgreSQL at TENANTLINK_TEST_POSTGRES (default %s) is not usable: %v\nRun `make test`, which starts it.", DefaultPostgres, err)
	}
	tb.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			tb.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return WithDatabase(admin, name, nil)
}

// WithDatabase returns dsn naming database name (when not empty) with
// params added to its query: PostgreSQL scratch databases and schemas.
func WithDatabase(dsn, name string, params map[string]string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	if name != "" {
		u.Path = "/" + name
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
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
