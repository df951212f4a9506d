package connector

import "strings"

// SplitList splits the text of a list-typed input ("users", "list") into
// its entries: separated by commas, semicolons or line breaks, each
// trimmed, empty ones dropped. It is the one rule behind the inputs' hint
// "A text value may list several, separated by commas, semicolons or new
// lines", used by the operations (for text from the API, processes and
// the CLI) and by the operations panel. Single-valued inputs (a group's
// display name may contain a comma) are never split.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '\n' || r == '\r'
	}) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
