package odata

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOrderBy(t *testing.T) {
	tests := []struct {
		in      string
		want    []OrderBy
		wantErr string
	}{
		{in: "displayName", want: []OrderBy{{Property: "displayName"}}},
		{in: "displayName desc, createdDateTime ASC", want: []OrderBy{{Property: "displayName", Desc: true}, {Property: "createdDateTime"}}},
		{in: "displayName,,mail", wantErr: "Expression expected at position 12 in 'displayName,,mail'."},
		{in: "displayName sideways", wantErr: "Syntax error at position 20 in 'displayName sideways'."},
		{in: "display-name", wantErr: "Syntax error at position 12 in 'display-name'."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOrderBy(tt.in)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOrderBy(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseSelect(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "id,displayName", want: []string{"id", "displayName"}},
		{in: " id , displayName ", want: []string{"id", "displayName"}},
		{in: "*", want: []string{"*"}},
		{in: "id,,displayName", wantErr: "Syntax error at position 3 in 'id,,displayName'."},
		{in: "id,", wantErr: "Syntax error at position 3 in 'id,'."},
		{in: "", wantErr: "Syntax error at position 0 in ''."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSelect(tt.in)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSelect(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func checkErr(tb testing.TB, err error, want string) {
	tb.Helper()
	if want == "" {
		if err != nil {
			tb.Fatalf("error = %v, want nil", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v, want *Error %q", err, want)
	}
	if e.Status != 400 || e.Code != CodeBadRequest || e.Message != want {
		tb.Errorf("error = %+v, want 400 BadRequest %q", e, want)
	}
}

func TestCompareBy(t *testing.T) {
	mk := func(name string, n any) Getter {
		return object(t, map[string]any{"displayName": name, "n": n})
	}
	objs := []Getter{mk("bob", int64(2)), mk("Alice", nil), mk("carol", int64(1)), mk("alice", int64(3))}
	slices.SortStableFunc(objs, CompareBy([]OrderBy{{Property: "displayName"}, {Property: "n", Desc: true}}))
	var got []any
	for _, o := range objs {
		v, _ := o("n")
		got = append(got, v)
	}
	if diff := cmp.Diff([]any{int64(3), nil, int64(2), int64(1)}, got); diff != "" {
		t.Errorf("sorted order mismatch (-want +got):\n%s", diff)
	}
}
