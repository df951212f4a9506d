package secrets_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantlink/tenantlink/internal/secrets"
	"github.com/tenantlink/tenantlink/internal/secrets/secretstest"
)

func mustLoad(tb testing.TB, path string) *secrets.Keyring {
	tb.Helper()
	k, err := secrets.LoadOrCreate(path)
	if err != nil {
		tb.Fatalf("LoadOrCreate(%s): %v", path, err)
	}
	return k
}

func mustSeal(tb testing.TB, k *secrets.Keyring, pt, ad string) []byte {
	tb.Helper()
	b, err := k.Seal([]byte(pt), []byte(ad))
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := secretstest.NewTestKeyring(t)
	for _, tc := range []struct {
		name string
		pt   string
		ad   string
	}{
		{"empty", "", ""},
		{"refresh token", "0.AXoA-refresh-token-value", "credential:ds1"},
		{"binary", "\x00\x01\xff", "oauth_state:abc"},
		{"large", strings.Repeat("x", 1<<16), "credential:ds2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sealed := mustSeal(t, k, tc.pt, tc.ad)
			if tc.pt != "" && bytes.Contains(sealed, []byte(tc.pt)) {
				t.Fatalf("sealed blob contains the plaintext")
			}
			got, err := k.Open(sealed, []byte(tc.ad))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if string(got) != tc.pt {
				t.Errorf("Open = %q, want %q", got, tc.pt)
			}
			kid, err := secrets.KeyID(sealed)
			if err != nil || kid != k.CurrentKID() {
				t.Errorf("KeyID = %q, %v; want %q, nil", kid, err, k.CurrentKID())
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k := secretstest.NewTestKeyring(t)
	a := mustSeal(t, k, "same", "ad")
	b := mustSeal(t, k, "same", "ad")
	if bytes.Equal(a, b) {
		t.Errorf("two seals of the same plaintext are identical; nonce reuse")
	}
}

func TestOpenRejects(t *testing.T) {
	k := secretstest.NewTestKeyring(t)
	other := secretstest.NewTestKeyring(t)
	sealed := mustSeal(t, k, "client-secret", "credential:ds1")
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name   string
		blob   []byte
		ad     string
		wantIs error
	}{
		{"wrong associated data", sealed, "credential:ds2", secrets.ErrDecrypt},
		{"no associated data", sealed, "", secrets.ErrDecrypt},
		{"flipped ciphertext byte", flip(len(sealed) - 20), "credential:ds1", secrets.ErrDecrypt},
		{"flipped tag byte", flip(len(sealed) - 1), "credential:ds1", secrets.ErrDecrypt},
		{"flipped nonce byte", flip(2 + len(k.CurrentKID())), "credential:ds1", secrets.ErrDecrypt},
		{"flipped kid byte", flip(2), "credential:ds1", secrets.ErrUnknownKey},
		{"truncated", sealed[:len(sealed)-17], "credential:ds1", secrets.ErrDecrypt},
		{"header only", sealed[:2+len(k.CurrentKID())], "credential:ds1", secrets.ErrDecrypt},
		{"empty", nil, "credential:ds1", secrets.ErrDecrypt},
		{"bad version", append([]byte{9}, sealed[1:]...), "credential:ds1", secrets.ErrDecrypt},
		{"sealed by another keyring", mustSeal(t, other, "client-secret", "credential:ds1"), "credential:ds1", secrets.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.Open(tc.blob, []byte(tc.ad))
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("Open = %q, %v; want error %v", got, err, tc.wantIs)
			}
			if strings.Contains(err.Error(), "client-secret") {
				t.Errorf("error %q reveals the plaintext", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenantlink.key")
	k1 := mustLoad(t, path)
	old := mustSeal(t, k1, "old secret", "credential:a")

	kid2, err := secrets.Rotate(path)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	k2 := mustLoad(t, path)
	if got, want := k2.CurrentKID(), kid2; got != want {
		t.Errorf("CurrentKID after rotate = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{k1.CurrentKID(), kid2}, k2.KIDs()); diff != "" {
		t.Errorf("KIDs (-want +got):\n%s", diff)
	}
	got, err := k2.Open(old, []byte("credential:a"))
	if err != nil || string(got) != "old secret" {
		t.Errorf("rotated keyring opens old blob = %q, %v; want %q", got, err, "old secret")
	}
	fresh := mustSeal(t, k2, "new secret", "credential:a")
	if kid, _ := secrets.KeyID(fresh); kid != kid2 {
		t.Errorf("new blob sealed with %q, want the new key %q", kid, kid2)
	}
	// The pre-rotation keyring does not know the new key: it must say so
	// rather than report tampering.
	if _, err := k1.Open(fresh, []byte("credential:a")); !errors.Is(err, secrets.ErrUnknownKey) {
		t.Errorf("old keyring opening new blob: err = %v, want ErrUnknownKey", err)
	}
	if _, err := secrets.Rotate(path); err != nil {
		t.Fatalf("second Rotate: %v", err)
	}
	if got := len(mustLoad(t, path).KIDs()); got != 3 {
		t.Errorf("after two rotations: %d keys, want 3", got)
	}
}

func TestRotateWithoutTrailingNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	mustLoad(t, path)
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.TrimRight(raw, "\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Rotate(path); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if got := len(mustLoad(t, path).KIDs()); got != 2 {
		t.Errorf("keys after rotate = %d, want 2", got)
	}
}

func TestLoadOrCreatePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "tenantlink.key")
	k := mustLoad(t, path)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("key file mode = %04o, want %04o", got, want)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := di.Mode().Perm(), os.FileMode(0o700); got != want {
		t.Errorf("key directory mode = %04o, want %04o", got, want)
	}
	// Loading again must return the same key, not a new one.
	if got, want := mustLoad(t, path).CurrentKID(), k.CurrentKID(); got != want {
		t.Errorf("reload CurrentKID = %q, want %q", got, want)
	}

	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		t.Run(mode.String(), func(t *testing.T) {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(path, 0o600) })
			_, err := secrets.LoadOrCreate(path)
			if err == nil || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("LoadOrCreate with mode %04o: err = %v, want one telling to chmod 600", mode, err)
			}
			if _, err := secrets.Rotate(path); err == nil {
				t.Errorf("Rotate with mode %04o: err = nil, want refusal", mode)
			}
		})
	}
}

func TestLoadGarbage(t *testing.T) {
	const goodKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // 32 zero bytes
	for _, tc := range []struct {
		name    string
		content string
		wantErr string // "" = loads
	}{
		{"empty", "", "no keys"},
		{"only comments", "# nothing\n\n", "no keys"},
		{"one field", "abc\n", "line 1"},
		{"three fields", "a " + goodKey + " extra\n", "line 1"},
		{"not base64", "a !!!notbase64!!!\n", "not valid base64"},
		{"short key", "a AAAA\n", "3 bytes, want 32"},
		{"duplicate kid", "a " + goodKey + "\na " + goodKey + "\n", "duplicate key id"},
		{"long kid", strings.Repeat("k", 65) + " " + goodKey + "\n", "longer than"},
		{"binary junk", "\x00\x01\x02\xff\n", "line 1"},
		{"good with comment and no newline", "# key\na " + goodKey, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := secrets.LoadOrCreate(path)
			if tc.wantErr == "" {
				if err != nil || k.CurrentKID() != "a" {
					t.Fatalf("LoadOrCreate = %v; want key \"a\"", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadOrCreate err = %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), goodKey) {
				t.Errorf("error %q reveals key material", err)
			}
			// A garbage file must never be replaced by a fresh key: that would
			// silently make every stored secret unreadable.
			raw, _ := os.ReadFile(path)
			if string(raw) != tc.content {
				t.Errorf("key file was rewritten")
			}
		})
	}
}

func TestLoadNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.LoadOrCreate(dir); err == nil {
		t.Errorf("LoadOrCreate(directory) err = nil, want error")
	}
}

func TestRotateMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent")
	if _, err := secrets.Rotate(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Rotate(missing) err = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Rotate(missing) created the file")
	}
}

func BenchmarkSeal(b *testing.B) {
	k := secretstest.NewTestKeyring(b)
	pt := bytes.Repeat([]byte("r"), 1500)
	for b.Loop() {
		if _, err := k.Seal(pt, []byte("credential:x")); err != nil {
			b.Fatal(err)
		}
	}
}
