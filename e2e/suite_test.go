package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/testenv"
)

const (
	metallbNS = "metallb-system"
	frrK8sNS  = "frr-k8s-system"

	nodeASN  = 64512
	peerAASN = 64512 // iBGP, as in the seed's examples
	peerBASN = 64513 // eBGP
)

// peerBFDConfig makes the peer namespace answer BFD for peer A's address.
const peerBFDConfig = "hostname " + peerNS + `
bfd
 peer ` + nodeIPv4 + ` local-address ` + peerAIPv4 + `
  receive-interval 300
  transmit-interval 300
 exit
exit
`

var (
	// workDir holds logs, pid files, kubeconfig and the files FRR and
	// frr-k8s exchange. Fixed so that `make e2e-clean` can find pid files.
	workDir = envOr("FRRGEN_E2E_WORKDIR", "/tmp/frrgen-e2e")

	repoRoot string
	binDir   string
	env      *testenv.Env
	k8s      client.Client
	peerA    *bgpPeer
	peerB    *bgpPeer

	frrgenAvailable bool
	frrgenProc      *proc
	// frrgenMetricsAddr is where frrgen serves its metrics (plain HTTP).
	frrgenMetricsAddr string

	createdFRRLog      bool
	createdReloaderDir bool
	ownNetwork         bool // false when BeforeSuite stopped at the leftover check: leave those to make e2e-clean
	cleanupOnce        sync.Once
)

// frrLogMarker exists while /etc/frr/frr.log is one the suite created;
// `make e2e-clean` removes both.
func frrLogMarker() string { return filepath.Join(workDir, "created-etc-frr-frr.log") }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	suiteConfig, reporterConfig := GinkgoConfiguration()
	if suiteConfig.Timeout > 40*time.Minute || suiteConfig.Timeout == 0 {
		// Ginkgo's own timeout runs AfterSuite; go test's -timeout does not.
		suiteConfig.Timeout = 40 * time.Minute
	}
	RunSpecs(t, "frrgen e2e", suiteConfig, reporterConfig)
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	SetDefaultConsistentlyDuration(10 * time.Second)
	SetDefaultConsistentlyPollingInterval(500 * time.Millisecond)
	Expect(os.Geteuid()).To(Equal(0), "the e2e suite creates network namespaces: run it as root (make e2e)")
	var err error
	repoRoot, err = testenv.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	binDir = filepath.Join(repoRoot, "bin")
	for _, f := range []string{
		filepath.Join(binDir, "frr-k8s-controller"), filepath.Join(binDir, "frr-k8s-status"), filepath.Join(binDir, "frrgen"),
		filepath.Join(frrBinDir, "zebra"), filepath.Join(frrBinDir, "bgpd"), frrReloadPy,
	} {
		_, err := os.Stat(f)
		Expect(err).NotTo(HaveOccurred(), "missing %s: run `make e2e` (it builds and installs what is missing)", f)
	}
	Expect(leftovers()).To(BeEmpty(), "leftovers of an earlier run: run `make e2e-clean`")
	if entries, _ := os.ReadDir(filepath.Join(workDir, "pids")); len(entries) > 0 {
		Fail("pid files of an earlier run in " + filepath.Join(workDir, "pids") + ": run `make e2e-clean`")
	}

	// The log file frr-k8s's config names is ours to remove if it did not
	// exist, or if an earlier run that created it was killed (marker file).
	_, err = os.Stat(frrK8sLogFile)
	_, markerErr := os.Stat(frrLogMarker())
	createdFRRLog = errors.Is(err, os.ErrNotExist) || markerErr == nil
	createdReloaderDir = ownsReloaderMountPoint()
	Expect(os.RemoveAll(workDir)).To(Succeed())
	for _, d := range []string{"logs", "pids", "frr-k8s"} {
		Expect(os.MkdirAll(filepath.Join(workDir, d), 0o755)).To(Succeed())
	}
	Expect(os.Chmod(workDir, 0o755)).To(Succeed())
	if createdFRRLog {
		Expect(os.WriteFile(frrLogMarker(), []byte(frrK8sLogFile+"\n"), 0o644)).To(Succeed())
	}
	Expect(createReloaderMountPoint()).To(Succeed())
	installSignalHandler()

	By("creating the node and peer network namespaces")
	ownNetwork = true // from here on, cleanup removes namespaces and FRR run directories
	Expect(setupNetwork()).To(Succeed())

	By("starting zebra, bgpd and bfdd in the node namespace, zebra and bfdd in the peer namespace")
	Expect(startFRR(nodeName, []string{"zebra", "bgpd", "bfdd"}, "hostname "+nodeName+"\n")).To(Succeed())
	Expect(startFRR(peerNS, []string{"zebra", "bfdd"}, peerBFDConfig)).To(Succeed())
	reloaderPidFile, err := startReloader()
	Expect(err).NotTo(HaveOccurred())

	By("starting GoBGP peers in the peer namespace")
	peerA, err = startPeer(peerAIPv4, []string{peerAIPv6}, peerAASN, nodeASN, nodeIPv4, nodeIPv6)
	Expect(err).NotTo(HaveOccurred())
	peerB, err = startPeer(peerBIPv4, nil, peerBASN, nodeASN, nodeIPv4)
	Expect(err).NotTo(HaveOccurred())

	By("starting kube-apiserver and etcd")
	env, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	recordChildren(binDir)
	k8s = env.Client
	kubeconfig := filepath.Join(workDir, "kubeconfig")
	Expect(writeKubeconfig(env.Config, kubeconfig)).To(Succeed())

	ctx := context.Background()
	for _, ns := range []string{metallbNS, frrK8sNS} {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   nodeName,
		Labels: map[string]string{"kubernetes.io/hostname": nodeName},
	}})).To(Succeed())

	By("starting the frr-k8s node daemon")
	// It reads its reloader's result from frrK8sReloaderDir, which it sees
	// as the reloader's state directory.
	_, err = startProc("frr-k8s", []string{
		"FRR_CONFIG_FILE=" + frrConfFile(),
		"FRR_RELOADER_PID_FILE=" + reloaderPidFile,
	}, withPrivateMount(reloaderDir(), frrK8sReloaderDir, filepath.Join(binDir, "frr-k8s-controller"),
		"--node-name", nodeName, "--namespace", frrK8sNS, "--kubeconfig", kubeconfig,
		"--metrics-bind-address", "0", "--log-level", "debug")...)
	Expect(err).NotTo(HaveOccurred())
	By("starting frr-k8s's status exporter")
	Expect(startStatusExporter(kubeconfig)).To(Succeed())

	frrgenAvailable = exec.Command(filepath.Join(binDir, "frrgen"), "controller", "--help").Run() == nil
	if frrgenAvailable {
		By("starting the frrgen controller")
		frrgenProc, err = startFRRGen(false)
		Expect(err).NotTo(HaveOccurred())
	}
	fmt.Fprintf(GinkgoWriter, "work directory (logs, frr.conf, kubeconfig): %s\n", workDir)
})

// Every spec ends with cleanupSpec (registered first, so it runs after the
// spec's own cleanups).
var _ = BeforeEach(func() {
	DeferCleanup(cleanupSpec)
})

var _ = AfterSuite(func() {
	errs := cleanup()
	Expect(errs).To(BeEmpty())
	if !ownNetwork {
		return // BeforeSuite found leftovers of another run and touched nothing
	}
	By("checking that nothing is left behind")
	Expect(leftovers()).To(BeEmpty())
	Expect(alivePids()).To(BeEmpty())
	for _, ns := range []string{nodeName, peerNS} {
		_, err := os.Stat(frrRunDir(ns))
		Expect(errors.Is(err, os.ErrNotExist)).To(BeTrue(), "%s still exists", frrRunDir(ns))
	}
})

// cleanup stops everything the suite started; it runs once, from AfterSuite
// or from the signal handler.
func cleanup() []error {
	var errs []error
	cleanupOnce.Do(func() {
		if peerA != nil {
			peerA.stop()
		}
		if peerB != nil {
			peerB.stop()
		}
		stopAllProcs() // frrgen, frr-k8s, reloader, FRR daemons
		if env != nil {
			if err := env.Stop(); err != nil {
				errs = append(errs, err)
			}
			for _, n := range []string{"envtest-kube-apiserver", "envtest-etcd"} {
				forgetPid(n)
			}
		}
		if !ownNetwork {
			return
		}
		errs = append(errs, teardownNetwork()...)
		for _, ns := range []string{nodeName, peerNS} {
			if err := os.RemoveAll(frrRunDir(ns)); err != nil {
				errs = append(errs, err)
			}
		}
		if createdFRRLog {
			_ = os.Remove(frrK8sLogFile)
			_ = os.Remove(frrLogMarker())
		}
		if createdReloaderDir {
			_ = os.Remove(frrK8sReloaderDir) // an empty mount point on the host
			_ = os.Remove(reloaderMountMarker())
		}
	})
	return errs
}

// installSignalHandler makes SIGINT/SIGTERM safe even if Ginkgo's own
// interrupt handling (which runs AfterSuite) does not finish in time.
func installSignalHandler() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		select {
		case <-ch:
		case <-time.After(60 * time.Second):
		}
		fmt.Fprintf(os.Stderr, "e2e: %v and the suite did not finish; stopping everything\n", sig)
		cleanup()
		os.Exit(1)
	}()
}

// startFRRGen starts the frrgen controller; with allocate false (most specs
// set their Services' addresses themselves) its allocator is off.
func startFRRGen(allocate bool) (*proc, error) {
	argv := []string{filepath.Join(binDir, "frrgen"), "controller",
		"--namespace", metallbNS, "--frrk8s-namespace", frrK8sNS, "--kubeconfig", filepath.Join(workDir, "kubeconfig")}
	return startProc("frrgen", nil, append(argv, frrgenExtraFlags(allocate)...)...)
}

// frrgenExtraFlags returns the flags the frrgen controller needs to run beside
// other processes on this machine (no leader election, no fixed port),
// taken from its --help so that the suite follows the flag names it has.
func frrgenExtraFlags(allocate bool) []string {
	out, _ := exec.Command(filepath.Join(binDir, "frrgen"), "controller", "--help").CombinedOutput()
	help := string(out)
	var flags []string
	metrics := "0"
	if port, err := freeLocalPort(); err == nil && strings.Contains(help, "-metrics-secure") {
		frrgenMetricsAddr = fmt.Sprintf("127.0.0.1:%d", port)
		metrics = frrgenMetricsAddr
		flags = append(flags, "--metrics-secure=false")
	}
	for _, f := range []struct{ name, value string }{
		{"leader-elect", "false"},
		// Plain HTTP on a free port of 127.0.0.1, for the specs that read metrics.
		{"metrics-bind-address", metrics},
		{"health-probe-bind-address", "0"},
		{"allocate", strconv.FormatBool(allocate)},
	} {
		if strings.Contains(help, "--"+f.name) || strings.Contains(help, "-"+f.name+" ") {
			flags = append(flags, "--"+f.name+"="+f.value)
		}
	}
	return flags
}

func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
	}
	kc.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "admin"}
	kc.CurrentContext = "e2e"
	return clientcmd.WriteToFile(*kc, path)
}
