package m365sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/m365sim"
	"golang.org/x/oauth2/clientcredentials"
)

func mustStart(tb testing.TB, o m365sim.Options) *m365sim.Server {
	tb.Helper()
	s, err := m365sim.New(o)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// appToken runs the client credentials grant with golang.org/x/oauth2
// after granting the app the given application permissions.
func appToken(tb testing.TB, s *m365sim.Server, roles ...string) string {
	tb.Helper()
	f := s.Facts()
	s.Identity().GrantConsent(f.TenantID, f.ClientID, nil, roles)
	cc := clientcredentials.Config{
		ClientID: f.ClientID, ClientSecret: f.ClientSecret,
		TokenURL: f.URL + "/" + f.TenantID + "/oauth2/v2.0/token",
		Scopes:   []string{"https://graph.microsoft.com/.default"},
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		tb.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

var allRoles = []string{"User.Read.All", "User.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All",
	"Group.ReadWrite.All", "Organization.Read.All", "LicenseAssignment.ReadWrite.All"}

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// call sends one Graph (or control) request with plain net/http.
func call(tb testing.TB, method, url, token string, body any, headers ...string) response {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, url, raw, err)
		}
	}
	return r
}

func (r response) errorCode() (code, message string) {
	e, _ := r.body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

func (r response) values() []map[string]any {
	v, _ := r.body["value"].([]any)
	out := make([]map[string]any, 0, len(v))
	for _, x := range v {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func mustStatus(tb testing.TB, r response, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("status = %d, want %d; body %s", r.status, want, r.raw)
	}
}
