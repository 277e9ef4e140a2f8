package api_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/frrgen/frrgen/internal/testenv"
)

// seedSamples are the documents of the seed page
// (advanced-bgp-configuration.md), in page order, as stored in
// config/samples. The list is explicit so that a lost or renamed file fails
// the suite instead of silently shrinking it.
var seedSamples = []string{
	"metallb.io_v1beta1_ipaddresspool_first-pool.yaml",
	"metallb.io_v1beta1_bgpadvertisement_local.yaml",
	"metallb.io_v1beta1_bgpadvertisement_external.yaml",
	"metallb.io_v1beta2_bgppeer_example-node-selectors.yaml",
	"metallb.io_v1beta1_bgpadvertisement_example-node-selectors.yaml",
	"metallb.io_v1beta1_bgpadvertisement_example-peers.yaml",
	"metallb.io_v1beta2_bgppeer_example-source-address.yaml",
	"metallb.io_v1beta1_community_communities.yaml",
	"metallb.io_v1beta1_bgpadvertisement_local-community-alias.yaml",
	"metallb.io_v1beta2_bgppeer_example-vrf.yaml",
	"metallb.io_v1beta2_bgppeer_peer.yaml",
	"frrk8s.metallb.io_v1beta1_frrconfiguration_with-recv.yaml",
	"metallb.io_v1beta2_bgppeer_example-graceful-restart.yaml",
}

const fieldOwner = client.FieldOwner("frrgen-api-test")

func samplesDir() string {
	root, err := testenv.RepoRoot()
	if err != nil {
		panic(err)
	}
	return filepath.Join(root, "config", "samples")
}

// readSample decodes one sample file into an unstructured object, checking
// that it is exactly one document.
func readSample(name string) *unstructured.Unstructured {
	data, err := os.ReadFile(filepath.Join(samplesDir(), name))
	Expect(err).NotTo(HaveOccurred())
	Expect(strings.Contains(string(data), "\n---")).To(BeFalse(), "%s must hold one YAML document", name)
	js, err := yaml.YAMLToJSON(data)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	Expect(u.UnmarshalJSON(js)).To(Succeed())
	return u
}

// typedFor returns an empty Go object of the sample's kind, from the suite's scheme.
func typedFor(u *unstructured.Unstructured) client.Object {
	obj, err := testenv.Scheme().New(u.GroupVersionKind())
	Expect(err).NotTo(HaveOccurred(), "kind %s is not in the scheme", u.GroupVersionKind())
	return obj.(client.Object)
}

var _ = Describe("config/samples", func() {
	It("holds exactly the seed page's documents", func() {
		entries, err := os.ReadDir(samplesDir())
		Expect(err).NotTo(HaveOccurred())
		var yamls []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".yaml") {
				yamls = append(yamls, e.Name())
			}
		}
		want := append([]string(nil), seedSamples...)
		sort.Strings(want)
		Expect(yamls).To(Equal(want))
	})

	for _, name := range seedSamples {
		It("applies "+name+" with server-side apply and reads it back unchanged", func() {
			applied := readSample(name)
			Expect(applied.GetNamespace()).To(Equal(samplesNamespace))

			By("decoding strictly into the Go type, so no field of the sample is unknown to our API")
			data, err := os.ReadFile(filepath.Join(samplesDir(), name))
			Expect(err).NotTo(HaveOccurred())
			typed := typedFor(applied)
			Expect(yaml.UnmarshalStrict(data, typed)).To(Succeed())

			By("applying it")
			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied.DeepCopy()), fieldOwner, client.ForceOwnership)).To(Succeed())
			DeferCleanup(func() {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, applied.DeepCopy()))).To(Succeed())
				Eventually(func() error {
					return k8s.Get(ctx, client.ObjectKeyFromObject(applied), applied.DeepCopy())
				}).Should(Satisfy(apierrors.IsNotFound))
			})

			By("reading it back: every field written must be stored with the same value")
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(applied.GroupVersionKind())
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(applied), stored)).To(Succeed())
			Expect(subsetDiff(applied.Object, stored.Object)).To(BeEmpty())

			By("reading it back through the Go type: every field written survives the round trip")
			fresh := typedFor(applied)
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(applied), fresh)).To(Succeed())
			roundTrip, err := runtime.DefaultUnstructuredConverter.ToUnstructured(fresh)
			Expect(err).NotTo(HaveOccurred())
			Expect(subsetDiff(applied.Object["spec"], roundTrip["spec"])).To(BeEmpty())

			By("applying it again, which must not change the stored object")
			rv := stored.GetResourceVersion()
			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied.DeepCopy()), fieldOwner, client.ForceOwnership)).To(Succeed())
			again := &unstructured.Unstructured{}
			again.SetGroupVersionKind(applied.GroupVersionKind())
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(applied), again)).To(Succeed())
			Expect(again.GetResourceVersion()).To(Equal(rv))
		})
	}

	DescribeTable("the apiserver fills MetalLB's defaults",
		func(name string, field []string, want any) {
			applied := readSample(name)
			_, found, err := unstructured.NestedFieldNoCopy(applied.Object, field...)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeFalse(), "the sample must leave %v unset for this check to mean anything", field)

			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied.DeepCopy()), fieldOwner, client.ForceOwnership)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, applied.DeepCopy()))).To(Succeed()) })
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(applied.GroupVersionKind())
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(applied), stored)).To(Succeed())
			got, found, err := unstructured.NestedFieldNoCopy(stored.Object, field...)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue(), "%v was not defaulted", field)
			Expect(got).To(Equal(want))
		},
		Entry("BGPPeer peerPort 179", "metallb.io_v1beta2_bgppeer_peer.yaml", []string{"spec", "peerPort"}, int64(179)),
		Entry("BGPAdvertisement aggregationLength 32", "metallb.io_v1beta1_bgpadvertisement_example-peers.yaml", []string{"spec", "aggregationLength"}, int64(32)),
		Entry("BGPAdvertisement aggregationLengthV6 128", "metallb.io_v1beta1_bgpadvertisement_local.yaml", []string{"spec", "aggregationLengthV6"}, int64(128)),
		Entry("IPAddressPool autoAssign true", "metallb.io_v1beta1_ipaddresspool_first-pool.yaml", []string{"spec", "autoAssign"}, true),
	)
})
