package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRenderGolden runs, for each testdata/render/<case>, every line of its
// commands file as `frrgen render LINE -f input.yaml` and compares the
// transcript (command, standard output, standard error, exit status) with
// output.txt (-update rewrites it; review the diff by eye).
func TestRenderGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/render/*/commands")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no render cases: %v", err)
	}
	for _, commands := range cases {
		dir := filepath.Dir(commands)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(commands)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				stdout, stderr, code := render(t, append(strings.Fields(line), "-f", filepath.Join(dir, "input.yaml"))...)
				fmt.Fprintf(&got, "$ frrgen render %s\n%s--- stderr\n%s[exit %d]\n\n", line, stdout, stderr, code)
			}
			golden := filepath.Join(dir, "output.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", golden, diff)
			}
		})
	}
}
