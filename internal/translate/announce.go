package translate

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frrgen/frrgen/internal/allocate"
	"github.com/frrgen/frrgen/internal/pooladdr"
)

// servicePlan is what is known about a service before looking at any node.
type servicePlan struct {
	key   types.NamespacedName
	ips   []string // as written in the status
	addrs []netip.Addr
	// reason is set when the service is announced from no node whatever the
	// node (no IP, bad IP, no pool).
	reason Reason
	pool   *pool
	// ads are the pool's advertisements that select the service's labels,
	// each with the prefixes it gives (a window into builder.prefixRefs).
	ads   []serviceAd
	local bool // externalTrafficPolicy: Local
	eps   *endpointInfo
}

type serviceAd struct {
	ad       *advertisement
	from, to int32 // prefix IDs are builder.prefixRefs[from:to]
	used     bool  // announced from at least one node
}

// endpointInfo summarises a service's EndpointSlices.
type endpointInfo struct {
	any bool
	// nodes with a serving endpoint, sorted, without repeats.
	nodes []string
}

func (e *endpointInfo) onNode(node string) bool {
	if e == nil {
		return false
	}
	_, found := slices.BinarySearch(e.nodes, node)
	return found
}

// nodeList is the nodes with a serving endpoint, sorted (nil for none).
func (e *endpointInfo) nodeList() []string {
	if e == nil {
		return nil
	}
	return e.nodes
}

// endpointCanServe is MetalLB's rule: an address, and ready (unset counts
// as ready) or serving (terminating but still serving counts).
func endpointCanServe(ep *discoveryv1.Endpoint) bool {
	if len(ep.Addresses) == 0 {
		return false
	}
	c := ep.Conditions
	return c.Ready == nil || *c.Ready || (c.Serving != nil && *c.Serving)
}

func indexEndpoints(in []discoveryv1.EndpointSlice) map[types.NamespacedName]*endpointInfo {
	out := make(map[types.NamespacedName]*endpointInfo, len(in))
	for i := range in {
		s := &in[i]
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := types.NamespacedName{Namespace: s.Namespace, Name: name}
		info := out[key]
		if info == nil {
			info = &endpointInfo{}
			out[key] = info
		}
		for j := range s.Endpoints {
			ep := &s.Endpoints[j]
			if !endpointCanServe(ep) {
				continue
			}
			info.any = true
			if ep.NodeName != nil && *ep.NodeName != "" {
				info.nodes = append(info.nodes, *ep.NodeName)
			}
		}
	}
	for _, info := range out {
		slices.Sort(info.nodes)
		info.nodes = slices.Compact(info.nodes)
	}
	return out
}

// handledServices keeps the LoadBalancer services of our class.
func handledServices(in []*corev1.Service, o Options) []*corev1.Service {
	var out []*corev1.Service
	for _, s := range in {
		if allocate.Handles(s, o.LoadBalancerClass) {
			out = append(out, s)
		}
	}
	return out
}

// planService applies the node-independent checks, in MetalLB's order.
func (b *builder) planService(s *corev1.Service, sp *servicePlan) {
	*sp = servicePlan{
		key:   types.NamespacedName{Namespace: s.Namespace, Name: s.Name},
		local: s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
		eps:   b.endpoints[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}],
	}
	ingress := s.Status.LoadBalancer.Ingress
	start := len(b.ipArena)
	for _, ing := range ingress {
		if ing.IP != "" {
			b.ipArena = append(b.ipArena, ing.IP)
		}
	}
	sp.ips = b.ipArena[start:len(b.ipArena):len(b.ipArena)]
	if len(ingress) == 0 {
		sp.reason = ReasonNoIPAllocated
		return
	}
	if len(sp.ips) != len(ingress) { // a hostname-only entry
		sp.reason = ReasonInvalidIP
		return
	}
	start = len(b.addrArena)
	for _, ip := range sp.ips {
		a, err := pooladdr.ParseIP(ip)
		if err != nil {
			sp.reason = ReasonInvalidIP
			return
		}
		a = a.Unmap()
		b.addrArena = append(b.addrArena, a)
	}
	sp.addrs = b.addrArena[start:len(b.addrArena):len(b.addrArena)]
	sp.pool = poolOf(b.ranges, sp.addrs)
	if sp.pool == nil {
		sp.reason = ReasonIPNotAllowed
		return
	}
	svcLabels := labels.Set(s.Labels)
	start = len(b.adArena)
	for _, ad := range sp.pool.ads {
		if ad.invalid || !matchesAny(ad.serviceSelectors, svcLabels) {
			continue
		}
		sa := serviceAd{ad: ad, from: int32(len(b.prefixRefs))}
		for _, a := range sp.addrs {
			p := netip.PrefixFrom(a, ad.aggLength(familyOf(a))).Masked()
			b.prefixRefs = append(b.prefixRefs, b.internPrefix(p))
		}
		sa.to = int32(len(b.prefixRefs))
		b.adArena = append(b.adArena, sa)
	}
	sp.ads = b.adArena[start:len(b.adArena):len(b.adArena)]
}

// reasonOnNode applies the per-node checks, in MetalLB's order, and returns
// the advertisements to apply ("" reason) or why the node does not announce.
func (b *builder) reasonOnNode(sp *servicePlan, n *nodeInfo, adOnNode []bool, matching []int) ([]int, Reason) {
	owner := false
	for _, ad := range sp.pool.ads {
		if adOnNode[ad.index] {
			owner = true
			break
		}
	}
	if !owner {
		return matching, ReasonNotOwner
	}
	for i, sa := range sp.ads {
		if adOnNode[sa.ad.index] {
			matching = append(matching, i)
		}
	}
	if len(matching) == 0 {
		return matching, ReasonNoMatchingAdvertisement
	}
	// Judged on the pool's families, not the service's, as MetalLB does: in a
	// dual-stack pool two advertisements conflict unless both aggregation
	// lengths differ, even for a service with an IPv4 address only.
	for x, i := range matching {
		for _, j := range matching[x+1:] {
			if b.adConflicts[sp.ads[i].ad.index][sp.ads[j].ad.index]&sp.pool.families != 0 {
				return matching, ReasonConflictingAdvertisements
			}
		}
	}
	switch {
	case n.networkUnavailable:
		return matching, ReasonNodeNetworkUnavailable
	case n.excluded && !b.opts.IgnoreExcludeLB:
		return matching, ReasonNodeLabeledExcludeBalancer
	case sp.local && !sp.eps.onNode(n.name):
		return matching, ReasonNoLocalEndpoints
	case !sp.local && (sp.eps == nil || !sp.eps.any):
		return matching, ReasonNoEndpoints
	}
	return matching, ""
}
