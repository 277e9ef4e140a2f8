package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestRenderGolden runs, for each testdata/render/<case>, every line of its
// commands file as `frrgen render LINE -f input.yaml` and compares the
// transcript (command, standard output, standard error, exit status) with
// output.txt (-update rewrites it; review the diff by eye).
func TestRenderGolden(t *testing.T) {
	runGoldenCommands(t, "render", func(t *testing.T, line, input string) string {
		stdout, stderr, code := render(t, append(strings.Fields(line), "-f", input)...)
		return fmt.Sprintf("$ frrgen render %s\n%s--- stderr\n%s[exit %d]\n\n", line, stdout, stderr, code)
	})
}
