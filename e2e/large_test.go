package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// The large configuration of issue 12: one node announcing many service IPs
// (FRRGEN_E2E_LARGE_IPS, default 2,000; 50,000 takes hours, see README) to
// its IPv4 neighbors, peer A (iBGP) and peer
// B (eBGP), with a localPref and a community on every prefix. frrgen writes
// it as several shards; the spec measures what follows: frr-k8s rendering
// frr.conf, FRR's reload, and the peers receiving the routes; then the cost
// of one more Service at that size, and of withdrawing everything.
//
// The IPs are carried by Services with largeIPsPerService ingress IPs each:
// frrgen announces every ingress IP of a Service, so frr-k8s and FRR get
// the same configuration as from one-IP Services, and the spec spends its
// time on BGP rather than on three API writes per IP. Label `large`: only
// `make e2e-large` runs it, because FRR's reload of such a configuration
// takes far longer than the rest of the suite (see README, Performance).
const (
	largeIPsPerService = 50
	largePool          = "198.18.0.0/16" // RFC 2544 benchmarking range, only inside the suite's namespaces
)

// largeIPCount is the number of service IPs the spec announces.
func largeIPCount() int {
	n, err := strconv.Atoi(envOr("FRRGEN_E2E_LARGE_IPS", "2000"))
	Expect(err).NotTo(HaveOccurred(), "FRRGEN_E2E_LARGE_IPS")
	Expect(n).To(BeNumerically(">=", largeIPsPerService), "FRRGEN_E2E_LARGE_IPS")
	Expect(n).To(BeNumerically("<", 65000), "FRRGEN_E2E_LARGE_IPS: the pool is %s", largePool)
	return n / largeIPsPerService * largeIPsPerService
}

const largeObjects = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: large
  namespace: metallb-system
spec:
  addresses:
  - ` + largePool + `
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: large
  namespace: metallb-system
spec:
  communities:
  - name: large-origin
    value: 64512:50000
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: large
  namespace: metallb-system
spec:
  ipAddressPools: [large]
  localPref: 150
  communities: [large-origin]
`

var _ = Describe("a node with tens of thousands of service IPs", Label("frrgen", "large"), func() {
	BeforeEach(func() {
		Expect(frrgenAvailable).To(BeTrue(), "bin/frrgen has no controller subcommand")
		Expect(frrgenProc.Exited()).To(BeFalse(), "the frrgen controller exited; see %s", frrgenProc.logPath)
	})

	It("is written, rendered, reloaded and announced to every peer, and prints how long each step took", func() {
		apply(bgpPeerA)
		apply(bgpPeerB)
		apply(largeObjects)
		ips := largeIPs(largeIPCount())
		want := len(ips)
		services := want / largeIPsPerService

		var report strings.Builder
		step := func(what string, since time.Time) {
			line := fmt.Sprintf("%-58s %7.1f s\n", what, time.Since(since).Seconds())
			report.WriteString(line)
			fmt.Fprint(GinkgoWriter, line)
		}

		start := time.Now()
		createLargeServices(ips)
		step(fmt.Sprintf("%d Services with %d IPs each created", services, largeIPsPerService), start)

		// FRR's reload time grows faster than linearly with the number of
		// prefix-list entries; the suite's timeout (make e2e-large) bounds it.
		poll := func(f func() int) AsyncAssertion {
			return Eventually(f).WithTimeout(8 * time.Hour).WithPolling(2 * time.Second)
		}
		poll(frrgenPrefixCount).Should(Equal(want), "frrgen's FRRConfigurations do not hold every prefix")
		objects, bytes := frrgenObjects()
		step(fmt.Sprintf("frrgen's FRRConfigurations hold them (%d objects, %.1f MB)", objects, float64(bytes)/1e6), start)

		poll(renderedPrefixCount).Should(BeNumerically(">=", want), "frr-k8s did not render every prefix into frr.conf")
		step("frr-k8s rendered frr.conf", start)

		for _, s := range []struct {
			peer *bgpPeer
			from string
		}{{peerA, nodeIPv4}, {peerB, nodeIPv4}} {
			poll(func() int { return receivedCount(s.peer, s.from) }).Should(BeNumerically(">=", want),
				"peer %s did not receive every prefix from %s", s.peer.addr, s.from)
			step(fmt.Sprintf("peer %s has them from %s", s.peer.addr, s.from), start)
		}
		Eventually(reloaderStatus).WithTimeout(8 * time.Hour).WithPolling(2 * time.Second).Should(Equal("success"))
		step("FRR's reload finished", start)
		routes, err := peerA.routes()
		Expect(err).NotTo(HaveOccurred())
		first := routes[ips[0]+"/32"]
		Expect(first.LocalPref).To(HaveValue(Equal(uint32(150))), "%s", first)
		Expect(first.Communities).To(ContainElement("64512:50000"), "%s", first)

		// One more Service at this size: what every later change costs.
		extra := netip.MustParsePrefix(largePool).Addr().Next()
		for range want {
			extra = extra.Next()
		}
		start = time.Now()
		createService("svc-large-extra", extra.String())
		Eventually(peerRoutes(peerA)).WithTimeout(8 * time.Hour).WithPolling(2 * time.Second).Should(HaveKey(extra.String() + "/32"))
		step("one more Service → its route at peer A", start)

		start = time.Now()
		deleteLargeServices(services)
		poll(func() int { return receivedCount(peerA, nodeIPv4) }).Should(BeNumerically("<=", 1), "peer A still has the large prefixes")
		step("all deleted → withdrawn at peer A", start)

		fmt.Fprint(GinkgoWriter, report.String())
		AddReportEntry("large", report.String())
		_ = os.WriteFile(filepath.Join(workDir, "large.txt"), []byte(report.String()), 0o644)
	})
})

// largeIPs returns the first n addresses of largePool, skipping its network
// address.
func largeIPs(n int) []string {
	out := make([]string, 0, n)
	for a := netip.MustParsePrefix(largePool).Addr().Next(); len(out) < n; a = a.Next() {
		out = append(out, a.String())
	}
	return out
}

func largeServiceName(i int) string { return fmt.Sprintf("svc-large-%04d", i) }

// createLargeServices creates the Services carrying ips, largeIPsPerService
// each, with a ready endpoint on the node, from a few goroutines.
func createLargeServices(ips []string) {
	GinkgoHelper()
	forEachLargeService(len(ips)/largeIPsPerService, func(ctx context.Context, i int) error {
		name := largeServiceName(i)
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.ServiceSpec{
				Type:                  corev1.ServiceTypeLoadBalancer,
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
				Ports:                 []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
			},
		}
		if err := k8s.Create(ctx, svc); err != nil {
			return err
		}
		eps := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{
				Addresses:  []string{"10.244.0.10"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true)},
				NodeName:   ptr.To(nodeName),
			}},
		}
		if err := k8s.Create(ctx, eps); err != nil {
			return err
		}
		// A merge patch carries no resourceVersion: frrgen may already be
		// writing the Service's frrgen.io/Announced condition.
		base := svc.DeepCopy()
		for _, ip := range ips[i*largeIPsPerService : (i+1)*largeIPsPerService] {
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return k8s.Status().Patch(ctx, svc, client.MergeFrom(base))
	})
}

// deleteLargeServices deletes the Services and their EndpointSlices; the
// spec's cleanup then finds nothing of them left to wait for.
func deleteLargeServices(services int) {
	GinkgoHelper()
	forEachLargeService(services, func(ctx context.Context, i int) error {
		name := largeServiceName(i)
		for _, obj := range []client.Object{
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}},
			&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: "default"}},
		} {
			if err := k8s.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
		return nil
	})
}

// forEachLargeService runs f for the first n large Service indexes from 8
// workers.
func forEachLargeService(n int, f func(ctx context.Context, i int) error) {
	GinkgoHelper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(context.Background(), i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %w", largeServiceName(i), err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	Expect(first).NotTo(HaveOccurred())
}

// frrgenObjects counts frrgen's FRRConfigurations and their bytes of JSON.
func frrgenObjects() (objects, bytes int) {
	list := &frrv1beta1.FRRConfigurationList{}
	Expect(k8s.List(context.Background(), list, client.InNamespace(frrK8sNS))).To(Succeed())
	for i := range list.Items {
		b, err := json.Marshal(&list.Items[i])
		Expect(err).NotTo(HaveOccurred())
		objects++
		bytes += len(b)
	}
	return objects, bytes
}

// frrgenPrefixCount is the number of distinct prefixes in the routers of
// the FRRConfigurations in frr-k8s's namespace (only frrgen's exist here).
func frrgenPrefixCount() int {
	list := &frrv1beta1.FRRConfigurationList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(frrK8sNS)); err != nil {
		return -1
	}
	seen := map[string]bool{}
	for _, c := range list.Items {
		for _, r := range c.Spec.BGP.Routers {
			for _, p := range r.Prefixes {
				seen[p] = true
			}
		}
	}
	return len(seen)
}

// renderedPrefixCount is the number of distinct /32 prefixes of largePool
// in the frr.conf frr-k8s last wrote.
func renderedPrefixCount() int {
	conf, err := renderedConfig()
	if err != nil {
		return -1
	}
	pool := netip.MustParsePrefix(largePool)
	seen := map[string]bool{}
	for _, f := range strings.Fields(conf) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Bits() == 32 && pool.Contains(p.Addr()) {
			seen[f] = true
		}
	}
	return len(seen)
}

// receivedCount is the number of routes a peer holds from the node's
// address from, or -1 while the session is down.
func receivedCount(p *bgpPeer, from string) int {
	routes, err := p.routesFrom(from)
	if err != nil {
		return -1
	}
	return len(routes)
}
