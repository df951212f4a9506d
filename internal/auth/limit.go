package auth

import (
	"sync"
	"time"
)

// Limiter limits sign-in attempts per key (an email, a client address):
// after Max attempts that did not succeed within Window, the key is locked
// until the oldest one leaves the window. An attempt is counted when it is
// reserved, before its password is checked, so a burst of concurrent
// attempts gets no more checks than Max; a successful sign-in takes its
// attempt back and clears the key.
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	attempts map[string][]time.Time
}

// NewLimiter returns a limiter allowing max attempts per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, Now: time.Now, attempts: map[string][]time.Time{}}
}

// Reservation is an attempt counted against keys of one Limiter.
type Reservation struct {
	l    *Limiter
	keys []string
	at   time.Time
	done bool
}

// Reserve counts one attempt against every key, atomically: either all
// keys have room and each gets the attempt, or none is charged and the
// answer is false with how long until the fullest key has room again.
func (l *Limiter) Reserve(keys ...string) (*Reservation, bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.attempts == nil {
		l.attempts = map[string][]time.Time{}
	}
	now := l.Now()
	var wait time.Duration
	for _, k := range keys {
		if f := l.prune(k, now); len(f) >= l.Max {
			if w := f[len(f)-l.Max].Add(l.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		return nil, false, wait
	}
	for _, k := range keys {
		l.attempts[k] = append(l.attempts[k], now)
	}
	l.sweep(now)
	return &Reservation{l: l, keys: keys, at: now}, true, 0
}

// Succeed clears the given keys (the account that signed in) and takes
// this attempt back from the others (the client address, which keeps the
// failures it had).
func (r *Reservation) Succeed(clear ...string) {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	for _, k := range clear {
		delete(r.l.attempts, k)
	}
	for _, k := range r.keys {
		f := r.l.attempts[k]
		for i := len(f) - 1; i >= 0; i-- {
			if f[i].Equal(r.at) {
				r.l.attempts[k] = append(f[:i:i], f[i+1:]...)
				break
			}
		}
		if len(r.l.attempts[k]) == 0 {
			delete(r.l.attempts, k)
		}
	}
}

// Allowed reports whether key has room for another attempt, and if not,
// after how long. It reserves nothing.
func (l *Limiter) Allowed(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	f := l.prune(key, now)
	if len(f) < l.Max {
		return true, 0
	}
	return false, f[len(f)-l.Max].Add(l.Window).Sub(now)
}

// Fail records a failed attempt for key that was not reserved.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.attempts == nil {
		l.attempts = map[string][]time.Time{}
	}
	now := l.Now()
	l.attempts[key] = append(l.prune(key, now), now)
	l.sweep(now)
}

// Succeed clears key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.attempts, key)
}

// sweep bounds memory under a spray of keys.
func (l *Limiter) sweep(now time.Time) {
	if len(l.attempts) <= 100_000 {
		return
	}
	for k := range l.attempts {
		l.prune(k, now)
	}
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	f := l.attempts[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= l.Window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.attempts, key)
		return nil
	}
	l.attempts[key] = f
	return f
}
