package process

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
)

// Field values as an instance holds them (and as they read back from
// JSON): text, date and list fields hold a string, number fields a
// float64 or nil when empty, boolean fields a bool, and table fields a
// []any of map[string]any rows keyed by column name.

const dateLayout = "2006-01-02"

// zero is an empty field's value.
func zero(f Field) any {
	switch f.Type {
	case TypeNumber:
		return nil
	case TypeBoolean:
		return false
	case TypeTable:
		return []any{}
	}
	return ""
}

func invalidf(format string, args ...any) error {
	return tenantlink.Errorf(tenantlink.EINVALID, format, args...)
}

// normalize converts a submitted value to f's type: JSON values from the
// API, or text from an HTML form (numbers, dates and true/false as text).
func normalize(f Field, v any) (any, error) {
	if v == nil {
		return zero(f), nil
	}
	switch f.Type {
	case TypeText:
		s, ok := v.(string)
		if !ok {
			return nil, invalidf("%q must be text, not %s", f.Name, kind(v))
		}
		if len(s) > MaxTextLen {
			return nil, invalidf("%q is longer than %d characters", f.Name, MaxTextLen)
		}
		return s, nil
	case TypeList:
		s, ok := v.(string)
		if !ok {
			return nil, invalidf("%q must be one of its options as text, not %s", f.Name, kind(v))
		}
		if s != "" && len(f.Options) > 0 && !slices.Contains(f.Options, s) {
			return nil, invalidf("%q must be one of %s, not %q", f.Name, strings.Join(f.Options, ", "), s)
		}
		if len(s) > MaxTextLen {
			return nil, invalidf("%q is longer than %d characters", f.Name, MaxTextLen)
		}
		return s, nil
	case TypeNumber:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, invalidf("%q must be a finite number", f.Name)
			}
			return x, nil
		case json.Number:
			return normalize(f, string(x))
		case int:
			return float64(x), nil
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, nil
			}
			n, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, invalidf("%q must be a number, not %q", f.Name, x)
			}
			return n, nil
		}
		return nil, invalidf("%q must be a number, not %s", f.Name, kind(v))
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, invalidf("%q must be a date as text (YYYY-MM-DD), not %s", f.Name, kind(v))
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", nil
		}
		if _, err := time.Parse(dateLayout, s); err != nil {
			return nil, invalidf("%q must be a date (YYYY-MM-DD), not %q", f.Name, s)
		}
		return s, nil
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "on", "yes":
				return true, nil
			case "false", "off", "no", "":
				return false, nil
			}
			return nil, invalidf("%q must be true or false, not %q", f.Name, x)
		}
		return nil, invalidf("%q must be true or false, not %s", f.Name, kind(v))
	case TypeTable:
		rows, ok := v.([]any)
		if !ok {
			return nil, invalidf("%q is a table: give an array of rows (objects keyed by column), not %s", f.Name, kind(v))
		}
		if len(rows) > MaxTableRows {
			return nil, invalidf("%q has more than %d rows", f.Name, MaxTableRows)
		}
		out := make([]any, 0, len(rows))
		for i, r := range rows {
			obj, ok := r.(map[string]any)
			if !ok {
				return nil, invalidf("%q row %d must be an object keyed by column, not %s", f.Name, i+1, kind(r))
			}
			row := map[string]any{}
			for _, c := range f.Columns {
				cv, err := normalize(c.field(), obj[c.Name])
				if err != nil {
					return nil, invalidf("%q row %d: %s", f.Name, i+1, tenantlink.ErrorMessage(err))
				}
				row[c.Name] = cv
			}
			for k := range obj {
				if !hasColumn(f, k) {
					return nil, invalidf("%q row %d: the table has no column %q", f.Name, i+1, k)
				}
			}
			out = append(out, row)
		}
		return out, nil
	}
	return nil, invalidf("%q has an unknown type %q", f.Name, f.Type)
}

// field is the column as a field, to normalize its cells.
func (c Column) field() Field {
	t := c.Type
	if t == "" {
		t = TypeText
	}
	return Field{Name: c.Name, Label: c.Label, Type: t}
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case float64, int, json.Number:
		return "a number"
	case bool:
		return "true/false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// Values checks submitted field values against def: unknown names,
// types and required fields, and fills defaults. The result holds every
// field.
func Values(def *Definition, in map[string]any) (map[string]any, error) {
	known := map[string]bool{}
	for _, f := range def.Fields {
		known[f.Name] = true
	}
	for _, k := range sortedKeys(in) {
		if !known[k] {
			names := make([]string, len(def.Fields))
			for i, f := range def.Fields {
				names[i] = f.Name
			}
			return nil, invalidf("the process has no field %q; its fields are %s", k, strings.Join(names, ", "))
		}
	}
	out := make(map[string]any, len(def.Fields))
	for _, f := range def.Fields {
		v, given := in[f.Name]
		if given && v != nil && f.ReadOnly {
			return nil, invalidf("%q (%s) is read-only: rules fill it", f.Name, f.Title())
		}
		if !given || v == nil {
			v = f.Default
		}
		nv, err := normalize(f, v)
		if err != nil {
			return nil, err
		}
		if f.Required && isEmpty(nv) {
			return nil, invalidf("%q (%s) is required", f.Name, f.Title())
		}
		out[f.Name] = nv
	}
	return out, nil
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// text is a value as text: what placeholders and text inputs receive.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = text(e)
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// render replaces {{field}} placeholders with the fields' text. Nothing
// else in the text is interpreted.
func render(tmpl string, fields map[string]any) string {
	return placeholderRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := fields[name]
		if !ok {
			return m
		}
		return text(v)
	})
}

// coerce turns an operation's output into f's type, leniently: a value
// that does not fit (text in a number field) leaves the field empty
// rather than failing a rule whose operation succeeded.
func coerce(f Field, v any) any {
	switch f.Type {
	case TypeNumber:
		switch x := v.(type) {
		case float64:
			return x
		case int:
			return float64(x)
		case int64:
			return float64(x)
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(text(v)), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil
		}
		return n
	case TypeBoolean:
		if b, ok := v.(bool); ok {
			return b
		}
		b, _ := strconv.ParseBool(strings.TrimSpace(text(v)))
		return b
	case TypeDate:
		s := strings.TrimSpace(text(v))
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC().Format(dateLayout)
		}
		if _, err := time.Parse(dateLayout, s); err == nil {
			return s
		}
		return ""
	}
	return text(v)
}

// evaluate decides a rule's conditions against the fields.
func evaluate(c *Conditions, fields map[string]any) bool {
	if c == nil {
		return true
	}
	results := make([]bool, len(c.Groups))
	for i, g := range c.Groups {
		inner := make([]bool, len(g.Conditions))
		for j, cond := range g.Conditions {
			inner[j] = holds(cond, fields)
		}
		results[i] = combine(g.Join, inner)
	}
	return combine(c.Join, results)
}

func combine(join string, vs []bool) bool {
	if join == "or" {
		return slices.Contains(vs, true)
	}
	return !slices.Contains(vs, false)
}

// holds evaluates one condition. Text comparisons ignore case (Microsoft
// 365 names do); greaterThan and lessThan compare numbers when both sides
// are numbers, dates when both are dates, else text.
func holds(c Condition, fields map[string]any) bool {
	left := fields[c.Field]
	switch c.Operator {
	case OpIsEmpty:
		return isEmpty(left)
	case OpIsNotEmpty:
		return !isEmpty(left)
	}
	var right any
	if c.Value != nil {
		right = c.Value.Text
		if c.Value.Field != "" {
			right = fields[c.Value.Field]
		}
	}
	l, r := strings.TrimSpace(text(left)), strings.TrimSpace(text(right))
	switch c.Operator {
	case OpEquals:
		return equal(l, r)
	case OpNotEquals:
		return !equal(l, r)
	case OpContains:
		return strings.Contains(strings.ToLower(l), strings.ToLower(r))
	case OpStartsWith:
		return strings.HasPrefix(strings.ToLower(l), strings.ToLower(r))
	case OpGreaterThan:
		return compare(l, r) > 0
	case OpLessThan:
		return compare(l, r) < 0
	}
	return false
}

func equal(l, r string) bool {
	ln, lerr := strconv.ParseFloat(l, 64)
	rn, rerr := strconv.ParseFloat(r, 64)
	if lerr == nil && rerr == nil {
		return ln == rn
	}
	return strings.EqualFold(l, r)
}

// compare orders two values; an empty side never compares (0), so an
// empty field is neither greater nor less than anything.
func compare(l, r string) int {
	if l == "" || r == "" {
		return 0
	}
	ln, lerr := strconv.ParseFloat(l, 64)
	rn, rerr := strconv.ParseFloat(r, 64)
	if lerr == nil && rerr == nil {
		switch {
		case ln > rn:
			return 1
		case ln < rn:
			return -1
		}
		return 0
	}
	lt, lerr := time.Parse(dateLayout, l)
	rt, rerr := time.Parse(dateLayout, r)
	if lerr == nil && rerr == nil {
		return lt.Compare(rt)
	}
	return strings.Compare(strings.ToLower(l), strings.ToLower(r))
}
