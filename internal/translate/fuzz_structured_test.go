package translate_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

// byteSource hands out fuzz bytes; zeros once they run out.
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

// snapshotFromBytes builds a mostly valid snapshot whose every choice (pools
// of advertisements, aggregation, localPrefs, communities, peer filters and
// families, VRFs, node selectors, service IPs, policies and endpoints) comes
// from data, so the fuzzer explores combinations rather than YAML syntax.
func snapshotFromBytes(data []byte) translate.Snapshot {
	src := &byteSource{data: data}
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
	rack := func() []metallbv1beta1.LabelSelector {
		if !src.flag() {
			return nil
		}
		return []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"rack": metallbv1beta1.LabelValue(fmt.Sprint(src.next(2)))}}}
	}
	for i := range 1 + src.next(3) {
		name := fmt.Sprintf("node-%d", i)
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name, "rack": fmt.Sprint(src.next(2))}}}
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
			spec.HoldTime = dur(90e9)
		}
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
			spec.AggregationLength = i32(int32(30 + src.next(3)))
			spec.AggregationLengthV6 = i32(int32(64 + 32*src.next(3)))
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
		name := fmt.Sprintf("svc-%d", i)
		svc := corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"tier": fmt.Sprint(src.next(2))}},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
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
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"172.16.0.1"}, NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		})
	}
	return s
}

// FuzzBuildStructured: no panic, order-independent output, and every
// configuration passes frr-k8s's per-config rules, for generated inputs.
func FuzzBuildStructured(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		seed := make([]byte, 96)
		for i := range seed {
			seed[i] = byte(rng.IntN(256))
		}
		f.Add(seed)
	}
	o := testOptions()
	f.Fuzz(func(t *testing.T, data []byte) {
		s := snapshotFromBytes(data)
		r := translate.Build(s, o)
		checkFRRK8sRules(t, r)
		checkBlastRadius(t, s, o, r)
		again := translate.Build(shuffled(s, rand.New(rand.NewPCG(uint64(len(data)), 7))), o)
		if a, b := renderGolden(t, r), renderGolden(t, again); !bytes.Equal(a, b) {
			t.Fatalf("output depends on input order:\n%s", cmp.Diff(string(a), string(b)))
		}
	})
}

// TestStructuredInputsReachOutput guards FuzzBuildStructured's usefulness:
// a good share of generated inputs must be valid and announce something,
// otherwise the rule checks would only ever see empty results.
func TestStructuredInputsReachOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	valid, announcing := 0, 0
	const runs = 300
	for range runs {
		data := make([]byte, 96)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		r := translate.Build(snapshotFromBytes(data), testOptions())
		if !r.Valid {
			continue
		}
		valid++
		for _, c := range r.Configs {
			if len(c.Spec.BGP.Routers) > 0 && len(c.Spec.BGP.Routers[0].Prefixes) > 0 {
				announcing++
				break
			}
		}
	}
	t.Logf("%d/%d valid, %d announcing", valid, runs, announcing)
	if valid < runs/4 || announcing < runs/8 {
		t.Errorf("only %d/%d generated inputs are valid and %d announce; the structured fuzzer explores too little", valid, runs, announcing)
	}
}
