package m365sim_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tenantlink/tenantlink/m365sim"
)

func TestResetAndSecondTenant(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 12, Groups: 2, Seed: 4})
	tok := appToken(t, s, allRoles...)
	base := s.URL() + "/v1.0"
	count := func() string {
		t.Helper()
		return string(call(t, "GET", base+"/users/$count", tok, nil, "ConsistencyLevel", "eventual").raw)
	}
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "extra"}), 201)
	if got, want := count(), "13"; got != want {
		t.Errorf("users after add = %s, want %s", got, want)
	}
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/reset", "", nil), 204)
	tok = appToken(t, s, allRoles...) // reset forgot the consent
	if got, want := count(), "12"; got != want {
		t.Errorf("users after reset = %s, want %s", got, want)
	}

	tf, err := s.AddTenant("fabrikam.onmicrosoft.com", 7, 99)
	if err != nil {
		t.Fatal(err)
	}
	if tf.TenantID == s.Facts().TenantID || tf.AdminUser != "admin@fabrikam.onmicrosoft.com" {
		t.Errorf("second tenant = %+v", tf)
	}
	if _, err := s.AddTenant("fabrikam.onmicrosoft.com", 7, 100); err == nil {
		t.Errorf("adding the same domain twice succeeded, want an error")
	}
	// Discovery answers for the second tenant on the same host.
	r := call(t, "GET", s.URL()+"/"+tf.TenantID+"/v2.0/.well-known/openid-configuration", "", nil)
	mustStatus(t, r, 200)
}

func TestControlRefusesNonLoopback(t *testing.T) {
	s, err := m365sim.New(m365sim.Options{Users: 3, Groups: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remote string
		want   int
	}{
		{"127.0.0.1:5555", http.StatusOK},
		{"[::1]:5555", http.StatusOK},
		{"192.0.2.10:5555", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.remote, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/_sim/stats", nil)
			req.RemoteAddr = tc.remote
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

// TestControlUnknownTargets: every control call naming a tenant, user or
// group that does not exist answers 404 and changes nothing.
func TestControlUnknownTargets(t *testing.T) {
	s := mustStart(t, m365sim.Options{Users: 4, Groups: 1, Seed: 5})
	f := s.Facts()
	before := s.Stats()
	const missing = "00000000-0000-0000-0000-000000000000"
	tests := []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/_sim/users/" + missing, map[string]any{"displayName": "x"}},
		{"DELETE", "/_sim/users/" + missing, nil},
		{"PATCH", "/_sim/groups/" + missing, map[string]any{"displayName": "x"}},
		{"DELETE", "/_sim/groups/" + missing, nil},
		{"POST", "/_sim/groups/" + missing + "/members/" + f.AdminUser, nil},
		{"DELETE", "/_sim/groups/" + missing + "/members/" + f.AdminUser, nil},
		{"POST", "/_sim/users?tenant=nowhere.example", map[string]any{"userPrincipalName": "x"}},
		{"PATCH", "/_sim/users/" + f.AdminUser + "?tenant=nowhere.example", map[string]any{"displayName": "x"}},
		{"DELETE", "/_sim/groups/" + missing + "?tenant=nowhere.example", nil},
		{"POST", "/_sim/groups/" + missing + "/members/" + f.AdminUser + "?tenant=nowhere.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			mustStatus(t, call(t, tt.method, s.URL()+tt.path, "", tt.body), http.StatusNotFound)
		})
	}
	if after := s.Stats(); after.Writes != before.Writes {
		t.Errorf("writes after refused control calls = %d, want %d", after.Writes, before.Writes)
	}
}
