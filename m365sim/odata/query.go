package odata

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OrderBy is one $orderby key.
type OrderBy struct {
	Property string
	Desc     bool
}

// ParseOrderBy parses an $orderby value: comma-separated property paths, each
// optionally followed by asc or desc (any case).
func ParseOrderBy(s string) ([]OrderBy, error) {
	var out []OrderBy
	off := 0
	for _, item := range strings.Split(s, ",") {
		fields := strings.Fields(item)
		end := off + len(item)
		switch {
		case len(fields) == 0:
			return nil, badRequest(fmt.Sprintf("Expression expected at position %d in '%s'.", runePos(s, end), s))
		case len(fields) > 2, !isPath(fields[0]):
			return nil, badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", runePos(s, end), s))
		}
		ob := OrderBy{Property: fields[0]}
		if len(fields) == 2 {
			switch strings.ToLower(fields[1]) {
			case "asc":
			case "desc":
				ob.Desc = true
			default:
				return nil, badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", runePos(s, end), s))
			}
		}
		out = append(out, ob)
		off = end + 1
	}
	return out, nil
}

// ParseSelect parses a $select value: a comma list of property names,
// trimmed; an empty entry is an error. "*" selects everything.
func ParseSelect(s string) ([]string, error) {
	var out []string
	off := 0
	for _, item := range strings.Split(s, ",") {
		name := strings.TrimSpace(item)
		end := off + len(item)
		if name == "" || (name != "*" && !isPath(name)) {
			return nil, badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", runePos(s, end), s))
		}
		out = append(out, name)
		off = end + 1
	}
	return out, nil
}

func isPath(s string) bool {
	for _, seg := range strings.Split(s, "/") {
		if seg == "" {
			return false
		}
		r, _ := utf8.DecodeRuneInString(seg)
		if !isIdentStart(r) {
			return false
		}
		if strings.IndexFunc(seg, func(r rune) bool { return !isIdentPart(r) && r != '.' && !unicode.IsDigit(r) }) >= 0 {
			return false
		}
	}
	return true
}

// Compare orders two property values for $orderby: null first (OData's rule
// for ascending order), strings case-insensitively, then numbers, booleans
// and times. Values of different kinds keep their relative order (0).
func Compare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	c, _ := order(a, b)
	return c
}

// CompareBy returns a three-way comparison of objects by the given keys,
// for slices.SortStableFunc over Getters.
func CompareBy(keys []OrderBy) func(a, b Getter) int {
	return func(a, b Getter) int {
		for _, k := range keys {
			va, _ := a(k.Property)
			vb, _ := b(k.Property)
			c := Compare(va, vb)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
}
