package cli

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// TestReadmeCommandTable keeps the README's command table true: every
// command a user can run (leaves of the tree, not hidden) is named there,
// and the table names no command that does not exist.
func TestReadmeCommandTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## Commands")
	if start < 0 {
		t.Fatal("README.md has no ## Commands section")
	}
	section := text[start:]
	if end := strings.Index(section[len("## Commands"):], "\n## "); end >= 0 {
		section = section[:len("## Commands")+end]
	}
	// A row's first cell: `tenantlink a b \| c` names "a b" and "a c".
	row := regexp.MustCompile("(?m)^\\| `tenantlink ([^`]+)` \\|")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		alts := strings.Split(m[1], `\|`)
		first := strings.Fields(alts[0])
		var prefix []string
		for _, w := range first {
			if strings.ToUpper(w) == w || strings.HasPrefix(w, "[") {
				break // an argument: GROUP, DATASOURCE, [OPERATION …]
			}
			prefix = append(prefix, w)
		}
		documented = append(documented, strings.Join(prefix, " "))
		for _, alt := range alts[1:] {
			words := strings.Fields(alt)
			if len(words) == 0 || len(prefix) == 0 {
				t.Fatalf("README row %q: empty alternative", m[0])
			}
			documented = append(documented, strings.Join(append(slices.Clone(prefix[:len(prefix)-1]), words[0]), " "))
		}
	}
	var commands []string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			p := append(slices.Clone(path), sub.Name())
			if sub.HasAvailableSubCommands() {
				walk(sub, p)
				continue
			}
			commands = append(commands, strings.Join(p, " "))
		}
	}
	walk(newRootCmd(io.Discard, io.Discard), nil)
	slices.Sort(documented)
	slices.Sort(commands)
	if diff := cmp.Diff(commands, documented); diff != "" {
		t.Errorf("README.md command table (-commands +documented):\n%s", diff)
	}
}
