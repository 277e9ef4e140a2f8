package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const allocationRounds = 10

var _ = Describe("allocation", Label("frrgen", "allocation", "timing"), func() {
	BeforeEach(func() {
		Expect(frrgenAvailable).To(BeTrue(), "bin/frrgen has no controller subcommand")
		Expect(frrgenProc.Exited()).To(BeFalse(), "the frrgen controller exited; see %s", frrgenProc.logPath)
		// The other specs write their Services' addresses themselves, so the
		// suite runs frrgen with --allocate=false; this one runs it as in
		// standalone mode, and puts the suite's back afterwards.
		restartFRRGen(true)
		DeferCleanup(restartFRRGen, false)
	})

	It("gives a Service without an address the pool's lowest free one, and prints the time from creation to the address and to the route at the peer", func() {
		apply(bgpPeerA)
		apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: allocation
  namespace: metallb-system
spec:
  addresses:
  - 203.0.113.0/28
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: allocation
  namespace: metallb-system
spec:
  ipAddressPools: [allocation]
`)
		// One service first, so that the session is up before measuring.
		createService("svc-alloc-warm", "")
		Eventually(serviceIP("svc-alloc-warm")).Should(Equal("203.0.113.0"))
		Eventually(peerRoutes(peerA)).Should(HaveKey("203.0.113.0/32"))

		// Each Service gets the next address: the ones before it keep theirs.
		var allocated, configured, routed []time.Duration
		for i := range allocationRounds {
			name := fmt.Sprintf("svc-alloc-%d", i)
			want := netip.MustParseAddr(fmt.Sprintf("203.0.113.%d", 1+i))
			start := time.Now()
			createService(name, "")
			Eventually(serviceIP(name)).WithPolling(10 * time.Millisecond).Should(Equal(want.String()))
			allocated = append(allocated, time.Since(start))
			prefix := want.String() + "/32"
			Eventually(frrgenPrefixes).WithPolling(20 * time.Millisecond).Should(ContainElement(prefix))
			configured = append(configured, time.Since(start))
			Eventually(peerRoutes(peerA)).WithPolling(50 * time.Millisecond).Should(HaveKey(prefix))
			routed = append(routed, time.Since(start))
		}
		report := fmt.Sprintf("Service created (no address) → address allocated by frrgen: %s\n"+
			"  → frrgen's FRRConfiguration updated: %s\n"+
			"  → route at the peer: %s\n",
			summary(allocated), summary(configured), summary(routed))
		fmt.Fprint(GinkgoWriter, report)
		AddReportEntry("allocation timing", report)
		_ = os.WriteFile(filepath.Join(workDir, "allocation-timing.txt"), []byte(report), 0o644)
	})
})

// restartFRRGen replaces the suite's frrgen controller by one with
// allocation on or off.
func restartFRRGen(allocate bool) {
	GinkgoHelper()
	frrgenProc.stop()
	var err error
	frrgenProc, err = startFRRGen(allocate)
	Expect(err).NotTo(HaveOccurred())
}

// serviceIP polls the first address in a default-namespace Service's
// status ("" for none).
func serviceIP(name string) func() (string, error) {
	return func() (string, error) {
		svc := &corev1.Service{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: name}, svc); err != nil {
			return "", err
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return "", nil
		}
		return svc.Status.LoadBalancer.Ingress[0].IP, nil
	}
}
