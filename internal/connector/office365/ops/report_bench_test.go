package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink/internal/graph"
)

// benchLicenceTenant is a 100,000-user tenant where a group of 1,000
// users is licensed, so the listing carries inherited assignments too.
func benchLicenceTenant(b *testing.B) *tenant {
	b.Helper()
	const users = 100000
	tn := benchTenant(b, users)
	all := tn.users(b)
	members := make([]string, 0, 1000)
	for _, u := range all[100:1100] {
		members = append(members, u.ID)
	}
	g := tn.addGroup(b, map[string]any{"displayName": "Licensed staff", "members": members})
	var sku string
	skus, err := tn.g.SubscribedSKUs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range skus {
		if s.PrepaidUnits.Enabled-s.ConsumedUnits >= 1000 {
			sku = s.SkuID
			break
		}
	}
	if _, err := tn.g.AssignGroupLicense(context.Background(), g, []graph.AssignedLicense{{SkuID: sku}}, nil); err != nil {
		b.Fatal(err)
	}
	return tn
}

// BenchmarkLicenceReport100k builds the licence report of a 100,000-user
// tenant: the target is the user-listing pages (101 of 999) plus one
// subscribedSkus, and the time of those pages.
func BenchmarkLicenceReport100k(b *testing.B) {
	tn := benchLicenceTenant(b)
	env := tn.env(false)
	g0, s0 := tn.g.Stats(), tn.simStats(b)
	var users int
	for b.Loop() {
		rep, err := LicenceReport(context.Background(), env)
		if err != nil {
			b.Fatal(err)
		}
		users = rep.Users
		if rep.Requests != 102 {
			b.Errorf("report took %d requests, want 102 (101 user pages + subscribedSkus)", rep.Requests)
		}
	}
	b.StopTimer()
	g1, s1 := tn.g.Stats(), tn.simStats(b)
	runs := float64(b.N)
	if users != 100000 {
		b.Fatalf("read %d users, want 100000", users)
	}
	b.ReportMetric(float64(g1.Requests-g0.Requests)/runs, "requests/op")
	b.ReportMetric(float64(s1.Requests-s0.Requests)/runs, "sim-requests/op")
	b.ReportMetric(float64(g1.Retries-g0.Retries)/runs, "retries/op")
}

// BenchmarkLicenceReportFloor fetches the same pages and subscribedSkus
// with a bare net/http loop, decoding nothing but the paging: the least
// any client can do for the same figures.
func BenchmarkLicenceReportFloor(b *testing.B) {
	tn := benchLicenceTenant(b)
	hc := tn.tokenClient()
	get := func(link string) (*http.Response, error) {
		for {
			resp, err := hc.Get(link)
			if err != nil || resp.StatusCode != http.StatusTooManyRequests {
				return resp, err
			}
			s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			resp.Body.Close()
			time.Sleep(time.Duration(max(s, 1)) * time.Second)
		}
	}
	first := tn.sim.URL() + "/v1.0/users?$select=" + strings.Join(graph.UserLicenceFields, ",") + "&$top=999"
	var requests int64
	for b.Loop() {
		resp, err := get(tn.sim.URL() + "/v1.0/subscribedSkus")
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		requests++
		n := 0
		for link := first; link != ""; {
			resp, err := get(link)
			if err != nil {
				b.Fatal(err)
			}
			requests++
			var p struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			n += len(p.Value)
			link = p.NextLink
		}
		if n != 100000 {
			b.Fatalf("read %d users, want 100000", n)
		}
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}
