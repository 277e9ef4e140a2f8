package controllers_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/translate"
)

// announcedCondition reads the frrgen.io/Announced condition of a Service
// of the world's input namespace; nil when it has none.
func (w *world) announcedCondition(name string) func() *metav1.Condition {
	service := &corev1.Service{ObjectMeta: metavIn(w.in, name)}
	return conditionOf(service, func() []metav1.Condition { return service.Status.Conditions }, servicestatus.ConditionAnnounced)
}

// servicePatches counts the manager's writes of Service statuses.
func (m *runningManager) servicePatches() int {
	m.writes.mu.Lock()
	defer m.writes.mu.Unlock()
	return m.writes.counts["status-patch *v1.Service"]
}

var _ = Describe("Service status", func() {
	var w *world
	ctx := context.Background()
	announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}
	announcedFromBoth := func(n int) string {
		return fmt.Sprintf("Announced from %d of %d speaker node(s). To peer tor from %s, %s.", n, n, w.nodeName("a"), w.nodeName("b"))
	}

	BeforeEach(func() { w = webAnnouncedFromTwoNodes(announced) })

	It("says on the Service where it is announced, and records Events only on real transitions", func() {
		Eventually(w.announcedCondition("web")).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Reason", servicestatus.ReasonAnnounced),
			HaveField("Message", announcedFromBoth(2)),
		))
		// First announcement: one Announced Event.
		Eventually(eventsFor(w.in, "Service", "web", "Announced")).Should(ConsistOf(announcedFromBoth(2)))

		// A new service without endpoints yet is not announced: its
		// condition says why, and it never gets a Withdrawn.
		w.addService("fresh", "198.51.100.12", corev1.ServiceExternalTrafficPolicyCluster)
		Eventually(w.announcedCondition("fresh")).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", "NoEndpoints"),
			HaveField("Message", ContainSubstring("the service has no ready or serving endpoint (noEndpoints)")),
		))
		Consistently(eventsFor(w.in, "Service", "fresh", "Withdrawn")).Should(BeEmpty())
		w.setEndpoints("fresh", "b")
		Eventually(eventsFor(w.in, "Service", "fresh", "Announced")).Should(HaveLen(1))
		Expect(eventsFor(w.in, "Service", "fresh", "Withdrawn")()).To(BeEmpty())

		// Announced → withdrawn → announced: one Event each way.
		w.setEndpoints("web")
		Eventually(eventsFor(w.in, "Service", "web", "Withdrawn")).Should(ConsistOf(ContainSubstring("(noEndpoints)")))
		Eventually(w.announcedCondition("web")).Should(HaveField("Reason", "NoEndpoints"))
		w.setEndpoints("web", "b")
		Eventually(w.announcedCondition("web")).Should(HaveField("Status", metav1.ConditionTrue))
		Consistently(eventsFor(w.in, "Service", "web", "Withdrawn")).Should(HaveLen(1))

		// No longer ours: the condition goes, with a Withdrawn.
		service := &corev1.Service{ObjectMeta: metavIn(w.in, "fresh")}
		edit(service, func() { service.Spec.LoadBalancerClass = nil; service.Spec.Type = corev1.ServiceTypeClusterIP })
		Eventually(w.announcedCondition("fresh")).Should(BeNil())
		Eventually(eventsFor(w.in, "Service", "fresh", "Withdrawn")).Should(ConsistOf(ContainSubstring("no longer a LoadBalancer handled by frrgen")))
	})

	It("is there after a restart, and right for a service changed while the controller was down", func() {
		Eventually(w.announcedCondition("web")).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(eventsFor(w.in, "Service", "web", "Announced")).Should(HaveLen(1))
		w.mgr.stop()

		// While down: web loses its endpoints, a new service appears.
		w.setEndpoints("web")
		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "b")
		w.mgr = startManager(w.options, 0, 0)
		Eventually(w.announcedCondition("late")).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(w.announcedCondition("web")).Should(And(HaveField("Status", metav1.ConditionFalse), HaveField("Reason", "NoEndpoints")))
		Eventually(eventsFor(w.in, "Service", "web", "Withdrawn")).Should(HaveLen(1))

		// Stripped while down: back on the first pass.
		w.mgr.stop()
		service := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "late"}, service)).To(Succeed())
		service.Status.Conditions = nil
		Expect(k8s.Status().Update(ctx, service)).To(Succeed())
		w.mgr = startManager(w.options, 0, 0)
		Eventually(w.announcedCondition("late")).Should(HaveField("Status", metav1.ConditionTrue))
		// A known state repeats no Event.
		Consistently(eventsFor(w.in, "Service", "web", "Withdrawn")).Should(HaveLen(1))
	})

	It("says a new service is held while another object is invalid, and why", func() {
		Eventually(w.announcedCondition("web")).Should(HaveField("Status", metav1.ConditionTrue))
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](16) })
		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
		held := fmt.Sprintf("Held: %s, %s keep their last good configuration because BGPAdvertisement %s/all is invalid",
			w.nodeName("a"), w.nodeName("b"), w.in)
		Eventually(w.announcedCondition("late")).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", servicestatus.ReasonHeld),
			HaveField("Message", "Not announced from any of the 2 speaker node(s). "+held+"; the last good configuration does not announce the service."),
		))
		// The old service is still announced, from the nodes' last good
		// configuration.
		Eventually(w.announcedCondition("web")).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Message", "Announced from 2 of 2 speaker node(s). "+held+"; the last good configuration announces the service to peer tor."),
		))

		edit(ad, func() { ad.Spec.AggregationLength = nil })
		Eventually(w.announcedCondition("late")).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(w.announcedCondition("web")).Should(HaveField("Message", announcedFromBoth(2)))
	})

	It("names the decisive reason in plain words: a pool no advertisement covers, ETP Local with the endpoint on a node without a peer", func() {
		w.apply(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: other
  namespace: metallb-system
spec:
  addresses:
  - 203.0.113.0/24
`)
		// (An advertisement without ipAddressPools covers every pool.)
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		edit(ad, func() { ad.Spec.IPAddressPools = []string{"pool"} })
		w.addService("orphan", "203.0.113.5", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(w.announcedCondition("orphan")).Should(And(
			HaveField("Reason", "NotOwner"),
			HaveField("Message", fmt.Sprintf("Not announced from any of the 2 speaker node(s). Not from %s, %s: no advertisement of pool other selects this node (notOwner).",
				w.nodeName("a"), w.nodeName("b"))),
		))

		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		edit(peer, func() {
			peer.Spec.NodeSelectors = []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": metallbv1beta1.LabelValue(w.nodeName("a"))}}}
		})
		w.addService("local", "198.51.100.20", corev1.ServiceExternalTrafficPolicyLocal, "b")
		Eventually(w.announcedCondition("local")).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", "NoPeers"),
			HaveField("Message", fmt.Sprintf("Not announced from any of the 2 speaker node(s). "+
				"Not from %s: externalTrafficPolicy is Local and no ready endpoint of the service runs on this node (noLocalEndpoints). "+
				"Not from %s: no BGPPeer selects this node (noPeers).", w.nodeName("a"), w.nodeName("b"))),
		))
		Consistently(eventsFor(w.in, "Service", "local", "Withdrawn")).Should(BeEmpty())
	})

	It("lists the nodes a partial announcement leaves out", func() {
		w.addNode("c", map[string]string{"node.kubernetes.io/exclude-from-external-load-balancers": ""})
		Eventually(w.announcedCondition("web")).Should(HaveField("Message",
			fmt.Sprintf("Announced from 2 of 3 speaker node(s). To peer tor from %s, %s. Not from %s: the node is labelled node.kubernetes.io/exclude-from-external-load-balancers (nodeLabeledExcludeBalancers).",
				w.nodeName("a"), w.nodeName("b"), w.nodeName("c"))))
	})
})

var _ = Describe("Service condition validation", func() {
	It("is accepted by the apiserver with every reason frrgen writes and the longest message", func() {
		ctx := context.Background()
		w := newWorld()
		service := w.addService("check", "198.51.100.99", corev1.ServiceExternalTrafficPolicyCluster)
		reasons := []string{servicestatus.ReasonAnnounced, servicestatus.ReasonHeld, servicestatus.ReasonNotAnnounced, servicestatus.ReasonNoSpeakerNode}
		for _, r := range []translate.Reason{translate.ReasonNoIPAllocated, translate.ReasonInvalidIP, translate.ReasonIPNotAllowed,
			translate.ReasonNotOwner, translate.ReasonNoMatchingAdvertisement, translate.ReasonConflictingAdvertisements,
			translate.ReasonNodeNetworkUnavailable, translate.ReasonNodeLabeledExcludeBalancer, translate.ReasonNoLocalEndpoints,
			translate.ReasonNoEndpoints, translate.ReasonNoPeers} {
			reasons = append(reasons, servicestatus.ConditionReason(r))
		}
		for _, reason := range reasons {
			status := servicestatus.Status{Reason: reason, Message: strings.Repeat("x", 32*1024)}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(service), service)).To(Succeed())
			before := service.DeepCopy()
			apimeta.SetStatusCondition(&service.Status.Conditions, status.Condition(service.Generation))
			Expect(k8s.Status().Patch(ctx, service, client.StrategicMergeFrom(before))).To(Succeed(), reason)
		}
	})
})

var _ = Describe("Service status cost", func() {
	It("makes one Service write for one service change, at 100 nodes", func() {
		w := newWorld()
		const nodes = 100
		for i := range nodes {
			w.addNode(fmt.Sprintf("n%03d", i), nil)
		}
		w.apply(lifecycleInput)
		for i := range 5 {
			w.addService(fmt.Sprintf("s%d", i), fmt.Sprintf("198.51.100.%d", 10+i), corev1.ServiceExternalTrafficPolicyCluster, "n000")
		}
		w.start()
		for i := range 5 {
			Eventually(w.announcedCondition(fmt.Sprintf("s%d", i)), "60s").Should(HaveField("Message", HavePrefix("Announced from 100 of 100")))
		}
		Consistently(w.mgr.servicePatches).Should(Equal(5))

		w.setEndpoints("s3")
		Eventually(w.announcedCondition("s3"), "60s").Should(HaveField("Reason", "NoEndpoints"))
		Consistently(w.mgr.servicePatches).Should(Equal(6))
		AddReportEntry("Service status writes", w.mgr.writes.String())
		Expect(strings.Count(w.mgr.writes.String(), "Service")).To(Equal(1))
	})
})
