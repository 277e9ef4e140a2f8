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
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/ownership"
	"github.com/frrgen/frrgen/internal/translate"
)

var _ = Describe("Ownership", func() {
	var w *world
	ctx := context.Background()
	announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}

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

	It("writes a proof and an ownerReference to the Node on its configuration", func() {
		w.start()
		Eventually(w.neighbors("a")).Should(Equal(announced))
		ours := w.config("a")
		Expect(ours.Labels).To(HaveKeyWithValue(translate.LabelManagedBy, translate.ManagedByValue))
		Expect(ours.Annotations).To(HaveKeyWithValue(ownership.AnnotationProof, Not(BeEmpty())))

		node := &corev1.Node{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: w.nodeName("a")}, node)).To(Succeed())
		Expect(ours.OwnerReferences).To(Equal([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}))
		// The key lives in frrgen's namespace.
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: controllers.OwnershipKeySecret}, &corev1.Secret{})).To(Succeed())
	})

	It("treats a copy of its configuration (label and node annotation, no valid proof) as a user's: merge-checked, reported, never written or deleted", func() {
		w.start()
		Eventually(w.neighbors("a")).Should(Equal(announced))
		good := w.config("a")

		// A user copies ours as a template, keeps its metadata and sets
		// another ASN on the same VRF: frr-k8s would reject the node.
		copied := &frrv1beta1.FRRConfiguration{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.out, Name: "copied", Labels: good.Labels, Annotations: good.Annotations},
			Spec: frrv1beta1.FRRConfigurationSpec{
				NodeSelector: good.Spec.NodeSelector,
				BGP:          frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{ASN: 65555}}},
			},
		}
		Expect(k8s.Create(ctx, copied)).To(Succeed())
		w.addService("more", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")

		Eventually(peerCondition(metallbv1beta1.ConditionConflict)).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Message", And(ContainSubstring("copied"), ContainSubstring("65555"), ContainSubstring(w.nodeName("a")))),
		))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(1))
		Eventually(eventsFor(w.out, "FRRConfiguration", "copied", "Conflict")).ShouldNot(BeEmpty())
		Consistently(func() string { return w.config("a").ResourceVersion }).Should(Equal(good.ResourceVersion))

		// The node goes: ours is deleted, the copy (which names the node
		// in frrgen.io/node) is not.
		Expect(k8s.Delete(ctx, &corev1.Node{ObjectMeta: metavOf(w.nodeName("a"))})).To(Succeed())
		Eventually(w.config).WithArguments("a").Should(BeNil())
		Consistently(func() string {
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(copied), copied)).To(Succeed())
			return copied.ResourceVersion
		}).Should(Equal(copied.ResourceVersion))
	})

	It("adopts a configuration written by an older frrgen (no proof, our name, only frrgen's field manager) and leaves a look-alike written by someone else", func() {
		w.addNode("b", nil)
		legacy := func(short string) *frrv1beta1.FRRConfiguration {
			return &frrv1beta1.FRRConfiguration{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: w.out, Name: w.configKey(short).Name,
					Labels:      map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
					Annotations: map[string]string{translate.AnnotationNode: w.nodeName(short)},
				},
				Spec: frrv1beta1.FRRConfigurationSpec{NodeSelector: metav1.LabelSelector{
					MatchLabels: map[string]string{"kubernetes.io/hostname": w.nodeName(short)},
				}},
			}
		}
		old := legacy("a")
		Expect(k8s.Create(ctx, old, client.FieldOwner(controllers.FieldManager))).To(Succeed())
		lookalike := legacy("b")
		Expect(k8s.Create(ctx, lookalike, client.FieldOwner("kubectl-create"))).To(Succeed())
		w.start()

		Eventually(w.neighbors("a")).Should(Equal(announced))
		Expect(w.config("a").UID).To(Equal(old.UID)) // updated in place, not replaced
		Eventually(eventsFor(w.out, "FRRConfiguration", lookalike.Name, "Conflict")).ShouldNot(BeEmpty())
		Consistently(func() string { return w.config("b").ResourceVersion }).Should(Equal(lookalike.ResourceVersion))
	})
})
