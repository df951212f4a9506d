package odata

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tEnd tokKind = iota
	tIdent
	tString
	tNumber
	tGUID
	tDateTime
	tLParen
	tRParen
	tComma
	tColon
	tSlash
)

// token is one lexeme; pos and end are byte offsets into the source.
type token struct {
	kind     tokKind
	text     string // raw text
	val      string // unescaped value for strings
	pos, end int
}

// lexFilter splits a $filter value into tokens the way OData's expression
// lexer does. Unquoted GUIDs and DateTimeOffsets are single literals, which is
// why they are tried before numbers and identifiers.
func lexFilter(src string) ([]token, *Error) {
	var toks []token
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
			toks = append(toks, token{kind: tEnd, pos: len(src), end: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		if n := matchGUID(src[i:]); n > 0 {
			toks = append(toks, token{kind: tGUID, text: src[i : i+n], pos: start, end: i + n})
			i += n
			continue
		}
		if n := matchDateTime(src[i:]); n > 0 {
			toks = append(toks, token{kind: tDateTime, text: src[i : i+n], pos: start, end: i + n})
			i += n
			continue
		}
		switch {
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "(", pos: start, end: i + 1})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")", pos: start, end: i + 1})
			i++
		case c == ',':
			toks = append(toks, token{kind: tComma, text: ",", pos: start, end: i + 1})
			i++
		case c == ':':
			toks = append(toks, token{kind: tColon, text: ":", pos: start, end: i + 1})
			i++
		case c == '/':
			toks = append(toks, token{kind: tSlash, text: "/", pos: start, end: i + 1})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, badRequest(fmt.Sprintf("Invalid filter clause: There is an unterminated string literal at position %d in '%s'.", runePos(src, len(src)), src))
			}
			toks = append(toks, token{kind: tString, text: src[i:j], val: b.String(), pos: start, end: j})
			i = j
		case isDigit(c) || (c == '-' && i+1 < len(src) && isDigit(src[i+1])):
			j := i + 1
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) {
				j++
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{kind: tNumber, text: src[i:j], pos: start, end: j})
			i = j
		default:
			r, n := utf8.DecodeRuneInString(src[i:])
			if !isIdentStart(r) {
				return nil, badRequest(fmt.Sprintf("Invalid filter clause: Syntax error: character '%s' is not valid at position %d in '%s'.", string(r), runePos(src, i), src))
			}
			j := i + n
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if !isIdentPart(r) {
					break
				}
				j += n
			}
			toks = append(toks, token{kind: tIdent, text: src[i:j], pos: start, end: j})
			i = j
		}
	}
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// boundary reports whether s[n:] does not continue an identifier or number,
// so that "2021-01-01T00:00:00Zfoo" is not a date followed by junk.
func boundary(s string, n int) bool {
	if n >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[n:])
	return !isIdentPart(r) && r != '.' && r != '-'
}

// matchGUID returns the length of an unquoted GUID literal at the start of s.
func matchGUID(s string) int {
	const n = 36
	if len(s) < n {
		return 0
	}
	for i := 0; i < n; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return 0
			}
		default:
			if !isHex(s[i]) {
				return 0
			}
		}
	}
	if !boundary(s, n) {
		return 0
	}
	return n
}

// matchDateTime returns the length of a Date (2021-11-01) or DateTimeOffset
// (2021-01-01T00:00:00Z, fractional seconds and ±hh:mm offsets allowed)
// literal at the start of s.
func matchDateTime(s string) int {
	digits := func(i, n int) bool {
		if i+n > len(s) {
			return false
		}
		for k := i; k < i+n; k++ {
			if !isDigit(s[k]) {
				return false
			}
		}
		return true
	}
	if !digits(0, 4) || len(s) < 10 || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) {
		return 0
	}
	i := 10
	if i < len(s) && s[i] == 'T' {
		if !digits(i+1, 2) || i+3 >= len(s) || s[i+3] != ':' || !digits(i+4, 2) {
			return 0
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			if !digits(i+1, 2) {
				return 0
			}
			i += 3
			if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
				i++
				for i < len(s) && isDigit(s[i]) {
					i++
				}
			}
		}
		switch {
		case i < len(s) && (s[i] == 'Z' || s[i] == 'z'):
			i++
		case i < len(s) && (s[i] == '+' || s[i] == '-'):
			if !digits(i+1, 2) || i+3 >= len(s) || s[i+3] != ':' || !digits(i+4, 2) {
				return 0
			}
			i += 6
		default:
			return 0 // OData requires an offset on DateTimeOffset
		}
	}
	if !boundary(s, i) {
		return 0
	}
	return i
}
