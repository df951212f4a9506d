package sqlstore_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestSyncWritesHoldTheGroup covers what the foreign keys from
// sync_members and group_members to groups guaranteed before PostgreSQL's
// migration 0006 replaced them with one check per bulk write and a delete
// trigger: writes for an unknown group fail with ENOTFOUND, and deleting a
// group deletes its members and tracked members — on both backends.
func TestSyncWritesHoldTheGroup(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			db := mustOpen(t, be.dsn(t))
			u := &tenantlink.User{Email: "adele@contoso.example", DisplayName: "Adele", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}

			tests := []struct {
				name string
				err  func() error
			}{
				{"AddGroupMembers", func() error { _, err := db.AddGroupMembers(ctx, "no-such-group", []string{u.ID}); return err }},
				{"MarkSyncMembers", func() error {
					return db.MarkSyncMembers(ctx, "no-such-group", "run-1", []store.SyncMember{{ObjectID: "obj-1", UserID: u.ID}})
				}},
			}
			for _, tc := range tests {
				t.Run(tc.name+" of an unknown group", func(t *testing.T) {
					if got, want := tenantlink.ErrorCode(tc.err()), tenantlink.ENOTFOUND; got != want {
						t.Errorf("error code = %q, want %q", got, want)
					}
				})
			}

			t.Run("deleting the group deletes its rows", func(t *testing.T) {
				g := &tenantlink.Group{Name: "Everyone", Roles: []tenantlink.Role{}, Members: []string{}}
				if err := db.CreateGroup(ctx, g); err != nil {
					t.Fatal(err)
				}
				if n, err := db.AddGroupMembers(ctx, g.ID, []string{u.ID}); err != nil || n != 1 {
					t.Fatalf("AddGroupMembers = %d, %v; want 1, nil", n, err)
				}
				if err := db.MarkSyncMembers(ctx, g.ID, "run-1", []store.SyncMember{{ObjectID: "obj-1", UserID: u.ID}}); err != nil {
					t.Fatal(err)
				}
				got, err := db.GetUser(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{g.ID}, got.Groups); diff != "" {
					t.Fatalf("user's groups before the delete (-want +got):\n%s", diff)
				}
				if err := db.DeleteGroup(ctx, g.ID); err != nil {
					t.Fatal(err)
				}
				got, err = db.GetUser(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Groups) != 0 {
					t.Errorf("user's groups after the delete = %v, want none", got.Groups)
				}
				ms, err := db.SyncMembers(ctx, g.ID, store.SyncMemberFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) != 0 {
					t.Errorf("tracked members after the delete = %+v, want none", ms)
				}
			})

			t.Run("a group deleted during a sync leaves nothing behind", func(t *testing.T) {
				g := &tenantlink.Group{Name: "Held", Roles: []tenantlink.Role{}, Members: []string{}}
				if err := db.CreateGroup(ctx, g); err != nil {
					t.Fatal(err)
				}
				held, release := make(chan struct{}), make(chan struct{})
				txDone := make(chan error, 1)
				go func() {
					txDone <- db.InTx(ctx, func(tx store.Store) error {
						if err := tx.MarkSyncMembers(ctx, g.ID, "run-1", []store.SyncMember{{ObjectID: "obj-2", UserID: u.ID}}); err != nil {
							close(held)
							return err
						}
						close(held)
						<-release
						_, err := tx.AddGroupMembers(ctx, g.ID, []string{u.ID})
						return err
					})
				}()
				<-held
				deleted := make(chan error, 1)
				go func() { deleted <- db.DeleteGroup(ctx, g.ID) }()
				close(release)
				// Either order is allowed: the delete waits for the sync's
				// transaction, or the sync's second write finds the group
				// gone. No row of the group may outlive it either way.
				if err := <-txDone; err != nil && tenantlink.ErrorCode(err) != tenantlink.ENOTFOUND {
					t.Fatalf("sync transaction: %v, want success or ENOTFOUND", err)
				}
				if err := <-deleted; err != nil {
					t.Fatalf("DeleteGroup: %v", err)
				}
				ms, err := db.SyncMembers(ctx, g.ID, store.SyncMemberFilter{})
				if err != nil {
					t.Fatal(err)
				}
				got, err := db.GetUser(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) != 0 || len(got.Groups) != 0 {
					t.Errorf("after the delete: tracked %+v, user's groups %v; want none of either", ms, got.Groups)
				}
			})
		})
	}
}
