package m365sim

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizePath(t *testing.T) {
	cases := []struct{ in, wantPath, wantEscaped string }{
		{"/v1.0/users/delta()", "/v1.0/users/delta", "/v1.0/users/delta"},
		{"/v1.0/users/delta%28%29", "/v1.0/users/delta", "/v1.0/users/delta"},
		{"/v1.0/groups/microsoft.graph.delta()", "/v1.0/groups/delta", "/v1.0/groups/delta"},
		{"/v1.0/users/a%2Fb/microsoft.graph.assignLicense", "/v1.0/users/a/b/assignLicense", "/v1.0/users/a%2Fb/assignLicense"},
		{"/v1.0/groups/g1/members/graph.user/$count", "/v1.0/groups/g1/members/$count", "/v1.0/groups/g1/members/$count"},
		// Unchanged: not a function, a cast outside members, an action
		// called like a function.
		{"/v1.0/users/x()", "/v1.0/users/x()", "/v1.0/users/x()"},
		{"/v1.0/users/graph.user", "/v1.0/users/graph.user", "/v1.0/users/graph.user"},
		{"/v1.0/users/u1/assignLicense()", "/v1.0/users/u1/assignLicense()", "/v1.0/users/u1/assignLicense()"},
		{"/v1.0/delta()", "/v1.0/delta", "/v1.0/delta"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			u, err := url.Parse("http://h" + tc.in)
			if err != nil {
				t.Fatal(err)
			}
			normalizePath(u)
			if u.Path != tc.wantPath || u.EscapedPath() != tc.wantEscaped {
				t.Errorf("normalizePath(%s) = %s (escaped %s), want %s (escaped %s)", tc.in, u.Path, u.EscapedPath(), tc.wantPath, tc.wantEscaped)
			}
		})
	}
}

func TestContentCodings(t *testing.T) {
	cases := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{"gzip"}, []string{"gzip"}},
		{[]string{" GZip , deflate", "identity"}, []string{"gzip", "deflate", "identity"}},
		{[]string{",,"}, nil},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, contentCodings(tc.in)); diff != "" {
			t.Errorf("contentCodings(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestDeltaIDFilter(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"id eq 'A'", []string{"a"}, false},
		{"ID EQ 'a' OR id eq 'b' or id eq 'A'", []string{"a", "b"}, false},
		{"id eq ''", nil, true},
		{"id ne 'a'", nil, true},
		{"id eq 'a' and id eq 'b'", nil, true},
		{"startswith(id,'a')", nil, true},
	}
	for _, tc := range cases {
		got, err := deltaIDFilter(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("deltaIDFilter(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("deltaIDFilter(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
