package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// metricValue reads a gauge, counter or histogram's count from controller-runtime's registry,
// selected by name and labels; -1 when absent.
func metricValue(name string, labels map[string]string) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, m := range family.GetMetric() {
			if hasLabels(m, labels) {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				if m.GetHistogram() != nil {
					return float64(m.GetHistogram().GetSampleCount())
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			found++
		}
	}
	return found == len(want)
}

var _ = Describe("Status and events", func() {
	var w *world
	ctx := context.Background()
	announced := map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}

	BeforeEach(func() { w = webAnnouncedFromTwoNodes(announced) })

	It("shows each object valid, the nodes a peer is configured on and what an advertisement announces", func() {
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionValid)).
			Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(func() int32 {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer)
			return peer.Status.ConfiguredNodes
		}).Should(BeEquivalentTo(2))
		Expect(meta(peer.Status.Conditions, metallbv1beta1.ConditionConflict)).To(HaveField("Status", metav1.ConditionFalse))

		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		Eventually(func() metallbv1beta1.BGPAdvertisementStatus {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(ad), ad)
			return ad.Status
		}).Should(And(HaveField("ServiceIPs", BeEquivalentTo(1)), HaveField("Prefixes", BeEquivalentTo(1))))
		Expect(meta(ad.Status.Conditions, metallbv1beta1.ConditionValid)).To(HaveField("Status", metav1.ConditionTrue))

		pool := &metallbv1beta1.IPAddressPool{ObjectMeta: metavIn(w.in, "pool")}
		Eventually(conditionOf(pool, func() []metav1.Condition { return pool.Status.Conditions }, metallbv1beta1.ConditionValid)).
			Should(HaveField("Status", metav1.ConditionTrue))
		profile := &metallbv1beta1.BFDProfile{ObjectMeta: metavIn(w.in, "fast")}
		Eventually(conditionOf(profile, func() []metav1.Condition { return profile.Status.Conditions }, metallbv1beta1.ConditionValid)).
			Should(HaveField("Status", metav1.ConditionTrue))
		Expect(metricValue("frrgen_prefixes", map[string]string{"node": w.nodeName("a")})).To(BeEquivalentTo(1))
	})

	It("keeps every node's configuration when the input becomes invalid, says why, and converges once fixed", func() {
		before := w.config("a")
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](16) })
		// A change made while the input is invalid must not reach the nodes.
		w.addService("late", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")

		valid := conditionOf(ad, func() []metav1.Condition { return ad.Status.Conditions }, metallbv1beta1.ConditionValid)
		Eventually(valid).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonInvalid),
			HaveField("Message", ContainSubstring("spec.aggregationLength")),
			HaveField("ObservedGeneration", ad.Generation),
		))
		Eventually(eventsFor(w.in, "BGPAdvertisement", "all", metallbv1beta1.ReasonInvalid)).Should(ContainElement(ContainSubstring("aggregation length 16")))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(1))
		Consistently(func() string { return w.config("a").ResourceVersion }).Should(Equal(before.ResourceVersion))

		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](32) })
		Eventually(valid).Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("ObservedGeneration", ad.Generation)))
		both := map[string][]string{"172.30.0.3": {"198.51.100.10/32", "198.51.100.11/32"}}
		Eventually(w.neighbors("a")).Should(Equal(both))
		Eventually(w.neighbors("b")).Should(Equal(both))
		Eventually(metricValue).WithArguments("frrgen_config_stale", map[string]string{"node": w.nodeName("a")}).Should(BeEquivalentTo(0))
	})
})

// meta returns the condition of type t, or nil.
func meta(conditions []metav1.Condition, t string) *metav1.Condition {
	for i := range conditions {
		if conditions[i].Type == t {
			return &conditions[i]
		}
	}
	return nil
}

// printerTable asks the apiserver for the table kubectl get prints (server-
// side printing) of resource (e.g. "bgppeers.v1beta2") in namespace, and
// returns each row's cells by column name, rows by object name.
func printerTable(group, version, resource, namespace string) func() map[string]map[string]any {
	return func() map[string]map[string]any {
		httpClient, err := rest.HTTPClientFor(env.Config)
		Expect(err).NotTo(HaveOccurred())
		url := fmt.Sprintf("%s/apis/%s/%s/namespaces/%s/%s", strings.TrimSuffix(env.Config.Host, "/"), group, version, namespace, resource)
		req, err := http.NewRequest(http.MethodGet, url, nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		resp, err := httpClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		var table metav1.Table
		Expect(json.NewDecoder(resp.Body).Decode(&table)).To(Succeed())
		rows := map[string]map[string]any{}
		for _, row := range table.Rows {
			cells := map[string]any{}
			for i, col := range table.ColumnDefinitions {
				cells[col.Name] = row.Cells[i]
			}
			rows[fmt.Sprint(cells["Name"])] = cells
		}
		return rows
	}
}

var _ = Describe("Printer columns and reference conditions", func() {
	var w *world
	ctx := context.Background()

	BeforeEach(func() {
		w = newWorld()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(lifecycleInput + `---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: idle
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64514
  peerAddress: 172.30.0.4
  nodeSelectors:
  - matchLabels: {no-node: has-this}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: lonely
  namespace: metallb-system
spec:
  ipAddressPools: [pool, no-such-pool]
  peers: [nobody]
`)
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.start()
		Eventually(w.neighbors("a")).Should(Equal(map[string][]string{"172.30.0.3": {"198.51.100.10/32"}}))
	})

	It("shows zero counts as 0, not blank", func() {
		Eventually(printerTable("metallb.io", "v1beta2", "bgppeers", w.in)).Should(And(
			HaveKeyWithValue("idle", And(HaveKeyWithValue("Nodes", BeEquivalentTo(0)), HaveKeyWithValue("Established", BeEquivalentTo(0)))),
			HaveKeyWithValue("tor", And(HaveKeyWithValue("Nodes", BeEquivalentTo(2)), HaveKeyWithValue("Established", BeEquivalentTo(0)))),
		))
		// No frr-k8s runs here: tor's nodes report no session, which is
		// not "down".
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionSessionsEstablished)).Should(And(
			HaveField("Status", metav1.ConditionUnknown),
			HaveField("Reason", metallbv1beta1.ReasonSessionsNotReported),
			HaveField("Message", HavePrefix("0 of 2 session(s) established. No session state reported by "+w.nodeName("a")+", "+w.nodeName("b"))),
		))
		Eventually(printerTable("metallb.io", "v1beta1", "bgpadvertisements", w.in)).Should(And(
			HaveKeyWithValue("lonely", And(HaveKeyWithValue("Service IPs", BeEquivalentTo(0)), HaveKeyWithValue("Prefixes", BeEquivalentTo(0)))),
			HaveKeyWithValue("all", And(HaveKeyWithValue("Service IPs", BeEquivalentTo(1)), HaveKeyWithValue("Prefixes", BeEquivalentTo(1)))),
		))
	})

	It("makes a reference to a missing peer or pool a condition and a Warning Event, the object staying Valid", func() {
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "lonely")}
		Eventually(conditionOf(ad, func() []metav1.Condition { return ad.Status.Conditions }, metallbv1beta1.ConditionReferencesResolved)).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonMissingReference),
			HaveField("Message", And(ContainSubstring(`spec.peers[0]: there is no BGPPeer "nobody"`), ContainSubstring(`spec.ipAddressPools[1]: there is no IPAddressPool "no-such-pool"`))),
		))
		Expect(meta(ad.Status.Conditions, metallbv1beta1.ConditionValid)).To(HaveField("Status", metav1.ConditionTrue))
		Eventually(eventsFor(w.in, "BGPAdvertisement", "lonely", metallbv1beta1.ReasonMissingReference)).Should(ConsistOf(ContainSubstring(`"nobody"`)))
		Eventually(printerTable("metallb.io", "v1beta1", "bgpadvertisements", w.in)).Should(And(
			HaveKeyWithValue("lonely", HaveKeyWithValue("References", "False")),
			HaveKeyWithValue("all", HaveKeyWithValue("References", "True")),
		))

		// Creating the peer resolves it.
		w.apply(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: nobody
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64515
  peerAddress: 172.30.0.5
  nodeSelectors:
  - matchLabels: {no-node: has-this}
`)
		Eventually(conditionOf(ad, func() []metav1.Condition { return ad.Status.Conditions }, metallbv1beta1.ConditionReferencesResolved)).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", Not(ContainSubstring("nobody"))),
		))
	})

	It("keeps counting a held node in the NODES of the peers it runs", func() {
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "tor")}
		Eventually(func() int32 {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer)
			return peer.Status.ConfiguredNodes
		}).Should(BeEquivalentTo(2))
		// An invalid advertisement holds both nodes: they keep their last
		// good configuration, which has the peer.
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "all")}
		edit(ad, func() { ad.Spec.AggregationLength = ptr.To[int32](16) })
		Eventually(conditionOf(ad, func() []metav1.Condition { return ad.Status.Conditions }, metallbv1beta1.ConditionValid)).
			Should(HaveField("Status", metav1.ConditionFalse))
		Consistently(printerTable("metallb.io", "v1beta2", "bgppeers", w.in)).Should(
			HaveKeyWithValue("tor", HaveKeyWithValue("Nodes", BeEquivalentTo(2))))
	})
})
