// Package snapshotgen is test support: it turns bytes (from a fuzzer or a
// seeded random source) into a mostly valid translate.Snapshot, so that
// tests explore combinations of objects rather than YAML syntax. The
// structured fuzz test of internal/translate and the differential test
// against MetalLB's real speaker (internal/metallbbin) share it.
package snapshotgen

import (
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

// Config says where the generated objects live, so that several snapshots
// can share one apiserver without seeing each other.
type Config struct {
	// Namespace holds the MetalLB objects.
	Namespace string
	// Prefix is prepended to the names of Nodes, Services and
	// EndpointSlices (cluster-wide or shared names) and to the key of the
	// node label that nodeSelectors use, so that one snapshot's selectors
	// match none of another's nodes.
	Prefix string
	// LoadBalancerClass is set on every Service ("" leaves it unset).
	LoadBalancerClass string
}

// byteSource hands out bytes; zeros once they run out.
type byteSource struct{ data []byte }

func (b *byteSource) next(n int) int {
	if len(b.data) == 0 || n <= 0 {
		return 0
	}
	v := int(b.data[0]) % n
	b.data = b.data[1:]
	return v
}

func (b *byteSource) flag() bool { return b.next(2) == 1 }

// FromBytes builds a mostly valid snapshot whose every choice (pools of
// advertisements, aggregation, localPrefs, communities, peer filters,
// families and session settings, VRFs, node selectors, service IPs,
// policies and endpoints) comes from data. Up to 3 nodes, 3 peers, 4
// advertisements and 11 services.
func FromBytes(data []byte, c Config) translate.Snapshot {
	src := &byteSource{data: data}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: c.Namespace} }
	s := translate.Snapshot{
		Pools: []metallbv1beta1.IPAddressPool{
			{ObjectMeta: meta("a"), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"10.0.0.0/24"}}},
			{ObjectMeta: meta("b"), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"10.0.1.0/25", "fd00::/64"}}},
			{ObjectMeta: meta("c"), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"10.0.2.10-10.0.2.20"}}},
		},
		Communities: []metallbv1beta1.Community{{ObjectMeta: meta("aliases"), Spec: metallbv1beta1.CommunitySpec{
			Communities: []metallbv1beta1.CommunityAlias{{Name: "big", Value: "large:1:2:3"}}}}},
		BFDProfiles: []metallbv1beta1.BFDProfile{{ObjectMeta: meta("slow")}},
	}
	rackLabel := c.Prefix + "rack"
	rack := func() []metallbv1beta1.LabelSelector {
		if !src.flag() {
			return nil
		}
		return []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{rackLabel: metallbv1beta1.LabelValue(fmt.Sprint(src.next(2)))}}}
	}
	for i := range 1 + src.next(3) {
		name := fmt.Sprintf("%snode-%d", c.Prefix, i)
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name, rackLabel: fmt.Sprint(src.next(2))}}}
		if src.next(5) == 0 {
			n.Labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
		}
		s.Nodes = append(s.Nodes, n)
	}
	vrfs := []string{"", "", "red"}
	for i := range 1 + src.next(3) {
		spec := metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: uint32(65000 + i), VRFName: vrfs[src.next(3)], NodeSelectors: rack()}
		switch src.next(3) {
		case 0:
			spec.Address = fmt.Sprintf("192.0.2.%d", i+1)
		case 1:
			spec.Address = fmt.Sprintf("2001:db8::%d", i+1)
		default:
			spec.Interface, spec.ASN, spec.DynamicASN = fmt.Sprintf("eth%d", i), 0, "external"
		}
		spec.DualStackAddressFamily = src.flag()
		if src.flag() {
			spec.BFDProfile = "slow"
		}
		if src.flag() {
			spec.HoldTime = &metav1.Duration{Duration: 90 * time.Second}
		}
		sessionSettings(src, &spec)
		s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta(fmt.Sprintf("peer-%d", i)), Spec: spec})
	}
	communityChoices := []metallbv1beta1.CommunityRef{"1:1", "65535:65282", "big", "large:9:9:9"}
	for i := range 1 + src.next(4) {
		spec := metallbv1beta1.BGPAdvertisementSpec{LocalPref: uint32(100 * src.next(3)), NodeSelectors: rack()}
		for j, p := range []string{"a", "b", "c"} {
			if src.next(2) == 1 || j == i%3 {
				spec.IPAddressPools = append(spec.IPAddressPools, p)
			}
		}
		if src.flag() {
			spec.AggregationLength = ptr(int32(30 + src.next(3)))
			spec.AggregationLengthV6 = ptr(int32(64 + 32*src.next(3)))
		} else if src.flag() {
			spec.ServiceSelectors = []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"tier": metallbv1beta1.LabelValue(fmt.Sprint(src.next(2)))}}}
		}
		for _, c := range communityChoices {
			if src.flag() {
				spec.Communities = append(spec.Communities, c)
			}
		}
		for j := range s.Peers {
			if src.next(3) == 0 {
				spec.Peers = append(spec.Peers, s.Peers[j].Name)
			}
		}
		s.Advertisements = append(s.Advertisements, metallbv1beta1.BGPAdvertisement{ObjectMeta: meta(fmt.Sprintf("ad-%d", i)), Spec: spec})
	}
	addrs := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.0.1.0/25"), netip.MustParsePrefix("fd00::/120"), netip.MustParsePrefix("10.0.2.10/31")}
	for i := range src.next(12) {
		name := fmt.Sprintf("%ssvc-%d", c.Prefix, i)
		svc := corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"tier": fmt.Sprint(src.next(2))}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
				Ports: []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}}},
		}
		if c.LoadBalancerClass != "" {
			svc.Spec.LoadBalancerClass = ptr(c.LoadBalancerClass)
		}
		if src.flag() {
			svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}
		for range 1 + src.next(2) {
			p := addrs[src.next(len(addrs))]
			ip := p.Addr()
			for range src.next(1 << (p.Addr().BitLen() - p.Bits())) {
				ip = ip.Next()
			}
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip.String()})
		}
		s.Services = append(s.Services, svc)
		node := s.Nodes[src.next(len(s.Nodes))].Name
		ready := src.next(4) != 0
		s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"172.16.0.1"}, NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		})
	}
	return s
}

// sessionSettings draws the BGPPeer fields that only shape the session:
// iBGP, port, keepalive and connect timers, multihop, graceful restart and
// a cleartext password.
func sessionSettings(src *byteSource, spec *metallbv1beta2.BGPPeerSpec) {
	if spec.DynamicASN == "" && src.next(4) == 0 {
		spec.ASN = spec.MyASN
	}
	if src.next(4) == 0 {
		spec.Port = 1179
	}
	switch src.next(4) {
	case 0:
		spec.KeepaliveTime = &metav1.Duration{Duration: 10 * time.Second}
	case 1:
		spec.ConnectTime = &metav1.Duration{Duration: 5 * time.Second}
	}
	spec.EBGPMultiHop = spec.ASN != spec.MyASN && src.next(4) == 0
	spec.EnableGracefulRestart = src.next(4) == 0
	if src.next(4) == 0 {
		spec.Password = "s3cret"
	}
}

func ptr[T any](v T) *T { return &v }
