package odata_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tenantlink/tenantlink/m365sim/odata"
)

// A Graph handler parses the query options once, answers parse errors with
// the *Error's status, code and message, checks the advanced-query rules
// that depend on headers, then matches each stored object.
func Example() {
	users := []map[string]any{
		{"displayName": "Adele Vance", "groupTypes": []string{}, "accountEnabled": true},
		{"displayName": "Alex Wilber", "accountEnabled": false},
	}
	getter := func(m map[string]any) odata.Getter {
		return func(p string) (any, bool) {
			for k, v := range m { // Graph property names are case-insensitive
				if strings.EqualFold(k, p) {
					return v, true
				}
			}
			return nil, false
		}
	}

	f, err := odata.ParseFilter("startswith(displayname,'a') and accountEnabled ne false")
	if err != nil {
		var e *odata.Error
		errors.As(err, &e)
		fmt.Println(e.Status, e.Code, e.Message)
		return
	}
	consistencyEventual, count := false, false
	if f.Advanced() && !(consistencyEventual && count) {
		e := odata.ErrUnsupportedQuery()
		fmt.Println(e.Status, e.Code, e.Message)
	}
	for _, u := range users {
		fmt.Println(u["displayName"], f.Match(getter(u)))
	}

	_, err = odata.ParseFilter("displayName eq 'Adele")
	fmt.Println(err)
	// Output:
	// 400 Request_UnsupportedQuery Unsupported Query.
	// Adele Vance true
	// Alex Wilber false
	// odata: 400 BadRequest: Invalid filter clause: There is an unterminated string literal at position 21 in 'displayName eq 'Adele'.
}
