// Package process owns processes (docs/SPEC.md §8): declarative
// workflows made of form fields and rules that call data source
// operations. It validates definitions when they are saved, runs an
// instance's rules in order as the caller (who must be a connection user
// of every data source the process uses), maps fields into operation
// inputs and results or errors back into fields, and stores each
// instance's final fields and per-rule outcomes. Definitions are data, not
// code: conditions compare values and {{field}} placeholders substitute
// text, nothing is evaluated.
package process

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Field types.
const (
	TypeText    = "text"
	TypeNumber  = "number"
	TypeDate    = "date"
	TypeBoolean = "boolean"
	TypeTable   = "table"
	TypeList    = "list"
)

// Condition operators.
const (
	OpEquals      = "equals"
	OpNotEquals   = "notEquals"
	OpContains    = "contains"
	OpStartsWith  = "startsWith"
	OpIsEmpty     = "isEmpty"
	OpIsNotEmpty  = "isNotEmpty"
	OpGreaterThan = "greaterThan"
	OpLessThan    = "lessThan"
)

// Operators lists the condition operators in documentation order.
var Operators = []string{OpEquals, OpNotEquals, OpContains, OpStartsWith, OpIsEmpty, OpIsNotEmpty, OpGreaterThan, OpLessThan}

// Table mapping modes of a success mapping's rows.
const (
	RowsOverride = "override"
	RowsAppend   = "append"
)

// Definition is a process as its designer writes it (JSON).
type Definition struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Fields      []Field `json:"fields"`
	Rules       []Rule  `json:"rules"`
	// Trigger starts the process on a tenant event as well as from its
	// form (decision 0024); nil: the form only.
	Trigger *Trigger `json:"trigger,omitempty"`
}

// Field is one form field. Default must suit Type: text for text, date
// (YYYY-MM-DD) and list, a number for number, true/false for boolean, an
// array of row objects for table.
type Field struct {
	Name     string `json:"name"`
	Label    string `json:"label,omitempty"`
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	// ReadOnly fields are filled by rules only: the start form leaves
	// them out and a start that submits one is refused.
	ReadOnly bool     `json:"readOnly,omitempty"`
	Default  any      `json:"default,omitempty"`
	Options  []string `json:"options,omitempty"` // list: the choices (none = any text)
	Columns  []Column `json:"columns,omitempty"` // table
}

// Title is the field's label, or its name when it has none.
func (f Field) Title() string {
	if f.Label != "" {
		return f.Label
	}
	return f.Name
}

// Column is a table field's column; its type is text, number, date or
// boolean.
type Column struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	Type  string `json:"type,omitempty"` // default text
}

// Rule calls one operation of one data source.
type Rule struct {
	Title      string      `json:"title"`
	Conditions *Conditions `json:"conditions,omitempty"`
	DataSource string      `json:"datasource"`
	Operation  string      `json:"operation"`
	// Inputs maps an operation input to {"field"} (optionally with
	// "column" for a table field: that column's values as a list) or
	// {"text"} with {{field}} placeholders.
	Inputs map[string]Source `json:"inputs,omitempty"`
	// Success maps a field to {"output"} (the first item's value),
	// {"count":true}, {"rows":"override"|"append"} (table fields, with
	// optional "columns": column ← output) or {"text"}.
	Success map[string]Source `json:"success,omitempty"`
	// Error maps a field to {"error":true} (the error message) or {"text"}.
	Error map[string]Source `json:"error,omitempty"`
	// StopOnError stops the instance when the rule fails (default true).
	StopOnError *bool `json:"stopOnError,omitempty"`
}

// Stops reports whether a failure of the rule stops the instance.
func (r Rule) Stops() bool { return r.StopOnError == nil || *r.StopOnError }

// Source is one side of a mapping. Exactly one of Field, Text, Output,
// Count, Rows and Error is set; which are allowed depends on the mapping.
type Source struct {
	Field   string            `json:"field,omitempty"`
	Column  string            `json:"column,omitempty"`
	Text    *string           `json:"text,omitempty"`
	Output  string            `json:"output,omitempty"`
	Count   bool              `json:"count,omitempty"`
	Rows    string            `json:"rows,omitempty"`
	Columns map[string]string `json:"columns,omitempty"`
	Error   bool              `json:"error,omitempty"`
}

// Conditions decide whether a rule runs: its groups, each true when all
// (join "and", the default) or any (join "or") of its conditions hold,
// combined the same way by the outer join.
type Conditions struct {
	Join   string  `json:"join,omitempty"`
	Groups []Group `json:"groups"`
}

// Group is a list of conditions joined by and/or.
type Group struct {
	Join       string      `json:"join,omitempty"`
	Conditions []Condition `json:"conditions"`
}

// Condition compares a field with a value (isEmpty and isNotEmpty take
// none).
type Condition struct {
	Field    string   `json:"field"`
	Operator string   `json:"operator"`
	Value    *Operand `json:"value,omitempty"`
}

// Operand is a condition's value: text (JSON numbers and booleans are
// taken as their text) or another field ({"field":"name"}).
type Operand struct {
	// The tags are for readers that look at struct fields (the API's
	// strict decoder checks member names against them); the JSON form is
	// MarshalJSON's.
	Text  string `json:"-"`
	Field string `json:"field,omitempty"`
}

// MarshalJSON writes text as a JSON string and a field as {"field":…}.
func (o Operand) MarshalJSON() ([]byte, error) {
	if o.Field != "" {
		return json.Marshal(map[string]string{"field": o.Field})
	}
	return json.Marshal(o.Text)
}

// UnmarshalJSON reads text, a number, a boolean or {"field":"name"}.
func (o *Operand) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(b, &ref); err != nil {
			return err
		}
		raw, ok := ref["field"]
		if !ok || len(ref) != 1 {
			return fmt.Errorf(`a condition value object must be {"field":"<name>"}`)
		}
		var name string
		if err := json.Unmarshal(raw, &name); err != nil || name == "" {
			return fmt.Errorf(`a condition value's "field" must name a field`)
		}
		*o = Operand{Field: name}
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		*o = Operand{Text: x}
	case float64:
		*o = Operand{Text: strconv.FormatFloat(x, 'f', -1, 64)}
	case bool:
		*o = Operand{Text: strconv.FormatBool(x)}
	default:
		return fmt.Errorf(`a condition value must be text, a number, true/false or {"field":"<name>"}`)
	}
	return nil
}

// Process is a saved definition.
type Process struct {
	ID string `json:"id"`
	Definition
	CreatedBy  string    `json:"createdBy"`
	ModifiedBy string    `json:"modifiedBy"`
	Created    time.Time `json:"created"`
	Modified   time.Time `json:"modified"`
	// NeedsDataSource names a data source deleted while the process used
	// it: the process cannot run until a designer saves it again.
	NeedsDataSource string `json:"needsDataSource,omitempty"`
	// editorID is whose write grant the write rules use.
	editorID string
}

// Instance statuses.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Rule outcomes.
const (
	OutcomeSkipped   = "skipped"   // its conditions were false
	OutcomeSucceeded = "succeeded" // the operation ran
	OutcomeFailed    = "failed"    // the operation failed; Message says why
	OutcomeNotRun    = "not run"   // an earlier rule failed and stopped the instance
)

// Outcome is what happened to one rule of an instance.
type Outcome struct {
	Title     string `json:"title"`
	Operation string `json:"operation"`
	Outcome   string `json:"outcome"`
	Message   string `json:"message,omitempty"`
	Items     int    `json:"items"`
}

// Instance is one run of a process.
type Instance struct {
	ID          string         `json:"id"`
	Process     string         `json:"process"`
	ProcessName string         `json:"processName"`
	Status      string         `json:"status"`
	Fields      map[string]any `json:"fields"`
	Rules       []Outcome      `json:"rules"`
	StartedBy   string         `json:"startedBy"`
	StartedAt   time.Time      `json:"startedAt"`
	FinishedAt  *time.Time     `json:"finishedAt,omitempty"`
	// Event is the tenant event that started the instance; nil for a
	// start from the form or the API.
	Event *Event `json:"event,omitempty"`
}
