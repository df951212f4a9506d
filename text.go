package tenantlink

import (
	"fmt"
	"unicode"
)

// CheckText refuses a name or display name that holds characters a reader
// cannot see: control characters (Unicode Cc, including tabs and line
// breaks), format characters (Cf: the bidirectional overrides and
// isolates U+202A–U+202E and U+2066–U+2069, zero-width spaces and joiners
// U+200B–U+200F, the byte order mark U+FEFF, …) and the line and
// paragraph separators U+2028 and U+2029. Such characters make one name
// look like another in lists, audit entries and logs. field names the
// input in the message.
func CheckText(field, v string) error {
	for i, r := range v {
		if r == unicode.ReplacementChar && !validAt(v, i) {
			return Errorf(EINVALID, "%s is not valid UTF-8", field)
		}
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return Errorf(EINVALID, "%s must not contain invisible or control characters (found %s at byte %d)", field, runeName(r), i)
		}
	}
	return nil
}

func validAt(s string, i int) bool {
	return len(s) >= i+3 && s[i:i+3] == "\uFFFD"
}

func runeName(r rune) string {
	return fmt.Sprintf("U+%04X", r)
}
