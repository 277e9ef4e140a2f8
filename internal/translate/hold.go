package translate

import (
	"slices"
)

// Fail static, node by node. An invalid object holds exactly the speaker
// nodes whose configuration it could change: those keep their last good
// configuration, and every other node is built from the valid objects alone,
// which by construction do not depend on the invalid ones there. An object
// that could change no node (its nodeSelectors match nothing) holds nothing.
//
// "Could change" is judged on the object as written, and conservatively:
//   - a BGPPeer: the nodes its nodeSelectors select (all of them if one
//     selector cannot be parsed);
//   - a BGPAdvertisement: the nodes it selects that have a session with a
//     peer it targets;
//   - an IPAddressPool: the nodes of the advertisements that apply to it;
//   - a Community: the nodes of the advertisements naming one of its aliases;
//   - a BFDProfile: the nodes of the peers using it;
//   - a Node defined twice: that node; anything else (a Service or Secret
//     defined twice in a file): every speaker node.

// excludeInvalid marks the objects that have problems and removes invalid
// peers from the nodes' sessions, so that building a node never reads them.
func (b *builder) excludeInvalid() {
	for _, p := range b.peers {
		p.invalid = b.diag.hasProblems(p.ref)
	}
	for _, a := range b.ads {
		a.invalid = b.diag.hasProblems(a.ref)
	}
	for _, n := range b.nodes {
		n.allPeers = n.peers
		n.peers = slices.DeleteFunc(slices.Clone(n.peers), func(p *peer) bool { return p.invalid })
	}
}

// holdNodesOfInvalid records, for every object with problems not seen yet,
// the nodes it holds.
func (b *builder) holdNodesOfInvalid() {
	for ref, od := range b.diag.byRef {
		if len(od.Problems) == 0 || b.holds[ref] != nil {
			continue
		}
		nodes := []string{} // non-nil: this object has been looked at
		for _, n := range b.nodes {
			if n.speaker && b.couldChange(ref, n) {
				nodes = append(nodes, n.name)
				b.heldBy[n.name] = append(b.heldBy[n.name], ref)
			}
		}
		if ref.Kind == "Node" && len(nodes) == 0 {
			// Defined twice in a file: the node is not built at all.
			nodes = append(nodes, ref.Name)
			b.heldBy[ref.Name] = append(b.heldBy[ref.Name], ref)
		}
		b.holds[ref] = nodes
	}
}

// couldChange reports whether the invalid object ref could change the
// configuration of speaker node n.
func (b *builder) couldChange(ref ObjectRef, n *nodeInfo) bool {
	switch ref.Kind {
	case KindBGPPeer:
		if p := b.peerByRef[ref]; p != nil {
			return peerReaches(p, n)
		}
	case KindBGPAdvertisement:
		if a := b.adByRef[ref]; a != nil {
			return adReaches(a, n)
		}
	case KindIPAddressPool:
		if p := b.poolByRef[ref]; p != nil {
			return slices.ContainsFunc(p.ads, func(a *advertisement) bool { return adReaches(a, n) })
		}
	case KindCommunity:
		if aliases, ok := b.aliasesOf[ref]; ok {
			return slices.ContainsFunc(b.ads, func(a *advertisement) bool {
				return adReaches(a, n) && slices.ContainsFunc(a.communityNames, func(c string) bool { return slices.Contains(aliases, c) })
			})
		}
	case KindBFDProfile:
		if b.bfdRefs[ref] {
			return slices.ContainsFunc(b.peers, func(p *peer) bool { return p.spec.BFDProfile == ref.Name && peerReaches(p, n) })
		}
	case "Node":
		return n.name == ref.Name
	}
	// Not parsed (defined twice, unnamed): what it selects is unknown.
	return true
}

func peerReaches(p *peer, n *nodeInfo) bool {
	return p.nodeSelectorsBroken || slices.Contains(n.allPeers, p)
}

func adReaches(a *advertisement, n *nodeInfo) bool {
	if !a.nodeSelectorsBroken && !matchesAny(a.nodeSelectors, n.labels) {
		return false
	}
	return slices.ContainsFunc(n.allPeers, func(p *peer) bool { return a.targetsPeer(p.ref.Name) })
}

// isHeld reports whether node keeps its last good configuration.
func (b *builder) isHeld(node string) bool { return len(b.heldBy[node]) > 0 }

// heldNodes lists the held nodes, sorted, each with its objects sorted.
func (b *builder) heldNodes() []HeldNode {
	out := make([]HeldNode, 0, len(b.heldBy))
	for _, node := range sortedKeys(b.heldBy) {
		by := slices.Clone(b.heldBy[node])
		slices.SortFunc(by, compareRefs)
		out = append(out, HeldNode{Node: node, By: by})
	}
	return out
}
