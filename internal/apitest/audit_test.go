package apitest

import (
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

// TestAuditFilters reads the audit log through the API with each filter,
// as an Administrator and as a plain user, who sees only their own
// entries however they ask.
func TestAuditFilters(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.Admin
	plain := e.User(t)
	var g struct{ ID string }
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Audited"}, &g)
	admin.Must(200, "PATCH", "/api/v1/groups/"+g.ID, map[string]any{"name": "Audited again"}, nil)
	plain.Must(200, "PATCH", "/api/v1/users/"+plain.UserID, map[string]any{"displayName": "Plain"}, nil)

	list := func(tb testing.TB, c *testenv.Client, q url.Values) []tenantlink.AuditEntry {
		tb.Helper()
		var out struct{ Value []tenantlink.AuditEntry }
		c.In(tb).Must(200, "GET", "/api/v1/audit?"+q.Encode(), nil, &out)
		return out.Value
	}
	actions := func(es []tenantlink.AuditEntry) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Action+" "+e.Target)
		}
		return out
	}
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tc := range []struct {
		name string
		c    *testenv.Client
		q    url.Values
		want []string
	}{
		{"target", admin, url.Values{"target": {"group:" + g.ID}}, []string{"group.update group:" + g.ID, "group.create group:" + g.ID}},
		{"action prefix and actor", admin, url.Values{"action": {"group."}, "actor": {"ADMIN@"}, "target": {"group:" + g.ID}}, []string{"group.update group:" + g.ID, "group.create group:" + g.ID}},
		{"outcome and limit", admin, url.Values{"outcome": {"ok"}, "target": {"group:" + g.ID}, "limit": {"1"}}, []string{"group.update group:" + g.ID}},
		{"today, to a bare date is inclusive", admin, url.Values{"from": {today}, "to": {today}, "target": {"group:" + g.ID}}, []string{"group.update group:" + g.ID, "group.create group:" + g.ID}},
		{"from tomorrow", admin, url.Values{"from": {tomorrow}}, []string{}},
		{"a plain user sees their own", plain, url.Values{}, []string{"session.create user:" + plain.UserID, "user.update user:" + plain.UserID}},
		{"a plain user asking for a group sees nothing", plain, url.Values{"target": {"group:" + g.ID}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := actions(list(t, tc.c, tc.q))
			if tc.c == plain {
				slices.Sort(got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GET /api/v1/audit?%s (-want +got):\n%s", tc.q.Encode(), diff)
			}
		})
	}

	t.Run("paging with before and after", func(t *testing.T) {
		all := list(t, admin, url.Values{"target": {"group:" + g.ID}})
		older := list(t, admin, url.Values{"target": {"group:" + g.ID}, "before": {itoa(all[0].ID)}})
		newer := list(t, admin, url.Values{"target": {"group:" + g.ID}, "after": {itoa(all[1].ID)}})
		if diff := cmp.Diff([]string{actions(all)[1]}, actions(older)); diff != "" {
			t.Errorf("before (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{actions(all)[0]}, actions(newer)); diff != "" {
			t.Errorf("after (-want +got):\n%s", diff)
		}
	})

	t.Run("users page by name", func(t *testing.T) {
		var all, page struct{ Value []tenantlink.User }
		admin.In(t).Must(200, "GET", "/api/v1/users?sort=name", nil, &all)
		admin.In(t).Must(200, "GET", "/api/v1/users?sort=name&limit=1&offset=1", nil, &page)
		if len(all.Value) < 2 || len(page.Value) != 1 || page.Value[0].ID != all.Value[1].ID {
			t.Errorf("second user by name: got %v, want %s of %d", page.Value, all.Value[1].Email, len(all.Value))
		}
	})

	t.Run("times are ISO 8601 in UTC", func(t *testing.T) {
		r := admin.In(t).Must(200, "GET", "/api/v1/audit?limit=1", nil, nil)
		var raw struct{ Value []struct{ At string } }
		r.Decode(t, &raw)
		at, err := time.Parse(time.RFC3339Nano, raw.Value[0].At)
		if err != nil || at.Location() != time.UTC {
			t.Errorf("at = %q: %v, want RFC 3339 in UTC", raw.Value[0].At, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDeleteGroupRemovesSyncTask renames, then deletes a group whose
// member sync is on: the scheduled task takes the new name, then goes with
// the group, and the delete's audit entry says so.
func TestDeleteGroupRemovesSyncTask(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.Admin
	ds := e.AuthorizedDataSource(admin.In(t), "Contoso", nil)
	var g struct{ ID string }
	admin.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Synced"}, &g)
	admin.Must(200, "PUT", "/api/v1/groups/"+g.ID+"/sync", map[string]any{"enabled": true, "datasource": ds.ID, "sourceGroup": "*"}, nil)
	tasks := func(tb testing.TB) []string {
		tb.Helper()
		var out struct {
			Value []struct{ Target, Name string }
		}
		admin.In(tb).Must(200, "GET", "/api/v1/tasks", nil, &out)
		var targets []string
		for _, tk := range out.Value {
			targets = append(targets, tk.Target+" "+tk.Name)
		}
		return targets
	}
	if got := tasks(t); !slices.Contains(got, g.ID+" Group member sync: Synced") {
		t.Fatalf("tasks after turning sync on: %v, want one for group %s", got, g.ID)
	}
	admin.Must(200, "PATCH", "/api/v1/groups/"+g.ID, map[string]any{"name": "Synced staff"}, nil)
	if got := tasks(t); !slices.Contains(got, g.ID+" Group member sync: Synced staff") {
		t.Errorf("tasks after renaming the group: %v, want its task renamed", got)
	}
	admin.Must(204, "DELETE", "/api/v1/groups/"+g.ID, nil, nil)
	if got := tasks(t); len(got) != 0 {
		t.Errorf("tasks after deleting the group: %v, want its task gone", got)
	}
	var out struct{ Value []tenantlink.AuditEntry }
	admin.Must(200, "GET", "/api/v1/audit?action=group.delete&target=group:"+g.ID, nil, &out)
	if len(out.Value) != 1 || out.Value[0].Detail != "Synced staff; its group member sync and scheduled task are removed" {
		t.Errorf("group.delete entries = %+v, want one saying the sync and task are removed", out.Value)
	}
}
