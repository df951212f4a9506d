package sso_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/sso"
)

// TestStartBounds checks that anonymous sign-in starts cannot fill the
// state table: past the global cap on pending sign-ins, or past the
// per-address rate, /auth/sso/login answers 429 and stores nothing.
func TestStartBounds(t *testing.T) {
	e := mustOpenEnv(t)
	e.settings(t, map[string]any{"enabled": true, "datasource": e.DS.ID})
	pending := func(t *testing.T) int {
		t.Helper()
		n, err := e.App.Store.CountOAuthStates(context.Background(), sso.Purpose, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := func(t *testing.T) (int, string) {
		t.Helper()
		r := e.Anonymous(t).Do("GET", "/auth/sso/login", nil)
		return r.Status, html.UnescapeString(string(r.Body))
	}

	const limit = 5
	e.App.SSO.MaxPending = limit
	t.Run("global cap", func(t *testing.T) {
		for i := range limit {
			if status, body := start(t); status != http.StatusFound {
				t.Fatalf("start %d = %d %s, want 302", i+1, status, body)
			}
		}
		status, body := start(t)
		if status != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-ins with Microsoft are in progress") {
			t.Errorf("start past the cap = %d %s, want 429 saying too many are in progress", status, body)
		}
		if got := pending(t); got != limit {
			t.Errorf("pending sign-ins = %d, want %d", got, limit)
		}
	})

	e.App.SSO.MaxPending = 1_000_000
	t.Run("per address", func(t *testing.T) {
		started := limit + 1 // the global cap subtest's starts count too
		for ; started < sso.StartsPerMinute; started++ {
			if status, body := start(t); status != http.StatusFound {
				t.Fatalf("start %d = %d %s, want 302", started+1, status, body)
			}
		}
		before := pending(t)
		status, body := start(t)
		if status != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-ins started from your address") {
			t.Errorf("start %d = %d %s, want 429 naming the address", started+1, status, body)
		}
		if got := pending(t); got != before {
			t.Errorf("pending sign-ins %d → %d after a refused start, want unchanged", before, got)
		}
	})
}
