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

// A second peer for node c only, naming a BFD profile that does not exist:
// admission cannot see that, translate can.
const rackCPeer = `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: rack-c
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64514
  peerAddress: 172.30.0.4
  bfdProfile: rack-c-bfd
  nodeSelectors:
  - matchLabels:
      rack: c
`

var _ = Describe("Blast radius of invalid input", func() {
	var w *world
	announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
	withLate := map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"}}

	BeforeEach(func() {
		w = newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.addNode("c", map[string]string{"rack": "c"})
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		for _, n := range []string{"a", "b", "c"} {
			Eventually(w.neighbors(n)).Should(Equal(announced))
		}
	})

	It("holds only the node an invalid peer selects; the other two keep converging, and the held one follows once fixed", func() {
		before := w.config("c")
		w.apply(rackCPeer)
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "rack-c")}
		valid := conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionValid)
		heldText := fmt.Sprintf("1 node(s) keep their last good configuration until it is fixed: %s.", w.nodeName("c"))
		Eventually(valid).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring(`spec.bfdProfile: there is no BFDProfile "rack-c-bfd"`)),
			HaveField("Message", ContainSubstring(heldText)),
		))
		Eventually(eventsFor(w.in, "BGPPeer", "rack-c", metallbv1beta1.ReasonInvalid)).Should(ContainElement(ContainSubstring(heldText)))

		// A new service reaches a and b, not the held c.
		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(w.neighbors("a")).Should(Equal(withLate))
		Eventually(w.neighbors("b")).Should(Equal(withLate))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("c")}).Should(BeEquivalentTo(1))
		Expect(metricValue("frrgen_config_stale", map[string]string{"node": w.nodeName("a")})).To(BeEquivalentTo(0))
		Consistently(func() string { return w.config("c").ResourceVersion }).Should(Equal(before.ResourceVersion))

		w.apply(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: rack-c-bfd
  namespace: metallb-system
`)
		Eventually(valid).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(w.neighbors("c")).Should(Equal(map[string][]string{
			"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"},
			"172.30.0.4": {"198.51.100.10/32", "198.51.100.11/32"},
		}))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("c")}).Should(BeEquivalentTo(0))
	})

	It("holds no node for an invalid object that selects none, and says so", func() {
		w.apply(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: rack-not-built
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64514
  peerAddress: 172.30.0.9
  bfdProfile: missing
  nodeSelectors:
  - matchLabels:
      rack: not-built-yet
`)
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "rack-not-built")}
		Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionValid)).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring("It could change no node's configuration, so no node is held.")),
		))
		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
		for _, n := range []string{"a", "b", "c"} {
			Eventually(w.neighbors(n)).Should(Equal(withLate))
			Expect(metricValue("frrgen_config_stale", map[string]string{"node": w.nodeName(n)})).To(BeEquivalentTo(0))
		}
	})
})
