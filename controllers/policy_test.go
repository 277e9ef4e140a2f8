package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/controllers"
	"github.com/frrgen/frrgen/internal/translate"
)

// installAccessControl creates config/rbac and config/policy, as `kubectl
// apply -k config/default` would, for the world: metallb-system and
// frr-k8s-system become its namespaces (the ServiceAccount's too), and the
// cluster-scoped objects get the world's id in their name. It returns a
// rest.Config that impersonates frrgen's ServiceAccount, once the apiserver
// enforces the policy (it loads policies asynchronously).
func (w *world) installAccessControl() *rest.Config {
	GinkgoHelper()
	ctx := context.Background()
	decoder := serializer.NewCodecFactory(controllers.Scheme()).UniversalDeserializer()
	for _, file := range []string{"rbac/service_account.yaml", "rbac/role.yaml", "rbac/role_binding.yaml", "policy/policy.yaml"} {
		data, err := os.ReadFile(filepath.Join(env.RepoRoot, "config", file))
		Expect(err).NotTo(HaveOccurred())
		text := strings.NewReplacer(
			"metallb-system", w.in, "frr-k8s-system", w.out,
			"name: frrgen-manager", "name: frrgen-manager-"+w.id,
			"frrgen-writes-only-its-own", "frrgen-writes-only-its-own-"+w.id,
		).Replace(string(data))
		for _, doc := range strings.Split(text, "\n---\n") {
			obj, _, err := decoder.Decode([]byte(doc), nil, nil)
			Expect(err).NotTo(HaveOccurred(), doc)
			o := obj.(client.Object)
			Expect(k8s.Create(ctx, o)).To(Succeed(), doc)
			DeferCleanup(func() { _ = client.IgnoreNotFound(k8s.Delete(context.Background(), o)) })
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + w.in + ":frrgen",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + w.in, "system:authenticated"},
	}
	asFrrgen, err := client.New(cfg, client.Options{Scheme: controllers.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	// A dry run goes through admission and changes nothing.
	Eventually(func() error {
		return asFrrgen.Create(ctx, &corev1.Secret{ObjectMeta: metavIn(w.out, "probe")}, client.DryRunAll)
	}).Should(MatchError(ContainSubstring("frrgen may not CREATE secrets " + w.out + "/probe")))
	return cfg
}

var _ = Describe("Least privilege", func() {
	ctx := context.Background()

	It("refuses frrgen's ServiceAccount any write to a Secret, FRRConfiguration or ServiceBGPStatus it does not own", func() {
		w := newWorld()
		asFrrgen, err := client.New(w.installAccessControl(), client.Options{Scheme: controllers.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		userSecret := &corev1.Secret{ObjectMeta: metavIn(w.out, "users-secret"), StringData: map[string]string{"k": "v"}}
		Expect(k8s.Create(ctx, userSecret)).To(Succeed())
		userConfig := &frrv1beta1.FRRConfiguration{ObjectMeta: metavIn(w.out, "users-config")}
		Expect(k8s.Create(ctx, userConfig)).To(Succeed())
		ourLabel := map[string]string{translate.LabelManagedBy: translate.ManagedByValue}
		labelled := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.out, Name: "labelled", Labels: ourLabel}}
		Expect(k8s.Create(ctx, labelled)).To(Succeed())

		denied := func(err error) {
			GinkgoHelper()
			Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("frrgen may not"))
		}
		stolen := userSecret.DeepCopy()
		stolen.StringData = map[string]string{"k": "stolen"}
		err = asFrrgen.Update(ctx, stolen)
		denied(err)
		Expect(err).To(MatchError(ContainSubstring("frrgen may not UPDATE secrets " + w.out + "/users-secret: it is not labelled app.kubernetes.io/managed-by=frrgen")))

		denied(asFrrgen.Delete(ctx, userSecret.DeepCopy()))
		updatedConfig := userConfig.DeepCopy()
		updatedConfig.Spec.BGP.Routers = []frrv1beta1.Router{{ASN: 64512}}
		denied(asFrrgen.Update(ctx, updatedConfig))
		denied(asFrrgen.Delete(ctx, userConfig.DeepCopy()))
		denied(asFrrgen.Create(ctx, &corev1.Secret{ObjectMeta: metavIn(w.out, "unlabelled")}))
		denied(asFrrgen.Create(ctx, &frrv1beta1.FRRConfiguration{ObjectMeta: metavIn(w.out, "unlabelled")}))
		// Removing our label from an object would make it no longer ours.
		unlabel := labelled.DeepCopy()
		unlabel.Labels = nil
		denied(asFrrgen.Update(ctx, unlabel))
		// In its own namespace, only the ownership key may be created.
		denied(asFrrgen.Create(ctx, &corev1.Secret{ObjectMeta: metavIn(w.in, "another-secret")}))
		// RBAC: no Secret writes in any other namespace.
		Expect(apierrors.IsForbidden(asFrrgen.Create(ctx, &corev1.Secret{ObjectMeta: metavIn("default", "frrgen-"+w.id)}))).To(BeTrue())

		// MetalLB's speakers' ServiceBGPStatuses are not frrgen's either.
		speakers := &metallbv1beta1.ServiceBGPStatus{ObjectMeta: metavIn(w.in, "bgp-speakers")}
		Expect(k8s.Create(ctx, speakers)).To(Succeed())
		changed := speakers.DeepCopy()
		changed.Status.Peers = []string{"x"}
		denied(asFrrgen.Status().Patch(ctx, changed, client.MergeFrom(speakers)))
		denied(asFrrgen.Delete(ctx, speakers.DeepCopy()))
		denied(asFrrgen.Create(ctx, &metallbv1beta1.ServiceBGPStatus{ObjectMeta: metavIn(w.in, "unlabelled")}))

		// What it owns, it may write.
		Expect(asFrrgen.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.out, Name: "ours", Labels: ourLabel}})).To(Succeed())
		ourStatus := &metallbv1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{Namespace: w.in, Name: "ours", Labels: ourLabel}}
		Expect(asFrrgen.Create(ctx, ourStatus)).To(Succeed())
		withPeers := ourStatus.DeepCopy()
		withPeers.Status.Peers = []string{"tor"}
		Expect(asFrrgen.Status().Patch(ctx, withPeers, client.MergeFrom(ourStatus))).To(Succeed())
		Expect(asFrrgen.Delete(ctx, ourStatus)).To(Succeed())
		Expect(asFrrgen.Delete(ctx, labelled)).To(Succeed())

		// Nothing of the user's changed.
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(userSecret), userSecret)).To(Succeed())
		Expect(userSecret.Data).To(HaveKeyWithValue("k", []byte("v")))
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(userConfig), userConfig)).To(Succeed())
		Expect(userConfig.Spec.BGP.Routers).To(BeEmpty())
	})

	It("converges the seed example with a password Secret as frrgen's ServiceAccount, under config/rbac and config/policy only", func() {
		w := newWorld()
		cfg := w.installAccessControl()
		w.addNode("a", nil)
		w.addNode("b", nil)
		w.apply(samples("metallb.io_v1beta1_ipaddresspool_first-pool.yaml", "metallb.io_v1beta1_bgpadvertisement_local.yaml",
			"metallb.io_v1beta1_bgpadvertisement_external.yaml", "metallb.io_v1beta2_bgppeer_peer.yaml", "metallb.io_v1beta1_community_communities.yaml"))
		w.apply(`
apiVersion: v1
kind: Secret
metadata:
  name: bgp-auth
  namespace: metallb-system
  annotations:
    frrgen.io/bgp-peers: with-password
type: kubernetes.io/basic-auth
stringData:
  password: s3cret
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: with-password
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 172.30.0.9
  passwordSecret:
    name: bgp-auth
`)
		// A user's Secret and configuration next to ours: frrgen leaves them be.
		userSecret := &corev1.Secret{ObjectMeta: metavIn(w.out, "users-secret")}
		Expect(k8s.Create(ctx, userSecret)).To(Succeed())
		w.addService("web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
		w.mgr = startManagerAs(cfg, w.options, 0, 0)
		DeferCleanup(func() { w.mgr.stop() })

		for _, node := range []string{"a", "b"} {
			Eventually(w.viewOf).WithArguments(node).Should(Equal(&view{
				Neighbors: map[string][]string{
					"172.30.0.3": {"198.51.100.0/24", "198.51.100.10/32"},
					"172.30.0.9": {"198.51.100.0/24", "198.51.100.10/32"},
				},
				LocalPref: map[string]uint32{"172.30.0.3 198.51.100.10/32": 100, "172.30.0.9 198.51.100.10/32": 100},
				Communities: map[string][]string{
					"172.30.0.3 198.51.100.10/32": {"65535:65282"},
					"172.30.0.9 198.51.100.10/32": {"65535:65282"},
				},
			}), "node %s", node)
		}
		mirror := w.config("a").Spec.BGP.Routers[0].Neighbors[1].PasswordSecret.Name
		Expect(mirror).NotTo(BeEmpty())
		Eventually(k8s.Get).WithArguments(ctx, client.ObjectKey{Namespace: w.out, Name: mirror}, &corev1.Secret{}).Should(Succeed())
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: w.in, Name: controllers.OwnershipKeySecret}, &corev1.Secret{})).To(Succeed())

		for _, name := range []string{"peer", "with-password"} {
			peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, name)}
			Eventually(conditionOf(peer, func() []metav1.Condition { return peer.Status.Conditions }, metallbv1beta1.ConditionValid)).
				Should(HaveField("Status", metav1.ConditionTrue), "BGPPeer %s", name)
			Eventually(func() int32 {
				Expect(k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer)).To(Succeed())
				return peer.Status.ConfiguredNodes
			}).Should(BeEquivalentTo(2), "BGPPeer %s", name)
		}
		ad := &metallbv1beta1.BGPAdvertisement{ObjectMeta: metavIn(w.in, "local")}
		Eventually(func() int32 {
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ad), ad)).To(Succeed())
			return ad.Status.ServiceIPs
		}).Should(BeEquivalentTo(1))
		// Events are written too (the first pass records the services
		// without Events, so that a restart does not repeat them).
		w.addService("api", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "b")
		Eventually(eventsFor(w.in, "Service", "api", "Announced")).ShouldNot(BeEmpty())

		// Changing the password Secret's reference away deletes the mirror.
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metavIn(w.in, "with-password")}
		edit(peer, func() { peer.Spec.PasswordSecret = metallbv1beta2.SecretReference{} })
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: w.out, Name: mirror}, &corev1.Secret{}))
		}).Should(BeTrue())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(userSecret), userSecret)).To(Succeed())
	})
})
