package release_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestControllerBinaryLinksNoEnvtest: bin/frrgen (the image's binary) does
// not carry the test control plane; the demo, which needs it, is built with
// the demo tag into bin/frrgen-demo. The check is on the package graph `go
// build ./cmd/frrgen` links, with and without the tag.
func TestControllerBinaryLinksNoEnvtest(t *testing.T) {
	deps := func(tags string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-tags", tags, "-deps", "-f", "{{.ImportPath}}", "../../cmd/frrgen").Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		return strings.Fields(string(out))
	}
	test := []string{"sigs.k8s.io/controller-runtime/pkg/envtest", "github.com/frrgen/frrgen/internal/testenv", "github.com/frrgen/frrgen/internal/demo"}
	for _, pkg := range test {
		if slices.Contains(deps(""), pkg) {
			t.Errorf("cmd/frrgen links %s", pkg)
		}
	}
	// The check can fail: the demo build does link them.
	if !slices.Contains(deps("demo"), test[0]) {
		t.Errorf("cmd/frrgen with the demo tag does not link %s: the test checks nothing", test[0])
	}
}
