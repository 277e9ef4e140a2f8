package controllers_test

import (
	"context"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
)

var _ = Describe("Manifests", func() {
	It("builds config/default with kustomize and the apiserver accepts every object in a server-side dry-run apply", func() {
		ctx := context.Background()
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).
			Run(filesys.MakeFsOnDisk(), filepath.Join(env.RepoRoot, "config", "default"))
		Expect(err).NotTo(HaveOccurred())

		// frr-k8s's namespace is a prerequisite; a dry-run cannot create the
		// namespace the other objects go to.
		for _, ns := range []string{"metallb-system", "frr-k8s-system"} {
			err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
		}
		kinds := map[string]int{}
		for _, resource := range resources.Resources() {
			object, err := resource.Map()
			Expect(err).NotTo(HaveOccurred())
			u := unstructuredFrom(object)
			kinds[u.GetKind()]++
			err = k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
				client.FieldOwner("frrgen-manifests-test"), client.ForceOwnership, client.DryRunAll)
			Expect(err).NotTo(HaveOccurred(), "%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
		}
		Expect(kinds).To(Equal(map[string]int{
			"ServiceAccount":      1,
			"ClusterRole":         3,
			"ClusterRoleBinding":  2,
			"Role":                2,
			"RoleBinding":         2,
			"Deployment":          1,
			"Service":             1,
			"PodDisruptionBudget": 1,
			// config/policy: frrgen writes only what it owns.
			"ValidatingAdmissionPolicy":        1,
			"ValidatingAdmissionPolicyBinding": 1,
		}))

		// Dry-run: nothing was created.
		err = k8s.Get(ctx, client.ObjectKey{Namespace: "metallb-system", Name: "frrgen"}, &appsv1.Deployment{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())

		var deployment appsv1.Deployment
		for _, resource := range resources.Resources() {
			if resource.GetKind() == "Deployment" {
				object, err := resource.Map()
				Expect(err).NotTo(HaveOccurred())
				Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(object, &deployment)).To(Succeed())
			}
		}
		Expect(deployment.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		container := deployment.Spec.Template.Spec.Containers[0]
		Expect(container.Args).To(ContainElements("controller", "--leader-elect=true", "--metrics-secure=true"))
		Expect(container.LivenessProbe).NotTo(BeNil())
		Expect(container.ReadinessProbe).NotTo(BeNil())
	})
})

// The install layout: what `kubectl delete -k` of each overlay removes.
// kubectl deletes every object of the build that exists, so each overlay is
// applied for real first (config/crd's CRDs are installed already) and then
// deleted with a server-side dry run, object by object.
var _ = Describe("Uninstall", func() {
	ctx := context.Background()

	BeforeEach(func() {
		for _, ns := range []string{"metallb-system", "frr-k8s-system"} {
			err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
		}
	})

	It("kubectl delete -k config/default removes frrgen's own objects and nothing of MetalLB's or frr-k8s's", func() {
		// A MetalLB object and one of frrgen's outputs, which must survive.
		pool := &metallbv1beta1.IPAddressPool{
			ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "uninstall-survivor"},
			Spec:       metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"198.51.100.0/24"}},
		}
		Expect(k8s.Create(ctx, pool)).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, pool)).To(Succeed()) })

		objects := buildOverlay("default")
		for _, u := range objects {
			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()),
				client.FieldOwner("frrgen-uninstall-test"), client.ForceOwnership)).To(Succeed(), describeObject(u))
		}
		DeferCleanup(func() {
			for _, u := range objects {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, u.DeepCopy()))).To(Succeed())
			}
		})

		Expect(dryRunDelete(objects)).To(ConsistOf(
			"ServiceAccount metallb-system/frrgen",
			"ClusterRole frrgen-manager",
			"ClusterRole frrgen-metrics-auth",
			"ClusterRole frrgen-metrics-reader",
			"ClusterRoleBinding frrgen-manager",
			"ClusterRoleBinding frrgen-metrics-auth",
			"Role frr-k8s-system/frrgen-manager",
			"Role metallb-system/frrgen-manager",
			"RoleBinding frr-k8s-system/frrgen-manager",
			"RoleBinding metallb-system/frrgen-manager",
			"Deployment metallb-system/frrgen",
			"Service metallb-system/frrgen-metrics",
			"ValidatingAdmissionPolicy frrgen-writes-only-its-own",
			"ValidatingAdmissionPolicyBinding frrgen-writes-only-its-own",
			"PodDisruptionBudget metallb-system/frrgen",
		))

		// Nothing the dry run would delete is MetalLB's: both namespaces,
		// the metallb.io CRDs and the pool are still there.
		for _, ns := range []string{"metallb-system", "frr-k8s-system"} {
			Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})).To(Succeed())
		}
		for _, crd := range []string{"bgppeers", "bgpadvertisements", "communities", "bfdprofiles", "ipaddresspools"} {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
			Expect(k8s.Get(ctx, client.ObjectKey{Name: crd + ".metallb.io"}, u)).To(Succeed())
		}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pool), &metallbv1beta1.IPAddressPool{})).To(Succeed())
	})

	It("kubectl delete -k config/crd removes exactly the nine metallb.io CRDs (standalone mode only)", func() {
		objects := buildOverlay("crd")
		for _, u := range objects {
			Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()),
				client.FieldOwner("frrgen-uninstall-test"), client.ForceOwnership, client.DryRunAll)).To(Succeed(), describeObject(u))
		}
		Expect(dryRunDelete(objects)).To(ConsistOf(
			"CustomResourceDefinition bgppeers.metallb.io",
			"CustomResourceDefinition bgpadvertisements.metallb.io",
			"CustomResourceDefinition communities.metallb.io",
			"CustomResourceDefinition bfdprofiles.metallb.io",
			"CustomResourceDefinition ipaddresspools.metallb.io",
			"CustomResourceDefinition l2advertisements.metallb.io",
			"CustomResourceDefinition servicel2statuses.metallb.io",
			"CustomResourceDefinition servicebgpstatuses.metallb.io",
			"CustomResourceDefinition configurationstates.metallb.io",
		))
	})
})

// buildOverlay runs kustomize on config/<name>.
func buildOverlay(name string) []*unstructured.Unstructured {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).
		Run(filesys.MakeFsOnDisk(), filepath.Join(env.RepoRoot, "config", name))
	Expect(err).NotTo(HaveOccurred())
	var objects []*unstructured.Unstructured
	for _, resource := range resources.Resources() {
		// Through JSON, so that numbers are int64 as DeepCopy wants.
		data, err := resource.MarshalJSON()
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		Expect(u.UnmarshalJSON(data)).To(Succeed())
		objects = append(objects, u)
	}
	return objects
}

// dryRunDelete deletes each object with a server-side dry run and returns
// those the apiserver would delete.
func dryRunDelete(objects []*unstructured.Unstructured) []string {
	var deleted []string
	for _, u := range objects {
		err := k8s.Delete(context.Background(), u.DeepCopy(), client.DryRunAll)
		if apierrors.IsNotFound(err) {
			continue
		}
		Expect(err).NotTo(HaveOccurred(), describeObject(u))
		deleted = append(deleted, describeObject(u))
		// A dry run deletes nothing.
		Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(u), u.DeepCopy())).To(Succeed())
	}
	return deleted
}

func describeObject(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetKind() + " " + u.GetName()
	}
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}
