package controllers_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/servicebgpstatus"
	"github.com/frrgen/frrgen/internal/translate"
)

// bgpStatuses maps each node (short name) with a ServiceBGPStatus of
// frrgen's for the world's service to its peers. It checks that every such
// object carries MetalLB's labels and fields for what it describes.
func (w *world) bgpStatuses(service string) func(Gomega) map[string][]string {
	return func(g Gomega) map[string][]string {
		var list metallbv1beta1.ServiceBGPStatusList
		g.Expect(k8s.List(context.Background(), &list, client.InNamespace(w.in), client.MatchingLabels{
			translate.LabelManagedBy: translate.ManagedByValue, servicebgpstatus.LabelServiceName: service})).To(Succeed())
		out := map[string][]string{}
		for _, o := range list.Items {
			g.Expect(o.Status.ServiceName).To(Equal(service))
			g.Expect(o.Status.ServiceNamespace).To(Equal(w.in))
			g.Expect(o.Labels).To(HaveKeyWithValue(servicebgpstatus.LabelServiceNamespace, w.in))
			g.Expect(o.Labels).To(HaveKeyWithValue(servicebgpstatus.LabelNode, o.Status.Node))
			out[o.Status.Node[len(w.id)+1:]] = o.Status.Peers
		}
		return out
	}
}

// bgpStatusWrites counts the manager's ServiceBGPStatus writes by verb.
func (m *runningManager) bgpStatusWrites() map[string]int {
	m.writes.mu.Lock()
	defer m.writes.mu.Unlock()
	out := map[string]int{}
	for _, verb := range []string{"create", "status-patch", "delete"} {
		if n := m.writes.counts[verb+" *v1beta1.ServiceBGPStatus"]; n > 0 {
			out[verb] = n
		}
	}
	return out
}

// since is the per-verb difference between two counts.
func since(before, now map[string]int) map[string]int {
	out := map[string]int{}
	for verb, n := range now {
		if d := n - before[verb]; d != 0 {
			out[verb] = d
		}
	}
	return out
}

const spinePeer = `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: spine
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64514
  peerAddress: 172.30.0.4
`

var _ = Describe("ServiceBGPStatus objects (--service-bgp-status)", func() {
	var w *world
	var theirs *metallbv1beta1.ServiceBGPStatus
	ctx := context.Background()

	BeforeEach(func() {
		w = newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.addService("api", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "b")
		// What MetalLB's speaker on node a wrote for web, before a migration.
		theirs = &metallbv1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{Namespace: w.in, GenerateName: "bgp-",
			Labels: map[string]string{servicebgpstatus.LabelNode: w.nodeName("a"), servicebgpstatus.LabelServiceName: "web",
				servicebgpstatus.LabelServiceNamespace: w.in}}}
		Expect(k8s.Create(ctx, theirs)).To(Succeed())
		theirs.Status = metallbv1beta1.ServiceBGPStatusStatus{Node: w.nodeName("a"), ServiceName: "web", ServiceNamespace: w.in, Peers: []string{"old"}}
		Expect(k8s.Status().Update(ctx, theirs)).To(Succeed())
		w.mgr = startManagerConfigured(env.Config, w.options, 0, controllers.Config{ServiceBGPStatus: true})
		DeferCleanup(func() { w.mgr.stop() })
	})

	It("has one per announcing node with its peers, one write per affected node for a change, and never touches MetalLB's", func() {
		tor := []string{"tor"}
		Eventually(w.bgpStatuses("web")).Should(Equal(map[string][]string{"a": tor, "b": tor}))
		Eventually(w.bgpStatuses("api")).Should(Equal(map[string][]string{"a": tor, "b": tor}))
		// Settled: a create and a status write per object, nothing more.
		Consistently(w.mgr.bgpStatusWrites).Should(Equal(map[string]int{"create": 4, "status-patch": 4}))

		By("a new BGPPeer: one status write per node and service it is sent to")
		before := w.mgr.bgpStatusWrites()
		w.apply(spinePeer)
		both := []string{"spine", "tor"}
		Eventually(w.bgpStatuses("web")).Should(Equal(map[string][]string{"a": both, "b": both}))
		Eventually(w.bgpStatuses("api")).Should(Equal(map[string][]string{"a": both, "b": both}))
		Consistently(func() map[string]int { return since(before, w.mgr.bgpStatusWrites()) }).Should(Equal(map[string]int{"status-patch": 4}))

		By("one service change (web becomes externalTrafficPolicy Local, its endpoint on a): one write")
		before = w.mgr.bgpStatusWrites()
		service := &corev1.Service{ObjectMeta: metavIn(w.in, "web")}
		edit(service, func() { service.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal })
		Eventually(w.bgpStatuses("web")).Should(Equal(map[string][]string{"a": both}))
		Consistently(func() map[string]int { return since(before, w.mgr.bgpStatusWrites()) }).Should(Equal(map[string]int{"delete": 1}))

		By("an object of ours deleted by someone is written again")
		var ours metallbv1beta1.ServiceBGPStatusList
		Expect(k8s.List(ctx, &ours, client.InNamespace(w.in), client.MatchingLabels{servicebgpstatus.LabelServiceName: "api",
			servicebgpstatus.LabelNode: w.nodeName("b"), translate.LabelManagedBy: translate.ManagedByValue})).To(Succeed())
		Expect(ours.Items).To(HaveLen(1))
		Expect(k8s.Delete(ctx, &ours.Items[0])).To(Succeed())
		Eventually(func(g Gomega) []string {
			var o metallbv1beta1.ServiceBGPStatus
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(&ours.Items[0]), &o)).To(Succeed())
			g.Expect(o.UID).NotTo(Equal(ours.Items[0].UID))
			return o.Status.Peers
		}).Should(Equal(both))

		By("withdrawn (no endpoints) and deleted services lose theirs")
		w.setEndpoints("web")
		Eventually(w.bgpStatuses("web")).Should(BeEmpty())
		Expect(k8s.Delete(ctx, &corev1.Service{ObjectMeta: metavIn(w.in, "api")})).To(Succeed())
		Eventually(w.bgpStatuses("api")).Should(BeEmpty())

		By("MetalLB's speaker's object was never written")
		var now metallbv1beta1.ServiceBGPStatus
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), &now)).To(Succeed())
		Expect(now.ResourceVersion).To(Equal(theirs.ResourceVersion))
		Expect(now.Status.Peers).To(Equal([]string{"old"}))
	})

	It("writes none when disabled (what auto resolves to on frrgen's own CRDs)", func() {
		other := newWorld()
		other.addNode("a", nil)
		other.apply(lifecycleInput)
		other.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		other.start()
		Eventually(other.announcedCondition("web")).Should(HaveField("Status", metav1.ConditionTrue))
		Consistently(other.bgpStatuses("web")).Should(BeEmpty())
		Expect(other.mgr.bgpStatusWrites()).To(BeEmpty())
	})
})
