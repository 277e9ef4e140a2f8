package controllers_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

var _ = Describe("A write that fails", func() {
	ctx := context.Background()

	It("is told: the node is stale, a Warning Event names it and the error, the peer's Written condition and counts, and the Service Events say what was written", func() {
		w := newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
		Eventually(w.neighbors("a")).Should(Equal(announced))
		Eventually(w.neighbors("b")).Should(Equal(announced))

		// The apiserver refuses every update of node b's configuration, as
		// it would one grown past etcd's limit.
		refused := w.configKey("b")
		const reason = "refused by the test's admission policy"
		policy := &admissionv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + w.id},
			Spec: admissionv1.ValidatingAdmissionPolicySpec{
				FailurePolicy: ptrTo(admissionv1.Fail),
				MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionv1.RuleWithOperations{
						Operations: []admissionv1.OperationType{admissionv1.Update},
						Rule:       admissionv1.Rule{APIGroups: []string{"frrk8s.metallb.io"}, APIVersions: []string{"*"}, Resources: []string{"frrconfigurations"}},
					},
				}}},
				Validations: []admissionv1.Validation{{Expression: "object.metadata.name != '" + refused.Name + "'", Message: reason}},
			},
		}
		binding := &admissionv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + w.id},
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        policy.Name,
				ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
				MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
					MatchLabels: map[string]string{"kubernetes.io/metadata.name": w.out}}},
			},
		}
		Expect(k8s.Create(ctx, policy)).To(Succeed())
		Expect(k8s.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() {
			_ = client.IgnoreNotFound(k8s.Delete(context.Background(), binding))
			_ = client.IgnoreNotFound(k8s.Delete(context.Background(), policy))
		})
		Eventually(func() error { // the apiserver loads policies asynchronously
			c := w.config("b")
			return k8s.Update(ctx, c, client.DryRunAll)
		}).Should(MatchError(ContainSubstring(reason)))

		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"}}))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("b")}).Should(BeEquivalentTo(1))
		Expect(metricValue("frrgen_config_stale", map[string]string{"node": w.nodeName("a")})).To(BeEquivalentTo(0))
		Expect(metricValue("frrgen_write_errors_total", map[string]string{"kind": "FRRConfiguration", "verb": "update"})).To(BeNumerically(">", 0))
		Expect(w.neighbors("b")()).To(Equal(announced))

		Eventually(eventsFor("default", "Node", w.nodeName("b"), "WriteFailed")).Should(ContainElement(And(
			ContainSubstring("the FRRConfiguration of node "+w.nodeName("b")+" could not be written"), ContainSubstring(reason))))
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionWritten)).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonWriteFailed),
			HaveField("Message", And(ContainSubstring("node "+w.nodeName("b")+": "), ContainSubstring(reason))),
		))
		// b still runs the peer, from the configuration it had.
		Expect(peer.Status.ConfiguredNodes).To(BeEquivalentTo(2))
		// The new service is announced where it was written: a, not b.
		Eventually(w.announcedCondition("late")).Should(HaveField("Message", And(
			HavePrefix("Announced from 1 of 2 speaker node(s). To peer tor from "+w.nodeName("a")+". Held: "+w.nodeName("b")+
				" keeps its last good configuration because the new one could not be written: "),
			ContainSubstring(reason), HaveSuffix("; the last good configuration does not announce the service."))))
		Eventually(eventsFor(w.in, "Service", "late", "Announced")).Should(ConsistOf(HavePrefix("Announced from 1 of 2 speaker node(s).")))

		Expect(k8s.Delete(ctx, binding)).To(Succeed())
		Eventually(w.neighbors("b"), "30s").Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"}}))
		Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionWritten)).Should(
			HaveField("Status", metav1.ConditionTrue))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("b")}).Should(BeEquivalentTo(0))
		Eventually(w.announcedCondition("late")).Should(HaveField("Message", HavePrefix("Announced from 2 of 2 speaker node(s).")))
	})
})

func ptrTo[T any](v T) *T { return &v }
