package controllers_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/controllers"
)

// reconciles is the number of successful reconciles of a controller so far,
// from controller-runtime's own metric.
func reconciles(controller string) float64 {
	return metricValue("controller_runtime_reconcile_total", map[string]string{"controller": controller, "result": "success"})
}

var _ = Describe("Writes", func() {
	It("makes zero writes in steady state, on no-op input changes, on resyncs and after a controller restart", func() {
		ctx := context.Background()
		w := newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
		Eventually(w.neighbors("a")).Should(Equal(announced))
		Eventually(w.neighbors("b")).Should(Equal(announced))
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		Eventually(func() int32 {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer)
			return peer.Status.ConfiguredNodes
		}).Should(BeEquivalentTo(2))
		for _, obj := range []client.Object{
			&metallbv1beta1.IPAddressPool{ObjectMeta: metavIn(w.in, "pool")},
			&metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")},
			&metallbv1beta1.BFDProfile{ObjectMeta: metavIn(w.in, "fast")},
		} {
			Eventually(func() []metav1.Condition { return conditionsOf(obj) }).Should(ContainElement(HaveField("Type", metallbv1beta1.ConditionValid)))
		}
		Eventually(w.announcedCondition("web")).ShouldNot(BeNil())
		// Convergence: 2 FRRConfiguration creates, one status patch per
		// input object and the Service's condition. Nothing else may follow.
		converged := w.mgr.writes.Total()
		AddReportEntry("writes to converge", w.mgr.writes.String())
		Consistently(w.mgr.writes.Total).Should(Equal(converged))

		// No-op changes that still invalidate the translation: a label on the
		// peer, an annotation on the service.
		before := reconciles(controllers.NodeControllerName)
		edit(peer, func() { peer.Labels = map[string]string{"touched": "yes"} })
		service := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "web"}, service)).To(Succeed())
		service.Annotations = map[string]string{"touched": "yes"}
		Expect(k8s.Update(ctx, service)).To(Succeed())
		Eventually(func() float64 { return reconciles(controllers.NodeControllerName) - before }).Should(BeNumerically(">=", 2))
		Consistently(w.mgr.writes.Total).Should(Equal(converged))

		// A new manager (a restart, or the other replica taking over) whose
		// informers resync every second.
		w.restart(time.Second)
		before = reconciles(controllers.NodeControllerName)
		beforeCluster := reconciles(controllers.ClusterControllerName)
		Eventually(func() float64 { return reconciles(controllers.NodeControllerName) - before }).Should(BeNumerically(">=", 6))
		Eventually(func() float64 { return reconciles(controllers.ClusterControllerName) - beforeCluster }).Should(BeNumerically(">=", 3))
		Consistently(w.mgr.writes.Total).Should(BeZero())
		AddReportEntry("writes after restart and resyncs", w.mgr.writes.Total())
	})
})

var _ = Describe("Cost", func() {
	It("translates once per input change, not once per node", func() {
		ctx := context.Background()
		w := newWorld()
		nodes := []string{"a", "b", "c", "d", "e"}
		for _, n := range nodes {
			w.addNode(n, nil)
		}
		w.apply(lifecycleInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
		for _, n := range nodes {
			Eventually(w.neighbors(n)).Should(Equal(announced))
		}
		builds := func() float64 { return metricValue("frrgen_translate_build_duration_seconds", nil) }
		nodeReconciles := func() float64 { return reconciles(controllers.NodeControllerName) }
		// Settled: no build for a second.
		Eventually(func(g Gomega) {
			settled := builds()
			g.Consistently(builds, time.Second).Should(Equal(settled))
		}).Should(Succeed())
		buildsBefore, reconcilesBefore := builds(), nodeReconciles()

		// One change: every node is reconciled, the translation is built
		// once for the node controller's event handler and at most once more
		// for the cluster controller's, which sees the same event.
		service := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "web"}, service)).To(Succeed())
		service.Status.LoadBalancer.Ingress[0].IP = "198.51.100.20"
		Expect(k8s.Status().Update(ctx, service)).To(Succeed())
		moved := map[string][]string{"172.30.0.3": {"198.51.100.20/32"}}
		for _, n := range nodes {
			Eventually(w.neighbors(n)).Should(Equal(moved))
		}
		Eventually(func() float64 { return nodeReconciles() - reconcilesBefore }).Should(BeNumerically(">=", len(nodes)))
		Consistently(func() float64 { return builds() - buildsBefore }).Should(And(BeNumerically(">=", 1), BeNumerically("<=", 2)))
		AddReportEntry("node reconciles and builds for one change", fmt.Sprintf("%v node reconciles, %v builds", nodeReconciles()-reconcilesBefore, builds()-buildsBefore))
	})
})

func conditionsOf(obj client.Object) []metav1.Condition {
	Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	switch o := obj.(type) {
	case *metallbv1beta1.IPAddressPool:
		return o.Status.Conditions
	case *metallbv1beta1.BGPAdvertisement:
		return o.Status.Conditions
	case *metallbv1beta1.BFDProfile:
		return o.Status.Conditions
	case *metallbv1beta1.Community:
		return o.Status.Conditions
	case *metallbv1beta2.BGPPeer:
		return o.Status.Conditions
	}
	return nil
}
