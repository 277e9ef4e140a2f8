package controllers_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/controllers"
)

// Specs of the allocation controller (standalone mode): the world's manager
// runs it, and its Services carry no address of their own.
var _ = Describe("Allocation", func() {
	startAllocating := func(w *world) {
		w.mgr = startManager(w.options, 0, 0, true)
		DeferCleanup(func() { w.mgr.stop() })
	}
	addPool := func(w *world, name string, addresses ...metallbv1beta1.IPAddressRange) {
		Expect(k8s.Create(context.Background(), &metallbv1beta1.IPAddressPool{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.in, Name: name},
			Spec:       metallbv1beta1.IPAddressPoolSpec{Addresses: addresses},
		})).To(Succeed())
	}
	newService := func(w *world, name string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.in, Name: name},
			Spec: corev1.ServiceSpec{
				Type:              corev1.ServiceTypeLoadBalancer,
				LoadBalancerClass: ptr.To(w.options.LoadBalancerClass),
				Ports:             []corev1.ServicePort{{Port: 80}},
			},
		}
	}
	// ingress returns the status addresses of every Service of the world.
	ingress := func(w *world) func() map[string][]string {
		return func() map[string][]string {
			var list corev1.ServiceList
			Expect(k8s.List(context.Background(), &list, client.InNamespace(w.in))).To(Succeed())
			out := map[string][]string{}
			for _, s := range list.Items {
				for _, ing := range s.Status.LoadBalancer.Ingress {
					out[s.Name] = append(out[s.Name], ing.IP)
				}
			}
			return out
		}
	}
	writesOf := func(w *world, what string) int {
		n := 0
		for _, part := range strings.Split(w.mgr.writes.String(), ", ") {
			var count int
			if _, err := fmt.Sscanf(part, what+": %d", &count); err == nil {
				n += count
			}
		}
		return n
	}
	serviceWrites := func(w *world) int { return writesOf(w, "status-update *v1.Service") }
	// counters reads a pool's status counts (-1 for an absent one).
	counters := func(w *world, name string) func() [4]int64 {
		return func() [4]int64 {
			var p metallbv1beta1.IPAddressPool
			Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: w.in, Name: name}, &p)).To(Succeed())
			out := [4]int64{-1, -1, -1, -1}
			for i, v := range []*int64{p.Status.AssignedIPv4, p.Status.AvailableIPv4, p.Status.AssignedIPv6, p.Status.AvailableIPv6} {
				if v != nil {
					out[i] = *v
				}
			}
			return out
		}
	}

	It("gives 200 Services created at once 200 distinct addresses of the pool, and keeps them across a restart", func() {
		w := newWorld()
		addPool(w, "first-pool", "198.51.100.0/24")
		startAllocating(w)

		const n = 200
		start := time.Now()
		var wg sync.WaitGroup
		names := make(chan string, n)
		for i := range n {
			names <- fmt.Sprintf("svc-%03d", i)
		}
		close(names)
		for range 20 {
			wg.Go(func() {
				defer GinkgoRecover()
				for name := range names {
					Expect(k8s.Create(context.Background(), newService(w, name))).To(Succeed())
				}
			})
		}
		wg.Wait()
		Eventually(func() int { return len(ingress(w)()) }, 2*time.Minute).Should(Equal(n))
		elapsed := time.Since(start)

		got := ingress(w)()
		seen := map[string]string{}
		pool := netip.MustParsePrefix("198.51.100.0/24")
		for name, ips := range got {
			Expect(ips).To(HaveLen(1), name)
			Expect(pool.Contains(netip.MustParseAddr(ips[0]))).To(BeTrue(), "%s got %s", name, ips[0])
			Expect(seen).NotTo(HaveKey(ips[0]), "%s and %s both got %s", name, seen[ips[0]], ips[0])
			seen[ips[0]] = name
		}
		writes := serviceWrites(w)
		fmt.Fprintf(GinkgoWriter, "200 Services: all allocated %v after the first create; %d status writes (%s)\n", elapsed.Round(time.Millisecond), writes, w.mgr.writes)
		Expect(writes).To(BeNumerically("<=", 2*n), "status writes: conflicts are retried, but not one write per event")
		Eventually(eventsFor(w.in, "Service", "svc-000", controllers.ReasonIPAllocated)).Should(ContainElement(ContainSubstring("from IPAddressPool first-pool")))
		// Assigned and available IPv4 and IPv6, as MetalLB's pools show,
		// written at most once a second however many Services change.
		Eventually(counters(w, "first-pool")).Should(Equal([4]int64{200, 56, 0, 0}))
		poolWrites := writesOf(w, "status-patch *v1beta1.IPAddressPool")
		fmt.Fprintf(GinkgoWriter, "pool status patches (Valid condition and counters): %d\n", poolWrites)
		Expect(poolWrites).To(BeNumerically("<=", 2+int(elapsed/time.Second)+2))

		w.mgr.stop()
		w.mgr = startManager(w.options, 0, 0, true)
		Consistently(ingress(w)).Should(Equal(got))
		Expect(serviceWrites(w)).To(BeZero(), "a restart rewrites no status: %s", w.mgr.writes)
	})

	It("says why a Service gets no address, and gives it the one a deleted Service frees", func() {
		w := newWorld()
		addPool(w, "tiny", "192.0.2.7/32")
		startAllocating(w)
		ctx := context.Background()
		first := newService(w, "first")
		Expect(k8s.Create(ctx, first)).To(Succeed())
		Eventually(ingress(w)).Should(Equal(map[string][]string{"first": {"192.0.2.7"}}))

		Expect(k8s.Create(ctx, newService(w, "second"))).To(Succeed())
		Eventually(eventsFor(w.in, "Service", "second", controllers.ReasonAllocationFailed)).Should(ContainElement(ContainSubstring("PoolExhausted")))
		wanted := newService(w, "wanted")
		wanted.Spec.LoadBalancerIP = "203.0.113.9"
		Expect(k8s.Create(ctx, wanted)).To(Succeed())
		Eventually(eventsFor(w.in, "Service", "wanted", controllers.ReasonAllocationFailed)).Should(ContainElement(ContainSubstring("RequestedIPNotInPool")))

		Eventually(counters(w, "tiny")).Should(Equal([4]int64{1, 0, 0, 0}))
		Expect(k8s.Delete(ctx, first)).To(Succeed())
		Eventually(ingress(w)).Should(Equal(map[string][]string{"second": {"192.0.2.7"}}))
		Eventually(eventsFor(w.in, "Service", "second", controllers.ReasonIPAllocated)).ShouldNot(BeEmpty())
	})
})
