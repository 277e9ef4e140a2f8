package controllers_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/translate"
)

// What `frrgen explain --kubeconfig` reads: the controller's snapshot and
// frrgen's stored FRRConfigurations, from the apiserver.
var _ = Describe("frrgen explain, live", func() {
	It("explains a hold from the cluster: the held node's verdict names the invalid object and shows what its stored configuration sends", func() {
		ctx := context.Background()
		w := newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		Eventually(w.neighbors("b")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}))

		w.apply(`apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: bad
  namespace: metallb-system
spec:
  communities: [no-such-alias]
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: ` + w.nodeName("b") + `}
`)
		bad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "bad")}
		Eventually(conditionOf(bad, func() []metav1.Condition { return bad.Status.Conditions }, metallbv1beta1.ConditionValid)).
			Should(HaveField("Status", metav1.ConditionFalse))
		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"}}))

		snapshot, err := controllers.ReadSnapshot(ctx, k8s, w.options)
		Expect(err).NotTo(HaveOccurred())
		stored, err := controllers.ReadStoredConfigs(ctx, k8s, w.options)
		Expect(err).NotTo(HaveOccurred())
		Expect(stored).To(HaveLen(2))

		badRef := translate.ObjectRef{Kind: translate.KindBGPAdvertisement, Namespace: w.in, Name: "bad"}
		late, err := translate.ExplainService(snapshot, w.options, types.NamespacedName{Namespace: w.in, Name: "late"}, translate.Written{Stored: stored})
		Expect(err).NotTo(HaveOccurred())
		Expect(late.Pool).To(Equal("pool"))
		Expect(late.Nodes).To(ConsistOf(
			And(HaveField("Node", w.nodeName("a")), HaveField("Announced", true),
				HaveField("Sent", ConsistOf(translate.PeerPrefixes{Peer: "tor", Prefixes: []string{"198.51.100.11/32"}}))),
			And(HaveField("Node", w.nodeName("b")), HaveField("HeldBy", ConsistOf(badRef)), HaveField("FromStored", true),
				HaveField("Sent", ConsistOf(translate.PeerPrefixes{Peer: "tor"}))),
		))

		peer, err := translate.ExplainPeer(snapshot, w.options, "tor", translate.Written{Stored: stored})
		Expect(err).NotTo(HaveOccurred())
		Expect(peer.Nodes).To(ConsistOf(
			translate.PeerNode{Node: w.nodeName("a"), Prefixes: []string{"198.51.100.10/32", "198.51.100.11/32"}},
			translate.PeerNode{Node: w.nodeName("b"), HeldBy: []translate.ObjectRef{badRef}, Prefixes: []string{"198.51.100.10/32"}, FromStored: true},
		))
	})
})
