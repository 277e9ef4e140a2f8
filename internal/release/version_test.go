package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildInfo is what the Makefile stamps into this checkout's artifacts.
type buildInfo struct{ Version, Revision string }

// makeVersion asks the Makefile (the one home of the version rule) for the
// version, and git for the commit it must name.
func makeVersion(t *testing.T) buildInfo {
	t.Helper()
	root := repoRoot(t)
	return buildInfo{
		Version:  run(t, root, "make", "-s", "--no-print-directory", "version"),
		Revision: run(t, root, "git", "rev-parse", "HEAD"),
	}
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	// Under `make test`, the outer make's variables must not leak in.
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// repoRoot is the directory of frrgen's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}
