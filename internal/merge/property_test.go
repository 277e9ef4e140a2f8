package merge

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The generator draws configs from a small universe so that random configs
// often share routers, neighbors, prefixes and profiles. In compatible mode
// every must-match value is a function of its key (neighbor, prefix, profile
// name), spelled either explicitly or as the default, so configs merge.
var (
	genPrefixes    = []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/64", "2001:db8:1::/64"}
	genCommunities = []string{"65000:1", "65000:2", "large:1:2:3"}
	genFilters     = []frrv1beta1.PrefixSelector{{Prefix: "10.0.0.0/8"}, {Prefix: "10.0.0.0/8", LE: 32}, {Prefix: "2001:db8::/32", GE: 48}}
)

type genNeighbor struct {
	address, iface string
	dualStack      bool
}

var genNeighbors = []genNeighbor{{address: "172.30.0.3"}, {address: "172.30.0.4", dualStack: true}, {address: "2001:db8::3"}, {iface: "eth1"}}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

func subset[T any](r *rand.Rand, values []T) []T {
	var out []T
	for _, v := range values {
		if r.IntN(2) == 0 {
			out = append(out, v)
		}
	}
	return out
}

func randomConfig(r *rand.Rand, name string, compatible bool) frrv1beta1.FRRConfiguration {
	cfg := frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: name}}
	if r.IntN(6) == 0 {
		cfg.Spec.NodeSelector.MatchLabels = map[string]string{"kubernetes.io/hostname": pick(r, "node1", "node2")}
	}
	if r.IntN(3) == 0 {
		cfg.Spec.Raw = frrv1beta1.RawConfig{Priority: r.IntN(3), Config: "! raw from " + name}
	}
	fast := frrv1beta1.BFDProfile{Name: "fast", DetectMultiplier: ptr.To[uint32](3)}
	if !compatible && r.IntN(3) == 0 {
		fast.ReceiveInterval = ptr.To(pick[uint32](r, 100, 200))
	}
	usesFast := false

	for _, vrf := range subset(r, []string{"", "red"}) {
		router := frrv1beta1.Router{ASN: 64512, VRF: vrf, Prefixes: subset(r, genPrefixes)}
		if !compatible && r.IntN(5) == 0 {
			router.ASN = 64599
		}
		if r.IntN(2) == 0 {
			router.ID = "10.0.0.1"
			if !compatible && r.IntN(3) == 0 {
				router.ID = "10.0.0.2"
			}
		}
		for i, g := range genNeighbors {
			if r.IntN(2) == 0 {
				continue
			}
			n := randomNeighbor(r, i, g, compatible, router.Prefixes)
			usesFast = usesFast || n.BFDProfile == "fast"
			router.Neighbors = append(router.Neighbors, n)
		}
		cfg.Spec.BGP.Routers = append(cfg.Spec.BGP.Routers, router)
	}
	if usesFast || r.IntN(3) == 0 {
		cfg.Spec.BGP.BFDProfiles = append(cfg.Spec.BGP.BFDProfiles, fast)
	}
	return cfg
}

func randomNeighbor(r *rand.Rand, index int, g genNeighbor, compatible bool, routerPrefixes []string) frrv1beta1.Neighbor {
	n := frrv1beta1.Neighbor{Address: g.address, Interface: g.iface, DualStackAddressFamily: g.dualStack,
		ASN: 64513, EnableGracefulRestart: r.IntN(4) == 0}
	// Neighbor index decides the session in compatible mode: odd ones use a
	// custom port, timers, BFD and password; even ones the defaults, spelled
	// out or not.
	custom := index%2 == 1
	if !compatible {
		custom = r.IntN(2) == 0
		if r.IntN(6) == 0 {
			n.ASN, n.DynamicASN = 0, frrv1beta1.ExternalASNMode
		}
		n.EBGPMultiHop = r.IntN(6) == 0
	}
	explicitDefaults := r.IntN(2) == 0
	switch {
	case custom:
		n.Port = ptr.To[uint16](1179)
		n.HoldTime, n.KeepaliveTime = &metav1.Duration{Duration: 90 * time.Second}, &metav1.Duration{Duration: 30 * time.Second}
		n.ConnectTime = &metav1.Duration{Duration: 10 * time.Second}
		n.BFDProfile = "fast"
		n.Password = "s3cret"
	case explicitDefaults:
		n.Port = ptr.To[uint16](179)
		n.HoldTime, n.KeepaliveTime = &metav1.Duration{Duration: 180 * time.Second}, &metav1.Duration{Duration: 60 * time.Second}
		n.ConnectTime = &metav1.Duration{Duration: 60 * time.Second}
	}

	family := DualStack
	if g.iface == "" && !g.dualStack {
		family = IPv4
		if g.address == "2001:db8::3" {
			family = IPv6
		}
	}
	var allowed []string
	if r.IntN(4) == 0 {
		n.ToAdvertise.Allowed.Mode = frrv1beta1.AllowAll
		for _, p := range routerPrefixes {
			if familyIncludes(family, prefixFamily(p)) {
				allowed = append(allowed, p)
			}
		}
	} else {
		for _, p := range subset(r, routerPrefixes) {
			if familyIncludes(family, prefixFamily(p)) {
				allowed = append(allowed, p)
			}
		}
		n.ToAdvertise.Allowed.Prefixes = allowed
	}

	// Local preferences: a function of the prefix when compatible.
	byLocalPref := map[uint32][]string{}
	for _, p := range subset(r, allowed) {
		lp := uint32(100 + slices.Index(genPrefixes, p))
		if !compatible {
			lp = pick[uint32](r, 100, 101)
		}
		byLocalPref[lp] = append(byLocalPref[lp], p)
	}
	for _, lp := range slices.Sorted(maps.Keys(byLocalPref)) {
		n.ToAdvertise.PrefixesWithLocalPref = append(n.ToAdvertise.PrefixesWithLocalPref,
			frrv1beta1.LocalPrefPrefixes{LocalPref: lp, Prefixes: byLocalPref[lp]})
	}
	for _, c := range subset(r, genCommunities) {
		if prefixes := subset(r, allowed); len(prefixes) > 0 {
			n.ToAdvertise.PrefixesWithCommunity = append(n.ToAdvertise.PrefixesWithCommunity,
				frrv1beta1.CommunityPrefixes{Community: c, Prefixes: prefixes})
		}
	}

	if r.IntN(5) == 0 {
		n.ToReceive.Allowed.Mode = frrv1beta1.AllowAll
	} else {
		n.ToReceive.Allowed.Prefixes = subset(r, genFilters)
	}
	return n
}

func randomConfigs(r *rand.Rand, compatible bool) []frrv1beta1.FRRConfiguration {
	var configs []frrv1beta1.FRRConfiguration
	for i := range 2 + r.IntN(3) {
		configs = append(configs, randomConfig(r, fmt.Sprintf("cfg-%d", i), compatible))
	}
	return configs
}

// mergeOutcome is everything ForNode returns, for comparing runs.
type mergeOutcome struct {
	Effective *Effective
	Warnings  []string
	Conflict  *Conflict
}

func forNode(configs []frrv1beta1.FRRConfiguration) mergeOutcome {
	eff, warnings, conflict := ForNode(configs, node1, nil)
	return mergeOutcome{eff, warnings, conflict}
}

func inOrder(configs []frrv1beta1.FRRConfiguration) mergeOutcome {
	eff, warnings, conflict := mergeInOrder(configs, node1, nil)
	return mergeOutcome{eff, warnings, conflict}
}

// ForNode's result, conflict message included, must not depend on the order
// of its input. Beyond that, merging itself must be order-independent:
// merging unsorted gives the same effective config and warnings, and a
// conflict in one order is a conflict in every order (which pair it names
// may differ).
func TestOrderIndependence(t *testing.T) {
	merged, conflicts := 0, 0
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 1))
		configs := randomConfigs(r, seed%2 == 0)
		want := forNode(configs)
		if want.Conflict != nil {
			conflicts++
		} else {
			merged++
		}
		for range 6 {
			shuffled := slices.Clone(configs)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if diff := cmp.Diff(want, forNode(shuffled), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("seed %d: ForNode depends on input order (-sorted +shuffled):\n%s", seed, diff)
			}
			got := inOrder(shuffled)
			if (got.Conflict == nil) != (want.Conflict == nil) {
				t.Fatalf("seed %d: conflict in one order only: %v vs %v", seed, want.Conflict, got.Conflict)
			}
			if want.Conflict == nil {
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("seed %d: merging depends on order (-sorted +shuffled):\n%s", seed, diff)
				}
			}
		}
	}
	// The generator must exercise both outcomes, or this test proves little.
	t.Logf("%d merged, %d conflicts", merged, conflicts)
	if merged < 100 || conflicts < 50 {
		t.Fatalf("generator too one-sided: %d merged, %d conflicts", merged, conflicts)
	}
}

// Merging a config with an identical copy changes nothing but the list of
// configs and the raw snippets (appended once per config, as frr-k8s does).
func TestMergeWithItself(t *testing.T) {
	checked := 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 2))
		a := randomConfig(r, "a", true)
		alone := forNode([]frrv1beta1.FRRConfiguration{a})
		if alone.Conflict != nil {
			t.Fatalf("seed %d: generated config is invalid: %s", seed, alone.Conflict.Message)
		}
		copyOfA := *a.DeepCopy()
		copyOfA.Name = "copy-of-a"
		twice := forNode([]frrv1beta1.FRRConfiguration{a, copyOfA})
		if twice.Conflict != nil {
			t.Fatalf("seed %d: a config conflicts with its copy: %s", seed, twice.Conflict.Message)
		}
		if diff := cmp.Diff(alone, twice, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Effective{}, "Configs", "RawConfig")); diff != "" {
			t.Fatalf("seed %d: merge(A, A) != A (-A +merged):\n%s", seed, diff)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

// Configurations only extend each other: adding a compatible config never
// removes anything from the effective result.
func TestAddingCompatibleConfigOnlyExtends(t *testing.T) {
	extended := 0
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 3))
		configs := randomConfigs(r, true)
		before := forNode(configs[:len(configs)-1])
		after := forNode(configs)
		if before.Conflict != nil || after.Conflict != nil {
			t.Fatalf("seed %d: compatible configs conflict: %v %v", seed, before.Conflict, after.Conflict)
		}
		if missing := lostIn(before.Effective, after.Effective); missing != "" {
			t.Fatalf("seed %d: adding %s removed %s", seed, configs[len(configs)-1].Name, missing)
		}
		if !cmp.Equal(before.Effective, after.Effective, cmpopts.EquateEmpty()) {
			extended++
		}
	}
	t.Logf("%d of 400 additions changed the result", extended)
	if extended < 200 {
		t.Fatalf("only %d of 400 additions changed anything; the generator is too weak", extended)
	}
}

// lostIn describes the first thing of small that is missing from big, or "".
func lostIn(small, big *Effective) string {
	if !containsAll(big.Configs, small.Configs) {
		return "a config"
	}
	for _, p := range small.BFDProfiles {
		if !slices.ContainsFunc(big.BFDProfiles, func(q BFDProfile) bool { return cmp.Equal(p, q) }) {
			return "BFD profile " + p.Name
		}
	}
	for _, s := range small.RawConfig {
		if !slices.Contains(big.RawConfig, s) {
			return "raw config of " + s.Config
		}
	}
	for _, sr := range small.Routers {
		i := slices.IndexFunc(big.Routers, func(br Router) bool { return br.VRF == sr.VRF })
		if i < 0 {
			return "router " + vrfLabel(sr.VRF)
		}
		br := big.Routers[i]
		if br.ASN != sr.ASN || (sr.ID != "" && br.ID != sr.ID) || !containsAll(br.PrefixesV4, sr.PrefixesV4) ||
			!containsAll(br.PrefixesV6, sr.PrefixesV6) || !containsAll(br.ImportVRFs, sr.ImportVRFs) {
			return "part of router " + vrfLabel(sr.VRF)
		}
		for _, sn := range sr.Neighbors {
			j := slices.IndexFunc(br.Neighbors, func(bn Neighbor) bool { return bn.ID == sn.ID })
			if j < 0 {
				return "neighbor " + sn.ID
			}
			if missing := neighborLostIn(sn, br.Neighbors[j]); missing != "" {
				return "neighbor " + sn.ID + " " + missing
			}
		}
	}
	return ""
}

func neighborLostIn(small, big Neighbor) string {
	sessionOnly := cmpopts.IgnoreFields(Neighbor{}, "Advertise", "Receive", "GracefulRestart")
	if !cmp.Equal(small, big, sessionOnly) {
		return "session fields: " + cmp.Diff(small, big, sessionOnly)
	}
	if small.GracefulRestart && !big.GracefulRestart {
		return "graceful restart"
	}
	if !containsAll(big.Advertise.PrefixesV4, small.Advertise.PrefixesV4) || !containsAll(big.Advertise.PrefixesV6, small.Advertise.PrefixesV6) {
		return "advertised prefixes"
	}
	for _, lp := range small.Advertise.LocalPrefs {
		i := slices.IndexFunc(big.Advertise.LocalPrefs, func(b LocalPrefGroup) bool { return b.LocalPref == lp.LocalPref })
		if i < 0 || !containsAll(big.Advertise.LocalPrefs[i].Prefixes, lp.Prefixes) {
			return fmt.Sprintf("localPref %d", lp.LocalPref)
		}
	}
	for _, c := range small.Advertise.Communities {
		i := slices.IndexFunc(big.Advertise.Communities, func(b CommunityGroup) bool { return b.Community == c.Community })
		if i < 0 || !containsAll(big.Advertise.Communities[i].Prefixes, c.Prefixes) {
			return "community " + c.Community
		}
	}
	if small.Receive.All && !big.Receive.All {
		return "receive all"
	}
	if !big.Receive.All {
		for _, f := range small.Receive.Filters {
			if !slices.Contains(big.Receive.Filters, f) {
				return "receive filter " + f.Prefix
			}
		}
	}
	return ""
}

func containsAll[T comparable](big, small []T) bool {
	for _, v := range small {
		if !slices.Contains(big, v) {
			return false
		}
	}
	return true
}
