package translate

// Output order, the same everywhere so that equal inputs give equal bytes:
//   - configs by node name; routers by VRF ("" first);
//   - neighbors of a router: address peers first, by IP (IPv4 before IPv6,
//     numerically), then unnumbered peers by interface name;
//   - prefixes numerically: IPv4 before IPv6, then by address, then shorter
//     prefix first (10.0.0.2/32 before 10.0.0.10/32, unlike MetalLB, which
//     sorts them as strings);
//   - withLocalPref entries by localPref; withCommunity entries standard
//     communities before large ones, each numerically;
//   - BFD profiles by name.
//
// A speaker node that no peer selects still gets a configuration, with an
// empty list of routers: the object frrgen owns for the node always exists,
// so that a node losing its last peer is emptied rather than forgotten.

import (
	"cmp"
	"hash/maphash"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// builder holds the parsed input and the tables shared by every node.
type builder struct {
	opts        Options
	diag        *diagnostics
	nodes       []*nodeInfo
	ads         []*advertisement
	peers       []*peer
	services    []*corev1.Service // every service, sorted by namespace/name
	ranges      []poolRange
	endpoints   map[types.NamespacedName]*endpointInfo
	adConflicts adPairConflict

	// The parsed objects by reference, and which nodes each invalid object
	// holds (see hold.go).
	peerByRef map[ObjectRef]*peer
	adByRef   map[ObjectRef]*advertisement
	poolByRef map[ObjectRef]*pool
	aliasesOf map[ObjectRef][]string // alias names of each Community
	bfdRefs   map[ObjectRef]bool
	holds     map[ObjectRef][]string
	heldBy    map[string][]ObjectRef

	// Every distinct prefix gets an ID; after planning, IDs are renumbered in
	// output order so that sorting IDs sorts prefixes.
	prefixID   map[netip.Prefix]int32
	prefixes   []netip.Prefix
	prefixRefs []int32
	prefixText []string
	prefixFam  []family

	// The small per-service slices are cut from these, to allocate once.
	ipArena   []string
	addrArena []netip.Addr
	adArena   []serviceAd

	// Communities likewise: communityText in output order, adCommunities
	// holds each advertisement's community IDs.
	communityText []string
	adCommunities [][]int32

	// textMemo holds the prefix lists made so far, by digest of their set
	// (see setTexts).
	textMemo map[uint64][]textMemo
	textSeed maphash.Seed

	// peerSets are the sets of BGPPeers services are sent to.
	peerSets peerSets
}

// Build computes the desired FRRConfiguration of every speaker node and the
// verdict on every input object. See types.go for the contract.
func Build(s Snapshot, o Options) Result {
	_, _, r := build(s, o)
	return r
}

// build is Build, also returning the parsed model and the service plans
// that Explain reads to tell how the result came about.
func build(s Snapshot, o Options) (*builder, []servicePlan, Result) {
	b := &builder{opts: o, diag: newDiagnostics(), holds: map[ObjectRef][]string{}, heldBy: map[string][]ObjectRef{},
		textMemo: map[uint64][]textMemo{}, textSeed: maphash.MakeSeed()}
	b.parse(s)
	b.excludeInvalid()
	b.holdNodesOfInvalid()

	plans := b.planServices(handledServices(b.services, o))
	b.numberPrefixes()

	// Each announcement's Nodes and NodePeers are windows of two arenas,
	// sized for every built node: no append reallocates.
	built := 0
	for _, n := range b.nodes {
		if n.speaker && !b.isHeld(n.name) {
			built++
		}
	}
	nodeArena, peerArena := make([]string, len(plans)*built), make([]int32, len(plans)*built)
	announcements := make([]ServiceAnnouncement, len(plans))
	for i := range plans {
		sp := &plans[i]
		from, to := i*built, i*built
		announcements[i] = ServiceAnnouncement{Service: sp.key, IPs: sp.ips, Reason: sp.reason,
			Nodes: nodeArena[from : to : to+built], NodePeers: peerArena[from : to : to+built]}
		if sp.pool != nil {
			announcements[i].Pool = sp.pool.ref.Name
		}
	}
	var configs []frrv1beta1.FRRConfiguration
	for _, n := range b.nodes {
		if n.speaker && !b.isHeld(n.name) {
			configs = append(configs, b.desiredConfigForNode(n, plans, announcements))
		}
	}
	// Building may find more problems (a prefix that would get two
	// localPrefs); the nodes those objects hold are dropped again.
	b.holdNodesOfInvalid()
	configs = slices.DeleteFunc(configs, func(c frrv1beta1.FRRConfiguration) bool { return b.isHeld(c.Annotations[AnnotationNode]) })
	for i := range announcements {
		b.forgetHeldNodes(&announcements[i])
		summariseReasons(&announcements[i], &plans[i])
	}

	r := Result{Configs: configs, Valid: b.diag.valid(), Held: b.heldNodes(), Objects: b.diag.sorted(), Services: announcements,
		PeerSets: b.peerSets.sets}
	for i := range r.Objects {
		if nodes := b.holds[r.Objects[i].Ref]; len(nodes) > 0 {
			r.Objects[i].HeldNodes = nodes
		}
	}
	peerNodes := map[string][]string{}
	peerHeld := map[string][]string{}
	for _, n := range b.nodes {
		if !n.speaker {
			continue
		}
		for _, p := range n.allPeers {
			if b.isHeld(n.name) {
				peerHeld[p.ref.Name] = append(peerHeld[p.ref.Name], n.name)
			} else if !p.invalid {
				peerNodes[p.ref.Name] = append(peerNodes[p.ref.Name], n.name)
			}
		}
	}
	mirrors := map[string]SecretMirror{}
	for _, p := range b.peers {
		r.Peers = append(r.Peers, PeerSummary{Name: p.ref.Name, Nodes: peerNodes[p.ref.Name], HeldNodes: peerHeld[p.ref.Name],
			VRF: p.spec.VRFName, Address: p.neighbor.Address, Interface: p.neighbor.Interface})
		// A held node's last good configuration may reference the mirror:
		// it stays wanted while the peer selects such a node.
		if p.mirroredSecret.Name != "" && (len(peerNodes[p.ref.Name]) > 0 || len(peerHeld[p.ref.Name]) > 0) {
			mirrors[p.mirroredSecret.Name] = p.mirroredSecret
		}
	}
	for _, m := range mirrors {
		r.PasswordSecrets = append(r.PasswordSecrets, m)
	}
	slices.SortFunc(r.PasswordSecrets, func(a, b SecretMirror) int { return cmp.Compare(a.Name, b.Name) })
	r.Advertisements = b.summariseAdvertisements(plans)
	return b, plans, r
}

// parse validates every object on its own and then across objects.
func (b *builder) parse(s Snapshot) {
	d, o := b.diag, b.opts
	poolObjs := uniqueObjects(d, o.Namespace, KindIPAddressPool, true, s.Pools, func(x *metallbv1beta1.IPAddressPool) *metav1.ObjectMeta { return &x.ObjectMeta })
	peerObjs := uniqueObjects(d, o.Namespace, KindBGPPeer, true, s.Peers, func(x *metallbv1beta2.BGPPeer) *metav1.ObjectMeta { return &x.ObjectMeta })
	adObjs := uniqueObjects(d, o.Namespace, KindBGPAdvertisement, true, s.Advertisements, func(x *metallbv1beta1.BGPAdvertisement) *metav1.ObjectMeta { return &x.ObjectMeta })
	communityObjs := uniqueObjects(d, o.Namespace, KindCommunity, true, s.Communities, func(x *metallbv1beta1.Community) *metav1.ObjectMeta { return &x.ObjectMeta })
	bfdObjs := uniqueObjects(d, o.Namespace, KindBFDProfile, true, s.BFDProfiles, func(x *metallbv1beta1.BFDProfile) *metav1.ObjectMeta { return &x.ObjectMeta })
	secrets := map[string]*corev1.Secret{}
	for _, sec := range uniqueObjects(d, o.Namespace, "Secret", false, s.Secrets, func(x *corev1.Secret) *metav1.ObjectMeta { return &x.ObjectMeta }) {
		secrets[sec.Name] = sec
	}
	b.services = uniqueObjects(d, "", "Service", false, s.Services, func(x *corev1.Service) *metav1.ObjectMeta { return &x.ObjectMeta })
	nodes := uniqueObjects(d, "", "Node", false, s.Nodes, func(x *corev1.Node) *metav1.ObjectMeta { return &x.ObjectMeta })

	pools := parsePools(d, poolObjs)
	aliases := parseCommunityAliases(d, communityObjs)
	bfd := checkBFDProfiles(d, bfdObjs)
	b.peers = parsePeers(d, o, peerObjs, bfd, secrets)
	peerExists := map[string]bool{}
	for _, p := range b.peers {
		peerExists[p.ref.Name] = true
	}
	b.ads = parseAdvertisements(d, adObjs, pools, aliases, peerExists)
	b.nodes = b.parseNodes(nodes)
	b.indexObjects(pools, communityObjs, bfdObjs)

	b.ranges = checkPoolOverlaps(d, pools)
	checkAggregation(d, b.ads)
	b.adConflicts = newAdPairConflict(b.ads)
	checkLocalPrefs(d, pools, b.adConflicts, b.nodes)
	checkBFDEchoIPv6(d, b.ads, b.peers, b.nodes)
	checkPeersSharingNodes(d, b.nodes, b.peers)
	b.endpoints = indexEndpoints(s.EndpointSlices)
	b.numberCommunities()
}

// indexObjects fills the by-reference tables that decide which nodes an
// invalid object holds.
func (b *builder) indexObjects(pools []*pool, communities []*metallbv1beta1.Community, bfd []*metallbv1beta1.BFDProfile) {
	b.peerByRef = make(map[ObjectRef]*peer, len(b.peers))
	for _, p := range b.peers {
		b.peerByRef[p.ref] = p
	}
	b.adByRef = make(map[ObjectRef]*advertisement, len(b.ads))
	for _, a := range b.ads {
		b.adByRef[a.ref] = a
	}
	b.poolByRef = make(map[ObjectRef]*pool, len(pools))
	for _, p := range pools {
		b.poolByRef[p.ref] = p
	}
	b.aliasesOf = make(map[ObjectRef][]string, len(communities))
	for _, c := range communities {
		names := []string{}
		for _, alias := range c.Spec.Communities {
			names = append(names, alias.Name)
		}
		b.aliasesOf[refOf(KindCommunity, &c.ObjectMeta)] = names
	}
	b.bfdRefs = make(map[ObjectRef]bool, len(bfd))
	for _, p := range bfd {
		b.bfdRefs[refOf(KindBFDProfile, &p.ObjectMeta)] = true
	}
}

func (b *builder) parseNodes(in []*corev1.Node) []*nodeInfo {
	var out []*nodeInfo
	for _, n := range in {
		info := &nodeInfo{
			name:               n.Name,
			uid:                n.UID,
			labels:             labels.Set(n.Labels),
			networkUnavailable: nodeConditionTrue(n, corev1.NodeNetworkUnavailable),
		}
		_, info.excluded = n.Labels[labelExcludeLB]
		info.speaker = b.opts.SpeakerNodeSelector == nil || b.opts.SpeakerNodeSelector.Matches(info.labels)
		for _, p := range b.peers {
			if matchesAny(p.nodeSelectors, info.labels) {
				info.peers = append(info.peers, p)
			}
		}
		out = append(out, info)
	}
	return out
}

// planServices applies the node-independent checks to every service and
// computes the prefixes each of its advertisements gives.
func (b *builder) planServices(services []*corev1.Service) []servicePlan {
	ingress := 0
	for _, svc := range services {
		ingress += len(svc.Status.LoadBalancer.Ingress)
	}
	perIP := max(1, len(b.ads)) // about one prefix per IP and advertisement
	b.ipArena = make([]string, 0, ingress)
	b.addrArena = make([]netip.Addr, 0, ingress)
	b.adArena = make([]serviceAd, 0, len(services)*perIP)
	b.prefixRefs = make([]int32, 0, ingress*perIP)
	b.prefixID = make(map[netip.Prefix]int32, ingress*perIP)
	plans := make([]servicePlan, len(services))
	for i, svc := range services {
		b.planService(svc, &plans[i])
	}
	return plans
}

func (b *builder) internPrefix(p netip.Prefix) int32 {
	if id, ok := b.prefixID[p]; ok {
		return id
	}
	id := int32(len(b.prefixes))
	b.prefixID[p] = id
	b.prefixes = append(b.prefixes, p)
	return id
}

// numberPrefixes renumbers prefix IDs in output order and renders each
// prefix's text once.
func (b *builder) numberPrefixes() {
	order := make([]int32, len(b.prefixes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return comparePrefixes(b.prefixes[x], b.prefixes[y]) })
	newID := make([]int32, len(order))
	b.prefixText = make([]string, len(order))
	b.prefixFam = make([]family, len(order))
	for rank, old := range order {
		newID[old] = int32(rank)
		b.prefixText[rank] = b.prefixes[old].String()
		b.prefixFam[rank] = familyOf(b.prefixes[old].Addr())
	}
	for i, id := range b.prefixRefs {
		b.prefixRefs[i] = newID[id]
	}
}

func (b *builder) numberCommunities() {
	var all []community
	for _, a := range b.ads {
		all = append(all, a.communities...)
	}
	slices.SortFunc(all, compareCommunities)
	all = slices.Compact(all)
	b.communityText = make([]string, len(all))
	for i, c := range all {
		b.communityText[i] = c.String()
	}
	b.adCommunities = make([][]int32, len(b.ads))
	for _, a := range b.ads {
		for _, c := range a.communities {
			id, _ := slices.BinarySearchFunc(all, c, compareCommunities)
			b.adCommunities[a.index] = append(b.adCommunities[a.index], int32(id))
		}
	}
}

// neighborState gathers what one neighbor of a node must advertise, as
// sets of prefix IDs.
type neighborState struct {
	peer    *peer
	allowed prefixSet
	// localPref and localPrefAd are indexed by prefix ID (0: no localPref),
	// allocated on first use.
	localPref   []uint32
	localPrefAd []int32
	// communities is indexed by community ID, each allocated on first use.
	communities []prefixSet
}

// addPrefix records that prefix id reaches the neighbor through ad.
func (b *builder) addPrefix(n *nodeInfo, nb *neighborState, id int32, ad *advertisement) {
	nb.allowed.add(id)
	if lp := ad.localPref; lp != 0 {
		if nb.localPref == nil {
			nb.localPref = make([]uint32, len(b.prefixes))
			nb.localPrefAd = make([]int32, len(b.prefixes))
		}
		if prev := nb.localPref[id]; prev != 0 && prev != lp {
			// frr-k8s refuses a prefix under two localPrefs.
			b.reportLocalPrefClash(n, nb.peer, id, b.ads[nb.localPrefAd[id]], ad)
		}
		nb.localPref[id], nb.localPrefAd[id] = lp, int32(ad.index)
	}
	for _, c := range b.adCommunities[ad.index] {
		if nb.communities[c] == nil {
			nb.communities[c] = newPrefixSet(len(b.prefixes))
		}
		nb.communities[c].add(id)
	}
}

// desiredConfigForNode is the FRRConfiguration frrgen writes for node n. It
// also records, in announcements, where each service is announced.
func (b *builder) desiredConfigForNode(n *nodeInfo, plans []servicePlan, announcements []ServiceAnnouncement) frrv1beta1.FRRConfiguration {
	neighbors := make([]neighborState, len(n.peers))
	for i, p := range n.peers {
		neighbors[i] = neighborState{peer: p, allowed: newPrefixSet(len(b.prefixes)), communities: make([]prefixSet, len(b.communityText))}
	}
	slices.SortFunc(neighbors, func(x, y neighborState) int { return compareNeighbors(x.peer, y.peer) })

	adOnNode := make([]bool, len(b.ads))
	adTargets := make([][]int, len(b.ads))
	for _, a := range b.ads {
		adOnNode[a.index] = !a.invalid && matchesAny(a.nodeSelectors, n.labels)
		for i := range neighbors {
			if a.targetsPeer(neighbors[i].peer.ref.Name) {
				adTargets[a.index] = append(adTargets[a.index], i)
			}
		}
	}

	var matching []int
	reached := make([]bool, len(neighbors))
	onNode := map[string]int32{}
	for si := range plans {
		sp := &plans[si]
		if sp.reason != "" {
			continue
		}
		var reason Reason
		matching, reason = b.reasonOnNode(sp, n, adOnNode, matching[:0])
		if reason != "" {
			setNotAnnounced(&announcements[si], n.name, reason)
			continue
		}
		clear(reached)
		sent := false
		for _, i := range matching {
			sa := &sp.ads[i]
			ids := b.prefixRefs[sa.from:sa.to]
			for _, t := range adTargets[sa.ad.index] {
				nb := &neighbors[t]
				for _, id := range ids {
					if b.prefixFam[id]&nb.peer.families != 0 {
						b.addPrefix(n, nb, id, sa.ad)
						sa.used, reached[t], sent = true, true, true
					}
				}
			}
		}
		if sent {
			a := &announcements[si]
			a.Nodes = append(a.Nodes, n.name)
			a.NodePeers = append(a.NodePeers, b.peerSets.of(onNode, neighbors, reached))
		} else {
			setNotAnnounced(&announcements[si], n.name, ReasonNoPeers)
		}
	}

	cfg := frrv1beta1.FRRConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: frrv1beta1.GroupVersion.String(), Kind: "FRRConfiguration"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ConfigName(b.opts.NamePrefix, n.name),
			Namespace:   b.opts.FRRK8sNamespace,
			Labels:      map[string]string{LabelManagedBy: ManagedByValue},
			Annotations: map[string]string{AnnotationNode: n.name},
			// The apiserver's garbage collector deletes the configuration
			// of a deleted Node even while frrgen is down.
			OwnerReferences: nodeOwnerReference(n),
		},
		Spec: frrv1beta1.FRRConfigurationSpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{labelHostname: n.hostname()}},
			BGP:          frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{}},
		},
	}
	usedBFD := map[string]*metallbv1beta1.BFDProfile{}
	for start := 0; start < len(neighbors); {
		// neighbors are sorted by VRF first: one router per run of a VRF.
		vrf := neighbors[start].peer.spec.VRFName
		end := start
		for end < len(neighbors) && neighbors[end].peer.spec.VRFName == vrf {
			end++
		}
		cfg.Spec.BGP.Routers = append(cfg.Spec.BGP.Routers, b.router(neighbors[start:end]))
		for _, nb := range neighbors[start:end] {
			if nb.peer.bfd != nil {
				usedBFD[nb.peer.bfd.Name] = nb.peer.bfd
			}
		}
		start = end
	}
	for _, name := range sortedKeys(usedBFD) {
		cfg.Spec.BGP.BFDProfiles = append(cfg.Spec.BGP.BFDProfiles, bfdProfile(usedBFD[name]))
	}
	return cfg
}

// router builds the router of one VRF from its neighbors (validation makes
// sure they agree on myASN and routerID).
func (b *builder) router(neighbors []neighborState) frrv1beta1.Router {
	first := neighbors[0].peer.spec
	r := frrv1beta1.Router{ASN: first.MyASN, VRF: first.VRFName}
	if first.RouterID != "" {
		r.ID = netip.MustParseAddr(first.RouterID).String()
	}
	routerPrefixes := newPrefixSet(len(b.prefixes))
	for i := range neighbors {
		routerPrefixes.union(neighbors[i].allowed)
		r.Neighbors = append(r.Neighbors, b.neighbor(&neighbors[i]))
	}
	r.Prefixes = b.setTexts(routerPrefixes)
	return r
}

func (b *builder) neighbor(nb *neighborState) frrv1beta1.Neighbor {
	out := nb.peer.neighbor
	// Fresh pointers: the session fields of different nodes must not share
	// memory (their prefix lists are shared and read-only, see setTexts).
	port := *out.Port
	out.Port = &port
	if out.HoldTime != nil {
		out.HoldTime = &metav1.Duration{Duration: out.HoldTime.Duration}
		out.KeepaliveTime = &metav1.Duration{Duration: out.KeepaliveTime.Duration}
	}
	if out.ConnectTime != nil {
		out.ConnectTime = &metav1.Duration{Duration: out.ConnectTime.Duration}
	}
	out.ToReceive.Allowed.Mode = frrv1beta1.AllowRestricted
	out.ToAdvertise.Allowed.Mode = frrv1beta1.AllowRestricted
	out.ToAdvertise.Allowed.Prefixes = b.setTexts(nb.allowed)

	// One withLocalPref entry per value, prefixes in ID (output) order.
	if nb.localPref != nil {
		byValue := map[uint32]prefixSet{}
		for id, lp := range nb.localPref {
			if lp != 0 {
				if byValue[lp] == nil {
					byValue[lp] = newPrefixSet(len(b.prefixes))
				}
				byValue[lp].add(int32(id))
			}
		}
		values := make([]uint32, 0, len(byValue))
		for lp := range byValue {
			values = append(values, lp)
		}
		slices.Sort(values)
		for _, lp := range values {
			out.ToAdvertise.PrefixesWithLocalPref = append(out.ToAdvertise.PrefixesWithLocalPref,
				frrv1beta1.LocalPrefPrefixes{LocalPref: lp, Prefixes: b.setTexts(byValue[lp])})
		}
	}
	// One withCommunity entry per community, in community ID (output) order.
	for c, set := range nb.communities {
		if set != nil {
			out.ToAdvertise.PrefixesWithCommunity = append(out.ToAdvertise.PrefixesWithCommunity,
				frrv1beta1.CommunityPrefixes{Community: b.communityText[c], Prefixes: b.setTexts(set)})
		}
	}
	return out
}

func (b *builder) reportLocalPrefClash(n *nodeInfo, p *peer, id int32, first, second *advertisement) {
	msg := "prefix %s would reach %s from node %s with localPref %d from this advertisement and localPref %d from %s (services sharing an IP, or an aggregate covering two pools); frr-k8s refuses a prefix with two localPrefs"
	prefix := b.prefixText[id]
	b.diag.problem(first.ref, "spec.localPref", strconv.FormatUint(uint64(first.localPref), 10), msg, prefix, p.ref, n.name, first.localPref, second.localPref, second.ref)
	b.diag.problem(second.ref, "spec.localPref", strconv.FormatUint(uint64(second.localPref), 10), msg, prefix, p.ref, n.name, second.localPref, first.localPref, first.ref)
}

// setTexts returns the texts of the prefixes of set, sorted (nil for
// none). Nodes with the same peers and services have the same sets, so
// each distinct set's list is made once per build and shared by every
// configuration with that set: at 100 nodes x 5000 services that is what
// keeps a build, and the controller's copy of it, small. Shared lists are
// read-only (clipped, so an append copies); nothing downstream sorts or
// edits a prefix list in place (TestBuildSharesNoWritableMemory).
func (b *builder) setTexts(set prefixSet) []string {
	key := set.digest(b.textSeed)
	for _, m := range b.textMemo[key] {
		if slices.Equal(m.set, set) {
			return m.texts
		}
	}
	var out []string
	for _, id := range set.ids() {
		out = append(out, b.prefixText[id])
	}
	out = slices.Clip(out)
	b.textMemo[key] = append(b.textMemo[key], textMemo{set: slices.Clone(set), texts: out})
	return out
}

// textMemo is one prefix set and its texts (see setTexts).
type textMemo struct {
	set   prefixSet
	texts []string
}

func compareNeighbors(x, y *peer) int {
	if c := cmp.Compare(x.spec.VRFName, y.spec.VRFName); c != 0 {
		return c
	}
	if x.address.IsValid() != y.address.IsValid() {
		if x.address.IsValid() {
			return -1
		}
		return 1
	}
	return cmp.Or(x.address.Compare(y.address), cmp.Compare(x.spec.Interface, y.spec.Interface), cmp.Compare(x.ref.Name, y.ref.Name))
}

func bfdProfile(p *metallbv1beta1.BFDProfile) frrv1beta1.BFDProfile {
	s := p.Spec
	copyOf := func(v *uint32) *uint32 {
		if v == nil {
			return nil
		}
		c := *v
		return &c
	}
	echo, passive := s.EchoMode != nil && *s.EchoMode, s.PassiveMode != nil && *s.PassiveMode
	return frrv1beta1.BFDProfile{
		Name:             p.Name,
		ReceiveInterval:  copyOf(s.ReceiveInterval),
		TransmitInterval: copyOf(s.TransmitInterval),
		DetectMultiplier: copyOf(s.DetectMultiplier),
		EchoInterval:     copyOf(s.EchoInterval),
		EchoMode:         &echo,
		PassiveMode:      &passive,
		MinimumTTL:       copyOf(s.MinimumTTL),
	}
}

// forgetHeldNodes removes the held nodes from an announcement: what they
// announce is their last good configuration's business, not this build's.
func (b *builder) forgetHeldNodes(a *ServiceAnnouncement) {
	if len(b.heldBy) == 0 {
		return
	}
	kept := 0
	for i, node := range a.Nodes {
		if !b.isHeld(node) {
			a.Nodes[kept], a.NodePeers[kept] = node, a.NodePeers[i]
			kept++
		}
	}
	a.Nodes, a.NodePeers = a.Nodes[:kept], a.NodePeers[:kept]
	for node := range a.NotAnnounced {
		if b.isHeld(node) {
			delete(a.NotAnnounced, node)
		}
	}
}

// peerSets numbers the distinct sets of BGPPeers services are sent to
// (Result.PeerSets): most services reach the same peers, so thousands of
// announcements share a few sets.
type peerSets struct {
	sets  [][]string
	index map[string]int32 // by the names joined with NUL
}

// of is the number of the set of neighbors reached on one node; onNode
// caches it by the reached mask, so that the names are joined only once
// per distinct set and node.
func (p *peerSets) of(onNode map[string]int32, neighbors []neighborState, reached []bool) int32 {
	mask := make([]byte, len(reached))
	for i, r := range reached {
		if r {
			mask[i] = 1
		}
	}
	if id, ok := onNode[string(mask)]; ok {
		return id
	}
	var names []string
	for i, r := range reached {
		if r {
			names = append(names, neighbors[i].peer.ref.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	key := strings.Join(names, "\x00")
	id, ok := p.index[key]
	if !ok {
		if p.index == nil {
			p.index = map[string]int32{}
		}
		id = int32(len(p.sets))
		p.sets = append(p.sets, names)
		p.index[key] = id
	}
	onNode[string(mask)] = id
	return id
}

func setNotAnnounced(a *ServiceAnnouncement, node string, r Reason) {
	if a.NotAnnounced == nil {
		a.NotAnnounced = map[string]Reason{}
	}
	a.NotAnnounced[node] = r
}

// summariseReasons sets Reason when no node announces the service and the
// nodes that matter agree on why. For externalTrafficPolicy: Local those
// are the nodes with a local endpoint, when some speaker node has one: the
// others can only say noLocalEndpoints, which hides the real cause (say,
// noPeers on the one node with the endpoint). Otherwise it is every node.
func summariseReasons(a *ServiceAnnouncement, sp *servicePlan) {
	if a.Reason != "" || len(a.Nodes) > 0 || len(a.NotAnnounced) == 0 {
		return
	}
	decisive := func(string) bool { return true }
	if sp.local && slices.ContainsFunc(sp.eps.nodeList(), func(n string) bool { return a.NotAnnounced[n] != "" }) {
		decisive = sp.eps.onNode
	}
	var common Reason
	for node, r := range a.NotAnnounced {
		if !decisive(node) {
			continue
		}
		if common != "" && r != common {
			return
		}
		common = r
	}
	a.Reason = common
}

func (b *builder) summariseAdvertisements(plans []servicePlan) []AdvertisementSummary {
	// Distinct service IPs are counted with a set of IP numbers, like prefixes.
	ipNumber := map[netip.Addr]int32{}
	for i := range plans {
		for _, a := range plans[i].addrs {
			if _, ok := ipNumber[a]; !ok {
				ipNumber[a] = int32(len(ipNumber))
			}
		}
	}
	ips := make([]prefixSet, len(b.ads))
	prefixes := make([]prefixSet, len(b.ads))
	for i := range b.ads {
		ips[i], prefixes[i] = newPrefixSet(len(ipNumber)), newPrefixSet(len(b.prefixes))
	}
	for i := range plans {
		sp := &plans[i]
		for _, sa := range sp.ads {
			if !sa.used {
				continue
			}
			for _, a := range sp.addrs {
				ips[sa.ad.index].add(ipNumber[a])
			}
			for _, id := range b.prefixRefs[sa.from:sa.to] {
				prefixes[sa.ad.index].add(id)
			}
		}
	}
	out := make([]AdvertisementSummary, len(b.ads))
	for i, a := range b.ads {
		out[i] = AdvertisementSummary{Name: a.ref.Name, ServiceIPs: ips[i].count(), Prefixes: prefixes[i].count()}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// nodeOwnerReference makes a configuration a dependent of its Node; none
// when the Node's UID is unknown (a Node read from a file). It neither
// blocks the Node's deletion nor claims to be the Node's controller.
func nodeOwnerReference(n *nodeInfo) []metav1.OwnerReference {
	if n.uid == "" {
		return nil
	}
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.name, UID: n.uid}}
}
