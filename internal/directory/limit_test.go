package directory_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
)

// TestSignInConcurrentBurst: a burst of wrong passwords for one account,
// all at once, gets no more password checks than the limit allows — an
// attempt is counted before its password is checked, not after.
func TestSignInConcurrentBurst(t *testing.T) {
	s, _ := newService(t)
	mustUser(t, s, "jane@tenantlink.test")
	var checks atomic.Int32
	gate := make(chan struct{})
	s.CheckPassword = func(hash, pw string) bool {
		// Hold the checks the limit allows until the whole burst has been
		// answered; any check beyond the limit goes straight through.
		if int(checks.Add(1)) <= s.Limiter.Max {
			<-gate
		}
		return auth.CheckPasswordOrDummy(hash, pw)
	}
	const burst = 30
	var wg sync.WaitGroup
	codes := make(chan string, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SignIn(context.Background(), "jane@tenantlink.test", "wrong password!", "10.0.2."+string(rune('0'+i%10)))
			codes <- tenantlink.ErrorCode(err)
		}()
	}
	got := map[string]int{}
	for range burst - s.Limiter.Max {
		c := <-codes
		got[c]++
		if c != tenantlink.ETOOMANY {
			break // a check went through beyond the limit
		}
	}
	close(gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		got[c]++
	}
	want := map[string]int{tenantlink.ETOOMANY: burst - s.Limiter.Max, tenantlink.EUNAUTHORIZED: s.Limiter.Max}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("answers to %d concurrent wrong passwords (-got +want):\n%s", burst, diff)
	}
	if got, limit := int(checks.Load()), s.Limiter.Max; got > limit {
		t.Errorf("%d password checks for %d concurrent wrong passwords, want at most %d", got, burst, limit)
	}
}

// TestSignInLocksAreSeparate: a locked account and a locked address do not
// refuse another account's correct password from another address.
func TestSignInLocksAreSeparate(t *testing.T) {
	s, _ := newService(t)
	mustUser(t, s, "jane@tenantlink.test")
	mustUser(t, s, "john@tenantlink.test")
	ctx := context.Background()
	for range 6 { // lock jane's account
		s.SignIn(ctx, "jane@tenantlink.test", "wrong password!", "10.0.3.1")
	}
	for i := range 40 { // lock address 10.0.3.2 with many accounts
		s.SignIn(ctx, "spray"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@tenantlink.test", "wrong password!", "10.0.3.2")
	}
	if _, err := s.SignIn(ctx, "jane@tenantlink.test", password, "10.0.3.9"); tenantlink.ErrorCode(err) != tenantlink.ETOOMANY {
		t.Fatalf("locked account signed in: %v", err)
	}
	if _, err := s.SignIn(ctx, "john@tenantlink.test", password, "10.0.3.2"); tenantlink.ErrorCode(err) != tenantlink.ETOOMANY {
		t.Fatalf("locked address signed in: %v", err)
	}
	if _, err := s.SignIn(ctx, "john@tenantlink.test", password, "10.0.3.3"); err != nil {
		t.Errorf("another account from another address refused: %v", err)
	}
}
