package m365sim_test

// Requests shaped exactly as Microsoft's Kiota-generated SDKs send them
// (gzip bodies, delta() call syntax, @odata.type, the $count segment,
// Prefer: return=minimal, delta filtered by ids), compared with the answers
// Graph documents. See docs/decisions/0013-sdk-compatibility.md.

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/m365sim"
)

// kiotaHeaders are what kiota-http-go sets on every request.
var kiotaHeaders = []string{"User-Agent", "kiota-go/1.9.0", "Accept", "application/json", "SdkVersion", "graph-go/1.80.0, graph-go-core/1.3.0 (featureUsage=00000047)"}

// send issues one raw request: body bytes as given, headers verbatim.
func send(tb testing.TB, method, url, token string, body []byte, headers ...string) response {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(kiotaHeaders); i += 2 {
		req.Header.Set(kiotaHeaders[i], kiotaHeaders[i+1])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
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

func jsonBytes(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func zlibbed(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func rawDeflated(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		tb.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

const gzipJSON = "application/json"

// sdkFixture is a simulator with what the SDK tests need.
type sdkFixture struct {
	s      *m365sim.Server
	tok    string
	base   string
	users  []map[string]any
	groups []map[string]any
}

func newSDKFixture(t *testing.T) *sdkFixture {
	t.Helper()
	s := mustStart(t, m365sim.Options{Users: 40, Groups: 3, Seed: 21})
	f := &sdkFixture{s: s, tok: appToken(t, s, allRoles...), base: s.URL() + "/v1.0"}
	u := call(t, "GET", f.base+"/users?$top=999&$select=id,displayName,jobTitle,officeLocation,department,city", f.tok, nil)
	mustStatus(t, u, 200)
	f.users = u.values()
	g := call(t, "GET", f.base+"/groups?$select=id,displayName,description", f.tok, nil)
	mustStatus(t, g, 200)
	f.groups = g.values()
	return f
}

// nonMember is a user who is not a member of group gi.
func (f *sdkFixture) nonMember(t *testing.T, gi int) string {
	t.Helper()
	r := call(t, "GET", f.base+"/groups/"+f.gid(gi)+"/members?$select=id&$top=999", f.tok, nil)
	mustStatus(t, r, 200)
	in := map[string]bool{}
	for _, m := range r.values() {
		in[m["id"].(string)] = true
	}
	for i := len(f.users) - 1; i >= 0; i-- {
		if !in[f.uid(i)] {
			return f.uid(i)
		}
	}
	t.Fatal("every user is a member")
	return ""
}

func (f *sdkFixture) uid(i int) string { return f.users[i]["id"].(string) }
func (f *sdkFixture) gid(i int) string { return f.groups[i]["id"].(string) }

func TestSDKCompressedBodies(t *testing.T) {
	f := newSDKFixture(t)
	ref := func(id string) string { return "https://graph.microsoft.com/v1.0/directoryObjects/" + id }
	patchUser := jsonBytes(t, map[string]any{"@odata.type": "#microsoft.graph.user", "jobTitle": "Compressed"})
	newGroup := jsonBytes(t, map[string]any{"@odata.type": "#microsoft.graph.group", "displayName": "Gzip Group", "mailNickname": "gzipgroup", "mailEnabled": false, "securityEnabled": true, "groupTypes": []string{}})
	patchGroup := jsonBytes(t, map[string]any{"@odata.type": "#microsoft.graph.group", "description": "deflated"})
	addRef := jsonBytes(t, map[string]any{"@odata.id": ref(f.nonMember(t, 0))})
	batch := jsonBytes(t, map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/delta()?$select=id"},
		{"id": "2", "method": "PATCH", "url": "/users/" + f.uid(2), "headers": map[string]string{"Content-Type": "application/json"},
			"body": map[string]any{"@odata.type": "#microsoft.graph.user", "department": "Batch"}},
	}})
	bomb := gzipped(t, bytes.Repeat([]byte(" "), 5<<20))

	cases := []struct {
		name         string
		method, path string
		body         []byte
		encoding     string
		wantStatus   int
		wantCode     string
		wantMessage  string
	}{
		{"PATCH user gzip", "PATCH", "/users/" + f.uid(1), gzipped(t, patchUser), "gzip", 204, "", ""},
		{"POST group gzip", "POST", "/groups", gzipped(t, newGroup), "gzip", 201, "", ""},
		{"PATCH group deflate (zlib)", "PATCH", "/groups/" + f.gid(0), zlibbed(t, patchGroup), "deflate", 204, "", ""},
		{"PATCH group raw deflate", "PATCH", "/groups/" + f.gid(1), rawDeflated(t, patchGroup), "deflate", 204, "", ""},
		{"POST members/$ref gzip", "POST", "/groups/" + f.gid(0) + "/members/$ref", gzipped(t, addRef), "gzip", 204, "", ""},
		{"POST $batch gzip", "POST", "/$batch", gzipped(t, batch), "gzip", 200, "", ""},
		{"codings listed in order", "PATCH", "/users/" + f.uid(3), zlibbed(t, gzipped(t, patchUser)), "gzip, deflate", 204, "", ""},
		{"upper-case coding", "PATCH", "/users/" + f.uid(4), gzipped(t, patchUser), "GZIP", 204, "", ""},
		{"gzip header but plain body", "PATCH", "/users/" + f.uid(5), patchUser, "gzip", 400, "BadRequest",
			"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."},
		{"unknown coding", "PATCH", "/users/" + f.uid(5), patchUser, "br", 415, "UnsupportedMediaType", "Content-Encoding 'br' is not supported; use gzip or deflate."},
		{"zip bomb", "PATCH", "/users/" + f.uid(5), bomb, "gzip", 413, "RequestEntityTooLarge", "The request body exceeds 4194304 bytes once decompressed."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, tc.method, f.base+tc.path, f.tok, tc.body, "Content-Type", gzipJSON, "Content-Encoding", tc.encoding)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.wantStatus, r.raw)
			}
			if code, msg := r.errorCode(); code != tc.wantCode || msg != tc.wantMessage {
				t.Errorf("error = %q %q, want %q %q", code, msg, tc.wantCode, tc.wantMessage)
			}
			if tc.path == "/$batch" {
				var got []string
				for _, x := range r.body["responses"].([]any) {
					it := x.(map[string]any)
					got = append(got, fmt.Sprintf("%v:%v", it["id"], it["status"]))
				}
				sort.Strings(got)
				if diff := cmp.Diff([]string{"1:200", "2:204"}, got); diff != "" {
					t.Errorf("batch items (-want +got):\n%s", diff)
				}
			}
		})
	}

	// The writes took effect; the refused ones changed nothing.
	for i, want := range map[int]any{1: "Compressed", 3: "Compressed", 4: "Compressed", 5: f.users[5]["jobTitle"]} {
		u := call(t, "GET", f.base+"/users/"+f.uid(i)+"?$select=jobTitle,department", f.tok, nil)
		if u.body["jobTitle"] != want {
			t.Errorf("user %d jobTitle = %v, want %v", i, u.body["jobTitle"], want)
		}
	}
	if d := call(t, "GET", f.base+"/users/"+f.uid(2)+"?$select=department", f.tok, nil).body["department"]; d != "Batch" {
		t.Errorf("batch item PATCH department = %v, want Batch", d)
	}
	for _, i := range []int{0, 1} {
		if d := call(t, "GET", f.base+"/groups/"+f.gid(i), f.tok, nil).body["description"]; d != "deflated" {
			t.Errorf("group %d description = %v, want deflated", i, d)
		}
	}
}

func TestSDKBatchItemBodies(t *testing.T) {
	f := newSDKFixture(t)
	patch := jsonBytes(t, map[string]any{"@odata.type": "#microsoft.graph.user", "officeLocation": "B64"})
	item := func(id, uid string, headers map[string]string, body any) map[string]any {
		return map[string]any{"id": id, "method": "PATCH", "url": "/users/" + uid, "headers": headers, "body": body}
	}
	reqs := []map[string]any{
		// The documented forms: a JSON object, or a base64 (URL) value.
		item("object", f.uid(1), map[string]string{"Content-Type": "application/json"}, json.RawMessage(patch)),
		item("base64url", f.uid(2), map[string]string{"Content-Type": "application/octet-stream"}, base64.URLEncoding.EncodeToString(patch)),
		// A per-item Content-Encoding applies to the base64-decoded bytes.
		item("gzip-base64", f.uid(3), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, base64.StdEncoding.EncodeToString(gzipped(t, patch))),
		// A JSON object is not gzip data.
		item("gzip-object", f.uid(4), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, json.RawMessage(patch)),
		item("unknown-coding", f.uid(5), map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, base64.StdEncoding.EncodeToString(patch)),
	}
	r := send(t, "POST", f.base+"/$batch", f.tok, gzipped(t, jsonBytes(t, map[string]any{"requests": reqs})), "Content-Type", "application/json", "Content-Encoding", "gzip")
	mustStatus(t, r, 200)
	got := map[string]float64{}
	for _, x := range r.body["responses"].([]any) {
		it := x.(map[string]any)
		got[it["id"].(string)] = it["status"].(float64)
	}
	want := map[string]float64{"object": 204, "base64url": 204, "gzip-base64": 204, "gzip-object": 400, "unknown-coding": 415}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("item statuses (-want +got):\n%s", diff)
	}
	for i, want := range map[int]any{1: "B64", 2: "B64", 3: "B64", 4: nil, 5: nil} {
		u := call(t, "GET", f.base+"/users/"+f.uid(i)+"?$select=officeLocation", f.tok, nil)
		if want == nil {
			want = f.users[i]["officeLocation"]
		}
		if u.body["officeLocation"] != want {
			t.Errorf("user %d officeLocation = %v, want %v", i, u.body["officeLocation"], want)
		}
	}
}

