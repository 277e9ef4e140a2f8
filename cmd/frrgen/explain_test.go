package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden output.txt files of testdata/explain and testdata/render")

// TestExplainGolden runs, for each testdata/explain/<case>, every line of
// its commands file as `frrgen explain LINE -f input.yaml` and compares
// the transcript (command, output, exit status) with output.txt.
func TestExplainGolden(t *testing.T) {
	runGoldenCommands(t, "explain", func(t *testing.T, line, input string) string {
		out, code := explain(t, append(strings.Fields(line), "-f", input)...)
		return fmt.Sprintf("$ frrgen explain %s\n%s[exit %d]\n", line, out, code)
	})
}

// runGoldenCommands runs, for each testdata/<command>/<case>, every line
// of its commands file through transcript (given the line and the case's
// input.yaml) and compares the joined transcripts with the case's
// output.txt (-update rewrites it; review the diff by eye).
func runGoldenCommands(t *testing.T, command string, transcript func(t *testing.T, line, input string) string) {
	t.Helper()
	cases, err := filepath.Glob(filepath.Join("testdata", command, "*", "commands"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no %s cases: %v", command, err)
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
				got.WriteString(transcript(t, line, filepath.Join(dir, "input.yaml")))
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

// explain runs `frrgen explain args...` and returns what it printed (an
// error last, as main would print it) and the exit status.
func explain(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"explain"}, args...))
	if err := cmd.Execute(); err != nil {
		code := 1
		var e *exitError
		if errors.As(err, &e) {
			code = e.code
		}
		fmt.Fprintf(&out, "frrgen: %v\n", err)
		return out.String(), code
	}
	return out.String(), 0
}
