// Package boundary holds the largest and smallest values admission accepts
// for everything that reaches frr.conf (timers, password, names, ASNs,
// ports, BFD ranges, communities). The api/ suite checks the apiserver admits
// them, internal/translate checks Build turns them into a valid
// configuration, and the e2e suite feeds them through the real frr-k8s
// daemon into FRR (vtysh -C -f) to prove FRR accepts every one.
//
// All objects together are one valid configuration for a single node: every
// peer selects every node, addresses are unique per VRF, and the peers of a
// VRF share myASN. Objects are created fresh on every call.
package boundary

import (
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

const (
	// MyASN is the AS of the default-VRF router.
	MyASN = 64512
	// MaxASN is the largest AS number (2^32-1), used as a peerASN and as the
	// myASN of VRF VRFMaxASN.
	MaxASN = 4294967295
	// VRF15 is a VRF name of the maximum 15 characters.
	VRF15 = "vrf-15-chars-ok"
	// VRFMaxASN is the VRF whose router has myASN MaxASN.
	VRFMaxASN = "vrf-asn-max"
	// Interface15 is an interface name of the maximum 15 characters.
	Interface15 = "eth-15-chars-ok"
	// BFDProfile63 is a BFDProfile name of the maximum 63 characters.
	BFDProfile63 = "bfd-profile-name-of-sixty-three-characters-is-the-longest-okay3"
	// Password80 is a password of the maximum 80 bytes.
	Password80 = "P4ssw0rd-of-eighty-bytes-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
	// PasswordSymbols holds every printable ASCII character that is not a
	// letter or digit (the whole allowed set, at its edges).
	PasswordSymbols = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

func meta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
func u32(v uint32) *uint32                 { return &v }
func boolPtr(v bool) *bool                 { return &v }

// Peers returns one BGPPeer per boundary value, named after it.
func Peers(namespace string) []metallbv1beta2.BGPPeer {
	peer := func(name, address string, edit func(*metallbv1beta2.BGPPeerSpec)) metallbv1beta2.BGPPeer {
		p := metallbv1beta2.BGPPeer{ObjectMeta: meta(name, namespace), Spec: metallbv1beta2.BGPPeerSpec{MyASN: MyASN, ASN: 64513, Address: address}}
		edit(&p.Spec)
		return p
	}
	return []metallbv1beta2.BGPPeer{
		peer("hold-3s-keepalive-1s", "192.0.2.11", func(s *metallbv1beta2.BGPPeerSpec) {
			s.HoldTime, s.KeepaliveTime = dur(3*time.Second), dur(time.Second)
		}),
		peer("hold-65535s-keepalive-65535s", "192.0.2.12", func(s *metallbv1beta2.BGPPeerSpec) {
			s.HoldTime, s.KeepaliveTime = dur(65535*time.Second), dur(65535*time.Second)
		}),
		peer("hold-0s-keepalive-0s", "192.0.2.13", func(s *metallbv1beta2.BGPPeerSpec) {
			s.HoldTime, s.KeepaliveTime = dur(0), dur(0)
		}),
		peer("hold-3s-alone", "192.0.2.14", func(s *metallbv1beta2.BGPPeerSpec) { s.HoldTime = dur(3 * time.Second) }),
		peer("hold-10s-alone", "192.0.2.15", func(s *metallbv1beta2.BGPPeerSpec) { s.HoldTime = dur(10 * time.Second) }),
		peer("keepalive-21845s-alone", "192.0.2.16", func(s *metallbv1beta2.BGPPeerSpec) { s.KeepaliveTime = dur(21845 * time.Second) }),
		peer("keepalive-1s-alone", "192.0.2.17", func(s *metallbv1beta2.BGPPeerSpec) { s.KeepaliveTime = dur(time.Second) }),
		peer("connect-1s", "192.0.2.18", func(s *metallbv1beta2.BGPPeerSpec) { s.ConnectTime = dur(time.Second) }),
		peer("connect-65535s", "192.0.2.19", func(s *metallbv1beta2.BGPPeerSpec) { s.ConnectTime = dur(65535 * time.Second) }),
		peer("password-80-bytes", "192.0.2.20", func(s *metallbv1beta2.BGPPeerSpec) { s.Password = Password80 }),
		peer("password-symbols", "192.0.2.21", func(s *metallbv1beta2.BGPPeerSpec) { s.Password = PasswordSymbols }),
		peer("password-1-byte", "192.0.2.22", func(s *metallbv1beta2.BGPPeerSpec) { s.Password = "~" }),
		peer("port-1", "192.0.2.23", func(s *metallbv1beta2.BGPPeerSpec) { s.Port = 1 }),
		peer("port-16384", "192.0.2.24", func(s *metallbv1beta2.BGPPeerSpec) { s.Port = 16384 }),
		peer("peer-asn-max", "192.0.2.25", func(s *metallbv1beta2.BGPPeerSpec) { s.ASN = MaxASN }),
		peer("peer-asn-1", "192.0.2.26", func(s *metallbv1beta2.BGPPeerSpec) { s.ASN = 1 }),
		peer("bfd-63-chars", "192.0.2.27", func(s *metallbv1beta2.BGPPeerSpec) { s.BFDProfile = BFDProfile63 }),
		peer("bfd-min", "192.0.2.28", func(s *metallbv1beta2.BGPPeerSpec) { s.BFDProfile = "bfd-min" }),
		peer("source-address", "192.0.2.29", func(s *metallbv1beta2.BGPPeerSpec) { s.SrcAddress = "192.0.2.254" }),
		peer("ipv4-link-local", "169.254.0.1", func(s *metallbv1beta2.BGPPeerSpec) {}),
		peer("ipv6-with-source", "2001:db8::1", func(s *metallbv1beta2.BGPPeerSpec) { s.SrcAddress = "2001:db8::2" }),
		peer("ebgp-multihop", "203.0.113.1", func(s *metallbv1beta2.BGPPeerSpec) { s.EBGPMultiHop = true }),
		peer("interface-15-chars", "", func(s *metallbv1beta2.BGPPeerSpec) {
			s.Interface, s.ASN, s.DynamicASN = Interface15, 0, metallbv1beta2.ExternalASNMode
		}),
		peer("vrf-15-chars", "192.0.2.11", func(s *metallbv1beta2.BGPPeerSpec) { s.VRFName = VRF15 }),
		peer("my-asn-max", "192.0.2.11", func(s *metallbv1beta2.BGPPeerSpec) { s.VRFName, s.MyASN, s.ASN = VRFMaxASN, MaxASN, 1 }),
	}
}

// BFDProfiles returns the profiles the peers use: the longest name with
// every interval at its maximum, and bfd-min with every field at its
// minimum. Echo mode stays off: the advertisement carries an IPv6 pool, and
// BFD echo does not work with IPv6.
func BFDProfiles(namespace string) []metallbv1beta1.BFDProfile {
	return []metallbv1beta1.BFDProfile{
		{ObjectMeta: meta(BFDProfile63, namespace), Spec: metallbv1beta1.BFDProfileSpec{
			ReceiveInterval: u32(60000), TransmitInterval: u32(60000), EchoInterval: u32(60000),
			DetectMultiplier: u32(255), MinimumTTL: u32(254), EchoMode: boolPtr(false), PassiveMode: boolPtr(true)}},
		{ObjectMeta: meta("bfd-min", namespace), Spec: metallbv1beta1.BFDProfileSpec{
			ReceiveInterval: u32(10), TransmitInterval: u32(10), EchoInterval: u32(10),
			DetectMultiplier: u32(2), MinimumTTL: u32(1)}},
	}
}

// Pools returns an IPv4 pool of the maximum 128 entries (CIDRs and ranges)
// and an IPv6 pool.
func Pools(namespace string) []metallbv1beta1.IPAddressPool {
	var v4 []metallbv1beta1.IPAddressRange
	v4 = append(v4, "198.51.100.0/25", "198.51.100.128-198.51.100.255")
	for i := len(v4); i < 128; i++ {
		v4 = append(v4, metallbv1beta1.IPAddressRange("10.200.0."+strconv.Itoa(i)+"/32"))
	}
	return []metallbv1beta1.IPAddressPool{
		{ObjectMeta: meta("boundary-v4", namespace), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: v4}},
		{ObjectMeta: meta("boundary-v6", namespace), Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"2001:db8:100::/64"}}},
	}
}

// Communities returns aliases at the edges: the largest standard and large
// values, and a name with three ':'-separated parts (allowed: it cannot be
// read as a value).
func Communities(namespace string) []metallbv1beta1.Community {
	return []metallbv1beta1.Community{{ObjectMeta: meta("boundary-aliases", namespace), Spec: metallbv1beta1.CommunitySpec{
		Communities: []metallbv1beta1.CommunityAlias{
			{Name: "max-standard", Value: "65535:65535"},
			{Name: "max-large", Value: "large:4294967295:4294967295:4294967295"},
			{Name: "zero:zero:zero", Value: "0:0"},
			{Name: "~", Value: "large:0:0:0"},
		},
	}}}
}

// Advertisements returns one advertisement of both pools with the largest
// localPref and 63 distinct communities (the maximum), aliases included.
func Advertisements(namespace string) []metallbv1beta1.BGPAdvertisement {
	communities := []metallbv1beta1.CommunityRef{"max-standard", "max-large", "zero:zero:zero", "~"}
	for i := len(communities); i < 63; i++ {
		communities = append(communities, metallbv1beta1.CommunityRef("65000:"+strconv.Itoa(i)))
	}
	return []metallbv1beta1.BGPAdvertisement{{ObjectMeta: meta("boundary", namespace), Spec: metallbv1beta1.BGPAdvertisementSpec{
		IPAddressPools: []string{"boundary-v4", "boundary-v6"},
		LocalPref:      4294967295,
		Communities:    communities,
	}}}
}

// Objects returns every boundary object, for a client to create.
func Objects(namespace string) []client.Object {
	var out []client.Object
	for _, p := range Pools(namespace) {
		out = append(out, &p)
	}
	for _, c := range Communities(namespace) {
		out = append(out, &c)
	}
	for _, b := range BFDProfiles(namespace) {
		out = append(out, &b)
	}
	for _, a := range Advertisements(namespace) {
		out = append(out, &a)
	}
	for _, p := range Peers(namespace) {
		out = append(out, &p)
	}
	return out
}
