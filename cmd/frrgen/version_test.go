package main

import (
	"bytes"
	"testing"

	"github.com/frrgen/frrgen/internal/version"
)

// TestVersion: `frrgen version` and `frrgen --version` print the same line,
// the build information of the binary. (The stamped values are checked on
// the real build by internal/release's image test.)
func TestVersion(t *testing.T) {
	want := version.Get().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		cmd := newRootCommand()
		var stdout bytes.Buffer
		cmd.SetOut(&stdout)
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("frrgen %v: %v", args, err)
		}
		if stdout.String() != want {
			t.Errorf("frrgen %v printed %q, want %q", args, stdout.String(), want)
		}
	}
}
