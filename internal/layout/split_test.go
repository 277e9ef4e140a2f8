package layout_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// TestPrefixBucketIsPinned pins the hash: changing it would move every
// prefix and rewrite every shard of every node on upgrade.
func TestPrefixBucketIsPinned(t *testing.T) {
	want := map[string][3]int{ // buckets for b = 1, 2, 4
		"10.0.0.1/32":     {0, 0, 4},
		"10.0.0.2/32":     {1, 1, 9},
		"10.0.0.3/32":     {0, 0, 0},
		"10.0.0.0/24":     {1, 1, 5},
		"2001:db8::1/128": {0, 2, 2},
		"2001:db8::/64":   {1, 3, 15},
	}
	for p, w := range want {
		got := [3]int{layout.PrefixBucket(p, 1), layout.PrefixBucket(p, 2), layout.PrefixBucket(p, 4)}
		if got != w {
			t.Errorf("PrefixBucket(%s, 1/2/4) = %v, want %v", p, got, w)
		}
	}
}

// TestPrefixBucketNests: with one bit more, bucket i splits into i and
// i+2^b, so growing the shard count splits each shard in two.
func TestPrefixBucketNests(t *testing.T) {
	for i := range 2000 {
		p := fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		for b := range 9 {
			if got, want := layout.PrefixBucket(p, b+1)&(1<<b-1), layout.PrefixBucket(p, b); got != want {
				t.Fatalf("%s: bucket %d at b=%d does not nest in bucket %d at b=%d", p, got, b+1, want, b)
			}
		}
	}
}

func port(p uint16) *uint16 { return &p }

func u32(v uint32) *uint32 { return &v }

// neighbor is a neighbor of ours: filtered lists, port set, as translate
// writes it.
func neighbor(address string, bfd string, allowed ...string) frrv1beta1.Neighbor {
	return frrv1beta1.Neighbor{Address: address, ASN: 64513, Port: port(179), BFDProfile: bfd,
		HoldTime: &metav1.Duration{Duration: 90e9}, KeepaliveTime: &metav1.Duration{Duration: 30e9},
		ToAdvertise: frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Mode: frrv1beta1.AllowRestricted, Prefixes: allowed}},
		ToReceive:   frrv1beta1.Receive{Allowed: frrv1beta1.AllowedInPrefixes{Mode: frrv1beta1.AllowRestricted}},
	}
}

func nodeConfig(node string, routers ...frrv1beta1.Router) frrv1beta1.FRRConfiguration {
	return frrv1beta1.FRRConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: frrv1beta1.GroupVersion.String(), Kind: "FRRConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: "frrgen-" + node, Namespace: frrK8sNamespace,
			Labels:      map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
			Annotations: map[string]string{translate.AnnotationNode: node}},
		Spec: frrv1beta1.FRRConfigurationSpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{hostnameLabel: node}},
			BGP:          frrv1beta1.BGPConfig{Routers: routers},
		},
	}
}

func withBFD(c frrv1beta1.FRRConfiguration) frrv1beta1.FRRConfiguration {
	c.Spec.BGP.BFDProfiles = []frrv1beta1.BFDProfile{{Name: "fast", ReceiveInterval: u32(300), EchoMode: new(bool), PassiveMode: new(bool)}}
	return c
}

func shardMeta(c frrv1beta1.FRRConfiguration, i, n int) frrv1beta1.FRRConfiguration {
	c.Name = fmt.Sprintf("%s-shard-%d-of-%d", c.Name, i, n)
	c.Annotations = map[string]string{translate.AnnotationNode: "node-a", layout.AnnotationShard: fmt.Sprintf("%d/%d", i, n), layout.AnnotationShardOf: "frrgen-node-a"}
	return c
}

// TestShards: each prefix goes, with all its entries, to its hash bucket
// (10.0.0.1/32 to 0, 10.0.0.2/32 and 10.0.0.0/24 to 1: TestPrefixBucketIsPinned);
// every shard repeats the router, both neighbors and the BFD profile.
func TestShards(t *testing.T) {
	const agg, host1, host2 = "10.0.0.0/24", "10.0.0.1/32", "10.0.0.2/32"
	tor := neighbor("172.30.0.1", "fast", agg, host1, host2)
	tor.ToAdvertise.PrefixesWithLocalPref = []frrv1beta1.LocalPrefPrefixes{{LocalPref: 150, Prefixes: []string{host1, host2}}}
	tor.ToAdvertise.PrefixesWithCommunity = []frrv1beta1.CommunityPrefixes{
		{Community: "64512:1", Prefixes: []string{agg}},
		{Community: "65535:65282", Prefixes: []string{host1, host2}},
	}
	cfg := withBFD(nodeConfig("node-a", frrv1beta1.Router{ASN: 64512, ID: "10.1.1.1",
		Prefixes:  []string{agg, host1, host2},
		Neighbors: []frrv1beta1.Neighbor{tor, neighbor("172.30.0.2", "", agg)}}))

	tor0 := neighbor("172.30.0.1", "fast", host1)
	tor0.ToAdvertise.PrefixesWithLocalPref = []frrv1beta1.LocalPrefPrefixes{{LocalPref: 150, Prefixes: []string{host1}}}
	tor0.ToAdvertise.PrefixesWithCommunity = []frrv1beta1.CommunityPrefixes{{Community: "65535:65282", Prefixes: []string{host1}}}
	tor1 := neighbor("172.30.0.1", "fast", agg, host2)
	tor1.ToAdvertise.PrefixesWithLocalPref = []frrv1beta1.LocalPrefPrefixes{{LocalPref: 150, Prefixes: []string{host2}}}
	tor1.ToAdvertise.PrefixesWithCommunity = []frrv1beta1.CommunityPrefixes{
		{Community: "64512:1", Prefixes: []string{agg}},
		{Community: "65535:65282", Prefixes: []string{host2}},
	}
	want := []frrv1beta1.FRRConfiguration{
		shardMeta(withBFD(nodeConfig("node-a", frrv1beta1.Router{ASN: 64512, ID: "10.1.1.1", Prefixes: []string{host1},
			Neighbors: []frrv1beta1.Neighbor{tor0, neighbor("172.30.0.2", "")}})), 0, 2),
		shardMeta(withBFD(nodeConfig("node-a", frrv1beta1.Router{ASN: 64512, ID: "10.1.1.1", Prefixes: []string{agg, host2},
			Neighbors: []frrv1beta1.Neighbor{tor1, neighbor("172.30.0.2", "", agg)}})), 1, 2),
	}
	if diff := cmp.Diff(want, layout.Shards(&cfg, 1)); diff != "" {
		t.Errorf("Shards(cfg, 1) (-want +got):\n%s", diff)
	}
	checkSameEffective(t, []frrv1beta1.FRRConfiguration{cfg}, layout.Layout{PerNode: map[string][]frrv1beta1.FRRConfiguration{"node-a": layout.Shards(&cfg, 1)}}, 1<<20)
}

func TestSplit(t *testing.T) {
	cfg := randomConfig(rand.New(rand.NewPCG(1, 2)), "node-a", 200)
	size, err := layout.Size(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("fits: unchanged", func(t *testing.T) {
		got, err := layout.Split(cfg, size)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]frrv1beta1.FRRConfiguration{cfg}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("one byte over: the fewest shards that fit", func(t *testing.T) {
		got, err := layout.Split(cfg, size-1)
		if err != nil {
			t.Fatal(err)
		}
		n := len(got)
		if n < 2 || n&(n-1) != 0 {
			t.Fatalf("%d shards, want a power of two ≥ 2", n)
		}
		b := len(fmt.Sprintf("%b", n)) - 1
		if b > 1 && fitsIn(t, layout.Shards(&cfg, b-1), size-1) {
			t.Errorf("%d shards, but %d fit", n, n/2)
		}
		for i, s := range got {
			if want := fmt.Sprintf("frrgen-node-a-shard-%d-of-%d", i, n); s.Name != want {
				t.Errorf("shard %d is named %s, want %s", i, s.Name, want)
			}
		}
	})
	t.Run("the sessions alone do not fit", func(t *testing.T) {
		_, err := layout.Split(cfg, 200)
		if err == nil || !strings.Contains(err.Error(), "frrgen-node-a is "+fmt.Sprint(size)+" bytes and does not fit in --max-object-bytes 200") {
			t.Errorf("error %v, want one naming the object, its size and the limit", err)
		}
	})
}

func fitsIn(t *testing.T, configs []frrv1beta1.FRRConfiguration, maxBytes int) bool {
	for i := range configs {
		if s, err := layout.Size(&configs[i]); err != nil || s > maxBytes {
			return false
		}
	}
	return true
}

// TestSplitRefuses what a split cannot preserve, naming the field.
func TestSplitRefuses(t *testing.T) {
	base := nodeConfig("node-a", frrv1beta1.Router{ASN: 64512, Prefixes: []string{"10.0.0.1/32"},
		Neighbors: []frrv1beta1.Neighbor{neighbor("172.30.0.1", "", "10.0.0.1/32")}})
	for _, tc := range []struct {
		name   string
		change func(c *frrv1beta1.FRRConfiguration)
		want   string
	}{
		{"raw config", func(c *frrv1beta1.FRRConfiguration) { c.Spec.Raw.Config = "x" }, "spec.raw.rawConfig"},
		{"imports", func(c *frrv1beta1.FRRConfiguration) {
			c.Spec.BGP.Routers[0].Imports = []frrv1beta1.Import{{VRF: "red"}}
		}, "imports [{red}]"},
		{"mode all", func(c *frrv1beta1.FRRConfiguration) {
			c.Spec.BGP.Routers[0].Neighbors[0].ToAdvertise.Allowed.Mode = frrv1beta1.AllowAll
		}, `neighbor 172.30.0.1 has toAdvertise.allowed.mode "all"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *base.DeepCopy()
			tc.change(&c)
			if _, err := layout.Split(c, 1<<20); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// randomConfig is a node configuration as translate writes them: routers
// in the default VRF and "red", each with 1–3 IPv4 neighbors (some with a
// BFD profile or a password), each advertising a random subset of the
// router's prefixes with localPrefs and communities.
func randomConfig(rng *rand.Rand, node string, prefixes int) frrv1beta1.FRRConfiguration {
	communities := []string{"64512:1", "65535:65282", "large:1:2:3"}
	var routers []frrv1beta1.Router
	for _, vrf := range []string{"", "red"}[:1+rng.IntN(2)] {
		r := frrv1beta1.Router{ASN: 64512, ID: "10.1.1.1", VRF: vrf}
		all := map[string]bool{}
		for ni := range 1 + rng.IntN(3) {
			bfd := ""
			if rng.IntN(2) == 0 {
				bfd = "fast"
			}
			nb := neighbor(fmt.Sprintf("172.30.%d.%d", len(routers), ni+1), bfd)
			if rng.IntN(3) == 0 {
				nb.Password = "secret"
			}
			lp := map[uint32][]string{}
			comm := map[string][]string{}
			for k := range prefixes {
				if rng.IntN(3) == 0 {
					continue
				}
				p := fmt.Sprintf("10.%d.%d.%d/32", k/65536, k/256%256, k%256)
				if k%17 == 0 {
					p = fmt.Sprintf("10.%d.%d.0/24", 100+k/256, k%256)
				}
				nb.ToAdvertise.Allowed.Prefixes = append(nb.ToAdvertise.Allowed.Prefixes, p)
				all[p] = true
				if v := uint32(rng.IntN(3)) * 100; v != 0 {
					lp[v] = append(lp[v], p)
				}
				for _, c := range communities {
					if rng.IntN(3) == 0 {
						comm[c] = append(comm[c], p)
					}
				}
			}
			for _, v := range slices.Sorted(maps.Keys(lp)) {
				nb.ToAdvertise.PrefixesWithLocalPref = append(nb.ToAdvertise.PrefixesWithLocalPref, frrv1beta1.LocalPrefPrefixes{LocalPref: v, Prefixes: lp[v]})
			}
			for _, c := range communities {
				if len(comm[c]) > 0 {
					nb.ToAdvertise.PrefixesWithCommunity = append(nb.ToAdvertise.PrefixesWithCommunity, frrv1beta1.CommunityPrefixes{Community: c, Prefixes: comm[c]})
				}
			}
			r.Neighbors = append(r.Neighbors, nb)
		}
		r.Prefixes = slices.Sorted(maps.Keys(all))
		routers = append(routers, r)
	}
	return withBFD(nodeConfig(node, routers...))
}

// TestSplitProperty: on random configurations, the shards merge into the
// unsplit configuration, each fits, and adding one prefix changes exactly
// the one shard its hash names.
func TestSplitProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := range 80 {
		cfg := randomConfig(rng, "node-a", 20+rng.IntN(200))
		size, err := layout.Size(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		maxBytes := size/(1+rng.IntN(6)) + 1500
		shards, err := layout.Split(cfg, maxBytes)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		checkSameEffective(t, []frrv1beta1.FRRConfiguration{cfg}, layout.Layout{PerNode: map[string][]frrv1beta1.FRRConfiguration{"node-a": shards}}, maxBytes)
		if t.Failed() {
			t.Fatalf("iteration %d failed", iter)
		}

		b := len(fmt.Sprintf("%b", len(shards))) - 1
		grown, added := withOnePrefixMore(rng, cfg)
		before, after := layout.Shards(&cfg, b), layout.Shards(&grown, b)
		var changed []int
		for i := range before {
			if !cmp.Equal(before[i], after[i]) {
				changed = append(changed, i)
			}
		}
		if want := []int{layout.PrefixBucket(added, b)}; !slices.Equal(changed, want) {
			t.Fatalf("iteration %d: adding %s changed shards %v of %d, want exactly %v", iter, added, changed, len(before), want)
		}
	}
}

// withOnePrefixMore adds a new prefix to cfg's first router, advertised to
// a random non-empty set of its neighbors, with a localPref and a community
// towards some.
func withOnePrefixMore(rng *rand.Rand, cfg frrv1beta1.FRRConfiguration) (frrv1beta1.FRRConfiguration, string) {
	out := *cfg.DeepCopy()
	p := fmt.Sprintf("192.0.2.%d/32", rng.IntN(256))
	r := &out.Spec.BGP.Routers[0]
	r.Prefixes = append(r.Prefixes, p)
	for i := range r.Neighbors {
		if i > 0 && rng.IntN(2) == 0 {
			continue
		}
		adv := &r.Neighbors[i].ToAdvertise
		adv.Allowed.Prefixes = append(adv.Allowed.Prefixes, p)
		if len(adv.PrefixesWithCommunity) > 0 && rng.IntN(2) == 0 {
			adv.PrefixesWithCommunity[0].Prefixes = append(adv.PrefixesWithCommunity[0].Prefixes, p)
		}
		if len(adv.PrefixesWithLocalPref) > 0 && rng.IntN(2) == 0 {
			adv.PrefixesWithLocalPref[0].Prefixes = append(adv.PrefixesWithLocalPref[0].Prefixes, p)
		}
	}
	return out, p
}

// TestShardCountChangeIsSafe: when a node's shard count changes (the names
// carry it), the node plan's writes, applied one by one, never leave frr-k8s
// without a prefix that is wanted before and after.
func TestShardCountChangeIsSafe(t *testing.T) {
	cfg := randomConfig(rand.New(rand.NewPCG(5, 8)), "node-a", 300)
	size, err := layout.Size(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	small, err := layout.Split(cfg, size/2)
	if err != nil {
		t.Fatal(err)
	}
	large, err := layout.Split(cfg, size/5)
	if err != nil {
		t.Fatal(err)
	}
	if len(small) == len(large) {
		t.Fatalf("%d shards both ways; the test needs a change of shard count", len(small))
	}
	labels := labelsOf(&cfg)
	for _, step := range []struct {
		name            string
		stored, desired []frrv1beta1.FRRConfiguration
	}{{"grow", []frrv1beta1.FRRConfiguration{cfg}, small}, {"grow again", small, large}, {"shrink", large, small}, {"join", small, []frrv1beta1.FRRConfiguration{cfg}}} {
		plan := nodeplan.Decide(nodeplan.Input{Node: "node-a", NodeLabels: labels, Desired: step.desired, Stored: step.stored})
		if plan.Conflict != nil || len(plan.Writes) == 0 {
			t.Fatalf("%s: plan %+v", step.name, plan)
		}
		want := effective(t, []frrv1beta1.FRRConfiguration{cfg}, labels, nil)
		objects := map[string]frrv1beta1.FRRConfiguration{}
		for _, s := range step.stored {
			objects[s.Name] = s
		}
		for i, w := range plan.Writes {
			if w.Verb == nodeplan.Delete {
				delete(objects, w.Config.Name)
			} else {
				objects[w.Config.Name] = *w.Config
			}
			got := effective(t, slices.Collect(maps.Values(objects)), labels, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: after write %d (%s %s), frr-k8s sees (-want +got):\n%s", step.name, i, w.Verb, w.Config.Name, diff)
			}
		}
	}
}

// TestStoredShardCount: a configuration stored as 2^b shards keeps them
// while it fits in 2^(b-1) but not 2^(b-2), so one service more or less at
// the threshold does not rewrite it whole each time; below that it drops to
// the smallest count.
func TestStoredShardCount(t *testing.T) {
	cfg := randomConfig(rand.New(rand.NewPCG(9, 9)), "node-a", 400)
	size, err := layout.Size(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	count := func(maxBytes int, stored map[string]int) int {
		t.Helper()
		l := mustCompute(t, []frrv1beta1.FRRConfiguration{cfg}, layout.Options{MaxObjectBytes: maxBytes, StoredShards: stored})
		checkSameEffective(t, []frrv1beta1.FRRConfiguration{cfg}, l, maxBytes)
		return len(l.PerNode["node-a"])
	}
	smallest := count(size/3, nil)
	if smallest < 2 {
		t.Fatalf("%d shards; the test needs a split", smallest)
	}
	for _, tc := range []struct {
		name   string
		stored int
		want   int
	}{
		{"stored as the smallest count", smallest, smallest},
		{"stored one doubling above", 2 * smallest, 2 * smallest},
		{"stored two doublings above", 4 * smallest, smallest},
		{"stored below", smallest / 2, smallest},
		{"not a power of two", 3, smallest},
	} {
		if got := count(size/3, map[string]int{"frrgen-node-a": tc.stored}); got != tc.want {
			t.Errorf("%s (%d): %d shards, want %d", tc.name, tc.stored, got, tc.want)
		}
	}
	if got := count(size, map[string]int{"frrgen-node-a": 2}); got != 2 {
		t.Errorf("fits whole, stored as 2 shards: %d objects, want the 2 shards kept", got)
	}
	if got := count(size, map[string]int{"frrgen-node-a": 4}); got != 1 {
		t.Errorf("fits whole, stored as 4 shards: %d objects, want 1", got)
	}
}

// TestShardCounts reads the stored counts back, the larger one while a
// change of count is being written.
func TestShardCounts(t *testing.T) {
	cfg := randomConfig(rand.New(rand.NewPCG(9, 9)), "node-a", 100)
	stored := slices.Concat(layout.Shards(&cfg, 1), layout.Shards(&cfg, 2), []frrv1beta1.FRRConfiguration{nodeConfig("node-b")})
	if diff := cmp.Diff(map[string]int{"frrgen-node-a": 4}, layout.ShardCounts(stored)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
