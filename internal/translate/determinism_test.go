package translate_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/translate"
)

// shuffled returns a copy of s with every list in another order.
func shuffled(s translate.Snapshot, rng *rand.Rand) translate.Snapshot {
	shuffle := func(n int, swap func(i, j int)) { rng.Shuffle(n, swap) }
	out := translate.Snapshot{
		Pools:          append(s.Pools[:0:0], s.Pools...),
		Peers:          append(s.Peers[:0:0], s.Peers...),
		Advertisements: append(s.Advertisements[:0:0], s.Advertisements...),
		Communities:    append(s.Communities[:0:0], s.Communities...),
		BFDProfiles:    append(s.BFDProfiles[:0:0], s.BFDProfiles...),
		Nodes:          append(s.Nodes[:0:0], s.Nodes...),
		Services:       append(s.Services[:0:0], s.Services...),
		EndpointSlices: append(s.EndpointSlices[:0:0], s.EndpointSlices...),
		Secrets:        append(s.Secrets[:0:0], s.Secrets...),
	}
	shuffle(len(out.Pools), func(i, j int) { out.Pools[i], out.Pools[j] = out.Pools[j], out.Pools[i] })
	shuffle(len(out.Peers), func(i, j int) { out.Peers[i], out.Peers[j] = out.Peers[j], out.Peers[i] })
	shuffle(len(out.Advertisements), func(i, j int) {
		out.Advertisements[i], out.Advertisements[j] = out.Advertisements[j], out.Advertisements[i]
	})
	shuffle(len(out.Communities), func(i, j int) { out.Communities[i], out.Communities[j] = out.Communities[j], out.Communities[i] })
	shuffle(len(out.BFDProfiles), func(i, j int) { out.BFDProfiles[i], out.BFDProfiles[j] = out.BFDProfiles[j], out.BFDProfiles[i] })
	shuffle(len(out.Nodes), func(i, j int) { out.Nodes[i], out.Nodes[j] = out.Nodes[j], out.Nodes[i] })
	shuffle(len(out.Services), func(i, j int) { out.Services[i], out.Services[j] = out.Services[j], out.Services[i] })
	shuffle(len(out.EndpointSlices), func(i, j int) {
		out.EndpointSlices[i], out.EndpointSlices[j] = out.EndpointSlices[j], out.EndpointSlices[i]
	})
	shuffle(len(out.Secrets), func(i, j int) { out.Secrets[i], out.Secrets[j] = out.Secrets[j], out.Secrets[i] })
	return out
}

// TestDeterministic renders every golden input in many shuffled orders and
// expects the same bytes, and checks that Build leaves its input untouched.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs, o := loadCase(t, dir)
			snap := objs.Snapshot()
			before, _ := loadCase(t, dir)
			want := renderGolden(t, translate.Build(snap, o))
			for range 20 {
				got := renderGolden(t, translate.Build(shuffled(snap, rng), o))
				if !bytes.Equal(got, want) {
					t.Fatalf("output depends on input order:\n%s", cmp.Diff(string(want), string(got)))
				}
			}
			if diff := cmp.Diff(before.Snapshot(), snap); diff != "" {
				t.Errorf("Build modified its input:\n%s", diff)
			}
		})
	}
}

// FuzzBuild feeds mutated golden inputs to Build: it must not panic, must be
// deterministic under reordering, and every configuration it returns must
// pass frr-k8s's per-config rules.
func FuzzBuild(f *testing.F) {
	for _, dir := range caseDirs(f) {
		raw, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, uint64(1))
	}
	o := testOptions()
	f.Fuzz(func(t *testing.T, input []byte, seed uint64) {
		objs := &manifest.Objects{}
		if err := objs.Read("fuzz", bytes.NewReader(input)); err != nil {
			return // not a manifest: nothing to translate
		}
		objs.DefaultNamespaces(ns, "frr-k8s-system")
		snap := objs.Snapshot()
		r := translate.Build(snap, o)
		checkFRRK8sRules(t, r)
		checkBlastRadius(t, snap, o, r)
		again := translate.Build(shuffled(snap, rand.New(rand.NewPCG(seed, seed))), o)
		if a, b := renderGolden(t, r), renderGolden(t, again); !bytes.Equal(a, b) {
			t.Fatalf("output depends on input order:\n%s", cmp.Diff(string(a), string(b)))
		}
	})
}

// TestBuildLeavesSnapshot: Build only reads its input. The controller relies
// on it to hand Build the informer cache's objects without copying them.
func TestBuildLeavesSnapshot(t *testing.T) {
	for _, dir := range caseDirs(t) {
		objs, o := loadCase(t, dir)
		s := objs.Snapshot()
		before := deepCopySnapshot(s)
		translate.Build(s, o)
		if diff := cmp.Diff(before, s); diff != "" {
			t.Errorf("%s: Build modified its snapshot (-before +after):\n%s", dir, diff)
		}
	}
	s := validSnapshot()
	before := deepCopySnapshot(s)
	translate.Build(s, testOptions())
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("Build modified its snapshot (-before +after):\n%s", diff)
	}
}

func deepCopySnapshot(s translate.Snapshot) translate.Snapshot {
	return translate.Snapshot{
		Pools: deepCopies(s.Pools), Peers: deepCopies(s.Peers), Advertisements: deepCopies(s.Advertisements),
		Communities: deepCopies(s.Communities), BFDProfiles: deepCopies(s.BFDProfiles), Nodes: deepCopies(s.Nodes),
		Services: deepCopies(s.Services), EndpointSlices: deepCopies(s.EndpointSlices), Secrets: deepCopies(s.Secrets),
	}
}

// deepCopies copies every object of in (its generated DeepCopy).
func deepCopies[T any, P interface {
	*T
	DeepCopy() *T
}](in []T) []T {
	var out []T
	for i := range in {
		out = append(out, *P(&in[i]).DeepCopy())
	}
	return out
}
