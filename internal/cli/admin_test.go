package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAdminTokens: create-token, list-tokens (never the secret),
// revoke-token, on one data folder.
func TestAdminTokens(t *testing.T) {
	data := t.TempDir()
	cli := func(args ...string) (string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append(args, "--data", data), &out, &errb)
		return out.String() + errb.String(), code
	}
	if out, code := cli("admin", "create-user", "--email", "ops@example.com"); code != 0 {
		t.Fatalf("create-user: %d %s", code, out)
	}
	raw, code := cli("admin", "create-token", "--email", "ops@example.com", "--name", "backup", "--expires-in-days", "30")
	raw = strings.TrimSpace(raw)
	if code != 0 || !strings.HasPrefix(raw, "tl_") {
		t.Fatalf("create-token: %d %q", code, raw)
	}
	list, code := cli("admin", "list-tokens")
	if code != 0 || !strings.Contains(list, "ops@example.com") || !strings.Contains(list, "backup") || strings.Contains(list, raw) {
		t.Fatalf("list-tokens: %d\n%s", code, list)
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 {
		t.Fatalf("list-tokens: %d lines, want a header and one token:\n%s", len(lines), list)
	}
	id := strings.Fields(lines[1])[0]
	if out, code := cli("admin", "revoke-token", id); code != 0 || !strings.Contains(out, "revoked "+id) {
		t.Fatalf("revoke-token: %d %s", code, out)
	}
	if out, code := cli("admin", "revoke-token", id); code == 0 || !strings.Contains(out, "not found") {
		t.Errorf("revoking again: %d %s, want an error saying not found", code, out)
	}
	if list, _ := cli("admin", "list-tokens", "--email", "ops@example.com"); strings.Count(strings.TrimSpace(list), "\n") != 0 {
		t.Errorf("list-tokens after revoking: %s, want only the header", list)
	}
}
