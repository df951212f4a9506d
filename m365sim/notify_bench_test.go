package m365sim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/m365sim"
)

// BenchmarkNotificationLatency measures a change through /_sim/ until the
// receiver has the notification, with the given coalescing window.
func BenchmarkNotificationLatency(b *testing.B) {
	for _, delay := range []time.Duration{time.Millisecond, 200 * time.Millisecond} {
		b.Run("delay="+delay.String(), func(b *testing.B) {
			got := make(chan struct{}, 1000)
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tok := r.URL.Query().Get("validationToken"); tok != "" {
					w.Header().Set("Content-Type", "text/plain")
					io.WriteString(w, tok)
					return
				}
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusAccepted)
				got <- struct{}{}
			}))
			b.Cleanup(rc.Close)
			s := mustStart(b, m365sim.Options{Users: 10, Groups: 1, Seed: 3, NotificationDelay: delay})
			tok := appToken(b, s, "User.Read.All")
			r := call(b, "POST", s.URL()+"/v1.0/subscriptions", tok, map[string]any{
				"changeType": "updated", "notificationUrl": rc.URL, "resource": "users", "clientState": "bench",
				"expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			})
			mustStatus(b, r, 201)
			id := call(b, "GET", s.URL()+"/v1.0/users?$top=1", tok, nil).values()[0]["id"].(string)
			i := 0
			for b.Loop() {
				i++
				mustStatus(b, call(b, "PATCH", s.URL()+"/_sim/users/"+id, "", map[string]any{"jobTitle": "Bench " + strconv.Itoa(i)}), 204)
				<-got
			}
		})
	}
}
