package translate_test

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

// benchSnapshot has nodes nodes, 3 peers on every node, 2 advertisements
// (a /32 one with localPref and a community, a /24 one with a community)
// and ips LoadBalancer services of one IP each, with a ready endpoint.
func benchSnapshot(nodes, ips int) translate.Snapshot {
	s := translate.Snapshot{
		Pools: []metallbv1beta1.IPAddressPool{{ObjectMeta: meta("big"), Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses: []metallbv1beta1.IPAddressRange{"10.0.0.0/8"}}}},
		Advertisements: []metallbv1beta1.BGPAdvertisement{
			{ObjectMeta: meta("local"), Spec: metallbv1beta1.BGPAdvertisementSpec{LocalPref: 150, Communities: []metallbv1beta1.CommunityRef{"65535:65282"}}},
			{ObjectMeta: meta("aggregate"), Spec: metallbv1beta1.BGPAdvertisementSpec{AggregationLength: i32(24), Communities: []metallbv1beta1.CommunityRef{"64512:1"}}},
		},
	}
	for i := range 3 {
		s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta(fmt.Sprintf("peer-%d", i)), Spec: metallbv1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: uint32(65000 + i), Address: fmt.Sprintf("192.0.2.%d", i+1)}})
	}
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}})
	}
	ip := netip.MustParseAddr("10.0.0.1")
	node := "node-0"
	for i := range ips {
		name := fmt.Sprintf("svc-%d", i)
		s.Services = append(s.Services, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
			Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: ip.String()}}}},
		})
		s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-x", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"172.16.0.1"}, NodeName: &node}},
		})
		ip = ip.Next()
	}
	return s
}

func BenchmarkBuild(b *testing.B) {
	for _, size := range []struct{ nodes, ips int }{{1, 1000}, {1, 10000}, {1, 50000}, {100, 5000}} {
		b.Run(fmt.Sprintf("nodes=%d/ips=%d", size.nodes, size.ips), func(b *testing.B) {
			s := benchSnapshot(size.nodes, size.ips)
			o := testOptions()
			if r := translate.Build(s, o); !r.Valid || len(r.Configs) != size.nodes {
				b.Fatalf("valid=%v configs=%d: %v", r.Valid, len(r.Configs), problems(r))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				translate.Build(s, o)
			}
		})
	}
}
