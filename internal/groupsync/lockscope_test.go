package groupsync_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/m365sim"
)

// walkRecorder is a store that records, for each walk of a group's tracked
// members (SyncMembers with no object ids and no mark: what override
// reads), whether it ran inside a transaction.
type walkRecorder struct {
	store.Store
	inTx bool
	mu   *sync.Mutex
	log  *[]bool
}

func (s walkRecorder) InTx(ctx context.Context, fn func(store.Store) error) error {
	return s.Store.InTx(ctx, func(tx store.Store) error {
		return fn(walkRecorder{Store: tx, inTx: true, mu: s.mu, log: s.log})
	})
}

func (s walkRecorder) SyncMembers(ctx context.Context, groupID string, f store.SyncMemberFilter) ([]store.SyncMember, error) {
	if len(f.ObjectIDs) == 0 && f.Mark == "" && f.NotMark == "" {
		s.mu.Lock()
		*s.log = append(*s.log, s.inTx)
		s.mu.Unlock()
	}
	return s.Store.SyncMembers(ctx, groupID, f)
}

// TestOverrideReadsOutsideTheTransaction: with override, a run reads the
// users of all the group's tracked members — the whole group — before its
// final transaction, not inside it, where on SQLite it held the write lock
// for seconds on a large group (decision 0026); and the result is
// override's: the local member leaves, the removed member is disabled.
func TestOverrideReadsOutsideTheTransaction(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be.dsn(t), m365sim.Options{Users: 3, Groups: 1})
			var ids []string
			for _, n := range []string{"w1", "w2", "w3", "w4", "w5"} {
				ids = append(ids, e.simUser(t, upn(e, n), n))
			}
			e.simGroup(t, "Source", ids)
			local := &tenantlink.User{Email: "local@tenantlink.example", DisplayName: "Local", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
			must(t, e.st.CreateUser(context.Background(), local))
			g := e.syncedGroup(t, "Mirror", "Source", true, groupsync.MissingDisable, local.ID)
			var walks []bool
			e.svc.Store = walkRecorder{Store: e.st, mu: &sync.Mutex{}, log: &walks}

			if r := e.run(t, g, groupsync.RunOptions{}); r.Status != store.RunSucceeded {
				t.Fatalf("first run = %s %v", r.Status, r.Errors)
			}
			e.control(t, "DELETE", "/_sim/groups/"+e.groups["Source"]+"/members/"+ids[0], nil, nil)
			r := e.run(t, g, groupsync.RunOptions{})
			if r.Status != store.RunSucceeded {
				t.Fatalf("second run = %s %v", r.Status, r.Errors)
			}
			if diff := cmp.Diff([]bool{false, false}, walks); diff != "" {
				t.Errorf("walks of the tracked members, inside a transaction (-want +got):\n%s", diff)
			}
			if u := e.imported(t, ids[0]); u == nil || u.Active {
				t.Errorf("removed member after the run = %+v, want disabled", u)
			}
			got, err := e.st.GetGroup(context.Background(), g.ID)
			must(t, err)
			if len(got.Members) != 4 {
				t.Errorf("group has %d members, want the source's 4 (the local member left)", len(got.Members))
			}
		})
	}
}
