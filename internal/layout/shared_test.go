package layout_test

import (
	"fmt"
	"k8s.io/utils/ptr"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/translate"
)

const (
	cluster1, cluster2, localA = "10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"
	tor1, tor2                 = "172.30.0.1", "172.30.0.2"
)

// node is a per-node configuration with one router and a neighbor per
// address, each advertising prefixes (10.0.0.1/32 with localPref 150).
func node(name string, neighbors map[string][]string) frrv1beta1.FRRConfiguration {
	r := frrv1beta1.Router{ASN: 64512}
	all := map[string]bool{}
	for _, address := range slices.Sorted(maps.Keys(neighbors)) {
		prefixes := neighbors[address]
		nb := neighbor(address, "fast", prefixes...)
		if slices.Contains(prefixes, cluster1) {
			nb.ToAdvertise.PrefixesWithLocalPref = []frrv1beta1.LocalPrefPrefixes{{LocalPref: 150, Prefixes: []string{cluster1}}}
		}
		r.Neighbors = append(r.Neighbors, nb)
		for _, p := range prefixes {
			all[p] = true
		}
	}
	r.Prefixes = slices.Sorted(maps.Keys(all))
	return withBFD(nodeConfig(name, r))
}

func sharedLayout(t *testing.T, configs ...frrv1beta1.FRRConfiguration) layout.Layout {
	t.Helper()
	l, err := layout.Compute(configs, layout.Options{Kind: layout.Shared, MinSharedEntries: 1, NamePrefix: "frrgen-"})
	if err != nil {
		t.Fatal(err)
	}
	checkSameEffective(t, configs, l, layout.DefaultMaxObjectBytes)
	return l
}

// TestShared: node-a and node-b (rack 1, neighbor tor1) share the cluster
// prefixes; node-a's local prefix and node-c (alone behind tor2) stay in
// their own objects, which keep every session and the BFD profile.
func TestShared(t *testing.T) {
	a := node("node-a", map[string][]string{tor1: {cluster1, cluster2, localA}})
	b := node("node-b", map[string][]string{tor1: {cluster1, cluster2}})
	c := node("node-c", map[string][]string{tor2: {cluster1, cluster2}})
	got := sharedLayout(t, a, b, c)

	sharedPart := node("node-a", map[string][]string{tor1: {cluster1, cluster2}})
	sharedPart.Name = "frrgen-shared-fccc1d21d7"
	sharedPart.Annotations = map[string]string{layout.AnnotationNodes: "node-a,node-b"}
	sharedPart.Spec.NodeSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: hostnameLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"node-a", "node-b"}}}}
	want := layout.Layout{
		PerNode: map[string][]frrv1beta1.FRRConfiguration{
			"node-a": {node("node-a", map[string][]string{tor1: {localA}})},
			"node-b": {node("node-b", map[string][]string{tor1: nil})},
			"node-c": {c},
		},
		Shared: []layout.SharedGroup{{Nodes: []string{"node-a", "node-b"}, Configs: []frrv1beta1.FRRConfiguration{sharedPart}}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(layout.Layout{}, "Sizes")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	objects, bytes := got.NodeStats("node-a")
	if wantBytes := got.Sizes["frrgen-node-a"] + got.Sizes[sharedPart.Name]; objects != 2 || bytes != wantBytes || bytes == 0 {
		t.Errorf("NodeStats(node-a) = %d objects, %d bytes; want 2 objects, %d bytes", objects, bytes, wantBytes)
	}
}

// TestSharedMembership: a group is named after its neighbors, so a node
// joining or leaving it rewrites that object's selector, not its name; a
// node with less than the others splits off a second group (named with its
// members too) and the biggest keeps the name.
func TestSharedMembership(t *testing.T) {
	a := node("node-a", map[string][]string{tor1: {cluster1, cluster2}})
	b := node("node-b", map[string][]string{tor1: {cluster1, cluster2}})
	d := node("node-d", map[string][]string{tor1: {cluster1, cluster2}})
	partial := node("node-d", map[string][]string{tor1: {cluster1}})
	names := func(l layout.Layout) map[string]string {
		out := map[string]string{}
		for _, g := range l.Shared {
			out[strings.Join(g.Nodes, ",")] = g.Configs[0].Name
		}
		return out
	}
	before := names(sharedLayout(t, a, b))
	name := before["node-a,node-b"]
	if name == "" {
		t.Fatalf("no group of node-a and node-b: %v", before)
	}
	if got := names(sharedLayout(t, a, b, d)); got["node-a,node-b,node-d"] != name || len(got) != 1 {
		t.Errorf("node-d joins: groups %v, want only node-a,node-b,node-d named %s", got, name)
	}
	got := names(sharedLayout(t, a, b, partial))
	if got["node-a,node-b,node-d"] != name || got["node-a,node-b"] == "" || got["node-a,node-b"] == name {
		t.Errorf("node-d joins with only %s: groups %v, want node-a,node-b,node-d named %s and node-a,node-b named otherwise", cluster1, got, name)
	}
	if got := names(sharedLayout(t, a)); len(got) != 0 {
		t.Errorf("one node left: groups %v, want none (a group needs two nodes)", got)
	}
}

// TestSharedMinEntries: a common part smaller than MinSharedEntries stays
// in the per-node objects.
func TestSharedMinEntries(t *testing.T) {
	a := node("node-a", map[string][]string{tor1: {cluster1, cluster2}})
	b := node("node-b", map[string][]string{tor1: {cluster1, cluster2}})
	for _, tc := range []struct{ min, groups int }{{2, 1}, {3, 0}} {
		l, err := layout.Compute([]frrv1beta1.FRRConfiguration{a, b}, layout.Options{Kind: layout.Shared, MinSharedEntries: tc.min})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Shared) != tc.groups {
			t.Errorf("MinSharedEntries %d: %d groups, want %d", tc.min, len(l.Shared), tc.groups)
		}
		checkSameEffective(t, []frrv1beta1.FRRConfiguration{a, b}, l, layout.DefaultMaxObjectBytes)
	}
}

// TestSharedDifferentSessions: two nodes reaching the same address with
// different session fields (each rack's ToR at one address, another ASN)
// share nothing: frr-k8s would refuse the neighbor twice with two ASNs.
func TestSharedDifferentSessions(t *testing.T) {
	a := node("node-a", map[string][]string{tor1: {cluster1}})
	b := node("node-b", map[string][]string{tor1: {cluster1}})
	b.Spec.BGP.Routers[0].Neighbors[0].ASN = 65099
	l := sharedLayout(t, a, b)
	if len(l.Shared) != 0 {
		t.Errorf("groups %v, want none", l.Shared)
	}
}

// TestSharedClasses: nodes with the same BGP section are laid out once (one
// class) and each gets its own object with its own metadata; a node that
// differs only in a session field outside the class digest is a class of
// its own and keeps that field.
func TestSharedClasses(t *testing.T) {
	prefixes := map[string][]string{tor1: {cluster1, cluster2}, tor2: {cluster1}}
	a, b, c := node("node-a", prefixes), node("node-b", prefixes), node("node-c", prefixes)
	c.Spec.BGP.Routers[0].Neighbors[1].Port = ptr.To[uint16](1790)
	l := sharedLayout(t, a, b, c)
	var groups [][]string
	for _, g := range l.Shared {
		groups = append(groups, g.Nodes)
	}
	slices.SortFunc(groups, func(x, y []string) int { return len(y) - len(x) })
	// towards tor1 all three; towards tor2 node-c's session differs
	if want := [][]string{{"node-a", "node-b", "node-c"}, {"node-a", "node-b"}}; !cmp.Equal(groups, want) {
		t.Fatalf("shared groups of %v, want %v", groups, want)
	}
	for _, name := range []string{"node-a", "node-b", "node-c"} {
		own := l.PerNode[name]
		if len(own) != 1 || own[0].Name != "frrgen-"+name || nodeOf(&own[0]) != name ||
			own[0].Spec.NodeSelector.MatchLabels[hostnameLabel] != name {
			t.Errorf("%s: own objects %+v, want one with its name, annotation and selector", name, own)
		}
	}
	if port := l.PerNode["node-c"][0].Spec.BGP.Routers[0].Neighbors[1].Port; port == nil || *port != 1790 {
		t.Errorf("node-c's second neighbor has port %v, want its own 1790", port)
	}
	if port := l.PerNode["node-b"][0].Spec.BGP.Routers[0].Neighbors[1].Port; port == nil || *port == 1790 {
		t.Errorf("node-b's second neighbor has port %v, want its own (not node-c's 1790)", port)
	}
	// The own parts of a class are copies: editing one leaves the others.
	l.PerNode["node-a"][0].Spec.BGP.Routers[0].Neighbors[0].Address = "edited"
	if got := l.PerNode["node-b"][0].Spec.BGP.Routers[0].Neighbors[0].Address; got == "edited" {
		t.Error("node-b's own object shares memory with node-a's")
	}
}

func TestComputeErrors(t *testing.T) {
	a := node("node-a", map[string][]string{tor1: {cluster1}})
	// big's first shard and the object of a node named after it.
	big := renamed(randomConfig(rand.New(rand.NewPCG(1, 2)), "node-big", 100), "frrgen-big")
	size, _ := layout.Size(&big)
	shards, err := layout.Split(big, size-1)
	if err != nil {
		t.Fatal(err)
	}
	collide := node(strings.TrimPrefix(shards[0].Name, "frrgen-"), map[string][]string{tor1: {cluster1}})
	noNode := *a.DeepCopy()
	delete(noNode.Annotations, translate.AnnotationNode)
	otherSelector := *a.DeepCopy()
	otherSelector.Spec.NodeSelector.MatchLabels["rack"] = "1"
	for _, tc := range []struct {
		name    string
		configs []frrv1beta1.FRRConfiguration
		o       layout.Options
		want    string
	}{
		{"unknown kind", []frrv1beta1.FRRConfiguration{a}, layout.Options{Kind: "racks"}, `unknown layout "racks"`},
		{"negative size", []frrv1beta1.FRRConfiguration{a}, layout.Options{MaxObjectBytes: -1}, "--max-object-bytes must be positive, not -1"},
		{"no node annotation", []frrv1beta1.FRRConfiguration{noNode}, layout.Options{}, "FRRConfiguration frrgen-node-a has no frrgen.io/node annotation"},
		{"selector not by hostname", []frrv1beta1.FRRConfiguration{otherSelector}, layout.Options{Kind: layout.Shared}, "needs a nodeSelector of exactly matchLabels kubernetes.io/hostname"},
		{"names collide", []frrv1beta1.FRRConfiguration{big, collide}, layout.Options{MaxObjectBytes: size - 1},
			fmt.Sprintf("two FRRConfigurations would be named %s: one for node %s, one for node node-big", shards[0].Name, nodeOf(&collide))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := layout.Compute(tc.configs, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func renamed(c frrv1beta1.FRRConfiguration, name string) frrv1beta1.FRRConfiguration {
	c.Name = name
	return c
}

// TestLayoutsOnGoldens: on every translate golden, both layouts (shards
// forced: 2 and 4 per object) give every node the effective configuration
// of its per-node object.
func TestLayoutsOnGoldens(t *testing.T) {
	for name, configs := range goldenConfigs(t) {
		t.Run(name, func(t *testing.T) {
			for _, kind := range layout.Kinds {
				l, err := layout.Compute(configs, layout.Options{Kind: kind, MinSharedEntries: 1, NamePrefix: "frrgen-"})
				if err != nil {
					t.Fatal(err)
				}
				checkSameEffective(t, configs, l, layout.DefaultMaxObjectBytes)
				for _, b := range []int{1, 2} {
					checkSameEffective(t, configs, forceShards(l, b), layout.DefaultMaxObjectBytes)
				}
			}
		})
	}
}

// forceShards splits every object of l into 2^b shards.
func forceShards(l layout.Layout, b int) layout.Layout {
	out := layout.Layout{PerNode: map[string][]frrv1beta1.FRRConfiguration{}}
	for n, configs := range l.PerNode {
		for i := range configs {
			out.PerNode[n] = append(out.PerNode[n], layout.Shards(&configs[i], b)...)
		}
	}
	for _, g := range l.Shared {
		split := layout.SharedGroup{Nodes: g.Nodes}
		for i := range g.Configs {
			split.Configs = append(split.Configs, layout.Shards(&g.Configs[i], b)...)
		}
		out.Shared = append(out.Shared, split)
	}
	return out
}

// TestSharedProperty: random clusters whose nodes have some neighbors of a
// pool, common prefixes and their own, sometimes a different localPref;
// the shared layout (shards forced by a small threshold) gives each node its
// per-node effective configuration, and the layout is deterministic.
func TestSharedProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for iter := range 60 {
		configs := randomCluster(rng, 2+rng.IntN(6))
		o := layout.Options{Kind: layout.Shared, MinSharedEntries: 1 + rng.IntN(4), MaxObjectBytes: 2500 + rng.IntN(8000), NamePrefix: "frrgen-"}
		l, err := layout.Compute(configs, o)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		checkSameEffective(t, configs, l, o.MaxObjectBytes)
		shuffled := slices.Clone(configs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := layout.Compute(shuffled, o)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(l, again); diff != "" {
			t.Fatalf("iteration %d: the layout depends on the input order:\n%s", iter, diff)
		}
		if t.Failed() {
			t.Fatalf("iteration %d failed", iter)
		}
	}
}

func randomCluster(rng *rand.Rand, nodes int) []frrv1beta1.FRRConfiguration {
	addresses := []string{tor1, tor2, "172.30.0.3"}
	common := map[string][]string{}
	for _, a := range addresses {
		for k := range rng.IntN(40) {
			common[a] = append(common[a], fmt.Sprintf("10.1.%d.%d/32", k/256, k%256))
		}
	}
	var out []frrv1beta1.FRRConfiguration
	var neighborsOf []map[string][]string
	for i := range nodes {
		if i > 0 && rng.IntN(3) == 0 {
			// Like an earlier node (the same class), its own session
			// fields now and then.
			like := neighborsOf[rng.IntN(i)]
			neighborsOf = append(neighborsOf, like)
			c := node(fmt.Sprintf("node-%d", i), like)
			if rng.IntN(3) == 0 {
				c.Spec.BGP.Routers[0].Neighbors[0].Port = ptr.To[uint16](1790)
			}
			out = append(out, c)
			continue
		}
		neighbors := map[string][]string{}
		for _, a := range addresses {
			if rng.IntN(3) == 0 {
				continue
			}
			var prefixes []string
			for _, p := range common[a] {
				if rng.IntN(10) > 0 {
					prefixes = append(prefixes, p)
				}
			}
			for k := range rng.IntN(5) {
				prefixes = append(prefixes, fmt.Sprintf("10.2.%d.%d/32", i, k))
			}
			if rng.IntN(4) == 0 {
				prefixes = append(prefixes, cluster1) // with localPref 150
			}
			neighbors[a] = prefixes
		}
		if len(neighbors) == 0 {
			neighbors[tor1] = nil
		}
		neighborsOf = append(neighborsOf, neighbors)
		out = append(out, node(fmt.Sprintf("node-%d", i), neighbors))
	}
	return out
}

// TestOneServiceRewritesOneShard: removing one ETP-Cluster service (its /24
// stays) rewrites exactly one shard per node in the per-node layout, and one
// shard per rack group and no node's own object in the shared layout.
func TestOneServiceRewritesOneShard(t *testing.T) {
	base := rackSnapshot(6, 2, 2, 600, 3)
	removed := base
	removed.Services, removed.EndpointSlices = base.Services[1:], base.EndpointSlices[1:]
	before, after := build(t, base), build(t, removed)
	for _, tc := range []struct {
		kind        layout.Kind
		wantObjects int
	}{{layout.PerNode, 6}, {layout.Shared, 2}} {
		o := layout.Options{Kind: tc.kind, MaxObjectBytes: 16 << 10, NamePrefix: "frrgen-"}
		l0, l1 := mustCompute(t, before, o), mustCompute(t, after, o)
		if n := len(l1.Objects()); n < 2*tc.wantObjects {
			t.Fatalf("%s: only %d objects; the test needs several shards per object", tc.kind, n)
		}
		if w := changes(t, l0, l1); w.objects != tc.wantObjects {
			t.Errorf("%s layout: %d objects rewritten, want %d", tc.kind, w.objects, tc.wantObjects)
		}
		checkSameEffective(t, after, l1, o.MaxObjectBytes)
	}
}

// TestJoin: joining the objects that select a node, in either layout and
// split or not, gives back exactly translate's per-node configuration (so
// Join's list order is translate's), on every golden and a generated
// cluster with ETP-Local services.
func TestJoin(t *testing.T) {
	clusters := goldenConfigs(t)
	clusters["generated"] = build(t, rackSnapshot(6, 2, 2, 300, 3))
	for name, configs := range clusters {
		for _, kind := range layout.Kinds {
			l := mustCompute(t, configs, layout.Options{Kind: kind, MinSharedEntries: 1, NamePrefix: "frrgen-"})
			for _, split := range []layout.Layout{l, forceShards(l, 2)} {
				for _, c := range configs {
					if diff := cmp.Diff(c, layout.Join(c, split.ForNode(nodeOf(&c)))); diff != "" {
						t.Errorf("%s, %s layout, node %s: Join differs from the per-node configuration (-want +got):\n%s", name, kind, nodeOf(&c), diff)
					}
				}
			}
		}
	}
}

// TestSharedDefaultLimitGrowsWithGroup: a shared object names every node of
// its group in its metadata and selector. With no limit given, a group of
// 500 nodes with long names still gets a layout (its limit grows with what
// every shard repeats); an explicit 32 KiB limit is refused by name.
func TestSharedDefaultLimitGrowsWithGroup(t *testing.T) {
	var prefixes []string
	for k := range 200 {
		prefixes = append(prefixes, fmt.Sprintf("10.3.%d.%d/32", k/256, k%256))
	}
	var configs []frrv1beta1.FRRConfiguration
	for i := range 500 {
		configs = append(configs, node(fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", i/256, i%256), map[string][]string{tor1: prefixes}))
	}
	l, err := layout.Compute(configs, layout.Options{Kind: layout.Shared, NamePrefix: "frrgen-"})
	if err != nil {
		t.Fatalf("default limit: %v", err)
	}
	if len(l.Shared) != 1 || len(l.Shared[0].Nodes) != 500 {
		t.Fatalf("%d shared groups, want one of 500 nodes", len(l.Shared))
	}
	for _, c := range l.Shared[0].Configs {
		if size := l.Sizes[c.Name]; size <= layout.DefaultSharedMaxObjectBytes || size > layout.DefaultMaxObjectBytes {
			t.Errorf("%s is %d bytes, want more than the 32 KiB default (its node list alone is more) and at most 512 KiB", c.Name, size)
		}
	}
	checkSameEffective(t, configs[:3], layout.Layout{PerNode: map[string][]frrv1beta1.FRRConfiguration{
		nodeOf(&configs[0]): l.PerNode[nodeOf(&configs[0])], nodeOf(&configs[1]): l.PerNode[nodeOf(&configs[1])], nodeOf(&configs[2]): l.PerNode[nodeOf(&configs[2])],
	}, Shared: l.Shared}, layout.DefaultMaxObjectBytes)

	_, err = layout.Compute(configs, layout.Options{Kind: layout.Shared, NamePrefix: "frrgen-", MaxObjectBytes: layout.DefaultSharedMaxObjectBytes})
	if err == nil || !strings.Contains(err.Error(), "does not fit in --max-object-bytes 32768") {
		t.Errorf("explicit 32 KiB: %v, want the object refused naming the limit", err)
	}
}
