package controllers_test

import (
	"context"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
			"CustomResourceDefinition": 5,
			"Namespace":                1,
			"ServiceAccount":           1,
			"ClusterRole":              1,
			"ClusterRoleBinding":       1,
			"Role":                     2,
			"RoleBinding":              2,
			"Deployment":               1,
			"Service":                  1,
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
		Expect(container.Args).To(ContainElements("controller", "--leader-elect=true"))
		Expect(container.LivenessProbe).NotTo(BeNil())
		Expect(container.ReadinessProbe).NotTo(BeNil())
	})
})
