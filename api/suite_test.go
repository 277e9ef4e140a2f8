// Package api_test checks frrgen's metallb.io CRDs against a real
// kube-apiserver: the seed samples apply unchanged, and malformed objects are
// refused at admission with an error naming the field.
package api_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/testenv"
)

// samplesNamespace is where every seed sample lives.
const samplesNamespace = "metallb-system"

var (
	env *testenv.Env
	k8s client.Client
	ctx = context.Background()
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "metallb.io API against kube-apiserver (envtest)")
}

var _ = BeforeSuite(func() {
	var err error
	env, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8s = env.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: samplesNamespace}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
})

var _ = AfterSuite(func() {
	Expect(env.Stop()).To(Succeed())
})
