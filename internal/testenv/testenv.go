// Package testenv starts a real kube-apiserver and etcd (controller-runtime's
// envtest) with frrgen's CRDs and the frr-k8s CRDs installed. Every envtest
// suite in the repository uses it, so they all run against the same control
// plane binaries and the same schemas.
//
// The binaries are built from the Go module proxy by `make envtest-assets`
// into <repo>/bin (see hack/README.md). KUBEBUILDER_ASSETS, when set, points
// at another directory holding kube-apiserver and etcd.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/controllers"
)

const (
	modulePath    = "github.com/frrgen/frrgen"
	frrK8sModule  = "github.com/metallb/frr-k8s"
	assetsEnvVar  = "KUBEBUILDER_ASSETS"
	startTimeout  = 2 * time.Minute // the machine running the suites may be busy
	stopTimeout   = time.Minute
	makeAssetsTip = "run `make envtest-assets` in the repository root to build kube-apiserver and etcd into bin/ (cold build: 5-11 minutes)"
)

// Scheme returns the scheme frrgen's controllers use: the client-go kinds,
// frrgen's metallb.io kinds (v1beta1 and v1beta2) and frr-k8s's
// frrk8s.metallb.io/v1beta1 kinds.
func Scheme() *k8sruntime.Scheme { return controllers.Scheme() }

// Env is a running control plane.
type Env struct {
	// Config connects to the apiserver as an administrator.
	Config *rest.Config
	// Client uses Scheme(); it talks to the apiserver directly (no cache).
	Client client.Client
	// Scheme is the scheme of Client.
	Scheme *k8sruntime.Scheme
	// RepoRoot is the directory holding frrgen's go.mod.
	RepoRoot string
	// CRDs are the names of the installed CustomResourceDefinitions.
	CRDs []string
	// KubeConfig is a kubeconfig file for Config, for kubectl or a process
	// started by a test (see WriteKubeconfig).
	KubeConfig []byte

	env *envtest.Environment
}

// Start boots kube-apiserver and etcd, installs the CRDs of config/crd/bases
// and of the frr-k8s module, and waits until they are served. It returns an
// error, never skips: a missing binary is a failure with a hint to run
// `make envtest-assets`.
func Start() (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := AssetsDir(root)
	if err != nil {
		return nil, err
	}
	frrCRDs, err := FRRK8sCRDDir(root)
	if err != nil {
		return nil, err
	}
	scheme := Scheme()
	te := &envtest.Environment{
		Scheme:                   scheme,
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases"), frrCRDs},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  stopTimeout,
	}
	// envtest's default Service range, a /24, runs out after 254 Services:
	// the suites and the load driver create thousands.
	te.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("starting envtest control plane from %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("creating client: %w", err)
	}
	e := &Env{Config: cfg, Client: c, Scheme: scheme, RepoRoot: root, KubeConfig: te.KubeConfig, env: te}
	for _, crd := range te.CRDs {
		e.CRDs = append(e.CRDs, crd.Name)
	}
	return e, nil
}

// Stop shuts the control plane down. It is safe to call on a nil Env, so a
// suite can defer it even when Start failed.
func (e *Env) Stop() error {
	if e == nil || e.env == nil {
		return nil
	}
	err := e.env.Stop()
	e.env = nil
	return err
}

// WriteKubeconfig writes KubeConfig to path (mode 0600), so kubectl or a
// child process can reach the control plane with --kubeconfig path.
func (e *Env) WriteKubeconfig(path string) error {
	if len(e.KubeConfig) == 0 {
		return errors.New("the control plane has no kubeconfig")
	}
	return os.WriteFile(path, e.KubeConfig, 0o600)
}

// GVKs of the kinds installed by Start, for tests that want to check them.
var (
	IPAddressPoolGVK    = metallbv1beta1.GroupVersion.WithKind("IPAddressPool")
	BGPAdvertisementGVK = metallbv1beta1.GroupVersion.WithKind("BGPAdvertisement")
	CommunityGVK        = metallbv1beta1.GroupVersion.WithKind("Community")
	BFDProfileGVK       = metallbv1beta1.GroupVersion.WithKind("BFDProfile")
	BGPPeerGVK          = metallbv1beta2.GroupVersion.WithKind("BGPPeer")
	FRRConfigurationGVK = schema.GroupVersionKind{Group: frrv1beta1.GroupVersion.Group, Version: frrv1beta1.GroupVersion.Version, Kind: "FRRConfiguration"}
)

// RepoRoot finds the directory of frrgen's go.mod: first by walking up from
// the working directory (go test runs in the package directory), then from
// this source file.
func RepoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			if isRepoRoot(dir) {
				return dir, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find the go.mod of module %s above %s", modulePath, strings.Join(starts, " or "))
}

// isRepoRoot reports whether dir holds the go.mod of frrgen (and not, say, the
// separate tools module in hack/envtest).
func isRepoRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

// AssetsDir returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS when set, else <root>/bin. It fails, naming the missing
// file and the make target that builds it, when either binary is absent.
func AssetsDir(root string) (string, error) {
	dir := filepath.Join(root, "bin")
	source := "the repository's bin/ directory"
	if v := os.Getenv(assetsEnvVar); v != "" {
		dir, source = v, assetsEnvVar+"="+v
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
	}
	var missing []string
	for _, name := range []string{"kube-apiserver", "etcd"} {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		switch {
		case err != nil:
			missing = append(missing, p+" (not found)")
		case st.IsDir() || st.Mode()&0o111 == 0:
			missing = append(missing, p+" (not an executable file)")
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("envtest binaries missing in %s: %s; %s", source, strings.Join(missing, ", "), makeAssetsTip)
	}
	return dir, nil
}

// FRRK8sCRDDir returns config/crd/bases inside the frr-k8s module that
// frrgen's go.mod requires, so the CRDs always match the Go types we build
// against.
func FRRK8sCRDDir(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", frrK8sModule)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s in %s: %w: %s", frrK8sModule, root, err, strings.TrimSpace(stderr.String()))
	}
	modDir := strings.TrimSpace(string(out))
	if modDir == "" {
		return "", errors.New("go list -m " + frrK8sModule + " printed no directory; run `go mod download " + frrK8sModule + "`")
	}
	dir := filepath.Join(modDir, "config", "crd", "bases")
	if _, err := os.Stat(filepath.Join(dir, "frrk8s.metallb.io_frrconfigurations.yaml")); err != nil {
		return "", fmt.Errorf("frr-k8s CRDs not found in %s: %w", dir, err)
	}
	return dir, nil
}

// Samples returns the seed examples stored in config/samples (file names
// without the directory), joined into one multi-document YAML stream, so that
// tests apply the very documents users apply instead of copies of them.
func Samples(files ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	docs := make([]string, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, "config", "samples", f))
		if err != nil {
			return "", err
		}
		docs = append(docs, strings.TrimSpace(string(data)))
	}
	return strings.Join(docs, "\n---\n") + "\n", nil
}
