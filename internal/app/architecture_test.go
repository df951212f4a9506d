package app_test

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const module = "github.com/tenantlink/tenantlink"

// TestArchitectureTable keeps docs/ARCHITECTURE.md's package table true:
// one row per package of the module, and its imports column equal to what
// `go list` says the package imports (outside its tests).
func TestArchitectureTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)`(?: \\(root\\))? \\| .* \\| ([^|]*) \\|$")
	documented := map[string][]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var imps []string
		if col := strings.TrimSpace(m[2]); col != "—" {
			for _, name := range strings.Split(col, ",") {
				imps = append(imps, strings.TrimSpace(name))
			}
		}
		slices.Sort(imps)
		documented[m[1]] = imps
	}

	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	actual := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		var imps []string
		for _, imp := range strings.Fields(imports) {
			if imp == module || !strings.HasPrefix(imp, module+"/") {
				continue
			}
			imps = append(imps, strings.TrimPrefix(strings.TrimPrefix(imp, module+"/"), "internal/"))
		}
		slices.Sort(imps)
		actual[short(pkg)] = imps
	}
	if len(documented) < 10 {
		t.Fatalf("found %d table rows in docs/ARCHITECTURE.md; has the table's format changed?", len(documented))
	}
	if diff := cmp.Diff(actual, documented, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
		t.Errorf("docs/ARCHITECTURE.md's package table disagrees with go list (-go list +doc):\n%s", diff)
	}
}

func short(pkg string) string {
	if pkg == module {
		return "tenantlink"
	}
	return strings.TrimPrefix(pkg, module+"/")
}
