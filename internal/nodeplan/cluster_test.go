package nodeplan_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/nodeplan"
)

// sharedConfig is an object selecting nodes (kubernetes.io/hostname In) with
// config's router and neighbor advertising prefixes.
func sharedConfig(name string, nodes []string, prefixes ...string) frrv1beta1.FRRConfiguration {
	c := config(name, 64512, prefixes...)
	c.Annotations = map[string]string{"frrgen.io/nodes": strings.Join(nodes, ",")}
	c.Spec.NodeSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "kubernetes.io/hostname", Operator: metav1.LabelSelectorOpIn, Values: nodes}}}
	return c
}

func isShared(c *frrv1beta1.FRRConfiguration) bool { return c.Annotations["frrgen.io/nodes"] != "" }

func phases(p nodeplan.Phases) []string {
	var out []string
	for _, phase := range []struct {
		name   string
		writes []nodeplan.Write
	}{{"grow", p.Grow}, {"shrink-per-node", p.ShrinkPerNode}, {"shrink-shared", p.ShrinkShared}, {"delete", p.Delete}} {
		for _, w := range phase.writes {
			out = append(out, fmt.Sprintf("%s: %s %s", phase.name, w.Verb, w.Config.Name))
		}
	}
	return out
}

func TestLayoutWrites(t *testing.T) {
	ab := []string{"node-a", "node-b"}
	abc := []string{"node-a", "node-b", "node-c"}
	own := func(prefixes ...string) frrv1beta1.FRRConfiguration { return config("own-a", 64512, prefixes...) }
	tests := []struct {
		name            string
		stored, desired []frrv1beta1.FRRConfiguration
		want            []string
	}{
		{
			name:    "unchanged: nothing",
			stored:  []frrv1beta1.FRRConfiguration{stored(own("10.0.0.1/32"), "1"), stored(sharedConfig("g", ab, "10.0.0.2/32"), "2")},
			desired: []frrv1beta1.FRRConfiguration{own("10.0.0.1/32"), sharedConfig("g", ab, "10.0.0.2/32")},
		},
		{
			name:    "entries moving from a node's object into a group: the group first",
			stored:  []frrv1beta1.FRRConfiguration{stored(own("10.0.0.1/32", "10.0.0.2/32"), "1"), stored(sharedConfig("g", ab, "10.0.0.3/32"), "2")},
			desired: []frrv1beta1.FRRConfiguration{own("10.0.0.1/32"), sharedConfig("g", ab, "10.0.0.2/32", "10.0.0.3/32")},
			want:    []string{"grow: update g", "shrink-per-node: update own-a"},
		},
		{
			name:    "a node leaving a group takes its entries into its own object first",
			stored:  []frrv1beta1.FRRConfiguration{stored(own(), "1"), stored(sharedConfig("g", abc, "10.0.0.3/32"), "2")},
			desired: []frrv1beta1.FRRConfiguration{own("10.0.0.3/32"), sharedConfig("g", []string{"node-b", "node-c"}, "10.0.0.3/32")},
			want:    []string{"grow: update own-a", "shrink-shared: update g"},
		},
		{
			name:    "entries moving from a group to a new smaller group: create first, then shrink",
			stored:  []frrv1beta1.FRRConfiguration{stored(sharedConfig("g", abc, "10.0.0.3/32", "10.0.0.4/32"), "2")},
			desired: []frrv1beta1.FRRConfiguration{sharedConfig("g", abc, "10.0.0.3/32"), sharedConfig("h", ab, "10.0.0.4/32")},
			want:    []string{"grow: create h", "shrink-shared: update g"},
		},
		{
			name:    "a group no longer in the layout is deleted last",
			stored:  []frrv1beta1.FRRConfiguration{stored(own(), "1"), stored(sharedConfig("g", ab, "10.0.0.3/32"), "2")},
			desired: []frrv1beta1.FRRConfiguration{own("10.0.0.3/32")},
			want:    []string{"grow: update own-a", "delete: delete g"},
		},
		{
			name:    "a changed session is not growth",
			stored:  []frrv1beta1.FRRConfiguration{stored(own("10.0.0.1/32"), "1")},
			desired: []frrv1beta1.FRRConfiguration{config("own-a", 64600, "10.0.0.1/32")},
			want:    []string{"shrink-per-node: update own-a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := phases(nodeplan.LayoutWrites(tt.desired, tt.stored, isShared))
			if !slices.Equal(got, tt.want) {
				t.Errorf("writes\n got %q\nwant %q", got, tt.want)
			}
			if all := nodeplan.LayoutWrites(tt.desired, tt.stored, isShared).All(); len(all) != len(tt.want) {
				t.Errorf("All() has %d writes, want %d", len(all), len(tt.want))
			}
		})
	}
}

func TestCovers(t *testing.T) {
	a := config("x", 64512, "10.0.0.1/32")
	more := config("x", 64512, "10.0.0.1/32", "10.0.0.2/32")
	if !nodeplan.Covers(&more, &a) || nodeplan.Covers(&a, &more) {
		t.Error("more prefixes must cover fewer, not the reverse")
	}
	wider := sharedConfig("x", []string{"node-a", "node-b"}, "10.0.0.1/32")
	narrower := sharedConfig("x", []string{"node-b"}, "10.0.0.1/32")
	if !nodeplan.Covers(&wider, &narrower) || nodeplan.Covers(&narrower, &wider) {
		t.Error("selecting more nodes must cover selecting fewer, not the reverse")
	}
	lp := config("x", 64512, "10.0.0.1/32")
	lp.Spec.BGP.Routers[0].Neighbors[0].ToAdvertise.PrefixesWithLocalPref = []frrv1beta1.LocalPrefPrefixes{{LocalPref: 150, Prefixes: []string{"10.0.0.1/32"}}}
	if nodeplan.Covers(&a, &lp) || !nodeplan.Covers(&lp, &a) {
		t.Error("a localPref entry is content")
	}
}

func TestDecideVerdictOnly(t *testing.T) {
	desired := config("frrgen-node-a", 64512, "10.0.0.1/32")
	in := nodeplan.Input{Node: "node-a", NodeLabels: nodeLabels, Desired: []frrv1beta1.FRRConfiguration{desired}, VerdictOnly: true}
	if plan := nodeplan.Decide(in); len(plan.Writes) != 0 || plan.Conflict != nil {
		t.Errorf("VerdictOnly: writes %v, conflict %v; want neither", plan.Writes, plan.Conflict)
	}
	in.Others = []frrv1beta1.FRRConfiguration{user("theirs", 64600, map[string]string{"rack": "a"})}
	if plan := nodeplan.Decide(in); plan.Conflict == nil || len(plan.Writes) != 0 {
		t.Errorf("VerdictOnly with a clashing user configuration: conflict %v, writes %v; want the conflict alone", plan.Conflict, plan.Writes)
	}
}
