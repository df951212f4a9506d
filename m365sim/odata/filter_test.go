package odata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// object is a test Getter over a map, looking names up case-insensitively as
// the simulator's handlers must.
func object(tb testing.TB, m map[string]any) Getter {
	tb.Helper()
	return func(p string) (any, bool) {
		if v, ok := m[p]; ok {
			return v, true
		}
		for k, v := range m {
			if strings.EqualFold(k, p) {
				return v, true
			}
		}
		return nil, false
	}
}

const falconSKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"

func adele(tb testing.TB) Getter {
	tb.Helper()
	return object(tb, map[string]any{
		"id":                "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
		"displayName":       "Adele Vance",
		"givenName":         "Adele",
		"surname":           "Vance",
		"mail":              "AdeleV@contoso.com",
		"userPrincipalName": "AdeleV@contoso.com",
		"jobTitle":          "Retail Manager",
		"accountEnabled":    true,
		"employeeId":        nil,
		"ageGroup":          int64(3),
		"score":             4.5,
		"createdDateTime":   "2021-03-04T10:00:00Z",
		"businessPhones":    []string{"+1 425 555 0109"},
		"groupTypes":        []string{},
		"assignedLicenses": []map[string]any{
			{"skuId": falconSKU, "disabledPlans": []string{}},
		},
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute1": "Blue"},
	})
}

func TestParseFilterMatch(t *testing.T) {
	zoe := object(t, map[string]any{"displayName": "Zoë O'Brien", "surname": "O'Brien", "givenName": "Zoë"})
	unified := object(t, map[string]any{"displayName": "Sales - EMEA", "groupTypes": []string{"Unified"}, "mailEnabled": true, "securityEnabled": false})
	security := object(t, map[string]any{"displayName": "Finance", "groupTypes": []string{}, "mailEnabled": false, "securityEnabled": true})

	tests := []struct {
		filter string
		obj    Getter
		want   bool
	}{
		{"displayName eq 'Adele Vance'", adele(t), true},
		{"displayname EQ 'adele vance'", adele(t), true},
		{"displayName eq 'Adele'", adele(t), false},
		{"displayName ne 'Adele'", adele(t), true},
		{"startswith(displayName,'ad')", adele(t), true},
		{"startsWith(displayName, 'AD')", adele(t), true},
		{"startswith(displayName,'Vance')", adele(t), false},
		{"endswith(mail,'@contoso.com')", adele(t), true},
		{"endsWith(mail,'@CONTOSO.COM')", adele(t), true},
		{"endswith(mail,'@outlook.com')", adele(t), false},
		{"jobTitle in ('Retail Manager','CEO')", adele(t), true},
		{"jobTitle in ('retail manager')", adele(t), true},
		{"jobTitle in ('CEO')", adele(t), false},
		{"accountEnabled eq true", adele(t), true},
		{"accountEnabled eq false", adele(t), false},
		{"accountEnabled", adele(t), true},
		{"employeeId eq null", adele(t), true},
		{"employeeId ne null", adele(t), false},
		{"missingProperty eq null", adele(t), true},
		{"mail ne null", adele(t), true},
		{"ageGroup eq 3", adele(t), true},
		{"ageGroup gt 2 and ageGroup lt 4", adele(t), true},
		{"score ge 4.5", adele(t), true},
		{"score gt 4.5", adele(t), false},
		{"createdDateTime ge 2021-01-01T00:00:00Z", adele(t), true},
		{"createdDateTime lt 2021-01-01T00:00:00Z", adele(t), false},
		{"createdDateTime ge 2021-03-04", adele(t), true},
		{"jobTitle ge '!'", adele(t), true},
		{"id eq '87D349ED-44D7-43E1-9A83-5F2406DEE5BD'", adele(t), true},
		{"id eq 87d349ed-44d7-43e1-9a83-5f2406dee5bd", adele(t), true},
		{"assignedLicenses/any(x:x/skuId eq " + falconSKU + ")", adele(t), true},
		{"assignedLicenses/any(x:x/skuId eq 06ebc4ee-1bb5-47dd-8120-11324bc54e06)", adele(t), false},
		{"assignedLicenses/any()", adele(t), true},
		{"assignedLicenses/all(x:x/skuId eq " + falconSKU + ")", adele(t), true},
		{"businessPhones/any(p:startswith(p,'+1 425'))", adele(t), true},
		{"groupTypes/any()", adele(t), false},
		{"groupTypes/any(c:c eq 'Unified')", unified, true},
		{"groupTypes/ANY(c:c eq 'unified')", unified, true},
		{"groupTypes/any(c:c eq 'Unified')", security, false},
		{"NOT(groupTypes/any(s:s eq 'Unified'))", security, true},
		{"not groupTypes/any(s:s eq 'Unified')", unified, false},
		{"not displayName eq 'Finance'", security, false},
		{"securityEnabled eq true and mailEnabled eq false", security, true},
		{"mailEnabled eq false or displayName eq 'Sales - EMEA'", unified, true},
		// not > and > or
		{"displayName eq 'x' and displayName eq 'y' or displayName eq 'Finance'", security, true},
		{"displayName eq 'Finance' or displayName eq 'x' and displayName eq 'y'", security, true},
		{"(displayName eq 'Finance' or displayName eq 'x') and displayName eq 'y'", security, false},
		{"not displayName eq 'x' and displayName eq 'Finance'", security, true},
		{"not (displayName eq 'x' or displayName eq 'Finance')", security, false},
		{"NOT(NOT(displayName eq 'Finance'))", security, true},
		{"surname eq 'O''Brien'", zoe, true},
		{"startswith(displayName,'zoË')", zoe, true},
		{"givenName eq 'ZOË'", zoe, true},
		{"givenName in ('Zoe')", zoe, false},
		{"onPremisesExtensionAttributes/extensionAttribute1 eq 'blue'", adele(t), true},
		{"true", adele(t), true},
		{"false or displayName eq 'Adele Vance'", adele(t), true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q) error: %v", tt.filter, err)
			}
			if got := f.Match(tt.obj); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestFilterIntrospection(t *testing.T) {
	tests := []struct {
		filter   string
		props    []string
		funcs    []string
		advanced bool
	}{
		{"groupTypes/any(c:c eq 'Unified')", []string{"groupTypes"}, []string{"any", "eq"}, false},
		{"assignedLicenses/any(x:x/skuId eq " + falconSKU + ")", []string{"assignedLicenses", "assignedLicenses/skuId"}, []string{"any", "eq"}, false},
		{"startswith(displayName,'a') or startswith(mail,'a')", []string{"displayName", "mail"}, []string{"or", "startswith"}, false},
		{"displayName ne 'x'", []string{"displayName"}, []string{"ne"}, true},
		{"NOT(groupTypes/any(s:s eq 'Unified'))", []string{"groupTypes"}, []string{"any", "eq", "not"}, true},
		{"endsWith(mail,'@contoso.com')", []string{"mail"}, []string{"endswith"}, true},
		{"id in ('a','b') and accountEnabled eq true", []string{"id", "accountEnabled"}, []string{"and", "eq", "in"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q) error: %v", tt.filter, err)
			}
			if diff := cmp.Diff(tt.props, f.Properties()); diff != "" {
				t.Errorf("Properties() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.funcs, f.Functions()); diff != "" {
				t.Errorf("Functions() mismatch (-want +got):\n%s", diff)
			}
			if got := f.Advanced(); got != tt.advanced {
				t.Errorf("Advanced() = %v, want %v", got, tt.advanced)
			}
			if got := f.String(); got != tt.filter {
				t.Errorf("String() = %q, want %q", got, tt.filter)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		filter string
		want   Error
	}{
		{"", Error{400, "BadRequest", "Invalid filter clause: Expression expected at position 0 in ''."}},
		{"displayName eq", Error{400, "BadRequest", "Invalid filter clause: Expression expected at position 14 in 'displayName eq'."}},
		{"displayName eq 'Adele", Error{400, "BadRequest", "Invalid filter clause: There is an unterminated string literal at position 21 in 'displayName eq 'Adele'."}},
		{"startswith(displayName,%27Kamolika%27)", Error{400, "BadRequest", "Invalid filter clause: Syntax error: character '%' is not valid at position 23 in 'startswith(displayName,%27Kamolika%27)'."}},
		{"jobtitle ge '!' , accountenabled eq true", Error{400, "BadRequest", "Invalid filter clause: Syntax error at position 17 in 'jobtitle ge '!' , accountenabled eq true'."}},
		{"(displayName eq 'a'", Error{400, "BadRequest", "Invalid filter clause: ')' or operator expected at position 19 in '(displayName eq 'a''."}},
		{"displayName eq 'a')", Error{400, "BadRequest", "Invalid filter clause: Syntax error at position 19 in 'displayName eq 'a')'."}},
		{"startswith(displayName 'a')", Error{400, "BadRequest", "Invalid filter clause: ')' or ',' expected at position 23 in 'startswith(displayName 'a')'."}},
		{"startswith(displayName)", Error{400, "BadRequest", "Invalid filter clause: No function signature for the function with name 'startswith' matches the specified arguments. The function signatures considered are: startswith(Edm.String Nullable=true, Edm.String Nullable=true)."}},
		{"substringof('x', displayName)", Error{400, "BadRequest", "Invalid filter clause: An unknown function with name 'substringof' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed."}},
		{"contains(displayName,'a')", Error{400, "Request_UnsupportedQuery", "Unsupported property filter clause operator 'Contains'."}},
		{"'Adele'", Error{400, "BadRequest", "Invalid filter clause: The $filter expression must evaluate to a single boolean value."}},
		{"displayName eq 'a' and 'b'", Error{400, "BadRequest", "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'And'."}},
		{"not 5", Error{400, "BadRequest", "Invalid filter clause: A unary operator with an incompatible type was detected. Found operand type 'Edm.Int32' for operator kind 'Not'."}},
		{"Zoë eq 'a' ;", Error{400, "BadRequest", "Invalid filter clause: Syntax error: character ';' is not valid at position 11 in 'Zoë eq 'a' ;'."}},
		{"groupTypes/all()", Error{400, "BadRequest", "Invalid filter clause: Expression expected at position 15 in 'groupTypes/all()'."}},
		{"groupTypes/any(c c eq 'x')", Error{400, "BadRequest", "Invalid filter clause: ':' expected at position 17 in 'groupTypes/any(c c eq 'x')'."}},
		{strings.Repeat("(", 60) + "a eq 'b'" + strings.Repeat(")", 60), Error{400, "BadRequest", "Invalid filter clause: the expression nests deeper than 50 levels, the simulator's limit."}},
		{"displayName eq '" + strings.Repeat("x", 2100) + "'", Error{400, "BadRequest", "Invalid filter clause: the expression is 2117 characters long; the simulator accepts at most 2048."}},
	}
	for _, tt := range tests {
		name := tt.filter
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			_, err := ParseFilter(tt.filter)
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("ParseFilter(%q) error = %v, want *Error", tt.filter, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("ParseFilter(%q) error mismatch (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}

func TestLexLiterals(t *testing.T) {
	tests := []struct {
		filter string
		want   any
	}{
		{"x eq 'O''Brien'", "O'Brien"},
		{"x eq ''''", "'"},
		{"x eq 42", int64(42)},
		{"x eq -7", int64(-7)},
		{"x eq 2.5", 2.5},
		{"x eq 00000000-0000-0000-0000-000000000000", guidLit("00000000-0000-0000-0000-000000000000")},
		{"x eq abcdef01-2345-6789-abcd-ef0123456789", guidLit("abcdef01-2345-6789-abcd-ef0123456789")},
		{"x eq 2021-01-01T00:00:00Z", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"x eq 2021-01-01T02:00:00.5+02:00", time.Date(2021, 1, 1, 0, 0, 0, 500_000_000, time.UTC)},
		{"x eq null", nil},
		{"x eq TRUE", true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q) error: %v", tt.filter, err)
			}
			got := f.root.(*cmpNode).r.(*litNode).v
			if tm, ok := got.(time.Time); ok {
				got = tm.UTC()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("literal mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// seedFilters feeds the fuzzer with every table above.
var seedFilters = []string{
	"displayName eq 'Adele Vance'", "startswith(displayName,'ad')", "endsWith(mail,'@contoso.com')",
	"jobTitle in ('Retail Manager','CEO')", "groupTypes/any(c:c eq 'Unified')",
	"assignedLicenses/any(x:x/skuId eq " + falconSKU + ")", "NOT(groupTypes/any(s:s eq 'Unified'))",
	"not displayName eq 'x' and displayName eq 'Finance' or accountEnabled eq true",
	"surname eq 'O''Brien'", "givenName eq 'Zoë'", "createdDateTime ge 2021-01-01T00:00:00Z",
	"assignedLicenses/any()", "(a eq 'b'", "a eq 'b')", "x eq", "'x'", "contains(a,'b')",
	"a/any(x:x/b/any(y:y eq 1))", "id eq 87d349ed-44d7-43e1-9a83-5f2406dee5bd",
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range seedFilters {
		f.Add(s)
	}
	obj := adele(f)
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseFilter(%q) error %T %v, want *Error", s, err, err)
			}
			if e.Status != 400 || e.Message == "" {
				t.Fatalf("ParseFilter(%q) error = %+v, want status 400 and a message", s, e)
			}
			return
		}
		flt.Match(obj)
		flt.Properties()
		flt.Advanced()
	})
}

func BenchmarkFilterMatch(b *testing.B) {
	f, err := ParseFilter("startswith(displayName,'ad') and accountEnabled eq true or assignedLicenses/any(x:x/skuId eq " + falconSKU + ")")
	if err != nil {
		b.Fatal(err)
	}
	objs := make([]Getter, 100_000)
	for i := range objs {
		m := map[string]any{
			"displayName":      "User " + string(rune('A'+i%26)),
			"accountEnabled":   i%3 != 0,
			"assignedLicenses": []map[string]any{},
		}
		objs[i] = func(p string) (any, bool) { v, ok := m[p]; return v, ok }
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, o := range objs {
			if f.Match(o) {
				n++
			}
		}
		_ = n
	}
}
