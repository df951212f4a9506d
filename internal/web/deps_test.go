package web_test

import (
	"log/slog"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantlink/tenantlink/internal/web/processui"
	"github.com/tenantlink/tenantlink/internal/web/syncui"
	"github.com/tenantlink/tenantlink/internal/web/ui"
)

// TestNoQueueOrDriverDeps keeps the HTTP layer off the job queue and the
// SQL drivers: handlers reach tasks through the Tasks interface and the
// River-free package jobs/tasks, never River, pgx or SQLite.
func TestNoQueueOrDriverDeps(t *testing.T) {
	for _, pkg := range []string{".", "./syncui", "./ui", "./processui", "./page"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
			}
			var bad []string
			for _, dep := range strings.Fields(string(out)) {
				for _, banned := range []string{"github.com/riverqueue/", "github.com/jackc/", "modernc.org/sqlite", "/internal/store/sqlstore"} {
					if strings.Contains(dep, banned) {
						bad = append(bad, dep)
					}
				}
			}
			if len(bad) > 0 {
				t.Errorf("%s depends on %d queue or driver packages, want none: %s", pkg, len(bad), strings.Join(bad, ", "))
			}
		})
	}
}

// TestPageDepsAreInterfaces keeps the page packages on small interfaces:
// every field of their Deps is an interface declared in the page
// package, a function or the logger — never a service struct, so no
// handler can reach a store (or anything else) through a service's
// field, and their tests run on fakes (docs/decisions/0023).
func TestPageDepsAreInterfaces(t *testing.T) {
	logger := reflect.TypeFor[*slog.Logger]()
	for _, deps := range []reflect.Type{reflect.TypeFor[syncui.Deps](), reflect.TypeFor[processui.Deps](), reflect.TypeFor[ui.Deps]()} {
		for f := range deps.Fields() {
			t.Run(deps.String()+"."+f.Name, func(t *testing.T) {
				switch {
				case f.Type == logger, f.Type.Kind() == reflect.Func:
				case f.Type.Kind() == reflect.Interface:
					if f.Type.PkgPath() != deps.PkgPath() {
						t.Errorf("%s is %s, want an interface declared in %s (only the methods its pages call)", f.Name, f.Type, deps.PkgPath())
					}
				default:
					t.Errorf("%s is %s, want an interface, a function or the logger", f.Name, f.Type)
				}
			})
		}
	}
}
