// Package metallbcrds is test support: it finds the CRDs MetalLB v0.15.2
// ships (config/crd/bases in its module), so that tests can check frrgen's
// CRDs against MetalLB's own. frrgen itself never imports it.
package metallbcrds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const (
	// Module and Version are the MetalLB release frrgen is checked against.
	Module  = "go.universe.tf/metallb"
	Version = "v0.15.2"
)

// Dir returns config/crd/bases inside MetalLB's module, downloading the
// module through the Go module proxy when the cache lacks it. The directory
// holds MetalLB's schemas (BGPPeer v1beta1 and v1beta2; the conversion
// webhook is a kustomize patch beside it, not in these files).
func Dir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", Module+"@"+Version)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &mod); jsonErr == nil && mod.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", Module, Version, mod.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w: %s", Module, Version, err, strings.TrimSpace(stderr.String()))
	}
	if mod.Dir == "" {
		return "", fmt.Errorf("go mod download -json %s@%s printed no module directory: %q", Module, Version, out)
	}
	dir := filepath.Join(mod.Dir, "config", "crd", "bases")
	if _, err := os.Stat(filepath.Join(dir, "metallb.io_bgppeers.yaml")); err != nil {
		return "", fmt.Errorf("MetalLB CRDs not found in %s: %w", dir, err)
	}
	return dir, nil
}
