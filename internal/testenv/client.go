package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
)

// Client is one caller of tenantlink: anonymous, a browser session
// (cookie plus CSRF token) or an API token. It never follows redirects, so
// tests see where each answer sends the browser. Failures go to the test
// it was made for; In hands it to a subtest.
type Client struct {
	tb   testing.TB
	Base string
	HC   *http.Client
	// Token is the API token sent as a bearer token, if any.
	Token string
	// CSRF is the session's CSRF token, sent on every unsafe request.
	CSRF string
	// Email and UserID are the signed-in local account's, if any.
	Email, UserID string
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

// Location is the Location header.
func (r Response) Location() string { return r.Header.Get("Location") }

// Decode unmarshals the JSON body into v, failing the test if it is not.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r, err)
	}
}

// ErrorMessage is the message of a {"error":{"message"}} body, or "".
func (r Response) ErrorMessage() string {
	var out struct {
		Error struct{ Message string }
	}
	json.Unmarshal(r.Body, &out)
	return out.Error.Message
}

// APIError is the body of every API refusal.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// APIError decodes the {"error":{"code","message"}} body of r, failing the
// test unless r is exactly that shape with a JSON Content-Type.
func (r Response) APIError(tb testing.TB) APIError {
	tb.Helper()
	var out struct {
		Error *APIError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil || out.Error == nil || out.Error.Code == "" || out.Error.Message == "" {
		tb.Fatalf("body %s is not {\"error\":{\"code\",\"message\"}} (%v)", r, err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("error Content-Type = %q, want application/json", ct)
	}
	return *out.Error
}

// NewHTTPClient is a cookie-keeping client that does not follow redirects.
func NewHTTPClient(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Anonymous is a browser that has not signed in.
func (e *Env) Anonymous(tb testing.TB) *Client {
	tb.Helper()
	return &Client{tb: tb, Base: e.URL, HC: NewHTTPClient(tb)}
}

// SignIn signs in through POST /api/v1/session and returns the session.
func (e *Env) SignIn(tb testing.TB, email, password string) *Client {
	tb.Helper()
	return SignIn(tb, e.URL, email, password)
}

// SignIn signs in to the tenantlink at base; for tenantlinks that Env
// did not start (the demo, subprocesses).
func SignIn(tb testing.TB, base, email, password string) *Client {
	tb.Helper()
	c := &Client{tb: tb, Base: base, HC: NewHTTPClient(tb)}
	r := c.Do("POST", "/api/v1/session", map[string]string{"email": email, "password": password})
	if r.Status != http.StatusOK {
		tb.Fatalf("sign in as %s: %s", email, r)
	}
	var out struct {
		User      tenantlink.User `json:"user"`
		CSRFToken string          `json:"csrfToken"`
	}
	r.Decode(tb, &out)
	if out.CSRFToken == "" || !strings.EqualFold(out.User.Email, email) {
		tb.Fatalf("sign in as %s: answer %s lacks the user or the CSRF token", email, r)
	}
	c.CSRF, c.Email, c.UserID = out.CSRFToken, email, out.User.ID
	return c
}

var loginCSRFField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// LoginCSRF loads the local sign-in form (/login?local=1) and returns the
// token a POST /login must carry, bound to the pre-session cookie c's jar
// now holds.
func (c *Client) LoginCSRF() string {
	c.tb.Helper()
	r := c.Do("GET", "/login?local=1", nil)
	m := loginCSRFField.FindSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		c.tb.Fatalf("GET /login?local=1 = %s: no csrf field", r)
	}
	return string(m[1])
}

// NewToken creates an API token for c's user and returns a client that
// uses only it (no cookies).
func (c *Client) NewToken() *Client {
	c.tb.Helper()
	var out struct{ Token string }
	c.Must(http.StatusCreated, "POST", "/api/v1/tokens", map[string]string{"name": "test"}, &out)
	if !strings.HasPrefix(out.Token, "tl_") {
		c.tb.Fatalf("token %q lacks the tl_ prefix", out.Token)
	}
	t := TokenClient(c.tb, c.Base, out.Token)
	t.Email, t.UserID = c.Email, c.UserID
	return t
}

// TokenClient is a client of the tenantlink at base that sends only the
// API token (no cookies).
func TokenClient(tb testing.TB, base, token string) *Client {
	hc := NewHTTPClient(tb)
	hc.Jar = nil
	return &Client{tb: tb, Base: base, HC: hc, Token: token}
}

// In returns c reporting failures to tb (a subtest).
func (c *Client) In(tb testing.TB) *Client {
	c2 := *c
	c2.tb = tb
	return &c2
}

// WithoutCSRF is c without its CSRF token (same cookie).
func (c *Client) WithoutCSRF() *Client {
	c2 := *c
	c2.CSRF = ""
	return &c2
}

// Do sends a request. body is JSON-encoded unless it is a string or
// []byte (sent as is, as JSON) or url.Values (a form). path may be a full
// URL on c's base. headers are name, value pairs; a Content-Type there
// replaces the default.
func (c *Client) Do(method, path string, body any, headers ...string) Response {
	c.tb.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.Base+strings.TrimPrefix(path, c.Base), rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.CSRF != "" && method != "GET" && method != "HEAD" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.HC.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Must is Do failing the test unless the status is want; out, when not
// nil, receives the decoded body.
func (c *Client) Must(want int, method, path string, body, out any) Response {
	c.tb.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.tb.Fatalf("%s %s = %s, want status %d", method, path, r, want)
	}
	if out != nil {
		r.Decode(c.tb, out)
	}
	return r
}

// Get is GET path, returning the body, failing the test unless 200.
func (c *Client) Get(path string) string {
	c.tb.Helper()
	return string(c.Must(http.StatusOK, "GET", path, nil, nil).Body)
}
