package auth

import (
	"sync"
	"time"
)

// Limiter limits failed sign-in attempts per key (an email, an IP address):
// after Max failures within Window, the key is locked until the oldest
// failure leaves the window. Successful sign-ins clear the key.
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewLimiter returns a limiter allowing max failures per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, Now: time.Now, failures: map[string][]time.Time{}}
}

// Allowed reports whether key may try again, and if not, after how long.
func (l *Limiter) Allowed(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	f := l.prune(key, now)
	if len(f) < l.Max {
		return true, 0
	}
	return false, f[0].Add(l.Window).Sub(now)
}

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	f := l.prune(key, now)
	l.failures[key] = append(f, now)
	if len(l.failures) > 100_000 { // bound memory under a spray of keys
		for k := range l.failures {
			if len(l.prune(k, now)) == 0 {
				delete(l.failures, k)
			}
		}
	}
}

// Succeed clears key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	f := l.failures[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= l.Window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = f
	return f
}
