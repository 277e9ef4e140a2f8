// Command frrgen turns MetalLB-style BGP objects into frr-k8s
// FRRConfigurations. Each subcommand lives in its own file.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/frrgen/frrgen/internal/version"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		os.Exit(exitCode(err))
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "frrgen",
		Short:         "Generate frr-k8s FRRConfigurations from MetalLB BGP objects",
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints the same line as `frrgen version`.
		Version: version.Get().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by the init functions of the files that define them,
// so each subcommand can be written without touching this file.
var subcommands []func() *cobra.Command

// exitError carries a specific exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		if e.err != nil && e.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "frrgen:", e.err)
		}
		return e.code
	}
	fmt.Fprintln(os.Stderr, "frrgen:", err)
	return 1
}
