package api_test

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/testenv"
)

// These specs pin the facts the harness is built on (hack/README.md).
var _ = Describe("the envtest control plane", func() {
	It("is kube-apiserver v1.35.4 with a version that clients can parse", func() {
		dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
		Expect(err).NotTo(HaveOccurred())
		v, err := dc.ServerVersion()
		Expect(err).NotTo(HaveOccurred())
		Expect(v.GitVersion).To(Equal("v1.35.4"))
		Expect(v.Major).To(Equal("1"))
		Expect(v.Minor).To(Equal("35"))
	})

	It("serves frrgen's kinds and frr-k8s's FRRConfiguration", func() {
		for _, gvk := range []schema.GroupVersionKind{
			testenv.IPAddressPoolGVK, testenv.BGPAdvertisementGVK, testenv.CommunityGVK,
			testenv.BFDProfileGVK, testenv.BGPPeerGVK, testenv.FRRConfigurationGVK,
		} {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			Expect(k8s.List(ctx, list, client.InNamespace(samplesNamespace))).To(Succeed(), "listing %s", gvk)
		}
		Expect(env.CRDs).To(ContainElements(
			"bgppeers.metallb.io", "bgpadvertisements.metallb.io", "communities.metallb.io",
			"bfdprofiles.metallb.io", "ipaddresspools.metallb.io", "frrconfigurations.frrk8s.metallb.io",
		))
	})

	It("hands out a kubeconfig that reaches the same apiserver", func() {
		path := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(env.WriteKubeconfig(path)).To(Succeed())
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSuffix(cfg.Host, "/")).To(Equal(strings.TrimSuffix(env.Config.Host, "/")))
		c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		ns := &corev1.Namespace{}
		Expect(c.Get(ctx, client.ObjectKey{Name: samplesNamespace}, ns)).To(Succeed())
	})

	It("accepts an frr-k8s v0.0.21 FRRConfiguration whose asn is above the int32 range", func() {
		// The CRD declares asn as format int32 with maximum 4294967295;
		// kube-apiserver 1.36+ refuses such objects, 1.35 stores them.
		fc := &unstructured.Unstructured{Object: map[string]any{
			"spec": map[string]any{"bgp": map[string]any{"routers": []any{map[string]any{
				"asn": int64(4200000000),
				"neighbors": []any{map[string]any{
					"address": "192.0.2.1",
					"asn":     int64(4200000001),
				}},
			}}}},
		}}
		fc.SetGroupVersionKind(testenv.FRRConfigurationGVK)
		fc.SetNamespace(samplesNamespace)
		fc.SetName("four-byte-asn")
		Expect(k8s.Create(ctx, fc)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, fc))).To(Succeed()) })

		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(testenv.FRRConfigurationGVK)
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(fc), stored)).To(Succeed())
		routers, _, err := unstructured.NestedSlice(stored.Object, "spec", "bgp", "routers")
		Expect(err).NotTo(HaveOccurred())
		Expect(routers).To(HaveLen(1))
		Expect(routers[0]).To(HaveKeyWithValue("asn", int64(4200000000)))
	})
})
