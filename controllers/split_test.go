package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/ownership"
	"github.com/frrgen/frrgen/internal/translate"
)

// oursFor lists the FRRConfigurations frrgen wrote for a node, by name.
func (w *world) oursFor(short string) map[string]frrv1beta1.FRRConfiguration {
	var list frrv1beta1.FRRConfigurationList
	Expect(k8s.List(context.Background(), &list, client.InNamespace(w.out))).To(Succeed())
	out := map[string]frrv1beta1.FRRConfiguration{}
	for _, c := range list.Items {
		if c.Annotations[translate.AnnotationNode] == w.nodeName(short) {
			out[c.Name] = c
		}
	}
	return out
}

// advertised is the union, over a node's objects, of each neighbor's
// advertised prefixes: what frr-k8s merges them into.
func advertised(objects map[string]frrv1beta1.FRRConfiguration) map[string][]string {
	out := map[string][]string{}
	for _, c := range objects {
		for _, r := range c.Spec.BGP.Routers {
			for _, n := range r.Neighbors {
				out[n.Address] = append(out[n.Address], n.ToAdvertise.Allowed.Prefixes...)
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

var _ = Describe("Large node configurations", func() {
	It("are written as self-contained shards under --max-object-bytes, and one new service rewrites one shard", func() {
		const limit = 2500
		w := newWorld()
		w.maxObjectBytes = limit
		w.addNode("a", nil)
		w.apply(lifecycleInput)
		var want []string
		for i := range 60 {
			ip := fmt.Sprintf("198.51.100.%d", i+10)
			w.addService(fmt.Sprintf("svc-%d", i), ip, corev1.ServiceExternalTrafficPolicyCluster, "a")
			want = append(want, ip+"/32")
		}
		slices.Sort(want)
		w.start()

		Eventually(func() map[string][]string { return advertised(w.oursFor("a")) }).Should(Equal(map[string][]string{"172.30.0.3": want}))
		shards := w.oursFor("a")
		Expect(len(shards)).To(BeNumerically(">", 1))
		for name, c := range shards {
			raw, err := json.Marshal(c.Spec)
			Expect(err).NotTo(HaveOccurred())
			Expect(len(raw)).To(BeNumerically("<", limit), name)
			Expect(c.Annotations).To(HaveKey(layout.AnnotationShard), name)
			Expect(c.Annotations).To(HaveKeyWithValue(ownership.AnnotationProof, Not(BeEmpty())), name)
			// Each shard repeats the session.
			Expect(c.Spec.BGP.Routers).To(HaveLen(1), name)
			Expect(c.Spec.BGP.Routers[0].Neighbors).To(ContainElement(HaveField("Address", "172.30.0.3")), name)
		}
		Expect(metricValue("frrgen_node_objects", map[string]string{"node": w.nodeName("a")})).To(BeEquivalentTo(len(shards)))

		w.addService("one-more", "198.51.100.200", corev1.ServiceExternalTrafficPolicyCluster, "a")
		want = append(want, "198.51.100.200/32")
		slices.Sort(want)
		Eventually(func() map[string][]string { return advertised(w.oursFor("a")) }).Should(Equal(map[string][]string{"172.30.0.3": want}))
		after := w.oursFor("a")
		Expect(len(after)).To(Equal(len(shards)))
		changed := 0
		for name, c := range after {
			if c.ResourceVersion != shards[name].ResourceVersion {
				changed++
			}
		}
		Expect(changed).To(Equal(1), "one new service must rewrite exactly one shard")
	})
})
