package api_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = DescribeTable("status is a subresource with a Valid condition",
	func(obj *unstructured.Unstructured) {
		condition := map[string]any{
			"type":               "Valid",
			"status":             "False",
			"reason":             "Invalid",
			"message":            "written by the test",
			"lastTransitionTime": "2026-01-01T00:00:00Z",
		}
		withStatus := obj.DeepCopy()
		Expect(unstructured.SetNestedSlice(withStatus.Object, []any{condition}, "status", "conditions")).To(Succeed())

		By("dropping status sent with the main resource")
		Expect(k8s.Create(ctx, withStatus)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, withStatus))).To(Succeed()) })
		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(obj.GroupVersionKind())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(withStatus), stored)).To(Succeed())
		_, found, err := unstructured.NestedSlice(stored.Object, "status", "conditions")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeFalse(), "status.conditions were stored through the main resource")

		By("keeping status written through /status")
		Expect(unstructured.SetNestedSlice(stored.Object, []any{condition}, "status", "conditions")).To(Succeed())
		Expect(k8s.Status().Update(ctx, stored)).To(Succeed())
		again := &unstructured.Unstructured{}
		again.SetGroupVersionKind(obj.GroupVersionKind())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(stored), again)).To(Succeed())
		conditions, _, err := unstructured.NestedSlice(again.Object, "status", "conditions")
		Expect(err).NotTo(HaveOccurred())
		Expect(conditions).To(ConsistOf(HaveKeyWithValue("message", "written by the test")))
	},
	Entry("BGPPeer", peer()),
	Entry("BGPAdvertisement", advertisement()),
	Entry("IPAddressPool", pool()),
	Entry("Community", community()),
	Entry("BFDProfile", bfdProfile()),
)
