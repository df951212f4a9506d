package web_test

import (
	"os/exec"
	"strings"
	"testing"
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
