package m365sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
	"github.com/tenantlink/tenantlink/m365sim/identity"
	"golang.org/x/oauth2/clientcredentials"
)

// listAll follows @odata.nextLink and returns every item.
func listAll(tb testing.TB, link, tok string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for link != "" {
		r := call(tb, "GET", link, tok, nil)
		mustStatus(tb, r, 200)
		out = append(out, r.values()...)
		link, _ = r.body["@odata.nextLink"].(string)
	}
	return out
}

// tenantView is what a client can see of a tenant: users with their
// licences, groups with their members, and the SKUs with consumed units.
type tenantView struct {
	Users   []map[string]any
	Groups  []map[string]any
	Members map[string][]string // group id → member ids
	SKUs    []map[string]any
}

func observe(tb testing.TB, s *m365sim.Server, tok string) tenantView {
	tb.Helper()
	base := s.URL() + "/v1.0"
	v := tenantView{Members: map[string][]string{}}
	v.Users = listAll(tb, base+"/users?$select=id,userPrincipalName,displayName,department,accountEnabled,usageLocation,assignedLicenses,createdDateTime", tok)
	v.Groups = listAll(tb, base+"/groups", tok)
	for _, g := range v.Groups {
		id := g["id"].(string)
		for _, m := range listAll(tb, base+"/groups/"+id+"/members?$select=id", tok) {
			v.Members[id] = append(v.Members[id], m["id"].(string))
		}
	}
	v.SKUs = listAll(tb, base+"/subscribedSkus", tok)
	return v
}

// consents is the identity state a restart must keep, without the parts
// that are opaque (hashes) or checked elsewhere (the key).
type consents struct {
	Apps         []identity.App
	Consents     []identity.ConsentState
	UserConsents []identity.UserConsentState
	Grants       int
}

func consentsOf(tb testing.TB, s *m365sim.Server) consents {
	tb.Helper()
	st, err := s.Identity().State()
	if err != nil {
		tb.Fatalf("identity state: %v", err)
	}
	return consents{Apps: st.Apps, Consents: st.Consents, UserConsents: st.UserConsents, Grants: len(st.RefreshGrants)}
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	redirect := "http://127.0.0.1:9/callback"
	s1 := mustStart(t, m365sim.Options{Users: 30, Groups: 4, Seed: 5, StatePath: path, RedirectURIs: []string{redirect}})
	f1 := s1.Facts()
	tok := appToken(t, s1, allRoles...)
	base, ctl := s1.URL()+"/v1.0", s1.URL()+"/_sim"

	// Change every kind of thing the file keeps.
	before := observe(t, s1, tok)
	created := call(t, "POST", ctl+"/users", "", map[string]any{"userPrincipalName": "before.restart", "displayName": "Before Restart", "usageLocation": "US"})
	mustStatus(t, created, 201)
	newUser := created.body["id"].(string)
	mustStatus(t, call(t, "PATCH", base+"/users/"+before.Users[3]["id"].(string), tok, map[string]any{"department": "Persisted"}), 204)
	mustStatus(t, call(t, "DELETE", ctl+"/users/"+before.Users[4]["id"].(string), "", nil), 204)
	gid := before.Groups[0]["id"].(string)
	mustStatus(t, call(t, "POST", base+"/groups/"+gid+"/members/$ref", tok, map[string]any{"@odata.id": base + "/directoryObjects/" + newUser}), 204)
	sku := before.SKUs[2]["skuId"].(string)
	mustStatus(t, call(t, "POST", base+"/users/"+newUser+"/assignLicense", tok, map[string]any{"addLicenses": []any{map[string]any{"skuId": sku}}, "removeLicenses": []any{}}), 200)
	ng := call(t, "POST", base+"/groups", tok, map[string]any{"displayName": "Made before restart", "mailNickname": "madebefore", "mailEnabled": false, "securityEnabled": true})
	mustStatus(t, ng, 201)
	delegatedToken(t, s1, f1.MemberUser, f1.MemberPassword, "openid", "offline_access", "User.Read")

	want, wantConsents := observe(t, s1, tok), consentsOf(t, s1)
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Seeding options differ on purpose: the file wins.
	s2 := mustStart(t, m365sim.Options{Users: 3, Groups: 1, Seed: 99, StatePath: path})
	f2 := s2.Facts()
	f1.URL, f2.URL = "", ""
	if diff := cmp.Diff(f2, f1); diff != "" {
		t.Errorf("facts after restart (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(consentsOf(t, s2), wantConsents); diff != "" {
		t.Errorf("apps and consents after restart (-got +want):\n%s", diff)
	}
	// The app's consent came back: client credentials get their roles
	// without granting anything again.
	cc := clientcredentials.Config{
		ClientID: f2.ClientID, ClientSecret: f2.ClientSecret,
		TokenURL: s2.URL() + "/" + f2.TenantID + "/oauth2/v2.0/token",
		Scopes:   []string{"https://graph.microsoft.com/.default"},
	}
	tok2, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials after restart: %v", err)
	}
	got := observe(t, s2, tok2.AccessToken)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("tenant after restart (-got +want):\n%s", diff)
	}
	if len(got.Users) != 30 {
		t.Errorf("users after restart = %d, want 30 (29 seeded left and one created)", len(got.Users))
	}

	// New objects continue the id stream instead of repeating it.
	again := call(t, "POST", s2.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "after.restart"})
	mustStatus(t, again, 201)
	if id := again.body["id"].(string); id == newUser {
		t.Errorf("user created after restart got id %s, the id of the one created before", id)
	}
}

func TestStateTokensSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s1 := mustStart(t, m365sim.Options{Users: 10, Groups: 1, Seed: 6, StatePath: path, RedirectURIs: []string{"http://127.0.0.1:9/callback"}})
	f := s1.Facts()
	tok := delegatedToken(t, s1, f.AdminUser, f.AdminPassword, "openid", "profile", "offline_access", "User.Read.All")
	keys1 := call(t, "GET", s1.URL()+"/"+f.TenantID+"/discovery/v2.0/keys", "", nil)
	mustStatus(t, keys1, 200)
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := mustStart(t, m365sim.Options{StatePath: path})
	keys2 := call(t, "GET", s2.URL()+"/"+f.TenantID+"/discovery/v2.0/keys", "", nil)
	mustStatus(t, keys2, 200)
	// The same key and certificate; only the issuer's host differs.
	if diff := cmp.Diff(string(keys2.raw), strings.ReplaceAll(string(keys1.raw), s1.URL(), s2.URL())); diff != "" {
		t.Errorf("JWKS after restart (-got +want):\n%s", diff)
	}
	// An access token issued before the restart still verifies.
	me := call(t, "GET", s2.URL()+"/v1.0/me", tok.AccessToken, nil)
	mustStatus(t, me, 200)
	if me.body["userPrincipalName"] != f.AdminUser {
		t.Errorf("/me with the old access token = %v, want %s", me.body["userPrincipalName"], f.AdminUser)
	}
	// The refresh token issued before the restart redeems after it.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {f.ClientID}, "client_secret": {f.ClientSecret}}
	r := postForm(t, s2.URL()+"/"+f.TenantID+"/oauth2/v2.0/token", form)
	mustStatus(t, r, 200)
	at, _ := r.body["access_token"].(string)
	rt, _ := r.body["refresh_token"].(string)
	if at == "" || rt == "" {
		t.Fatalf("refresh after restart answered %s, want new access and refresh tokens", r.raw)
	}
	mustStatus(t, call(t, "GET", s2.URL()+"/v1.0/me", at, nil), 200)

	// The file keeps refresh tokens only as hashes.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok.RefreshToken, rt} {
		if strings.Contains(string(b), secret) {
			t.Errorf("state file holds a refresh token in clear")
		}
	}
}

func postForm(tb testing.TB, u string, form url.Values) response {
	tb.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		tb.Fatalf("POST %s: decode %q: %v", u, raw, err)
	}
	return r
}

func TestStateSavedAfterChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s := mustStart(t, m365sim.Options{Users: 5, Groups: 1, Seed: 7, StatePath: path})
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no state file after New: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600: it holds the signing key and secrets", info.Mode().Perm())
	}
	mustStatus(t, call(t, "POST", s.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "saved.soon"}), 201)
	// Saved on its own, debounced: wait for it rather than for a time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "saved.soon@") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new user is not in the state file 10 s after it was created")
		}
		time.Sleep(20 * time.Millisecond)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff(names, []string{"state.json"}); diff != "" {
		t.Errorf("files in the folder (-got +want): %s", diff)
	}
}

func TestStateCorruptFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	s, err := m365sim.New(m365sim.Options{Users: 3, Groups: 1, Seed: 8, StatePath: good})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string // written to the file; "" makes the path a folder
		want    string
	}{
		{"not JSON", "this is not a state file", "not a simulator state"},
		{"truncated", string(valid[:len(valid)/2]), "not a simulator state"},
		{"empty", " ", "not a simulator state"},
		{"trailing data", string(valid) + "{}", "data after the state object"},
		{"newer version", strings.Replace(string(valid), `"version":2`, `"version":7`, 1), "format version 7 was written by a newer tenantlink"},
		// A newer format may add fields: the version is what to report.
		{"newer version, new field", strings.Replace(string(valid), `"version":2`, `"version":3,"extra":true`, 1), "format version 3 was written by a newer tenantlink, and this one reads versions 1 to 2"},
		{"version 0", strings.Replace(string(valid), `"version":2`, `"version":0`, 1), "format version 0, want 1 to 2"},
		{"no version", strings.Replace(string(valid), `"version":2,`, ``, 1), "format version 0, want 1 to 2"},
		{"unknown field", strings.Replace(string(valid), `"version":2`, `"version":2,"extra":true`, 1), "unknown field"},
		{"no tenants", `{"version":2,"tenants":[]}`, "no tenants"},
		{"member is not a user", strings.Replace(string(valid), `"members":["`, `"members":["00000000-0000-4000-8000-000000000000","`, 1), "who is neither a user nor a group"},
		{"bad signing key", strings.Replace(string(valid), `"key":"`, `"key":"AAAA`, 1), "signing key"},
		{"unreadable", "", "read state file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if tt.content == "" {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := m365sim.New(m365sim.Options{Users: 3, Seed: 8, StatePath: path})
			if err == nil {
				s.Close()
				t.Fatalf("New loaded a broken state file; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %q, want it to name %s and say %q", err, path, tt.want)
			}
			if tt.content != "" {
				b, _ := os.ReadFile(path)
				if string(b) != tt.content {
					t.Errorf("the broken file was overwritten; it must stay for the person to repair")
				}
			}
		})
	}
}

func TestStateDeltaAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s1 := mustStart(t, m365sim.Options{Users: 12, Groups: 1, Seed: 9, StatePath: path})
	tok := appToken(t, s1, allRoles...)
	mustStatus(t, call(t, "POST", s1.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "first.change"}), 201)
	_, link := syncDelta(t, s1.URL()+"/v1.0/users/delta?$select=userPrincipalName", tok)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := mustStart(t, m365sim.Options{StatePath: path})
	tok2 := appToken(t, s2, allRoles...)
	mustStatus(t, call(t, "POST", s2.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "after.restart"}), 201)
	items, _ := syncDelta(t, strings.Replace(link, s1.URL(), s2.URL(), 1), tok2)
	var upns []string
	for _, it := range items {
		upns = append(upns, it["userPrincipalName"].(string))
	}
	if diff := cmp.Diff(upns, []string{"after.restart@contoso.onmicrosoft.com"}); diff != "" {
		t.Errorf("delta round across a restart (-got +want):\n%s", diff)
	}

	// The same link against a tenant seeded afresh (its state file gone)
	// cannot continue: Graph's 410 makes the client sync in full.
	fresh := mustStart(t, m365sim.Options{Users: 12, Groups: 1, Seed: 9})
	r := call(t, "GET", strings.Replace(link, s1.URL(), fresh.URL(), 1), appToken(t, fresh, allRoles...), nil)
	if code, _ := r.errorCode(); r.status != 410 || code != "syncStateNotFound" {
		t.Errorf("delta link against a re-seeded tenant = %d %s, want 410 syncStateNotFound", r.status, code)
	}
}

// BenchmarkStateSaveLoad100k measures a save after a change and a load of
// a 100 000-user tenant: what debouncing has to absorb.
func BenchmarkStateSaveLoad100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "state.json")
	s, err := m365sim.New(m365sim.Options{Users: 100_000, Groups: 12, Seed: 1, StatePath: path})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Run("save", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			// A change, so the save is not skipped as unchanged.
			mustStatus(b, call(b, "POST", s.URL()+"/_sim/users", "", map[string]any{"userPrincipalName": "bench" + strconv.Itoa(i)}), 201)
			if err := s.Save(); err != nil {
				b.Fatal(err)
			}
		}
		if info, err := os.Stat(path); err == nil {
			b.ReportMetric(float64(info.Size())/(1<<20), "file-MB")
		}
	})
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			s, err := m365sim.New(m365sim.Options{StatePath: path})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}
