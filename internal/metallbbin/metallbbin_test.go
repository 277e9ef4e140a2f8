package metallbbin_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/testenv"
)

// TestControllerAllocates runs MetalLB's real controller on MetalLB's own
// CRDs: a Service gets the pool's first address and the pool's status counts
// it; after a restart of the controller the address stays and the next
// Service gets the next one (MetalLB rebuilds its state from the statuses).
func TestControllerAllocates(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metallbbin.ControllerBinary(root); err != nil {
		t.Fatal(err)
	}
	c, kubeconfig := startMetalLBControlPlane(t, root, "")
	ctx := context.Background()
	const ns = "metallb-system"
	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	pool := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
		"metadata": map[string]any{"name": "first-pool", "namespace": ns},
		"spec":     map[string]any{"addresses": []any{"198.51.100.10-198.51.100.12"}},
	}}
	mustCreate(t, c, pool)

	opts := metallbbin.ControllerOptions{Kubeconfig: kubeconfig, Namespace: ns, LogPath: filepath.Join(filepath.Dir(kubeconfig), "controller.log")}
	ctrl, err := metallbbin.StartController(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctrl.Stop(5 * time.Second)
		if t.Failed() {
			log, _ := os.ReadFile(opts.LogPath)
			t.Logf("MetalLB controller log:\n%s", log)
		}
	})

	mustCreate(t, c, lbService("web"))
	waitForIP(t, c, "web", "198.51.100.10")
	waitFor(t, "pool status assignedIPv4=1 availableIPv4=2", func() bool {
		got := &unstructured.Unstructured{}
		got.SetAPIVersion("metallb.io/v1beta1")
		got.SetKind("IPAddressPool")
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "first-pool"}, got); err != nil {
			return false
		}
		assigned, _, _ := unstructured.NestedInt64(got.Object, "status", "assignedIPv4")
		available, _, _ := unstructured.NestedInt64(got.Object, "status", "availableIPv4")
		return assigned == 1 && available == 2
	})

	ctrl.Stop(5 * time.Second)
	if ctrl, err = metallbbin.StartController(root, opts); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, lbService("api"))
	waitForIP(t, c, "api", "198.51.100.11")
	waitForIP(t, c, "web", "198.51.100.10")
	if ctrl.Exited() {
		t.Fatalf("MetalLB controller exited: %v", ctrl.Err())
	}
}

// TestCRDDirHoldsMetalLBsCRDs: CRDDir is MetalLB v0.15.2's module, with its
// eight CRDs; ConfigurationStateCRD is the one file v0.15.3 adds.
func TestCRDDirHoldsMetalLBsCRDs(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := metallbbin.CRDDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dir, metallbbin.Module+"@"+metallbbin.Version) {
		t.Errorf("CRDDir() = %s, want the %s@%s module directory", dir, metallbbin.Module, metallbbin.Version)
	}
	files, err := filepath.Glob(filepath.Join(dir, "metallb.io_*.yaml"))
	if err != nil || len(files) != 8 {
		t.Errorf("%s holds %d metallb.io CRDs (%v), want MetalLB v0.15.2's 8", dir, len(files), err)
	}
	file, err := metallbbin.ConfigurationStateCRD()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(file, metallbbin.Module+"@"+metallbbin.ConfigurationStateVersion) || filepath.Base(file) != "metallb.io_configurationstates.yaml" {
		t.Errorf("ConfigurationStateCRD() = %s", file)
	}
}

func lbService(name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
}

func mustCreate(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func waitForIP(t *testing.T, c client.Client, name, ip string) {
	t.Helper()
	var last []corev1.LoadBalancerIngress
	waitFor(t, "service "+name+" gets "+ip, func() bool {
		svc := &corev1.Service{}
		if err := c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, svc); err != nil {
			return false
		}
		last = svc.Status.LoadBalancer.Ingress
		return len(last) == 1 && last[0].IP == ip
	})
	// Stable: still the same a little later (no reassignment).
	time.Sleep(500 * time.Millisecond)
	svc := &corev1.Service{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, svc); err != nil || len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Status.LoadBalancer.Ingress[0].IP != ip {
		t.Fatalf("service %s: ingress changed to %v (err %v), want %s", name, svc.Status.LoadBalancer.Ingress, err, ip)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startMetalLBControlPlane starts kube-apiserver and etcd with MetalLB's
// CRDs and frr-k8s's (serviceRange, when set, replaces the Service cluster IP range) and
// returns a client and a kubeconfig file for MetalLB's controller.
func startMetalLBControlPlane(t *testing.T, root, serviceRange string) (client.Client, string) {
	t.Helper()
	crds, err := metallbbin.CRDDir(root)
	if err != nil {
		t.Fatal(err)
	}
	frrCRDs, err := testenv.FRRK8sCRDDir(root)
	if err != nil {
		t.Fatal(err)
	}
	assets, err := testenv.AssetsDir(root)
	if err != nil {
		t.Fatal(err)
	}
	te := &envtest.Environment{BinaryAssetsDirectory: assets, CRDDirectoryPaths: []string{crds, frrCRDs}, ErrorIfCRDPathMissing: true}
	if serviceRange != "" {
		te.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", serviceRange)
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, te.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return c, kubeconfig
}

// positiveFromEnv is the positive number in the environment variable name,
// or def when it is unset; anything else fails the test.
func positiveFromEnv(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
