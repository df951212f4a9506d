package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []netip.Prefix
		wantErr bool
	}{
		{"", nil, false},
		{"  ", nil, false},
		{"10.0.0.0/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false},
		{"10.0.0.1", []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}, false},
		{"10.0.0.1, 192.168.0.0/16 ,fd00::/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fd00::/8")}, false},
		{"::1", []netip.Prefix{netip.MustParsePrefix("::1/128")}, false},
		{"10.1.2.3/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false}, // masked
		{"10.0.0.0/33", nil, true},
		{"example.com", nil, true},
		{"10.0.0.1,,10.0.0.2", nil, true},
		{"10.0.0.1:80", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTrustedProxies(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTrustedProxies(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(got, tt.want, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ParseTrustedProxies(%q) (-got +want):\n%s", tt.in, diff)
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted bool
		peer    string
		xff     []string
		want    string
	}{
		{"no proxy configured ignores XFF", false, "10.1.1.1:5000", []string{"203.0.113.9"}, "10.1.1.1"},
		{"untrusted peer ignores XFF", true, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"trusted peer, one hop", true, "10.1.1.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"trusted peer, client spoofs a left entry", true, "10.1.1.1:5000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted hops", true, "10.1.1.1:5000", []string{"203.0.113.9, 192.168.1.1"}, "203.0.113.9"},
		{"several headers", true, "10.1.1.1:5000", []string{"1.2.3.4", "203.0.113.9, 10.2.2.2"}, "203.0.113.9"},
		{"all hops trusted: leftmost", true, "10.1.1.1:5000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage hop stops the walk at the proxy", true, "10.1.1.1:5000", []string{"not-an-ip"}, "10.1.1.1"},
		{"trusted peer without XFF", true, "10.1.1.1:5000", nil, "10.1.1.1"},
		{"IPv6 peer", true, "[2001:db8::1]:443", []string{"203.0.113.9"}, "2001:db8::1"},
		{"IPv4-mapped trusted peer", true, "[::ffff:10.1.1.1]:5000", []string{"203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{}
			if tt.trusted {
				s.cfg.TrustedProxies = trusted
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.ClientAddr(r); got != tt.want {
				t.Errorf("ClientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
