package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// BenchmarkUpsertUsers measures what a directory import does: 100,000 users
// looked up by their Microsoft object id and created or updated, 1,000 per
// transaction. The first pass creates, later passes update.
func BenchmarkUpsertUsers(b *testing.B) {
	const total, batch = 100_000, 1_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := b.Context()
			db := mustOpen(b, be.dsn(b))
			pass := 0
			for b.Loop() {
				pass++
				for start := 0; start < total; start += batch {
					err := db.InTx(ctx, func(tx store.Store) error {
						for i := start; i < start+batch; i++ {
							obj := fmt.Sprintf("obj-%06d", i)
							u, err := tx.GetUserBySource(ctx, "ds-bench", obj)
							switch tenantlink.ErrorCode(err) {
							case "":
								u.DisplayName = fmt.Sprintf("User %d (pass %d)", i, pass)
								if err := tx.UpdateUser(ctx, u); err != nil {
									return err
								}
							case tenantlink.ENOTFOUND:
								u = &tenantlink.User{
									Email:       fmt.Sprintf("user%06d@contoso.com", i),
									DisplayName: fmt.Sprintf("User %d", i),
									Active:      true,
									Roles:       []tenantlink.Role{tenantlink.RoleUser},
									Source:      &tenantlink.UserSource{DataSource: "ds-bench", ObjectID: obj},
								}
								if err := tx.CreateUser(ctx, u); err != nil {
									return err
								}
							default:
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
