package controllers_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// The examples of the seed page (MetalLB's "Advanced BGP configuration"),
// applied unchanged except for the node names the selectors mention, with a
// LoadBalancer Service and its EndpointSlice.
var _ = Describe("Seed examples", func() {
	It("announces a /32 with localPref and community plus the covering /24 (advertisement configuration)", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(samples("metallb.io_v1beta1_ipaddresspool_first-pool.yaml", "metallb.io_v1beta1_bgpadvertisement_local.yaml", "metallb.io_v1beta1_bgpadvertisement_external.yaml", "metallb.io_v1beta2_bgppeer_peer.yaml"))
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()

		for _, node := range []string{"a", "b"} {
			Eventually(w.viewOf, timeout).WithArguments(node).Should(Equal(&view{
				Neighbors:   map[string][]string{"172.30.0.3": {"198.51.100.0/24", "198.51.100.10/32"}},
				LocalPref:   map[string]uint32{"172.30.0.3 198.51.100.10/32": 100},
				Communities: map[string][]string{"172.30.0.3 198.51.100.10/32": {"65535:65282"}},
			}), "node %s", node)
		}
	})

	It("peers only from the nodes a BGPPeer's nodeSelectors pick (limiting peers to certain nodes)", func() {
		w := newWorld()
		w.addNode("frontend", map[string]string{"rack": "frontend"})
		w.addNode("slow", map[string]string{"rack": "frontend", "network-speed": "slow"})
		w.addNode("hosta", nil)
		w.addNode("other", nil)
		w.apply(fmt.Sprintf(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: example
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  peerPort: 180
  nodeSelectors:
  - matchLabels:
      rack: frontend
    matchExpressions:
    - key: network-speed
      operator: NotIn
      values: [slow]
  - matchExpressions:
    - key: kubernetes.io/hostname
      operator: In
      values: [%s, %s]
`, w.nodeName("hosta"), w.nodeName("hostb")))
		w.start()

		peered := map[string][]string{"172.30.0.3": nil}
		Eventually(w.neighbors("frontend")).Should(Equal(peered))
		Eventually(w.neighbors("hosta")).Should(Equal(peered))
		// Speakers that no peer selects still get a (neighbor-less) configuration.
		Eventually(w.neighbors("slow")).Should(BeEmpty())
		Eventually(w.config).WithArguments("slow").ShouldNot(BeNil())
		Eventually(w.neighbors("other")).Should(BeEmpty())
		Expect(w.config("frontend").Spec.BGP.Routers[0].Neighbors[0].Port).To(HaveValue(BeEquivalentTo(180)))
	})

	It("announces a pool only from the nodes an advertisement selects (announcing the Service from a subset of nodes)", func() {
		w := newWorld()
		w.addNode("nodea", nil)
		w.addNode("nodeb", nil)
		w.addNode("nodec", nil)
		w.apply(fmt.Sprintf(samples("metallb.io_v1beta1_ipaddresspool_first-pool.yaml")+"---\n"+`
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: example
  namespace: metallb-system
spec:
  ipAddressPools:
  - first-pool
  nodeSelectors:
  - matchLabels:
      kubernetes.io/hostname: %s
  - matchLabels:
      kubernetes.io/hostname: %s
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: example
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
`, w.nodeName("nodea"), w.nodeName("nodeb")))
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "nodec")
		w.start()

		Eventually(w.neighbors("nodea")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}))
		Eventually(w.neighbors("nodeb")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}))
		Eventually(w.neighbors("nodec")).Should(Equal(map[string][]string{"172.30.0.3": nil}))
	})

	It("announces each pool only to the peers its advertisement names (announcing the Service to a subset of peers)", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool-a
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.0/24
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool-b
  namespace: metallb-system
spec:
  addresses:
  - 198.51.200.0/24
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: example
  namespace: metallb-system
spec:
  ipAddressPools:
  - pool-a
  peers:
  - peer-a
  - peer-b
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: example-b
  namespace: metallb-system
spec:
  ipAddressPools:
  - pool-b
  peers:
  - peer-b
  - peer-c
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-a
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.1
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-b
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.2
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-c
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
`)
		w.addService("svc-a", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.addService("svc-b", "198.51.200.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()

		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{
			"172.30.0.1": {"198.51.100.10/32"},
			"172.30.0.2": {"198.51.100.10/32", "198.51.200.10/32"},
			"172.30.0.3": {"198.51.200.10/32"},
		}))
	})

	It("sets the neighbor's source address (configuring the BGP source address)", func() {
		w := newWorld()
		w.addNode("node-1", nil)
		w.addNode("node-2", nil)
		w.apply(fmt.Sprintf(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: example
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  peerPort: 179
  sourceAddress: 172.30.0.2
  nodeSelectors:
  - matchLabels:
      kubernetes.io/hostname: %s
`, w.nodeName("node-1")))
		w.start()

		Eventually(w.config).WithArguments("node-1").ShouldNot(BeNil())
		neighbors := w.config("node-1").Spec.BGP.Routers[0].Neighbors
		Expect(neighbors).To(HaveLen(1))
		Expect(neighbors[0].SourceAddress).To(Equal("172.30.0.2"))
		Eventually(w.neighbors("node-2")).Should(BeEmpty())
	})

	It("resolves community aliases (community aliases)", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.apply(samples("metallb.io_v1beta1_ipaddresspool_first-pool.yaml", "metallb.io_v1beta1_community_communities.yaml", "metallb.io_v1beta1_bgpadvertisement_local-community-alias.yaml", "metallb.io_v1beta2_bgppeer_peer.yaml"))
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()

		Eventually(w.viewOf).WithArguments("a").Should(Equal(&view{
			Neighbors:   map[string][]string{"172.30.0.3": {"198.51.100.10/32"}},
			LocalPref:   map[string]uint32{"172.30.0.3 198.51.100.10/32": 100},
			Communities: map[string][]string{"172.30.0.3 198.51.100.10/32": {"1234:1"}},
		}))
	})

	It("puts a VRF peer under a router in that VRF (peering and announcing via a VRF)", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.apply(samples("metallb.io_v1beta2_bgppeer_example-vrf.yaml"))
		w.start()

		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{"172.30.0.3@red": nil}))
		router := w.config("a").Spec.BGP.Routers[0]
		Expect(router.VRF).To(Equal("red"))
		Expect(router.ASN).To(BeEquivalentTo(64512))
	})

	It("coexists with a user FRRConfiguration receiving routes from our peer (configuring with FRR-K8s)", func() {
		w := newWorld()
		w.addNode("a", nil)
		// The page puts with-recv in metallb-system because MetalLB's bundled
		// frr-k8s runs there; with frrgen it goes to frr-k8s's namespace.
		w.apply(samples("metallb.io_v1beta2_bgppeer_peer.yaml") + "---\n" + `
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: with-recv
  namespace: frr-k8s-system
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64512
        toReceive:
          allowed:
            mode: all
`)
		w.start()

		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{"172.30.0.3": nil}))
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "peer")}
		Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionConflict)).
			Should(HaveField("Status", metav1.ConditionFalse))
		Expect(eventsFor(w.out, "FRRConfiguration", "with-recv", "Conflict")()).To(BeEmpty())
	})

	It("enables graceful restart on the neighbor (graceful restart)", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.apply(samples("metallb.io_v1beta2_bgppeer_example-graceful-restart.yaml"))
		w.start()

		Eventually(w.config).WithArguments("a").ShouldNot(BeNil())
		Expect(w.config("a").Spec.BGP.Routers[0].Neighbors).To(ConsistOf(And(
			HaveField("Address", "172.30.0.3"),
			HaveField("EnableGracefulRestart", true),
		)))
	})
})
