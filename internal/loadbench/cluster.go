package loadbench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// The benchmark's cluster: the controller's default namespaces, one
// namespace for the Services, a pool in 198.18.0.0/15 (the benchmarking
// range of RFC 2544), 3 peers selecting every node, and two advertisements
// of the pool: every service IP as a /32 with a localPref and a community,
// and the covering /24 without attributes.
const (
	inputNamespace   = "metallb-system"
	frrK8sNamespace  = "frr-k8s-system"
	serviceNamespace = "loadbench"
	peers            = 3
	poolCIDR         = "198.18.0.0/15"
	// The apiserver envtest starts allocates ClusterIPs from a /24 only;
	// a ServiceCIDR (GA in 1.33) adds room for MaxServices.
	serviceCIDR = "10.96.0.0/16"
	MaxServices = 60000
)

var firstServiceIP = netip.MustParseAddr("198.18.0.1")

func nodeName(i int) string    { return fmt.Sprintf("node-%03d", i) }
func serviceName(i int) string { return fmt.Sprintf("svc-%05d", i) }

// serviceIP is the ingress IP of service i; the pool holds 2^17 addresses.
func serviceIP(i int) netip.Addr {
	b := firstServiceIP.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + uint32(i)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// hostPrefix is the /32 the controller must write for service i.
func hostPrefix(i int) string { return serviceIP(i).String() + "/32" }

func nodeNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = nodeName(i)
	}
	return names
}

// clusterBuilder creates the benchmark's objects through c.
type clusterBuilder struct {
	c     client.Client
	nodes int
}

// createBase creates everything but the Services: namespaces, the
// ServiceCIDR, the nodes and the MetalLB objects.
func (b *clusterBuilder) createBase(ctx context.Context) error {
	objs := []client.Object{
		&networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "loadbench"},
			Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{serviceCIDR}}},
	}
	for _, ns := range []string{inputNamespace, frrK8sNamespace, serviceNamespace} {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	for i := range b.nodes {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName(i),
			Labels: map[string]string{hostnameLabel: nodeName(i)}}})
	}
	objs = append(objs,
		&metallbv1beta1.IPAddressPool{ObjectMeta: inInput("bench"), Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses: []metallbv1beta1.IPAddressRange{poolCIDR}}},
		&metallbv1beta1.BGPAdvertisement{ObjectMeta: inInput("host-routes"), Spec: metallbv1beta1.BGPAdvertisementSpec{
			LocalPref: 150, Communities: []metallbv1beta1.CommunityRef{"65535:65282"}}},
		&metallbv1beta1.BGPAdvertisement{ObjectMeta: inInput("aggregate"), Spec: metallbv1beta1.BGPAdvertisementSpec{
			AggregationLength: ptr(int32(24))}},
	)
	for i := range peers {
		objs = append(objs, &metallbv1beta2.BGPPeer{ObjectMeta: inInput(fmt.Sprintf("peer-%d", i)), Spec: metallbv1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: uint32(65000 + i), Address: fmt.Sprintf("192.0.2.%d", i+1)}})
	}
	for _, o := range objs {
		if err := withRetry(ctx, func() error { return create(ctx, b.c, o) }); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// createService creates LoadBalancer Service i with a ready endpoint on one
// node, then writes its status with its ingress IP, as an IP allocator
// would. beforeStatus runs just before that status write.
func (b *clusterBuilder) createService(ctx context.Context, i int, beforeStatus func()) error {
	name := serviceName(i)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: serviceNamespace},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
			// The node port range (2768 ports) is smaller than the largest cluster.
			AllocateLoadBalancerNodePorts: ptr(false),
		},
	}
	if err := withRetry(ctx, func() error { return create(ctx, b.c, svc) }); err != nil {
		return fmt.Errorf("creating Service %s: %w", name, err)
	}
	if svc.ResourceVersion == "" { // a retried create found it: read it back for the update
		if err := withRetry(ctx, func() error { return b.c.Get(ctx, client.ObjectKeyFromObject(svc), svc) }); err != nil {
			return fmt.Errorf("reading Service %s: %w", name, err)
		}
	}
	node := nodeName(i % b.nodes)
	eps := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: serviceNamespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{endpointIP(i).String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
			NodeName:   &node,
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080)), Protocol: ptr(corev1.ProtocolTCP)}},
	}
	if err := withRetry(ctx, func() error { return create(ctx, b.c, eps) }); err != nil {
		return fmt.Errorf("creating EndpointSlice %s: %w", eps.Name, err)
	}
	if beforeStatus != nil {
		beforeStatus()
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: serviceIP(i).String()}}
	err := withRetry(ctx, func() error {
		err := b.c.Status().Update(ctx, svc)
		if apierrors.IsConflict(err) {
			fresh := &corev1.Service{}
			if getErr := b.c.Get(ctx, client.ObjectKeyFromObject(svc), fresh); getErr == nil {
				fresh.Status.LoadBalancer = svc.Status.LoadBalancer
				svc = fresh
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("writing the status of Service %s: %w", name, err)
	}
	return nil
}

// endpointIP is the pod address behind service i (in 100.64.0.0/10, never
// routed anywhere).
func endpointIP(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{100, byte(64 + i>>16&0x3f), byte(i >> 8), byte(i)})
}

// create creates o; an object that already exists (a retried create whose
// first attempt succeeded) counts as created.
func create(ctx context.Context, c client.Client, o client.Object) error {
	if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// withRetry retries f on any error: the apiserver of a loaded 2-core machine
// times out now and then, and the ServiceCIDR takes a moment to be used.
func withRetry(ctx context.Context, f func() error) error {
	const attempts = 10
	var err error
	for a := 1; a <= attempts; a++ {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(a) * 200 * time.Millisecond):
		}
	}
	return err
}

func inInput(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: inputNamespace}
}

func ptr[T any](v T) *T { return &v }
