package groupsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
)

// answers shapes the simulator's answers to users/delta the way Graph
// does. In "full" mode it drops Prefer: return=minimal from requests, so
// every changed user comes with all its properties. In "minimal" mode it
// leaves out of each changed user the properties whose value has not
// changed since it last saw them (in any answer), as Graph documents for
// Prefer: return=minimal ("if the property has not changed, the property
// is not included in the response at all"; null for a cleared one): so
// the test holds whether or not the simulator implements the header.
type answers struct {
	mode string
	base http.RoundTripper

	mu       sync.Mutex
	seen     map[string]map[string]string // object id -> property -> JSON value
	stripped int                          // properties left out, here or by the server
}

func (a *answers) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/$batch") {
		return a.batch(r)
	}
	minimal := r.Header.Get("Prefer") == "return=minimal"
	if a.mode == "full" && minimal {
		r = r.Clone(r.Context())
		r.Header.Del("Prefer")
		minimal = false
	}
	resp, err := a.base.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/v1.0/") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	return replaceBody(resp, a.shape(strings.HasSuffix(r.URL.Path, "/users/delta"), minimal, body)), nil
}

// batch does for each GET inside a $batch (incremental reads send both
// delta rounds' first requests in one) what RoundTrip does for a lone one.
func (a *answers) batch(r *http.Request) (*http.Response, error) {
	in, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	var req struct {
		Requests []map[string]any `json:"requests"`
	}
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, err
	}
	type sub struct{ usersDelta, minimal bool }
	subs := map[string]sub{}
	for _, q := range req.Requests {
		id, _ := q["id"].(string)
		u, _ := q["url"].(string)
		h, _ := q["headers"].(map[string]any)
		p, _, _ := strings.Cut(u, "?")
		s := sub{usersDelta: strings.HasSuffix(p, "/users/delta"), minimal: h["Prefer"] == "return=minimal"}
		if a.mode == "full" && s.minimal {
			delete(h, "Prefer")
			s.minimal = false
		}
		subs[id] = s
	}
	out, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(out)), int64(len(out))
	r.Header.Del("Content-Length")
	resp, err := a.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var res struct {
		Responses []map[string]json.RawMessage `json:"responses"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, err
	}
	for _, p := range res.Responses {
		var id string
		var status int
		json.Unmarshal(p["id"], &id)
		json.Unmarshal(p["status"], &status)
		if s, ok := subs[id]; ok && status == http.StatusOK {
			p["body"] = a.shape(s.usersDelta, s.minimal, p["body"])
		}
	}
	body, err = json.Marshal(res)
	if err != nil {
		return nil, err
	}
	return replaceBody(resp, body), nil
}

// shape records the properties of the objects of one answer's page and,
// for a minimal users/delta answer, leaves out those that did not change.
func (a *answers) shape(usersDelta, minimal bool, body []byte) []byte {
	var page map[string]json.RawMessage
	var objs []map[string]json.RawMessage
	if json.Unmarshal(body, &page) != nil || json.Unmarshal(page["value"], &objs) != nil {
		return body
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, o := range objs {
		var id string
		if json.Unmarshal(o["id"], &id) != nil || o["@removed"] != nil {
			continue
		}
		seen := a.seen[id]
		if seen == nil {
			seen = map[string]string{}
			a.seen[id] = seen
		}
		if minimal && usersDelta {
			// Properties the server itself left out (a simulator
			// that honours the header) count as minimal answers too.
			for k := range seen {
				if _, ok := o[k]; !ok {
					a.stripped++
				}
			}
		}
		for k, v := range o {
			var c bytes.Buffer
			if json.Compact(&c, v) != nil {
				continue
			}
			if minimal && k != "id" && usersDelta {
				if old, ok := seen[k]; ok && old == c.String() {
					delete(objs[i], k)
					a.stripped++
				}
			}
			seen[k] = c.String()
		}
	}
	page["value"], _ = json.Marshal(objs)
	out, _ := json.Marshal(page)
	return out
}

func replaceBody(resp *http.Response, body []byte) *http.Response {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp
}

// TestMinimalDeltaSameDirectory: incremental runs ask users/delta for
// minimal answers (only the properties that changed) and merge them with
// what was imported; the directory they leave must be the one full
// answers leave, for every kind of change a user can have.
func TestMinimalDeltaSameDirectory(t *testing.T) {
	for _, source := range []string{"Sales team", "*"} {
		t.Run(source, func(t *testing.T) {
			views := map[string][]string{}
			for _, mode := range []string{"full", "minimal"} {
				a := &answers{mode: mode, base: http.DefaultTransport, seen: map[string]map[string]string{}}
				e := newEnvClient(t, backends[0].dsn(t), m365sim.Options{Users: 5, Groups: 1}, &http.Client{Transport: a})
				ids := map[string]string{}
				for _, n := range []string{"ann", "bob", "cat", "dan", "eve", "fay", "gus", "ivy"} {
					ids[n] = e.simUser(t, upn(e, n), strings.ToUpper(n[:1])+n[1:])
				}
				sales := e.simGroup(t, "Sales team", []string{ids["ann"], ids["bob"], ids["cat"], ids["dan"], ids["eve"], ids["gus"], ids["ivy"]})
				// dan's email is his mail until the mail is cleared.
				e.control(t, "PATCH", "/_sim/users/"+ids["dan"], map[string]any{"mail": "dan.mail@contoso.com"}, nil)
				g := e.syncedGroup(t, "Sales", source, false, groupsync.MissingRemove)
				if r := e.run(t, g, groupsync.RunOptions{Trigger: "manual"}); r.Status != store.RunSucceeded || !r.Full {
					t.Fatalf("%s: first run = %s full=%v errors %v", mode, r.Status, r.Full, r.Errors)
				}

				patch := func(n string, fields map[string]any) { e.control(t, "PATCH", "/_sim/users/"+ids[n], fields, nil) }
				patch("ann", map[string]any{"displayName": "Ann Renamed", "jobTitle": nil})
				patch("bob", map[string]any{"accountEnabled": false})
				patch("cat", map[string]any{"mail": "cat.new@contoso.com"})
				patch("dan", map[string]any{"mail": nil}) // now his UPN
				patch("eve", map[string]any{"department": "Marketing", "surname": "Other"})
				patch("ivy", map[string]any{"mail": nil}) // the email stays her UPN
				e.control(t, "POST", "/_sim/groups/"+sales+"/members/"+ids["fay"], nil, nil)
				e.control(t, "DELETE", "/_sim/groups/"+sales+"/members/"+ids["gus"], nil, nil)
				hal := e.simUser(t, upn(e, "hal"), "Hal")
				e.control(t, "POST", "/_sim/groups/"+sales+"/members/"+hal, nil, nil)

				r := e.run(t, g, groupsync.RunOptions{Trigger: "schedule", Confirm: true})
				if r.Status != store.RunSucceeded || r.Full || len(r.Errors) > 0 {
					t.Fatalf("%s: incremental run = %s full=%v errors %v; want succeeded, incremental, no errors", mode, r.Status, r.Full, r.Errors)
				}
				if mode == "minimal" && a.stripped == 0 {
					t.Error("minimal: no property was left out of a users/delta answer: the test did not exercise minimal answers")
				}
				views[mode] = e.directoryView(t, g)
			}
			if diff := cmp.Diff(views["full"], views["minimal"]); diff != "" {
				t.Errorf("directory (-full answers +minimal answers):\n%s", diff)
			}
			// And it is the directory the changes call for.
			want := []string{
				"ann@|Ann Renamed|Ann|Test||Sales|active|member",
				"bob@|Bob|Bob|Test|Clerk|Sales|inactive|member",
				"cat.new@contoso.com|Cat|Cat|Test|Clerk|Sales|active|member",
				"dan@|Dan|Dan|Test|Clerk|Sales|active|member",
				"eve@|Eve|Eve|Other|Clerk|Marketing|active|member",
				"fay@|Fay|Fay|Test|Clerk|Sales|active|member",
				"hal@|Hal|Hal|Test|Clerk|Sales|active|member",
				"ivy@|Ivy|Ivy|Test|Clerk|Sales|active|member",
			}
			got := slices.DeleteFunc(slices.Clone(views["minimal"]), func(s string) bool {
				return !slices.ContainsFunc(want, func(w string) bool { return strings.HasPrefix(s, w[:strings.Index(w, "@")+1]) })
			})
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("changed users (-got +want):\n%s", diff)
			}
		})
	}
}

// directoryView is the imported users as comparable lines, sorted, with
// the tenant's domain cut from emails.
func (e *env) directoryView(tb testing.TB, g *tenantlink.Group) []string {
	tb.Helper()
	ctx := context.Background()
	us, err := e.st.ListUsers(ctx, store.UserFilter{})
	must(tb, err)
	got, err := e.st.GetGroup(ctx, g.ID)
	must(tb, err)
	var out []string
	for _, u := range us {
		if u.Source == nil {
			continue
		}
		active, member := "inactive", "-"
		if u.Active {
			active = "active"
		}
		if slices.Contains(got.Members, u.ID) {
			member = "member"
		}
		out = append(out, strings.Join([]string{strings.TrimSuffix(u.Email, e.facts.TenantDomain), u.DisplayName, u.GivenName, u.Surname,
			u.JobTitle, u.Department, active, member}, "|"))
	}
	slices.Sort(out)
	return out
}
