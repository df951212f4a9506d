package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroupsDeltaRound(t *testing.T) {
	var srvURL string
	var got []string
	c, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		if r.URL.Query().Get("$deltatoken") == "D1" {
			writeJSON(w, 200, `{"value":[],"@odata.deltaLink":"`+srvURL+`/v1.0/groups/delta?$deltatoken=D2"}`)
			return
		}
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			writeJSON(w, 200, `{"value":[{"id":"g1","displayName":"Sales","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"u1"}]}],
				"@odata.nextLink":"`+srvURL+`/v1.0/groups/delta?$skiptoken=p2"}`)
		case "p2":
			// Empty pages happen; the same group continues on later pages.
			writeJSON(w, 200, `{"value":[],"@odata.nextLink":"`+srvURL+`/v1.0/groups/delta?$skiptoken=p3"}`)
		case "p3":
			writeJSON(w, 200, `{"value":[{"id":"g1","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"u2","@removed":{"reason":"deleted"}}]},
				{"id":"g2","@removed":{"reason":"changed"}}],
				"@odata.deltaLink":"`+srvURL+`/v1.0/groups/delta?$deltatoken=D1"}`)
		}
	}))
	srvURL = srv.URL
	var pages []DeltaPage
	link, err := c.GroupsDelta(context.Background(), "", nil, func(p DeltaPage) error {
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Sync()
	if want := srv.URL + "/v1.0/groups/delta?$deltatoken=D1"; link != want {
		t.Errorf("deltaLink = %q, want %q", link, want)
	}
	want := []DeltaPage{
		{Groups: []DeltaGroup{{Group: Group{ID: "g1", DisplayName: "Sales"}, MembersDelta: []DeltaMember{{ODataType: TypeUser, ID: "u1"}}}}},
		{Groups: []DeltaGroup{
			{Group: Group{ID: "g1"}, MembersDelta: []DeltaMember{{ODataType: TypeUser, ID: "u2", Removed: &Removed{Reason: "deleted"}}}},
			{Group: Group{ID: "g2"}, Removed: &Removed{Reason: "changed"}},
		}},
	}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if want := "/v1.0/groups/delta?$select=id%2CdisplayName%2Cdescription%2Cmail%2CmailNickname%2CmailEnabled%2CsecurityEnabled%2CgroupTypes%2Cvisibility%2CcreatedDateTime%2Cmembers"; got[0] != want {
		t.Errorf("first request = %q, want %q", got[0], want)
	}

	// The next round starts from the deltaLink, verbatim.
	srv.Sync()
	got = nil
	next, err := c.GroupsDelta(context.Background(), link, nil, func(DeltaPage) error {
		t.Error("fn called for an empty page")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Sync()
	if want := srv.URL + "/v1.0/groups/delta?$deltatoken=D2"; next != want {
		t.Errorf("next deltaLink = %q, want %q", next, want)
	}
	if want := []string{"/v1.0/groups/delta?$deltatoken=D1"}; !cmp.Equal(want, got) {
		t.Errorf("requests = %v, want %v", got, want)
	}
}

func TestDeltaExpired(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		location string
	}{
		{"410 with Location", 410, `{"error":{"code":"resyncRequired","message":"Resync required."}}`, "https://graph.microsoft.com/v1.0/users/delta?$deltatoken="},
		{"400 syncStateNotFound", 400, `{"error":{"code":"syncStateNotFound","message":"The sync state generation is not found. The delta token is expired and data must be synchronized again."}}`, ""},
		{"404 resyncRequired", 404, `{"error":{"code":"resyncRequired","message":"x"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				writeJSON(w, tt.status, tt.body)
			}))
			_, err := c.UsersDelta(context.Background(), c.base+"/users/delta?$deltatoken=old", nil, func(DeltaPage) error {
				t.Error("fn called on an expired token")
				return nil
			})
			if !errors.Is(err, ErrDeltaExpired) {
				t.Fatalf("err = %v, want ErrDeltaExpired", err)
			}
			if errors.Is(err, ErrNotFound) {
				t.Error("an expired token must not also read as ErrNotFound")
			}
			var ge *Error
			if errors.As(err, &ge) && ge.Location != tt.location {
				t.Errorf("Location = %q, want %q", ge.Location, tt.location)
			}
		})
	}
}

func TestDeltaCallbackErrorStops(t *testing.T) {
	calls := 0
	var srvURL string
	c, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, 200, `{"value":[{"id":"u1"}],"@odata.nextLink":"`+srvURL+`/v1.0/users/delta?$skiptoken=n"}`)
	}))
	srvURL = srv.URL
	stop := errors.New("stop")
	_, err := c.UsersDelta(context.Background(), "", []string{"id"}, func(DeltaPage) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's error", err)
	}
	srv.Sync()
	if calls != 1 {
		t.Errorf("calls = %d, want 1", calls)
	}
}
