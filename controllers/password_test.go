package controllers_test

import (
	"context"
	"encoding/json"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

var _ = Describe("Password Secrets", func() {
	It("mirrors a peer's passwordSecret into the frr-k8s namespace, never writes the password into an FRRConfiguration, and removes the copy when unused", func() {
		ctx := context.Background()
		const cleartext = "s3cr3t-password"
		w := newWorld()
		w.addNode("a", nil)
		w.apply(`
apiVersion: v1
kind: Secret
metadata:
  name: bgp-pass
  namespace: metallb-system
type: kubernetes.io/basic-auth
stringData:
  password: ` + cleartext + `
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 172.30.0.3
  passwordSecret:
    name: bgp-pass
`)
		w.start()

		Eventually(w.neighbors("a")).Should(HaveKey("172.30.0.3"))
		neighbor := w.config("a").Spec.BGP.Routers[0].Neighbors[0]
		Expect(neighbor.Password).To(BeEmpty())
		Expect(neighbor.PasswordSecret.Name).NotTo(BeEmpty())

		mirror := &corev1.Secret{}
		Eventually(k8s.Get).WithArguments(ctx, client.ObjectKey{Namespace: w.out, Name: neighbor.PasswordSecret.Name}, mirror).Should(Succeed())
		Expect(mirror.Type).To(Equal(corev1.SecretTypeBasicAuth))
		Expect(mirror.Labels).To(HaveKeyWithValue(translate.LabelManagedBy, translate.ManagedByValue))
		Expect(string(mirror.Data["password"])).To(Equal(cleartext))

		var configs frrv1beta1.FRRConfigurationList
		Expect(k8s.List(ctx, &configs, client.InNamespace(w.out))).To(Succeed())
		raw, err := json.Marshal(configs)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).NotTo(ContainSubstring(cleartext))

		// A new password reaches the copy.
		source := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: "bgp-pass"}, source)).To(Succeed())
		source.Data["password"] = []byte("rotated")
		Expect(k8s.Update(ctx, source)).To(Succeed())
		Eventually(func() string {
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(mirror), mirror)).To(Succeed())
			return string(mirror.Data["password"])
		}).Should(Equal("rotated"))

		// No peer references it any more: the copy goes.
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "peer")}
		edit(peer, func() { peer.Spec.PasswordSecret = metallbv1beta2.SecretReference{} })
		Eventually(func() bool {
			return client.IgnoreNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(mirror), mirror)) == nil &&
				k8s.Get(ctx, client.ObjectKeyFromObject(mirror), mirror) != nil
		}).Should(BeTrue())
		Eventually(func() string { return w.config("a").Spec.BGP.Routers[0].Neighbors[0].PasswordSecret.Name }).Should(BeEmpty())
	})
})
