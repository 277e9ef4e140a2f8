package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Objects a spec created, deleted by cleanupSpec when it ends. Helpers record
// them here rather than calling DeferCleanup: a spec body that keeps running
// after an interrupt must not call DeferCleanup (Ginkgo exits the process on
// that, skipping AfterSuite and with it the cleanup of processes and
// namespaces).
var (
	trackedMu sync.Mutex
	tracked   []client.Object
)

func track(obj client.Object) {
	trackedMu.Lock()
	defer trackedMu.Unlock()
	tracked = append(tracked, obj)
}

// cleanupSpec deletes what the spec created, newest first, withdraws what
// the peers announced, and waits until the node has no BGP configuration
// left, so that every spec starts from the same state.
func cleanupSpec() {
	trackedMu.Lock()
	objs := tracked
	tracked = nil
	trackedMu.Unlock()
	for i := len(objs) - 1; i >= 0; i-- {
		deleteAndWait(objs[i])
	}
	for _, p := range []*bgpPeer{peerA, peerB} {
		if p != nil {
			Expect(p.withdrawAll()).To(Succeed())
		}
	}
	Eventually(func() (string, error) { return vtysh("show running-config") }).WithTimeout(30*time.Second).
		ShouldNot(ContainSubstring("router bgp"), "the node kept a BGP configuration after the spec's objects were deleted")
}

// apply creates the objects of a multi-document YAML (as users would write
// them, e.g. copied from the seed page); cleanupSpec deletes them.
func apply(manifests string) []*unstructured.Unstructured {
	GinkgoHelper()
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(manifests, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed(), doc)
		Expect(k8s.Create(context.Background(), u)).To(Succeed(), doc)
		objs = append(objs, u)
		track(u.DeepCopy())
	}
	return objs
}

// update replaces the spec of an object created by apply.
func update(manifest string) {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(manifest), &u.Object)).To(Succeed())
	cur := &unstructured.Unstructured{}
	cur.SetGroupVersionKind(u.GroupVersionKind())
	Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(u), cur)).To(Succeed())
	cur.Object["spec"] = u.Object["spec"]
	Expect(k8s.Update(context.Background(), cur)).To(Succeed())
}

func deleteAndWait(obj client.Object) {
	GinkgoHelper()
	err := k8s.Delete(context.Background(), obj)
	if apierrors.IsNotFound(err) {
		return
	}
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue(), "%s %s not deleted", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
}

// createService creates a LoadBalancer Service in namespace default with ip
// in its status (what MetalLB's controller would have assigned; none when ip
// is "", for frrgen's allocator) and a ready endpoint on the node, so that
// the node announces it.
func createService(name, ip string) *corev1.Service {
	GinkgoHelper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeLoadBalancer,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
			Selector:              map[string]string{"app": name},
			Ports:                 []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
	Expect(k8s.Create(ctx, svc)).To(Succeed())
	track(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}})

	eps := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: name + "-1", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: name},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.244.0.10"}, // a pod address: data only, nothing routes to it
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true)},
			NodeName:   ptr.To(nodeName),
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if ip != "" && netip.MustParseAddr(ip).Is6() {
		eps.AddressType = discoveryv1.AddressTypeIPv6
		eps.Endpoints[0].Addresses = []string{"2001:db8:ffff::10"}
	}
	Expect(k8s.Create(ctx, eps)).To(Succeed())
	track(&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: eps.Name, Namespace: "default"}})

	if ip == "" {
		return svc
	}
	// frrgen may write the Service's frrgen.io/Announced condition meanwhile.
	Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
			return err
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
		return k8s.Status().Update(ctx, svc)
	}).Should(Succeed())
	return svc
}

// peerRoutes polls a peer's Adj-RIB-In; for use in Eventually/Consistently.
func peerRoutes(p *bgpPeer) func() (map[string]receivedRoute, error) {
	return func() (map[string]receivedRoute, error) { return p.routes() }
}

// prefixes lists the prefixes of a route table, for readable failures.
func prefixes(routes map[string]receivedRoute) []string {
	var out []string
	for p := range routes {
		out = append(out, p)
	}
	return out
}

func describeRoutes(routes map[string]receivedRoute) string {
	var b strings.Builder
	for _, r := range routes {
		fmt.Fprintln(&b, r.String())
	}
	return b.String()
}
