package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/frrgen/frrgen/internal/pooladdr"
)

// poolRange is one CIDR of a pool, used to find the pool of a service IP and
// to detect overlaps.
type poolRange struct {
	first, last netip.Addr
	cidr        netip.Prefix
	pool        *pool
	entry       *poolEntry
}

// checkPoolOverlaps reports CIDRs that overlap another CIDR, in the same
// pool or another one, and returns all CIDRs sorted by first address: with
// no overlap, a service IP then lies in at most one of them.
func checkPoolOverlaps(d *diagnostics, pools []*pool) []poolRange {
	var ranges []poolRange
	for _, p := range pools {
		for i := range p.entries {
			e := &p.entries[i]
			for _, c := range e.cidrs {
				ranges = append(ranges, poolRange{first: c.Addr(), last: pooladdr.LastAddr(c), cidr: c, pool: p, entry: e})
			}
		}
	}
	slices.SortFunc(ranges, func(a, b poolRange) int { return comparePrefixes(a.cidr, b.cidr) })
	// Sorted by start, a range overlaps an earlier one exactly when it starts
	// before the furthest end seen so far.
	furthest := -1
	for i, r := range ranges {
		if furthest >= 0 && ranges[furthest].first.Is4() == r.first.Is4() && !ranges[furthest].last.Less(r.first) {
			prev := ranges[furthest]
			d.problem(r.pool.ref, r.entry.field, r.entry.text, "addresses %s overlap %s of %s (%s); a service IP must belong to exactly one pool", r.cidr, prev.cidr, describePoolEntry(prev), prev.entry.text)
			if prev.pool != r.pool {
				d.problem(prev.pool.ref, prev.entry.field, prev.entry.text, "addresses %s overlap %s of %s (%s); a service IP must belong to exactly one pool", prev.cidr, r.cidr, describePoolEntry(r), r.entry.text)
			}
		}
		if furthest < 0 || ranges[furthest].first.Is4() != r.first.Is4() || ranges[furthest].last.Less(r.last) {
			furthest = i
		}
	}
	return ranges
}

func describePoolEntry(r poolRange) string {
	return fmt.Sprintf("%s %s", r.pool.ref, r.entry.field)
}

// poolOf returns the pool holding every address, or nil.
func poolOf(ranges []poolRange, addrs []netip.Addr) *pool {
	var found *pool
	for _, a := range addrs {
		i, _ := slices.BinarySearchFunc(ranges, a, func(r poolRange, a netip.Addr) int { return r.first.Compare(a) })
		// ranges[i-1] is the last range starting at or before a, unless a is
		// itself a start.
		if i < len(ranges) && ranges[i].first == a {
			i++
		}
		if i == 0 || !ranges[i-1].cidr.Contains(a) {
			return nil
		}
		p := ranges[i-1].pool
		if found != nil && found != p {
			return nil
		}
		found = p
	}
	return found
}

// checkAggregation refuses an aggregation length shorter than a pool entry's
// widest CIDR: the aggregate would then cover addresses outside the entry.
func checkAggregation(d *diagnostics, ads []*advertisement) {
	for _, a := range ads {
		for _, p := range a.pools {
			for _, e := range p.entries {
				widest := map[family]int{}
				for _, c := range e.cidrs {
					f := familyOf(c.Addr())
					if w, ok := widest[f]; !ok || c.Bits() < w {
						widest[f] = c.Bits()
					}
				}
				for _, f := range []family{familyV4, familyV6} {
					w, ok := widest[f]
					if !ok || a.aggLength(f) >= w {
						continue
					}
					field, version := "spec.aggregationLength", "IPv4"
					if f == familyV6 {
						field, version = "spec.aggregationLengthV6", "IPv6"
					}
					d.problem(a.ref, field, strconv.Itoa(a.aggLength(f)),
						"%s aggregation length %d is shorter than the /%d of %s %s (%s); the aggregate would cover addresses outside the pool; use a length of at least %d",
						version, a.aggLength(f), w, p.ref, e.field, e.text, w)
				}
			}
		}
	}
}

// adPairConflict says, for two advertisements, in which families they would
// give the same prefix to the same peer with a different localPref.
type adPairConflict [][]family

func newAdPairConflict(ads []*advertisement) adPairConflict {
	t := make(adPairConflict, len(ads))
	for i, a := range ads {
		t[i] = make([]family, len(ads))
		for j, b := range ads {
			if i == j || a.localPref == b.localPref || !peersOverlap(a, b) {
				continue
			}
			if a.agg4 == b.agg4 {
				t[i][j] |= familyV4
			}
			if a.agg6 == b.agg6 {
				t[i][j] |= familyV6
			}
		}
	}
	return t
}

func peersOverlap(a, b *advertisement) bool {
	if a.peerNames == nil || b.peerNames == nil {
		return true
	}
	for name := range a.peerNames {
		if b.peerNames[name] {
			return true
		}
	}
	return false
}

// checkLocalPrefs refuses two advertisements of one pool that would give one
// prefix two localPrefs on a node and peer they share. Advertisements with
// serviceSelectors are checked per service instead (the service is then
// withdrawn), as MetalLB does.
func checkLocalPrefs(d *diagnostics, pools []*pool, conflicts adPairConflict, nodes []*nodeInfo) {
	for _, p := range pools {
		for i, a := range p.ads {
			for _, b := range p.ads[i+1:] {
				fams := conflicts[a.index][b.index] & p.families
				if fams == 0 || a.serviceSelectors != nil || b.serviceSelectors != nil || !nodesOverlap(a, b, nodes) {
					continue
				}
				msg := "localPref %d conflicts with localPref %d of %s: both apply to %s with the same %s aggregation length, to the same peers and nodes, so one prefix would get two localPrefs; use the same localPref, different aggregation lengths, or disjoint peers or nodeSelectors"
				d.problem(a.ref, "spec.localPref", strconv.FormatUint(uint64(a.localPref), 10), msg, a.localPref, b.localPref, b.ref, p.ref, describeFamilies(fams))
				d.problem(b.ref, "spec.localPref", strconv.FormatUint(uint64(b.localPref), 10), msg, b.localPref, a.localPref, a.ref, p.ref, describeFamilies(fams))
			}
		}
	}
}

func nodesOverlap(a, b *advertisement, nodes []*nodeInfo) bool {
	for _, n := range nodes {
		if matchesAny(a.nodeSelectors, n.labels) && matchesAny(b.nodeSelectors, n.labels) {
			return true
		}
	}
	return false
}

// checkBFDEchoIPv6 refuses BFD echo mode on a peer that would carry IPv6
// service IPs: FRR cannot run BFD echo over IPv6. MetalLB makes this check
// in each speaker, on the advertisements and peers of its node only, so an
// advertisement and a peer that share no speaker node do not clash.
func checkBFDEchoIPv6(d *diagnostics, ads []*advertisement, peers []*peer, nodes []*nodeInfo) {
	for _, a := range ads {
		for _, p := range a.pools {
			if p.families&familyV6 == 0 {
				continue
			}
			for _, pr := range peers {
				if pr.bfd == nil || pr.bfd.Spec.EchoMode == nil || !*pr.bfd.Spec.EchoMode || !a.targetsPeer(pr.ref.Name) {
					continue
				}
				if !shareSpeakerNode(a, pr, nodes) {
					continue
				}
				d.problem(a.ref, "spec.ipAddressPools", p.ref.Name,
					"IPv6 %s would be announced to %s, whose BFDProfile %q has echoMode enabled; BFD echo does not work with IPv6: disable echoMode or exclude the peer with spec.peers",
					p.ref, pr.ref, pr.bfd.Name)
			}
		}
	}
}

// shareSpeakerNode reports whether a speaker node has both the
// advertisement and a session with the peer.
func shareSpeakerNode(a *advertisement, pr *peer, nodes []*nodeInfo) bool {
	for _, n := range nodes {
		if n.speaker && matchesAny(a.nodeSelectors, n.labels) && slices.Contains(n.peers, pr) {
			return true
		}
	}
	return false
}

// checkPeersSharingNodes applies frr-k8s's one-router-per-VRF model: peers
// that open sessions from the same node must agree on routerID, on myASN
// within a VRF, and must not repeat an address or interface within a VRF.
// With no Node in the input, every pair of peers is assumed to share a node.
func checkPeersSharingNodes(d *diagnostics, nodes []*nodeInfo, allPeers []*peer) {
	if len(nodes) == 0 {
		checkPeerGroup(d, "any node", allPeers)
		return
	}
	for _, n := range nodes {
		checkPeerGroup(d, "node "+n.name, n.peers)
	}
}

func checkPeerGroup(d *diagnostics, where string, peers []*peer) {
	var first *peer
	asnByVRF := map[string]*peer{}
	identity := map[string]*peer{}
	for _, p := range peers {
		s := p.spec
		if first == nil {
			first = p
		} else if s.RouterID != first.spec.RouterID {
			d.problem(p.ref, "spec.routerID", s.RouterID, "routerID %s differs from routerID %s of %s, and both peers select %s; peers sharing a node must use the same routerID",
				quoteOrUnset(s.RouterID), quoteOrUnset(first.spec.RouterID), first.ref, where)
		}
		if other, ok := asnByVRF[s.VRFName]; ok && other.spec.MyASN != s.MyASN {
			d.problem(p.ref, "spec.myASN", strconv.FormatUint(uint64(s.MyASN), 10), "myASN %d differs from myASN %d of %s in %s, and both peers select %s; peers sharing a node must use the same myASN within a VRF",
				s.MyASN, other.spec.MyASN, other.ref, describeVRF(s.VRFName), where)
		} else if !ok {
			asnByVRF[s.VRFName] = p
		}
		id := p.neighbor.Address + p.neighbor.Interface + "%" + s.VRFName
		if p.neighbor.Address == "" && p.neighbor.Interface == "" {
			continue // already reported as invalid
		}
		if other, ok := identity[id]; ok {
			field, value := "spec.peerAddress", s.Address
			if s.Interface != "" {
				field, value = "spec.interface", s.Interface
			}
			d.problem(p.ref, field, value, "%s %q in %s is already used by %s, and both peers select %s; a node can have only one session per address or interface and VRF",
				field[len("spec."):], value, describeVRF(s.VRFName), other.ref, where)
		} else {
			identity[id] = p
		}
	}
}

func quoteOrUnset(s string) string {
	if s == "" {
		return "(unset)"
	}
	return strconv.Quote(s)
}

func describeVRF(vrf string) string {
	if vrf == "" {
		return "the default VRF"
	}
	return "VRF " + strconv.Quote(vrf)
}
