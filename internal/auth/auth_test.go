package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q: want argon2id encoding", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("hash contains the password")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name    string
		encoded string
		pw      string
		want    bool
	}{
		{"right", h, "correct horse battery", true},
		{"wrong", h, "correct horse batterx", false},
		{"empty password", h, "", false},
		{"malformed", "$argon2id$v=19$garbage", "correct horse battery", false},
		{"other scheme", "$2a$10$abc", "x", false},
		{"empty hash", "", "", false},
		{"huge memory rejected", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$a2V5", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.encoded, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
	if CheckPasswordOrDummy("", "anything") {
		t.Error("CheckPasswordOrDummy with no hash returned true")
	}
}

func TestValidatePassword(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "long enough!": true, strings.Repeat("x", 2000): false, "ÅÅÅÅÅÅÅÅÅÅ": true} {
		if err := ValidatePassword(pw); (err == nil) != ok {
			t.Errorf("ValidatePassword(%.12q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestToken(t *testing.T) {
	raw, hash := NewToken("tl_")
	if !strings.HasPrefix(raw, "tl_") || len(raw) < 40 {
		t.Fatalf("token %q: want tl_ prefix and 256 bits", raw)
	}
	if HashToken(raw) != hash || strings.Contains(hash, raw[3:]) {
		t.Fatalf("hash mismatch or contains token")
	}
	raw2, _ := NewToken("tl_")
	if raw == raw2 {
		t.Fatal("tokens repeat")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(3, time.Minute)
	l.Now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allowed("a"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		l.Fail("a")
	}
	ok, wait := l.Allowed("a")
	if ok || wait != time.Minute {
		t.Fatalf("after 3 failures: ok=%v wait=%v, want false 1m", ok, wait)
	}
	if ok, _ := l.Allowed("b"); !ok {
		t.Fatal("other key refused")
	}
	now = now.Add(time.Minute)
	if ok, _ := l.Allowed("a"); !ok {
		t.Fatal("still locked after the window")
	}
	l.Fail("a")
	l.Succeed("a")
	if ok, _ := l.Allowed("a"); !ok {
		t.Fatal("locked after success")
	}
}

func TestLimiterReserve(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(2, time.Minute)
	l.Now = func() time.Time { return now }
	if _, ok, _ := l.Reserve("email:a", "client:x"); !ok {
		t.Fatal("first attempt refused")
	}
	now = now.Add(10 * time.Second)
	if _, ok, _ := l.Reserve("email:b", "client:x"); !ok {
		t.Fatal("second attempt from x refused")
	}
	// client:x is full: a third attempt is refused and charges email:c nothing.
	if _, ok, wait := l.Reserve("email:c", "client:x"); ok || wait != 50*time.Second {
		t.Fatalf("third attempt from x: ok=%v wait=%v, want false 50s", ok, wait)
	}
	r, ok, _ := l.Reserve("email:c", "client:y")
	if !ok {
		t.Fatal("email:c was charged by a refused reservation")
	}
	r.Succeed("email:c")
	r.Succeed("email:c") // twice is harmless
	if got, want := len(l.attempts["client:y"]), 0; got != want {
		t.Errorf("client:y holds %d attempts after a success, want %d", got, want)
	}
	if _, ok := l.attempts["email:c"]; ok {
		t.Error("email:c not cleared by a success")
	}
}
