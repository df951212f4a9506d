package groupsync_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

const callbackURL = "https://tenantlink.example/oauth/callback"

// backends are the databases every end-to-end sync test runs on.
var backends = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", func(tb testing.TB) string { return "sqlite:" + tb.TempDir() + "/tenantlink.db" }},
	{"postgres", postgresSchema},
}

// postgresSchema returns a DSN whose search_path is a fresh schema, dropped
// when tb ends. An unreachable server fails the test: both backends must be
// tested.
func postgresSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TENANTLINK_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "gs_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("PostgreSQL at TENANTLINK_TEST_POSTGRES (default %s) is not usable: %v (run `make test`, which starts it)", base, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			db.Close()
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// env is tenantlink's store, data source service and sync service against
// a running simulator, with one authorized Office 365 data source.
type env struct {
	sim     *m365sim.Server     // nil when the simulator is a subprocess
	simProc *testenv.SimProcess // nil when it is in this process
	stats   func(testing.TB) m365sim.Stats
	facts   m365sim.Facts
	st      *sqlstore.DB
	dss     *datasource.Service
	svc     *groupsync.Service
	admin   *tenantlink.Principal
	ds      *tenantlink.DataSource
	// groups are the tenant groups simGroup created, by display name.
	groups map[string]string
}

func newEnv(tb testing.TB, dsn string, opts m365sim.Options) *env {
	tb.Helper()
	return newEnvClient(tb, dsn, opts, nil)
}

// newEnvClient is newEnv with the connector's HTTP client (nil for the
// default).
func newEnvClient(tb testing.TB, dsn string, opts m365sim.Options, hc *http.Client) *env {
	tb.Helper()
	opts.RedirectURIs = []string{callbackURL}
	if opts.Seed == 0 {
		opts.Seed = 11
	}
	sim, err := m365sim.New(opts)
	if err != nil {
		tb.Fatalf("m365sim.New: %v", err)
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("start simulator: %v", err)
	}
	tb.Cleanup(func() { sim.Close() })
	e := newEnvAtClient(tb, dsn, sim.Facts(), hc)
	e.sim = sim
	e.stats = func(testing.TB) m365sim.Stats { return sim.Stats() }
	return e
}

// newEnvProcess is newEnv with the simulator in a `tenantlink m365sim`
// subprocess, so that this process holds only tenantlink's side (its
// memory can then be measured on its own).
func newEnvProcess(tb testing.TB, dsn string, opts testenv.SimProcessOptions) *env {
	tb.Helper()
	opts.RedirectURIs = []string{callbackURL}
	if opts.Seed == 0 {
		opts.Seed = 11
	}
	p := testenv.StartSimProcess(tb, opts)
	e := newEnvAt(tb, dsn, p.Facts)
	e.simProc = p
	e.stats = p.Stats
	return e
}

// newEnvAt opens the store and authorizes a data source against the
// simulator that facts describe.
func newEnvAt(tb testing.TB, dsn string, facts m365sim.Facts) *env {
	tb.Helper()
	return newEnvAtClient(tb, dsn, facts, nil)
}

func newEnvAtClient(tb testing.TB, dsn string, facts m365sim.Facts, hc *http.Client) *env {
	tb.Helper()
	ctx := context.Background()
	var err error
	e := &env{facts: facts, groups: map[string]string{}}
	e.st, err = sqlstore.Open(ctx, dsn, secretstest.NewTestKeyring(tb), nil)
	if err != nil {
		tb.Fatalf("sqlstore.Open: %v", err)
	}
	tb.Cleanup(func() { e.st.Close() })
	conn := office365.New(office365.Config{Authority: e.facts.URL, GraphURL: e.facts.URL,
		ClientID: e.facts.ClientID, ClientSecret: e.facts.ClientSecret, HTTPClient: hc})
	e.dss = &datasource.Service{Store: e.st, Connectors: map[string]connector.Connector{tenantlink.ConnectorOffice365: conn},
		CallbackURL: callbackURL, Now: time.Now, Logger: discard()}
	e.svc = &groupsync.Service{Store: e.st, DataSources: e.dss, Now: time.Now, Logger: discard()}

	u := &tenantlink.User{Email: "admin@tenantlink.example", DisplayName: "Admin", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleAdministrator, tenantlink.RoleUser}}
	must(tb, e.st.CreateUser(ctx, u))
	e.admin = &tenantlink.Principal{User: u, Roles: u.Roles, Via: "session"}
	name, typ := "Contoso", tenantlink.ConnectorOffice365
	e.ds, err = e.dss.Create(ctx, e.admin, datasource.Input{Name: &name, Type: &typ})
	must(tb, err)
	authURL, err := e.dss.Authorize(ctx, e.admin, e.ds.ID)
	must(tb, err)
	jar, _ := cookiejar.New(nil)
	back, err := identitytest.SignIn(&http.Client{Jar: jar}, authURL, e.facts.AdminUser, e.facts.AdminPassword)
	if err != nil {
		tb.Fatalf("sign in: %v", err)
	}
	res, err := e.dss.Callback(ctx, e.admin, back.Query())
	must(tb, err)
	if !res.OK {
		tb.Fatalf("authorize: %s", res.Message)
	}
	e.ds, err = e.st.GetDataSource(ctx, e.ds.ID) // with its tenant (Account)
	must(tb, err)
	return e
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// control calls a simulator control endpoint and decodes its answer.
func (e *env) control(tb testing.TB, method, path string, body, out any) {
	tb.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(tb, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.facts.URL+path, rd)
	must(tb, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		tb.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
	if out != nil {
		must(tb, json.NewDecoder(resp.Body).Decode(out))
	}
}

// simUser creates a tenant user and returns its object id.
func (e *env) simUser(tb testing.TB, upn, name string) string {
	tb.Helper()
	var u struct {
		ID string `json:"id"`
	}
	e.control(tb, "POST", "/_sim/users", map[string]any{"userPrincipalName": upn, "displayName": name,
		"givenName": name, "surname": "Test", "jobTitle": "Clerk", "department": "Sales"}, &u)
	return u.ID
}

// simGroup creates a tenant security group with members and returns its id.
func (e *env) simGroup(tb testing.TB, name string, members []string) string {
	tb.Helper()
	var g struct {
		ID string `json:"id"`
	}
	e.control(tb, "POST", "/_sim/groups", map[string]any{"displayName": name, "members": members}, &g)
	e.groups[name] = g.ID
	return g.ID
}

// syncedGroup creates a directory group syncing from source.
func (e *env) syncedGroup(tb testing.TB, name, source string, override bool, missing string, members ...string) *tenantlink.Group {
	tb.Helper()
	if members == nil {
		members = []string{}
	}
	g := &tenantlink.Group{Name: name, Roles: []tenantlink.Role{}, Members: members, Sync: &tenantlink.SyncSettings{
		Enabled: true, DataSource: e.ds.ID, SourceGroup: source, Override: override, MissingUsers: missing}}
	must(tb, groupsync.ValidateSettings(context.Background(), e.st, e.dss, e.admin, g.Sync))
	must(tb, e.st.CreateGroup(context.Background(), g))
	return g
}

func (e *env) run(tb testing.TB, g *tenantlink.Group, o groupsync.RunOptions) *groupsync.Run {
	tb.Helper()
	r, err := e.svc.Run(context.Background(), e.admin, g.ID, o)
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	return r
}

// imported returns the directory user imported from object id, or nil.
func (e *env) imported(tb testing.TB, obj string) *tenantlink.User {
	tb.Helper()
	u, err := e.st.GetUserBySource(context.Background(), e.ds.ID, obj)
	if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
		return nil
	}
	must(tb, err)
	return u
}

// members returns the group's members as emails, sorted by the store.
func (e *env) memberEmails(tb testing.TB, g *tenantlink.Group) []string {
	tb.Helper()
	got, err := e.st.GetGroup(context.Background(), g.ID)
	must(tb, err)
	var out []string
	for _, id := range got.Members {
		u, err := e.st.GetUser(context.Background(), id)
		must(tb, err)
		out = append(out, u.Email)
	}
	slices.Sort(out)
	return out
}

// snapshot is the directory as a comparable value.
func (e *env) snapshot(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	us, err := e.st.ListUsers(ctx, store.UserFilter{})
	must(tb, err)
	gs, err := e.st.ListGroups(ctx)
	must(tb, err)
	b, err := json.Marshal(struct {
		U []*tenantlink.User
		G []*tenantlink.Group
	}{us, gs})
	must(tb, err)
	return string(b)
}

func upn(e *env, local string) string { return fmt.Sprintf("%s@%s", local, e.facts.TenantDomain) }
