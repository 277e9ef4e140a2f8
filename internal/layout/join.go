package layout

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// Join is the inverse of a layout for one node: parts are objects of ours
// that select it (its own objects or shards, the shared ones), and the
// result is the one per-node configuration they stand for, with shell's
// metadata and node selector (shell's spec.bgp is ignored). Lists come out
// in translate's order (routers by VRF, neighbors by address then
// interface, prefixes by address then length, localPrefs by value,
// communities standard before large, by value; TestJoin ties the two
// orders together), so that joining a layout of translate's output gives
// that output back. The controller uses it to lay out a held node with its
// last good configuration (see the package documentation).
func Join(shell frrv1beta1.FRRConfiguration, parts []frrv1beta1.FRRConfiguration) frrv1beta1.FRRConfiguration {
	out := frrv1beta1.FRRConfiguration{
		TypeMeta:   shell.TypeMeta,
		ObjectMeta: *shell.ObjectMeta.DeepCopy(),
		Spec: frrv1beta1.FRRConfigurationSpec{
			NodeSelector: *shell.Spec.NodeSelector.DeepCopy(),
			BGP:          frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{}},
		},
	}
	delete(out.Annotations, AnnotationShard)
	delete(out.Annotations, AnnotationShardOf)
	routers := map[string]*routerUnion{}
	profiles := map[string]frrv1beta1.BFDProfile{}
	for i := range parts {
		for _, r := range parts[i].Spec.BGP.Routers {
			u, ok := routers[r.VRF]
			if !ok {
				u = &routerUnion{router: frrv1beta1.Router{ASN: r.ASN, ID: r.ID, VRF: r.VRF}, prefixes: set{}, neighbors: map[string]*neighborUnion{}}
				routers[r.VRF] = u
			}
			u.prefixes.add(r.Prefixes...)
			for k := range r.Neighbors {
				u.add(&r.Neighbors[k])
			}
		}
		for _, p := range parts[i].Spec.BGP.BFDProfiles {
			profiles[p.Name] = *p.DeepCopy()
		}
	}
	for _, vrf := range slices.Sorted(maps.Keys(routers)) {
		out.Spec.BGP.Routers = append(out.Spec.BGP.Routers, routers[vrf].build())
	}
	for _, name := range slices.Sorted(maps.Keys(profiles)) {
		out.Spec.BGP.BFDProfiles = append(out.Spec.BGP.BFDProfiles, profiles[name])
	}
	return out
}

type set map[string]bool

func (s set) add(values ...string) {
	for _, v := range values {
		s[v] = true
	}
}

// sortedPrefixes is translate's order: by address, then prefix length.
func (s set) sortedPrefixes() []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Collect(maps.Keys(s))
	slices.SortFunc(out, func(a, b string) int {
		pa, errA := netip.ParsePrefix(a)
		pb, errB := netip.ParsePrefix(b)
		if errA != nil || errB != nil {
			return strings.Compare(a, b)
		}
		return cmp.Or(pa.Addr().Compare(pb.Addr()), cmp.Compare(pa.Bits(), pb.Bits()))
	})
	return out
}

type routerUnion struct {
	router    frrv1beta1.Router
	prefixes  set
	neighbors map[string]*neighborUnion
}

type neighborUnion struct {
	neighbor    frrv1beta1.Neighbor // the session; toAdvertise is rebuilt
	allowed     set
	localPref   map[uint32]set
	communities map[string]set
}

func (u *routerUnion) add(nb *frrv1beta1.Neighbor) {
	key := nb.Address + "|" + nb.Interface
	n, ok := u.neighbors[key]
	if !ok {
		session := *nb
		session.ToAdvertise = frrv1beta1.Advertise{}
		n = &neighborUnion{neighbor: *session.DeepCopy(), allowed: set{}, localPref: map[uint32]set{}, communities: map[string]set{}}
		n.neighbor.ToAdvertise.Allowed.Mode = nb.ToAdvertise.Allowed.Mode
		u.neighbors[key] = n
	}
	n.allowed.add(nb.ToAdvertise.Allowed.Prefixes...)
	for _, e := range nb.ToAdvertise.PrefixesWithLocalPref {
		if n.localPref[e.LocalPref] == nil {
			n.localPref[e.LocalPref] = set{}
		}
		n.localPref[e.LocalPref].add(e.Prefixes...)
	}
	for _, e := range nb.ToAdvertise.PrefixesWithCommunity {
		if n.communities[e.Community] == nil {
			n.communities[e.Community] = set{}
		}
		n.communities[e.Community].add(e.Prefixes...)
	}
}

func (u *routerUnion) build() frrv1beta1.Router {
	r := u.router
	r.Prefixes = u.prefixes.sortedPrefixes()
	neighbors := slices.Collect(maps.Values(u.neighbors))
	slices.SortFunc(neighbors, func(a, b *neighborUnion) int {
		x, y := a.neighbor, b.neighbor
		ax, errX := netip.ParseAddr(x.Address)
		ay, errY := netip.ParseAddr(y.Address)
		if (errX == nil) != (errY == nil) { // neighbors with an address first
			if errX == nil {
				return -1
			}
			return 1
		}
		return cmp.Or(ax.Compare(ay), cmp.Compare(x.Interface, y.Interface))
	})
	for _, n := range neighbors {
		out := n.neighbor
		out.ToAdvertise.Allowed.Prefixes = n.allowed.sortedPrefixes()
		for _, lp := range slices.Sorted(maps.Keys(n.localPref)) {
			out.ToAdvertise.PrefixesWithLocalPref = append(out.ToAdvertise.PrefixesWithLocalPref,
				frrv1beta1.LocalPrefPrefixes{LocalPref: lp, Prefixes: n.localPref[lp].sortedPrefixes()})
		}
		communities := slices.Collect(maps.Keys(n.communities))
		slices.SortFunc(communities, compareCommunityText)
		for _, c := range communities {
			out.ToAdvertise.PrefixesWithCommunity = append(out.ToAdvertise.PrefixesWithCommunity,
				frrv1beta1.CommunityPrefixes{Community: c, Prefixes: n.communities[c].sortedPrefixes()})
		}
		r.Neighbors = append(r.Neighbors, out)
	}
	return r
}

// compareCommunityText is translate's order of communities: standard
// ("A:B") before large ("large:A:B:C"), then by value.
func compareCommunityText(a, b string) int {
	la, lb := strings.HasPrefix(a, "large:"), strings.HasPrefix(b, "large:")
	if la != lb {
		if !la {
			return -1
		}
		return 1
	}
	fa, fb := strings.Split(strings.TrimPrefix(a, "large:"), ":"), strings.Split(strings.TrimPrefix(b, "large:"), ":")
	for i := range min(len(fa), len(fb)) {
		x, errX := strconv.ParseUint(fa[i], 10, 32)
		y, errY := strconv.ParseUint(fb[i], 10, 32)
		if errX != nil || errY != nil {
			return strings.Compare(a, b)
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(fa), len(fb))
}
