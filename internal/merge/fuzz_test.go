package merge

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"sigs.k8s.io/yaml"
)

// FuzzForNode feeds arbitrary FRRConfiguration YAML (documents separated by
// "---"): ForNode must not panic, must be deterministic and must not depend
// on the order of its input.
func FuzzForNode(f *testing.F) {
	for _, tc := range slices.Concat(selectionCases, validationCases, routerCases, neighborCases, unionCases) {
		f.Add(tc.configs)
	}
	f.Fuzz(func(t *testing.T, docs string) {
		var configs []frrv1beta1.FRRConfiguration
		for _, doc := range strings.Split(docs, "\n---\n") {
			var c frrv1beta1.FRRConfiguration
			if yaml.Unmarshal([]byte(doc), &c) != nil {
				return
			}
			configs = append(configs, c)
		}
		want := forNode(configs)
		again := forNode(configs)
		if diff := cmp.Diff(want, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("not deterministic:\n%s", diff)
		}
		slices.Reverse(configs)
		if diff := cmp.Diff(want, forNode(configs), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("depends on input order:\n%s", diff)
		}
	})
}

// FuzzGeneratedConfigs explores the generator's seeds: merge(A, A) == A
// for valid configs, and order independence for any.
func FuzzGeneratedConfigs(f *testing.F) {
	f.Add(uint64(1), false)
	f.Add(uint64(2), true)
	f.Fuzz(func(t *testing.T, seed uint64, compatible bool) {
		r := rand.New(rand.NewPCG(seed, 4))
		configs := randomConfigs(r, compatible)
		want := forNode(configs)
		shuffled := slices.Clone(configs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := inOrder(shuffled); (got.Conflict == nil) != (want.Conflict == nil) {
			t.Fatalf("conflict in one order only: %v vs %v", want.Conflict, got.Conflict)
		}
		a := configs[0]
		alone := forNode([]frrv1beta1.FRRConfiguration{a})
		if alone.Conflict != nil {
			return
		}
		copyOfA := *a.DeepCopy()
		copyOfA.Name = "copy"
		twice := forNode([]frrv1beta1.FRRConfiguration{a, copyOfA})
		if diff := cmp.Diff(alone, twice, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Effective{}, "Configs", "RawConfig")); diff != "" {
			t.Fatalf("merge(A, A) != A:\n%s", diff)
		}
	})
}
