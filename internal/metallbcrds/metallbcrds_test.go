package metallbcrds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirHoldsMetalLBsCRDs(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dir, Module+"@"+Version) {
		t.Errorf("Dir() = %s, want the %s@%s module directory", dir, Module, Version)
	}
	files, err := filepath.Glob(filepath.Join(dir, "metallb.io_*.yaml"))
	if err != nil || len(files) != 8 {
		t.Errorf("%s holds %d metallb.io CRDs (%v), want MetalLB v0.15.2's 8", dir, len(files), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "metallb.io_l2advertisements.yaml")); err != nil {
		t.Error(err)
	}
}
