package controllers_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/translate"
)

// storedSelecting lists frrgen's objects in the world's frr-k8s namespace
// that are for node (its own, and the shared ones listing it).
func (w *world) storedSelecting(node string) []frrv1beta1.FRRConfiguration {
	var list frrv1beta1.FRRConfigurationList
	Expect(k8s.List(context.Background(), &list, client.InNamespace(w.out),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue})).To(Succeed())
	var out []frrv1beta1.FRRConfiguration
	for _, c := range list.Items {
		if c.Annotations[translate.AnnotationNode] == node || slices.Contains(strings.Split(c.Annotations[layout.AnnotationNodes], ","), node) {
			out = append(out, c)
		}
	}
	return out
}

// layoutMismatch compares, for every speaker node of the world, what
// frr-k8s merges from the stored objects selecting the node with what it
// merges from the node's per-node configuration (translate.Build of the
// cluster as it is now); "" when every node matches.
func (w *world) layoutMismatch() string {
	ctx := context.Background()
	snapshot, err := controllers.ReadSnapshot(ctx, k8s, w.options)
	Expect(err).NotTo(HaveOccurred())
	result := translate.Build(snapshot, w.options)
	var problems []string
	for _, want := range result.Configs {
		node := want.Annotations[translate.AnnotationNode]
		var n corev1.Node
		Expect(k8s.Get(ctx, client.ObjectKey{Name: node}, &n)).To(Succeed())
		wantEffective, _, conflict := merge.CheckAll([]frrv1beta1.FRRConfiguration{want}, nil, n.Labels, nil)
		Expect(conflict).To(BeNil())
		stored := w.storedSelecting(node)
		if len(stored) == 0 {
			problems = append(problems, node+": nothing stored")
			continue
		}
		got, _, conflict := merge.CheckAll(stored, nil, n.Labels, nil)
		switch {
		case conflict != nil:
			problems = append(problems, node+": "+conflict.Message)
		default:
			// Configs names the objects merged: those differ by design.
			got.Configs, wantEffective.Configs = nil, nil
			if !reflect.DeepEqual(got, wantEffective) {
				problems = append(problems, node+": the stored objects merge into another configuration")
			}
		}
	}
	return strings.Join(problems, "; ")
}

// sharedObjects lists the world's shared objects by name, with the nodes
// they list.
func (w *world) sharedObjects() map[string]string {
	var list frrv1beta1.FRRConfigurationList
	Expect(k8s.List(context.Background(), &list, client.InNamespace(w.out))).To(Succeed())
	out := map[string]string{}
	for _, c := range list.Items {
		if nodes := c.Annotations[layout.AnnotationNodes]; nodes != "" {
			out[c.Name] = nodes
		}
	}
	return out
}

var _ = Describe("The shared layout (--layout shared)", func() {
	It("gives every node, through shared and per-node objects, exactly the per-node layout's configuration, as services and nodes change", func() {
		w := newWorld()
		w.layout = layout.Shared
		for _, n := range []string{"a", "b", "c"} {
			w.addNode(n, nil)
		}
		w.apply(lifecycleInput)
		// More ETP-Cluster services than layout.DefaultMinSharedEntries:
		// they become one object selecting the three nodes.
		for i := range 20 {
			w.addService(fmt.Sprintf("svc-%d", i), fmt.Sprintf("198.51.100.%d", i+10), corev1.ServiceExternalTrafficPolicyCluster, "a")
		}
		w.addService("local", "198.51.100.200", corev1.ServiceExternalTrafficPolicyLocal, "a")
		w.start()

		all := strings.Join([]string{w.nodeName("a"), w.nodeName("b"), w.nodeName("c")}, ",")
		Eventually(w.sharedObjects).Should(HaveLen(1))
		Expect(maps(w.sharedObjects())).To(ConsistOf(all))
		Eventually(w.layoutMismatch).Should(BeEmpty())
		// The ETP-Local service stays in a's own object.
		Expect(advertised(w.oursFor("a"))["172.30.0.3"]).To(ContainElement("198.51.100.200/32"))
		Expect(advertised(w.oursFor("b"))["172.30.0.3"]).To(BeEmpty())

		By("a new service: one write, the shared object's")
		shared := w.sharedByName()
		ownBefore := w.oursFor("b")
		w.addService("one-more", "198.51.100.100", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(w.layoutMismatch).Should(BeEmpty())
		Expect(w.oursFor("b")).To(Equal(ownBefore), "the new service goes to the shared object only")
		Expect(w.sharedByName()).NotTo(Equal(shared))

		By("a node leaving the speakers: the shared object selects the two others")
		var c corev1.Node
		Expect(k8s.Get(context.Background(), client.ObjectKey{Name: w.nodeName("c")}, &c)).To(Succeed())
		delete(c.Labels, worldLabel)
		Expect(k8s.Update(context.Background(), &c)).To(Succeed())
		Eventually(func() []frrv1beta1.FRRConfiguration { return w.storedSelecting(w.nodeName("c")) }).Should(BeEmpty())
		Expect(maps(w.sharedObjects())).To(ConsistOf(w.nodeName("a") + "," + w.nodeName("b")))
		Eventually(w.layoutMismatch).Should(BeEmpty())
		// The Services' conditions follow (status passes are paced).
		names := []string{"local", "one-more"}
		for i := range 20 {
			names = append(names, fmt.Sprintf("svc-%d", i))
		}
		for _, name := range names {
			Eventually(func() string {
				if c := w.announcedCondition(name)(); c != nil {
					return c.Message
				}
				return ""
			}).Should(And(HavePrefix("Announced"), Not(ContainSubstring(w.nodeName("c")))), "Service %s", name)
		}

		By("at rest, no writes")
		before := w.mgr.writes.Total()
		Consistently(w.mgr.writes.Total).Should(Equal(before), w.mgr.writes.String())
	})

	It("removes the shared objects once every node has its per-node configuration again, after a restart with --layout per-node", func() {
		w := newWorld()
		w.layout = layout.Shared
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(lifecycleInput)
		for i := range 20 {
			w.addService(fmt.Sprintf("svc-%d", i), fmt.Sprintf("198.51.100.%d", i+10), corev1.ServiceExternalTrafficPolicyCluster, "a")
		}
		w.start()
		Eventually(w.sharedObjects).Should(HaveLen(1))
		Eventually(w.layoutMismatch).Should(BeEmpty())

		w.layout = layout.PerNode
		w.restart(0)
		Eventually(w.sharedObjects).Should(BeEmpty())
		Expect(w.layoutMismatch()).To(BeEmpty())
		// A withdrawn service leaves every node: nothing stale stays behind.
		Expect(k8s.Delete(context.Background(), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: w.in, Name: "svc-0"}})).To(Succeed())
		Eventually(w.layoutMismatch).Should(BeEmpty())
		Expect(advertised(w.oursFor("b"))["172.30.0.3"]).NotTo(ContainElement("198.51.100.10/32"))
	})

	It("keeps a held node's stored content in the shared objects while its input is invalid", func() {
		w := newWorld()
		w.layout = layout.Shared
		w.addNode("a", map[string]string{"rack": "one"})
		w.addNode("b", nil)
		w.apply(lifecycleInput)
		for i := range 20 {
			w.addService(fmt.Sprintf("svc-%d", i), fmt.Sprintf("198.51.100.%d", i+10), corev1.ServiceExternalTrafficPolicyCluster, "a")
		}
		w.start()
		Eventually(w.sharedObjects).Should(HaveLen(1))
		Eventually(w.layoutMismatch).Should(BeEmpty())
		before := advertised(w.storedMap(w.nodeName("a")))

		By("an invalid peer selecting only a holds a; b still converges")
		w.apply(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: broken
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 172.30.0.9
  bfdProfile: missing
  nodeSelectors:
  - matchLabels:
      rack: one
`)
		w.addService("one-more", "198.51.100.100", corev1.ServiceExternalTrafficPolicyCluster, "a")
		Eventually(func() []string { return advertised(w.storedMap(w.nodeName("b")))["172.30.0.3"] }).Should(ContainElement("198.51.100.100/32"))
		Consistently(func() map[string][]string { return advertised(w.storedMap(w.nodeName("a"))) }).Should(Equal(before))
	})
})

// storedMap is storedSelecting by name.
func (w *world) storedMap(node string) map[string]frrv1beta1.FRRConfiguration {
	out := map[string]frrv1beta1.FRRConfiguration{}
	for _, c := range w.storedSelecting(node) {
		out[c.Name] = c
	}
	return out
}

// sharedByName are the world's shared objects' specs, by name.
func (w *world) sharedByName() map[string]frrv1beta1.FRRConfigurationSpec {
	var list frrv1beta1.FRRConfigurationList
	Expect(k8s.List(context.Background(), &list, client.InNamespace(w.out))).To(Succeed())
	out := map[string]frrv1beta1.FRRConfigurationSpec{}
	for _, c := range list.Items {
		if c.Annotations[layout.AnnotationNodes] != "" {
			out[c.Name] = c.Spec
		}
	}
	return out
}

func maps(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
