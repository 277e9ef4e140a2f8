package layout

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// group is one shared object before the split.
type group struct {
	nodes  []string // sorted
	config frrv1beta1.FRRConfiguration
}

// entryKey identifies one advertisement entry across nodes: a neighbor (its
// router and every session field), a prefix, and the prefix's localPref and
// communities towards that neighbor. Nodes with the same entry can share it.
type entryKey struct{ neighbor, prefix, attrs int32 }

// candidate is a node set and the entries exactly that set of nodes has.
type candidate struct {
	nodes     []int32 // indexes into the sorted configs
	entries   int
	neighbors []int32 // neighbor ids, sorted
	setKey    string
}

// sharing is the state of share: interned neighbors, prefixes and entries.
type sharing struct {
	configs   []frrv1beta1.FRRConfiguration // sorted by node
	neighbors intern
	prefixes  intern
	attrs     intern
	entryID   map[entryKey]int32
	// entryNodes[e] are the nodes having entry e, in order.
	entryNodes [][]int32
	// entryOf[node][router][neighbor] lists the entry of each allowed
	// prefix, aligned with the neighbor's allowed prefixes.
	entryOf [][][][]int32
}

type intern map[string]int32

func (m intern) id(s string) int32 {
	if id, ok := m[s]; ok {
		return id
	}
	id := int32(len(m))
	m[s] = id
	return id
}

// share splits every node's configuration into its own part and the shared
// groups' parts (see the package documentation).
func share(configs []frrv1beta1.FRRConfiguration, o Options) ([]frrv1beta1.FRRConfiguration, []group, error) {
	s := &sharing{configs: slices.Clone(configs), neighbors: intern{}, prefixes: intern{}, attrs: intern{}, entryID: map[entryKey]int32{}}
	slices.SortFunc(s.configs, func(a, b frrv1beta1.FRRConfiguration) int {
		return cmp.Compare(a.Annotations[translate.AnnotationNode], b.Annotations[translate.AnnotationNode])
	})
	hostnames := make([]string, len(s.configs))
	classOf := nodeClasses(s.configs)
	for i := range s.configs {
		c := &s.configs[i]
		if err := checkSplittable(c); err != nil {
			return nil, nil, err
		}
		hostnames[i] = c.Spec.NodeSelector.MatchLabels[corev1.LabelHostname]
		if hostnames[i] == "" || len(c.Spec.NodeSelector.MatchLabels) != 1 || len(c.Spec.NodeSelector.MatchExpressions) != 0 {
			return nil, nil, fmt.Errorf("FRRConfiguration %s: the shared layout needs a nodeSelector of exactly matchLabels %s, not %v", c.Name, corev1.LabelHostname, c.Spec.NodeSelector)
		}
		if first := classOf[i]; first != int32(i) {
			s.joinClass(int32(i), first)
			continue
		}
		if err := s.addEntries(int32(i)); err != nil {
			return nil, nil, err
		}
	}
	candidates, groupOf := s.candidates()
	shared := make([]bool, len(candidates))
	for g, c := range candidates {
		shared[g] = len(c.nodes) >= 2 && c.entries >= o.MinSharedEntries
	}
	names := groupNames(candidates, shared, s, o.NamePrefix)

	// Each shared group is built by its first node, from that node's entries
	// (identical on every member). A group's first node is the first of its
	// class: a class's nodes are in the same groups.
	builds := make([][]int32, len(s.configs))
	for g := range candidates {
		if shared[g] {
			first := candidates[g].nodes[0]
			builds[first] = append(builds[first], int32(g))
		}
	}
	var own []frrv1beta1.FRRConfiguration
	var groups []group
	for i := range s.configs {
		if first := classOf[i]; first != int32(i) {
			// The same entries in the same groups: the first's own part.
			own = append(own, withMetadataOf(own[first], &s.configs[i]))
			continue
		}
		// Part 0 is the node's own object, part 1+k the k-th group it builds.
		partOfGroup := make(map[int32]int, len(builds[i]))
		for k, g := range builds[i] {
			partOfGroup[g] = 1 + k
		}
		parts := partition(&s.configs[i], 1+len(builds[i]), func(part int) bool { return part == 0 },
			s.destination(int32(i), groupOf, shared, partOfGroup))
		own = append(own, parts[0])
		for k, g := range builds[i] {
			groups = append(groups, s.sharedObject(parts[1+k], candidates[g], names[g], hostnames))
		}
	}
	return own, groups, nil
}

// addEntries interns the entries of node i.
func (s *sharing) addEntries(i int32) error {
	c := &s.configs[i]
	byRouter := make([][][]int32, len(c.Spec.BGP.Routers))
	for ri, r := range c.Spec.BGP.Routers {
		byRouter[ri] = make([][]int32, len(r.Neighbors))
		for ni := range r.Neighbors {
			nb := &r.Neighbors[ni]
			key, err := neighborKey(c, &r, nb)
			if err != nil {
				return err
			}
			neighbor := s.neighbors.id(key)
			attrs := s.attributes(&nb.ToAdvertise)
			entries := make([]int32, len(nb.ToAdvertise.Allowed.Prefixes))
			for k, p := range nb.ToAdvertise.Allowed.Prefixes {
				ek := entryKey{neighbor: neighbor, prefix: s.prefixes.id(p), attrs: attrs[k]}
				e, ok := s.entryID[ek]
				if !ok {
					e = int32(len(s.entryNodes))
					s.entryID[ek] = e
					s.entryNodes = append(s.entryNodes, nil)
				}
				s.entryNodes[e] = append(s.entryNodes[e], i)
				entries[k] = e
			}
			byRouter[ri][ni] = entries
		}
	}
	s.entryOf = append(s.entryOf, byRouter)
	return nil
}

// joinClass gives node i the entries of node first, whose BGP section is
// the same (nodeClasses).
func (s *sharing) joinClass(i, first int32) {
	for _, neighbors := range s.entryOf[first] {
		for _, entries := range neighbors {
			for _, e := range entries {
				s.entryNodes[e] = append(s.entryNodes[e], i)
			}
		}
	}
	s.entryOf = append(s.entryOf, s.entryOf[first])
}

// withMetadataOf is part (another node's own part) for the node of cfg: a
// copy with cfg's metadata and selector, as partition would have made it.
func withMetadataOf(part frrv1beta1.FRRConfiguration, cfg *frrv1beta1.FRRConfiguration) frrv1beta1.FRRConfiguration {
	out := *part.DeepCopy()
	out.TypeMeta = cfg.TypeMeta
	out.ObjectMeta = *cfg.ObjectMeta.DeepCopy()
	out.Spec.NodeSelector = *cfg.Spec.NodeSelector.DeepCopy()
	return out
}

// neighborKey is a neighbor's identity for sharing: its router (ASN, id,
// VRF), every session field and its BFD profile's values, so that nodes
// share entries only towards a neighbor frr-k8s merges without conflict.
func neighborKey(c *frrv1beta1.FRRConfiguration, r *frrv1beta1.Router, nb *frrv1beta1.Neighbor) (string, error) {
	session := *nb
	session.ToAdvertise = frrv1beta1.Advertise{}
	var bfd *frrv1beta1.BFDProfile
	for k := range c.Spec.BGP.BFDProfiles {
		if c.Spec.BGP.BFDProfiles[k].Name == nb.BFDProfile {
			bfd = &c.Spec.BGP.BFDProfiles[k]
		}
	}
	raw, err := json.Marshal(struct {
		ASN     uint32                 `json:"asn"`
		ID      string                 `json:"id"`
		VRF     string                 `json:"vrf"`
		Session frrv1beta1.Neighbor    `json:"session"`
		BFD     *frrv1beta1.BFDProfile `json:"bfd"`
	}{r.ASN, r.ID, r.VRF, session, bfd})
	if err != nil {
		return "", fmt.Errorf("FRRConfiguration %s: neighbor %s%s: %w", c.Name, nb.Address, nb.Interface, err)
	}
	return string(raw), nil
}

// attributes returns, aligned with adv's allowed prefixes, the interned
// localPref and communities (sorted) of each prefix. Without a string per
// prefix: each prefix's community set is a state of a trie over adv's
// community entries, and each distinct (localPref, state) is interned once.
func (s *sharing) attributes(adv *frrv1beta1.Advertise) []int32 {
	allowed := adv.Allowed.Prefixes
	index := make(map[string]int, len(allowed))
	for k, p := range allowed {
		index[p] = k
	}
	lp := make([]uint32, len(allowed))
	for _, e := range adv.PrefixesWithLocalPref {
		for _, p := range e.Prefixes {
			if k, ok := index[p]; ok {
				lp[k] = e.LocalPref
			}
		}
	}
	// Trie state 0 is the empty set; state i > 0 is states[i].parent's set
	// plus community entry states[i].entry.
	type state struct{ parent, entry int32 }
	states := []state{{-1, -1}}
	next := map[[2]int32]int32{}
	set := make([]int32, len(allowed))
	for j, e := range adv.PrefixesWithCommunity {
		for _, p := range e.Prefixes {
			k, ok := index[p]
			if !ok {
				continue
			}
			key := [2]int32{set[k], int32(j)}
			st, ok := next[key]
			if !ok {
				st = int32(len(states))
				states = append(states, state{set[k], int32(j)})
				next[key] = st
			}
			set[k] = st
		}
	}
	ids := map[[2]uint32]int32{}
	out := make([]int32, len(allowed))
	for k := range allowed {
		key := [2]uint32{lp[k], uint32(set[k])}
		id, ok := ids[key]
		if !ok {
			var communities []string
			for st := set[k]; st > 0; st = states[st].parent {
				communities = append(communities, adv.PrefixesWithCommunity[states[st].entry].Community)
			}
			slices.Sort(communities)
			id = s.attrs.id(strconv.FormatUint(uint64(lp[k]), 10) + "|" + strings.Join(communities, ","))
			ids[key] = id
		}
		out[k] = id
	}
	return out
}

// candidates groups the entries by the exact set of nodes having them.
// groupOf[e] is entry e's candidate.
func (s *sharing) candidates() ([]candidate, []int32) {
	index := map[string]int32{}
	var out []candidate
	groupOf := make([]int32, len(s.entryNodes))
	var buf []byte
	for e, nodes := range s.entryNodes {
		buf = buf[:0]
		for _, n := range nodes {
			buf = binary.AppendUvarint(buf, uint64(n))
		}
		g, ok := index[string(buf)]
		if !ok {
			g = int32(len(out))
			index[string(buf)] = g
			out = append(out, candidate{nodes: nodes, setKey: string(buf)})
		}
		out[g].entries++
		groupOf[e] = g
	}
	for ek, e := range s.entryID {
		c := &out[groupOf[e]]
		if !slices.Contains(c.neighbors, ek.neighbor) {
			c.neighbors = append(c.neighbors, ek.neighbor)
		}
	}
	for g := range out {
		slices.Sort(out[g].neighbors)
	}
	return out, groupOf
}

// groupNames names the shared candidates. A group is named after the
// neighbors it advertises to, not after its members, so that a node joining
// or leaving it changes only that object's selector. When several groups
// advertise to the same neighbors (an ETP-Cluster group of a rack and an
// ETP-Local group of some of its nodes), the one with the most nodes gets
// that name and the others add their members to it.
func groupNames(candidates []candidate, shared []bool, s *sharing, prefix string) []string {
	neighborKeys := make([]string, len(s.neighbors))
	for key, id := range s.neighbors {
		neighborKeys[id] = key
	}
	names := make([]string, len(candidates))
	signature := make([]string, len(candidates))
	primary := map[string]int{}
	for g := range candidates {
		if !shared[g] {
			continue
		}
		keys := make([]string, len(candidates[g].neighbors))
		for k, id := range candidates[g].neighbors {
			keys[k] = neighborKeys[id]
		}
		slices.Sort(keys)
		signature[g] = strings.Join(keys, "\n")
		best, seen := primary[signature[g]]
		if !seen || bigger(&candidates[g], &candidates[best]) {
			primary[signature[g]] = g
		}
	}
	for g := range candidates {
		if !shared[g] {
			continue
		}
		id := signature[g]
		if primary[id] != g {
			id += "\n" + joinNodes(s.nodeNames(candidates[g].nodes))
		}
		sum := sha256.Sum256([]byte(id))
		names[g] = translate.ConfigName(prefix, "shared-"+hex.EncodeToString(sum[:])[:10])
	}
	return names
}

// bigger orders groups of the same neighbors: more nodes, then more
// entries, then the node set.
func bigger(a, b *candidate) bool {
	return cmp.Or(cmp.Compare(len(a.nodes), len(b.nodes)), cmp.Compare(a.entries, b.entries), cmp.Compare(b.setKey, a.setKey)) > 0
}

func (s *sharing) nodeNames(nodes []int32) []string {
	out := make([]string, len(nodes))
	for k, n := range nodes {
		out[k] = s.configs[n].Annotations[translate.AnnotationNode]
	}
	return out
}

// destination is partition's dest for node i: an entry of a shared group
// goes to that group's part when i builds it, nowhere when another member
// does, and everything else to the node's own part (0).
func (s *sharing) destination(i int32, groupOf []int32, shared []bool, partOfGroup map[int32]int) func(router, neighbor int, prefix string) int {
	c := &s.configs[i]
	// The entry of each (router, neighbor, prefix), looked up by prefix.
	var lookup map[string]int32
	lastRouter, lastNeighbor := -1, -1
	return func(router, neighbor int, prefix string) int {
		if neighbor < 0 {
			return 0
		}
		if router != lastRouter || neighbor != lastNeighbor {
			allowed := c.Spec.BGP.Routers[router].Neighbors[neighbor].ToAdvertise.Allowed.Prefixes
			lookup = make(map[string]int32, len(allowed))
			for k, p := range allowed {
				lookup[p] = s.entryOf[i][router][neighbor][k]
			}
			lastRouter, lastNeighbor = router, neighbor
		}
		e, ok := lookup[prefix]
		if !ok {
			return 0
		}
		g := groupOf[e]
		if !shared[g] {
			return 0
		}
		if part, builds := partOfGroup[g]; builds {
			return part
		}
		return -1
	}
}

// sharedObject turns the part a group's first node built into the group's
// object: its name, the members in an annotation and a selector naming
// their hostname labels.
func (s *sharing) sharedObject(part frrv1beta1.FRRConfiguration, c candidate, name string, hostnames []string) group {
	nodes := s.nodeNames(c.nodes)
	values := make([]string, len(c.nodes))
	for k, n := range c.nodes {
		values[k] = hostnames[n]
	}
	slices.Sort(values)
	values = slices.Compact(values)
	part.Name = name
	part.Labels = map[string]string{translate.LabelManagedBy: translate.ManagedByValue}
	part.Annotations = map[string]string{AnnotationNodes: joinNodes(nodes)}
	part.Spec.NodeSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: corev1.LabelHostname, Operator: metav1.LabelSelectorOpIn, Values: values},
	}}
	return group{nodes: nodes, config: part}
}
