package groupsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/connectortest"
	"github.com/tenantlink/tenantlink/internal/groupsync"
	"github.com/tenantlink/tenantlink/internal/store"
)

// TestProgressTotal: a full run asks the connector how many members it
// will read and keeps that, with how many it has read, in the run's
// stored record as it goes — the group page reads the record, on
// whichever replica serves it. An incremental run has no total; a
// connector that fails to count leaves it unknown and the run goes on.
func TestProgressTotal(t *testing.T) {
	ctx := context.Background()
	type stored struct{ Seen, Total int }
	t.Run("full run: x of y from the store", func(t *testing.T) {
		e := newFakeEnv(t)
		g := e.group(t, "A", "src", false, "keep")
		e.fake.Lock()
		e.fake.Groups["src"] = people(10) // pages of 3
		e.fake.Unlock()
		var seen []stored
		r, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{Progress: func(p groupsync.Progress) {
			if p.Phase != groupsync.PhaseReading {
				return
			}
			runs, err := e.svc.Runs(ctx, e.admin, g.ID, 1)
			if err != nil || len(runs) != 1 || runs[0].Status != store.RunRunning {
				t.Errorf("the running run's record: %v %v", runs, err)
				return
			}
			seen = append(seen, stored{runs[0].Seen, runs[0].Total})
			if p.Total != 10 || p.Seen != runs[0].Seen {
				t.Errorf("progress %+v, stored %+v: want total 10 and the stored position", p, runs[0])
			}
		}})
		if err != nil || r.Status != store.RunSucceeded {
			t.Fatalf("run = %v, %v", r, err)
		}
		want := []stored{{0, 10}, {3, 10}, {6, 10}, {9, 10}, {10, 10}}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("stored positions while reading (-want +got):\n%s", diff)
		}
		if r.Seen != 10 || r.Total != 10 {
			t.Errorf("finished run: seen %d of %d, want 10 of 10", r.Seen, r.Total)
		}
	})
	t.Run("incremental run: no total", func(t *testing.T) {
		e := newFakeEnv(t)
		g := e.group(t, "A", "src", false, "keep")
		e.fake.Lock()
		e.fake.Groups["src"] = people(4)
		e.fake.Unlock()
		if _, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		e.fake.Lock()
		e.fake.Deltas = map[string]connectortest.Delta{"src": {Users: people(2)}}
		e.fake.Unlock()
		var totals []int
		r, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{Progress: func(p groupsync.Progress) { totals = append(totals, p.Total) }})
		if err != nil || r.Full {
			t.Fatalf("second run = %+v, %v; want incremental", r, err)
		}
		if r.Total != 0 || r.Seen != 2 || slices.ContainsFunc(totals, func(n int) bool { return n != -1 }) {
			t.Errorf("incremental run: seen %d, total %d, progress totals %v; want 2 seen, no total (-1 in progress)", r.Seen, r.Total, totals)
		}
		b, err := json.Marshal(r)
		must(t, err)
		if strings.Contains(string(b), `"total"`) {
			t.Errorf("incremental run's JSON %s has a total", b)
		}
	})
	t.Run("a count that fails leaves the total unknown", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.CountErr = errors.New("count refused")
		g := e.group(t, "A", "src", false, "keep")
		e.fake.Lock()
		e.fake.Groups["src"] = people(4)
		e.fake.Unlock()
		r, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
		if err != nil || r.Status != store.RunSucceeded || r.Counts.Created != 4 || r.Total != 0 || r.Seen != 4 {
			t.Errorf("run = %+v, %v; want succeeded, 4 created, 4 seen, no total", r, err)
		}
	})
}

// TestUnchangedOnIncrementalRuns: an incremental run reads only what
// changed, so it cannot say how many members are unchanged: its counts
// say 0, its JSON null, and its audit entry says nothing of them. A
// delta that repeats a member as it was (which the old count counted as
// "unchanged") does not make it a number. Full runs still count them.
func TestUnchangedOnIncrementalRuns(t *testing.T) {
	ctx := context.Background()
	e := newFakeEnv(t)
	g := e.group(t, "A", "src", false, "keep")
	e.fake.Lock()
	e.fake.Groups["src"] = people(5)
	e.fake.Unlock()
	first, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
	must(t, err)
	replay, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{Full: true})
	must(t, err)
	if !replay.Full || replay.Counts.Unchanged != 5 {
		t.Fatalf("full replay: full %v, counts %+v; want 5 unchanged", replay.Full, replay.Counts)
	}
	e.fake.Lock()
	e.fake.Deltas = map[string]connectortest.Delta{"src": {Users: []connector.SourceUser{
		people(1)[0], // as it was
		connectortest.User("obj-1", "p1@example.com", "Renamed"),
	}}}
	e.fake.Unlock()
	inc, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
	must(t, err)
	if inc.Full || inc.Status != store.RunSucceeded {
		t.Fatalf("incremental run = %s full %v", inc.Status, inc.Full)
	}
	if diff := cmp.Diff(groupsync.Counts{Updated: 1}, inc.Counts); diff != "" {
		t.Errorf("incremental counts (-want +got):\n%s", diff)
	}
	type countsJSON struct {
		Counts map[string]*int `json:"counts"`
	}
	for _, tc := range []struct {
		run  *groupsync.Run
		want *int
	}{
		{first, new(int)}, {replay, ptr(5)}, {inc, nil},
	} {
		b, err := json.Marshal(tc.run)
		must(t, err)
		var got countsJSON
		must(t, json.Unmarshal(b, &got))
		v, present := got.Counts["unchanged"]
		if !present || !cmp.Equal(tc.want, v) {
			t.Errorf("run (full %v) JSON counts.unchanged = %v (present %v), want %v", tc.run.Full, deref(v), present, deref(tc.want))
		}
		if got.Counts["updated"] == nil {
			t.Errorf("run JSON %s lost its other counts", b)
		}
	}
	// The stored record reads back the same way.
	runs, err := e.svc.Runs(ctx, e.admin, g.ID, 1)
	must(t, err)
	if runs[0].ID != inc.ID || runs[0].Counts.Unchanged != 0 {
		t.Errorf("stored incremental run = %+v, want unchanged 0", runs[0])
	}
	audit, err := e.st.ListAudit(ctx, store.AuditFilter{Target: "group:" + g.ID})
	must(t, err)
	if len(audit) != 3 || strings.Contains(audit[0].Detail, "unchanged") || !strings.Contains(audit[1].Detail, "unchanged 5") {
		t.Errorf("audit details = %q; want the incremental run's without unchanged, the full replay's with unchanged 5", details(audit))
	}
}

func ptr(n int) *int { return &n }

func deref(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func details(es []*tenantlink.AuditEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Detail)
	}
	return out
}

// TestDryRunList: a dry run lists who would be created, disabled and
// taken out of the group (override) by name — display name and email, sorted by
// name — including the users it only knows by id.
func TestDryRunList(t *testing.T) {
	ctx := context.Background()
	e := newFakeEnv(t)
	g := e.group(t, "A", "src", true, "disable")
	e.fake.Lock()
	e.fake.Groups["src"] = []connector.SourceUser{
		connectortest.User("o-z", "zoe@example.com", "Zoe"),
		connectortest.User("o-a", "adam@example.com", "adam"),
		connectortest.User("o-m", "mia@example.com", "Mia"),
		connectortest.User("o-b", "bo@example.com", "Bo"),
	}
	e.fake.Unlock()
	_, err := e.svc.Run(ctx, e.admin, g.ID, groupsync.RunOptions{})
	must(t, err)
	e.fake.Lock()
	e.fake.Groups["src"] = []connector.SourceUser{
		connectortest.User("o-a", "adam@example.com", "adam"),
		connectortest.User("o-b", "bo@example.com", "Bo"),
		connectortest.User("o-y", "yan@example.com", "Yan"),
		connectortest.User("o-c", "cy@example.com", "Cy"),
	}
	e.fake.Unlock()
	dry, err := e.svc.DryRun(ctx, e.admin, g.ID, false)
	must(t, err)
	var got []row
	for _, c := range dry.Changes {
		got = append(got, row{c.Action, c.DisplayName, c.Email})
	}
	want := []row{
		{groupsync.ActionCreate, "Cy", "cy@example.com"},
		{groupsync.ActionCreate, "Yan", "yan@example.com"},
		{groupsync.ActionDisable, "Mia", "mia@example.com"},
		{groupsync.ActionDisable, "Zoe", "zoe@example.com"},
		{groupsync.ActionLeaveGroup, "Mia", "mia@example.com"}, // override: they also leave the group
		{groupsync.ActionLeaveGroup, "Zoe", "zoe@example.com"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dry run's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[2:4], rowsOf(dry.ChangesOf(groupsync.ActionDisable))); diff != "" {
		t.Errorf("ChangesOf(disable) (-want +got):\n%s", diff)
	}
	// Stored with the run, as the API answers it.
	runs, err := e.svc.Runs(ctx, e.admin, g.ID, 1)
	must(t, err)
	if diff := cmp.Diff(dry.Changes, runs[0].Changes); diff != "" {
		t.Errorf("stored dry run's changes (-answered +stored):\n%s", diff)
	}
}

type row struct{ Action, Name, Email string }

func rowsOf(cs []groupsync.Change) []row {
	var out []row
	for _, c := range cs {
		out = append(out, row{c.Action, c.DisplayName, c.Email})
	}
	return out
}
