package apitest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestSecrets runs a whole authorization and token creation with debug
// logging, then looks for every secret of the flow in clear in the
// database and in the logs.
func TestSecrets(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testSecrets(t, backend) })
	}
}

func testSecrets(t *testing.T, backend string) {
	ctx := context.Background()
	logs := &testenv.Buffer{}
	e := testenv.New(t, testenv.Options{Backend: backend, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	f := e.Facts
	secrets := map[string]string{
		"Administrator password": password,
		"client secret":          f.ClientSecret,
		"Microsoft password":     f.AdminPassword,
	}

	session := e.SignIn(t, adminEmail, password)
	base, _ := url.Parse(e.URL)
	for _, c := range session.HC.Jar.Cookies(base) {
		if c.Name == "tl_session" {
			secrets["session cookie"] = c.Value
		}
	}
	token := session.NewToken()
	secrets["API token"] = token.Token
	const userPassword = "another secret passphrase"
	var u struct{ ID string }
	token.Must(201, "POST", "/api/v1/users", map[string]any{"email": "jane@tenantlink.test", "password": userPassword}, &u)
	secrets["user password"] = userPassword
	const changedPassword = "a changed secret passphrase"
	token.Must(200, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"password": changedPassword}, nil)
	secrets["changed password"] = changedPassword
	// Jane's own change gives the current password; her expiring token,
	// listed and used, is stored only as its hash.
	jane := e.SignIn(t, "jane@tenantlink.test", changedPassword)
	var jt struct{ Token string }
	jane.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "expiring", "expiresInDays": 30}, &jt)
	secrets["expiring API token"] = jt.Token
	testenv.TokenClient(t, e.URL, jt.Token).Must(200, "GET", "/api/v1/tokens", nil, nil)
	const ownPassword = "jane's own new passphrase"
	jane.Must(200, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"password": ownPassword, "currentPassword": changedPassword}, nil)
	secrets["own new password"] = ownPassword
	// A failed sign-in must not log the password tried either.
	const wrongPassword = "a mistyped secret passphrase"
	e.Anonymous(t).Do("POST", "/api/v1/session", map[string]string{"email": "jane@tenantlink.test", "password": wrongPassword})
	secrets["wrong password"] = wrongPassword

	ds := token.CreateDataSource("AtRestContoso", map[string]any{"readWrite": true})
	loc := e.SignInAtMicrosoft(session, ds.ID, f.AdminUser, f.AdminPassword)
	secrets["authorization code"] = loc.Query().Get("code")
	var cb callback
	session.Do("GET", loc.RequestURI(), nil, "Accept", "application/json").Decode(t, &cb)
	if !cb.OK {
		t.Fatalf("authorize: %+v", cb)
	}
	token.Must(200, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, nil)
	cred, err := e.App.Store.GetCredential(ctx, ds.ID)
	if err != nil {
		t.Fatal(err)
	}
	var blob struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal(cred, &blob); err != nil || blob.RefreshToken == "" {
		t.Fatalf("credential has no refresh token (%v): the test would check nothing", err)
	}
	secrets["refresh token"] = blob.RefreshToken

	// A pending authorization keeps its PKCE verifier until the callback.
	var start struct{ URL string }
	session.Must(200, "POST", "/api/v1/datasources/"+ds.ID+"/authorize", nil, &start)
	au, _ := url.Parse(start.URL)
	state := au.Query().Get("state")

	for name, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %s = %q is too short to look for", name, s)
		}
	}

	var stored []byte
	if backend == "sqlite" {
		stored = sqliteFiles(t, e.DataDir)
	} else {
		stored = postgresTables(t, e)
	}
	// The verifier is learnt only now: taking the state reads and deletes it.
	pending, err := e.App.Store.TakeOAuthState(ctx, state, e.Clock.Now())
	if err != nil || pending.Verifier == "" {
		t.Fatalf("pending authorization: %v", err)
	}
	secrets["PKCE verifier"] = pending.Verifier

	if !bytes.Contains(stored, []byte("AtRestContoso")) {
		t.Fatal("the stored data lacks the data source's name: the scan reads nothing useful")
	}
	for name, s := range secrets {
		if bytes.Contains(stored, []byte(s)) || bytes.Contains(stored, []byte(hex.EncodeToString([]byte(s)))) {
			t.Errorf("the %s database holds the %s in clear", backend, name)
		}
	}

	e.Close()
	l := logs.Bytes()
	if !bytes.Contains(l, []byte("office365 authorized")) || !bytes.Contains(l, []byte("level=DEBUG")) {
		t.Fatalf("debug logs lack the authorization: the check reads nothing useful:\n%s", l)
	}
	for name, s := range secrets {
		if bytes.Contains(l, []byte(s)) {
			t.Errorf("the logs hold the %s in clear", name)
		}
	}
}

// sqliteFiles reads every file of the data folder while the database is
// open, so that what is still only in the WAL is covered.
func sqliteFiles(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	var names []string
	for _, en := range entries {
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, en.Name())
		all = append(all, b...)
	}
	if !strings.Contains(strings.Join(names, " "), "tenantlink.db-wal") {
		t.Errorf("data folder holds %v, want the WAL among them", names)
	}
	return all
}

// postgresTables renders every row of every table of the env's schema.
func postgresTables(t *testing.T, e *env) []byte {
	t.Helper()
	ctx := context.Background()
	db := e.App.DB.SQL()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("tables = %v, want the whole schema", tables)
	}
	var out bytes.Buffer
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT t::text FROM "`+table+`" t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out.WriteString(s + "\n")
		}
		rows.Close()
	}
	return out.Bytes()
}
