package web

import (
	"net/url"
	"testing"

	"github.com/tenantlink/tenantlink"
)

// TestQueryLimit: ?limit is read from 1 to the endpoint's max, the
// endpoint's default standing in for none; anything else is refused.
func TestQueryLimit(t *testing.T) {
	for _, tt := range []struct {
		query    string
		def, max int
		want     int
		err      bool
	}{
		{query: "", def: 20, max: 500, want: 20},
		{query: "limit=", def: 0, max: 1000, want: 0},
		{query: "limit=1", def: 20, max: 500, want: 1},
		{query: "limit=500", def: 20, max: 500, want: 500},
		{query: "limit=501", def: 20, max: 500, err: true},
		{query: "limit=0", def: 20, max: 500, err: true},
		{query: "limit=-1", def: 20, max: 500, err: true},
		{query: "limit=ten", def: 0, max: 1000, err: true},
		{query: "limit=99999999999999999999", def: 0, max: 1000, err: true},
	} {
		q, _ := url.ParseQuery(tt.query)
		got, err := queryLimit(q, tt.def, tt.max)
		if tt.err {
			if tenantlink.ErrorCode(err) != tenantlink.EINVALID {
				t.Errorf("%q: err = %v, want an invalid-input error", tt.query, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: = %d, %v; want %d", tt.query, got, err, tt.want)
		}
	}
}
