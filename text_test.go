package tenantlink

import "testing"

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain", "Sales team", true},
		{"accents and CJK", "Zoë Ångström 営業", true},
		{"emoji", "Ops 🚀", true},
		{"replacement char typed on purpose", "a\uFFFDb", true},
		{"RLO", "invoice\u202Efdp.exe", false},
		{"LRE", "\u202Aname", false},
		{"PDF", "name\u202C", false},
		{"LRI", "\u2066x", false},
		{"PDI", "x\u2069", false},
		{"zero width space", "ad\u200Bmin", false},
		{"ZWJ", "a\u200Db", false},
		{"LRM", "a\u200Eb", false},
		{"RLM", "a\u200Fb", false},
		{"BOM", "\uFEFFname", false},
		{"soft hyphen (Cf)", "ad\u00ADmin", false},
		{"NUL", "a\x00b", false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"DEL", "a\x7fb", false},
		{"C1 control", "a\u0085b", false},
		{"line separator", "a\u2028b", false},
		{"invalid UTF-8", "a\xffb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckText("name", tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckText(%q) = %v, want ok %v", tt.in, err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Errorf("code = %q, want %q", ErrorCode(err), EINVALID)
			}
		})
	}
}
