package controllers_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

const lifecycleInput = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.0/24
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: all
  namespace: metallb-system
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: fast
  namespace: metallb-system
spec:
  receiveInterval: 100
  transmitInterval: 100
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: tor
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 172.30.0.3
  bfdProfile: fast
`

// webAnnouncedFromTwoNodes starts a world of nodes a and b with
// lifecycleInput and Service web (198.51.100.10, its endpoint on a), and
// waits until both nodes announce what announced says.
func webAnnouncedFromTwoNodes(announced map[string][]string) *world {
	GinkgoHelper()
	w := newWorld()
	w.addNode("a", nil)
	w.addNode("b", nil)
	w.apply(lifecycleInput)
	w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
	w.start()
	Eventually(w.neighbors("a")).Should(Equal(announced))
	Eventually(w.neighbors("b")).Should(Equal(announced))
	return w
}

var _ = Describe("Lifecycle", func() {
	var w *world
	ctx := context.Background()
	announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
	withdrawn := map[string][]string{"172.30.0.3": nil}

	BeforeEach(func() { w = webAnnouncedFromTwoNodes(announced) })

	It("gives a node added later its configuration", func() {
		w.addNode("c", nil)
		Eventually(w.neighbors("c")).Should(Equal(announced))
	})

	It("removes the configuration of a node relabelled out of the speaker selector, and restores it when relabelled back", func() {
		node := &corev1.Node{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: w.nodeName("b")}, node)).To(Succeed())
		delete(node.Labels, worldLabel)
		Expect(k8s.Update(ctx, node)).To(Succeed())
		Eventually(w.config).WithArguments("b").Should(BeNil())
		Expect(w.config("a")).NotTo(BeNil())

		node.Labels[worldLabel] = w.id
		Expect(k8s.Update(ctx, node)).To(Succeed())
		Eventually(w.neighbors("b")).Should(Equal(announced))
	})

	It("withdraws the services from a node labelled exclude-from-external-load-balancers, keeping its session", func() {
		node := &corev1.Node{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: w.nodeName("b")}, node)).To(Succeed())
		node.Labels[corev1.LabelNodeExcludeBalancers] = ""
		Expect(k8s.Update(ctx, node)).To(Succeed())
		Eventually(w.neighbors("b")).Should(Equal(withdrawn))
		Consistently(w.neighbors("a")).Should(Equal(announced))
	})

	It("removes the configuration of a deleted node", func() {
		Expect(k8s.Delete(ctx, &corev1.Node{ObjectMeta: metavOf(w.nodeName("b"))})).To(Succeed())
		Eventually(w.config).WithArguments("b").Should(BeNil())
		Expect(w.neighbors("a")()).To(Equal(announced))
	})

	It("removes the configuration of a node deleted while the input is invalid: no invalid object can hold a node that is gone", func() {
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](16) })
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(1))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("b")}).Should(BeEquivalentTo(1))

		Expect(k8s.Delete(ctx, &corev1.Node{ObjectMeta: metavOf(w.nodeName("b"))})).To(Succeed())
		Eventually(w.config).WithArguments("b").Should(BeNil())
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("b")}).Should(BeEquivalentTo(-1))
		Expect(metricValue("frrgen_config_stale", map[string]string{"node": w.nodeName("a")})).To(BeEquivalentTo(1))

		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](32) })
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(0))
	})

	It("never reports a node without a configuration of ours as stale, so a deleted one leaves no series behind", func() {
		other := &corev1.Node{ObjectMeta: metavOf(w.nodeName("x"))} // not a speaker of this world
		Expect(k8s.Create(ctx, other)).To(Succeed())
		DeferCleanup(func() { _ = client.IgnoreNotFound(k8s.Delete(ctx, other)) })
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](16) })
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(1))

		Expect(k8s.Delete(ctx, other)).To(Succeed())
		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](32) })
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(0))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("x")}).Should(BeEquivalentTo(-1))
	})

	It("removes a deleted peer's neighbor from every node", func() {
		Expect(k8s.Delete(ctx, &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")})).To(Succeed())
		Eventually(w.neighbors("a")).Should(BeEmpty())
		Eventually(w.neighbors("b")).Should(BeEmpty())
	})

	It("withdraws the prefixes of a deleted advertisement", func() {
		Expect(k8s.Delete(ctx, &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")})).To(Succeed())
		Eventually(w.neighbors("a")).Should(Equal(withdrawn))
		Eventually(w.neighbors("b")).Should(Equal(withdrawn))
	})

	It("drops the last BFD profile once no peer uses it and it is deleted", func() {
		Expect(w.config("a").Spec.BGP.BFDProfiles).To(HaveLen(1))
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		edit(peer, func() { peer.Spec.BFDProfile = "" })
		Expect(k8s.Delete(ctx, &metallbv1beta1.BFDProfile{ObjectMeta: metavIn(w.in, "fast")})).To(Succeed())
		for _, node := range []string{"a", "b"} {
			Eventually(func() int { return len(w.config(node).Spec.BGP.BFDProfiles) }).Should(BeZero())
			Expect(w.config(node).Spec.BGP.Routers[0].Neighbors[0].BFDProfile).To(BeEmpty())
		}
	})

	It("withdraws a deleted service", func() {
		Expect(k8s.Delete(ctx, &corev1.Service{ObjectMeta: metavIn(w.in, "web")})).To(Succeed())
		Eventually(w.neighbors("a")).Should(Equal(withdrawn))
		Eventually(w.neighbors("b")).Should(Equal(withdrawn))
	})

	It("moves an externalTrafficPolicy Local announcement with its endpoint", func() {
		w.addService("local", "198.51.100.20", corev1.ServiceExternalTrafficPolicyLocal, "a")
		both := map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.20/32"}}
		Eventually(w.neighbors("a")).Should(Equal(both))
		Eventually(w.neighbors("b")).Should(Equal(announced))

		w.setEndpoints("local", "b")
		Eventually(w.neighbors("b")).Should(Equal(both))
		Eventually(w.neighbors("a")).Should(Equal(announced))

		slice := &discoveryv1.EndpointSlice{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "local"}, slice)).To(Succeed())
		Expect(slice.Endpoints).To(HaveLen(1))
	})
})

var _ = Describe("Drift", func() {
	It("reverts a manual edit of its FRRConfiguration and recreates it when deleted", func() {
		ctx := context.Background()
		w := newWorld()
		w.addNode("a", nil)
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
		Eventually(w.neighbors("a")).Should(Equal(announced))

		edited := w.config("a")
		edit(edited, func() { edited.Spec.BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Prefixes = nil })
		Eventually(w.neighbors("a")).Should(Equal(announced))

		Expect(k8s.Delete(ctx, w.config("a"))).To(Succeed())
		Eventually(w.neighbors("a")).Should(Equal(announced))
	})
})
