package process

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// Limits on a definition, so that one process cannot make an instance or
// a page unbounded.
const (
	MaxFields    = 100
	MaxRules     = 50
	MaxColumns   = 30
	MaxOptions   = 200
	MaxNameLen   = 100
	MaxTextLen   = 10000
	MaxTableRows = 10000
	maxProblems  = 10
)

var (
	fieldNameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
)

// OperationsFunc returns the operations a data source offers, or an error
// (unknown data source, no access) that validation reports.
type OperationsFunc func(datasourceID string) ([]connector.Operation, error)

// problems collects what is wrong with a definition, so the designer sees
// every mistake at once instead of one per save.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	shown := p
	more := ""
	if len(shown) > maxProblems {
		shown, more = shown[:maxProblems], fmt.Sprintf(" (and %d more)", len(p)-maxProblems)
	}
	noun := "problem"
	if len(p) > 1 {
		noun = "problems"
	}
	return &tenantlink.Error{Code: tenantlink.EINVALID,
		Message: fmt.Sprintf("The process definition has %d %s: %s%s", len(p), noun, strings.Join(shown, "; "), more)}
}

// Validate checks a definition: names and types of fields, every field,
// data source, operation, input and output a rule refers to, operators
// and mapping shapes. Rules run once each, top to bottom, so there are no
// jumps and no cycles to check. It returns an EINVALID *tenantlink.Error
// listing the problems, or an error of ops (e.g. EFORBIDDEN) as is.
func Validate(def *Definition, ops OperationsFunc) error {
	var pr problems
	def.Name = strings.TrimSpace(def.Name)
	switch {
	case def.Name == "":
		pr.add("name is required")
	case len(def.Name) > MaxNameLen:
		pr.add("name is longer than %d characters", MaxNameLen)
	case strings.ContainsAny(def.Name, "\r\n\t"):
		pr.add("name must be one line")
	case tenantlink.CheckText("name", def.Name) != nil:
		pr.add("%s", tenantlink.ErrorMessage(tenantlink.CheckText("name", def.Name)))
	}
	if len(def.Description) > MaxTextLen {
		pr.add("description is longer than %d characters", MaxTextLen)
	}
	if len(def.Fields) > MaxFields {
		pr.add("at most %d fields", MaxFields)
	}
	if len(def.Rules) > MaxRules {
		pr.add("at most %d rules", MaxRules)
	}
	fields := map[string]Field{}
	for i, f := range def.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if f.Name != "" {
			at = fmt.Sprintf("field %q", f.Name)
		}
		checkField(&pr, at, f)
		if f.Name != "" {
			if _, dup := fields[f.Name]; dup {
				pr.add("%s is defined twice", at)
			}
			fields[f.Name] = f
		}
	}
	for i, r := range def.Rules {
		at := fmt.Sprintf("rule %d", i+1)
		if t := strings.TrimSpace(r.Title); t != "" {
			at = fmt.Sprintf("rule %d (%s)", i+1, t)
		}
		if err := checkRule(&pr, at, r, fields, ops); err != nil {
			return err
		}
	}
	if def.Trigger != nil {
		checkTrigger(&pr, def.Trigger, def.Fields, fields)
	}
	return pr.err()
}

func checkField(pr *problems, at string, f Field) {
	if !fieldNameRE.MatchString(f.Name) {
		pr.add("%s: name must start with a letter and hold only letters, digits and _ (at most 64), not %q", at, f.Name)
	}
	if len(f.Label) > MaxNameLen {
		pr.add("%s: label is longer than %d characters", at, MaxNameLen)
	}
	switch f.Type {
	case TypeText, TypeNumber, TypeDate, TypeBoolean, TypeList:
		if len(f.Columns) > 0 {
			pr.add("%s: only table fields have columns", at)
		}
	case TypeTable:
		if len(f.Columns) == 0 {
			pr.add("%s: a table needs columns", at)
		}
		if len(f.Columns) > MaxColumns {
			pr.add("%s: at most %d columns", at, MaxColumns)
		}
		seen := map[string]bool{}
		for j, c := range f.Columns {
			if !fieldNameRE.MatchString(c.Name) {
				pr.add("%s: columns[%d]: name must start with a letter and hold only letters, digits and _, not %q", at, j, c.Name)
			}
			if seen[c.Name] {
				pr.add("%s: column %q is defined twice", at, c.Name)
			}
			seen[c.Name] = true
			switch c.Type {
			case "", TypeText, TypeNumber, TypeDate, TypeBoolean:
			default:
				pr.add("%s: column %q: type must be text, number, date or boolean, not %q", at, c.Name, c.Type)
			}
		}
	case "":
		pr.add("%s: type is required (text, number, date, boolean, table or list)", at)
	default:
		pr.add("%s: type must be text, number, date, boolean, table or list, not %q", at, f.Type)
	}
	if f.ReadOnly && f.Required {
		pr.add("%s: a read-only field cannot be required (rules fill it, the starter cannot)", at)
	}
	if len(f.Options) > 0 && f.Type != TypeList {
		pr.add("%s: only list fields have options", at)
	}
	if len(f.Options) > MaxOptions {
		pr.add("%s: at most %d options", at, MaxOptions)
	}
	if f.Default != nil && f.Type != "" {
		if _, err := normalize(f, f.Default); err != nil {
			pr.add("%s: default: %s", at, tenantlink.ErrorMessage(err))
		}
	}
}

func checkRule(pr *problems, at string, r Rule, fields map[string]Field, ops OperationsFunc) error {
	if strings.TrimSpace(r.Title) == "" {
		pr.add("%s: title is required", at)
	}
	if r.Conditions != nil {
		checkConditions(pr, at, r.Conditions, fields)
	}
	if r.DataSource == "" {
		pr.add("%s: datasource is required", at)
		return nil
	}
	list, err := ops(r.DataSource)
	if err != nil {
		switch tenantlink.ErrorCode(err) {
		case tenantlink.ENOTFOUND:
			pr.add("%s: there is no data source %q", at, r.DataSource)
			return nil
		case tenantlink.EINVALID:
			pr.add("%s: %s", at, tenantlink.ErrorMessage(err))
			return nil
		}
		return err
	}
	var op *connector.Operation
	var names []string
	for i := range list {
		names = append(names, list[i].Name)
		if list[i].Name == r.Operation {
			op = &list[i]
		}
	}
	if op == nil {
		if r.Operation == "" {
			pr.add("%s: operation is required (one of %s)", at, strings.Join(names, ", "))
		} else {
			pr.add("%s: the data source has no operation %q (its operations are %s)", at, r.Operation, strings.Join(names, ", "))
		}
		return nil
	}
	inputs := map[string]connector.Param{}
	for _, p := range op.Inputs {
		inputs[p.Name] = p
	}
	outputs := map[string]bool{}
	var outNames []string
	for _, p := range op.Outputs {
		outputs[p.Name] = true
		outNames = append(outNames, p.Name)
	}
	for _, name := range sortedKeys(r.Inputs) {
		src := r.Inputs[name]
		p, ok := inputs[name]
		if !ok {
			pr.add("%s: %s has no input %q (its inputs are %s)", at, op.Label, name, paramNames(op.Inputs))
			continue
		}
		checkInput(pr, fmt.Sprintf("%s: input %q", at, name), src, p, fields)
	}
	for _, p := range op.Inputs {
		if _, ok := r.Inputs[p.Name]; p.Required && !ok {
			pr.add("%s: %s needs the input %q mapped", at, op.Label, p.Name)
		}
	}
	for _, name := range sortedKeys(r.Success) {
		checkSuccess(pr, fmt.Sprintf("%s: success mapping of %q", at, name), r.Success[name], name, fields, outputs, outNames)
	}
	for _, name := range sortedKeys(r.Error) {
		checkError(pr, fmt.Sprintf("%s: error mapping of %q", at, name), r.Error[name], name, fields)
	}
	return nil
}

func paramNames(ps []connector.Param) string {
	if len(ps) == 0 {
		return "none"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// kinds lists which members of src are set.
func kinds(src Source) []string {
	var k []string
	if src.Field != "" {
		k = append(k, "field")
	}
	if src.Text != nil {
		k = append(k, "text")
	}
	if src.Output != "" {
		k = append(k, "output")
	}
	if src.Count {
		k = append(k, "count")
	}
	if src.Rows != "" {
		k = append(k, "rows")
	}
	if src.Error {
		k = append(k, "error")
	}
	return k
}

// oneOf checks that src sets exactly one of allowed, returning it.
func oneOf(pr *problems, at string, src Source, allowed ...string) string {
	k := kinds(src)
	want := `{"` + strings.Join(allowed, `"} or {"`) + `"}`
	if len(k) != 1 {
		pr.add("%s: give exactly one of %s", at, want)
		return ""
	}
	if !slices.Contains(allowed, k[0]) {
		pr.add("%s: %q is not allowed here; give %s", at, k[0], want)
		return ""
	}
	if src.Column != "" && k[0] != "field" {
		pr.add("%s: \"column\" goes with \"field\"", at)
	}
	if len(src.Columns) > 0 && k[0] != "rows" {
		pr.add("%s: \"columns\" goes with \"rows\"", at)
	}
	return k[0]
}

func checkText(pr *problems, at, text string, fields map[string]Field) {
	if len(text) > MaxTextLen {
		pr.add("%s: text is longer than %d characters", at, MaxTextLen)
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		f, ok := fields[m[1]]
		switch {
		case !ok:
			pr.add("%s: {{%s}} names no field", at, m[1])
		case f.Type == TypeTable:
			pr.add("%s: {{%s}} is a table; only single-value fields can be placed in text", at, m[1])
		}
	}
}

func checkInput(pr *problems, at string, src Source, p connector.Param, fields map[string]Field) {
	switch oneOf(pr, at, src, "field", "text") {
	case "text":
		checkText(pr, at, *src.Text, fields)
	case "field":
		f, ok := fields[src.Field]
		switch {
		case !ok:
			pr.add("%s: there is no field %q", at, src.Field)
		case f.Type == TypeTable && src.Column == "":
			pr.add("%s: %q is a table: name one of its columns (\"column\") to pass that column's values", at, src.Field)
		case f.Type == TypeTable:
			if !hasColumn(f, src.Column) {
				pr.add("%s: table %q has no column %q", at, src.Field, src.Column)
			}
			if p.Type != "users" && p.Type != "list" {
				pr.add("%s: a table column gives a list, and %q takes one value", at, p.Name)
			}
		case src.Column != "":
			pr.add("%s: %q is not a table, so it has no columns", at, src.Field)
		}
	}
}

func hasColumn(f Field, name string) bool {
	for _, c := range f.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

func checkSuccess(pr *problems, at string, src Source, target string, fields map[string]Field, outputs map[string]bool, outNames []string) {
	f, ok := fields[target]
	if !ok {
		pr.add("%s: there is no field %q", at, target)
		return
	}
	switch oneOf(pr, at, src, "output", "count", "rows", "text") {
	case "output":
		if !outputs[src.Output] {
			pr.add("%s: the operation has no output %q (its outputs are %s)", at, src.Output, strings.Join(outNames, ", "))
		}
		if f.Type == TypeTable {
			pr.add("%s: %q is a table: fill it with {\"rows\":\"override\"} or {\"rows\":\"append\"}", at, target)
		}
	case "count":
		if f.Type != TypeNumber && f.Type != TypeText {
			pr.add("%s: a count goes into a number or text field, and %q is %s", at, target, f.Type)
		}
	case "rows":
		if f.Type != TypeTable {
			pr.add("%s: rows fill table fields, and %q is %s", at, target, f.Type)
			return
		}
		if src.Rows != RowsOverride && src.Rows != RowsAppend {
			pr.add("%s: rows must be %q or %q, not %q", at, RowsOverride, RowsAppend, src.Rows)
		}
		for _, col := range sortedKeys(src.Columns) {
			if !hasColumn(f, col) {
				pr.add("%s: table %q has no column %q", at, target, col)
			}
			if out := src.Columns[col]; !outputs[out] {
				pr.add("%s: column %q: the operation has no output %q", at, col, out)
			}
		}
	case "text":
		if f.Type == TypeTable {
			pr.add("%s: %q is a table and cannot take text", at, target)
		}
		checkText(pr, at, *src.Text, fields)
	}
}

func checkError(pr *problems, at string, src Source, target string, fields map[string]Field) {
	f, ok := fields[target]
	if !ok {
		pr.add("%s: there is no field %q", at, target)
		return
	}
	if f.Type != TypeText && f.Type != TypeList {
		pr.add("%s: error messages go into text fields, and %q is %s", at, target, f.Type)
	}
	switch oneOf(pr, at, src, "error", "text") {
	case "text":
		checkText(pr, at, *src.Text, fields)
	}
}

func checkConditions(pr *problems, at string, c *Conditions, fields map[string]Field) {
	checkJoin(pr, at+": conditions", c.Join)
	if len(c.Groups) == 0 {
		pr.add("%s: conditions need at least one group (or leave conditions out)", at)
	}
	for gi, g := range c.Groups {
		gat := fmt.Sprintf("%s: condition group %d", at, gi+1)
		checkJoin(pr, gat, g.Join)
		if len(g.Conditions) == 0 {
			pr.add("%s: a group needs at least one condition", gat)
		}
		for ci, cond := range g.Conditions {
			checkCondition(pr, fmt.Sprintf("%s, condition %d", gat, ci+1), cond, fields)
		}
	}
}

func checkJoin(pr *problems, at, join string) {
	if join != "" && join != "and" && join != "or" {
		pr.add("%s: join must be \"and\" or \"or\", not %q", at, join)
	}
}

func checkCondition(pr *problems, at string, c Condition, fields map[string]Field) {
	f, ok := fields[c.Field]
	if !ok {
		pr.add("%s: there is no field %q", at, c.Field)
	}
	if !slices.Contains(Operators, c.Operator) {
		pr.add("%s: operator must be one of %s, not %q", at, strings.Join(Operators, ", "), c.Operator)
		return
	}
	unary := c.Operator == OpIsEmpty || c.Operator == OpIsNotEmpty
	switch {
	case unary && c.Value != nil:
		pr.add("%s: %s takes no value", at, c.Operator)
	case !unary && c.Value == nil:
		pr.add("%s: %s needs a value", at, c.Operator)
	}
	if ok && f.Type == TypeTable && !unary {
		pr.add("%s: a table can only be tested with isEmpty or isNotEmpty", at)
	}
	if c.Value != nil && c.Value.Field != "" {
		vf, ok := fields[c.Value.Field]
		switch {
		case !ok:
			pr.add("%s: value: there is no field %q", at, c.Value.Field)
		case vf.Type == TypeTable:
			pr.add("%s: value: %q is a table", at, c.Value.Field)
		}
	}
}
