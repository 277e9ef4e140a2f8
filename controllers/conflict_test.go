package controllers_test

import (
	"context"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

const conflictInput = `
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
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  holdTime: 90s
`

// userConfig is a user's FRRConfiguration for the node that receives every
// route from our neighbor. neighborFields are extra YAML lines of the
// neighbor (indented by 8), bgpFields extra lines under bgp (indented by 4).
func userConfig(w *world, node, neighborFields, bgpFields string) string {
	return `
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: receive-all
  namespace: frr-k8s-system
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/hostname: ` + w.nodeName(node) + `
  bgp:
` + bgpFields + `
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        toReceive:
          allowed:
            mode: all
` + neighborFields
}

// repeatsOurSession are the neighbor fields that match the session frrgen
// generates for the peer of conflictInput.
const repeatsOurSession = `
        asn: 64512
        holdTime: 90s
        keepaliveTime: 30s
`

var _ = Describe("User FRRConfigurations", func() {
	var w *world
	ctx := context.Background()
	announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
	both := map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"}}

	BeforeEach(func() {
		w = newWorld()
		w.addNode("a", nil)
		w.apply(conflictInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
	})

	peerCondition := func(conditionType string) func() *metav1.Condition {
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "peer")}
		return conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, conditionType)
	}

	It("coexists with a user configuration that adds toReceive to our neighbor and repeats its session fields", func() {
		w.apply(userConfig(w, "a", repeatsOurSession, ""))
		w.start()
		Eventually(w.neighbors("a")).Should(Equal(announced))
		Eventually(peerCondition(metallbv1beta1.ConditionConflict)).Should(HaveField("Status", metav1.ConditionFalse))
		w.addService("more", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(w.neighbors("a")).Should(Equal(both))
		Expect(eventsFor(w.out, "FRRConfiguration", "receive-all", "Conflict")()).To(BeEmpty())
	})

	DescribeTable("keeps the last good configuration while a user configuration clashes, reports it, and writes once the user object is fixed",
		func(neighborFields, bgpFields, field, theirValue string) {
			w.start()
			Eventually(w.neighbors("a")).Should(Equal(announced))
			good := w.config("a")

			user := w.apply(userConfig(w, "a", neighborFields, bgpFields))[0].(*frrv1beta1.FRRConfiguration)
			w.addService("more", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")

			Eventually(peerCondition(metallbv1beta1.ConditionConflict)).Should(And(
				HaveField("Status", metav1.ConditionTrue),
				HaveField("Reason", metallbv1beta1.ReasonConflict),
				HaveField("Message", And(ContainSubstring("receive-all"), ContainSubstring(field), ContainSubstring(theirValue), ContainSubstring(w.nodeName("a")))),
			))
			Eventually(eventsFor(w.out, "FRRConfiguration", "receive-all", "Conflict")).Should(ContainElement(ContainSubstring(field)))
			Eventually(eventsFor(w.out, "FRRConfiguration", good.Name, "Conflict")).Should(ContainElement(ContainSubstring("receive-all")))
			Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(1))
			Consistently(func() string { return w.config("a").ResourceVersion }).Should(Equal(good.ResourceVersion))
			peer := &metallbv1beta2.BGPPeer{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "peer"}, peer)).To(Succeed())
			// Node a still runs the peer, from its last good configuration.
			Expect(peer.Status.ConfiguredNodes).To(BeEquivalentTo(1))

			// Fixing the user's object is enough: the watch on it retries.
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(user), user)).To(Succeed())
			neighbor := &user.Spec.BGP.Routers[0].Neighbors[0]
			neighbor.ASN = 64512
			neighbor.HoldTime = &metav1.Duration{Duration: 90e9}
			neighbor.KeepaliveTime = &metav1.Duration{Duration: 30e9}
			neighbor.BFDProfile = ""
			user.Spec.BGP.BFDProfiles = nil
			Expect(k8s.Update(ctx, user)).To(Succeed())
			Eventually(w.neighbors("a")).Should(Equal(both))
			Eventually(peerCondition(metallbv1beta1.ConditionConflict)).Should(HaveField("Status", metav1.ConditionFalse))
			Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(0))
		},
		Entry("different hold time", `
        asn: 64512
        holdTime: 30s
        keepaliveTime: 10s
`, "", "holdTime", "30s"),
		Entry("different ASN", `
        asn: 64999
        holdTime: 90s
        keepaliveTime: 30s
`, "", "asn", "64999"),
		Entry("a BFD profile where ours has none", repeatsOurSession+`        bfdProfile: slow
`, `    bfdProfiles:
    - name: slow
`, "bfdProfile", "slow"),
	)

	It("never touches an FRRConfiguration it does not own, even one with its name", func() {
		squatter := &frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{
			Namespace: w.out, Name: w.configKey("a").Name, Labels: map[string]string{"owner": "someone-else"},
		}}
		Expect(k8s.Create(ctx, squatter)).To(Succeed())
		w.addNode("gone", nil)
		w.start()

		Eventually(w.config).WithArguments("gone").ShouldNot(BeNil())
		Eventually(eventsFor(w.out, "FRRConfiguration", squatter.Name, "Conflict")).ShouldNot(BeEmpty())
		Consistently(func() string { return w.config("a").ResourceVersion }).Should(Equal(squatter.ResourceVersion))
		// The peer's status tells that node a is not configured, and why.
		Eventually(peerCondition(metallbv1beta1.ConditionConflict)).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Message", And(ContainSubstring(w.nodeName("a")), ContainSubstring("not managed by frrgen"))),
		))
		peer := &metallbv1beta2.BGPPeer{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "peer"}, peer)).To(Succeed())
		Expect(peer.Status.ConfiguredNodes).To(BeEquivalentTo(1)) // gone, not a

		// Deleting its node removes our object and leaves the squatter alone.
		Expect(k8s.Delete(ctx, &corev1.Node{ObjectMeta: metavOf(w.nodeName("gone"))})).To(Succeed())
		Eventually(w.config).WithArguments("gone").Should(BeNil())
		Expect(k8s.Delete(ctx, &corev1.Node{ObjectMeta: metavOf(w.nodeName("a"))})).To(Succeed())
		Consistently(func() string { return w.config("a").ResourceVersion }).Should(Equal(squatter.ResourceVersion))
	})

	It("writes its configuration once an FRRConfiguration with its name is deleted, whatever nodes that object selects", func() {
		squatter := &frrv1beta1.FRRConfiguration{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.out, Name: w.configKey("a").Name, Labels: map[string]string{"owner": "someone-else"}},
			Spec: frrv1beta1.FRRConfigurationSpec{NodeSelector: metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/hostname": w.nodeName("elsewhere")},
			}},
		}
		Expect(k8s.Create(ctx, squatter)).To(Succeed())
		w.start()
		Eventually(eventsFor(w.out, "FRRConfiguration", squatter.Name, "Conflict")).ShouldNot(BeEmpty())

		Expect(k8s.Delete(ctx, squatter)).To(Succeed())
		Eventually(w.neighbors("a")).Should(Equal(announced))
	})
})
