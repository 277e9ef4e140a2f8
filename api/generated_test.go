package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/frrgen/frrgen/internal/testenv"
)

// TestGeneratedFilesUpToDate regenerates the deepcopy functions and the CRDs
// into a temporary directory, with the same controller-gen generators as
// `make generate manifests`, and fails when the committed files differ.
func TestGeneratedFilesUpToDate(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	runs := map[string][]string{
		"crd":     {"crd", "paths=./api/...", "output:crd:dir=" + filepath.Join(tmp, "crd")},
		"v1beta1": {"object", "paths=./api/v1beta1", "output:object:dir=" + filepath.Join(tmp, "v1beta1")},
		"v1beta2": {"object", "paths=./api/v1beta2", "output:object:dir=" + filepath.Join(tmp, "v1beta2")},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for name, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", append([]string{"tool", "controller-gen"}, args...)...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				mu.Lock()
				t.Errorf("controller-gen %s: %v\n%s", name, err, out)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	for _, v := range []string{"v1beta1", "v1beta2"} {
		compareFile(t, filepath.Join(tmp, v, "zz_generated.deepcopy.go"), filepath.Join(root, "api", v, "zz_generated.deepcopy.go"))
	}

	generated := yamlFiles(t, filepath.Join(tmp, "crd"))
	committed := yamlFiles(t, filepath.Join(root, "config", "crd", "bases"))
	if strings.Join(generated, " ") != strings.Join(committed, " ") {
		t.Errorf("config/crd/bases holds %v, controller-gen writes %v; run `make manifests`", committed, generated)
	}
	for _, name := range generated {
		compareFile(t, filepath.Join(tmp, "crd", name), filepath.Join(root, "config", "crd", "bases", name))
	}
}

func compareFile(t *testing.T, generated, committed string) {
	t.Helper()
	want, err := os.ReadFile(generated)
	if err != nil {
		t.Errorf("controller-gen wrote no %s: %v", generated, err)
		return
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Errorf("reading %s: %v; run `make generate manifests`", committed, err)
		return
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is stale: it differs from what controller-gen generates now (first difference at line %d); run `make generate manifests`", committed, firstDifferentLine(want, got))
	}
}

func firstDifferentLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".yaml") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}
