package ui_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/connector/office365"
	"github.com/tenantlink/tenantlink/internal/testenv"
	"github.com/tenantlink/tenantlink/m365sim"
)

// mustOpenLicenceEnv is the web stack on a simulator whose data source
// "Contoso" is authorized read and write; the simulator is returned for
// its own account of the licences.
func mustOpenLicenceEnv(t *testing.T) (*simEnv, *m365sim.Server) {
	t.Helper()
	var sim *m365sim.Server
	var facts m365sim.Facts
	e := mustOpenEnv(t, envConfig{Connectors: func(base string) map[string]connector.Connector {
		var err error
		sim, err = m365sim.New(m365sim.Options{Users: 40, Groups: 2, Seed: 7, RedirectURIs: []string{base + "/oauth/callback"}})
		if err != nil {
			t.Fatalf("m365sim.New: %v", err)
		}
		if err := sim.Start("127.0.0.1:0"); err != nil {
			t.Fatalf("start simulator: %v", err)
		}
		t.Cleanup(func() { sim.Close() })
		facts = sim.Facts()
		return map[string]connector.Connector{tenantlink.ConnectorOffice365: office365.New(office365.Config{
			Authority: facts.URL, GraphURL: facts.URL, ClientID: facts.ClientID, ClientSecret: facts.ClientSecret,
			Logger: slog.New(slog.DiscardHandler),
		})}
	}})
	s := &simEnv{env: e, Facts: facts}
	s.Admin = e.mustCreateUser(t, "admin@example.com", tenantlink.RoleAdministrator)
	s.Source = e.mustCreateDataSource(t, s.Admin, "Contoso", true)
	// Authorize through the details form, keeping Read and write on.
	b := e.mustSignIn(t, "admin@example.com")
	got := b.post("/datasources/"+s.Source.ID, url.Values{"name": {s.Source.Name}, "readWrite": {"on"}, "action": {"authorize"}}, true)
	if got.Status != http.StatusSeeOther {
		t.Fatalf("Authorize: status %d, want 303; body:\n%s", got.Status, got.Body)
	}
	loc := testenv.MicrosoftSignIn(t, got.Location, s.Facts.AdminUser, s.Facts.AdminPassword)
	if cb := b.get(loc.RequestURI()); cb.Status != http.StatusOK {
		t.Fatalf("callback: status %d, want 200; body:\n%s", cb.Status, cb.Body)
	}
	ds, err := s.Store.GetDataSource(context.Background(), s.Source.ID)
	if err != nil || ds.Status != tenantlink.StatusReady || !ds.Settings.ReadWrite {
		t.Fatalf("after authorizing: %+v %v; want ready, read and write", ds, err)
	}
	s.Source = ds
	return s, sim
}

func totalConsumed(f []m365sim.SKUFacts) (consumed, reclaimable int) {
	for _, s := range f {
		consumed += s.Consumed
		reclaimable += len(s.DisabledDirectOnly)
	}
	return
}

func TestLicenceReportPage(t *testing.T) {
	s, sim := mustOpenLicenceEnv(t)
	admin := s.mustSignIn(t, "admin@example.com")
	s.mustCreateUser(t, "outsider@example.com", tenantlink.RoleUser)
	outsider := s.mustSignIn(t, "outsider@example.com")
	page := "/datasources/" + s.Source.ID + "/licences"
	api := "/api/v1/datasources/" + s.Source.ID + "/licences/report"
	// Group-based licensing on the first six users: those holding
	// ENTERPRISEPACK directly hold it twice, ENTERPRISEPREMIUM has no unit
	// left, so its group assignments fail with CountViolation.
	ctx := context.Background()
	pr := s.mustPrincipal(t, s.Admin)
	users, err := s.DS.RunOperation(ctx, pr, s.Source.ID, "UserList", map[string]any{"maxRows": 6})
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, u := range users {
		members = append(members, u["id"].(string))
	}
	if _, err := s.DS.RunOperation(ctx, pr, s.Source.ID, "CreateGroup", map[string]any{"displayName": "Licensed staff", "members": members}); err != nil {
		t.Fatal(err)
	}
	for _, sku := range []string{"ENTERPRISEPACK", "ENTERPRISEPREMIUM"} {
		if _, err := s.DS.RunOperation(ctx, pr, s.Source.ID, "AssignLicenceToGroup", map[string]any{"group": "Licensed staff", "licence": sku}); err != nil {
			t.Fatal(err)
		}
	}
	consumed0, reclaimable := totalConsumed(sim.LicenceFacts(""))
	if reclaimable == 0 {
		t.Fatalf("the seeded tenant has no disabled users with direct licences: nothing to test")
	}

	t.Run("page", func(t *testing.T) {
		got := admin.get(page)
		if got.Status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", page, got.Status, got.Body)
		}
		for _, w := range []string{`<svg id="licence-chart" role="img"`, `id="reclaim-form"`, `Reclaim ` + itoa(reclaimable) + ` licence(s)`, `format=csv`} {
			if !strings.Contains(got.Body, w) {
				t.Errorf("page lacks %q", w)
			}
		}
		checkGolden(t, "licence_report", got.Body)
	})

	t.Run("JSON and CSV", func(t *testing.T) {
		var rep connector.LicenceReport
		got := admin.get(api)
		if err := json.Unmarshal([]byte(got.Body), &rep); err != nil || got.Status != 200 {
			t.Fatalf("GET %s: %d %v\n%s", api, got.Status, err, got.Body)
		}
		facts := sim.LicenceFacts("")
		if len(rep.SKUs) != len(facts) {
			t.Fatalf("%d SKUs, want %d", len(rep.SKUs), len(facts))
		}
		for i, f := range facts {
			if rep.SKUs[i].ReclaimableDisabled != len(f.DisabledDirectOnly) || rep.SKUs[i].Assigned != f.Consumed {
				t.Errorf("%s: reclaimable %d assigned %d, simulator %d %d", f.SkuPartNumber, rep.SKUs[i].ReclaimableDisabled, rep.SKUs[i].Assigned, len(f.DisabledDirectOnly), f.Consumed)
			}
		}
		csvResp := admin.get(api + "?format=csv")
		rows, err := csv.NewReader(strings.NewReader(csvResp.Body)).ReadAll()
		if err != nil || csvResp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("CSV: %v %q", err, csvResp.Header.Get("Content-Type"))
		}
		if diff := cmp.Diff([]string{"skuId", "skuPartNumber", "productName", "enabled", "assigned", "available", "reclaimableDisabled", "reclaimableDuplicate"}, rows[0]); diff != "" || len(rows) != len(facts)+1 {
			t.Errorf("CSV header (-want +got):\n%s\n%d rows", diff, len(rows))
		}
		users, err := csv.NewReader(strings.NewReader(admin.get(api + "?format=csv&users=true").Body)).ReadAll()
		want := 1
		reasons := map[string]int{}
		for _, s := range rep.SKUs {
			want += len(s.DisabledUsers) + len(s.DuplicateUsers) + len(s.DisabledThroughGroups) + len(s.GroupErrors)
		}
		for _, row := range users[1:] {
			reasons[row[2]]++
		}
		if err != nil || len(users) != want || reasons["disabled"] != reclaimable || reasons["duplicate"] == 0 || reasons["groupError"] == 0 {
			t.Errorf("users CSV: %d rows (%v), want %d; reasons %v", len(users), err, want, reasons)
		}
	})

	t.Run("reclaim refused without confirmation, CSRF or permission", func(t *testing.T) {
		if got := admin.post(page+"/reclaim", nil, true); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "Tick the confirmation box") {
			t.Errorf("without confirm: %d", got.Status)
		}
		if got := admin.post(page+"/reclaim", url.Values{"confirm": {"yes"}}, false); got.Status != http.StatusForbidden {
			t.Errorf("without CSRF: %d, want 403", got.Status)
		}
		// Only the administrator may use the data source now.
		sec := tenantlink.Security{Users: []string{s.Admin.ID}}
		if _, err := s.DS.PutSecurity(context.Background(), s.mustPrincipal(t, s.Admin), s.Source.ID, sec); err != nil {
			t.Fatal(err)
		}
		// Not a connection user, nor an administrator: the data source is
		// not there for them (decision 0023).
		if got := outsider.post(page+"/reclaim", url.Values{"confirm": {"yes"}}, true); got.Status != http.StatusNotFound {
			t.Errorf("not a connection user: %d, want 404", got.Status)
		}
		if c, _ := totalConsumed(sim.LicenceFacts("")); c != consumed0 {
			t.Errorf("refused reclaims changed the tenant: %d units consumed, was %d", c, consumed0)
		}
	})

	t.Run("reclaim", func(t *testing.T) {
		got := admin.post(page+"/reclaim", url.Values{"confirm": {"yes"}}, true)
		if got.Status != http.StatusOK {
			t.Fatalf("reclaim: %d\n%s", got.Status, got.Body)
		}
		if n := strings.Count(got.Body, "<td>removed</td>"); n != reclaimable {
			t.Errorf("%d users reported removed, want %d", n, reclaimable)
		}
		if !strings.Contains(got.Body, `id="reclaim-none"`) {
			t.Errorf("after reclaiming the page still offers to reclaim")
		}
		c, left := totalConsumed(sim.LicenceFacts(""))
		if c != consumed0-reclaimable || left != 0 {
			t.Errorf("after reclaiming: %d units consumed (want %d), %d still reclaimable", c, consumed0-reclaimable, left)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
