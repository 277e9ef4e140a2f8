package translate_test

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// checkFRRK8sRules fails t for every rule of frr-k8s v0.0.21 that a single
// FRRConfiguration must satisfy on its own (reference §0.6), and for the
// shape frrgen promises (explicit modes, sorted output).
func checkFRRK8sRules(t testing.TB, r translate.Result) {
	t.Helper()
	for i := range r.Configs {
		for _, err := range frrK8sRuleViolations(&r.Configs[i]) {
			t.Errorf("%s: %v", r.Configs[i].Name, err)
		}
	}
}

var communityFormat = regexp.MustCompile(`^([0-9]+:[0-9]+|large:[0-9]+:[0-9]+:[0-9]+)$`)

func frrK8sRuleViolations(c *frrv1beta1.FRRConfiguration) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	profiles := map[string]bool{}
	for _, p := range c.Spec.BGP.BFDProfiles {
		if profiles[p.Name] {
			fail("BFD profile %q defined twice", p.Name)
		}
		profiles[p.Name] = true
		if p.EchoMode == nil || p.PassiveMode == nil {
			fail("BFD profile %q: echoMode and passiveMode must be explicit", p.Name)
		}
	}
	vrfs := map[string]bool{}
	for _, r := range c.Spec.BGP.Routers {
		if vrfs[r.VRF] {
			fail("two routers for VRF %q", r.VRF)
		}
		vrfs[r.VRF] = true
		routerPrefixes := map[string]bool{}
		for _, p := range r.Prefixes {
			if _, err := netip.ParsePrefix(p); err != nil {
				fail("router %q: prefix %q: %v", r.VRF, p, err)
			}
			routerPrefixes[p] = true
		}
		if !isSortedPrefixes(r.Prefixes) {
			fail("router %q: prefixes not sorted or repeated: %v", r.VRF, r.Prefixes)
		}
		ids := map[string]bool{}
		for _, n := range r.Neighbors {
			id := n.Address + n.Interface
			if ids[id] {
				fail("router %q: neighbor %q twice", r.VRF, id)
			}
			ids[id] = true
			errs = append(errs, neighborViolations(n, routerPrefixes, profiles)...)
		}
	}
	return errs
}

func neighborViolations(n frrv1beta1.Neighbor, routerPrefixes, profiles map[string]bool) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("neighbor %s%s: %s", n.Address, n.Interface, fmt.Sprintf(format, args...)))
	}
	if (n.Address == "") == (n.Interface == "") {
		fail("exactly one of address and interface must be set")
	}
	if (n.ASN == 0) == (n.DynamicASN == "") {
		fail("exactly one of asn and dynamicASN must be set")
	}
	if n.Port == nil {
		fail("port must always be set")
	}
	if (n.HoldTime == nil) != (n.KeepaliveTime == nil) {
		fail("holdTime and keepaliveTime must be set together")
	}
	if n.HoldTime != nil && n.KeepaliveTime != nil {
		h := n.HoldTime.Duration.Truncate(time.Second)
		if h != 0 && h < 3*time.Second {
			fail("holdTime %s must be 0 or at least 3s", n.HoldTime.Duration)
		}
		if n.KeepaliveTime.Duration > n.HoldTime.Duration {
			fail("keepaliveTime %s above holdTime %s", n.KeepaliveTime.Duration, n.HoldTime.Duration)
		}
	}
	if n.BFDProfile != "" && !profiles[n.BFDProfile] {
		fail("bfdProfile %q is not defined in the same configuration", n.BFDProfile)
	}
	if n.Password != "" && n.PasswordSecret.Name != "" {
		fail("password and passwordSecret both set")
	}
	if n.ToAdvertise.Allowed.Mode != frrv1beta1.AllowRestricted || n.ToReceive.Allowed.Mode != frrv1beta1.AllowRestricted {
		fail("allowed modes must be explicitly filtered")
	}

	dual := n.Interface != "" || n.DualStackAddressFamily
	var neighborIs4 bool
	if a, err := netip.ParseAddr(n.Address); err == nil {
		neighborIs4 = a.Unmap().Is4()
	}
	allowed := map[string]bool{}
	for _, p := range n.ToAdvertise.Allowed.Prefixes {
		allowed[p] = true
		if !routerPrefixes[p] {
			fail("allowed prefix %s is not in the router's prefixes", p)
		}
		if pfx, err := netip.ParsePrefix(p); err == nil && !dual && pfx.Addr().Is4() != neighborIs4 {
			fail("prefix %s is not of the neighbor's family", p)
		}
	}
	if !isSortedPrefixes(n.ToAdvertise.Allowed.Prefixes) {
		fail("allowed prefixes not sorted or repeated")
	}
	localPrefOf := map[string]uint32{}
	seenLP := map[uint32]bool{}
	for _, lp := range n.ToAdvertise.PrefixesWithLocalPref {
		if seenLP[lp.LocalPref] {
			fail("localPref %d has two entries", lp.LocalPref)
		}
		seenLP[lp.LocalPref] = true
		if len(lp.Prefixes) == 0 || !isSortedPrefixes(lp.Prefixes) {
			fail("localPref %d: prefixes empty, unsorted or repeated", lp.LocalPref)
		}
		for _, p := range lp.Prefixes {
			if !allowed[p] {
				fail("localPref %d prefix %s is not allowed", lp.LocalPref, p)
			}
			if other, ok := localPrefOf[p]; ok {
				fail("prefix %s under localPref %d and %d", p, other, lp.LocalPref)
			}
			localPrefOf[p] = lp.LocalPref
		}
	}
	seenCommunity := map[string]bool{}
	for _, c := range n.ToAdvertise.PrefixesWithCommunity {
		if seenCommunity[c.Community] {
			fail("community %s has two entries", c.Community)
		}
		seenCommunity[c.Community] = true
		if !communityFormat.MatchString(c.Community) {
			fail("community %q is not a:b or large:a:b:c", c.Community)
		}
		if len(c.Prefixes) == 0 || !isSortedPrefixes(c.Prefixes) {
			fail("community %s: prefixes empty, unsorted or repeated", c.Community)
		}
		for _, p := range c.Prefixes {
			if !allowed[p] {
				fail("community %s prefix %s is not allowed", c.Community, p)
			}
		}
	}
	return errs
}

// isSortedPrefixes checks frrgen's prefix order: IPv4 before IPv6, by
// address, then by length, with no repeats.
func isSortedPrefixes(ps []string) bool {
	parsed := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		var err error
		if parsed[i], err = netip.ParsePrefix(p); err != nil {
			return false
		}
	}
	return slices.IsSortedFunc(parsed, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	}) && len(slices.Compact(slices.Clone(parsed))) == len(parsed)
}

// TestRuleCheckerCatches proves the checker is not vacuous: each broken
// configuration must be reported.
func TestRuleCheckerCatches(t *testing.T) {
	port := uint16(179)
	base := func() frrv1beta1.FRRConfiguration {
		return frrv1beta1.FRRConfiguration{Spec: frrv1beta1.FRRConfigurationSpec{BGP: frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{
			ASN:      64512,
			Prefixes: []string{"10.0.0.1/32"},
			Neighbors: []frrv1beta1.Neighbor{{
				Address: "192.0.2.1", ASN: 64513, Port: &port,
				ToAdvertise: frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Mode: frrv1beta1.AllowRestricted, Prefixes: []string{"10.0.0.1/32"}}},
				ToReceive:   frrv1beta1.Receive{Allowed: frrv1beta1.AllowedInPrefixes{Mode: frrv1beta1.AllowRestricted}},
			}},
		}}}}}
	}
	if errs := frrK8sRuleViolations(ptr(base())); len(errs) != 0 {
		t.Fatalf("the valid base config is reported: %v", errs)
	}
	for name, breakIt := range map[string]func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router){
		"allowed not in router": func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) { r.Prefixes = nil },
		"wrong family":          func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) { n.Address = "2001:db8::1" },
		"unknown bfd":           func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) { n.BFDProfile = "x" },
		"community not allowed": func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) {
			n.ToAdvertise.PrefixesWithCommunity = []frrv1beta1.CommunityPrefixes{{Community: "1:1", Prefixes: []string{"10.0.0.2/32"}}}
		},
		"two localPrefs": func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) {
			n.ToAdvertise.PrefixesWithLocalPref = []frrv1beta1.LocalPrefPrefixes{{LocalPref: 1, Prefixes: []string{"10.0.0.1/32"}}, {LocalPref: 2, Prefixes: []string{"10.0.0.1/32"}}}
		},
		"community twice": func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) {
			n.ToAdvertise.PrefixesWithCommunity = []frrv1beta1.CommunityPrefixes{{Community: "1:1", Prefixes: []string{"10.0.0.1/32"}}, {Community: "1:1", Prefixes: []string{"10.0.0.1/32"}}}
		},
		"hold without keepalive": func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) { n.HoldTime = durationPtr(9 * time.Second) },
		"no port":                func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) { n.Port = nil },
		"implicit mode":          func(n *frrv1beta1.Neighbor, r *frrv1beta1.Router) { n.ToReceive.Allowed.Mode = "" },
	} {
		c := base()
		r := &c.Spec.BGP.Routers[0]
		breakIt(&r.Neighbors[0], r)
		if len(frrK8sRuleViolations(&c)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func durationPtr(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
