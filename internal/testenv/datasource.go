package testenv

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/m365sim/identity/identitytest"
)

// DataSource is a data source as the API shows it.
type DataSource struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	StatusMessage string     `json:"statusMessage"`
	Settings      Settings   `json:"settings"`
	Account       string     `json:"account"`
	Modified      time.Time  `json:"modified"`
	ModifiedBy    string     `json:"modifiedBy"`
	AuthorizedBy  string     `json:"authorizedBy"`
	AuthorizedAt  *time.Time `json:"authorizedAt"`
	ReauthorizeBy *time.Time `json:"reauthorizeBy"`
	ReminderDue   bool       `json:"reminderDue"`
}

// Settings are an Office 365 data source's settings as the API shows them.
type Settings struct {
	ReadWrite       bool   `json:"readWrite"`
	SingleSignOn    bool   `json:"singleSignOn"`
	AuthMode        string `json:"authMode"`
	ReauthorizeDays int    `json:"reauthorizeDays"`
}

// CreateDataSource creates an Office 365 data source with settings (nil:
// the defaults) as c.
func (c *Client) CreateDataSource(name string, settings map[string]any) DataSource {
	c.tb.Helper()
	body := map[string]any{"name": name, "type": tenantlink.ConnectorOffice365}
	if settings != nil {
		body["settings"] = settings
	}
	var ds DataSource
	c.Must(http.StatusCreated, "POST", "/api/v1/datasources", body, &ds)
	return ds
}

// GetDataSource reads a data source as c.
func (c *Client) GetDataSource(id string) DataSource {
	c.tb.Helper()
	var ds DataSource
	c.Must(http.StatusOK, "GET", "/api/v1/datasources/"+id, nil, &ds)
	return ds
}

// Callback is the outcome /oauth/callback reports.
type Callback struct {
	OK         bool        `json:"ok"`
	Message    string      `json:"message"`
	DataSource *DataSource `json:"datasource"`
}

// Authorize runs the whole browser authorization of data source id:
// POST …/authorize as c, Microsoft's sign-in pages as msUser in a fresh
// browser (delegated sign-in or admin consent, as the data source's mode
// asks), then the return to /oauth/callback with c's credentials, asking
// for JSON.
func (e *Env) Authorize(c *Client, id, msUser, msPassword string) Callback {
	c.tb.Helper()
	loc := e.SignInAtMicrosoft(c, id, msUser, msPassword)
	r := c.Do("GET", loc.RequestURI(), nil, "Accept", "application/json")
	if r.Status != http.StatusOK {
		c.tb.Fatalf("GET %s = %s, want 200", loc.Path, r)
	}
	var out Callback
	r.Decode(c.tb, &out)
	return out
}

// SignInAtMicrosoft starts an authorization as c and walks the sign-in
// pages, returning tenantlink's callback URL with Microsoft's answer.
func (e *Env) SignInAtMicrosoft(c *Client, id, msUser, msPassword string) *url.URL {
	c.tb.Helper()
	var start struct{ URL string }
	c.Must(http.StatusOK, "POST", "/api/v1/datasources/"+id+"/authorize", nil, &start)
	if !strings.HasPrefix(start.URL, e.Facts.URL+"/") {
		c.tb.Fatalf("authorize URL %q is not at the simulator %s", start.URL, e.Facts.URL)
	}
	loc := MicrosoftSignIn(c.tb, start.URL, msUser, msPassword)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.URL+"/oauth/callback" {
		c.tb.Fatalf("sign-in ended at %s, want %s/oauth/callback", got, e.URL)
	}
	return loc
}

// AuthorizedDataSource creates an Office 365 data source as c and
// authorizes it as the simulated tenant's administrator, failing the test
// unless the authorization succeeds; it returns the data source as read
// afterwards.
func (e *Env) AuthorizedDataSource(c *Client, name string, settings map[string]any) DataSource {
	c.tb.Helper()
	ds := c.CreateDataSource(name, settings)
	if cb := e.Authorize(c, ds.ID, e.Facts.AdminUser, e.Facts.AdminPassword); !cb.OK {
		c.tb.Fatalf("authorize %s: %s", name, cb.Message)
	}
	return c.GetDataSource(ds.ID)
}

// MicrosoftSignIn walks Microsoft's sign-in pages from authURL in a fresh
// browser and returns where they send the browser back to.
func MicrosoftSignIn(tb testing.TB, authURL, user, password string) *url.URL {
	tb.Helper()
	hc := NewHTTPClient(tb)
	hc.CheckRedirect = nil
	loc, err := identitytest.SignIn(hc, authURL, user, password)
	if err != nil {
		tb.Fatalf("Microsoft sign-in as %s: %v", user, err)
	}
	return loc
}

// RestrictUsers makes only ids (local user or group ids) the connection
// users of a data source, with no connection administrators.
func (e *Env) RestrictUsers(tb testing.TB, dsID string, ids ...string) {
	tb.Helper()
	if ids == nil {
		ids = []string{}
	}
	e.Admin.In(tb).Must(http.StatusOK, "PUT", "/api/v1/datasources/"+dsID+"/security", map[string]any{"admins": []string{}, "users": ids}, nil)
}

// SimControl calls one of the simulator's /_sim/ endpoints (path may
// carry a query), failing the test on an error status.
func (e *Env) SimControl(tb testing.TB, method, path string, body any) []byte {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(method, e.Facts.URL+path, bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		tb.Fatalf("%s %s: status %d %s", method, path, resp.StatusCode, out.Bytes())
	}
	return out.Bytes()
}

// Audit is the whole audit log, newest first, read by the Administrator.
func (e *Env) Audit(tb testing.TB) []tenantlink.AuditEntry {
	tb.Helper()
	var out struct{ Value []tenantlink.AuditEntry }
	e.Admin.In(tb).Must(http.StatusOK, "GET", "/api/v1/audit?limit=1000", nil, &out)
	return out.Value
}
