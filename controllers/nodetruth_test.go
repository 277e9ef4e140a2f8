package controllers_test

import (
	"context"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// sessionState writes a BGPSessionState as frr-k8s's status exporter does
// (frr-tools/status: labels and status naming node, peer and VRF; the
// status through its subresource), and returns a function that sets its
// BGP state. The e2e suite has the real exporter.
func sessionState(namespace, node, peer, bgpStatus string) func(string) {
	ctx := context.Background()
	s := &frrv1beta1.BGPSessionState{ObjectMeta: metav1.ObjectMeta{
		Namespace: namespace, GenerateName: node + "-",
		Labels: map[string]string{"frrk8s.metallb.io/node": node, "frrk8s.metallb.io/peer": peer, "frrk8s.metallb.io/vrf": ""},
	}}
	Expect(k8s.Create(ctx, s)).To(Succeed())
	set := func(state string) {
		s.Status = frrv1beta1.BGPSessionStateStatus{Node: node, Peer: peer, BGPStatus: state, BFDStatus: "N/A"}
		Expect(k8s.Status().Update(ctx, s)).To(Succeed())
	}
	set(bgpStatus)
	return set
}

var _ = Describe("What the nodes report", func() {
	var w *world
	peer := &metallbv1beta2.BGPPeer{}

	BeforeEach(func() {
		w = newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(conflictInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		peer.ObjectMeta = metavIn(w.in, "peer")
	})
	sessions := func() *metav1.Condition {
		return conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionSessionsEstablished)()
	}

	It("counts the established sessions of a peer, names the nodes where one is down, and warns when one goes down", func() {
		setA := sessionState(w.out, w.nodeName("a"), "172.30.0.3", "Established")
		setB := sessionState(w.out, w.nodeName("b"), "172.30.0.3", "Active")
		// Another peer's session on node a is not this peer's.
		sessionState(w.out, w.nodeName("a"), "172.30.0.99", "Established")
		w.start()

		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonSessionsDown),
			HaveField("Message", Equal("1 of 2 session(s) established. Not established on "+w.nodeName("b")+": Active.")),
		))
		Expect(peer.Status.EstablishedSessions).To(BeEquivalentTo(1))
		Eventually(printerTable("metallb.io", "v1beta2", "bgppeers", w.in)).Should(
			HaveKeyWithValue("peer", And(HaveKeyWithValue("Nodes", BeEquivalentTo(2)), HaveKeyWithValue("Established", BeEquivalentTo(1)))))
		Eventually(metricValue).WithArguments("frrgen_bgp_sessions", map[string]string{"peer": "peer", "state": "established"}).Should(BeEquivalentTo(1))
		Expect(metricValue("frrgen_bgp_sessions", map[string]string{"peer": "peer", "state": "down"})).To(BeEquivalentTo(1))
		// b was never seen established: no Event for it.
		Expect(eventsFor(w.in, "BGPPeer", "peer", metallbv1beta1.ReasonSessionDown)()).To(BeEmpty())

		setB("Established")
		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Reason", metallbv1beta1.ReasonSessionsEstablished),
			HaveField("Message", "2 of 2 session(s) established."),
		))
		Expect(peer.Status.EstablishedSessions).To(BeEquivalentTo(2))

		setA("Idle")
		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring(w.nodeName("a")+": Idle")),
		))
		Eventually(eventsFor(w.in, "BGPPeer", "peer", metallbv1beta1.ReasonSessionDown)).Should(ConsistOf(
			"The session on node " + w.nodeName("a") + " is no longer established: Idle"))
		Eventually(metricValue).WithArguments("frrgen_bgp_sessions", map[string]string{"peer": "peer", "state": "down"}).Should(BeEquivalentTo(1))

		// No write storm: an unchanged report patches nothing.
		writes := w.mgr.writes.Total()
		Consistently(w.mgr.writes.Total).Should(Equal(writes))
	})

	It("says Unknown, not down, while the nodes report no session at all", func() {
		w.start()
		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionUnknown),
			HaveField("Reason", metallbv1beta1.ReasonSessionsNotReported),
		))
		Expect(peer.Status.EstablishedSessions).To(BeEquivalentTo(0))
		// A node that reports other sessions but not this one lacks it.
		sessionState(w.out, w.nodeName("a"), "172.30.0.99", "Established")
		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring(w.nodeName("a")+": no such session in FRR")),
		))
	})
})
