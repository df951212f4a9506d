package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFromBatchFirstPage: a round whose first page came in a $batch
// follows its nextLinks as the plain round does — the same checks of the
// first page as of any other (a nextLink pointing at the page itself is
// refused, Max is kept) and no request for it.
func TestFromBatchFirstPage(t *testing.T) {
	type run func(c *Client, base string, first BatchResponse) ([]string, error)
	groupsFrom := func(c *Client, base string, first BatchResponse) ([]string, error) {
		var ids []string
		_, err := c.GroupsDeltaFrom(context.Background(), base+"/v1.0/groups/delta?$deltatoken=D1", first, func(p DeltaPage) error {
			for _, g := range p.Groups {
				ids = append(ids, g.ID)
			}
			return nil
		})
		return ids, err
	}
	usersFrom := func(max int) run {
		return func(c *Client, _ string, first BatchResponse) ([]string, error) {
			var ids []string
			err := c.ListUsersFrom(context.Background(), Query{Max: max}, first, func(us []User) error {
				for _, u := range us {
					ids = append(ids, u.ID)
				}
				return nil
			})
			return ids, err
		}
	}
	usersLink := "/v1.0/users?$select=" + strings.ReplaceAll(strings.Join(UserFields, ","), ",", "%2C") + "&$top=999"
	for _, tt := range []struct {
		name string
		run  run
		// first is the first page's body, {base} standing for the server.
		first string
		// want are the objects read; requests, those sent after the $batch.
		want     []string
		requests []string
		err      string
	}{
		{name: "groups delta: the next pages are fetched", run: groupsFrom,
			first:    `{"value":[{"id":"g1"}],"@odata.nextLink":"{base}/v1.0/groups/delta?$skiptoken=p2"}`,
			want:     []string{"g1", "g2"},
			requests: []string{"/v1.0/groups/delta?$skiptoken=p2"}},
		{name: "groups delta: a last first page", run: groupsFrom,
			first: `{"value":[{"id":"g1"}],"@odata.deltaLink":"{base}/v1.0/groups/delta?$deltatoken=D2"}`,
			want:  []string{"g1"}},
		{name: "groups delta: a nextLink to the page itself", run: groupsFrom,
			first: `{"value":[],"@odata.nextLink":"{base}/v1.0/groups/delta?$deltatoken=D1"}`,
			err:   "@odata.nextLink points at the same page"},
		{name: "groups delta: neither link", run: groupsFrom,
			first: `{"value":[]}`, err: "delta page has neither"},
		{name: "users: the next pages are fetched", run: usersFrom(0),
			first:    `{"value":[{"id":"u1"}],"@odata.nextLink":"{base}/v1.0/users?$skiptoken=p2"}`,
			want:     []string{"u1", "u2"},
			requests: []string{"/v1.0/users?$skiptoken=p2"}},
		{name: "users: Max counts the first page", run: usersFrom(2),
			first: `{"value":[{"id":"u1"},{"id":"u2"},{"id":"u3"}],"@odata.nextLink":"{base}/v1.0/users?$skiptoken=p2"}`,
			want:  []string{"u1", "u2"}},
		{name: "users: a nextLink to the page itself", run: usersFrom(0),
			first: `{"value":[{"id":"u1"}],"@odata.nextLink":"{base}` + usersLink + `"}`,
			want:  []string{"u1"}, err: "@odata.nextLink points at the same page"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var requests []string
			c, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests = append(requests, r.URL.RequestURI())
				switch r.URL.Path {
				case "/v1.0/groups/delta":
					writeJSON(w, 200, `{"value":[{"id":"g2"}],"@odata.deltaLink":"https://graph.example/v1.0/groups/delta?$deltatoken=D2"}`)
				default:
					writeJSON(w, 200, `{"value":[{"id":"u2"}]}`)
				}
			}))
			first := BatchResponse{ID: "1", Status: 200, Body: json.RawMessage(strings.ReplaceAll(tt.first, "{base}", srv.URL))}
			got, err := tt.run(c, srv.URL, first)
			srv.Sync()
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.requests, requests); diff != "" {
				t.Errorf("requests after the $batch (-want +got):\n%s", diff)
			}
		})
	}
}
