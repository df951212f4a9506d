// Command tenantlink is the Office 365 data source service: one binary for
// the server, the demo, the Microsoft 365 simulator and administration.
package main

import (
	"os"

	"github.com/tenantlink/tenantlink/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
