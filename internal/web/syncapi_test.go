package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
)

// fakeTasks and fakeSync stand in for the scheduler and the sync engine:
// the handlers are tested on their own, without a database or River.
type fakeTasks struct {
	Tasks
	webhooks map[string]string // task id → secret
}

func (f *fakeTasks) Webhook(_ context.Context, id, secret string) (*tasks.Enqueued, error) {
	if s, ok := f.webhooks[id]; !ok || s != secret {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "no such webhook")
	}
	return &tasks.Enqueued{JobID: 7}, nil
}

type fakeSync struct {
	GroupSync
	limit  int
	dryRun bool
}

func (f *fakeSync) Runs(_ context.Context, _ *tenantlink.Principal, groupID string, limit int) ([]*groupsync.Run, error) {
	f.limit = limit
	return []*groupsync.Run{{ID: "r1", GroupID: groupID, Status: "succeeded"}}, nil
}

func (f *fakeSync) DryRun(_ context.Context, _ *tenantlink.Principal, groupID string, full bool) (*groupsync.Run, error) {
	f.dryRun = true
	return &groupsync.Run{ID: "dry", GroupID: groupID, DryRun: true, Full: full,
		Changes: []groupsync.Change{{Action: "create", Email: "a@example.com"}}}, nil
}

func TestWebhookRoute(t *testing.T) {
	s := New(Config{Sync: &SyncAPI{Tasks: &fakeTasks{webhooks: map[string]string{"t1": "s3cret"}}, Sync: &fakeSync{}}})
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"the right secret queues a run", "/hooks/tasks/t1/s3cret", http.StatusAccepted},
		{"a wrong secret is not found", "/hooks/tasks/t1/wrong", http.StatusNotFound},
		{"an unknown task is not found alike", "/hooks/tasks/t9/s3cret", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", tc.path, nil))
			if rec.Code != tc.want {
				t.Errorf("POST %s = %d %s, want %d", tc.path, rec.Code, rec.Body, tc.want)
			}
		})
	}
}

func TestGroupSyncHandlers(t *testing.T) {
	admin := &tenantlink.Principal{Roles: []tenantlink.Role{tenantlink.RoleAdministrator}}
	req := func(method, target string) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		r.SetPathValue("id", "g1")
		return r.WithContext(context.WithValue(r.Context(), principalKey, admin))
	}
	t.Run("runs limit", func(t *testing.T) {
		for _, tc := range []struct {
			query     string
			wantLimit int
			wantCode  string
		}{
			{"", 20, ""},
			{"?limit=500", 500, ""},
			{"?limit=501", 0, tenantlink.EINVALID},
			{"?limit=0", 0, tenantlink.EINVALID},
			{"?limit=x", 0, tenantlink.EINVALID},
		} {
			f := &fakeSync{}
			s := New(Config{Sync: &SyncAPI{Sync: f}})
			err := s.listGroupSyncRuns(httptest.NewRecorder(), req("GET", "/api/v1/groups/g1/sync/runs"+tc.query))
			if got := tenantlink.ErrorCode(err); got != tc.wantCode || f.limit != tc.wantLimit {
				t.Errorf("%q: error %q, limit %d; want %q, %d", tc.query, got, f.limit, tc.wantCode, tc.wantLimit)
			}
		}
	})
	t.Run("dry run answers the typed run", func(t *testing.T) {
		f := &fakeSync{}
		s := New(Config{Sync: &SyncAPI{Sync: f}})
		rec := httptest.NewRecorder()
		if err := s.runGroupSync(rec, req("POST", "/api/v1/groups/g1/sync?dryRun=true&full=true")); err != nil {
			t.Fatal(err)
		}
		var got groupsync.Run
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want := groupsync.Run{ID: "dry", GroupID: "g1", DryRun: true, Full: true, Changes: []groupsync.Change{{Action: "create", Email: "a@example.com"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("dry run answer (-want +got):\n%s", diff)
		}
	})
	t.Run("a dry run cannot be confirmed", func(t *testing.T) {
		f := &fakeSync{}
		err := New(Config{Sync: &SyncAPI{Sync: f}}).runGroupSync(httptest.NewRecorder(), req("POST", "/api/v1/groups/g1/sync?dryRun=true&confirm=true"))
		if tenantlink.ErrorCode(err) != tenantlink.EINVALID || f.dryRun {
			t.Errorf("dryRun+confirm: error %v, ran %v; want invalid and no run", err, f.dryRun)
		}
	})
}
