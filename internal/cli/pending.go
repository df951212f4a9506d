package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// The commands below are declared with their final names; each says what
// it is waiting for until the issue that builds it lands.

func notYet(name string) func(*cobra.Command, []string) error {
	return func(*cobra.Command, []string) error {
		return fmt.Errorf("%s: not available in this build yet", name)
	}
}
