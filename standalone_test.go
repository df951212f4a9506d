package tenantlink_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The repository must stand alone: a clone in an empty folder builds and
// tests with nothing beside it. TestNothingOutsideRepository reads every
// text file in it and fails on a reference that leaves it: a relative path
// that climbs above the root (dot-dot-slash paths in any file, or leading ".." arguments
// of a Go filepath.Join), or a name of material that lives only outside it.
func TestNothingOutsideRepository(t *testing.T) {
	root, err := os.Getwd() // the package directory is the repository root
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("run from the repository root: %v", err)
	}
	var (
		relPath = regexp.MustCompile(`(?:\.\./)+[\w.\-]*`)
		joinUp  = regexp.MustCompile(`filepath\.Join\(((?:"\.\.",\s*)+)`)
		// Names of the specification and reference folders the project
		// was started from; the repository has its own docs/SPEC.md and
		// testdata instead. Built by concatenation so that this file does
		// not name them itself.
		outside = []string{"PRODUCT" + ".md", "shared" + "/reference", ".." + "/shared"}
	)
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "artifacts" || strings.HasPrefix(name, "tenantlink-demo")) {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 4<<20 || name == "go.sum" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(b, 0) >= 0 { // binary
			return nil
		}
		checked++
		rel, _ := filepath.Rel(root, path)
		dir := filepath.Dir(path)
		text := string(b)
		for _, o := range outside {
			if strings.Contains(text, o) {
				t.Errorf("%s refers to %q, which is not in the repository", rel, o)
			}
		}
		for _, m := range relPath.FindAllString(text, -1) {
			if escapes(root, filepath.Join(dir, m)) {
				t.Errorf("%s: relative path %q leaves the repository", rel, m)
			}
		}
		if strings.HasSuffix(name, ".go") {
			for _, m := range joinUp.FindAllStringSubmatch(text, -1) {
				ups := strings.Count(m[1], `".."`)
				if escapes(root, filepath.Join(append([]string{dir}, slicesOf("..", ups)...)...)) {
					t.Errorf("%s: filepath.Join climbs %d levels, above the repository root", rel, ups)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked %d files; the walk did not cover the repository", checked)
	}
}

func escapes(root, p string) bool {
	rel, err := filepath.Rel(root, filepath.Clean(p))
	return err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func slicesOf(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
