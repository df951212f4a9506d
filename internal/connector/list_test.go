package connector

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"blank", " \n ,; ", nil},
		{"one", "ann@contoso.com", []string{"ann@contoso.com"}},
		{"commas", "ann@contoso.com, bob@contoso.com", []string{"ann@contoso.com", "bob@contoso.com"}},
		{"semicolons", "ann@contoso.com;bob@contoso.com ;", []string{"ann@contoso.com", "bob@contoso.com"}},
		{"lines", "ann@contoso.com\r\nbob@contoso.com\n\n", []string{"ann@contoso.com", "bob@contoso.com"}},
		{"mixed", "a, b\nc; d", []string{"a", "b", "c", "d"}},
		{"inner spaces kept", " Ann Lee , Bob ", []string{"Ann Lee", "Bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SplitList(tt.in)); diff != "" {
				t.Errorf("SplitList(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
