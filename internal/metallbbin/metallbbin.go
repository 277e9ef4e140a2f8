// Package metallbbin is test support: it finds MetalLB v0.15.2's real binaries
// (bin/metallb-controller and bin/metallb-speaker, built by `make metallb`
// from the tools module in hack/metallb) and its CRDs (config/crd/bases in
// the module cache), and starts MetalLB's controller out of cluster against a
// test apiserver. Differential and alongside-MetalLB tests use it; frrgen
// itself never imports it.
package metallbbin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/frrgen/frrgen/internal/procgroup"
)

const (
	// Module and Version are what hack/metallb/go.mod requires.
	Module  = "go.universe.tf/metallb"
	Version = "v0.15.2"

	toolsModuleDir = "hack/metallb"
	makeTip        = "run `make metallb` in the repository root (about 1 minute)"
)

// ControllerBinary returns <root>/bin/metallb-controller, or an error saying
// how to build it.
func ControllerBinary(root string) (string, error) { return binary(root, "metallb-controller") }

// SpeakerBinary returns <root>/bin/metallb-speaker, or an error saying how to
// build it.
func SpeakerBinary(root string) (string, error) { return binary(root, "metallb-speaker") }

func binary(root, name string) (string, error) {
	p := filepath.Join(root, "bin", name)
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("MetalLB binary %s is missing (%v): %s", p, err, makeTip)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("MetalLB binary %s is not an executable file: %s", p, makeTip)
	}
	return p, nil
}

// CRDDir returns config/crd/bases inside the MetalLB module that
// hack/metallb/go.mod requires, downloading the module when the cache lacks
// it. The directory holds MetalLB's own schemas (BGPPeer v1beta1 and v1beta2
// without the conversion webhook, which lives in kustomize patches).
func CRDDir(root string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", Module)
	cmd.Dir = filepath.Join(root, toolsModuleDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s in %s: %w: %s", Module, cmd.Dir, err, strings.TrimSpace(stderr.String()))
	}
	var mod struct{ Version, Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod download -json %s printed %q: %w", Module, out, err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no module directory (%s)", Module, mod.Error)
	}
	if mod.Version != Version {
		return "", fmt.Errorf("%s requires %s %s, this package expects %s", cmd.Dir, Module, mod.Version, Version)
	}
	dir := filepath.Join(mod.Dir, "config", "crd", "bases")
	if _, err := os.Stat(filepath.Join(dir, "metallb.io_ipaddresspools.yaml")); err != nil {
		return "", fmt.Errorf("MetalLB CRDs not found in %s: %w", dir, err)
	}
	return dir, nil
}

// ControllerOptions configure one MetalLB controller process.
type ControllerOptions struct {
	// Kubeconfig is the path of a kubeconfig for the test apiserver.
	Kubeconfig string
	// Namespace holds the MetalLB objects it reads (IPAddressPools).
	Namespace string
	// LBClass is its -lb-class; empty handles services without a class.
	LBClass string
	// LogPath receives its stdout and stderr (appended).
	LogPath string
	// LogLevel is its -log-level; empty means "info".
	LogLevel string
}

// StartController starts bin/metallb-controller out of cluster: the webhook
// server and certificate rotation off (there is no Service to reach it
// through), its Prometheus listener on a free port. Unlike the speaker
// (-pod-name, -node-name), the v0.15.2 controller needs no Pod of its own.
// The caller stops it with Stop on the returned group.
func StartController(root string, o ControllerOptions) (*procgroup.Group, error) {
	bin, err := ControllerBinary(root)
	if err != nil {
		return nil, err
	}
	if o.Kubeconfig == "" || o.Namespace == "" || o.LogPath == "" {
		return nil, fmt.Errorf("metallbbin.StartController: Kubeconfig, Namespace and LogPath are required (got %+v)", o)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	args := []string{bin,
		"-kubeconfig", o.Kubeconfig,
		"-namespace", o.Namespace,
		"-webhook-mode", "disabled",
		"-disable-cert-rotation",
		"-port", strconv.Itoa(port),
		"-log-level", level,
	}
	if o.LBClass != "" {
		args = append(args, "-lb-class", o.LBClass)
	}
	return procgroup.Start(o.LogPath, nil, args...)
}

// freePort asks the kernel for an unused loopback TCP port. MetalLB binds it
// on every interface; nothing connects to it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
