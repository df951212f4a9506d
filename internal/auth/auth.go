// Package auth provides tenantlink's local credential primitives: argon2id
// password hashes, random tokens stored only as SHA-256 hashes (API tokens,
// session ids, CSRF tokens) and a sign-in rate limiter. It knows nothing of
// HTTP or storage.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password accepted for local accounts.
const MinPasswordLength = 10

// ErrWeakPassword is returned by ValidatePassword.
var ErrWeakPassword = errors.New("password too weak")

// ValidatePassword checks a new local password.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLength)
	}
	if len(pw) > 1024 {
		return fmt.Errorf("%w: use at most 1024 bytes", ErrWeakPassword)
	}
	return nil
}

// HashPassword returns an encoded argon2id hash
// ($argon2id$v=19$m=…,t=…,p=…$salt$key, base64 without padding).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the encoded hash. Malformed
// hashes never match.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the account does not exist, so that
// sign-in takes as long for unknown emails as for wrong passwords.
var dummyHash, _ = HashPassword("tenantlink-dummy-password")

// CheckPasswordOrDummy behaves like CheckPassword but does the same work
// when encoded is empty (unknown user), and then returns false.
func CheckPasswordOrDummy(encoded, pw string) bool {
	if encoded == "" {
		CheckPassword(dummyHash, pw)
		return false
	}
	return CheckPassword(encoded, pw)
}

// NewToken returns a random token with the given prefix (e.g. "tl_") and
// its hash, the only form in which it is stored.
func NewToken(prefix string) (raw, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	raw = prefix + base64.RawURLEncoding.EncodeToString(b)
	return raw, HashToken(raw)
}

// HashToken returns the hex SHA-256 of a token.
func HashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
