package odata

import (
	"cmp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// env evaluates one expression against one object. vars holds the lambda
// variables in scope, innermost last.
type env struct {
	get  Getter
	vars []boundVar
}

type boundVar struct {
	name string
	v    any
}

func (e *env) eval(n node) any {
	switch n := n.(type) {
	case *andNode:
		return truthy(e.eval(n.l)) && truthy(e.eval(n.r))
	case *orNode:
		return truthy(e.eval(n.l)) || truthy(e.eval(n.r))
	case *notNode:
		return !truthy(e.eval(n.x))
	case *cmpNode:
		return compareOp(n.op, e.eval(n.l), e.eval(n.r))
	case *inNode:
		v := e.eval(n.l)
		for _, item := range n.list {
			if equal(v, e.eval(item)) {
				return true
			}
		}
		return false
	case *funcNode:
		s, ok1 := e.eval(n.args[0]).(string)
		x, ok2 := stringValue(e.eval(n.args[1]))
		if !ok1 || !ok2 {
			return false
		}
		if n.name == "startswith" {
			return hasPrefixFold(s, x)
		}
		return hasSuffixFold(s, x)
	case *lambdaNode:
		return e.lambda(n)
	case *pathNode:
		v, _ := e.resolve(n)
		return v
	case *litNode:
		return n.v
	}
	return nil
}

func truthy(v any) bool {
	b, _ := v.(bool)
	return b
}

func (e *env) lambda(n *lambdaNode) bool {
	coll, _ := e.resolve(n.coll)
	var items []any
	switch c := coll.(type) {
	case []string:
		for _, s := range c {
			items = append(items, s)
		}
	case []map[string]any:
		for _, m := range c {
			items = append(items, m)
		}
	case []any:
		items = c
	default:
		// A missing or scalar value has no members: any() is false, all() vacuously true.
		return n.all
	}
	if n.body == nil {
		return len(items) > 0
	}
	for _, it := range items {
		e.vars = append(e.vars, boundVar{n.v, it})
		ok := truthy(e.eval(n.body))
		e.vars = e.vars[:len(e.vars)-1]
		if n.all && !ok {
			return false
		}
		if !n.all && ok {
			return true
		}
	}
	return n.all
}

// resolve finds a path's value: a lambda variable and its members, or a
// property asked of the Getter as written, falling back to reading the first
// segment and walking into a complex value.
func (e *env) resolve(p *pathNode) (any, bool) {
	if p.rangeVar {
		for i := len(e.vars) - 1; i >= 0; i-- {
			if e.vars[i].name == p.segs[0] {
				return descend(e.vars[i].v, p.segs[1:])
			}
		}
		return nil, false
	}
	if v, ok := e.get(p.raw); ok || len(p.segs) == 1 {
		return v, ok
	}
	v, ok := e.get(p.segs[0])
	if !ok {
		return nil, false
	}
	return descend(v, p.segs[1:])
}

func descend(v any, segs []string) (any, bool) {
	for _, s := range segs {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		if x, ok := m[s]; ok {
			v, found = x, true
		} else {
			for k, x := range m {
				if strings.EqualFold(k, s) {
					v, found = x, true
					break
				}
			}
		}
		if !found {
			return nil, false
		}
	}
	return v, true
}

// stringValue accepts the literal kinds that compare as text.
func stringValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case guidLit:
		return string(v), true
	}
	return "", false
}

func numberValue(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func timeValue(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case dateLit:
		return v.t, true
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isTimeLit(v any) bool {
	switch v.(type) {
	case time.Time, dateLit:
		return true
	}
	return false
}

// order compares two values; ok is false when they are not comparable.
// Strings compare case-insensitively, as Azure AD does.
func order(a, b any) (c int, ok bool) {
	if isTimeLit(a) || isTimeLit(b) {
		ta, ok1 := timeValue(a)
		tb, ok2 := timeValue(b)
		if !ok1 || !ok2 {
			return 0, false
		}
		if _, isDate := b.(dateLit); isDate {
			ta = time.Date(ta.Year(), ta.Month(), ta.Day(), 0, 0, 0, 0, time.UTC)
		}
		if _, isDate := a.(dateLit); isDate {
			tb = time.Date(tb.Year(), tb.Month(), tb.Day(), 0, 0, 0, 0, time.UTC)
		}
		return ta.Compare(tb), true
	}
	if sa, ok := stringValue(a); ok {
		sb, ok := stringValue(b)
		if !ok {
			return 0, false
		}
		return compareFold(sa, sb), true
	}
	if na, ok := numberValue(a); ok {
		nb, ok := numberValue(b)
		if !ok {
			return 0, false
		}
		return cmp.Compare(na, nb), true
	}
	if ba, ok := a.(bool); ok {
		bb, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case ba == bb:
			return 0, true
		case !ba:
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	c, ok := order(a, b)
	return ok && c == 0
}

func compareOp(op string, a, b any) bool {
	switch op {
	case "eq":
		return equal(a, b)
	case "ne":
		return !equal(a, b)
	}
	if a == nil || b == nil {
		return false
	}
	c, ok := order(a, b)
	if !ok {
		return false
	}
	switch op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// foldRune maps r to a canonical case so that case-insensitive comparison
// and ordering agree.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(foldRune(ra), foldRune(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeRuneInString(s)
		rp, np := utf8.DecodeRuneInString(prefix)
		if rs != rp && foldRune(rs) != foldRune(rp) {
			return false
		}
		s, prefix = s[ns:], prefix[np:]
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeLastRuneInString(s)
		rp, np := utf8.DecodeLastRuneInString(suffix)
		if rs != rp && foldRune(rs) != foldRune(rp) {
			return false
		}
		s, suffix = s[:len(s)-ns], suffix[:len(suffix)-np]
	}
	return true
}
