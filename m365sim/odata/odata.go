// Package odata owns the simulator's reading of OData system query options
// ($filter, $search, $orderby, $select) the way Microsoft Graph applies them
// to directory objects: which syntax it accepts, the errors it answers with,
// and how a parsed expression matches an object.
package odata

import "fmt"

// Getter returns an object's property value: string, bool, int/int64/float64,
// nil, []string, or []map[string]any (collections of complex values such as
// assignedLicenses), and whether it exists.
type Getter func(property string) (any, bool)

// Error is a query the simulator rejects, carrying what Graph answers with.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("odata: %d %s: %s", e.Status, e.Code, e.Message)
}

// Filter is a parsed $filter expression.
type Filter struct{}

// ParseFilter parses a $filter value. Errors are *Error.
func ParseFilter(s string) (*Filter, error) { return &Filter{}, nil }

// Match reports whether the object behind get satisfies the filter.
func (f *Filter) Match(get Getter) bool { return true }

// Properties returns the property paths referenced by the filter.
func (f *Filter) Properties() []string { return nil }

// Advanced reports whether Graph requires advanced query parameters.
func (f *Filter) Advanced() bool { return false }

// Functions returns the lower-cased functions and operators used.
func (f *Filter) Functions() []string { return nil }

// Search is a parsed $search expression.
type Search struct{}

// ParseSearch parses a $search value. Errors are *Error.
func ParseSearch(s string) (*Search, error) { return &Search{}, nil }

// Match reports whether the object behind get satisfies the search.
func (s *Search) Match(get Getter) bool { return true }

// Properties returns the properties the search names.
func (s *Search) Properties() []string { return nil }

// OrderBy is one $orderby key.
type OrderBy struct {
	Property string
	Desc     bool
}

// ParseOrderBy parses an $orderby value.
func ParseOrderBy(s string) ([]OrderBy, error) { return nil, nil }

// ParseSelect parses a $select value.
func ParseSelect(s string) ([]string, error) { return nil, nil }
