package apitest

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"

	"github.com/tenantlink/tenantlink/internal/testenv"
)

// auditMark remembers how long the audit log was, so that a step's new
// entries can be checked.
type auditMark struct {
	admin *client
	n     int
}

func markAudit(tb testing.TB, admin *client) auditMark {
	tb.Helper()
	return auditMark{admin: admin, n: len(audit(tb, admin))}
}

// wantNew checks that an entry for target with action and outcome, whose
// detail contains detail, was appended since the mark.
func (m auditMark) wantNew(tb testing.TB, target, action, outcome, detail string) {
	tb.Helper()
	all := audit(tb, m.admin)
	fresh := all[:len(all)-m.n]
	for _, e := range fresh {
		if e.Target == target && e.Action == action && e.Outcome == outcome && strings.Contains(e.Detail, detail) {
			return
		}
	}
	var got []string
	for _, e := range fresh {
		got = append(got, fmt.Sprintf("%s %s %s %q", e.Action, e.Target, e.Outcome, e.Detail))
	}
	tb.Errorf("audit: no new entry %s %s %s containing %q; new entries:\n%s", action, target, outcome, detail, strings.Join(got, "\n"))
}

// wantStatus reads the data source and checks its status and message.
func wantStatus(tb testing.TB, c *client, id, status, msgContains string) dataSource {
	tb.Helper()
	ds := c.GetDataSource(id)
	if ds.Status != status || !strings.Contains(ds.StatusMessage, msgContains) {
		tb.Errorf("data source status = %q (%q), want %q with a message containing %q", ds.Status, ds.StatusMessage, status, msgContains)
	}
	return ds
}

// wantGauge checks /metrics against the statuses the API lists.
func wantGauge(tb testing.TB, e *env, admin *client, want map[string]float64) {
	tb.Helper()
	got := statusGauge(tb, e)
	for _, st := range []tenantlink.Status{tenantlink.StatusIncomplete, tenantlink.StatusReady, tenantlink.StatusTestFailed, tenantlink.StatusReauthorize} {
		if got[string(st)] != want[string(st)] {
			tb.Errorf("tenantlink_datasources{status=%q} = %v, want %v (all: %v)", st, got[string(st)], want[string(st)], got)
		}
	}
}

func TestStatusTransitions(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testStatusTransitions(t, backend) })
	}
}

func testStatusTransitions(t *testing.T, backend string) {
	e := testenv.New(t, testenv.Options{Backend: backend})
	admin := e.SignIn(t, adminEmail, password)
	token := admin.NewToken()
	f := e.Facts

	ds := admin.CreateDataSource("Contoso", nil)
	target := "datasource:" + ds.ID
	if ds.Status != "incomplete" || ds.Settings.AuthMode != "delegated" || ds.Settings.ReadWrite || ds.AuthorizedAt != nil {
		t.Fatalf("new data source = %+v, want incomplete, delegated, read-only, unauthorized", ds)
	}
	wantGauge(t, e, admin, map[string]float64{"incomplete": 1})

	t.Run("test before authorization", func(t *testing.T) {
		admin := admin.In(t)
		var res struct {
			OK      bool
			Message string
		}
		admin.Must(200, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, &res)
		if res.OK || !strings.Contains(res.Message, "Authorize") {
			t.Errorf("test = %+v, want not ok, saying to authorize", res)
		}
		wantStatus(t, admin, ds.ID, "incomplete", "Authorize")
	})

	t.Run("non-administrator before any consent", func(t *testing.T) {
		admin := admin.In(t)
		m := markAudit(t, admin)
		cb := e.Authorize(admin, ds.ID, f.MemberUser, f.MemberPassword)
		if cb.OK || !strings.Contains(cb.Message, "not an administrator") {
			t.Errorf("callback = %+v, want a refusal saying the account is not an administrator", cb)
		}
		wantStatus(t, admin, ds.ID, "incomplete", "Authorization failed: ")
		m.wantNew(t, target, "datasource.authorize", "failed", "not an administrator")
	})

	var authorizedAt time.Time
	t.Run("authorize", func(t *testing.T) {
		admin := admin.In(t)
		m := markAudit(t, admin)
		before := e.Clock.Now()
		cb := e.Authorize(admin, ds.ID, f.AdminUser, f.AdminPassword)
		if !cb.OK || cb.Message != "Connection test succeeded" || cb.DataSource == nil || cb.DataSource.Status != "ready" {
			t.Fatalf("callback = %+v, want ok, Connection test succeeded, ready", cb)
		}
		got := wantStatus(t, admin, ds.ID, "ready", "Connection test succeeded")
		if !strings.HasPrefix(got.AuthorizedBy, f.AdminUser) {
			t.Errorf("authorizedBy = %q, want the Microsoft administrator %s", got.AuthorizedBy, f.AdminUser)
		}
		if got.AuthorizedAt == nil || got.AuthorizedAt.Before(before.Add(-time.Second)) || got.AuthorizedAt.After(e.Clock.Now().Add(time.Second)) {
			t.Fatalf("authorizedAt = %v, want about %v", got.AuthorizedAt, before)
		}
		authorizedAt = *got.AuthorizedAt
		if want := authorizedAt.AddDate(0, 0, 180); got.ReauthorizeBy == nil || got.ReauthorizeBy.Sub(want).Abs() > time.Second {
			t.Errorf("reauthorizeBy = %v, want %v (180 days after authorization)", got.ReauthorizeBy, want)
		}
		if got.ReminderDue {
			t.Error("reminderDue is true right after authorization")
		}
		m.wantNew(t, target, "datasource.authorize", "ok", "by="+f.AdminUser)
		m.wantNew(t, target, "datasource.test", "ok", `status "ready"`)
		wantGauge(t, e, admin, map[string]float64{"ready": 1})
	})

	t.Run("callback page in a browser", func(t *testing.T) {
		admin := admin.In(t)
		// The same outcome as HTML, the way the popup shows it; a used
		// state cannot be replayed.
		loc := e.SignInAtMicrosoft(admin, ds.ID, f.AdminUser, f.AdminPassword)
		r := admin.Do("GET", loc.RequestURI(), nil, "Accept", "text/html")
		body := html.UnescapeString(string(r.Body))
		if r.Status != 200 || !strings.Contains(body, "Authorization complete") || !strings.Contains(body, "Connection test succeeded") {
			t.Errorf("callback page = %d %s, want Authorization complete and the test message", r.Status, body)
		}
		r = admin.Do("GET", loc.RequestURI(), nil, "Accept", "application/json")
		var cb callback
		r.Decode(t, &cb)
		if cb.OK || !strings.Contains(cb.Message, "already used") {
			t.Errorf("replayed callback = %+v, want a refusal saying the answer was already used", cb)
		}
		wantStatus(t, admin, ds.ID, "ready", "")
	})

	t.Run("reminder when the date nears", func(t *testing.T) {
		token := token.In(t)
		got := token.GetDataSource(ds.ID)
		d := got.ReauthorizeBy.Sub(e.Clock.Now()) - 10*24*time.Hour
		e.Clock.Advance(d)
		defer e.Clock.Advance(-d)
		// Sessions last 12 hours on this clock: the token still works.
		if got := token.GetDataSource(ds.ID); !got.ReminderDue {
			t.Errorf("reminderDue = false ten days before %v", got.ReauthorizeBy)
		}
		var list struct{ Value []dataSource }
		token.Must(200, "GET", "/api/v1/datasources", nil, &list)
		if len(list.Value) != 1 || !list.Value[0].ReminderDue {
			t.Errorf("list = %+v, want the data source with reminderDue", list.Value)
		}
	})

	t.Run("read/write after a read-only authorization", func(t *testing.T) {
		admin := admin.In(t)
		m := markAudit(t, admin)
		var got dataSource
		admin.Must(200, "PATCH", "/api/v1/datasources/"+ds.ID, map[string]any{"settings": map[string]any{"readWrite": true}}, &got)
		if got.Status != "re-authorization required" || !strings.Contains(got.StatusMessage, "re-authorize") {
			t.Errorf("after turning read/write on: %q (%q), want re-authorization required", got.Status, got.StatusMessage)
		}
		m.wantNew(t, target, "datasource.update", "ok", `status "ready"→"re-authorization required"`)
		// The grant still works, but a test does not make it ready.
		admin.Must(200, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, nil)
		wantStatus(t, admin, ds.ID, "re-authorization required", "")
		wantGauge(t, e, admin, map[string]float64{"re-authorization required": 1})

		cb := e.Authorize(admin, ds.ID, f.AdminUser, f.AdminPassword)
		if !cb.OK {
			t.Fatalf("re-authorize with write scopes: %+v", cb)
		}
		wantStatus(t, admin, ds.ID, "ready", "Connection test succeeded")
		wantGauge(t, e, admin, map[string]float64{"ready": 1})
	})

	t.Run("grant revoked", func(t *testing.T) {
		admin := admin.In(t)
		m := markAudit(t, admin)
		e.SimControl(t, "POST", "/_sim/revoke", map[string]string{"user": f.AdminUser})
		var res struct {
			OK      bool
			Message string
		}
		admin.Must(200, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, &res)
		if res.OK || !strings.Contains(res.Message, "AADSTS") {
			t.Errorf("test after revocation = %+v, want a refusal naming Microsoft's reason", res)
		}
		wantStatus(t, admin, ds.ID, "re-authorization required", "Re-Authorize")
		m.wantNew(t, target, "datasource.test", "failed", `status "re-authorization required"`)
		wantGauge(t, e, admin, map[string]float64{"re-authorization required": 1})
		if cb := e.Authorize(admin, ds.ID, f.AdminUser, f.AdminPassword); !cb.OK {
			t.Fatalf("re-authorize after revocation: %+v", cb)
		}
		wantStatus(t, admin, ds.ID, "ready", "")
	})

	t.Run("non-administrator after tenant-wide consent", func(t *testing.T) {
		admin := admin.In(t)
		other := admin.CreateDataSource("Contoso member", nil)
		cb := e.Authorize(admin, other.ID, f.MemberUser, f.MemberPassword)
		if cb.OK || !strings.Contains(cb.Message, "administrator") {
			t.Errorf("callback = %+v, want a refusal naming the missing administrator role", cb)
		}
		wantStatus(t, admin, other.ID, "incomplete", "")
		admin.Must(http.StatusNoContent, "DELETE", "/api/v1/datasources/"+other.ID, nil, nil)
	})

	t.Run("application mode", func(t *testing.T) {
		admin := admin.In(t)
		m := markAudit(t, admin)
		app := admin.CreateDataSource("Contoso app-only", map[string]any{"authMode": "application", "readWrite": true})
		cb := e.Authorize(admin, app.ID, f.AdminUser, f.AdminPassword)
		if !cb.OK || cb.Message != "Connection test succeeded" {
			t.Fatalf("admin consent callback = %+v, want ok", cb)
		}
		got := wantStatus(t, admin, app.ID, "ready", "Connection test succeeded")
		if got.AuthorizedBy == "" || got.ReauthorizeBy != nil || got.ReminderDue {
			t.Errorf("application data source: authorizedBy %q, reauthorizeBy %v; want set, none (no refresh token expires)", got.AuthorizedBy, got.ReauthorizeBy)
		}
		m.wantNew(t, "datasource:"+app.ID, "datasource.test", "ok", `status "ready"`)
		wantGauge(t, e, admin, map[string]float64{"ready": 2})
	})

	t.Run("wrong client secret", func(t *testing.T) {
		e.Close()
		bad := testenv.New(t, testenv.Options{Reopen: e, ClientSecret: "not-the-client-secret"})
		admin := bad.SignIn(t, adminEmail, password)
		m := markAudit(t, admin)
		var res struct {
			OK      bool
			Message string
		}
		admin.Must(200, "POST", "/api/v1/datasources/"+ds.ID+"/test", nil, &res)
		if res.OK || !strings.Contains(res.Message, "client secret") {
			t.Errorf("test with a wrong client secret = %+v, want a failure naming the client secret", res)
		}
		wantStatus(t, admin, ds.ID, "test failed", "client secret")
		m.wantNew(t, target, "datasource.test", "failed", `status "test failed"`)
		wantGauge(t, bad, admin, map[string]float64{"ready": 1, "test failed": 1})

		// Authorizing with the wrong secret fails at the code redemption
		// and stores nothing.
		fresh := admin.CreateDataSource("Contoso again", nil)
		cb := bad.Authorize(admin, fresh.ID, f.AdminUser, f.AdminPassword)
		if cb.OK || !strings.Contains(cb.Message, "client secret") {
			t.Errorf("authorize with a wrong client secret = %+v, want a failure naming the client secret", cb)
		}
		if got := wantStatus(t, admin, fresh.ID, "incomplete", ""); got.AuthorizedAt != nil {
			t.Errorf("authorizedAt = %v after a failed authorization, want none", got.AuthorizedAt)
		}
	})
}
