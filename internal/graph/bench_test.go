package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// fakeUser is a fully populated user, as a $select of UserFields returns.
func fakeUser(i int) User {
	enabled := true
	return User{
		ID: fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i), UserPrincipalName: fmt.Sprintf("user%d@contoso.onmicrosoft.com", i),
		DisplayName: fmt.Sprintf("User %d", i), GivenName: "Given", Surname: fmt.Sprintf("Surname%d", i),
		Mail: fmt.Sprintf("user%d@contoso.com", i), JobTitle: "Engineer", Department: "R&D", OfficeLocation: "18/2111",
		CompanyName: "Contoso", EmployeeID: strconv.Itoa(i), MobilePhone: "+1 425 555 0109", BusinessPhones: []string{"+1 425 555 0100"},
		City: "Dublin", Country: "Ireland", UsageLocation: "IE", AccountEnabled: &enabled,
		AssignedLicenses: []AssignedLicense{{SkuID: "c7df2760-2c81-4ef7-b578-5b5392b571df", DisabledPlans: []string{}}},
	}
}

// usersPages renders n users as Graph pages of size, linked by nextLink.
func usersPages(tb testing.TB, base string, n, size int) [][]byte {
	tb.Helper()
	var pages [][]byte
	for start := 0; start < n; start += size {
		p := page[User]{}
		for i := start; i < min(start+size, n); i++ {
			p.Value = append(p.Value, fakeUser(i))
		}
		if start+size < n {
			p.NextLink = fmt.Sprintf("%s/v1.0/users?$select=id&$top=%d&$skiptoken=%d", base, size, len(pages)+1)
		}
		b, err := json.Marshal(p)
		if err != nil {
			tb.Fatal(err)
		}
		pages = append(pages, b)
	}
	return pages
}

// BenchmarkDecodeUserPage measures decoding one full page, as call does.
func BenchmarkDecodeUserPage(b *testing.B) {
	raw := usersPages(b, "http://x", 999, 999)[0]
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var p page[User]
		if err := jsonv2.Unmarshal(raw, &p); err != nil {
			b.Fatal(err)
		}
		if len(p.Value) != 999 {
			b.Fatalf("decoded %d users, want 999", len(p.Value))
		}
	}
}

// BenchmarkListUsers100k lists a 100,000-user tenant from an in-process
// server whose pages are rendered once, so the figures are the client's:
// round trips, decoding and allocations per full listing.
func BenchmarkListUsers100k(b *testing.B) {
	const n = 100_000
	var pages [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
		w.Header().Set("Content-Type", "application/json")
		w.Write(pages[i])
	}))
	defer srv.Close()
	pages = usersPages(b, srv.URL, n, 999)
	c := New(Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	b.ReportAllocs()
	for b.Loop() {
		seen := 0
		err := c.ListUsers(context.Background(), Query{}, func(us []User) error {
			seen += len(us)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if seen != n {
			b.Fatalf("listed %d users, want %d", seen, n)
		}
	}
	b.ReportMetric(float64(c.Stats().Requests)/float64(b.N), "requests/op")
}
