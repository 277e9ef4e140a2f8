package api_test

import (
	"encoding/json"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/badinput"
	"github.com/frrgen/frrgen/internal/boundary"
)

// The shared table of bad inputs (internal/badinput), fed to the real
// apiserver; internal/translate's TestBadInputTable feeds the same cases to
// translate.Build.
var _ = Describe("the bad-input table at admission", func() {
	create := func(obj map[string]any) error {
		// Through JSON, as kubectl sends it (and a fresh copy per attempt).
		data, err := json.Marshal(obj)
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		Expect(u.UnmarshalJSON(data)).To(Succeed())
		err = k8s.Create(ctx, u)
		if err == nil {
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, u))).To(Succeed()) })
		}
		return err
	}
	for _, c := range badinput.Cases() {
		if !strings.HasPrefix(c.Object["apiVersion"].(string), "metallb.io/") {
			continue // Services and EndpointSlices: the apiserver's own rules, not ours
		}
		switch c.Stage {
		case badinput.Admission, badinput.AdmissionAndDecode:
			It("refuses "+c.Name+", naming "+c.Field, func() {
				expectRefusedOn(create(c.Object), c.Field)
			})
		case badinput.TranslateOnly:
			It("admits "+c.Name+" (translate's job: it needs other objects)", func() {
				Expect(create(c.Object)).To(Succeed())
			})
		}
	}
})

// expectRefusedOn asserts an Invalid (422) error with a cause on field, and
// no CEL evaluation error. A rule on the object's root (the BFDProfile name
// limit) has no field of its own; its message names the field instead.
func expectRefusedOn(err error, field string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the apiserver accepted the object")
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid (422) error, got %v", err)
	causes := statusCauses(err)
	Expect(causes).NotTo(ContainElement(HaveField("Message", ContainSubstring("evaluating rule"))),
		"a CEL rule failed to evaluate instead of reporting the mistake: %v", err)
	Expect(causes).To(ContainElement(Or(
		HaveField("Field", field),
		And(HaveField("Field", BeElementOf("", "<nil>")), HaveField("Message", ContainSubstring(" "+field+": "))),
	)), "error %q has no cause on %s", err, field)
}

var _ = Describe("boundary values at admission", func() {
	It("admits every accepted boundary object", func() {
		objs := boundary.Objects(samplesNamespace)
		Expect(objs).NotTo(BeEmpty())
		for _, obj := range objs {
			Expect(k8s.Create(ctx, obj)).To(Succeed(), "%T %s", obj, obj.GetName())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, obj))).To(Succeed()) })
		}
	})
})
