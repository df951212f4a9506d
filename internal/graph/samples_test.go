package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// repoRoot walks up from the package directory to go.mod.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

type mock struct {
	Request struct {
		URL        string `json:"url"`
		ExampleURL string `json:"exampleUrl"`
		Method     string `json:"method"`
	} `json:"request"`
	Response struct {
		StatusCode int `json:"statusCode"`
		Headers    []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		Body json.RawMessage `json:"body"`
	} `json:"response"`
}

func loadSamples(tb testing.TB) []mock {
	tb.Helper()
	path := filepath.Join(repoRoot(tb), "testdata", "graph-docs-samples", "graph-docs-samples.json")
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("the Graph docs samples are required: %v", err)
	}
	var f struct {
		Mocks []mock `json:"mocks"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(f.Mocks) == 0 {
		tb.Fatalf("%s: no mocks", path)
	}
	return f.Mocks
}

// sampleServer answers every request with one mock's response. Requests
// carrying $skiptoken (a sample's nextLink, rewritten to point here) get a
// final empty page so paging and delta rounds end; $batch items are
// answered with the mock too, so bulk methods can be checked against
// single-request samples.
type sampleServer struct {
	m    mock
	base string
	mu   sync.Mutex
	reqs []string // method and decoded URI of each (inner) request
}

func (s *sampleServer) body() []byte {
	return bytes.ReplaceAll(s.m.Response.Body, []byte("https://graph.microsoft.com"), []byte(s.base))
}

func (s *sampleServer) record(method, uri string) {
	s.mu.Lock()
	s.reqs = append(s.reqs, method+" "+uri)
	s.mu.Unlock()
}

func (s *sampleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1.0/$batch" {
		var env struct{ Requests []BatchRequest }
		json.NewDecoder(r.Body).Decode(&env)
		var out []BatchResponse
		for _, it := range env.Requests {
			s.record(it.Method, "/v1.0"+it.URL)
			br := BatchResponse{ID: it.ID, Status: s.m.Response.StatusCode}
			if b := s.body(); len(b) > 0 && string(b) != "null" {
				br.Body = b
				br.Headers = map[string]string{"Content-Type": "application/json"}
			}
			out = append(out, br)
		}
		b, _ := json.Marshal(map[string]any{"responses": out})
		writeJSON(w, 200, string(b))
		return
	}
	s.record(r.Method, r.URL.RequestURI())
	if r.URL.Query().Has("$skiptoken") {
		if strings.HasSuffix(r.URL.Path, "/delta") {
			writeJSON(w, 200, `{"value":[],"@odata.deltaLink":"`+s.base+`/v1.0`+strings.TrimPrefix(r.URL.Path, "/v1.0")+`?$deltatoken=end"}`)
		} else {
			writeJSON(w, 200, `{"value":[]}`)
		}
		return
	}
	for _, h := range s.m.Response.Headers {
		if !strings.EqualFold(h.Name, "Content-Length") {
			w.Header().Set(h.Name, h.Value)
		}
	}
	b := s.body()
	if len(b) == 0 || string(b) == "null" {
		w.WriteHeader(s.m.Response.StatusCode)
		return
	}
	// Dev Proxy mocks keep text bodies ($count answers) as JSON strings
	// and serve their content.
	var text string
	if json.Unmarshal(b, &text) == nil {
		b = []byte(text)
		w.Header().Set("Content-Type", "text/plain")
	}
	w.WriteHeader(s.m.Response.StatusCode)
	w.Write(b)
}

// sampleCall maps a sample request to the client method that issues it.
type sampleCall struct {
	name string
	run  func(ctx context.Context, c *Client, m []string, q Query) (any, error)
}

var (
	castRe  = `(?:/(microsoft\.graph\.[A-Za-z]+))?`
	callFor = []struct {
		method string
		re     *regexp.Regexp
		call   sampleCall
	}{
		{"GET", regexp.MustCompile(`^/users$`), sampleCall{"ListUsers", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return collect(func(fn func([]User) error) error { return c.ListUsers(ctx, q, fn) })
		}}},
		{"GET", regexp.MustCompile(`^/groups$`), sampleCall{"ListGroups", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return collect(func(fn func([]Group) error) error { return c.ListGroups(ctx, q, fn) })
		}}},
		{"GET", regexp.MustCompile(`^/users/delta$`), sampleCall{"UsersDelta", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			var pages []DeltaPage
			link, err := c.UsersDelta(ctx, "", q.Select, func(p DeltaPage) error { pages = append(pages, p); return nil })
			return map[string]any{"pages": pages, "deltaLink": opPath(link)}, err
		}}},
		{"GET", regexp.MustCompile(`^/groups/delta$`), sampleCall{"GroupsDelta", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			var pages []DeltaPage
			link, err := c.GroupsDelta(ctx, "", q.Select, func(p DeltaPage) error { pages = append(pages, p); return nil })
			return map[string]any{"pages": pages, "deltaLink": opPath(link)}, err
		}}},
		{"GET", regexp.MustCompile(`^/groups/([^/]+)/members` + castRe + `$`), sampleCall{"ListGroupMembers", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return collect(func(fn func([]DirectoryObject) error) error {
				q.Type = m[2]
				return c.ListGroupMembers(ctx, m[1], q, fn)
			})
		}}},
		{"GET", regexp.MustCompile(`^/groups/([^/]+)/members` + castRe + `/\$count$`), sampleCall{"CountGroupMembers", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.CountGroupMembers(ctx, m[1], m[2])
		}}},
		{"GET", regexp.MustCompile(`^/users/([^/]+)/memberOf` + castRe + `$`), sampleCall{"MemberOf", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return collect(func(fn func([]DirectoryObject) error) error {
				q.Type = m[2]
				return c.MemberOf(ctx, m[1], q, fn)
			})
		}}},
		{"GET", regexp.MustCompile(`^/(?:me|users/([^/]+))/licenseDetails$`), sampleCall{"LicenseDetails", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.LicenseDetails(ctx, orMe(m[1]))
		}}},
		{"GET", regexp.MustCompile(`^/users/([^/]+)$`), sampleCall{"GetUser", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.GetUser(ctx, m[1], q.Select)
		}}},
		{"GET", regexp.MustCompile(`^/groups/([^/]+)$`), sampleCall{"GetGroup", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.GetGroup(ctx, m[1], q.Select)
		}}},
		{"GET", regexp.MustCompile(`^/subscribedSkus$`), sampleCall{"SubscribedSKUs", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.SubscribedSKUs(ctx)
		}}},
		{"GET", regexp.MustCompile(`^/subscribedSkus/([^/]+)$`), sampleCall{"SubscribedSKU", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.SubscribedSKU(ctx, m[1])
		}}},
		{"POST", regexp.MustCompile(`^/(?:me|users/([^/]+))/assignLicense$`), sampleCall{"AssignLicense", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.AssignLicense(ctx, orMe(m[1]), []AssignedLicense{{SkuID: "c7df2760-2c81-4ef7-b578-5b5392b571df"}}, nil)
		}}},
		{"POST", regexp.MustCompile(`^/groups$`), sampleCall{"CreateGroup", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.CreateGroup(ctx, NewGroup{DisplayName: "Library Assist", MailNickname: "library", MailEnabled: true, GroupTypes: []string{"Unified"}})
		}}},
		{"POST", regexp.MustCompile(`^/groups/([^/]+)/members/\$ref$`), sampleCall{"AddMember", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return nil, c.AddMember(ctx, m[1], "u1")
		}}},
		{"PATCH", regexp.MustCompile(`^/groups/([^/]+)$`), sampleCall{"AddMembers", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return c.AddMembers(ctx, m[1], []string{"u1", "u2"})
		}}},
		{"DELETE", regexp.MustCompile(`^/groups/([^/]+)/members/([^/]+)/\$ref$`), sampleCall{"RemoveMember", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return nil, c.RemoveMember(ctx, m[1], m[2])
		}}},
		{"DELETE", regexp.MustCompile(`^/groups/([^/]+)$`), sampleCall{"DeleteGroup", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return nil, c.DeleteGroup(ctx, m[1])
		}}},
		{"PATCH", regexp.MustCompile(`^/users/([^/]+)$`), sampleCall{"UpdateUser", func(ctx context.Context, c *Client, m []string, q Query) (any, error) {
			return nil, c.UpdateUser(ctx, m[1], map[string]any{"usageLocation": "IE"})
		}}},
	}
	// notCalled are sample endpoints tenantlink never calls; any other
	// unmatched sample fails the test so new samples are not skipped.
	notCalled = map[string]bool{"DELETE /users/{usersId}": true, "POST /users": true}
)

// collect gathers every page of a listing.
func collect[T any](list func(func([]T) error) error) ([]T, error) {
	var all []T
	err := list(func(p []T) error { all = append(all, p...); return nil })
	return all, err
}

// splitExample parses a sample's exampleUrl into its path under /v1.0 and
// its query (raw spaces and quotes included, as the docs write them).
func splitExample(tb testing.TB, raw string) (string, url.Values) {
	tb.Helper()
	raw = strings.TrimPrefix(raw, "https://graph.microsoft.com/v1.0")
	path, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		tb.Fatalf("exampleUrl %q: %v", raw, err)
	}
	return path, q
}

// queryOf is the Query a caller would pass for the sample's parameters.
func queryOf(v url.Values) Query {
	q := Query{Filter: v.Get("$filter"), Search: v.Get("$search"), OrderBy: v.Get("$orderby"), Count: v.Get("$count") == "true"}
	if s := v.Get("$select"); s != "" {
		q.Select = strings.Split(s, ",")
	}
	if t, err := strconv.Atoi(v.Get("$top")); err == nil {
		q.Top = t
	}
	q.Advanced = q.Count || q.Search != ""
	return q
}

// patternRe turns a mock url path with * wildcards into a regexp.
func patternRe(mockURL string) *regexp.Regexp {
	p, _, _ := strings.Cut(strings.TrimPrefix(mockURL, "https://graph.microsoft.com"), "?")
	return regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `[^/]+`) + "$")
}

type goldenEntry struct {
	Sample  int    `json:"sample"`
	Request string `json:"request"`
	Call    string `json:"call"`
	Result  any    `json:"result"`
}

func TestDocsSamples(t *testing.T) {
	mocks := loadSamples(t)
	var golden []goldenEntry
	called := 0
	for i, m := range mocks {
		path, params := splitExample(t, m.Request.ExampleURL)
		name := fmt.Sprintf("%02d %s %s", i, m.Request.Method, path)
		var call *sampleCall
		var match []string
		for _, cf := range callFor {
			if cf.method == m.Request.Method {
				if match = cf.re.FindStringSubmatch(path); match != nil {
					call = &cf.call
					break
				}
			}
		}
		if call == nil {
			if !notCalled[m.Request.Method+" "+path] {
				t.Errorf("sample %s matches no client method and is not listed in notCalled", name)
			}
			continue
		}
		called++
		t.Run(name, func(t *testing.T) {
			ss := &sampleServer{m: m}
			srv := httptest.NewServer(ss)
			defer srv.Close()
			ss.base = srv.URL
			c := New(Config{BaseURL: srv.URL, HTTPClient: srv.Client(), Sleep: (&sleeper{}).Sleep})
			got, err := call.run(context.Background(), c, match, queryOf(params))
			if err != nil {
				t.Fatalf("%s: %v", call.name, err)
			}
			if results, ok := got.([]Result); ok {
				for _, r := range results {
					if r.Err != nil {
						t.Errorf("%s: %s: %v", call.name, r.ID, r.Err)
					}
				}
			}
			checkSampleRequest(t, ss, m, params)
			checkDecoded(t, m, got)
			golden = append(golden, goldenEntry{Sample: i, Request: m.Request.Method + " " + path, Call: call.name, Result: got})
		})
	}
	if called < 30 {
		t.Errorf("only %d samples matched a client method, want at least 30", called)
	}
	b, err := json.MarshalIndent(golden, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "samples.golden", append(b, '\n'))
}

// checkSampleRequest asserts the client's first request (or $batch item)
// is the one the sample documents: same method, path matching the mock's
// pattern, and every documented OData parameter with the same value.
func checkSampleRequest(t *testing.T, ss *sampleServer, m mock, params url.Values) {
	t.Helper()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	method, uri, _ := strings.Cut(ss.reqs[0], " ")
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	if method != m.Request.Method {
		t.Errorf("method = %s, want %s", method, m.Request.Method)
	}
	if re := patternRe(m.Request.URL); !re.MatchString(u.Path) {
		t.Errorf("path = %s, want a match for %s", u.Path, re)
	}
	got := u.Query()
	for _, k := range []string{"$select", "$filter", "$search", "$orderby", "$top", "$count"} {
		if want := params.Get(k); want != "" && got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
}

// checkDecoded spot-checks the decoding against the raw sample: every
// listed object arrives, and single objects keep their id.
func checkDecoded(t *testing.T, m mock, got any) {
	t.Helper()
	var raw struct {
		Value json.RawMessage `json:"value"`
		ID    string          `json:"id"`
	}
	if json.Unmarshal(m.Response.Body, &raw) != nil {
		return // a count or no body
	}
	var list []json.RawMessage
	if json.Unmarshal(raw.Value, &list) == nil && raw.Value != nil {
		n := -1
		switch v := got.(type) {
		case []User:
			n = len(v)
		case []Group:
			n = len(v)
		case []DirectoryObject:
			n = len(v)
		case []SubscribedSKU:
			n = len(v)
		case []LicenseDetails:
			n = len(v)
		case map[string]any:
			pages := v["pages"].([]DeltaPage)
			n = 0
			for _, p := range pages {
				n += len(p.Users) + len(p.Groups)
			}
		}
		if n != len(list) {
			t.Errorf("decoded %d objects, want %d", n, len(list))
		}
		return
	}
	var id string
	switch v := got.(type) {
	case *User:
		id = v.ID
	case *Group:
		id = v.ID
	case *SubscribedSKU:
		id = v.ID
	default:
		return
	}
	if id != raw.ID {
		t.Errorf("decoded id = %q, want %q", id, raw.ID)
	}
}

// checkGolden compares got with testdata/name, rewriting it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run go test -update if intended:\n%s", path, diff)
	}
}

func orMe(id string) string {
	if id == "" {
		return "me"
	}
	return id
}
