package ops

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// inputs are an operation's validated inputs: strings trimmed and enums in
// their canonical spelling, integers range-checked, lists split. Absent
// optional inputs are missing from the maps.
type inputs struct {
	str   map[string]string
	ints  map[string]int
	lists map[string][]string
}

func (in inputs) get(name string) string { return in.str[name] }

// parseInputs validates raw against op's declared inputs. Values arrive
// from JSON (numbers as float64), from process mappings (text) and from
// the CLI (text), so integers may be JSON numbers or decimal text and
// lists may be arrays of strings or one text listing several. Null and
// empty text mean "not given".
func parseInputs(op connector.Operation, raw map[string]any) (inputs, error) {
	in := inputs{str: map[string]string{}, ints: map[string]int{}, lists: map[string][]string{}}
	declared := make(map[string]connector.Param, len(op.Inputs))
	for _, p := range op.Inputs {
		declared[p.Name] = p
	}
	var unknown []string
	for k := range raw {
		if _, ok := declared[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		allowed := "it takes no inputs"
		if len(op.Inputs) > 0 {
			names := make([]string, len(op.Inputs))
			for i, p := range op.Inputs {
				names[i] = p.Name
			}
			allowed = "its inputs are " + strings.Join(names, ", ")
		}
		return in, tenantlink.Errorf(tenantlink.EINVALID, "%s has no input %s; %s.", op.Label, quoteList(unknown), allowed)
	}
	for _, p := range op.Inputs {
		v, given := raw[p.Name]
		if given && isEmpty(v) {
			given = false
		}
		if !given {
			if p.Required {
				return in, tenantlink.Errorf(tenantlink.EINVALID, "%s needs the input %q (%s).", op.Label, p.Name, describe(p))
			}
			continue
		}
		switch p.Type {
		case "integer":
			n, err := toInt(p, v)
			if err != nil {
				return in, err
			}
			in.ints[p.Name] = n
		case "users", "list":
			l, err := toList(p, v)
			if err != nil {
				return in, err
			}
			if len(l) == 0 {
				if p.Required {
					return in, tenantlink.Errorf(tenantlink.EINVALID, "%s needs the input %q (%s).", op.Label, p.Name, describe(p))
				}
				continue
			}
			in.lists[p.Name] = l
		case "boolean":
			b, err := toBool(p, v)
			if err != nil {
				return in, err
			}
			in.str[p.Name] = b
		default: // string, user, group, licence
			s, ok := v.(string)
			if !ok {
				return in, tenantlink.Errorf(tenantlink.EINVALID, "Input %q must be text, not %s.", p.Name, typeName(v))
			}
			s = strings.TrimSpace(s)
			if s == "" {
				if p.Required {
					return in, tenantlink.Errorf(tenantlink.EINVALID, "%s needs the input %q (%s).", op.Label, p.Name, describe(p))
				}
				continue
			}
			if len(p.Options) > 0 {
				c, ok := canonical(p.Options, s)
				if !ok {
					return in, tenantlink.Errorf(tenantlink.EINVALID, "Input %q must be one of %s; got %q.",
						p.Name, strings.Join(p.Options, ", "), s)
				}
				s = c
			}
			in.str[p.Name] = s
		}
	}
	return in, nil
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

func describe(p connector.Param) string {
	if p.Description != "" {
		return strings.TrimSuffix(p.Description, ".")
	}
	if len(p.Options) > 0 {
		return "one of " + strings.Join(p.Options, ", ")
	}
	return p.Label
}

// canonical finds s among options ignoring case.
func canonical(options []string, s string) (string, bool) {
	for _, o := range options {
		if strings.EqualFold(o, s) {
			return o, true
		}
	}
	return "", false
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case float64, int, int64, json.Number:
		return "a number"
	case bool:
		return "true/false"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a value of another type"
}

func toInt(p connector.Param, v any) (int, error) {
	bad := func() error {
		return tenantlink.Errorf(tenantlink.EINVALID, "Input %q must be a whole number from 1 to %d; got %s.", p.Name, MaxRows, show(v))
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return 0, bad()
		}
		f = n
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, bad()
		}
		f = float64(n)
	default:
		return 0, bad()
	}
	if f != math.Trunc(f) || f < 1 || f > MaxRows {
		return 0, bad()
	}
	return int(f), nil
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) > 60 {
		return typeName(v)
	}
	return string(b)
}

// toList accepts an array of strings or one text; text is split on
// commas, semicolons and line breaks (connector.SplitList, the rule the
// operations panel uses too), which no user reference contains,
// so a process can pass a form's text field straight through.
func toList(p connector.Param, v any) ([]string, error) {
	var raw []string
	switch x := v.(type) {
	case string:
		raw = connector.SplitList(x)
	case []string:
		raw = x
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, tenantlink.Errorf(tenantlink.EINVALID, "Input %q must be text or a list of text; item %d is %s.", p.Name, i+1, typeName(e))
			}
			raw = append(raw, s)
		}
	default:
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Input %q must be text or a list of text, not %s.", p.Name, typeName(v))
	}
	out := make([]string, 0, len(raw))
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) > maxRefs {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Input %q lists %d values; the most one run accepts is %d.", p.Name, len(out), maxRefs)
	}
	return out, nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// toBool accepts JSON true/false and the text forms a form or the CLI
// sends (true/false, yes/no, 1/0), giving "true" or "false".
func toBool(p connector.Param, v any) (string, error) {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1", "on":
			return "true", nil
		case "false", "no", "0", "off":
			return "false", nil
		}
	}
	return "", tenantlink.Errorf(tenantlink.EINVALID, "Input %q must be true or false; got %s.", p.Name, show(v))
}

// flag reads a boolean input, def when not given.
func (in inputs) flag(name string, def bool) bool {
	switch in.str[name] {
	case "true":
		return true
	case "false":
		return false
	}
	return def
}
