// Package secrets owns tenantlink's encryption of secrets at rest: an
// AES-256-GCM keyring loaded from a key file kept outside the database, so a
// stolen database dump alone reveals no refresh token, client secret or PKCE
// verifier. Keys rotate by appending a line to the key file; ciphertexts name
// the key that sealed them, so old ones keep opening after a rotation.
package secrets

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// version is the first byte of every sealed blob, so the format can change
// later without guessing what an old blob is.
const version byte = 1

const (
	keySize   = 32 // AES-256
	nonceSize = 12 // GCM standard nonce
	maxKIDLen = 64
)

// ErrUnknownKey is returned by Open when a blob was sealed with a key the key
// file no longer (or never) held.
var ErrUnknownKey = errors.New("secrets: unknown key id")

// ErrDecrypt is returned by Open when a blob fails authentication: it was
// tampered with, truncated, or sealed with other associated data.
var ErrDecrypt = errors.New("secrets: ciphertext failed authentication")

// Keyring holds every key of a key file; new blobs are sealed with the
// current (last) key, any listed key opens.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	order   []string
}

// LoadOrCreate loads the key file at path, creating it with one fresh key
// (mode 0600, parent directory 0700 when it has to create it) on first start.
// It refuses a key file that group or others can read, because then the key
// protects nothing.
//
// The file holds one key per line, "kid base64(32 bytes)"; the last line is
// the current key. Blank lines and lines starting with '#' are ignored.
func LoadOrCreate(path string) (*Keyring, error) {
	k, err := load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secrets: create key directory: %w", err)
	}
	kid, line, err := newKeyLine()
	if err != nil {
		return nil, err
	}
	// O_EXCL: when two processes start at once, one creates the file and the
	// other loads what the first wrote instead of overwriting it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return load(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: create key file: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return nil, fmt.Errorf("secrets: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("secrets: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("secrets: write key file: %w", err)
	}
	k, err = load(path)
	if err != nil {
		return nil, err
	}
	if k.current != kid {
		return nil, fmt.Errorf("secrets: key file %s changed while it was being created", path)
	}
	return k, nil
}

// Rotate appends a fresh key to the existing key file at path and returns its
// id. Running processes keep sealing with the old key until they reload the
// file; every process can open blobs sealed by either key.
func Rotate(path string) (newKID string, err error) {
	k, err := load(path)
	if err != nil {
		return "", err
	}
	var kid, line string
	for {
		kid, line, err = newKeyLine()
		if err != nil {
			return "", err
		}
		if _, dup := k.aeads[kid]; !dup {
			break
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return "", fmt.Errorf("secrets: open key file: %w", err)
	}
	// A hand-edited file may lack its final newline; appending straight after
	// it would glue two keys into one garbage line.
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Close()
		return "", fmt.Errorf("secrets: read key file: %w", err)
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		line = "\n" + line
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return "", fmt.Errorf("secrets: append key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("secrets: append key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("secrets: append key: %w", err)
	}
	return kid, nil
}

// CurrentKID returns the id of the key new blobs are sealed with.
func (k *Keyring) CurrentKID() string { return k.current }

// KIDs returns every key id, oldest first.
func (k *Keyring) KIDs() []string { return append([]string(nil), k.order...) }

// Seal encrypts plaintext with the current key. associatedData is not stored
// but must be given again to Open: it binds the blob to its place (for
// example "credential:"+datasourceID) so a blob copied to another row does
// not open there.
//
// Output: version byte | kid length byte | kid | nonce | ciphertext+tag.
func (k *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	aead := k.aeads[k.current]
	header := make([]byte, 0, 2+len(k.current)+nonceSize)
	header = append(header, version, byte(len(k.current)))
	header = append(header, k.current...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	out := append(header, nonce...)
	// The header is authenticated too, so swapping the kid byte cannot make
	// a blob open under a different key.
	return aead.Seal(out, nonce, plaintext, adWithHeader(out[:len(out)-nonceSize], associatedData)), nil
}

// Open decrypts a blob sealed by Seal with any key of the keyring.
func (k *Keyring) Open(sealed, associatedData []byte) ([]byte, error) {
	kid, rest, err := splitHeader(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("%w %q (was the key file replaced instead of rotated?)", ErrUnknownKey, kid)
	}
	if len(rest) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("%w: blob too short", ErrDecrypt)
	}
	header := sealed[:len(sealed)-len(rest)]
	nonce, ct := rest[:nonceSize], rest[nonceSize:]
	pt, err := aead.Open(nil, nonce, ct, adWithHeader(header, associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w (tampered blob or wrong associated data)", ErrDecrypt)
	}
	return pt, nil
}

// KeyID returns the id of the key that sealed a blob, without decrypting it;
// storage records it so blobs under a retired key can be found and resealed.
func KeyID(sealed []byte) (string, error) {
	kid, _, err := splitHeader(sealed)
	return kid, err
}

func splitHeader(sealed []byte) (kid string, rest []byte, err error) {
	if len(sealed) < 2 {
		return "", nil, fmt.Errorf("%w: blob too short", ErrDecrypt)
	}
	if sealed[0] != version {
		return "", nil, fmt.Errorf("%w: unsupported blob version %d", ErrDecrypt, sealed[0])
	}
	n := int(sealed[1])
	if n == 0 || len(sealed) < 2+n {
		return "", nil, fmt.Errorf("%w: malformed key id", ErrDecrypt)
	}
	return string(sealed[2 : 2+n]), sealed[2+n:], nil
}

func adWithHeader(header, associatedData []byte) []byte {
	ad := make([]byte, 0, len(header)+len(associatedData))
	return append(append(ad, header...), associatedData...)
}

func newKeyLine() (kid, line string, err error) {
	var id [4]byte
	key := make([]byte, keySize)
	if _, err := rand.Read(id[:]); err != nil {
		return "", "", fmt.Errorf("secrets: generate key id: %w", err)
	}
	if _, err := rand.Read(key); err != nil {
		return "", "", fmt.Errorf("secrets: generate key: %w", err)
	}
	kid = hex.EncodeToString(id[:])
	return kid, kid + " " + base64.StdEncoding.EncodeToString(key) + "\n", nil
}

func load(path string) (*Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secrets: key file %s is accessible by group or others (mode %04o); run chmod 600 %s", path, perm, path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: read key file: %w", err)
	}
	k, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("secrets: key file %s: %w", path, err)
	}
	return k, nil
}

func parse(raw []byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want \"kid base64key\"", n)
		}
		kid := fields[0]
		if len(kid) > maxKIDLen {
			return nil, fmt.Errorf("line %d: key id longer than %d characters", n, maxKIDLen)
		}
		if _, dup := k.aeads[kid]; dup {
			return nil, fmt.Errorf("line %d: duplicate key id %q", n, kid)
		}
		key, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			// Never echo the key material in the error.
			return nil, fmt.Errorf("line %d: key is not valid base64", n)
		}
		if len(key) != keySize {
			return nil, fmt.Errorf("line %d: key is %d bytes, want %d", n, len(key), keySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		k.aeads[kid] = aead
		k.order = append(k.order, kid)
		k.current = kid
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if k.current == "" {
		return nil, errors.New("no keys")
	}
	return k, nil
}
