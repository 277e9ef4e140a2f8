package alongside_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/frrgen/frrgen/internal/manager"
	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/procgroup"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/servicebgpstatus"
	"github.com/frrgen/frrgen/internal/testenv"
	"github.com/frrgen/frrgen/internal/translate"
)

func TestAlongside(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "alongside MetalLB")
}

const (
	metallbNS = "metallb-system"
	frrk8sNS  = "frr-k8s-system"
	// frrgen's ServiceAccount in config/alongside-metallb.
	frrgenUser = "system:serviceaccount:metallb-system:frrgen"
)

var (
	root       string
	k8s        client.Client
	adminCfg   *rest.Config
	kubeconfig string
	overlay    []*unstructured.Unstructured
	controller *procgroup.Group
	ctrlOpts   metallbbin.ControllerOptions
	stopFrrgen context.CancelFunc
	frrgenDone chan struct{}
	// frrgenErr is what manager.Run returned, once frrgenDone is closed.
	frrgenErr error
)

var _ = BeforeSuite(func() {
	var err error
	root, err = testenv.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	_, err = metallbbin.ControllerBinary(root)
	Expect(err).NotTo(HaveOccurred())
	assets, err := testenv.AssetsDir(root)
	Expect(err).NotTo(HaveOccurred())
	theirs, err := metallbbin.CRDDir(root)
	Expect(err).NotTo(HaveOccurred())
	configState, err := metallbbin.ConfigurationStateCRD()
	Expect(err).NotTo(HaveOccurred())
	frr, err := testenv.FRRK8sCRDDir(root)
	Expect(err).NotTo(HaveOccurred())

	// MetalLB v0.15.2's eight CRDs, the ConfigurationState CRD MetalLB adds
	// in v0.15.3 (v0.15.2's controller ignores it), and frr-k8s's.
	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{theirs, configState, frr},
		ErrorIfCRDPathMissing: true,
	}
	te.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	adminCfg, err = te.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(te.Stop)
	k8s, err = client.New(adminCfg, client.Options{Scheme: testenv.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(os.WriteFile(kubeconfig, te.KubeConfig, 0o600)).To(Succeed())

	ctx := context.Background()
	for _, ns := range []string{metallbNS, frrk8sNS} {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	for _, name := range []string{"node-a", "node-b"} {
		Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{corev1.LabelHostname: name}}})).To(Succeed())
	}

	// The overlay for real: frrgen's RBAC and admission policy are what
	// frrgen runs under below.
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).
		Run(filesys.MakeFsOnDisk(), filepath.Join(root, "config", "alongside-metallb"))
	Expect(err).NotTo(HaveOccurred())
	for _, r := range resources.Resources() {
		data, err := r.MarshalJSON()
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		Expect(u.UnmarshalJSON(data)).To(Succeed())
		overlay = append(overlay, u)
		Expect(k8s.Create(ctx, u.DeepCopy())).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
	}

	ctrlOpts = metallbbin.ControllerOptions{Kubeconfig: kubeconfig, Namespace: metallbNS,
		LogPath: filepath.Join(GinkgoT().TempDir(), "metallb-controller.log")}
	startMetalLB()
	DeferCleanup(func() {
		controller.Stop(5 * time.Second)
		if CurrentSpecReport().Failed() {
			log, _ := os.ReadFile(ctrlOpts.LogPath)
			GinkgoWriter.Printf("MetalLB controller log:\n%s\n", log)
		}
	})
	startFrrgen()
	DeferCleanup(func() {
		stopFrrgen()
		Eventually(frrgenDone).WithTimeout(time.Minute).Should(BeClosed())
		Expect(frrgenErr).NotTo(HaveOccurred())
	})
})

func startMetalLB() {
	var err error
	controller, err = metallbbin.StartController(root, ctrlOpts)
	Expect(err).NotTo(HaveOccurred())
}

// startFrrgen runs frrgen's manager in this process as its ServiceAccount
// (impersonated, so RBAC and the admission policy apply), with the flags
// config/alongside-metallb gives it.
func startFrrgen() {
	cfg := rest.CopyConfig(adminCfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: frrgenUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + metallbNS, "system:authenticated"}}
	settings := manager.Settings{
		Translation:                   translate.Options{Namespace: metallbNS, FRRK8sNamespace: frrk8sNS, NamePrefix: "frrgen-"},
		MetricsAddress:                "0",
		ProbeAddress:                  "0",
		NodeWorkers:                   2,
		Allocate:                      false,
		Schemas:                       schemas.MetalLB,
		ServiceBGPStatus:              servicebgpstatus.Auto,
		SchemaRecheckInterval:         500 * time.Millisecond,
		AllowDuplicateControllerNames: true,
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopFrrgen, frrgenDone = cancel, make(chan struct{})
	go func() {
		defer close(frrgenDone)
		frrgenErr = manager.Run(ctx, cfg, settings)
	}()
}
