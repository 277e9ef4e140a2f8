//go:build daemon

package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/frrk8sdaemon"
)

// Needs bin/frr-k8s-controller (make frr-k8s-controller); run with -tags daemon.
var _ = Describe("What the real frr-k8s daemon reports", func() {
	It("turns a configuration frr-k8s refuses into Applied=False, a Warning Event on the Node and the metric, and back", func() {
		ctx := context.Background()
		w := newWorld()
		w.addNode("a", nil)
		node := w.nodeName("a")
		w.apply(conflictInput)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")

		dir := GinkgoT().TempDir()
		kubeconfig := filepath.Join(dir, "kubeconfig")
		Expect(env.WriteKubeconfig(kubeconfig)).To(Succeed())
		daemon, err := frrk8sdaemon.StartNode(filepath.Join(dir, "daemon"), kubeconfig, node, w.out)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			daemon.Stop()
			if CurrentSpecReport().Failed() {
				log, _ := os.ReadFile(daemon.Log)
				AddReportEntry("frr-k8s daemon log", string(log))
			}
			_ = k8s.Delete(ctx, &frrv1beta1.FRRNodeState{ObjectMeta: metav1.ObjectMeta{Name: node}})
		})
		w.start()

		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "peer")}
		applied := conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionApplied)
		conversion := func() string {
			var state frrv1beta1.FRRNodeState
			if err := k8s.Get(ctx, types.NamespacedName{Name: node}, &state); err != nil {
				return err.Error()
			}
			return state.Status.LastConversionResult
		}
		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}))
		Eventually(conversion, "60s").Should(Equal("success"))
		Eventually(applied).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(metricValue).WithArguments("frrgen_node_reload_failed", map[string]string{"node": node}).Should(BeEquivalentTo(0))

		// A user configuration that repeats our neighbor with another hold
		// time: frrgen keeps its own configuration (Conflict), but frr-k8s
		// merges every FRRConfiguration of the node and refuses the lot.
		w.apply(userConfig(w, "a", "\n        asn: 64512\n        holdTime: 30s\n", ""))
		Eventually(conversion, "60s").Should(HavePrefix("failed: "))
		frrError := strings.TrimPrefix(conversion(), "failed: ")
		Eventually(applied).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonConversionFailed),
			HaveField("Message", And(ContainSubstring(node+": conversion failed: "), ContainSubstring("invalid timers for neighbor 64512@172.30.0.3"))),
		))
		Eventually(eventsFor("default", "Node", node, metallbv1beta1.ReasonConversionFailed)).Should(ConsistOf(
			And(HavePrefix("frr-k8s on node "+node+": conversion failed: "), HaveSuffix(frrError))))
		Eventually(metricValue).WithArguments("frrgen_node_reload_failed", map[string]string{"node": node}).Should(BeEquivalentTo(1))

		By("removing the user configuration")
		Expect(k8s.Delete(ctx, &frrv1beta1.FRRConfiguration{ObjectMeta: metavIn(w.out, "receive-all")})).To(Succeed())
		Eventually(conversion, "60s").Should(Equal("success"))
		Eventually(applied).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(metricValue).WithArguments("frrgen_node_reload_failed", map[string]string{"node": node}).Should(BeEquivalentTo(0))
		Expect(eventsFor("default", "Node", node, metallbv1beta1.ReasonConversionFailed)()).To(HaveLen(1))
	})
})
