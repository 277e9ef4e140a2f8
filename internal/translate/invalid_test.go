package translate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

const ns = "metallb-system"

func meta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: ns} }

func testOptions() translate.Options {
	return translate.Options{Namespace: ns, FRRK8sNamespace: "frr-k8s-system", NamePrefix: "frrgen-"}
}

// validSnapshot is a small valid configuration that each invalid case
// breaks in one way: pools v4 and v6, advertisement ad (v4 only), peer p1,
// a BFD profile, a basic-auth Secret, a community alias and one node.
func validSnapshot() translate.Snapshot {
	return translate.Snapshot{
		Pools: []metallbv1beta1.IPAddressPool{
			{ObjectMeta: meta("v4"), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"198.51.100.0/24"}}},
			{ObjectMeta: meta("v6"), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"2001:db8:1::/64"}}},
		},
		Advertisements: []metallbv1beta1.BGPAdvertisement{
			{ObjectMeta: meta("ad"), Spec: metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}}},
		},
		Peers: []metallbv1beta2.BGPPeer{
			{ObjectMeta: meta("p1"), Spec: metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "172.30.0.1"}},
		},
		BFDProfiles: []metallbv1beta1.BFDProfile{{ObjectMeta: meta("bfd")}},
		Communities: []metallbv1beta1.Community{{ObjectMeta: meta("aliases"), Spec: metallbv1beta1.CommunitySpec{
			Communities: []metallbv1beta1.CommunityAlias{{Name: "a1", Value: "1:1"}},
		}}},
		Secrets: []corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "auth", Namespace: ns, Annotations: map[string]string{translate.AnnotationAllowedPeers: "p1"}},
			Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("x")}}},
		Nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"kubernetes.io/hostname": "node-a"}}}},
	}
}

func addPeer(s *translate.Snapshot, name string, spec metallbv1beta2.BGPPeerSpec) {
	s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta(name), Spec: spec})
}

func addAd(s *translate.Snapshot, name string, spec metallbv1beta1.BGPAdvertisementSpec) {
	s.Advertisements = append(s.Advertisements, metallbv1beta1.BGPAdvertisement{ObjectMeta: meta(name), Spec: spec})
}

func addPool(s *translate.Snapshot, name string, addrs ...metallbv1beta1.IPAddressRange) {
	s.Pools = append(s.Pools, metallbv1beta1.IPAddressPool{ObjectMeta: meta(name), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: addrs}})
}

func peerSpec(s *translate.Snapshot) *metallbv1beta2.BGPPeerSpec { return &s.Peers[0].Spec }
func adSpec(s *translate.Snapshot) *metallbv1beta1.BGPAdvertisementSpec {
	return &s.Advertisements[0].Spec
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
func i32(v int32) *int32                   { return &v }
func u32(v uint32) *uint32                 { return &v }
func boolPtr(v bool) *bool                 { return &v }

func communities(n int) []metallbv1beta1.CommunityRef {
	out := make([]metallbv1beta1.CommunityRef, n)
	for i := range out {
		out[i] = metallbv1beta1.CommunityRef(fmt.Sprintf("65000:%d", i))
	}
	return out
}

// sharedIPServices adds two services sharing one IP, each selected by its
// own advertisement.
func sharedIPServices(s *translate.Snapshot) {
	for _, name := range []string{"a", "b"} {
		s.Services = append(s.Services, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
			Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "198.51.100.7"}}}},
		})
		s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}},
		})
	}
	s.Advertisements = nil
	addAd(s, "for-a", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}, LocalPref: 100,
		ServiceSelectors: []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"app": "a"}}}})
	addAd(s, "for-b", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}, LocalPref: 200,
		ServiceSelectors: []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"app": "b"}}}})
}

// TestInvalidConfigurations checks that each mistake makes the whole input
// invalid, renders nothing, and is explained by a message naming the
// object, the field and the value.
func TestInvalidConfigurations(t *testing.T) {
	badSelector := []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{{Key: "a", Operator: "Foo", Values: []string{"b"}}}}}
	// Equal for MetalLB: the values of an expression are compared sorted.
	twoEqualSelectors := []metallbv1beta1.LabelSelector{
		{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-a"}, MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{{Key: "rack", Operator: metav1.LabelSelectorOpIn, Values: []string{"r1", "r2"}}}},
		{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-a"}, MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{{Key: "rack", Operator: metav1.LabelSelectorOpIn, Values: []string{"r2", "r1"}}}},
	}
	cases := []struct {
		name   string
		break_ func(s *translate.Snapshot)
		want   []string // each a substring of one problem message
	}{
		// IPAddressPool
		{"pool without addresses", func(s *translate.Snapshot) { s.Pools[0].Spec.Addresses = nil },
			[]string{"IPAddressPool metallb-system/v4: spec.addresses: the pool has no addresses"}},
		{"pool with a bad CIDR", func(s *translate.Snapshot) { s.Pools[0].Spec.Addresses[0] = "10.0.0.0/33" },
			[]string{`IPAddressPool metallb-system/v4: spec.addresses[0]: invalid address "10.0.0.0/33": not a CIDR`}},
		{"pool with a reversed range", func(s *translate.Snapshot) { s.Pools[0].Spec.Addresses[0] = "10.0.0.9-10.0.0.1" },
			[]string{`spec.addresses[0]: invalid address "10.0.0.9-10.0.0.1": the range start 10.0.0.9 is after its end 10.0.0.1`}},
		{"pool with a mixed-family range", func(s *translate.Snapshot) { s.Pools[0].Spec.Addresses[0] = "10.0.0.1-2001:db8::1" },
			[]string{`invalid address "10.0.0.1-2001:db8::1": the range mixes an IPv4 and an IPv6 address`}},
		{"pool with a CIDR padded with a space", func(s *translate.Snapshot) { s.Pools[0].Spec.Addresses[0] = " 198.51.100.0/24" },
			[]string{`invalid address " 198.51.100.0/24": not a CIDR`}},
		{"pool with a range of zoned IPv6 addresses", func(s *translate.Snapshot) { s.Pools[1].Spec.Addresses[0] = "fe80::1%eth0-fe80::9%eth0" },
			[]string{`invalid address "fe80::1%eth0-fe80::9%eth0": the range start "fe80::1%eth0" is not an IP address`}},
		{"pool with a range of non-addresses", func(s *translate.Snapshot) { s.Pools[0].Spec.Addresses[0] = "10.0.0.1-banana" },
			[]string{`invalid address "10.0.0.1-banana": the range end "banana" is not an IP address`}},
		{"pools overlapping", func(s *translate.Snapshot) { addPool(s, "other", "198.51.100.128/25") },
			[]string{
				"IPAddressPool metallb-system/other: spec.addresses[0]: addresses 198.51.100.128/25 overlap 198.51.100.0/24 of IPAddressPool metallb-system/v4 spec.addresses[0]",
				"IPAddressPool metallb-system/v4: spec.addresses[0]: addresses 198.51.100.0/24 overlap 198.51.100.128/25 of IPAddressPool metallb-system/other",
			}},
		{"pool overlapping itself through a range", func(s *translate.Snapshot) {
			s.Pools[0].Spec.Addresses = append(s.Pools[0].Spec.Addresses, "198.51.100.250-198.51.101.5")
		}, []string{"IPAddressPool metallb-system/v4: spec.addresses[1]: addresses 198.51.100.250/31 overlap 198.51.100.0/24 of IPAddressPool metallb-system/v4 spec.addresses[0]"}},
		{"pool allocation listing a namespace twice", func(s *translate.Snapshot) {
			s.Pools[0].Spec.ServiceAllocation = &metallbv1beta1.ServiceAllocation{Namespaces: []string{"a", "b", "a"}}
		}, []string{`IPAddressPool metallb-system/v4: spec.serviceAllocation.namespaces[2]: namespace "a" is listed twice`}},
		{"pool allocation with a service selector twice", func(s *translate.Snapshot) {
			s.Pools[0].Spec.ServiceAllocation = &metallbv1beta1.ServiceAllocation{ServiceSelectors: twoEqualSelectors}
		}, []string{"IPAddressPool metallb-system/v4: spec.serviceAllocation.serviceSelectors[1]: this label selector is the same as spec.serviceAllocation.serviceSelectors[0]"}},
		{"pool allocation with a bad namespace selector", func(s *translate.Snapshot) {
			s.Pools[0].Spec.ServiceAllocation = &metallbv1beta1.ServiceAllocation{NamespaceSelectors: badSelector}
		}, []string{"IPAddressPool metallb-system/v4: spec.serviceAllocation.namespaceSelectors[0]: invalid label selector"}},
		{"pool defined twice", func(s *translate.Snapshot) { s.Pools = append(s.Pools, s.Pools[0]) },
			[]string{`IPAddressPool metallb-system/v4: metadata.name: IPAddressPool "v4" is defined 2 times in the input`}},

		// BGPAdvertisement
		{"aggregationLength too long", func(s *translate.Snapshot) { adSpec(s).AggregationLength = i32(33) },
			[]string{"BGPAdvertisement metallb-system/ad: spec.aggregationLength: invalid IPv4 aggregation length 33; must be between 1 and 32"}},
		{"aggregationLength zero", func(s *translate.Snapshot) { adSpec(s).AggregationLength = i32(0) },
			[]string{"spec.aggregationLength: invalid IPv4 aggregation length 0; must be between 1 and 32"}},
		{"aggregationLengthV6 too long", func(s *translate.Snapshot) { adSpec(s).AggregationLengthV6 = i32(129) },
			[]string{"spec.aggregationLengthV6: invalid IPv6 aggregation length 129; must be at most 128"}},
		{"aggregationLengthV6 zero for an IPv6 pool", func(s *translate.Snapshot) {
			adSpec(s).IPAddressPools = []string{"v6"}
			adSpec(s).AggregationLengthV6 = i32(0)
		}, []string{"spec.aggregationLengthV6: IPv6 aggregation length 0 is shorter than the /64 of IPAddressPool metallb-system/v6"}},
		{"aggregation wider than the pool", func(s *translate.Snapshot) { adSpec(s).AggregationLength = i32(16) },
			[]string{"BGPAdvertisement metallb-system/ad: spec.aggregationLength: IPv4 aggregation length 16 is shorter than the /24 of IPAddressPool metallb-system/v4 spec.addresses[0] (198.51.100.0/24)"}},
		{"IPv6 aggregation wider than the pool", func(s *translate.Snapshot) {
			adSpec(s).IPAddressPools = []string{"v4", "v6"}
			adSpec(s).AggregationLengthV6 = i32(48)
		}, []string{"spec.aggregationLengthV6: IPv6 aggregation length 48 is shorter than the /64 of IPAddressPool metallb-system/v6 spec.addresses[0] (2001:db8:1::/64)"}},
		{"aggregation wider than a range's widest CIDR", func(s *translate.Snapshot) {
			s.Pools[0].Spec.Addresses[0] = "198.51.100.10-198.51.100.20"
			adSpec(s).AggregationLength = i32(28)
		}, []string{"IPv4 aggregation length 28 is shorter than the /30 of IPAddressPool metallb-system/v4 spec.addresses[0] (198.51.100.10-198.51.100.20)"}},
		{"serviceSelectors with aggregation", func(s *translate.Snapshot) {
			adSpec(s).AggregationLength = i32(24)
			adSpec(s).ServiceSelectors = []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"a": "b"}}}
		}, []string{"spec.serviceSelectors: serviceSelectors can only be used with the default aggregation lengths (32 and 128), but aggregationLength is 24"}},
		{"unknown community alias", func(s *translate.Snapshot) { adSpec(s).Communities = []metallbv1beta1.CommunityRef{"a1", "vpn-onl"} },
			[]string{`BGPAdvertisement metallb-system/ad: spec.communities[1]: unknown community alias "vpn-onl"; define it in a Community object or use the a:b / large:a:b:c form`}},
		{"standard community out of range", func(s *translate.Snapshot) { adSpec(s).Communities = []metallbv1beta1.CommunityRef{"70000:1"} },
			[]string{`spec.communities[0]: invalid community "70000:1": a standard community is two numbers 0-65535`}},
		{"large community with a bad marker", func(s *translate.Snapshot) { adSpec(s).Communities = []metallbv1beta1.CommunityRef{"big:1:2:3"} },
			[]string{`spec.communities[0]: invalid community "big:1:2:3": a large community is written large:<a>:<b>:<c>`}},
		{"large community out of range", func(s *translate.Snapshot) {
			adSpec(s).Communities = []metallbv1beta1.CommunityRef{"large:1:2:4294967296"}
		}, []string{`spec.communities[0]: invalid community "large:1:2:4294967296": a large community is large:<a>:<b>:<c> with numbers 0-4294967295`}},
		{"community listed twice", func(s *translate.Snapshot) { adSpec(s).Communities = []metallbv1beta1.CommunityRef{"1:2", "1:2"} },
			[]string{`spec.communities[1]: community "1:2" is listed twice`}},
		{"too many communities", func(s *translate.Snapshot) { adSpec(s).Communities = communities(64) },
			[]string{"BGPAdvertisement metallb-system/ad: spec.communities: 64 distinct communities are listed; at most 63 are supported"}},
		{"pool listed twice", func(s *translate.Snapshot) { adSpec(s).IPAddressPools = []string{"v4", "v4"} },
			[]string{`spec.ipAddressPools[1]: IPAddressPool "v4" is listed twice`}},
		{"peer listed twice", func(s *translate.Snapshot) { adSpec(s).Peers = []string{"p1", "p1"} },
			[]string{`spec.peers[1]: BGPPeer "p1" is listed twice`}},
		{"advertisement with a bad node selector", func(s *translate.Snapshot) { adSpec(s).NodeSelectors = badSelector },
			[]string{"BGPAdvertisement metallb-system/ad: spec.nodeSelectors[0]: invalid label selector"}},
		{"advertisement with a bad pool selector", func(s *translate.Snapshot) { adSpec(s).IPAddressPoolSelectors = badSelector },
			[]string{"spec.ipAddressPoolSelectors[0]: invalid label selector"}},
		{"advertisement with a node selector twice", func(s *translate.Snapshot) { adSpec(s).NodeSelectors = twoEqualSelectors },
			[]string{"BGPAdvertisement metallb-system/ad: spec.nodeSelectors[1]: this label selector is the same as spec.nodeSelectors[0]; list each selector once"}},
		{"advertisement with a pool selector twice", func(s *translate.Snapshot) { adSpec(s).IPAddressPoolSelectors = twoEqualSelectors },
			[]string{"spec.ipAddressPoolSelectors[1]: this label selector is the same as spec.ipAddressPoolSelectors[0]"}},
		{"advertisement with a service selector twice", func(s *translate.Snapshot) { adSpec(s).ServiceSelectors = twoEqualSelectors },
			[]string{"spec.serviceSelectors[1]: this label selector is the same as spec.serviceSelectors[0]"}},
		{"selector with a match expression twice", func(s *translate.Snapshot) {
			e := metallbv1beta1.LabelSelectorRequirement{Key: "rack", Operator: metav1.LabelSelectorOpIn, Values: []string{"r1"}}
			adSpec(s).NodeSelectors = []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{e, e}}}
		}, []string{"spec.nodeSelectors[0].matchExpressions[1]: this match expression is the same as spec.nodeSelectors[0].matchExpressions[0]"}},
		{"match expression with a value twice", func(s *translate.Snapshot) {
			adSpec(s).NodeSelectors = []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{
				{Key: "rack", Operator: metav1.LabelSelectorOpIn, Values: []string{"r1", "r2", "r1"}}}}}
		}, []string{`spec.nodeSelectors[0].matchExpressions[0].values[2]: value "r1" is listed twice`}},
		{"conflicting localPref on one pool", func(s *translate.Snapshot) {
			adSpec(s).LocalPref = 100
			addAd(s, "other", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}, LocalPref: 200})
		}, []string{
			"BGPAdvertisement metallb-system/ad: spec.localPref: localPref 100 conflicts with localPref 200 of BGPAdvertisement metallb-system/other: both apply to IPAddressPool metallb-system/v4 with the same IPv4 aggregation length",
			"BGPAdvertisement metallb-system/other: spec.localPref: localPref 200 conflicts with localPref 100 of BGPAdvertisement metallb-system/ad",
		}},
		{"services sharing an IP with two localPrefs", sharedIPServices, []string{
			"BGPAdvertisement metallb-system/for-a: spec.localPref: prefix 198.51.100.7/32 would reach BGPPeer metallb-system/p1 from node node-a with localPref 100 from this advertisement and localPref 200 from BGPAdvertisement metallb-system/for-b",
		}},
		{"BFD echo with an IPv6 pool", func(s *translate.Snapshot) {
			s.BFDProfiles[0].Spec.EchoMode = boolPtr(true)
			peerSpec(s).BFDProfile = "bfd"
			adSpec(s).IPAddressPools = []string{"v4", "v6"}
		}, []string{`BGPAdvertisement metallb-system/ad: spec.ipAddressPools: IPv6 IPAddressPool metallb-system/v6 would be announced to BGPPeer metallb-system/p1, whose BFDProfile "bfd" has echoMode enabled`}},

		// Community
		{"alias with a bad value", func(s *translate.Snapshot) { s.Communities[0].Spec.Communities[0].Value = "1:2:3" },
			[]string{`Community metallb-system/aliases: spec.communities[0].value: invalid community value "1:2:3" for alias "a1"`}},
		{"alias defined twice", func(s *translate.Snapshot) {
			s.Communities = append(s.Communities, metallbv1beta1.Community{ObjectMeta: meta("more"), Spec: metallbv1beta1.CommunitySpec{
				Communities: []metallbv1beta1.CommunityAlias{{Name: "a1", Value: "2:2"}}}})
		}, []string{`Community metallb-system/more: spec.communities[0].name: community alias "a1" is already defined in Community metallb-system/aliases spec.communities[0]`}},

		// BFDProfile
		{"BFD receive interval too short", func(s *translate.Snapshot) { s.BFDProfiles[0].Spec.ReceiveInterval = u32(5) },
			[]string{"BFDProfile metallb-system/bfd: spec.receiveInterval: 5 is out of range; must be between 10 and 60000 ms"}},
		{"BFD detect multiplier too small", func(s *translate.Snapshot) { s.BFDProfiles[0].Spec.DetectMultiplier = u32(1) },
			[]string{"spec.detectMultiplier: 1 is out of range; must be between 2 and 255"}},
		{"BFD minimum TTL too large", func(s *translate.Snapshot) { s.BFDProfiles[0].Spec.MinimumTTL = u32(255) },
			[]string{"spec.minimumTtl: 255 is out of range; must be between 1 and 254"}},

		// BGPPeer on its own
		{"peer without myASN", func(s *translate.Snapshot) { peerSpec(s).MyASN = 0 },
			[]string{"BGPPeer metallb-system/p1: spec.myASN: myASN must be set"}},
		{"peer without peer ASN", func(s *translate.Snapshot) { peerSpec(s).ASN = 0 },
			[]string{"BGPPeer metallb-system/p1: spec.peerASN: neither peerASN nor dynamicASN is set"}},
		{"peer with ASN and dynamicASN", func(s *translate.Snapshot) { peerSpec(s).DynamicASN = "external" },
			[]string{`spec.dynamicASN: peerASN 64513 and dynamicASN "external" are both set`}},
		{"peer with a bad dynamicASN", func(s *translate.Snapshot) { peerSpec(s).ASN, peerSpec(s).DynamicASN = 0, "sideways" },
			[]string{`spec.dynamicASN: invalid dynamicASN "sideways"; must be internal or external`}},
		{"peer with localASN", func(s *translate.Snapshot) { peerSpec(s).LocalASN = 65100 },
			[]string{"BGPPeer metallb-system/p1: spec.localASN: localASN 65100 cannot be expressed in frr-k8s v0.0.21 FRRConfigurations"}},
		{"peer without address or interface", func(s *translate.Snapshot) { peerSpec(s).Address = "" },
			[]string{"spec.peerAddress: neither peerAddress nor interface is set"}},
		{"peer with address and interface", func(s *translate.Snapshot) { peerSpec(s).Interface = "eth0" },
			[]string{`spec.interface: peerAddress "172.30.0.1" and interface "eth0" are both set`}},
		{"peer with a bad address", func(s *translate.Snapshot) { peerSpec(s).Address = "10.0.0.300" },
			[]string{`BGPPeer metallb-system/p1: spec.peerAddress: invalid peerAddress "10.0.0.300"`}},
		{"peer with a zoned IPv6 address", func(s *translate.Snapshot) { peerSpec(s).Address = "fe80::1%eth0" },
			[]string{`BGPPeer metallb-system/p1: spec.peerAddress: invalid peerAddress "fe80::1%eth0"`}},
		{"peer with a long interface name", func(s *translate.Snapshot) { peerSpec(s).Address, peerSpec(s).Interface = "", "a-very-long-interface" },
			[]string{`spec.interface: invalid interface "a-very-long-interface": a Linux interface name has 1 to 15 characters, this one has 21`}},
		{"peer with a bad source address", func(s *translate.Snapshot) { peerSpec(s).SrcAddress = "abc" },
			[]string{`spec.sourceAddress: invalid sourceAddress "abc"`}},
		{"peer with a source address of another family", func(s *translate.Snapshot) { peerSpec(s).SrcAddress = "2001:db8::2" },
			[]string{`spec.sourceAddress: sourceAddress "2001:db8::2" and peerAddress "172.30.0.1" are of different IP families`}},
		{"peer port too high", func(s *translate.Snapshot) { peerSpec(s).Port = 20000 },
			[]string{"spec.peerPort: invalid peerPort 20000; must be between 1 and 16384"}},
		{"hold time under 3s", func(s *translate.Snapshot) { peerSpec(s).HoldTime = dur(2 * time.Second) },
			[]string{"BGPPeer metallb-system/p1: spec.holdTime: invalid holdTime 2s: must be 0 or a whole number of seconds between 3s and 65535s"}},
		{"keepalive above hold", func(s *translate.Snapshot) {
			peerSpec(s).HoldTime, peerSpec(s).KeepaliveTime = dur(9*time.Second), dur(10*time.Second)
		}, []string{"spec.keepaliveTime: keepaliveTime 10s is greater than holdTime 9s"}},
		{"keepalive alone deriving a hold above FRR's range", func(s *translate.Snapshot) { peerSpec(s).KeepaliveTime = dur(21846 * time.Second) },
			[]string{"spec.keepaliveTime: keepaliveTime 6h4m6s without holdTime gives a holdTime of 65538s (3 x keepaliveTime), which must be 0 or between 3s and 65535s"}},
		{"keepalive not whole seconds", func(s *translate.Snapshot) { peerSpec(s).KeepaliveTime = dur(700 * time.Millisecond) },
			[]string{"spec.keepaliveTime: invalid keepaliveTime 700ms: must be a whole number of seconds between 0s and 65535s"}},
		{"negative keepalive", func(s *translate.Snapshot) { peerSpec(s).KeepaliveTime = dur(-time.Second) },
			[]string{"spec.keepaliveTime: invalid keepaliveTime -1s: must be a whole number of seconds between 0s and 65535s"}},
		{"connect time too long", func(s *translate.Snapshot) { peerSpec(s).ConnectTime = dur(70000 * time.Second) },
			[]string{"spec.connectTime: invalid connectTime 19h26m40s: must be a whole number of seconds between 1s and 65535s"}},
		{"connect time not whole seconds", func(s *translate.Snapshot) { peerSpec(s).ConnectTime = dur(1500 * time.Millisecond) },
			[]string{"spec.connectTime: invalid connectTime 1.5s: must be a whole number of seconds between 1s and 65535s"}},
		{"IPv6 router ID", func(s *translate.Snapshot) { peerSpec(s).RouterID = "2001:db8::1" },
			[]string{`spec.routerID: invalid routerID "2001:db8::1": must be an IPv4 address`}},
		{"multihop on iBGP", func(s *translate.Snapshot) { peerSpec(s).ASN, peerSpec(s).EBGPMultiHop = 64512, true },
			[]string{"spec.ebgpMultiHop: ebgpMultiHop is set but the session is iBGP (peerASN 64512 equals myASN)"}},
		{"password and passwordSecret", func(s *translate.Snapshot) {
			peerSpec(s).Password, peerSpec(s).PasswordSecret.Name = "x", "auth"
		}, []string{`spec.passwordSecret: password and passwordSecret "auth" are both set`}},
		{"missing password Secret", func(s *translate.Snapshot) { peerSpec(s).PasswordSecret.Name = "nope" },
			[]string{`BGPPeer metallb-system/p1: spec.passwordSecret.name: there is no Secret "nope" in namespace metallb-system`}},
		{"password Secret of the wrong type", func(s *translate.Snapshot) {
			s.Secrets[0].Type = corev1.SecretTypeOpaque
			peerSpec(s).PasswordSecret.Name = "auth"
		}, []string{`spec.passwordSecret.name: Secret "auth" has type "Opaque"; it must be "kubernetes.io/basic-auth"`}},
		{"password Secret without password", func(s *translate.Snapshot) {
			s.Secrets[0].Data = map[string][]byte{"username": []byte("u")}
			peerSpec(s).PasswordSecret.Name = "auth"
		}, []string{`spec.passwordSecret.name: Secret "auth" has no "password" key`}},
		{"missing BFD profile", func(s *translate.Snapshot) { peerSpec(s).BFDProfile = "nope" },
			[]string{`spec.bfdProfile: there is no BFDProfile "nope" in namespace metallb-system`}},
		{"peer with a bad node selector", func(s *translate.Snapshot) { peerSpec(s).NodeSelectors = badSelector },
			[]string{"BGPPeer metallb-system/p1: spec.nodeSelectors[0]: invalid label selector"}},
		{"peer with a node selector twice", func(s *translate.Snapshot) { peerSpec(s).NodeSelectors = twoEqualSelectors },
			[]string{"BGPPeer metallb-system/p1: spec.nodeSelectors[1]: this label selector is the same as spec.nodeSelectors[0]"}},

		// BGPPeers sharing a node
		{"different router IDs", func(s *translate.Snapshot) {
			peerSpec(s).RouterID = "10.0.0.1"
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64514, Address: "172.30.0.2", RouterID: "10.0.0.2"})
		}, []string{`BGPPeer metallb-system/p2: spec.routerID: routerID "10.0.0.2" differs from routerID "10.0.0.1" of BGPPeer metallb-system/p1, and both peers select node node-a`}},
		{"router ID set on one peer only", func(s *translate.Snapshot) {
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64514, Address: "172.30.0.2", RouterID: "10.0.0.2"})
		}, []string{`routerID "10.0.0.2" differs from routerID (unset) of BGPPeer metallb-system/p1`}},
		{"different myASN in one VRF", func(s *translate.Snapshot) {
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64600, ASN: 64514, Address: "172.30.0.2"})
		}, []string{"BGPPeer metallb-system/p2: spec.myASN: myASN 64600 differs from myASN 64512 of BGPPeer metallb-system/p1 in the default VRF, and both peers select node node-a"}},
		{"same address twice in one VRF", func(s *translate.Snapshot) {
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64599, Address: "172.30.0.1", Port: 180})
		}, []string{`BGPPeer metallb-system/p2: spec.peerAddress: peerAddress "172.30.0.1" in the default VRF is already used by BGPPeer metallb-system/p1`}},
		{"same interface twice in a VRF", func(s *translate.Snapshot) {
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64512, DynamicASN: "external", Interface: "eth1", VRFName: "red"})
			addPeer(s, "p3", metallbv1beta2.BGPPeerSpec{MyASN: 64512, DynamicASN: "internal", Interface: "eth1", VRFName: "red"})
		}, []string{`BGPPeer metallb-system/p3: spec.interface: interface "eth1" in VRF "red" is already used by BGPPeer metallb-system/p2`}},
		{"peer defined twice", func(s *translate.Snapshot) { s.Peers = append(s.Peers, s.Peers[0]) },
			[]string{`BGPPeer metallb-system/p1: metadata.name: BGPPeer "p1" is defined 2 times in the input; none of the copies is used`}},
		{"node defined twice", func(s *translate.Snapshot) {
			s.Nodes = append(s.Nodes, s.Nodes[0])
			s.Nodes[1].Labels = map[string]string{"rack": "r2"}
		}, []string{`Node node-a: metadata.name: Node "node-a" is defined 2 times in the input; none of the copies is used`}},
		{"service defined twice", func(s *translate.Snapshot) {
			sharedIPServices(s)
			s.Services[1].Name = "a"
		}, []string{`Service default/a: metadata.name: Service "a" is defined 2 times in the input`}},
		{"secret defined twice", func(s *translate.Snapshot) {
			s.Secrets = append(s.Secrets, s.Secrets[0])
			peerSpec(s).PasswordSecret.Name = "auth"
		}, []string{`Secret metallb-system/auth: metadata.name: Secret "auth" is defined 2 times in the input`}},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSnapshot()
			if r := translate.Build(s, testOptions()); !r.Valid {
				t.Fatalf("the base snapshot is invalid: %v", problems(r))
			}
			tc.break_(&s)
			r := translate.Build(s, testOptions())
			if r.Valid {
				t.Fatalf("Valid = true; want invalid")
			}
			checkBlastRadius(t, s, testOptions(), r)
			got := problems(r)
			for _, want := range tc.want {
				if !containsSubstring(got, want) {
					t.Errorf("no problem contains\n  %s\ngot:\n  %s", want, strings.Join(got, "\n  "))
				}
			}
		})
	}
}

// TestAcceptedNearMisses are inputs that look like the invalid ones above
// but are fine, so the checks are not over-strict.
func TestAcceptedNearMisses(t *testing.T) {
	otherNode := func(s *translate.Snapshot) {
		s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-b", Labels: map[string]string{"kubernetes.io/hostname": "node-b"}}})
		peerSpec(s).NodeSelectors = []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-a"}}}
	}
	onNodeB := []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-b"}}}
	cases := map[string]func(s *translate.Snapshot){
		"different myASN in another VRF": func(s *translate.Snapshot) {
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64600, ASN: 64514, Address: "172.30.0.1", VRFName: "red"})
		},
		"different myASN and router ID on disjoint nodes": func(s *translate.Snapshot) {
			otherNode(s)
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64600, ASN: 64514, Address: "172.30.0.1", RouterID: "10.0.0.9", NodeSelectors: onNodeB})
		},
		"different localPref with different aggregation": func(s *translate.Snapshot) {
			adSpec(s).LocalPref = 100
			addAd(s, "other", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}, LocalPref: 200, AggregationLength: i32(24)})
		},
		"different localPref to disjoint peers": func(s *translate.Snapshot) {
			addPeer(s, "p2", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64514, Address: "172.30.0.2"})
			adSpec(s).LocalPref, adSpec(s).Peers = 100, []string{"p1"}
			addAd(s, "other", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}, LocalPref: 200, Peers: []string{"p2"}})
		},
		"different localPref on disjoint nodes": func(s *translate.Snapshot) {
			otherNode(s)
			adSpec(s).LocalPref = 100
			adSpec(s).NodeSelectors = []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-a"}}}
			addAd(s, "other", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}, LocalPref: 200, NodeSelectors: onNodeB})
		},
		"BFD echo with an IPv4 pool only": func(s *translate.Snapshot) {
			s.BFDProfiles[0].Spec.EchoMode = boolPtr(true)
			peerSpec(s).BFDProfile = "bfd"
		},
		"two spellings of one community": func(s *translate.Snapshot) { adSpec(s).Communities = []metallbv1beta1.CommunityRef{"a1", "1:1"} },
		"keepalive alone of 1s":          func(s *translate.Snapshot) { peerSpec(s).KeepaliveTime = dur(time.Second) },
		"adjacent pools":                 func(s *translate.Snapshot) { addPool(s, "next", "198.51.101.0-198.51.101.255") },
		// MetalLB looks the Secret up by name in its own namespace.
		"password Secret naming another namespace": func(s *translate.Snapshot) {
			peerSpec(s).PasswordSecret = metallbv1beta2.SecretReference{Name: "auth", Namespace: "elsewhere"}
		},
		"password Secret with an empty password": func(s *translate.Snapshot) {
			s.Secrets[0].Data = map[string][]byte{"password": {}}
			peerSpec(s).PasswordSecret.Name = "auth"
		},
		// MetalLB's CRD sets no minimum, and the length only matters for IPv6.
		"aggregationLengthV6 zero with IPv4 pools only": func(s *translate.Snapshot) { adSpec(s).AggregationLengthV6 = i32(0) },
		// The limit is on distinct values: alias a1 is 1:1.
		"63 distinct communities written 64 ways": func(s *translate.Snapshot) {
			adSpec(s).Communities = append(communities(62), "a1", "1:1")
		},
		// MetalLB checks BFD echo per speaker, with that node's objects.
		"BFD echo peer and IPv6 advertisement on different nodes": func(s *translate.Snapshot) {
			otherNode(s)
			s.BFDProfiles[0].Spec.EchoMode = boolPtr(true)
			addPeer(s, "echo", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64514, Address: "172.30.0.2", BFDProfile: "bfd", NodeSelectors: onNodeB})
			addAd(s, "v6-on-a", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v6"},
				NodeSelectors: []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-a"}}}})
		},
		"two different node selectors": func(s *translate.Snapshot) {
			adSpec(s).NodeSelectors = []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-a"}}, {MatchLabels: map[string]metallbv1beta1.LabelValue{"kubernetes.io/hostname": "node-b"}}}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			s := validSnapshot()
			change(&s)
			if r := translate.Build(s, testOptions()); !r.Valid {
				t.Errorf("refused: %v", problems(r))
			}
		})
	}
}

func problems(r translate.Result) []string {
	var out []string
	for _, od := range r.Objects {
		for _, p := range od.Problems {
			out = append(out, p.Message)
		}
	}
	return out
}

func containsSubstring(messages []string, want string) bool {
	for _, m := range messages {
		if strings.Contains(m, want) {
			return true
		}
	}
	return false
}
