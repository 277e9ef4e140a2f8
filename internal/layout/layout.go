// Package layout decides which FRRConfiguration objects carry the nodes'
// desired configurations (translate.Result.Configs, one per node): the
// objects frrgen writes. Pure: no client, no clock.
//
// Two layouts, both giving every node exactly the effective configuration
// (internal/merge) of its per-node configuration:
//
//   - PerNode (default): one object per node, named as translate names it;
//     one whose JSON exceeds MaxObjectBytes is split into 2^b shards by a
//     hash of each prefix (Split), so that adding or removing a service
//     rewrites one shard per node.
//   - Shared (opt-in, for big clusters whose nodes advertise the same
//     prefixes to the same neighbors, e.g. ETP-Cluster services from every
//     node of a rack): each advertisement entry (neighbor, prefix, localPref,
//     communities) that the same set of at least two nodes has goes, with
//     the other entries of that exact node set, into one object selecting
//     those nodes (kubernetes.io/hostname In [...]); what differs (ETP Local,
//     a peer of one node) stays in the node's own object, which also carries
//     all of the node's sessions and BFD profiles. A service change then
//     rewrites one object per node set instead of one per node, and every
//     daemon receives that one object. Shared objects are split like the
//     others.
//
// Ownership of shared objects (for the controller): a shared object belongs
// to no node. It carries the managed-by label, no frrgen.io/node annotation,
// and AnnotationNodes listing the nodes it selects. The controller writes
// the shared objects of a Layout as one cluster-level set: create or update
// every desired one, then delete every stored object with the managed-by
// label and AnnotationNodes that the layout no longer has. For a node to
// never lose a prefix still wanted, the writes that add content for a node
// (per-node objects, shared creates and updates) must land before those that
// remove it (deletes; and a per-node object shrinking because a group now
// carries its entries must wait for that group's write). Each node's merge
// check (nodeplan) takes Layout.ForNode: its own objects plus the shared
// ones selecting it.
//
// When a node joins or leaves a group, the group keeps its name (the name
// comes from the group's neighbors, not its members; see groupNames) and
// only that object's selector, member annotation and, when the common part
// shrinks or grows, its entries change.
//
// Held nodes (translate.Result.Held) are not in Result.Configs. Laid out
// without them, the shared layout would drop them from every group and so
// change their configuration. The controller must instead pass, for each
// held node, its last good per-node configuration (Join of the stored objects
// selecting it); groups form from exact entry sets, so the layout
// then keeps its effective configuration exactly, although entries may move
// between its own object and the groups: such a content-neutral rewrite of a
// held node's own object must be allowed, or the node loses what a group
// stops carrying for it.
package layout

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"

	"github.com/frrgen/frrgen/internal/translate"
)

// Kind names a layout.
type Kind string

const (
	PerNode Kind = "per-node"
	Shared  Kind = "shared"
)

// Kinds are the valid layouts, for flags and errors.
var Kinds = []Kind{PerNode, Shared}

// ParseKind reads a layout name.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown layout %q: use %s or %s", s, PerNode, Shared)
}

const (
	// DefaultMaxObjectBytes is a third of etcd's default 1.5 MiB request
	// limit: room for the apiserver's metadata and managedFields, and small
	// enough that a write and each watch event stay cheap.
	DefaultMaxObjectBytes = 512 << 10
	// DefaultSharedMaxObjectBytes is the shared layout's: there one object
	// carries a change for every node of a group, and each Service change
	// rewrites the shard its prefix falls in, so small shards keep each
	// write, and each watch event to every daemon, small (the controller
	// load benchmark's latency at 100 nodes falls with the shard size, see
	// the README's Performance section).
	DefaultSharedMaxObjectBytes = 32 << 10
	// DefaultMinSharedEntries: a node set's common part becomes a shared
	// object only with at least this many advertisement entries; smaller
	// parts (typically ETP-Local services on a few nodes) stay in the
	// per-node objects, so that the number of objects every daemon watches
	// stays bounded by the number of big groups.
	DefaultMinSharedEntries = 16
)

// Metadata of the objects a layout adds to translate's.
const (
	// AnnotationShard is "i/n" on shard i of n (0 ≤ i < n) of one object.
	AnnotationShard = "frrgen.io/shard"
	// AnnotationShardOf names, on a shard, the object it is a part of (what
	// it is named when unsplit); with AnnotationShard it tells ShardCounts
	// how many shards are stored.
	AnnotationShardOf = "frrgen.io/shard-of"
	// AnnotationNodes lists, comma-separated and sorted, the nodes a shared
	// object selects.
	AnnotationNodes = "frrgen.io/nodes"
)

// Options choose the layout.
type Options struct {
	Kind Kind
	// MaxObjectBytes is the largest JSON size of one object; 0 means
	// DefaultMaxObjectBytes, or DefaultSharedMaxObjectBytes for Shared.
	MaxObjectBytes int
	// MinSharedEntries (Shared only); 0 means DefaultMinSharedEntries.
	MinSharedEntries int
	// NamePrefix names the shared objects, as translate.Options.NamePrefix
	// names the per-node ones.
	NamePrefix string
	// StoredShards maps an object's unsplit name to the number of shards
	// it is stored as (ShardCounts of the stored objects). An object keeps
	// that count while it fits and is at most one doubling above the
	// smallest count that fits, so that a configuration hovering at the
	// threshold is not rewritten whole at every service change. nil: the
	// smallest count that fits.
	StoredShards map[string]int
}

// ShardCounts reads, from stored objects of ours, how many shards each
// object is stored as (for Options.StoredShards). While a change of count is
// being written both counts exist; the larger wins, so the layout does not
// shrink what it is still growing.
func ShardCounts(stored []frrv1beta1.FRRConfiguration) map[string]int {
	out := map[string]int{}
	for _, c := range stored {
		base := c.Annotations[AnnotationShardOf]
		var i, n int
		if _, err := fmt.Sscanf(c.Annotations[AnnotationShard], "%d/%d", &i, &n); base == "" || err != nil {
			continue
		}
		out[base] = max(out[base], n)
	}
	return out
}

// Layout is the set of objects to write.
type Layout struct {
	// PerNode maps each node to the objects that belong to it alone: its
	// configuration, or its shards.
	PerNode map[string][]frrv1beta1.FRRConfiguration
	// Shared are the groups' objects, sorted by the name of their first
	// object (Shared layout only).
	Shared []SharedGroup
	// Sizes maps each object's name to its JSON size in bytes.
	Sizes map[string]int
}

// SharedGroup is the object (or shards) one set of nodes shares.
type SharedGroup struct {
	// Nodes it selects, sorted.
	Nodes   []string
	Configs []frrv1beta1.FRRConfiguration
}

// ForNode returns every object of the layout that selects node: what
// frr-k8s merges for it, and what its merge check must cover.
func (l Layout) ForNode(node string) []frrv1beta1.FRRConfiguration {
	out := slices.Clone(l.PerNode[node])
	for _, g := range l.Shared {
		if _, found := slices.BinarySearch(g.Nodes, node); found {
			out = append(out, g.Configs...)
		}
	}
	return out
}

// NodeStats are the number and the total JSON size of the objects that
// select node (what its frr-k8s reads; for the controller's metrics).
func (l Layout) NodeStats(node string) (objects, bytes int) {
	for _, c := range l.ForNode(node) {
		objects, bytes = objects+1, bytes+l.Sizes[c.Name]
	}
	return objects, bytes
}

// Objects returns every object of the layout: each node's (sorted by node,
// shards in order), then the shared groups'.
func (l Layout) Objects() []frrv1beta1.FRRConfiguration {
	var out []frrv1beta1.FRRConfiguration
	for _, node := range slices.Sorted(maps.Keys(l.PerNode)) {
		out = append(out, l.PerNode[node]...)
	}
	for _, g := range l.Shared {
		out = append(out, g.Configs...)
	}
	return out
}

// DefaultMaxObjectBytesOf is the object size limit of a layout kind when
// none is given.
func DefaultMaxObjectBytesOf(kind Kind) int {
	if kind == Shared {
		return DefaultSharedMaxObjectBytes
	}
	return DefaultMaxObjectBytes
}

// defaultLimit is the size limit of cfg when none was given: the layout's
// default, or twice what every shard of cfg repeats (metadata, selector,
// sessions, BFD profiles) when that is more, up to DefaultMaxObjectBytes.
// A shared object's metadata and selector name every node of its group
// (some 80 bytes per node), so without this a group of a few hundred nodes
// would not fit in 32 KiB however many shards it had.
func defaultLimit(cfg *frrv1beta1.FRRConfiguration, limit int) (int, error) {
	shell := *cfg
	shell.Spec.BGP.Routers = slices.Clone(cfg.Spec.BGP.Routers)
	for r := range shell.Spec.BGP.Routers {
		router := &shell.Spec.BGP.Routers[r]
		router.Prefixes = nil
		router.Neighbors = slices.Clone(router.Neighbors)
		for n := range router.Neighbors {
			router.Neighbors[n].ToAdvertise = frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Mode: router.Neighbors[n].ToAdvertise.Allowed.Mode}}
		}
	}
	repeated, err := Size(&shell)
	if err != nil {
		return 0, err
	}
	return max(limit, min(2*repeated, DefaultMaxObjectBytes)), nil
}

// Compute lays out configs (translate.Result.Configs: one per node, each
// with translate.AnnotationNode).
func Compute(configs []frrv1beta1.FRRConfiguration, o Options) (Layout, error) {
	defaulted := o.MaxObjectBytes == 0
	o.MaxObjectBytes = cmp.Or(o.MaxObjectBytes, DefaultMaxObjectBytesOf(o.Kind))
	o.MinSharedEntries = cmp.Or(o.MinSharedEntries, DefaultMinSharedEntries)
	if o.MaxObjectBytes < 0 {
		return Layout{}, fmt.Errorf("--max-object-bytes must be positive, not %d", o.MaxObjectBytes)
	}
	for i := range configs {
		if configs[i].Annotations[translate.AnnotationNode] == "" {
			return Layout{}, fmt.Errorf("FRRConfiguration %s has no %s annotation", configs[i].Name, translate.AnnotationNode)
		}
	}
	out := Layout{PerNode: make(map[string][]frrv1beta1.FRRConfiguration, len(configs)), Sizes: map[string]int{}}
	split := func(c frrv1beta1.FRRConfiguration) ([]frrv1beta1.FRRConfiguration, error) {
		limit := o.MaxObjectBytes
		if defaulted {
			var err error
			if limit, err = defaultLimit(&c, limit); err != nil {
				return nil, err
			}
		}
		shards, sizes, err := splitSized(c, limit, o.StoredShards[c.Name])
		for i := range shards {
			out.Sizes[shards[i].Name] = sizes[i]
		}
		return shards, err
	}
	own := configs
	switch o.Kind {
	case PerNode, "":
	case Shared:
		var err error
		var groups []group
		own, groups, err = share(configs, o)
		if err != nil {
			return Layout{}, err
		}
		for _, g := range groups {
			shards, err := split(g.config)
			if err != nil {
				return Layout{}, err
			}
			out.Shared = append(out.Shared, SharedGroup{Nodes: g.nodes, Configs: shards})
		}
		slices.SortFunc(out.Shared, func(a, b SharedGroup) int { return cmp.Compare(a.Configs[0].Name, b.Configs[0].Name) })
	default:
		return Layout{}, fmt.Errorf("unknown layout %q: use %s or %s", o.Kind, PerNode, Shared)
	}
	for _, c := range own {
		shards, err := split(c)
		if err != nil {
			return Layout{}, err
		}
		node := c.Annotations[translate.AnnotationNode]
		out.PerNode[node] = append(out.PerNode[node], shards...)
	}
	return out, uniqueNames(out)
}

// uniqueNames fails when two objects would share a name, e.g. the shard
// "frrgen-a-shard-0-of-2" of node a and the configuration of a node named
// "a-shard-0-of-2": writing both would make each overwrite the other.
func uniqueNames(l Layout) error {
	owner := map[string]string{}
	describe := func(c *frrv1beta1.FRRConfiguration) string {
		if node := c.Annotations[translate.AnnotationNode]; node != "" {
			return "node " + node
		}
		return "the nodes " + c.Annotations[AnnotationNodes]
	}
	for _, c := range l.Objects() {
		if prev, taken := owner[c.Name]; taken {
			both := []string{prev, describe(&c)}
			slices.Sort(both)
			return fmt.Errorf("two FRRConfigurations would be named %s: one for %s, one for %s; rename a node or change --name-prefix", c.Name, both[0], both[1])
		}
		owner[c.Name] = describe(&c)
	}
	return nil
}

func joinNodes(nodes []string) string { return strings.Join(nodes, ",") }
