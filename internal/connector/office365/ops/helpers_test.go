package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
	"github.com/tenantlink/tenantlink/m365sim"
)

// allRoles are the application permissions docs/SPEC.md §4 asks for
// with "Read and write users & groups" on.
var allRoles = []string{"User.Read.All", "GroupMember.Read.All", "Organization.Read.All", "Group.ReadWrite.All",
	"GroupMember.ReadWrite.All", "User.ReadWrite.All", "LicenseAssignment.ReadWrite.All"}

// tenant is a running simulator with an authorized Graph client.
type tenant struct {
	sim   *m365sim.Server
	facts m365sim.Facts
	g     *graph.Client
}

type tenantOpts struct {
	users, groups int
	roles         []string
	latency       time.Duration
	throttle      bool
	sleep         bool    // really wait on Retry-After (benchmarks)
	timeScale     float64 // m365sim.Options.ThrottleTimeScale
}

// startTenant starts a simulator on loopback and builds the Graph client
// the office365 connector would hand the operations: app-only, through
// the simulator's token endpoint.
func startTenant(tb testing.TB, o tenantOpts) *tenant {
	tb.Helper()
	if o.roles == nil {
		o.roles = allRoles
	}
	sim, err := m365sim.New(m365sim.Options{Users: o.users, Groups: o.groups, Seed: 7, Latency: o.latency, Throttle: o.throttle, ThrottleTimeScale: o.timeScale})
	if err != nil {
		tb.Fatalf("m365sim.New: %v", err)
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { sim.Close() })
	f := sim.Facts()
	sim.Identity().GrantConsent(f.TenantID, f.ClientID, nil, o.roles)
	t := &tenant{sim: sim, facts: f}
	t.g = t.client(o.sleep)
	return t
}

func (t *tenant) client(sleep bool) *graph.Client {
	cfg := graph.Config{}
	if sleep {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			tm := time.NewTimer(d)
			defer tm.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tm.C:
				return nil
			}
		}
	}
	return t.clientWith(cfg)
}

// clientWith builds a Graph client from cfg, adding the simulator's URL,
// the app-only token source and, unless cfg has one, a Sleep that does
// not wait: tests never wait out a Retry-After, the retry logic still runs.
func (t *tenant) clientWith(cfg graph.Config) *graph.Client {
	cc := clientcredentials.Config{
		ClientID: t.facts.ClientID, ClientSecret: t.facts.ClientSecret,
		TokenURL: t.sim.URL() + "/" + t.facts.TenantID + "/oauth2/v2.0/token",
		Scopes:   []string{"https://graph.microsoft.com/.default"},
	}
	cfg.BaseURL, cfg.HTTPClient = t.sim.URL(), cc.Client(context.Background())
	if cfg.Sleep == nil {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	}
	return graph.New(cfg)
}

func (t *tenant) env(readWrite bool) Env {
	return Env{Graph: t.g, ReadWrite: readWrite}
}

// ctl calls one of the simulator's /_sim/ control endpoints.
func (t *tenant) ctl(tb testing.TB, method, path string, body any, out any) {
	tb.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, t.sim.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		tb.Fatalf("%s %s: %s: %s", method, path, resp.Status, b.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatalf("%s %s: decoding: %v", method, path, err)
		}
	}
}

// addUser creates a user through the control endpoint and returns its id.
func (t *tenant) addUser(tb testing.TB, fields map[string]any) string {
	tb.Helper()
	var u struct {
		ID string `json:"id"`
	}
	t.ctl(tb, http.MethodPost, "/_sim/users", fields, &u)
	return u.ID
}

func (t *tenant) addGroup(tb testing.TB, fields map[string]any) string {
	tb.Helper()
	var g struct {
		ID string `json:"id"`
	}
	t.ctl(tb, http.MethodPost, "/_sim/groups", fields, &g)
	return g.ID
}

// upn makes a userPrincipalName in the simulated tenant.
func (t *tenant) upn(alias string) string { return alias + "@" + t.facts.TenantDomain }

// users returns the tenant's users straight from Graph, in its order.
func (t *tenant) users(tb testing.TB) []graph.User {
	tb.Helper()
	var all []graph.User
	err := t.g.ListUsers(context.Background(), graph.Query{}, func(p []graph.User) error {
		all = append(all, p...)
		return nil
	})
	if err != nil {
		tb.Fatalf("ListUsers: %v", err)
	}
	return all
}

// members returns a group's member ids.
func (t *tenant) members(tb testing.TB, groupID string) []string {
	tb.Helper()
	var ids []string
	err := t.g.ListGroupMembers(context.Background(), groupID, graph.Query{Select: []string{"id"}}, func(p []graph.DirectoryObject) error {
		for _, o := range p {
			ids = append(ids, o.ID)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("ListGroupMembers: %v", err)
	}
	return ids
}

// run runs an operation and fails the test on an error.
func run(tb testing.TB, env Env, name string, in map[string]any) []connector.Item {
	tb.Helper()
	items, err := Run(context.Background(), env, name, in)
	if err != nil {
		tb.Fatalf("Run(%s, %v): %v", name, in, err)
	}
	return items
}

// wantCode checks err is a *tenantlink.Error with code and a message
// containing every fragment.
func wantCode(tb testing.TB, err error, code string, fragments ...string) {
	tb.Helper()
	var e *tenantlink.Error
	if !errors.As(err, &e) {
		tb.Fatalf("got error %v (%T), want a *tenantlink.Error %s", err, err, code)
	}
	if e.Code != code {
		tb.Errorf("got code %s (%s), want %s", e.Code, e.Message, code)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Message, f) {
			tb.Errorf("got message %q, want it to contain %q", e.Message, f)
		}
	}
}

// column picks one output of every item.
func column(items []connector.Item, name string) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it[name]
	}
	return out
}

func strs(items []connector.Item, name string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprint(it[name])
	}
	return out
}

func groupRecordFrom(types []string, mail, sec *bool) connector.Item {
	return groupRecord(&graph.Group{ID: "g", GroupTypes: types, MailEnabled: mail, SecurityEnabled: sec})
}

func splitComma(s string) []string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func isUnauthorized(err error) bool { return errors.Is(err, graph.ErrUnauthorized) }

// tokenClient is a plain *http.Client carrying the app-only token, for
// the benchmarks' bare-HTTP floor.
func (t *tenant) tokenClient() *http.Client {
	cc := clientcredentials.Config{
		ClientID: t.facts.ClientID, ClientSecret: t.facts.ClientSecret,
		TokenURL: t.sim.URL() + "/" + t.facts.TenantID + "/oauth2/v2.0/token",
		Scopes:   []string{"https://graph.microsoft.com/.default"},
	}
	return cc.Client(context.Background())
}
