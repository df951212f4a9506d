package odata

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSearchMatch(t *testing.T) {
	adeleWalker := object(t, map[string]any{"displayName": "Adele Walker", "mail": "adele.walker@contoso.com", "description": nil})
	camel := object(t, map[string]any{"displayName": "AdeleVance", "description": "Project2020 kickoff"})
	acronym := object(t, map[string]any{"displayName": "HTMLParser Team", "proxyAddresses": []string{"SMTP:team@contoso.com", "smtp:html@contoso.com"}})
	zoe := object(t, map[string]any{"displayName": "Zoë O'Brien", "mail": "zoe.obrien@contoso.com"})

	tests := []struct {
		search string
		obj    Getter
		want   bool
	}{
		{`"displayName:wa"`, adeleWalker, true},
		{`"displayName:WA"`, adeleWalker, true},
		{`"displayName:alker"`, adeleWalker, false},
		{`"displayName:adele walk"`, adeleWalker, true},
		{`"displayName:walk adele"`, adeleWalker, true},
		{`"displayName:vance"`, camel, true},
		{`"displayName:adelev"`, camel, false},
		{`"description:2020"`, camel, true},
		{`"description:project"`, camel, true},
		{`"description:kick"`, adeleWalker, false},
		{`"displayName:parser"`, acronym, true},
		{`"displayName:html"`, acronym, true},
		{`"displayName:brien"`, zoe, true},
		{`"displayName:zoë"`, zoe, true},
		{`"mail:adele"`, adeleWalker, true},
		{`"mail:walker"`, adeleWalker, false},
		{`"mail: adele"`, adeleWalker, true},
		{`"proxyAddresses:smtp:html"`, acronym, true},
		{`"displayName:wa" OR "displayName:ad"`, camel, true},
		{`"displayName:wa" AND "displayName:vance"`, camel, false},
		{`"displayName:wa" "displayName:adele"`, adeleWalker, true},
		{`("displayName:x" OR "displayName:adele") AND "mail:adele"`, adeleWalker, true},
		{`"displayName:x" OR "displayName:adele" AND "mail:zzz"`, adeleWalker, false},
		{`"unknownProperty:a"`, adeleWalker, false},
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			s, err := ParseSearch(tt.search)
			if err != nil {
				t.Fatalf("ParseSearch(%q) error: %v", tt.search, err)
			}
			if got := s.Match(tt.obj); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.search, got, tt.want)
			}
		})
	}
}

func TestSearchProperties(t *testing.T) {
	s, err := ParseSearch(`"displayName:wa" OR ("mail:ad" AND "displayName:x")`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"displayName", "mail"}, s.Properties()); diff != "" {
		t.Errorf("Properties() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseSearchErrors(t *testing.T) {
	unsupportedQuery := Error{400, "Request_UnsupportedQuery", "Unsupported Query."}
	tests := []struct {
		search string
		want   Error
	}{
		{`displayName:wa`, Error{400, "BadRequest", "Syntax error: character ':' is not valid at position 11 in 'displayName:wa'."}},
		{`"displayName:wa" OR displayName:ad`, Error{400, "BadRequest", "Syntax error: character ':' is not valid at position 31 in '\"displayName:wa\" OR displayName:ad'."}},
		{`wa`, unsupportedQuery},
		{`"wa"`, unsupportedQuery},
		{`"displayName:"`, unsupportedQuery},
		{`"displayName:wa" or "displayName:ad"`, unsupportedQuery},
		{``, unsupportedQuery},
		{`"displayName:wa`, Error{400, "BadRequest", "There is an unterminated string literal at position 15 in '\"displayName:wa'."}},
		{`("displayName:wa"`, Error{400, "BadRequest", "Syntax error at position 17 in '(\"displayName:wa\"'."}},
		{`"displayName:wa")`, Error{400, "BadRequest", "Syntax error at position 17 in '\"displayName:wa\")'."}},
		{`"displayName:wa" OR`, Error{400, "BadRequest", "Syntax error at position 19 in '\"displayName:wa\" OR'."}},
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			_, err := ParseSearch(tt.search)
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("ParseSearch(%q) error = %v, want *Error", tt.search, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("ParseSearch(%q) error mismatch (-want +got):\n%s", tt.search, diff)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Adele Vance", []string{"Adele", "Vance"}},
		{"AdeleVance", []string{"Adele", "Vance"}},
		{"HTMLParser", []string{"HTML", "Parser"}},
		{"Project2020-Kickoff", []string{"Project", "2020", "Kickoff"}},
		{"Sales - EMEA", []string{"Sales", "EMEA"}},
		{"Zoë O'Brien", []string{"Zoë", "O", "Brien"}},
		{"  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tokenize(tt.in)); diff != "" {
				t.Errorf("tokenize(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

var seedSearches = []string{
	`"displayName:wa"`, `"displayName:wa" OR "displayName:ad"`, `("displayName:x" OR "displayName:adele") AND "mail:adele"`,
	`displayName:wa`, `wa`, `"displayName:wa`, `("displayName:wa"`, `"a\"b:c"`, `"displayName:Zoë"`,
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range seedSearches {
		f.Add(s)
	}
	obj := adele(f)
	f.Fuzz(func(t *testing.T, s string) {
		srch, err := ParseSearch(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseSearch(%q) error %T %v, want *Error", s, err, err)
			}
			if e.Status != 400 || e.Message == "" {
				t.Fatalf("ParseSearch(%q) error = %+v, want status 400 and a message", s, e)
			}
			return
		}
		srch.Match(obj)
	})
}

func BenchmarkSearchMatch(b *testing.B) {
	s, err := ParseSearch(`"displayName:wa" OR "mail:ad"`)
	if err != nil {
		b.Fatal(err)
	}
	objs := make([]Getter, 100_000)
	for i := range objs {
		m := map[string]any{"displayName": "Adele Walker" + string(rune('A'+i%26)), "mail": "x@contoso.com"}
		objs[i] = func(p string) (any, bool) { v, ok := m[p]; return v, ok }
	}
	b.ResetTimer()
	for b.Loop() {
		for _, o := range objs {
			s.Match(o)
		}
	}
}
