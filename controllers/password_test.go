package controllers_test

import (
	"context"
	"encoding/json"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/ownership"
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
  annotations:
    frrgen.io/bgp-peers: peer
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
		Expect(mirror.Annotations).To(HaveKeyWithValue(ownership.AnnotationProof, Not(BeEmpty())))
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

	It("does not mirror a Secret whose owner has not allowed the BGPPeer to use it, and says exactly what to add", func() {
		ctx := context.Background()
		w := newWorld()
		w.addNode("a", nil)
		// Another team's basic-auth Secret; the BGPPeer's author may not read it.
		w.apply(`
apiVersion: v1
kind: Secret
metadata:
  name: team-auth
  namespace: metallb-system
type: kubernetes.io/basic-auth
stringData:
  username: deploy
  password: not-for-bgp
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: mine
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 172.30.0.9
  passwordSecret:
    name: team-auth
`)
		w.start()

		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "mine")}
		valid := conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionValid)
		Eventually(valid).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring(`BGPPeer `+w.in+`/mine: spec.passwordSecret.name: Secret "team-auth" has not allowed BGPPeer "mine" to use it as a BGP password; `+
				`its owner must annotate it: kubectl annotate secret -n `+w.in+` team-auth frrgen.io/bgp-peers=mine`)),
		))
		mirrored := func() []corev1.Secret {
			var list corev1.SecretList
			Expect(k8s.List(ctx, &list, client.InNamespace(w.out))).To(Succeed())
			return list.Items
		}
		Consistently(mirrored).Should(BeEmpty())
		Expect(w.config("a")).To(BeNil())

		// The Secret's owner opts in: it is mirrored and used.
		source := &corev1.Secret{ObjectMeta: metavIn(w.in, "team-auth")}
		edit(source, func() { source.Annotations = map[string]string{translate.AnnotationAllowedPeers: "mine"} })
		Eventually(valid).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(mirrored).Should(ConsistOf(HaveField("Data", HaveKeyWithValue("password", []byte("not-for-bgp")))))
		Eventually(w.neighbors("a")).Should(HaveKey("172.30.0.9"))
	})
})
