package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestWriterQueuedBehindTransactionGetsTheLock: a writer that waits for
// SQLite's write lock while a sync transaction holds it gets the lock once
// that transaction commits — the transaction never waits for the writer.
//
// It did: the sync's multi-row statements are prepared once on the pool
// and kept in a small LRU, and evicting one inside a transaction closed it
// there, which takes the mutex of every connection it was ever prepared on
// (database/sql's removeOpenStmt). A connection waiting in BEGIN IMMEDIATE
// holds its mutex until SQLite gives it the lock, so the transaction
// holding the lock waited for it in turn, until the writer gave up (the
// busy_timeout, 10 s; Graph's 3 s for the notification receiver). Here the
// writer is a transaction of the store; in the product it was River's
// producer, completer or elector, or the receiver's job insert (docs/decisions/0026).
func TestWriterQueuedBehindTransactionGetsTheLock(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			db := mustOpen(t, be.dsn(t))
			g := &tenantlink.Group{Name: "Sales"}
			if err := db.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i := range 40 {
				u := &tenantlink.User{Email: fmt.Sprintf("user%d@contoso.example", i), DisplayName: fmt.Sprintf("User %d", i),
					Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}}
				if err := db.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, u.ID)
			}
			// A one-row insert into group_members, prepared on the pool and on
			// the transaction's connection, which then goes back to the pool.
			if _, err := db.AddGroupMembers(ctx, g.ID, ids[:1]); err != nil {
				t.Fatal(err)
			}

			waiting := make(chan struct{})
			writer := make(chan error, 1)
			err := db.InTx(ctx, func(tx store.Store) error {
				// The write lock is ours (BEGIN IMMEDIATE on SQLite). Another
				// writer takes a pooled connection and queues for it.
				go func() {
					writer <- db.InTx(ctx, func(tx store.Store) error {
						return tx.CreateUser(ctx, &tenantlink.User{Email: "queued@contoso.example", DisplayName: "Queued",
							Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}})
					})
				}()
				go func() {
					defer close(waiting)
					for db.SQL().Stats().InUse < 2 {
						time.Sleep(time.Millisecond)
					}
					// Let it reach SQLite's busy handler (this orders the
					// test; nothing is asserted about time).
					time.Sleep(200 * time.Millisecond)
				}()
				<-waiting
				// Inserts of every size from 2 to 40 rows: more statements
				// than the LRU keeps, so the one-row insert is evicted while
				// the writer waits.
				for n := 2; n <= len(ids); n++ {
					if _, err := tx.AddGroupMembers(ctx, g.ID, ids[:n]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("transaction: %v", err)
			}
			if err := <-writer; err != nil {
				t.Errorf("the writer queued behind the transaction failed: %v", err)
			}
			got, err := db.GetGroup(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Members) != len(ids) {
				t.Errorf("group has %d members, want %d", len(got.Members), len(ids))
			}
		})
	}
}
