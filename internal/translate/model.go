package translate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"

	"github.com/frrgen/frrgen/internal/pooladdr"
)

// The parsed, validated form of the input objects. Everything below is
// computed once per Build, whatever the number of nodes.

type nodeInfo struct {
	name               string
	uid                types.UID // empty for a Node read from a file without one
	labels             labels.Set
	speaker            bool
	networkUnavailable bool
	excluded           bool // labelled exclude-from-external-load-balancers
	// peers are the valid peers selecting this node, by name; allPeers
	// includes the invalid ones (they decide which nodes are held).
	peers    []*peer
	allPeers []*peer
}

// hostname is the value frr-k8s matches our nodeSelector against: the node's
// kubernetes.io/hostname label, which the kubelet sets and which may differ
// from the node name (--hostname-override); the name when the label is absent.
func (n *nodeInfo) hostname() string {
	if h := n.labels[labelHostname]; h != "" {
		return h
	}
	return n.name
}

type pool struct {
	ref      ObjectRef
	labels   labels.Set
	entries  []poolEntry
	families family
	// ads are the advertisements that apply to this pool, by name.
	ads []*advertisement
}

type poolEntry struct {
	field string // spec.addresses[i]
	text  string
	cidrs []netip.Prefix
}

type advertisement struct {
	ref   ObjectRef
	index int // position in model.ads, used for per-pair tables
	agg4  int
	agg6  int
	// localPref 0 means none, as in MetalLB.
	localPref   uint32
	communities []community // resolved, sorted, without repeats
	pools       []*pool
	// nil selectors mean "all".
	nodeSelectors    []labels.Selector
	serviceSelectors []labels.Selector
	peerNames        map[string]bool // nil: every peer
	// communityNames are spec.communities as written (aliases or values).
	communityNames []string
	// nodeSelectorsBroken: some nodeSelector could not be parsed, so which
	// nodes the advertisement is meant for is unknown.
	nodeSelectorsBroken bool
	invalid             bool
}

func (a *advertisement) aggLength(f family) int {
	if f == familyV4 {
		return a.agg4
	}
	return a.agg6
}

func (a *advertisement) targetsPeer(name string) bool {
	return a.peerNames == nil || a.peerNames[name]
}

type peer struct {
	ref           ObjectRef
	spec          *metallbv1beta2.BGPPeerSpec
	address       netip.Addr // invalid for an unnumbered peer
	families      family
	nodeSelectors []labels.Selector
	// neighbor is everything of the frr-k8s neighbor except toAdvertise.
	neighbor frrv1beta1.Neighbor
	bfd      *metallbv1beta1.BFDProfile
	// mirroredSecret is the Secret this peer's neighbor references, "" if none.
	mirroredSecret SecretMirror
	// nodeSelectorsBroken: some nodeSelector could not be parsed.
	nodeSelectorsBroken bool
	invalid             bool
}

const (
	labelExcludeLB  = "node.kubernetes.io/exclude-from-external-load-balancers"
	labelHostname   = "kubernetes.io/hostname"
	defaultBGPPort  = 179
	maxBGPPort      = 16384
	maxCommunities  = 63
	defaultAggV4    = 32
	defaultAggV6    = 128
	secretKeyPasswd = "password"
)

// parseSelectors converts label selectors; an empty list gives nil ("all").
// Like MetalLB, it refuses a selector listed twice, and inside a selector a
// match expression or a value listed twice: these are mistakes, not choices.
func parseSelectors(d *diagnostics, ref ObjectRef, field string, in []metallbv1beta1.LabelSelector) ([]labels.Selector, bool) {
	var out []labels.Selector
	ok := checkListLength(d, ref, field, len(in), maxSelectors)
	seen := map[string]int{}
	for i := range in {
		here := fmt.Sprintf("%s[%d]", field, i)
		if !checkSelectorSize(d, ref, here, &in[i]) {
			ok = false
			continue
		}
		m := in[i].AsMeta()
		key := selectorKey(m)
		if first, dup := seen[key]; dup {
			d.problem(ref, here, m.String(), "this label selector is the same as %s[%d]; list each selector once", field, first)
			ok = false
			continue
		}
		seen[key] = i
		if !checkMatchExpressions(d, ref, here, m.MatchExpressions) {
			ok = false
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(m)
		if err != nil {
			d.problem(ref, here, m.String(), "invalid label selector: %v", err)
			ok = false
			continue
		}
		out = append(out, sel)
	}
	return out, ok
}

// checkSelectorSize applies the CRDs' limits to one selector.
func checkSelectorSize(d *diagnostics, ref ObjectRef, field string, sel *metallbv1beta1.LabelSelector) bool {
	ok := checkListLength(d, ref, field+".matchLabels", len(sel.MatchLabels), maxMatchLabels)
	ok = checkListLength(d, ref, field+".matchExpressions", len(sel.MatchExpressions), maxMatchExpressions) && ok
	for i, e := range sel.MatchExpressions {
		ok = checkListLength(d, ref, fmt.Sprintf("%s.matchExpressions[%d].values", field, i), len(e.Values), maxSelectorValues) && ok
	}
	return ok
}

// selectorKey is equal for two selectors that MetalLB counts as the same:
// same matchLabels, same match expressions in the same order, the values
// of each expression in any order.
func selectorKey(sel *metav1.LabelSelector) string {
	c := sel.DeepCopy()
	for i := range c.MatchExpressions {
		slices.Sort(c.MatchExpressions[i].Values)
	}
	return c.String()
}

// checkMatchExpressions refuses a value repeated within an expression and
// an expression repeated within a selector.
func checkMatchExpressions(d *diagnostics, ref ObjectRef, field string, exprs []metav1.LabelSelectorRequirement) bool {
	ok := true
	seen := map[string]int{}
	for i, e := range exprs {
		here := fmt.Sprintf("%s.matchExpressions[%d]", field, i)
		values := map[string]bool{}
		for j, v := range e.Values {
			if values[v] {
				d.problem(ref, fmt.Sprintf("%s.values[%d]", here, j), v, "value %q is listed twice", v)
				ok = false
			}
			values[v] = true
		}
		sorted := e.DeepCopy()
		slices.Sort(sorted.Values)
		key := sorted.String()
		if first, dup := seen[key]; dup {
			d.problem(ref, here, e.String(), "this match expression is the same as %s.matchExpressions[%d]; list each expression once", field, first)
			ok = false
			continue
		}
		seen[key] = i
	}
	return ok
}

// matchesAny reports whether set matches one of sels; nil sels match everything.
func matchesAny(sels []labels.Selector, set labels.Set) bool {
	if sels == nil {
		return true
	}
	for _, s := range sels {
		if s.Matches(set) {
			return true
		}
	}
	return false
}

// uniqueObjects returns the objects of namespace ("" for any) sorted by
// namespace and name. An object defined twice (possible with files, not in
// a cluster) is reported, and no copy is used, so that the result does not
// depend on which copy comes first. Objects of the kinds frrgen reports on
// (tracked) are registered in d even when valid.
func uniqueObjects[T any](d *diagnostics, namespace, kind string, tracked bool, in []T, meta func(*T) *metav1.ObjectMeta) []*T {
	// Sorting keyed copies is much cheaper than calling meta in the comparator.
	type keyed struct {
		namespace, name string
		obj             *T
	}
	all := make([]keyed, 0, len(in))
	for i := range in {
		m := meta(&in[i])
		if namespace != "" && m.Namespace != namespace {
			continue
		}
		all = append(all, keyed{m.Namespace, m.Name, &in[i]})
	}
	slices.SortFunc(all, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
	unique := make([]*T, 0, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name && all[j].namespace == all[i].namespace {
			j++
		}
		m := meta(all[i].obj)
		ref := refOf(kind, m)
		switch {
		case j-i > 1:
			d.problem(ref, "metadata.name", m.Name, "%s %q is defined %d times in the input; none of the copies is used", kind, m.Name, j-i)
		case m.Name == "":
			d.problem(ref, "metadata.name", "", "the %s has no name", kind)
		default:
			if tracked {
				d.register(ref, m.Generation)
			}
			unique = append(unique, all[i].obj)
		}
		i = j
	}
	return unique
}

func refOf(kind string, m *metav1.ObjectMeta) ObjectRef {
	return ObjectRef{Kind: kind, Namespace: m.Namespace, Name: m.Name}
}

// parsePools validates each pool on its own; overlaps are checked later.
func parsePools(d *diagnostics, in []*metallbv1beta1.IPAddressPool) []*pool {
	var out []*pool
	for _, obj := range in {
		p := &pool{ref: refOf(KindIPAddressPool, &obj.ObjectMeta), labels: labels.Set(obj.Labels)}
		if len(obj.Spec.Addresses) == 0 {
			d.problem(p.ref, "spec.addresses", "", "the pool has no addresses; list at least one CIDR or range")
		}
		checkListLength(d, p.ref, "spec.addresses", len(obj.Spec.Addresses), maxPoolAddresses)
		for i, a := range obj.Spec.Addresses {
			field := fmt.Sprintf("spec.addresses[%d]", i)
			cidrs, err := pooladdr.ParseAddressEntry(string(a))
			if err != nil {
				d.problem(p.ref, field, string(a), "invalid address %q: %v", a, err)
				continue
			}
			p.entries = append(p.entries, poolEntry{field: field, text: string(a), cidrs: cidrs})
			p.families |= familyOf(cidrs[0].Addr())
		}
		checkServiceAllocation(d, p.ref, obj.Spec.ServiceAllocation)
		out = append(out, p)
	}
	return out
}

// checkServiceAllocation checks the allocation settings of a pool. frrgen
// does not allocate, but MetalLB refuses the whole configuration when they
// are wrong, so frrgen does too.
func checkServiceAllocation(d *diagnostics, ref ObjectRef, sa *metallbv1beta1.ServiceAllocation) {
	if sa == nil {
		return
	}
	checkListLength(d, ref, "spec.serviceAllocation.namespaces", len(sa.Namespaces), maxNameLists)
	seen := map[string]bool{}
	for i, ns := range sa.Namespaces {
		if seen[ns] {
			d.problem(ref, fmt.Sprintf("spec.serviceAllocation.namespaces[%d]", i), ns, "namespace %q is listed twice", ns)
		}
		seen[ns] = true
	}
	parseSelectors(d, ref, "spec.serviceAllocation.namespaceSelectors", sa.NamespaceSelectors)
	parseSelectors(d, ref, "spec.serviceAllocation.serviceSelectors", sa.ServiceSelectors)
}

// parseCommunityAliases returns every alias, and reports bad values and
// names defined twice (within or across Community objects).
func parseCommunityAliases(d *diagnostics, in []*metallbv1beta1.Community) map[string]community {
	aliases := map[string]community{}
	definedAt := map[string]string{} // alias -> "Community ns/name spec.communities[i]"
	for _, obj := range in {
		ref := refOf(KindCommunity, &obj.ObjectMeta)
		checkListLength(d, ref, "spec.communities", len(obj.Spec.Communities), maxNameLists)
		for i, alias := range obj.Spec.Communities {
			here := fmt.Sprintf("spec.communities[%d]", i)
			if alias.Name == "" {
				d.problem(ref, here+".name", "", "the alias has no name")
				continue
			}
			if why := aliasNameProblem(alias.Name); why != "" {
				d.problem(ref, here+".name", alias.Name, "invalid alias name %q: %s", alias.Name, why)
				continue
			}
			c, _, err := parseCommunity(alias.Value)
			if err != nil {
				d.problem(ref, here+".value", alias.Value, "invalid community value %q for alias %q: %v", alias.Value, alias.Name, err)
				continue
			}
			if prev, dup := definedAt[alias.Name]; dup {
				d.problem(ref, here+".name", alias.Name, "community alias %q is already defined in %s; alias names must be unique across all Community objects", alias.Name, prev)
				continue
			}
			definedAt[alias.Name] = fmt.Sprintf("%s %s", ref, here)
			aliases[alias.Name] = c
		}
	}
	return aliases
}

// checkBFDProfiles validates the ranges the CRD would enforce.
func checkBFDProfiles(d *diagnostics, in []*metallbv1beta1.BFDProfile) map[string]*metallbv1beta1.BFDProfile {
	out := map[string]*metallbv1beta1.BFDProfile{}
	for _, obj := range in {
		ref := refOf(KindBFDProfile, &obj.ObjectMeta)
		if why := bfdProfileNameProblem(obj.Name); why != "" {
			d.problem(ref, "metadata.name", obj.Name, "invalid BFDProfile name %q: %s", obj.Name, why)
		}
		s := obj.Spec
		for _, f := range []struct {
			field    string
			value    *uint32
			min, max uint32
			unit     string
		}{
			{"spec.receiveInterval", s.ReceiveInterval, 10, 60000, " ms"},
			{"spec.transmitInterval", s.TransmitInterval, 10, 60000, " ms"},
			{"spec.echoInterval", s.EchoInterval, 10, 60000, " ms"},
			{"spec.detectMultiplier", s.DetectMultiplier, 2, 255, ""},
			{"spec.minimumTtl", s.MinimumTTL, 1, 254, ""},
		} {
			if f.value != nil && (*f.value < f.min || *f.value > f.max) {
				d.problem(ref, f.field, strconv.FormatUint(uint64(*f.value), 10), "%d is out of range; must be between %d and %d%s", *f.value, f.min, f.max, f.unit)
			}
		}
		out[obj.Name] = obj
	}
	return out
}

// parseAdvertisements validates each advertisement and resolves its
// communities and pools. Pool and peer names that match nothing are warnings,
// because MetalLB ignores them too.
func parseAdvertisements(d *diagnostics, in []*metallbv1beta1.BGPAdvertisement, pools []*pool, aliases map[string]community, peerExists map[string]bool) []*advertisement {
	poolByName := map[string]*pool{}
	for _, p := range pools {
		poolByName[p.ref.Name] = p
	}
	var out []*advertisement
	for _, obj := range in {
		s := &obj.Spec
		a := &advertisement{ref: refOf(KindBGPAdvertisement, &obj.ObjectMeta), index: len(out), agg4: defaultAggV4, agg6: defaultAggV6, localPref: s.LocalPref}
		if s.AggregationLength != nil {
			a.agg4 = int(*s.AggregationLength)
			if a.agg4 < 1 || a.agg4 > 32 {
				d.problem(a.ref, "spec.aggregationLength", strconv.Itoa(a.agg4), "invalid IPv4 aggregation length %d; must be between 1 and 32", a.agg4)
			}
		}
		if s.AggregationLengthV6 != nil {
			a.agg6 = int(*s.AggregationLengthV6)
			// No lower bound here, as in MetalLB (its CRD has none either):
			// a length too short for an IPv6 pool is refused by
			// checkAggregation, and with no IPv6 pool the length is unused.
			if a.agg6 > 128 {
				d.problem(a.ref, "spec.aggregationLengthV6", strconv.Itoa(a.agg6), "invalid IPv6 aggregation length %d; must be at most 128", a.agg6)
			}
		}
		if len(s.ServiceSelectors) > 0 && (a.agg4 != defaultAggV4 || a.agg6 != defaultAggV6) {
			d.problem(a.ref, "spec.serviceSelectors", "", "serviceSelectors can only be used with the default aggregation lengths (32 and 128), but aggregationLength is %d and aggregationLengthV6 is %d", a.agg4, a.agg6)
		}
		a.communities = resolveCommunities(d, a.ref, s.Communities, aliases)
		for _, c := range s.Communities {
			a.communityNames = append(a.communityNames, string(c))
		}
		checkListLength(d, a.ref, "spec.ipAddressPools", len(s.IPAddressPools), maxNameLists)
		checkListLength(d, a.ref, "spec.peers", len(s.Peers), maxNameLists)

		seenPool := map[string]bool{}
		for i, name := range s.IPAddressPools {
			field := fmt.Sprintf("spec.ipAddressPools[%d]", i)
			if seenPool[name] {
				d.problem(a.ref, field, name, "IPAddressPool %q is listed twice", name)
				continue
			}
			seenPool[name] = true
			if p, ok := poolByName[name]; ok {
				a.pools = append(a.pools, p)
			} else {
				d.missingReference(a.ref, field, name, "there is no IPAddressPool %q in namespace %s; it is ignored", name, a.ref.Namespace)
			}
		}
		poolSelectors, selectorsOK := parseSelectors(d, a.ref, "spec.ipAddressPoolSelectors", s.IPAddressPoolSelectors)
		bySelector := 0
		for _, p := range pools {
			selected := len(s.IPAddressPools) == 0 && len(s.IPAddressPoolSelectors) == 0 // neither: every pool
			if poolSelectors != nil && matchesAny(poolSelectors, p.labels) {
				selected = true
				bySelector++
			}
			if selected && !seenPool[p.ref.Name] {
				a.pools = append(a.pools, p)
			}
		}
		if poolSelectors != nil && selectorsOK && bySelector == 0 {
			d.warning(a.ref, "spec.ipAddressPoolSelectors", "", "the selectors match no IPAddressPool in namespace %s; they add nothing", a.ref.Namespace)
		}
		slices.SortFunc(a.pools, func(x, y *pool) int { return cmp.Compare(x.ref.Name, y.ref.Name) })
		var ok bool
		a.nodeSelectors, ok = parseSelectors(d, a.ref, "spec.nodeSelectors", s.NodeSelectors)
		a.nodeSelectorsBroken = !ok
		a.serviceSelectors, _ = parseSelectors(d, a.ref, "spec.serviceSelectors", s.ServiceSelectors)
		if len(s.Peers) > 0 {
			a.peerNames = map[string]bool{}
		}
		for i, name := range s.Peers {
			field := fmt.Sprintf("spec.peers[%d]", i)
			if a.peerNames[name] {
				d.problem(a.ref, field, name, "BGPPeer %q is listed twice", name)
				continue
			}
			a.peerNames[name] = true
			if !peerExists[name] {
				d.missingReference(a.ref, field, name, "there is no BGPPeer %q in namespace %s; it is ignored", name, a.ref.Namespace)
			}
		}
		for _, p := range a.pools {
			p.ads = append(p.ads, a)
		}
		out = append(out, a)
	}
	return out
}

// resolveCommunities looks each entry up as an alias first (as MetalLB
// does), then parses it as a value. Two spellings of one value count once.
func resolveCommunities(d *diagnostics, ref ObjectRef, in []metallbv1beta1.CommunityRef, aliases map[string]community) []community {
	var out []community
	seen := map[string]bool{}
	for i, entry := range in {
		field := fmt.Sprintf("spec.communities[%d]", i)
		text := string(entry)
		if seen[text] {
			d.problem(ref, field, text, "community %q is listed twice", text)
			continue
		}
		seen[text] = true
		if c, ok := aliases[text]; ok {
			out = append(out, c)
			continue
		}
		c, shape, err := parseCommunity(text)
		switch shape {
		case shapeValid:
			out = append(out, c)
		case shapeMalformed:
			d.problem(ref, field, text, "invalid community %q: %v", text, err)
		default:
			d.problem(ref, field, text, "unknown community alias %q; define it in a Community object or use the a:b / large:a:b:c form", text)
		}
	}
	slices.SortFunc(out, compareCommunities)
	out = slices.CompactFunc(out, func(x, y community) bool { return x == y })
	// The limit counts distinct values, as MetalLB's does: an alias and the
	// value it stands for count once.
	if len(out) > maxCommunities {
		d.problem(ref, "spec.communities", strconv.Itoa(len(out)), "%d distinct communities are listed; at most %d are supported", len(out), maxCommunities)
	}
	return out
}

// parsePeers validates each BGPPeer on its own and prepares its neighbor.
func parsePeers(d *diagnostics, o Options, in []*metallbv1beta2.BGPPeer, bfd map[string]*metallbv1beta1.BFDProfile, secrets map[string]*corev1.Secret) []*peer {
	var out []*peer
	for _, obj := range in {
		s := &obj.Spec
		p := &peer{ref: refOf(KindBGPPeer, &obj.ObjectMeta), spec: s}
		bad := func(field, value, format string, args ...any) { d.problem(p.ref, field, value, format, args...) }
		nb := &p.neighbor

		if s.MyASN == 0 {
			bad("spec.myASN", "0", "myASN must be set to an AS number between 1 and 4294967295")
		}
		switch {
		case s.ASN != 0 && s.DynamicASN != "":
			bad("spec.dynamicASN", string(s.DynamicASN), "peerASN %d and dynamicASN %q are both set; set exactly one", s.ASN, s.DynamicASN)
		case s.ASN == 0 && s.DynamicASN == "":
			bad("spec.peerASN", "", "neither peerASN nor dynamicASN is set; set exactly one")
		case s.DynamicASN != "" && s.DynamicASN != metallbv1beta2.InternalASNMode && s.DynamicASN != metallbv1beta2.ExternalASNMode:
			bad("spec.dynamicASN", string(s.DynamicASN), "invalid dynamicASN %q; must be internal or external", s.DynamicASN)
		}
		nb.ASN = s.ASN
		nb.DynamicASN = frrv1beta1.DynamicASNMode(s.DynamicASN)
		if s.LocalASN != 0 {
			bad("spec.localASN", strconv.FormatUint(uint64(s.LocalASN), 10),
				"localASN %d cannot be expressed in frr-k8s v0.0.21 FRRConfigurations; remove it (the session would otherwise silently use myASN %d)", s.LocalASN, s.MyASN)
		}

		switch {
		case s.Address != "" && s.Interface != "":
			bad("spec.interface", s.Interface, "peerAddress %q and interface %q are both set; set exactly one", s.Address, s.Interface)
		case s.Address == "" && s.Interface == "":
			bad("spec.peerAddress", "", "neither peerAddress nor interface is set; set exactly one")
		case s.Address != "":
			addr, err := pooladdr.ParseIP(s.Address)
			if err != nil {
				bad("spec.peerAddress", s.Address, "invalid peerAddress %q: must be an IPv4 or IPv6 address", s.Address)
				break
			}
			if why := unicastProblem(addr, true); why != "" {
				bad("spec.peerAddress", s.Address, "invalid peerAddress %q: %s", s.Address, why)
				break
			}
			p.address = addr.Unmap()
			p.families = familyOf(p.address)
			nb.Address = p.address.String()
		default:
			if why := ifNameProblem(s.Interface); why != "" {
				bad("spec.interface", s.Interface, "invalid interface %q: %s", s.Interface, why)
			}
			nb.Interface = s.Interface
			p.families = familyDual
		}
		if s.DualStackAddressFamily {
			p.families = familyDual
		}
		nb.DualStackAddressFamily = s.DualStackAddressFamily
		nb.DisableMP = s.DisableMP

		if s.SrcAddress != "" {
			src, err := pooladdr.ParseIP(s.SrcAddress)
			var why string
			if err == nil {
				why = unicastProblem(src, false)
			}
			switch {
			case err != nil:
				bad("spec.sourceAddress", s.SrcAddress, "invalid sourceAddress %q: must be an IPv4 or IPv6 address", s.SrcAddress)
			case why != "":
				bad("spec.sourceAddress", s.SrcAddress, "invalid sourceAddress %q: %s", s.SrcAddress, why)
			case p.address.IsValid() && src.Unmap().Is4() != p.address.Is4():
				bad("spec.sourceAddress", s.SrcAddress, "sourceAddress %q and peerAddress %q are of different IP families", s.SrcAddress, s.Address)
			default:
				nb.SourceAddress = src.Unmap().String()
			}
		}

		port := uint16(defaultBGPPort) // what the CRD default gives when unset
		if s.Port != 0 {
			port = s.Port
		}
		if port > maxBGPPort {
			bad("spec.peerPort", strconv.Itoa(int(port)), "invalid peerPort %d; must be between 1 and %d", port, maxBGPPort)
		}
		nb.Port = &port

		nb.HoldTime, nb.KeepaliveTime = deriveTimers(d, p.ref, s.HoldTime, s.KeepaliveTime)
		if c := s.ConnectTime; c != nil {
			if why := timerProblem(c.Duration, time.Second, maxBGPTimer, false); why != "" {
				bad("spec.connectTime", c.Duration.String(), "invalid connectTime %s: %s", c.Duration, why)
			} else {
				nb.ConnectTime = &metav1.Duration{Duration: c.Duration}
			}
		}

		if s.RouterID != "" {
			id, err := pooladdr.ParseIP(s.RouterID)
			switch {
			case err != nil || !id.Is4():
				bad("spec.routerID", s.RouterID, "invalid routerID %q: must be an IPv4 address", s.RouterID)
			case id.IsUnspecified():
				bad("spec.routerID", s.RouterID, "invalid routerID %q: a BGP identifier must not be zero", s.RouterID)
			}
		}
		if s.EBGPMultiHop && s.ASN != 0 && s.ASN == s.MyASN {
			bad("spec.ebgpMultiHop", "true", "ebgpMultiHop is set but the session is iBGP (peerASN %d equals myASN); remove ebgpMultiHop", s.ASN)
		}
		nb.EBGPMultiHop = s.EBGPMultiHop
		nb.EnableGracefulRestart = s.EnableGracefulRestart

		switch {
		case s.Password == "":
		case len(s.Password) > maxPasswordLength:
			bad("spec.password", "(not shown)", "the password has %d bytes; TCP MD5 keys have at most %d", len(s.Password), maxPasswordLength)
		case !isFRRWord(s.Password):
			bad("spec.password", "(not shown)", "invalid password: only printable ASCII characters without spaces are allowed (no control characters, whitespace or non-ASCII); the value is not shown")
		default:
			nb.Password = s.Password
		}
		if ns := s.PasswordSecret.Namespace; ns != "" && len(validation.IsDNS1123Label(ns)) > 0 {
			bad("spec.passwordSecret.namespace", ns, "invalid passwordSecret.namespace %q: must be a namespace name (a DNS label)", ns)
		}
		if name := s.PasswordSecret.Name; name != "" {
			switch {
			case len(validation.IsDNS1123Subdomain(name)) > 0:
				bad("spec.passwordSecret.name", name, "invalid passwordSecret.name %q: must be a Secret name (a DNS subdomain)", name)
			case s.Password != "":
				bad("spec.passwordSecret", name, "password and passwordSecret %q are both set; set only one", name)
			default:
				// MetalLB reads the Secret of that name in its own namespace
				// whatever the reference says; so does frrgen, and says so.
				if ns := s.PasswordSecret.Namespace; ns != "" && ns != obj.Namespace {
					d.warning(p.ref, "spec.passwordSecret.namespace", ns, "namespace %s is ignored: the Secret %q is read from the peer's namespace %s", ns, name, obj.Namespace)
				}
				if checkPasswordSecret(d, p.ref, name, secrets) {
					p.mirroredSecret = SecretMirror{Name: MirroredSecretName(o.NamePrefix, name), SourceName: name}
					nb.PasswordSecret = frrv1beta1.SecretReference{Name: p.mirroredSecret.Name, Namespace: o.FRRK8sNamespace}
				}
			}
		}

		if s.BFDProfile != "" {
			prof, found := bfd[s.BFDProfile]
			switch why := bfdProfileNameProblem(s.BFDProfile); {
			case why != "":
				bad("spec.bfdProfile", s.BFDProfile, "invalid bfdProfile %q: %s", s.BFDProfile, why)
			case !found:
				bad("spec.bfdProfile", s.BFDProfile, "there is no BFDProfile %q in namespace %s", s.BFDProfile, obj.Namespace)
			default:
				p.bfd = prof
				nb.BFDProfile = s.BFDProfile
			}
		}
		if s.VRFName != "" {
			if why := ifNameProblem(s.VRFName); why != "" {
				bad("spec.vrf", s.VRFName, "invalid vrf %q: %s (a VRF is a Linux interface)", s.VRFName, why)
			}
		}
		var ok bool
		p.nodeSelectors, ok = parseSelectors(d, p.ref, "spec.nodeSelectors", s.NodeSelectors)
		p.nodeSelectorsBroken = !ok
		out = append(out, p)
	}
	return out
}

// checkPasswordSecret tells whether the referenced Secret can be mirrored.
func checkPasswordSecret(d *diagnostics, ref ObjectRef, name string, secrets map[string]*corev1.Secret) bool {
	secret, ok := secrets[name]
	switch {
	case !ok:
		d.problem(ref, "spec.passwordSecret.name", name, "there is no Secret %q in namespace %s", name, ref.Namespace)
	case secret.Type != corev1.SecretTypeBasicAuth:
		d.problem(ref, "spec.passwordSecret.name", name, "Secret %q has type %q; it must be %q", name, secret.Type, corev1.SecretTypeBasicAuth)
	case !hasKey(secret.Data, secretKeyPasswd) && !hasKey(secret.StringData, secretKeyPasswd):
		// The key must exist; an empty password is accepted, as MetalLB does.
		d.problem(ref, "spec.passwordSecret.name", name, "Secret %q has no %q key", name, secretKeyPasswd)
	case !allowsPeer(secret, ref.Name):
		d.problem(ref, "spec.passwordSecret.name", name,
			"Secret %q has not allowed BGPPeer %q to use it as a BGP password; its owner must annotate it: kubectl annotate secret -n %s %s %s=%s",
			name, ref.Name, ref.Namespace, name, AnnotationAllowedPeers, allowedPeersWith(secret, ref.Name))
	default:
		return true
	}
	return false
}

// allowsPeer tells whether the Secret's owner lets peer use it (see
// AnnotationAllowedPeers). Names are compared exactly, spaces around commas
// ignored.
func allowsPeer(secret *corev1.Secret, peer string) bool {
	for _, name := range strings.Split(secret.Annotations[AnnotationAllowedPeers], ",") {
		if name = strings.TrimSpace(name); name == "*" || name == peer {
			return true
		}
	}
	return false
}

// allowedPeersWith is the annotation value that adds peer to what the
// Secret already allows, for the hint in the message.
func allowedPeersWith(secret *corev1.Secret, peer string) string {
	if current := strings.TrimSpace(secret.Annotations[AnnotationAllowedPeers]); current != "" {
		return current + "," + peer + " --overwrite"
	}
	return peer
}

func hasKey[V any](m map[string]V, key string) bool {
	_, ok := m[key]
	return ok
}

// deriveTimers applies MetalLB's rule: with only holdTime, keepalive is a
// third of it; with only keepaliveTime, hold is three times it. Both are
// then emitted, or neither. Every timer is a whole number of seconds, as FRR
// takes; a derived third is rounded down, which is what frr-k8s renders
// anyway, so the FRRConfiguration says what FRR gets.
func deriveTimers(d *diagnostics, ref ObjectRef, hold, keepalive *metav1.Duration) (*metav1.Duration, *metav1.Duration) {
	if hold == nil && keepalive == nil {
		return nil, nil
	}
	ok := true
	if hold != nil {
		if why := timerProblem(hold.Duration, minHoldTime, maxBGPTimer, true); why != "" {
			d.problem(ref, "spec.holdTime", hold.Duration.String(), "invalid holdTime %s: %s", hold.Duration, why)
			ok = false
		}
	}
	if keepalive != nil {
		if why := timerProblem(keepalive.Duration, 0, maxBGPTimer, true); why != "" {
			d.problem(ref, "spec.keepaliveTime", keepalive.Duration.String(), "invalid keepaliveTime %s: %s", keepalive.Duration, why)
			ok = false
		}
	}
	if !ok {
		return nil, nil
	}
	var h, k time.Duration
	switch {
	case hold != nil && keepalive != nil:
		h, k = hold.Duration, keepalive.Duration
	case hold != nil:
		h, k = hold.Duration, (hold.Duration / 3).Truncate(time.Second)
	default:
		h, k = 3*keepalive.Duration, keepalive.Duration
		if timerProblem(h, minHoldTime, maxBGPTimer, true) != "" {
			d.problem(ref, "spec.keepaliveTime", k.String(), "keepaliveTime %s without holdTime gives a holdTime of %s (3 x keepaliveTime), which must be 0 or between 3s and 65535s; set holdTime too", k, secondsText(h))
			return nil, nil
		}
	}
	if k > h {
		d.problem(ref, "spec.keepaliveTime", k.String(), "keepaliveTime %s is greater than holdTime %s", k, h)
		return nil, nil
	}
	return &metav1.Duration{Duration: h}, &metav1.Duration{Duration: k}
}

// MirroredSecretName is the name of the copy of a password Secret in the
// frr-k8s namespace.
func MirroredSecretName(prefix, secret string) string {
	return objectName(prefix + secret)
}

// nodeCondition reports whether the node has condition t with status True.
func nodeConditionTrue(n *corev1.Node, t corev1.NodeConditionType) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// describeFamilies is for messages.
func describeFamilies(f family) string {
	switch f {
	case familyV4:
		return "IPv4"
	case familyV6:
		return "IPv6"
	}
	return strings.Join([]string{"IPv4", "IPv6"}, " and ")
}
