package translate

import (
	"cmp"
	"fmt"
	"slices"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Explain tells how Build came to its result for one object. It runs the
// same build and reads its model, so every verdict here is Build's own.

// Written is what the caller knows of what the nodes were given.
type Written struct {
	// Stored are frrgen's FRRConfigurations as stored (in the cluster, or
	// in the files given to `frrgen explain`): a held node announces what
	// its stored configuration says, not what this build says.
	Stored []frrv1beta1.FRRConfiguration
	// Kept maps each node that keeps its stored configuration though no
	// invalid object holds it (the node plan found a conflict with another
	// FRRConfiguration, say) to why, a sentence.
	Kept map[string]string
}

// ServiceExplanation is the chain of decisions for one Service.
type ServiceExplanation struct {
	Service types.NamespacedName
	// Handled is false for a Service that is not a LoadBalancer of our
	// class; NotHandled then says why and nothing else is filled.
	Handled    bool
	NotHandled string
	IPs        []string
	// Pool holds every IP of the service; "" when no pool does.
	Pool string
	// Reason is set when no node announces the service: a reason that holds
	// whatever the node (no IP, no pool: ForEveryNode), or Build's summary
	// of the nodes' reasons.
	Reason       Reason
	ForEveryNode bool
	// Local is externalTrafficPolicy: Local. EndpointNodes are the nodes with
	// a ready or serving endpoint; AnyEndpoint counts endpoints without a node.
	Local          bool
	AnyEndpoint    bool
	EndpointNodes  []string
	Advertisements []AdvertisementVerdict
	// Nodes are the speaker nodes, sorted.
	Nodes []NodeVerdict
}

// AdvertisementVerdict says whether a BGPAdvertisement applies to the service.
type AdvertisementVerdict struct {
	Name string
	// CoversPool: the advertisement applies to the service's pool.
	CoversPool bool
	// Invalid advertisements are never applied.
	Invalid bool
	// SelectsService: its serviceSelectors (none: all) match the service.
	SelectsService bool
	// Nodes are the speaker nodes its nodeSelectors select, sorted.
	Nodes []string
	// Peers are the BGPPeers it is limited to, sorted; nil means every peer.
	Peers []string
	// Problems and Warnings are Build's diagnostics of the advertisement
	// (e.g. a peer it names that does not exist).
	Problems, Warnings []Problem
}

// NodeVerdict is the outcome on one speaker node.
type NodeVerdict struct {
	Node string
	// HeldBy are the invalid objects holding the node: it keeps its last
	// good configuration, whatever this build says. Kept is the caller's
	// reason for a node that keeps it too (Written.Kept).
	HeldBy    []ObjectRef
	Kept      string
	Announced bool
	// Reason is why the node does not announce ("" when it does or is held).
	Reason Reason
	// Peers are the valid BGPPeers selecting the node; InvalidPeers the
	// invalid ones (they hold it).
	Peers        []string
	InvalidPeers []string
	// Advertisements apply to the service and select this node.
	Advertisements []string
	// Sent are the service's prefixes per peer: from this build, or for a
	// held node from its stored configuration (FromStored).
	Sent       []PeerPrefixes
	FromStored bool
}

// PeerPrefixes are the prefixes sent to one BGPPeer.
type PeerPrefixes struct {
	Peer     string
	Prefixes []string
}

// PeerExplanation is what one BGPPeer does.
type PeerExplanation struct {
	Name     string
	Problems []Problem
	Warnings []Problem
	// Nodes are the speaker nodes it selects, sorted.
	Nodes []PeerNode
}

// PeerNode is one node's session with the peer.
type PeerNode struct {
	Node   string
	HeldBy []ObjectRef
	Kept   string
	// Prefixes sent to the peer from the node: this build's, or for a held
	// node its stored configuration's (FromStored; none stored: nil).
	Prefixes   []string
	FromStored bool
}

// ExplainService explains where the Service key is announced and why.
func ExplainService(s Snapshot, o Options, key types.NamespacedName, written Written) (ServiceExplanation, error) {
	b, plans, r := build(s, o)
	ex := ServiceExplanation{Service: key}
	i := slices.IndexFunc(b.services, func(svc *corev1.Service) bool { return svc.Namespace == key.Namespace && svc.Name == key.Name })
	if i < 0 {
		return ex, fmt.Errorf("there is no Service %s in the input", key)
	}
	if handled := handledServices(b.services[i:i+1], o); len(handled) == 0 {
		ex.NotHandled = notHandledWhy(b.services[i], o)
		return ex, nil
	}
	ex.Handled = true
	pi := slices.IndexFunc(plans, func(sp servicePlan) bool { return sp.key == key })
	sp, ann := &plans[pi], &r.Services[pi]
	ex.IPs, ex.Reason, ex.ForEveryNode, ex.Local = sp.ips, ann.Reason, sp.reason != "", sp.local
	if sp.eps != nil {
		ex.AnyEndpoint, ex.EndpointNodes = sp.eps.any, sp.eps.nodes
	}
	if sp.pool == nil {
		ex.Nodes = b.heldOrReason(&r, written, ann.Reason)
		return ex, nil
	}
	ex.Pool = sp.pool.ref.Name
	for _, a := range b.ads {
		v := AdvertisementVerdict{Name: a.ref.Name, CoversPool: slices.Contains(a.pools, sp.pool), Invalid: a.invalid, Peers: sortedKeys(a.peerNames)}
		if a.peerNames == nil {
			v.Peers = nil
		}
		if d, ok := b.diag.byRef[a.ref]; ok {
			v.Problems, v.Warnings = d.Problems, d.Warnings
		}
		v.SelectsService = slices.ContainsFunc(sp.ads, func(sa serviceAd) bool { return sa.ad == a })
		for _, n := range b.nodes {
			if n.speaker && matchesAny(a.nodeSelectors, n.labels) {
				v.Nodes = append(v.Nodes, n.name)
			}
		}
		ex.Advertisements = append(ex.Advertisements, v)
	}
	prefixes := b.servicePrefixes(sp)
	for _, n := range b.nodes {
		if !n.speaker {
			continue
		}
		v := nodeVerdict(&r, written, n)
		for _, sa := range sp.ads {
			if matchesAny(sa.ad.nodeSelectors, n.labels) {
				v.Advertisements = append(v.Advertisements, sa.ad.ref.Name)
			}
		}
		switch {
		case len(v.HeldBy) > 0 || v.Kept != "":
			v.FromStored = true
			v.Sent = sentTo(storedConfigOf(written.Stored, n.name), n.allPeers, prefixes)
		case slices.Contains(ann.Nodes, n.name):
			v.Announced = true
			v.Sent = sentTo(configOf(r.Configs, n.name), n.peers, prefixes)
		default:
			v.Reason = cmp.Or(ann.NotAnnounced[n.name], ann.Reason)
		}
		ex.Nodes = append(ex.Nodes, v)
	}
	return ex, nil
}

// heldOrReason is the verdict on every speaker node for a service that no
// node can announce.
func (b *builder) heldOrReason(r *Result, written Written, reason Reason) []NodeVerdict {
	var out []NodeVerdict
	for _, n := range b.nodes {
		if n.speaker {
			v := nodeVerdict(r, written, n)
			if len(v.HeldBy) == 0 && v.Kept == "" {
				v.Reason = reason
			}
			out = append(out, v)
		}
	}
	return out
}

// nodeVerdict starts the verdict on speaker node n: its hold and its peers.
func nodeVerdict(r *Result, written Written, n *nodeInfo) NodeVerdict {
	v := NodeVerdict{Node: n.name, HeldBy: r.HeldBy(n.name), Kept: written.Kept[n.name]}
	for _, p := range n.allPeers {
		if p.invalid {
			v.InvalidPeers = append(v.InvalidPeers, p.ref.Name)
		} else {
			v.Peers = append(v.Peers, p.ref.Name)
		}
	}
	return v
}

// servicePrefixes are the texts of the prefixes the service's IPs give.
func (b *builder) servicePrefixes(sp *servicePlan) map[string]bool {
	out := map[string]bool{}
	for _, sa := range sp.ads {
		for _, id := range b.prefixRefs[sa.from:sa.to] {
			out[b.prefixText[id]] = true
		}
	}
	return out
}

// ExplainPeer tells which nodes the BGPPeer name is configured on and what
// each sends it.
func ExplainPeer(s Snapshot, o Options, name string, written Written) (PeerExplanation, error) {
	b, _, r := build(s, o)
	ref := ObjectRef{Kind: KindBGPPeer, Namespace: o.Namespace, Name: name}
	p := b.peerByRef[ref]
	if p == nil {
		return PeerExplanation{}, fmt.Errorf("there is no BGPPeer %s/%s in the input", o.Namespace, name)
	}
	ex := PeerExplanation{Name: name}
	if d, ok := b.diag.byRef[ref]; ok {
		ex.Problems, ex.Warnings = d.Problems, d.Warnings
	}
	for _, n := range b.nodes {
		if !n.speaker || !peerReaches(p, n) {
			continue
		}
		v := PeerNode{Node: n.name, HeldBy: r.HeldBy(n.name), Kept: written.Kept[n.name]}
		cfg := configOf(r.Configs, n.name)
		if len(v.HeldBy) > 0 || v.Kept != "" {
			v.FromStored, cfg = true, storedConfigOf(written.Stored, n.name)
		}
		if sent := sentTo(cfg, []*peer{p}, nil); len(sent) > 0 {
			v.Prefixes = sent[0].Prefixes
		}
		ex.Nodes = append(ex.Nodes, v)
	}
	return ex, nil
}

func configOf(configs []frrv1beta1.FRRConfiguration, node string) *frrv1beta1.FRRConfiguration {
	for i := range configs {
		if configs[i].Annotations[AnnotationNode] == node {
			return &configs[i]
		}
	}
	return nil
}

// storedConfigOf is the stored configuration of ours for node, nil if none.
func storedConfigOf(stored []frrv1beta1.FRRConfiguration, node string) *frrv1beta1.FRRConfiguration {
	for i := range stored {
		if c := &stored[i]; c.Labels[LabelManagedBy] == ManagedByValue && c.Annotations[AnnotationNode] == node {
			return c
		}
	}
	return nil
}

// sentTo lists, for each of peers that cfg has a neighbor for, the
// prefixes that neighbor is allowed to receive, kept to only when set.
func sentTo(cfg *frrv1beta1.FRRConfiguration, peers []*peer, only map[string]bool) []PeerPrefixes {
	if cfg == nil {
		return nil
	}
	var out []PeerPrefixes
	for _, p := range peers {
		nb := neighborOf(cfg, p)
		if nb == nil {
			continue
		}
		pp := PeerPrefixes{Peer: p.ref.Name}
		for _, prefix := range nb.ToAdvertise.Allowed.Prefixes {
			if only == nil || only[prefix] {
				pp.Prefixes = append(pp.Prefixes, prefix)
			}
		}
		out = append(out, pp)
	}
	return out
}

// neighborOf finds the neighbor of peer p in cfg, by VRF and address or
// interface, as frr-k8s identifies neighbors.
func neighborOf(cfg *frrv1beta1.FRRConfiguration, p *peer) *frrv1beta1.Neighbor {
	for ri := range cfg.Spec.BGP.Routers {
		r := &cfg.Spec.BGP.Routers[ri]
		if r.VRF != p.spec.VRFName {
			continue
		}
		for ni := range r.Neighbors {
			nb := &r.Neighbors[ni]
			if nb.Address == p.neighbor.Address && nb.Interface == p.neighbor.Interface {
				return nb
			}
		}
	}
	return nil
}

func notHandledWhy(s *corev1.Service, o Options) string {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return fmt.Sprintf("its type is %q, not LoadBalancer", s.Spec.Type)
	}
	class := ""
	if s.Spec.LoadBalancerClass != nil {
		class = *s.Spec.LoadBalancerClass
	}
	if o.LoadBalancerClass == "" {
		return fmt.Sprintf("its loadBalancerClass is %q; frrgen handles only services without a class (--lb-class)", class)
	}
	return fmt.Sprintf("its loadBalancerClass is %q, not %q (--lb-class)", class, o.LoadBalancerClass)
}

// Explain says in plain words why a service is not announced from a node;
// pool is the service's pool ("" when none).
func (r Reason) Explain(pool string) string {
	switch r {
	case ReasonNoIPAllocated:
		return "the service has no IP in status.loadBalancer.ingress yet"
	case ReasonInvalidIP:
		return "an entry of status.loadBalancer.ingress is not an IP address"
	case ReasonIPNotAllowed:
		return "its IPs are not all inside one IPAddressPool"
	case ReasonNotOwner:
		return fmt.Sprintf("no advertisement of pool %s selects this node", pool)
	case ReasonNoMatchingAdvertisement:
		return fmt.Sprintf("the advertisements of pool %s that select this node do not select the service (serviceSelectors)", pool)
	case ReasonConflictingAdvertisements:
		return fmt.Sprintf("two advertisements of pool %s selecting this node conflict (localPref or aggregation lengths)", pool)
	case ReasonNodeNetworkUnavailable:
		return "the node's NetworkUnavailable condition is True"
	case ReasonNodeLabeledExcludeBalancer:
		return "the node is labelled node.kubernetes.io/exclude-from-external-load-balancers"
	case ReasonNoLocalEndpoints:
		return "externalTrafficPolicy is Local and no ready endpoint of the service runs on this node"
	case ReasonNoEndpoints:
		return "the service has no ready or serving endpoint"
	case ReasonNoPeers:
		return "none of this node's BGPPeers is one the matching advertisements send to (spec.peers) in the family of the service's IPs"
	}
	return string(r)
}

// ExplainOnNode is Explain for one node: a node without any valid BGPPeer
// says so, which is the cause behind its noPeers.
func (r Reason) ExplainOnNode(pool string, nodeHasPeers bool) string {
	if r == ReasonNoPeers && !nodeHasPeers {
		return "no BGPPeer selects this node"
	}
	return r.Explain(pool)
}

// Why is the node's reason in plain words; pool is the service's pool.
func (v *NodeVerdict) Why(pool string) string {
	return v.Reason.ExplainOnNode(pool, len(v.Peers) > 0)
}
