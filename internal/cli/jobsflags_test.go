package cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/tenantlink/tenantlink/internal/app"
)

// TestJobsFlagsFromEnv: the job queue's tuning is read in this layer like
// every other setting, from hidden flags or their TENANTLINK_* variables.
func TestJobsFlagsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want app.JobsConfig
	}{
		{"nothing set keeps the defaults", nil, nil, app.JobsConfig{}},
		{"environment", map[string]string{"TENANTLINK_JOBS_TICK": "100ms", "TENANTLINK_SYNC_STALE_AFTER": "2s",
			"TENANTLINK_JOBS_CONFLICT_WAIT": "300ms"}, nil,
			app.JobsConfig{TickInterval: 100 * time.Millisecond, SyncStaleAfter: 2 * time.Second, ConflictWait: 300 * time.Millisecond}},
		{"a flag wins over the environment", map[string]string{"TENANTLINK_JOBS_RETRY_BASE": "1s"}, []string{"--jobs-retry-base=5ms"},
			app.JobsConfig{RetryBase: 5 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var got app.JobsConfig
			cmd := &cobra.Command{Use: "x"}
			jobsFlags(cmd.Flags(), &got)
			if err := cmd.Flags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := bindEnv(cmd); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("jobs config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRealtimeFlagsFromEnv: real-time sync's tuning is read here too, not
// from the environment inside package app.
func TestRealtimeFlagsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want app.RealtimeConfig
	}{
		{"nothing set keeps the defaults", nil, nil, app.RealtimeConfig{}},
		{"environment", map[string]string{"TENANTLINK_REALTIME_WINDOW": "3500ms", "TENANTLINK_REALTIME_INTERVAL": "1h"}, nil,
			app.RealtimeConfig{Window: 3500 * time.Millisecond, Interval: time.Hour}},
		{"a flag wins over the environment", map[string]string{"TENANTLINK_REALTIME_WINDOW": "1s"}, []string{"--realtime-window=5s"},
			app.RealtimeConfig{Window: 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var got app.RealtimeConfig
			cmd := &cobra.Command{Use: "x"}
			realtimeFlags(cmd.Flags(), &got)
			if err := cmd.Flags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := bindEnv(cmd); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("realtime config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServeRefusesNegativeRealtime: a negative duration is refused with a
// message naming the flag, before anything is opened.
func TestServeRefusesNegativeRealtime(t *testing.T) {
	t.Setenv("TENANTLINK_REALTIME_WINDOW", "-1s")
	cmd := newServeCmd()
	cmd.SetArgs([]string{"--data", t.TempDir()})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "--realtime-window") {
		t.Fatalf("serve with a negative window: %v, want an error naming --realtime-window", err)
	}
}
