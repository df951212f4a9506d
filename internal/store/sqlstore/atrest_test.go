package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func auditEntry(action string) *tenantlink.AuditEntry {
	return &tenantlink.AuditEntry{Actor: "admin", Action: action, Target: "t", Outcome: "success"}
}

// Recognisable secrets: none may appear in clear anywhere on disk.
var clearSecrets = []string{
	"RT-0.AXoAclear-refresh-token-4f1c9e",  // refresh token inside the credential
	"CS-clear-client-secret~8Q~x7Yh",       // client secret inside the credential
	"PKCE-clear-verifier-dBjftJeZ4CVP-mB9", // PKCE verifier of a pending authorization
	"tl_clear-api-token-7d2a91bb",          // API token: only its hash is stored
	"clear-session-cookie-5c3e",            // session cookie: only its hash is stored
}

// visible are values stored in clear on purpose; finding them proves the
// scan really reads the stored data.
var visible = []string{"AtRestDataSource", "at-rest@contoso.com"}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func writeSecrets(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ctx := t.Context()
	u := &tenantlink.User{Email: "at-rest@contoso.com", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"}
	must(t, db.CreateUser(ctx, u))
	ds := &tenantlink.DataSource{Name: "AtRestDataSource", Type: tenantlink.ConnectorOffice365}
	must(t, db.CreateDataSource(ctx, ds))
	cred := fmt.Sprintf(`{"refresh_token":%q,"client_secret":%q,"tenant":"contoso"}`, clearSecrets[0], clearSecrets[1])
	must(t, db.PutCredential(ctx, ds.ID, []byte(cred)))
	must(t, db.PutOAuthState(ctx, &store.OAuthState{State: "state-at-rest", Purpose: "authorize", DataSourceID: ds.ID,
		Verifier: clearSecrets[2], ExpiresAt: time.Now().Add(time.Hour)}))
	must(t, db.CreateAPIToken(ctx, &store.APIToken{UserID: u.ID, Name: "ci", Hash: hashOf(clearSecrets[3]), Prefix: "tl_"}))
	must(t, db.CreateSession(ctx, &store.Session{IDHash: hashOf(clearSecrets[4]), UserID: u.ID, CSRFToken: "csrf",
		ExpiresAt: time.Now().Add(time.Hour)}))

	// The secrets still come back in clear through the store.
	got, err := db.GetCredential(ctx, ds.ID)
	if err != nil || string(got) != cred {
		t.Errorf("GetCredential = %s, %v; want %s", got, err, cred)
	}
}

func checkHaystack(t *testing.T, what string, haystack []byte) {
	t.Helper()
	for _, s := range clearSecrets {
		if bytes.Contains(haystack, []byte(s)) {
			t.Errorf("%s contains the clear secret %q", what, s)
		}
	}
}

func TestSecretsAtRestSQLite(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, "sqlite:"+filepath.Join(dir, "tenantlink.db"))
	writeSecrets(t, db)

	// Read while open, so what is still only in the WAL is covered too.
	var all []byte
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(t, err)
		names = append(names, e.Name())
		checkHaystack(t, e.Name(), b)
		all = append(all, b...)
	}
	if !strings.Contains(strings.Join(names, " "), "tenantlink.db-wal") {
		t.Errorf("files = %v, want the WAL among them", names)
	}
	for _, v := range visible {
		if !bytes.Contains(all, []byte(v)) {
			t.Errorf("database files lack the clear value %q: the scan reads nothing useful", v)
		}
	}

	// And after a checkpoint moves everything into the main file.
	_, err = db.SQL().ExecContext(t.Context(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	must(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "tenantlink.db"))
	must(t, err)
	checkHaystack(t, "checkpointed database", b)
}

func TestSecretsAtRestPostgres(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, postgresSchema(t))
	writeSecrets(t, db)

	rows, err := db.SQL().QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	must(t, err)
	var tables []string
	for rows.Next() {
		var n string
		must(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	must(t, rows.Err())
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("tables = %v, want every table of the schema", tables)
	}
	var all bytes.Buffer
	for _, table := range tables {
		// A row cast to text renders every column, bytea included (as hex),
		// so nothing escapes the check.
		dump := dumpTable(ctx, t, db, table)
		checkHaystack(t, "table "+table, dump)
		// bytea renders as hex: look for the hex of each secret too.
		for _, s := range clearSecrets {
			if bytes.Contains(dump, []byte(hex.EncodeToString([]byte(s)))) {
				t.Errorf("table %s contains the clear secret %q (hex)", table, s)
			}
		}
		all.Write(dump)
	}
	for _, v := range visible {
		if !bytes.Contains(all.Bytes(), []byte(v)) {
			t.Errorf("table dump lacks the clear value %q: the scan reads nothing useful", v)
		}
	}
}

func dumpTable(ctx context.Context, t *testing.T, db *sqlstore.DB, table string) []byte {
	t.Helper()
	rows, err := db.SQL().QueryContext(ctx, `SELECT t::text FROM "`+table+`" t`)
	must(t, err)
	defer rows.Close()
	var out bytes.Buffer
	for rows.Next() {
		var s string
		must(t, rows.Scan(&s))
		out.WriteString(s + "\n")
	}
	must(t, rows.Err())
	return out.Bytes()
}
