package translate_test

import (
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// TestBuildSharesNoWritableMemory: nodes with the same peers and services
// share their prefix lists (one list per distinct set, which keeps a build
// at 100 nodes x 5000 services small), the shared lists are clipped so that
// an append copies, and what reads a build downstream (the layouts, the
// merge check, the node plan) leaves it as it was.
func TestBuildSharesNoWritableMemory(t *testing.T) {
	r := translate.Build(benchSnapshot(3, 40), testOptions())
	if len(r.Configs) != 3 {
		t.Fatalf("%d configurations, want 3", len(r.Configs))
	}
	lists := func(c *frrv1beta1.FRRConfiguration) [][]string {
		var out [][]string
		for _, rt := range c.Spec.BGP.Routers {
			out = append(out, rt.Prefixes)
			for _, nb := range rt.Neighbors {
				out = append(out, nb.ToAdvertise.Allowed.Prefixes)
				for _, lp := range nb.ToAdvertise.PrefixesWithLocalPref {
					out = append(out, lp.Prefixes)
				}
				for _, cp := range nb.ToAdvertise.PrefixesWithCommunity {
					out = append(out, cp.Prefixes)
				}
			}
		}
		return out
	}
	first, second := lists(&r.Configs[0]), lists(&r.Configs[1])
	if len(first) != len(second) || len(first) < 4 {
		t.Fatalf("prefix lists: %d and %d, want the same number, at least 4", len(first), len(second))
	}
	for k := range first {
		if len(first[k]) == 0 {
			t.Fatalf("list %d is empty", k)
		}
		if unsafe.SliceData(first[k]) != unsafe.SliceData(second[k]) {
			t.Errorf("list %d: node-0 and node-1 have the same prefixes in separate lists", k)
		}
		if cap(first[k]) != len(first[k]) {
			t.Errorf("list %d: capacity %d past its length %d: an append would write into the shared list", k, cap(first[k]), len(first[k]))
		}
	}

	before := make([]frrv1beta1.FRRConfiguration, len(r.Configs))
	for i := range r.Configs {
		r.Configs[i].DeepCopyInto(&before[i])
	}
	for _, kind := range layout.Kinds {
		if _, err := layout.Compute(r.Configs, layout.Options{Kind: kind, NamePrefix: "frrgen-", MaxObjectBytes: 2000, MinSharedEntries: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range r.Configs {
		labels := r.Configs[i].Spec.NodeSelector.MatchLabels
		merge.CheckAll(r.Configs[i:i+1], r.Configs[:i], labels, nil)
		nodeplan.Decide(nodeplan.Input{Node: r.Configs[i].Name, NodeLabels: labels, Desired: r.Configs[i : i+1], WantEffective: true})
	}
	if diff := cmp.Diff(before, r.Configs); diff != "" {
		t.Errorf("reading the build changed it (-before +after):\n%s", diff)
	}
}
