package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInputs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    map[string]any
		wantErr string
	}{
		{"text", []string{"query=O'Brien", "field=surname"}, map[string]any{"query": "O'Brien", "field": "surname"}, ""},
		{"equals in value", []string{"query=a=b"}, map[string]any{"query": "a=b"}, ""},
		{"repeat makes a list", []string{"user=a@x", "user=b@x", "user=c@x"}, map[string]any{"user": []any{"a@x", "b@x", "c@x"}}, ""},
		{"json number", []string{"maxRows:=10"}, map[string]any{"maxRows": json.Number("10")}, ""},
		{"json list", []string{`user:=["a","b"]`}, map[string]any{"user": []any{"a", "b"}}, ""},
		{"json bool", []string{"x:=true"}, map[string]any{"x": true}, ""},
		{"empty value", []string{"description="}, map[string]any{"description": ""}, ""},
		{"non-ASCII", []string{"query=Zoë"}, map[string]any{"query": "Zoë"}, ""},
		{"no equals", []string{"query"}, nil, "write input=value"},
		{"no name", []string{"=x"}, nil, "has no name"},
		{"bad json", []string{"maxRows:=ten"}, nil, "is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInputs(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseInputs(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseInputs(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestPrintTableSkipsEmptyColumns(t *testing.T) {
	var b strings.Builder
	items := []map[string]any{
		{"id": "1", "displayName": "Adele Vance", "mail": ""},
		{"id": "2", "displayName": "Zoë\tO'Brien", "mail": nil, "businessPhones": []any{"+1 555", "+1 556"}},
	}
	if err := printTable(&b, []string{"id", "displayName", "mail"}, items); err != nil {
		t.Fatal(err)
	}
	want := "ID  DISPLAYNAME  BUSINESSPHONES\n1   Adele Vance  \n2   Zoë O'Brien  +1 555, +1 556\n(2 item(s))\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
}
