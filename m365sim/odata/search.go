package odata

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Search is a parsed $search expression: quoted "property:text" clauses joined
// by AND/OR, as Graph accepts on directory objects.
type Search struct {
	text  string
	root  snode
	props []string
}

type (
	snode   interface{}
	sAnd    struct{ l, r snode }
	sOr     struct{ l, r snode }
	sClause struct {
		prop   string
		text   string
		tokens []string // the text split as values are, for tokenized properties
	}
)

type stok struct {
	kind     int // sEnd, sLParen, sRParen, sPhrase, sAND, sOR
	val      string
	pos, end int
}

const (
	sEnd = iota
	sLParen
	sRParen
	sPhrase
	sAND
	sOR
)

// ParseSearch parses a $search value such as "displayName:wa" OR "displayName:ad".
// Errors are *Error.
func ParseSearch(s string) (*Search, error) {
	if e := checkLength(s, "search"); e != nil {
		return nil, e
	}
	toks, err := lexSearch(s)
	if err != nil {
		return nil, err
	}
	p := &sparser{src: s, toks: toks}
	if toks[0].kind == sEnd {
		return nil, ErrUnsupportedQuery()
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.toks[p.i]; t.kind != sEnd {
		return nil, p.syntaxErr(t.end)
	}
	return &Search{text: s, root: root, props: p.props}, nil
}

// lexSearch follows OData's search lexer: phrases in double quotes (with \"
// and \\ escapes), parentheses, and bare words; AND and OR are operators only
// in upper case. Graph wants every term quoted as "property:text", so a bare
// word is refused: a ':' in it fails like Graph's lexer does, anything else
// as an unsupported query.
func lexSearch(src string) ([]stok, *Error) {
	var toks []stok
	i := 0
	for {
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += n
		}
		if i >= len(src) {
			return append(toks, stok{kind: sEnd, pos: len(src), end: len(src)}), nil
		}
		start := i
		switch src[i] {
		case '(':
			toks = append(toks, stok{kind: sLParen, pos: i, end: i + 1})
			i++
		case ')':
			toks = append(toks, stok{kind: sRParen, pos: i, end: i + 1})
			i++
		case '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				c := src[j]
				if c == '\\' && j+1 < len(src) && (src[j+1] == '"' || src[j+1] == '\\') {
					b.WriteByte(src[j+1])
					j += 2
					continue
				}
				if c == '"' {
					closed = true
					j++
					break
				}
				b.WriteByte(c)
				j++
			}
			if !closed {
				return nil, badRequest(fmt.Sprintf("There is an unterminated string literal at position %d in '%s'.", runePos(src, len(src)), src))
			}
			toks = append(toks, stok{kind: sPhrase, val: b.String(), pos: start, end: j})
			i = j
		default:
			j := i
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
					break
				}
				if r == ':' {
					return nil, badRequest(fmt.Sprintf("Syntax error: character ':' is not valid at position %d in '%s'.", runePos(src, j), src))
				}
				j += n
			}
			switch src[i:j] {
			case "AND":
				toks = append(toks, stok{kind: sAND, pos: i, end: j})
			case "OR":
				toks = append(toks, stok{kind: sOR, pos: i, end: j})
			default:
				return nil, ErrUnsupportedQuery()
			}
			i = j
		}
	}
}

type sparser struct {
	src   string
	toks  []stok
	i     int
	depth int
	props []string
}

func (p *sparser) syntaxErr(off int) *Error {
	return badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", runePos(p.src, off), p.src))
}

func (p *sparser) parseOr() (snode, *Error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.toks[p.i].kind == sOR {
		p.i++
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &sOr{l, r}
	}
	return l, nil
}

// parseAnd also joins adjacent clauses, which OData search reads as AND.
func (p *sparser) parseAnd() (snode, *Error) {
	l, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		switch p.toks[p.i].kind {
		case sAND:
			p.i++
		case sPhrase, sLParen:
		default:
			return l, nil
		}
		r, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		l = &sAnd{l, r}
	}
}

func (p *sparser) parsePrimary() (snode, *Error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, badRequest(fmt.Sprintf("Invalid search clause: the expression nests deeper than %d levels, the simulator's limit.", MaxDepth))
	}
	t := p.toks[p.i]
	switch t.kind {
	case sLParen:
		p.i++
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c := p.toks[p.i]
		if c.kind != sRParen {
			return nil, p.syntaxErr(c.end)
		}
		p.i++
		return x, nil
	case sPhrase:
		p.i++
		prop, text, ok := strings.Cut(t.val, ":")
		prop = strings.TrimSpace(prop)
		if !ok || prop == "" || strings.TrimSpace(text) == "" || strings.IndexFunc(prop, func(r rune) bool { return !isIdentPart(r) && r != '/' }) >= 0 {
			// Directory objects search only named properties (search-query-parameter.md).
			return nil, ErrUnsupportedQuery()
		}
		if !slices.Contains(p.props, prop) {
			p.props = append(p.props, prop)
		}
		text = strings.TrimSpace(text)
		return &sClause{prop: prop, text: text, tokens: tokenize(text)}, nil
	}
	return nil, p.syntaxErr(t.end)
}

// String returns the expression as the client wrote it.
func (s *Search) String() string { return s.text }

// Properties returns the properties the search names, in order of first appearance.
func (s *Search) Properties() []string { return slices.Clone(s.props) }

// Match reports whether the object behind get satisfies the search. On
// displayName and description Graph matches tokens: both the value and the
// search text are split on spaces, symbols, digits and case changes, and each
// search token must start some value token ("wa" finds "Adele Walker",
// "vance" finds "AdeleVance"). Other properties match by case-insensitive
// prefix of the whole value (graph-contracts.md §3).
func (s *Search) Match(get Getter) bool { return s.eval(s.root, get) }

func (s *Search) eval(n snode, get Getter) bool {
	switch n := n.(type) {
	case *sAnd:
		return s.eval(n.l, get) && s.eval(n.r, get)
	case *sOr:
		return s.eval(n.l, get) || s.eval(n.r, get)
	case *sClause:
		v, ok := get(n.prop)
		if !ok {
			return false
		}
		tokenized := strings.EqualFold(n.prop, "displayName") || strings.EqualFold(n.prop, "description")
		match := func(str string) bool {
			if tokenized {
				return matchTokens(str, n.tokens)
			}
			return hasPrefixFold(str, n.text)
		}
		switch v := v.(type) {
		case string:
			return match(v)
		case []string:
			return slices.ContainsFunc(v, match)
		}
	}
	return false
}

func matchTokens(value string, query []string) bool {
	if len(query) == 0 {
		return false
	}
	for _, q := range query {
		found := false
		eachToken(value, func(tok string) bool {
			found = hasPrefixFold(tok, q)
			return !found
		})
		if !found {
			return false
		}
	}
	return true
}

func tokenize(s string) []string {
	var out []string
	eachToken(s, func(tok string) bool {
		out = append(out, tok)
		return true
	})
	return out
}

// eachToken calls fn for each token of s until fn returns false. A token is a
// run of letters or a run of digits; a run of letters also breaks where a
// lower-case letter is followed by an upper-case one ("AdeleVance") and
// before the last capital of an acronym followed by lower case
// ("HTMLParser" → "HTML", "Parser").
func eachToken(s string, fn func(string) bool) {
	const (
		other = iota
		letter
		digit
	)
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r):
			return letter
		case unicode.IsDigit(r):
			return digit
		}
		return other
	}
	start := -1
	startClass := other
	var prev rune
	for i, r := range s {
		c := class(r)
		if start >= 0 {
			split := c != startClass
			if !split && c == letter {
				if unicode.IsLower(prev) && unicode.IsUpper(r) {
					split = true
				} else if unicode.IsUpper(prev) && !unicode.IsUpper(r) && unicode.IsLetter(r) {
					// "HTMLParser": the P starts the next token.
					pi := i - utf8.RuneLen(prev)
					if pi > start {
						if !fn(s[start:pi]) {
							return
						}
						start = pi
					}
				}
			}
			if split {
				if !fn(s[start:i]) {
					return
				}
				start = -1
			}
		}
		if start < 0 && c != other {
			start, startClass = i, c
		}
		prev = r
	}
	if start >= 0 {
		fn(s[start:])
	}
}
