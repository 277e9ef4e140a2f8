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
// without the conversion webhook, which lives in kustomize patches). This is
// the one place tests find MetalLB's CRDs.
func CRDDir(root string) (string, error) {
	mod, err := download(filepath.Join(root, toolsModuleDir), Module)
	if err != nil {
		return "", err
	}
	if mod.Version != Version {
		return "", fmt.Errorf("%s requires %s %s, this package expects %s", toolsModuleDir, Module, mod.Version, Version)
	}
	return crdBases(mod.Dir, "metallb.io_ipaddresspools.yaml")
}

// ConfigurationStateVersion is the first MetalLB release with the
// ConfigurationState kind (v0.15.2 has none).
const ConfigurationStateVersion = "v0.15.3"

// ConfigurationStateCRD returns the file of MetalLB's ConfigurationState CRD,
// from the module of ConfigurationStateVersion. Only that file is used: the
// binaries and the other CRDs stay Version's.
func ConfigurationStateCRD() (string, error) {
	mod, err := download("", Module+"@"+ConfigurationStateVersion)
	if err != nil {
		return "", err
	}
	const file = "metallb.io_configurationstates.yaml"
	dir, err := crdBases(mod.Dir, file)
	return filepath.Join(dir, file), err
}

type moduleInfo struct{ Version, Dir, Error string }

// download runs `go mod download -json query` in dir (empty: the current
// directory).
func download(dir, query string) (moduleInfo, error) {
	cmd := exec.Command("go", "mod", "download", "-json", query)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod moduleInfo
	if jsonErr := json.Unmarshal(out, &mod); jsonErr == nil && mod.Error != "" {
		return mod, fmt.Errorf("go mod download %s: %s", query, mod.Error)
	}
	if err != nil {
		return mod, fmt.Errorf("go mod download %s (in %q): %w: %s", query, dir, err, strings.TrimSpace(stderr.String()))
	}
	if mod.Dir == "" {
		return mod, fmt.Errorf("go mod download -json %s printed no module directory: %q", query, out)
	}
	return mod, nil
}

// crdBases is config/crd/bases of a MetalLB module directory, checked to
// hold file.
func crdBases(moduleDir, file string) (string, error) {
	dir := filepath.Join(moduleDir, "config", "crd", "bases")
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
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

// SpeakerOptions configure one MetalLB speaker process.
type SpeakerOptions struct {
	// Kubeconfig is the path of a kubeconfig for the test apiserver.
	Kubeconfig string
	// Namespace holds the MetalLB objects it reads, and its Pod.
	Namespace string
	// FRRK8sNamespace is where it writes metallb-<node> FRRConfigurations.
	FRRK8sNamespace string
	// NodeName is the node it speaks for (--node-name).
	NodeName string
	// PodName names an existing Pod in Namespace: the speaker reads it at
	// start (it owns the ServiceBGPStatus objects the speaker writes).
	PodName string
	// LBClass is its -lb-class; empty handles services without a class.
	LBClass string
	// LogPath receives its stdout and stderr (appended).
	LogPath string
	// LogLevel is its -log-level; empty means "info".
	LogLevel string
}

// StartSpeaker starts SpeakerCommand's process. The caller stops it with
// Stop on the returned group.
func StartSpeaker(root string, o SpeakerOptions) (*procgroup.Group, error) {
	argv, env, err := SpeakerCommand(root, o)
	if err != nil {
		return nil, err
	}
	return procgroup.Start(o.LogPath, env, argv...)
}

// SpeakerCommand returns the command line and the extra environment of
// bin/metallb-speaker out of cluster in frr-k8s mode
// (METALLB_BGP_TYPE=frr-k8s): it writes the FRRConfiguration
// metallb-<NodeName> and speaks no BGP itself. Memberlist is off (no
// --ml-bindaddr); its metrics listener binds a free loopback port. For
// harnesses that start processes their own way (the e2e suite records pid
// files); the others use StartSpeaker.
func SpeakerCommand(root string, o SpeakerOptions) (argv, env []string, err error) {
	bin, err := SpeakerBinary(root)
	if err != nil {
		return nil, nil, err
	}
	if o.Kubeconfig == "" || o.Namespace == "" || o.FRRK8sNamespace == "" || o.NodeName == "" || o.PodName == "" || o.LogPath == "" {
		return nil, nil, fmt.Errorf("metallbbin: the speaker needs Kubeconfig, Namespace, FRRK8sNamespace, NodeName, PodName and LogPath (got %+v)", o)
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	argv = []string{bin,
		"-kubeconfig", o.Kubeconfig,
		"-namespace", o.Namespace,
		"-frrk8s-namespace", o.FRRK8sNamespace,
		"-node-name", o.NodeName,
		"-pod-name", o.PodName,
		"-host", "127.0.0.1",
		"-port", strconv.Itoa(port),
		"-log-level", level,
	}
	if o.LBClass != "" {
		argv = append(argv, "-lb-class", o.LBClass)
	}
	return argv, []string{"METALLB_BGP_TYPE=frr-k8s"}, nil
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
