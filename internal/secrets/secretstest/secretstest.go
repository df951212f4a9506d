// Package secretstest provides keyrings for tests of packages that store
// secrets, so they exercise real encryption instead of a stand-in.
package secretstest

import (
	"path/filepath"
	"testing"

	"github.com/tenantlink/tenantlink/internal/secrets"
)

// NewTestKeyring returns a keyring with one random key, kept in a key file in
// a temporary directory that is removed when the test ends.
func NewTestKeyring(tb testing.TB) *secrets.Keyring {
	tb.Helper()
	k, err := secrets.LoadOrCreate(filepath.Join(tb.TempDir(), "keys", "tenantlink.key"))
	if err != nil {
		tb.Fatalf("secretstest: %v", err)
	}
	return k
}
