package datasource

import (
	"fmt"
	"strings"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/directory"
)

// operationDetail is a write operation's audit detail: its label and item
// count, then what it touched as resolved, users and groups by the
// reference given and their Microsoft ids, each with its result, the
// first 20 and "and N more" for the rest. For example
//
//	Add User to Group: 2 item(s); group Sales (id 5c…); users: adele@contoso.com (id 87…) added, ghost@contoso.com not found
func operationDetail(decl *connector.Operation, via string, inputs map[string]any, items []connector.Item) string {
	detail := fmt.Sprintf("%s%s: %d item(s)", decl.Label, via, len(items))
	if g := groupTouched(inputs, items); g != "" {
		detail += "; group " + g
	}
	var touched []string
	for _, it := range items {
		if s := itemLabel(it); s != "" {
			touched = append(touched, s)
		}
	}
	if len(touched) > 0 {
		detail += "; " + itemNoun(items[0]) + ": " + directory.ListNames(touched)
	}
	return detail
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// groupTouched names the group a membership operation changed: the
// reference given and the id it resolved to.
func groupTouched(inputs map[string]any, items []connector.Item) string {
	ref := str(inputs["group"])
	id := ""
	for _, it := range items {
		if id = str(it["groupId"]); id != "" {
			break
		}
	}
	switch {
	case ref != "" && id != "" && ref != id:
		return ref + " (id " + id + ")"
	case id != "":
		return id
	}
	return ref
}

// itemNoun says what an operation's items are.
func itemNoun(it connector.Item) string {
	if _, ok := it["userId"]; ok {
		return "users"
	}
	if _, ok := it["mailNickname"]; ok {
		return "groups"
	}
	return "items"
}

// itemLabel is one item: its reference or name, its id, its licence and
// its result or error.
func itemLabel(it connector.Item) string {
	name := str(it["user"])
	id := str(it["userId"])
	if name == "" {
		name = str(it["displayName"])
		id = str(it["id"])
	}
	if name == "" && id == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(name)
	if id != "" && id != name {
		if name != "" {
			b.WriteString(" ")
		}
		b.WriteString("(id " + id + ")")
	}
	if sku := str(it["skuPartNumber"]); sku != "" {
		b.WriteString(" licence " + sku)
	}
	if r := str(it["result"]); r != "" {
		b.WriteString(" " + r)
	}
	if e := str(it["error"]); e != "" {
		b.WriteString(": " + e)
	}
	return b.String()
}
