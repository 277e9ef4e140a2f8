package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

const timingRounds = 10

var _ = Describe("timing", Label("frrgen", "timing"), func() {
	BeforeEach(func() {
		Expect(frrgenAvailable).To(BeTrue(), "bin/frrgen has no controller subcommand")
		Expect(frrgenProc.Exited()).To(BeFalse(), "the frrgen controller exited; see %s", frrgenProc.logPath)
	})

	It("prints the time from creating a Service to the route at the peer, and from deleting it to the withdrawal", func() {
		apply(bgpPeerA)
		apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: timing
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.128/26
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: timing
  namespace: metallb-system
spec:
  ipAddressPools: [timing]
`)
		// One service first so that the session is up before measuring.
		createService("svc-timing-warm", "198.51.100.129")
		Eventually(peerRoutes(peerA)).Should(HaveKey("198.51.100.129/32"))

		// Where the time goes: frrgen writing the FRRConfiguration, then
		// frr-k8s (3 s debounce), the reloader, bgpd and the BGP UPDATE.
		var up, upFRRGen, down, downFRRGen []time.Duration
		for i := range timingRounds {
			name := fmt.Sprintf("svc-timing-%d", i)
			prefix := fmt.Sprintf("198.51.100.%d/32", 140+i)
			start := time.Now()
			createService(name, prefix[:len(prefix)-3])
			Eventually(frrgenPrefixes).WithPolling(20 * time.Millisecond).Should(ContainElement(prefix))
			upFRRGen = append(upFRRGen, time.Since(start))
			Eventually(peerRoutes(peerA)).WithPolling(50 * time.Millisecond).Should(HaveKey(prefix))
			up = append(up, time.Since(start))

			start = time.Now()
			Expect(k8s.Delete(context.Background(), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}})).To(Succeed())
			Eventually(frrgenPrefixes).WithPolling(20 * time.Millisecond).ShouldNot(ContainElement(prefix))
			downFRRGen = append(downFRRGen, time.Since(start))
			Eventually(peerRoutes(peerA)).WithPolling(50 * time.Millisecond).ShouldNot(HaveKey(prefix))
			down = append(down, time.Since(start))
		}
		report := fmt.Sprintf("Service created → route at the peer: %s\n"+
			"  of which → frrgen's FRRConfiguration updated: %s\n"+
			"Service deleted → withdrawal at the peer: %s\n"+
			"  of which → frrgen's FRRConfiguration updated: %s\n",
			summary(up), summary(upFRRGen), summary(down), summary(downFRRGen))
		fmt.Fprint(GinkgoWriter, report)
		AddReportEntry("timing", report)
		_ = os.WriteFile(filepath.Join(workDir, "timing.txt"), []byte(report), 0o644)
	})
})

// summary formats the median, minimum and maximum of durations.
func summary(ds []time.Duration) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return fmt.Sprintf("median %.2fs (min %.2fs, max %.2fs, n=%d)", median.Seconds(), s[0].Seconds(), s[n-1].Seconds(), n)
}

// frrgenPrefixes lists the prefixes of the router in frrgen's FRRConfiguration
// for the node.
func frrgenPrefixes() ([]string, error) {
	cfg := &frrv1beta1.FRRConfiguration{}
	if err := k8s.Get(context.Background(), frrgenConfigKey(), cfg); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range cfg.Spec.BGP.Routers {
		out = append(out, r.Prefixes...)
	}
	return out, nil
}
