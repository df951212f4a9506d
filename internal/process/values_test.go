package process

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHolds(t *testing.T) {
	fields := map[string]any{"name": "Sales Team", "n": 10.0, "m": 9.0, "empty": "", "none": nil, "yes": true,
		"day": "2026-03-01", "rows": []any{}, "full": []any{map[string]any{"id": "1"}}}
	for _, tc := range []struct {
		field, op string
		value     *Operand
		want      bool
	}{
		{"name", OpEquals, &Operand{Text: "sales team"}, true},
		{"name", OpEquals, &Operand{Text: "Sales"}, false},
		{"name", OpNotEquals, &Operand{Text: "Sales"}, true},
		{"name", OpContains, &Operand{Text: "LES T"}, true},
		{"name", OpStartsWith, &Operand{Text: "sal"}, true},
		{"name", OpStartsWith, &Operand{Text: "team"}, false},
		{"n", OpEquals, &Operand{Text: "10.0"}, true},
		{"n", OpGreaterThan, &Operand{Field: "m"}, true},
		{"n", OpLessThan, &Operand{Field: "m"}, false},
		{"n", OpGreaterThan, &Operand{Text: "9.5"}, true},
		{"day", OpGreaterThan, &Operand{Text: "2026-02-28"}, true},
		{"day", OpLessThan, &Operand{Text: "2026-02-28"}, false},
		{"none", OpGreaterThan, &Operand{Text: "0"}, false},
		{"none", OpLessThan, &Operand{Text: "0"}, false},
		{"yes", OpEquals, &Operand{Text: "true"}, true},
		{"empty", OpIsEmpty, nil, true},
		{"none", OpIsEmpty, nil, true},
		{"rows", OpIsEmpty, nil, true},
		{"full", OpIsNotEmpty, nil, true},
		{"name", OpIsEmpty, nil, false},
		{"missing", OpIsEmpty, nil, true},
	} {
		t.Run(tc.field+" "+tc.op, func(t *testing.T) {
			if got := holds(Condition{Field: tc.field, Operator: tc.op, Value: tc.value}, fields); got != tc.want {
				t.Errorf("holds(%s %s %+v) = %v, want %v", tc.field, tc.op, tc.value, got, tc.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	fields := map[string]any{"a": "x", "n": 2.5, "b": false}
	for _, tc := range []struct{ tmpl, want string }{
		{"{{a}}-{{ n }}-{{b}}", "x-2.5-false"},
		{"no placeholders", "no placeholders"},
		// Only field names are substituted: anything else stays as written.
		{"{{missing}} {{a | upper}} {{.}}", "{{missing}} {{a | upper}} {{.}}"},
	} {
		if got := render(tc.tmpl, fields); got != tc.want {
			t.Errorf("render(%q) = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}

func TestOperandJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Operand
		err  bool
	}{
		{`"text"`, Operand{Text: "text"}, false},
		{`5`, Operand{Text: "5"}, false},
		{`true`, Operand{Text: "true"}, false},
		{`{"field":"a"}`, Operand{Field: "a"}, false},
		{`{"field":"a","x":1}`, Operand{}, true},
		{`{"field":""}`, Operand{}, true},
		{`[1]`, Operand{}, true},
	} {
		var got Operand
		err := got.UnmarshalJSON([]byte(tc.in))
		if (err != nil) != tc.err {
			t.Errorf("UnmarshalJSON(%s) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("UnmarshalJSON(%s) (-want +got):\n%s", tc.in, diff)
		}
	}
}
