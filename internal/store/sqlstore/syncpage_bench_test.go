package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/store/sqlstore"
)

// BenchmarkSyncPage measures what the group member sync stores for one
// page of 999 users (Graph's largest page), as groupsync does it: in one
// transaction, the users upserted, tracked in sync_members with the run's
// mark, appended to the directory group, and the run record updated. The
// first 100 pages (a 100k tenant) create; a second pass over the same pages
// finds every user unchanged (an unchanged full re-read), and a third finds
// every user's job title changed (what an incremental run's delta pages
// store, there 200 users at a time). ms/page is what
// must stay well under Graph's ~100 ms page latency for the store to hide
// behind the next fetch; cpu_ms/page is the same in CPU time, steadier
// on a shared machine.
func BenchmarkSyncPage(b *testing.B) {
	const pages, size = 100, 999
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := b.Context()
			db := mustOpen(b, be.dsn(b))
			g := &tenantlink.Group{Name: "Everyone", Roles: []tenantlink.Role{}, Members: []string{}}
			if err := db.CreateGroup(ctx, g); err != nil {
				b.Fatal(err)
			}
			// Random object ids, like Graph's GUIDs: index inserts land all
			// over the b-trees, not at their ends.
			rng := rand.New(rand.NewPCG(1, 2))
			objs := make([]string, pages*size)
			for i := range objs {
				var u uuid.UUID
				for j := range u {
					u[j] = byte(rng.Uint32())
				}
				objs[i] = u.String()
			}
			var created, unchanged, changed, createdCPU, unchangedCPU, changedCPU time.Duration
			var phases [3]pagePhases
			for b.Loop() {
				for pass, d := range [][2]*time.Duration{{&created, &createdCPU}, {&unchanged, &unchangedCPU}, {&changed, &changedCPU}} {
					run := &store.SyncRun{GroupID: g.ID, Trigger: "bench"}
					if err := db.CreateSyncRun(ctx, run, time.Time{}); err != nil {
						b.Fatal(err)
					}
					start, cpu := time.Now(), cpuTime(b)
					for p := range pages {
						syncPage(b, ctx, db, g.ID, run, objs[p*size:(p+1)*size], pass, &phases[pass])
					}
					*d[0] += time.Since(start)
					*d[1] += cpuTime(b) - cpu
					run.Status = store.RunSucceeded
					if err := db.UpdateSyncRun(ctx, run); err != nil {
						b.Fatal(err)
					}
				}
			}
			per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N*pages) }
			b.ReportMetric(per(created), "create_ms/page")
			b.ReportMetric(per(unchanged), "unchanged_ms/page")
			b.ReportMetric(per(createdCPU), "create_cpu_ms/page")
			b.ReportMetric(per(unchangedCPU), "unchanged_cpu_ms/page")
			b.ReportMetric(per(changed), "changed_ms/page")
			b.ReportMetric(per(changedCPU), "changed_cpu_ms/page")
			for pass, name := range []string{"create", "unchanged", "changed"} {
				ph := phases[pass]
				b.ReportMetric(per(ph.users), name+"_users_ms/page")
				b.ReportMetric(per(ph.marks), name+"_marks_ms/page")
				b.ReportMetric(per(ph.members), name+"_members_ms/page")
				b.ReportMetric(per(ph.commit), name+"_run+commit_ms/page")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine it shows the store's own cost where wall time also shows the
// neighbours' (on PostgreSQL it leaves out the server's share).
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pagePhases is where a page's wall time went: the users' upsert, their
// sync_members marks, the group membership, and the run record's update
// with the commit.
type pagePhases struct{ users, marks, members, commit time.Duration }

func syncPage(b *testing.B, ctx context.Context, db *sqlstore.DB, groupID string, run *store.SyncRun, objs []string, pass int, ph *pagePhases) {
	b.Helper()
	users := make([]*tenantlink.User, len(objs))
	for i, obj := range objs {
		job := "Clerk"
		if pass == 2 {
			job = "Senior clerk"
		}
		users[i] = &tenantlink.User{Email: "u-" + obj + "@contoso.example", DisplayName: "User " + obj[:8],
			GivenName: "User", Surname: obj[:8], JobTitle: job, Department: "Sales", Active: true,
			Roles: []tenantlink.Role{tenantlink.RoleUser}, Source: &tenantlink.UserSource{DataSource: "ds-bench", ObjectID: obj, Tenant: "tenant-bench"}}
	}
	t := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d += now.Sub(t)
		t = now
	}
	err := db.InTx(ctx, func(tx store.Store) error {
		outs, err := tx.UpsertImportedUsers(ctx, "ds-bench", users)
		lap(&ph.users)
		if err != nil {
			return err
		}
		marks := make([]store.SyncMember, len(outs))
		ids := make([]string, len(outs))
		for i, o := range outs {
			want := []string{store.ImportCreated, store.ImportUnchanged, store.ImportUpdated}[pass]
			if o.Outcome != want {
				return fmt.Errorf("user %d: outcome %v, want %v", i, o.Outcome, want)
			}
			marks[i] = store.SyncMember{ObjectID: objs[i], UserID: o.ID}
			ids[i] = o.ID
		}
		if err := tx.MarkSyncMembers(ctx, groupID, run.ID, marks); err != nil {
			return err
		}
		lap(&ph.marks)
		if _, err := tx.AddGroupMembers(ctx, groupID, ids); err != nil {
			return err
		}
		lap(&ph.members)
		return tx.UpdateSyncRun(ctx, run)
	})
	lap(&ph.commit)
	if err != nil {
		b.Fatalf("page: %v", err)
	}
}
