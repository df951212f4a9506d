package graph

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUsersDeltaMinimal: the round is sent with Prefer: return=minimal on
// every page, and each user tells the properties its answer carried —
// null (cleared) included — from those it left out (unchanged).
func TestUsersDeltaMinimal(t *testing.T) {
	var prefer []string
	var srv string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefer = append(prefer, r.Header.Get("Prefer"))
		if r.URL.Query().Get("$skiptoken") == "" {
			writeJSON(w, 200, `{"value":[{"id":"u1","displayName":"Ann","jobTitle":null}],"@odata.nextLink":"`+srv+`/v1.0/users/delta?$skiptoken=2"}`)
			return
		}
		writeJSON(w, 200, `{"value":[{"id":"u2","accountEnabled":false},{"id":"u3","@removed":{"reason":"changed"}}],"@odata.deltaLink":"`+srv+`/v1.0/users/delta?$deltatoken=3"}`)
	})
	c, _, ts := newTestClient(t, h)
	srv = ts.URL
	type seen struct {
		ID          string
		Has         []string
		DisplayName string
		Enabled     *bool
		Removed     bool
	}
	var got []seen
	props := []string{"id", "displayName", "jobTitle", "accountEnabled", "mail", "@removed"}
	next, err := c.UsersDeltaMinimal(context.Background(), ts.URL+"/v1.0/users/delta?$deltatoken=1", func(p DeltaPage) error {
		for _, u := range p.Users {
			s := seen{ID: u.ID, DisplayName: u.DisplayName, Enabled: u.AccountEnabled, Removed: u.Removed != nil}
			for _, k := range props {
				if u.Has(k) {
					s.Has = append(s.Has, k)
				}
			}
			got = append(got, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Sync()
	off := false
	want := []seen{
		{ID: "u1", Has: []string{"id", "displayName", "jobTitle"}, DisplayName: "Ann"},
		{ID: "u2", Has: []string{"id", "accountEnabled"}, Enabled: &off},
		{ID: "u3", Has: []string{"id", "@removed"}, Removed: true},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("users (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(prefer, []string{"return=minimal", "return=minimal"}); diff != "" {
		t.Errorf("Prefer headers (-got +want):\n%s", diff)
	}
	if next != ts.URL+"/v1.0/users/delta?$deltatoken=3" {
		t.Errorf("deltaLink = %q", next)
	}
	if _, err := c.UsersDeltaMinimal(context.Background(), "", func(DeltaPage) error { return nil }); err == nil {
		t.Error("a minimal round without a deltaLink: no error, want one")
	}
}
