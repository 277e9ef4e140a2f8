package api_test

import (
	"errors"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/testenv"
)

// Each kind has a valid base object; a table entry changes one spec field
// of it. The bases are created in "accepts" specs, so a rejection in the
// invalid table is caused by the change, not by the rest of the object.

type mutation func(spec map[string]any)

// set replaces one spec field.
func set(field string, value any) mutation {
	return func(spec map[string]any) { spec[field] = value }
}

// unset removes one spec field.
func unset(field string) mutation {
	return func(spec map[string]any) { delete(spec, field) }
}

var objectCounter int

func object(kind string, spec map[string]any, muts ...mutation) *unstructured.Unstructured {
	for _, m := range muts {
		m(spec)
	}
	objectCounter++
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	switch kind {
	case "BGPPeer":
		u.SetGroupVersionKind(testenv.BGPPeerGVK)
	case "BGPAdvertisement":
		u.SetGroupVersionKind(testenv.BGPAdvertisementGVK)
	case "IPAddressPool":
		u.SetGroupVersionKind(testenv.IPAddressPoolGVK)
	case "Community":
		u.SetGroupVersionKind(testenv.CommunityGVK)
	case "BFDProfile":
		u.SetGroupVersionKind(testenv.BFDProfileGVK)
	default:
		panic("unknown kind " + kind)
	}
	u.SetNamespace(samplesNamespace)
	u.SetName(fmt.Sprintf("%s-%d", strings.ToLower(kind), objectCounter))
	return u
}

func peer(muts ...mutation) *unstructured.Unstructured {
	return object("BGPPeer", map[string]any{
		"myASN":       int64(64512),
		"peerASN":     int64(64513),
		"peerAddress": "192.0.2.1",
	}, muts...)
}

func advertisement(muts ...mutation) *unstructured.Unstructured {
	return object("BGPAdvertisement", map[string]any{
		"ipAddressPools": []any{"pool-a"},
	}, muts...)
}

func pool(muts ...mutation) *unstructured.Unstructured {
	return object("IPAddressPool", map[string]any{
		"addresses": []any{"192.0.2.0/24"},
	}, muts...)
}

func community(muts ...mutation) *unstructured.Unstructured {
	return object("Community", map[string]any{
		"communities": []any{map[string]any{"name": "no-advertise", "value": "65535:65282"}},
	}, muts...)
}

func bfdProfile(muts ...mutation) *unstructured.Unstructured {
	return object("BFDProfile", map[string]any{
		"receiveInterval": int64(300),
	}, muts...)
}

func aliases(nameValues ...string) []any {
	var out []any
	for i := 0; i+1 < len(nameValues); i += 2 {
		out = append(out, map[string]any{"name": nameValues[i], "value": nameValues[i+1]})
	}
	return out
}

func selector(key, value string) []any {
	return []any{map[string]any{"matchLabels": map[string]any{key: value}}}
}

// statusCauses returns the field causes of an API error.
func statusCauses(err error) []metav1.StatusCause {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	return status.Status().Details.Causes
}

// expectRejected asserts an Invalid (422) error with a cause on field whose
// message contains fragment, and no cause that is a CEL evaluation error
// (such as a type conversion error) rather than a message for the user.
func expectRejected(err error, field, fragment string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the apiserver accepted the object")
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid (422) error, got %v", err)
	Expect(statusCauses(err)).To(ContainElement(And(
		HaveField("Field", field),
		HaveField("Message", ContainSubstring(fragment)),
	)), "error %q has no cause on %s containing %q", err, field, fragment)
	Expect(statusCauses(err)).NotTo(ContainElement(HaveField("Message", ContainSubstring("evaluating rule"))),
		"a CEL rule failed to evaluate instead of reporting the mistake: %v", err)
}

var _ = Describe("admission of metallb.io objects", func() {
	DescribeTable("accepts valid objects, including boundary values",
		func(obj *unstructured.Unstructured) {
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, obj))).To(Succeed()) })
		},
		Entry("base BGPPeer", peer()),
		Entry("base BGPAdvertisement", advertisement()),
		Entry("base IPAddressPool", pool()),
		Entry("base Community", community()),
		Entry("base BFDProfile", bfdProfile()),
		Entry("aggregationLength 1 and aggregationLengthV6 1", advertisement(set("aggregationLength", 1), set("aggregationLengthV6", 1))),
		Entry("aggregationLength 32 and aggregationLengthV6 128 with serviceSelectors", advertisement(set("aggregationLength", 32), set("aggregationLengthV6", 128), set("serviceSelectors", selector("app", "web")))),
		Entry("standard, large and alias communities", advertisement(set("communities", []any{"0:0", "65535:65535", "large:4294967295:0:4294967295", "vpn-only"}))),
		Entry("peers and pools without duplicates", advertisement(set("peers", []any{"a", "b"}), set("ipAddressPools", []any{"a", "b"}))),
		Entry("BFD bounds low", bfdProfile(set("receiveInterval", 10), set("transmitInterval", 10), set("echoInterval", 10), set("detectMultiplier", 2), set("minimumTtl", 1))),
		Entry("BFD bounds high", bfdProfile(set("receiveInterval", 60000), set("transmitInterval", 60000), set("echoInterval", 60000), set("detectMultiplier", 255), set("minimumTtl", 254))),
		Entry("pool of CIDRs with host bits, IPv6, and ranges", pool(set("addresses", []any{"198.51.100.10/24", "2001:db8::/64", "192.0.2.10-192.0.2.20", "2001:db8:1::1 - 2001:db8:1::9"}))),
		Entry("pool ranges of one address and across octets", pool(set("addresses", []any{"192.0.2.7-192.0.2.7", "10.0.255.255-10.1.0.0"}))),
		Entry("alias values of both kinds", community(set("communities", aliases("a", "1:2", "b", "large:1:2:3")))),
		Entry("localPref 4294967295", advertisement(set("localPref", int64(4294967295)))),
		Entry("peerPort 1", peer(set("peerPort", 1))),
		Entry("peerPort 16384", peer(set("peerPort", 16384))),
		Entry("myASN 4294967295 and peerASN 4294967295", peer(set("myASN", int64(4294967295)), set("peerASN", int64(4294967295)))),
		Entry("interface instead of peerAddress", peer(unset("peerAddress"), set("interface", "eth0"))),
		Entry("dynamicASN external", peer(unset("peerASN"), set("dynamicASN", "external"))),
		Entry("IPv6 peer and source address, IPv4 routerID", peer(set("peerAddress", "2001:db8::1"), set("sourceAddress", "2001:db8::2"), set("routerID", "10.0.0.1"))),
		Entry("holdTime 0s with keepaliveTime 0s", peer(set("holdTime", "0s"), set("keepaliveTime", "0s"))),
		Entry("holdTime 3s with keepaliveTime 1s", peer(set("holdTime", "3s"), set("keepaliveTime", "1s"))),
		Entry("holdTime 90s alone", peer(set("holdTime", "1m30s"))),
		Entry("keepaliveTime 1s alone", peer(set("keepaliveTime", "1s"))),
		Entry("keepaliveTime 0s alone", peer(set("keepaliveTime", "0s"))),
		Entry("connectTime 1s", peer(set("connectTime", "1s"))),
		Entry("connectTime 65535s", peer(set("connectTime", "65535s"))),
		Entry("ebgpMultiHop for an eBGP peer", peer(set("ebgpMultiHop", true))),
		Entry("password alone", peer(set("password", "secret"))),
		Entry("passwordSecret alone", peer(set("passwordSecret", map[string]any{"name": "peer-password"}))),
		Entry("empty vrf, interface and passwordSecret, as if unset", peer(set("vrf", ""), set("interface", ""), set("passwordSecret", map[string]any{"name": "", "namespace": ""}))),
	)

	DescribeTable("rejects invalid objects with an error naming the field",
		func(obj *unstructured.Unstructured, field, fragment string) {
			err := k8s.Create(ctx, obj)
			if err == nil {
				DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, obj))).To(Succeed()) })
			}
			expectRejected(err, field, fragment)
		},
		// Ranges.
		Entry("aggregationLength 0", advertisement(set("aggregationLength", 0)), "spec.aggregationLength", "greater than or equal to 1"),
		Entry("aggregationLength 33", advertisement(set("aggregationLength", 33)), "spec.aggregationLength", "less than or equal to 32"),
		Entry("aggregationLengthV6 129", advertisement(set("aggregationLengthV6", 129)), "spec.aggregationLengthV6", "less than or equal to 128"),
		Entry("peerPort 0", peer(set("peerPort", 0)), "spec.peerPort", "greater than or equal to 1"),
		Entry("peerPort 16385", peer(set("peerPort", 16385)), "spec.peerPort", "less than or equal to 16384"),
		Entry("receiveInterval 9", bfdProfile(set("receiveInterval", 9)), "spec.receiveInterval", "greater than or equal to 10"),
		Entry("transmitInterval 60001", bfdProfile(set("transmitInterval", 60001)), "spec.transmitInterval", "less than or equal to 60000"),
		Entry("echoInterval 9", bfdProfile(set("echoInterval", 9)), "spec.echoInterval", "greater than or equal to 10"),
		Entry("detectMultiplier 1", bfdProfile(set("detectMultiplier", 1)), "spec.detectMultiplier", "greater than or equal to 2"),
		Entry("detectMultiplier 256", bfdProfile(set("detectMultiplier", 256)), "spec.detectMultiplier", "less than or equal to 255"),
		Entry("minimumTtl 0", bfdProfile(set("minimumTtl", 0)), "spec.minimumTtl", "greater than or equal to 1"),
		Entry("minimumTtl 255", bfdProfile(set("minimumTtl", 255)), "spec.minimumTtl", "less than or equal to 254"),
		Entry("myASN 0", peer(set("myASN", 0)), "spec.myASN", "greater than or equal to 1"),
		Entry("myASN 4294967296", peer(set("myASN", int64(4294967296))), "spec.myASN", "less than or equal to 4294967295"),
		Entry("peerASN 4294967296", peer(set("peerASN", int64(4294967296))), "spec.peerASN", "less than or equal to 4294967295"),
		Entry("localPref -1", advertisement(set("localPref", -1)), "spec.localPref", "greater than or equal to 0"),
		Entry("localPref 4294967296", advertisement(set("localPref", int64(4294967296))), "spec.localPref", "less than or equal to 4294967295"),
		// Enums.
		Entry("dynamicASN foo", peer(unset("peerASN"), set("dynamicASN", "foo")), "spec.dynamicASN", `Unsupported value: "foo"`),
		// Exactly one of.
		Entry("both peerAddress and interface", peer(set("interface", "eth0")), "spec.interface", "peerAddress 192.0.2.1 and interface eth0 are mutually exclusive"),
		Entry("neither peerAddress nor interface", peer(unset("peerAddress")), "spec.peerAddress", "one of peerAddress and interface must be set"),
		Entry("both peerASN and dynamicASN", peer(set("dynamicASN", "internal")), "spec.dynamicASN", "peerASN and dynamicASN internal are mutually exclusive"),
		Entry("neither peerASN nor dynamicASN", peer(unset("peerASN")), "spec.peerASN", "one of peerASN and dynamicASN must be set"),
		Entry("password and passwordSecret", peer(set("password", "secret"), set("passwordSecret", map[string]any{"name": "peer-password"})), "spec.passwordSecret", "password and passwordSecret are mutually exclusive"),
		// Addresses.
		Entry("peerAddress not an IP", peer(set("peerAddress", "192.0.2.256")), "spec.peerAddress", "invalid peerAddress 192.0.2.256"),
		Entry("sourceAddress not an IP", peer(set("sourceAddress", "node-1")), "spec.sourceAddress", "invalid sourceAddress node-1"),
		Entry("routerID not an IP", peer(set("routerID", "router-1")), "spec.routerID", "invalid routerID router-1"),
		Entry("routerID IPv6 (FRR router ids are IPv4)", peer(set("routerID", "fd00::1")), "spec.routerID", "invalid routerID fd00::1: must be an IPv4 address"),
		Entry("interface name longer than Linux allows", peer(unset("peerAddress"), set("interface", "a-very-long-ifname")), "spec.interface", "may not be more than 15"),
		Entry("pool CIDR 10.0.0.0/33", pool(set("addresses", []any{"10.0.0.0/33"})), "spec.addresses[0]", "invalid address range 10.0.0.0/33"),
		Entry("pool range 10.0.0.1-foo", pool(set("addresses", []any{"192.0.2.0/24", "10.0.0.1-foo"})), "spec.addresses[1]", "invalid address range 10.0.0.1-foo"),
		Entry("pool range of mixed families", pool(set("addresses", []any{"10.0.0.1-2001:db8::1"})), "spec.addresses[0]", "invalid address range 10.0.0.1-2001:db8::1"),
		Entry("pool range with its ends swapped", pool(set("addresses", []any{"192.0.2.20-192.0.2.10"})), "spec.addresses[0]", "invalid address range 192.0.2.20-192.0.2.10: the first address is after the last"),
		Entry("pool range swapped in the first octet", pool(set("addresses", []any{"11.0.0.0 - 10.255.255.255"})), "spec.addresses[0]", "the first address is after the last"),
		Entry("pool without addresses", pool(set("addresses", []any{})), "spec.addresses", "should have at least 1 items"),
		// Communities.
		Entry("community 70000:1", advertisement(set("communities", []any{"70000:1"})), "spec.communities[0]", "invalid community 70000:1"),
		Entry("large community large:1:2:99999999999", advertisement(set("communities", []any{"large:1:2:99999999999"})), "spec.communities[0]", "invalid community large:1:2:99999999999"),
		Entry("large community large:1:2:4294967296", advertisement(set("communities", []any{"65535:65282", "large:1:2:4294967296"})), "spec.communities[1]", "invalid community large:1:2:4294967296"),
		Entry("four-part community big:1:2:3", advertisement(set("communities", []any{"big:1:2:3"})), "spec.communities[0]", "invalid community big:1:2:3"),
		Entry("alias value 1:2:3", community(set("communities", aliases("odd", "1:2:3"))), "spec.communities[0].value", "invalid community value 1:2:3"),
		Entry("alias value 65536:0", community(set("communities", aliases("a", "1:1", "b", "65536:0"))), "spec.communities[1].value", "invalid community value 65536:0"),
		// Aggregation and selectors.
		Entry("serviceSelectors with aggregationLength 24", advertisement(set("aggregationLength", 24), set("serviceSelectors", selector("app", "web"))), "spec.serviceSelectors", "serviceSelectors can only be used with the default aggregationLength"),
		Entry("serviceSelectors with aggregationLengthV6 64", advertisement(set("aggregationLengthV6", 64), set("serviceSelectors", selector("app", "web"))), "spec.serviceSelectors", "aggregationLengthV6 (128)"),
		// Timers.
		Entry("holdTime 2s", peer(set("holdTime", "2s")), "spec.holdTime", "invalid holdTime 2s: must be 0 or a whole number of seconds between 3s and 65535s"),
		Entry("holdTime 500ms", peer(set("holdTime", "500ms")), "spec.holdTime", "invalid holdTime 500ms: must be 0 or a whole number of seconds between 3s and 65535s"),
		Entry("holdTime -3s", peer(set("holdTime", "-3s")), "spec.holdTime", "invalid holdTime -3s"),
		Entry("holdTime not a duration", peer(set("holdTime", "3 seconds")), "spec.holdTime", "invalid holdTime 3 seconds: must be 0 or a whole number of seconds between 3s and 65535s, written as a duration"),
		Entry("keepaliveTime negative", peer(set("holdTime", "3s"), set("keepaliveTime", "-1s")), "spec.keepaliveTime", "invalid keepaliveTime -1s: must be a whole number of seconds between 0s and 65535s, written as a duration"),
		Entry("keepaliveTime not a duration", peer(set("keepaliveTime", "often")), "spec.keepaliveTime", "invalid keepaliveTime often: must be a whole number of seconds between 0s and 65535s, written as a duration"),
		Entry("connectTime not a duration", peer(set("connectTime", "1 second")), "spec.connectTime", "invalid connectTime 1 second: must be a whole number of seconds between 1s and 65535s, written as a duration"),
		Entry("keepaliveTime greater than holdTime", peer(set("holdTime", "3s"), set("keepaliveTime", "4s")), "spec.keepaliveTime", "keepaliveTime 4s must not be greater than holdTime 3s"),
		Entry("keepaliveTime 500ms alone", peer(set("keepaliveTime", "500ms")), "spec.keepaliveTime", "invalid keepaliveTime 500ms"),
		Entry("connectTime 0s", peer(set("connectTime", "0s")), "spec.connectTime", "invalid connectTime 0s: must be a whole number of seconds between 1s and 65535s"),
		Entry("connectTime 1.5s", peer(set("connectTime", "1.5s")), "spec.connectTime", "invalid connectTime 1.5s: must be a whole number of seconds between 1s and 65535s"),
		Entry("connectTime 65536s", peer(set("connectTime", "65536s")), "spec.connectTime", "invalid connectTime 65536s"),
		// iBGP.
		Entry("ebgpMultiHop with peerASN equal to myASN", peer(set("peerASN", int64(64512)), set("ebgpMultiHop", true)), "spec.ebgpMultiHop", "ebgpMultiHop cannot be set for an iBGP peer"),
		// Duplicates.
		Entry("duplicate community", advertisement(set("communities", []any{"65535:65282", "65535:65282"})), "spec.communities[1]", `Duplicate value: "65535:65282"`),
		Entry("duplicate peer", advertisement(set("peers", []any{"peer-a", "peer-a"})), "spec.peers[1]", `Duplicate value: "peer-a"`),
		Entry("duplicate pool", advertisement(set("ipAddressPools", []any{"pool-a", "pool-b", "pool-a"})), "spec.ipAddressPools[2]", `Duplicate value: "pool-a"`),
		Entry("duplicate alias name", community(set("communities", aliases("a", "1:1", "a", "1:2"))), "spec.communities[1]", "Duplicate value"),
	)

	Describe("enableGracefulRestart is immutable", func() {
		update := func(created *unstructured.Unstructured, mut mutation) error {
			current := &unstructured.Unstructured{}
			current.SetGroupVersionKind(created.GroupVersionKind())
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(created), current)).To(Succeed())
			spec, _, err := unstructured.NestedMap(current.Object, "spec")
			Expect(err).NotTo(HaveOccurred())
			mut(spec)
			Expect(unstructured.SetNestedMap(current.Object, spec, "spec")).To(Succeed())
			return k8s.Update(ctx, current)
		}
		create := func(obj *unstructured.Unstructured) *unstructured.Unstructured {
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, obj))).To(Succeed()) })
			return obj
		}

		It("refuses true -> false", func() {
			p := create(peer(set("enableGracefulRestart", true)))
			expectRejected(update(p, set("enableGracefulRestart", false)), "spec.enableGracefulRestart", "enableGracefulRestart cannot be changed after creation")
		})
		It("refuses true -> absent", func() {
			p := create(peer(set("enableGracefulRestart", true)))
			expectRejected(update(p, unset("enableGracefulRestart")), "spec.enableGracefulRestart", "enableGracefulRestart cannot be changed after creation")
		})
		It("refuses absent -> true", func() {
			p := create(peer())
			expectRejected(update(p, set("enableGracefulRestart", true)), "spec.enableGracefulRestart", "enableGracefulRestart cannot be changed after creation")
		})
		It("refuses false -> true", func() {
			p := create(peer(set("enableGracefulRestart", false)))
			expectRejected(update(p, set("enableGracefulRestart", true)), "spec.enableGracefulRestart", "enableGracefulRestart cannot be changed after creation")
		})
		It("allows other changes to a peer with graceful restart", func() {
			p := create(peer(set("enableGracefulRestart", true)))
			Expect(update(p, set("holdTime", "9s"))).To(Succeed())
		})
		It("allows absent -> false, which means the same", func() {
			p := create(peer())
			Expect(update(p, set("enableGracefulRestart", false))).To(Succeed())
		})
	})
})
