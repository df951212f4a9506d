package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/app"
	"github.com/tenantlink/tenantlink/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestLostAndDuplicatedNotifications: with every notification dropped the
// directory still ends equal to the tenant at the next scheduled run;
// duplicated notifications change nothing but cost no extra run per copy.
func TestLostAndDuplicatedNotifications(t *testing.T) {
	w := newWorld(t, testenv.Options{Jobs: app.JobsConfig{TickInterval: 100 * time.Millisecond}})
	w.turnOn(t)
	for _, n := range []string{"alice", "bob", "carol", "dave", "erin"} {
		w.newMember(t, n)
	}
	testenv.WaitFor(t, 30*time.Second, "five members", func() bool { return len(w.members(t)) == 5 })

	t.Run("dropped", func(t *testing.T) {
		w.E.SimControl(t, "POST", "/_sim/notifications", map[string]any{"drop": 1000})
		w.newMember(t, "frank")
		time.Sleep(time.Second)
		if slices.Contains(w.members(t), "frank") {
			t.Fatal("frank arrived although every notification was dropped")
		}
		// The hourly scheduled run comes due and converges.
		w.E.Clock.Advance(61 * time.Minute)
		testenv.WaitFor(t, 30*time.Second, "frank after the scheduled run", func() bool { return slices.Contains(w.members(t), "frank") })
		if w.runs(t)["schedule"] == 0 {
			t.Error("no scheduled run recorded")
		}
		w.E.SimControl(t, "DELETE", "/_sim/notifications", nil)
	})

	t.Run("duplicated", func(t *testing.T) {
		before := w.runs(t)["realtime"]
		w.E.SimControl(t, "POST", "/_sim/notifications", map[string]any{"duplicate": 1000})
		w.newMember(t, "gina")
		testenv.WaitFor(t, 30*time.Second, "gina", func() bool { return slices.Contains(w.members(t), "gina") })
		time.Sleep(time.Second) // let copies arrive and their runs, if any, finish
		// Two notifications (the user, the membership), each sent twice:
		// one run, plus the next window's when one came while it ran, plus
		// one more if they straddle a window boundary — never one per copy.
		if got := w.runs(t)["realtime"] - before; got > 3 {
			t.Errorf("real-time runs for one duplicated change = %d, want at most 3", got)
		}
		want := []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina"}
		if got := w.members(t); !slices.Equal(got, want) {
			t.Errorf("members = %v, want %v", got, want)
		}
	})
}

// TestTwoReplicas: two tenantlink instances on one PostgreSQL database;
// a burst of notifications delivered to both (any replica may receive)
// costs one or two runs (three if it straddles a window boundary) —
// River's unique jobs dedupe across replicas —
// not one per notification.
func TestTwoReplicas(t *testing.T) {
	w := newWorld(t, testenv.Options{Backend: "postgres", Realtime: app.RealtimeConfig{Window: 5 * time.Second}})
	subs := w.turnOn(t)
	w.newMember(t, "alice")
	testenv.WaitFor(t, 30*time.Second, "alice", func() bool { return slices.Equal(w.members(t), []string{"alice"}) })

	// The second replica: same database and key file, its own address.
	second, err := app.Open(context.Background(), app.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: w.E.DB, KeyFile: w.E.DataDir + "/secret.key",
		MSAuthority: w.E.Facts.URL, MSGraph: w.E.Facts.URL, MSClientID: w.E.Facts.ClientID, MSClientSecret: w.E.Facts.ClientSecret,
		Now: w.E.Clock.Now, Realtime: app.RealtimeConfig{Window: 5 * time.Second, Interval: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := second.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- second.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("second replica: %v", err)
		}
		second.Close()
	})

	before := w.runs(t)["realtime"]
	groups := subs[0]
	note := fmt.Sprintf(`{"value":[{"changeType":"updated","clientState":%q,"resource":"Groups/%s","resourceData":{"@odata.type":"#Microsoft.Graph.Group","id":%q},"subscriptionId":%q,"tenantId":%q}]}`,
		groups.ClientState, w.SrcGroup, w.SrcGroup, groups.SubscriptionID, w.Tenant)
	replicas := []string{w.E.URL, second.Config.PublicURL}
	for i := range 40 {
		resp, err := http.Post(replicas[i%2]+"/hooks/graph/"+w.DSID, "application/json", stringsReader(note))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("notification %d answered %d", i, resp.StatusCode)
		}
	}
	time.Sleep(6 * time.Second) // both windows' runs, if any, have run
	// The run the first notification started, the next window's for those
	// that came while it ran, and one more only if the burst straddled a
	// window boundary (5 s windows; the burst takes well under a second).
	if got := w.runs(t)["realtime"] - before; got < 1 || got > 3 {
		t.Errorf("real-time runs for a burst of 40 notifications at two replicas = %d, want 1 to 3", got)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
