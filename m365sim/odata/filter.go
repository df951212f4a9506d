package odata

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Filter is a parsed $filter expression. It is immutable and safe for
// concurrent use by several requests.
type Filter struct {
	text  string
	root  node
	props []string
	funcs []string
}

// node kinds of the expression tree.
type (
	node interface{}

	andNode struct{ l, r node }
	orNode  struct{ l, r node }
	notNode struct{ x node }
	cmpNode struct {
		op   string // eq ne gt ge lt le
		l, r node
	}
	inNode struct {
		l    node
		list []node
	}
	funcNode struct {
		name string // startswith, endswith
		args []node
	}
	lambdaNode struct {
		coll *pathNode
		all  bool
		v    string
		body node // nil for any() without a body
	}
	pathNode struct {
		raw      string   // as written, "assignedLicenses/skuId"
		segs     []string // split on '/'
		rangeVar bool     // segs[0] names a lambda variable
	}
	litNode struct{ v any } // string, bool, nil, int64, float64, guidLit, time.Time, dateLit
)

type guidLit string

type dateLit struct{ t time.Time }

// ParseFilter parses a $filter value. Errors are *Error with Graph's status,
// code and message.
func ParseFilter(s string) (*Filter, error) {
	if e := checkLength(s, "filter"); e != nil {
		return nil, e
	}
	toks, lerr := lexFilter(s)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{src: s, toks: toks, funcs: map[string]bool{}}
	if toks[0].kind == tEnd {
		return nil, p.errAt("Expression expected at position %d in '%s'.", toks[0].pos)
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEnd {
		return nil, p.errAt("Syntax error at position %d in '%s'.", t.end)
	}
	if lit, ok := root.(*litNode); ok {
		if _, isBool := lit.v.(bool); !isBool {
			return nil, badRequest("Invalid filter clause: The $filter expression must evaluate to a single boolean value.")
		}
	}
	f := &Filter{text: s, root: root, props: p.props}
	for k := range p.funcs {
		f.funcs = append(f.funcs, k)
	}
	slices.Sort(f.funcs)
	return f, nil
}

func checkLength(s, what string) *Error {
	if n := utf8.RuneCountInString(s); n > MaxExpressionLength {
		return badRequest(fmt.Sprintf("Invalid %s clause: the expression is %d characters long; the simulator accepts at most %d.", what, n, MaxExpressionLength))
	}
	return nil
}

// String returns the expression as the client wrote it.
func (f *Filter) String() string { return f.text }

// Properties returns the property paths the filter references, in order of
// first appearance and as written. A lambda contributes its collection
// ("groupTypes") and, for each member it reads, collection/member
// ("assignedLicenses/skuId").
func (f *Filter) Properties() []string { return slices.Clone(f.props) }

// Functions returns the lower-cased functions and operators used, sorted:
// any of "eq","ne","gt","ge","lt","le","in","startswith","endswith","any",
// "all","not","and","or".
func (f *Filter) Functions() []string { return slices.Clone(f.funcs) }

// Advanced reports whether the filter uses ne, not or endswith, which Graph
// accepts on directory objects only with ConsistencyLevel: eventual and
// $count=true (aad-advanced-queries.md).
func (f *Filter) Advanced() bool {
	for _, fn := range f.funcs {
		switch fn {
		case "ne", "not", "endswith":
			return true
		}
	}
	return false
}

// Match reports whether the object behind get satisfies the filter.
func (f *Filter) Match(get Getter) bool {
	e := &env{get: get}
	b, _ := e.eval(f.root).(bool)
	return b
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	vars  []lambdaVar
	props []string
	funcs map[string]bool
}

type lambdaVar struct{ name, coll string }

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEnd {
		p.i++
	}
	return t
}

// errAt builds Graph's "Invalid filter clause: <ODL message>" answer with a
// character position; format takes the position then the source.
func (p *parser) errAt(format string, byteOff int) *Error {
	return badRequest("Invalid filter clause: " + fmt.Sprintf(format, runePos(p.src, byteOff), p.src))
}

func (p *parser) enter() *Error {
	p.depth++
	if p.depth > MaxDepth {
		return badRequest(fmt.Sprintf("Invalid filter clause: the expression nests deeper than %d levels, the simulator's limit.", MaxDepth))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) keyword(words ...string) (string, bool) {
	t := p.peek()
	if t.kind != tIdent {
		return "", false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return w, true
		}
	}
	return "", false
}

func (p *parser) addProp(path string) {
	if !slices.Contains(p.props, path) {
		p.props = append(p.props, path)
	}
}

func (p *parser) parseOr() (node, *Error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.keyword("or"); !ok {
			return l, nil
		}
		p.next()
		p.funcs["or"] = true
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if err := p.checkBoolOperands(l, r, "Or"); err != nil {
			return nil, err
		}
		l = &orNode{l, r}
	}
}

func (p *parser) parseAnd() (node, *Error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.keyword("and"); !ok {
			return l, nil
		}
		p.next()
		p.funcs["and"] = true
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if err := p.checkBoolOperands(l, r, "And"); err != nil {
			return nil, err
		}
		l = &andNode{l, r}
	}
}

// parseUnary gives not a lower precedence than the comparison it precedes:
// "not displayName eq 'x'" means not(displayName eq 'x'), which is what
// clients mean and what Graph evaluates.
func (p *parser) parseUnary() (node, *Error) {
	if _, ok := p.keyword("not"); ok {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		p.funcs["not"] = true
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if lit, ok := x.(*litNode); ok {
			if _, isBool := lit.v.(bool); !isBool {
				return nil, badRequest(fmt.Sprintf("Invalid filter clause: A unary operator with an incompatible type was detected. Found operand type '%s' for operator kind 'Not'.", edmType(lit.v)))
			}
		}
		return &notNode{x}, nil
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() (node, *Error) {
	l, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		if op, ok := p.keyword("eq", "ne", "gt", "ge", "lt", "le"); ok {
			p.next()
			p.funcs[op] = true
			r, err := p.parsePrimary()
			if err != nil {
				return nil, err
			}
			l = &cmpNode{op: op, l: l, r: r}
			continue
		}
		if _, ok := p.keyword("in"); ok {
			p.next()
			p.funcs["in"] = true
			t := p.next()
			if t.kind != tLParen {
				return nil, p.errAt("'(' expected at position %d in '%s'.", t.pos)
			}
			var list []node
			if p.peek().kind == tRParen {
				p.next()
			} else {
				for {
					item, err := p.parsePrimary()
					if err != nil {
						return nil, err
					}
					list = append(list, item)
					t := p.next()
					if t.kind == tRParen {
						break
					}
					if t.kind != tComma {
						return nil, p.errAt("')' or ',' expected at position %d in '%s'.", t.pos)
					}
				}
			}
			l = &inNode{l: l, list: list}
			continue
		}
		return l, nil
	}
}

func (p *parser) parsePrimary() (node, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt("')' or operator expected at position %d in '%s'.", c.pos)
		}
		return x, nil
	case tString:
		p.next()
		return &litNode{t.val}, nil
	case tGUID:
		p.next()
		return &litNode{guidLit(t.text)}, nil
	case tDateTime:
		p.next()
		if len(t.text) == 10 {
			d, err := time.Parse("2006-01-02", t.text)
			if err != nil {
				return nil, p.errAt("Syntax error at position %d in '%s'.", t.end)
			}
			return &litNode{dateLit{d}}, nil
		}
		ts, err := time.Parse(time.RFC3339Nano, strings.ToUpper(t.text))
		if err != nil {
			return nil, p.errAt("Syntax error at position %d in '%s'.", t.end)
		}
		return &litNode{ts}, nil
	case tNumber:
		p.next()
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return &litNode{n}, nil
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, p.errAt("Syntax error at position %d in '%s'.", t.end)
		}
		return &litNode{f}, nil
	case tIdent:
		switch {
		case strings.EqualFold(t.text, "true"):
			p.next()
			return &litNode{true}, nil
		case strings.EqualFold(t.text, "false"):
			p.next()
			return &litNode{false}, nil
		case strings.EqualFold(t.text, "null"):
			p.next()
			return &litNode{nil}, nil
		}
		if p.toks[p.i+1].kind == tLParen {
			return p.parseFunction()
		}
		return p.parsePath()
	}
	return nil, p.errAt("Expression expected at position %d in '%s'.", t.pos)
}

func (p *parser) parseFunction() (node, *Error) {
	name := p.next()
	p.next() // (
	lower := strings.ToLower(name.text)
	switch lower {
	case "startswith", "endswith":
	case "contains":
		// Graph knows contains but directory objects refuse it (docs issue #14451).
		return nil, ErrOperatorNotSupported("Contains")
	default:
		return nil, badRequest(fmt.Sprintf("Invalid filter clause: An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", name.text))
	}
	var args []node
	if p.peek().kind == tRParen {
		p.next()
	} else {
		for {
			a, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			t := p.next()
			if t.kind == tRParen {
				break
			}
			if t.kind != tComma {
				return nil, p.errAt("')' or ',' expected at position %d in '%s'.", t.pos)
			}
		}
	}
	if len(args) != 2 {
		return nil, badRequest(fmt.Sprintf("Invalid filter clause: No function signature for the function with name '%s' matches the specified arguments. The function signatures considered are: %s(Edm.String Nullable=true, Edm.String Nullable=true).", lower, lower))
	}
	p.funcs[lower] = true
	return &funcNode{name: lower, args: args}, nil
}

// parsePath reads prop, prop/member, a lambda variable path (x/skuId) or a
// lambda (prop/any(x: ...)).
func (p *parser) parsePath() (node, *Error) {
	first := p.next()
	segs := []string{first.text}
	for p.peek().kind == tSlash {
		slash := p.next()
		t := p.next()
		if t.kind != tIdent {
			return nil, p.errAt("Syntax error at position %d in '%s'.", slash.end)
		}
		kind := strings.ToLower(t.text)
		if (kind == "any" || kind == "all") && p.peek().kind == tLParen {
			return p.parseLambda(segs, kind)
		}
		segs = append(segs, t.text)
	}
	return p.makePath(segs), nil
}

func (p *parser) makePath(segs []string) *pathNode {
	pn := &pathNode{raw: strings.Join(segs, "/"), segs: segs}
	for i := len(p.vars) - 1; i >= 0; i-- {
		if p.vars[i].name == segs[0] {
			pn.rangeVar = true
			if len(segs) > 1 {
				p.addProp(p.vars[i].coll + "/" + strings.Join(segs[1:], "/"))
			}
			return pn
		}
	}
	p.addProp(pn.raw)
	return pn
}

func (p *parser) parseLambda(segs []string, kind string) (node, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	coll := p.makePath(segs)
	collName := coll.raw
	if coll.rangeVar {
		// Nested lambda over a member of an outer variable.
		for i := len(p.vars) - 1; i >= 0; i-- {
			if p.vars[i].name == segs[0] {
				collName = p.vars[i].coll + "/" + strings.Join(segs[1:], "/")
			}
		}
	}
	p.funcs[kind] = true
	p.next() // (
	ln := &lambdaNode{coll: coll, all: kind == "all"}
	if p.peek().kind == tRParen {
		if ln.all {
			t := p.peek()
			return nil, p.errAt("Expression expected at position %d in '%s'.", t.pos)
		}
		p.next()
		return ln, nil
	}
	v := p.next()
	if v.kind != tIdent {
		return nil, p.errAt("Expression expected at position %d in '%s'.", v.pos)
	}
	if c := p.next(); c.kind != tColon {
		return nil, p.errAt("':' expected at position %d in '%s'.", c.pos)
	}
	ln.v = v.text
	p.vars = append(p.vars, lambdaVar{name: v.text, coll: collName})
	body, err := p.parseOr()
	p.vars = p.vars[:len(p.vars)-1]
	if err != nil {
		return nil, err
	}
	if c := p.next(); c.kind != tRParen {
		return nil, p.errAt("')' or operator expected at position %d in '%s'.", c.pos)
	}
	ln.body = body
	return ln, nil
}

// checkBoolOperands rejects literals that cannot be booleans in and/or, with
// the message OData's binder gives. Paths are assumed boolean properties.
func (p *parser) checkBoolOperands(l, r node, kind string) *Error {
	bad := false
	for _, n := range []node{l, r} {
		if lit, ok := n.(*litNode); ok {
			if _, isBool := lit.v.(bool); !isBool && lit.v != nil {
				bad = true
			}
		}
	}
	if !bad {
		return nil
	}
	return badRequest(fmt.Sprintf("Invalid filter clause: A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.", nodeType(l), nodeType(r), kind))
}

func nodeType(n node) string {
	if lit, ok := n.(*litNode); ok {
		return edmType(lit.v)
	}
	return "Edm.Boolean"
}

func edmType(v any) string {
	switch v := v.(type) {
	case string:
		return "Edm.String"
	case bool:
		return "Edm.Boolean"
	case int64:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return "Edm.Int32"
		}
		return "Edm.Int64"
	case float64:
		return "Edm.Double"
	case guidLit:
		return "Edm.Guid"
	case time.Time:
		return "Edm.DateTimeOffset"
	case dateLit:
		return "Edm.Date"
	}
	return "Edm.Untyped"
}
