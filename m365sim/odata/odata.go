// Package odata owns the simulator's reading of the OData system query options
// Microsoft Graph accepts on directory objects ($filter, $search, $orderby,
// $select): the syntax Graph accepts, the error answers it gives for input it
// rejects, and how a parsed expression matches one object.
//
// The package knows nothing about users or groups. Objects are seen through a
// Getter, so the same parsed query can be run against any store. Property
// names are passed to the Getter exactly as the client wrote them
// ("displayname", "DisplayName"): Graph resolves property names without
// regard to case, and only the caller knows its property set, so the Getter
// is where case-insensitive lookup belongs.
package odata

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Getter returns an object's property value: string, bool, int/int64/float64,
// nil, []string, or []map[string]any (collections of complex values such as
// assignedLicenses), and whether it exists. A time.Time and a map[string]any
// (a complex value such as onPremisesExtensionAttributes) are understood too.
type Getter func(property string) (any, bool)

// Error is a query option Graph would reject, carrying the status, code and
// message Graph answers with so the simulator can write them unchanged into
// its {"error":{"code","message"}} body.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("odata: %d %s: %s", e.Status, e.Code, e.Message)
}

// Codes Graph uses for query errors on directory objects.
const (
	CodeBadRequest        = "BadRequest"
	CodeRequestBadRequest = "Request_BadRequest"
	CodeUnsupportedQuery  = "Request_UnsupportedQuery"
)

// Limits that keep pathological input cheap. Graph has its own (URL length,
// node counts); these are the simulator's and are reported as such.
const (
	MaxExpressionLength = 2048 // characters in one $filter or $search value
	MaxDepth            = 50   // nesting of parentheses, not, lambdas
)

func badRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg}
}

func unsupported(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeUnsupportedQuery, Message: msg}
}

// The errors below are ones the Graph handlers raise themselves, because they
// depend on request headers or on the entity's property set rather than on the
// expression. Messages are Graph's own (aad-advanced-queries.md, issues).

// ErrUnsupportedQuery is an advanced-only query sent without ConsistencyLevel: eventual and $count=true.
func ErrUnsupportedQuery() *Error { return unsupported("Unsupported Query.") }

// ErrOperatorNotSupported names an operator by Graph's internal name, as in
// "Unsupported property filter clause operator 'NotEqualsMatch'." (ne without
// advanced parameters on some tenants) or 'Contains'.
func ErrOperatorNotSupported(operator string) *Error {
	return unsupported(fmt.Sprintf("Unsupported property filter clause operator '%s'.", operator))
}

// runePos converts a byte offset into the character position Graph reports
// (Graph counts UTF-16 units; for the BMP that equals runes).
func runePos(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[:off])
}
