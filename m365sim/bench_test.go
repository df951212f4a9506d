package m365sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/tenantlink/tenantlink/m365sim"
)

func BenchmarkSeed100k(b *testing.B) {
	var peak uint64
	for b.Loop() {
		runtime.GC()
		s, err := m365sim.New(m365sim.Options{Users: 100_000, Groups: 12, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(peak)/(1<<20), "heap-MB")
}

func BenchmarkListUsersPage999(b *testing.B) {
	s := mustStart(b, m365sim.Options{Users: 100_000, Groups: 12, Seed: 1})
	tok := appToken(b, s, "User.Read.All")
	b.Run("first page", func(b *testing.B) {
		for b.Loop() {
			page := getPage(b, s.URL()+"/v1.0/users?$top=999", tok)
			if len(page.Value) != 999 {
				b.Fatalf("page has %d users", len(page.Value))
			}
		}
	})
	b.Run("all 100k users", func(b *testing.B) {
		for b.Loop() {
			n := 0
			next := s.URL() + "/v1.0/users?$top=999"
			for next != "" {
				page := getPage(b, next, tok)
				n += len(page.Value)
				next = page.NextLink
			}
			if n != 100_000 {
				b.Fatalf("read %d users, want 100000", n)
			}
		}
	})
}

type usersPage struct {
	NextLink string            `json:"@odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
}

// getPage fetches one page, decoding only what paging needs so the
// benchmark measures the simulator rather than the client's decoding.
func getPage(b *testing.B, url, tok string) usersPage {
	b.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("status %d: %v", res.StatusCode, err)
	}
	var p usersPage
	if err := json.Unmarshal(raw, &p); err != nil {
		b.Fatal(err)
	}
	return p
}
