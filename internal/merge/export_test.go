package merge

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
)

// TableCase is a case of TestForNode's table with its inputs parsed, for the
// tests of package merge_test (the differential test against the frr-k8s
// daemon imports testenv, which imports this package through controllers).
type TableCase struct {
	Name    string
	Configs []frrv1beta1.FRRConfiguration
	Labels  map[string]string
	Secrets []corev1.Secret
}

// TestNamespace is the namespace of the table's configs and Secrets.
const TestNamespace = testNamespace

// TableCases returns every case of TestForNode, in the table's order.
func TableCases(t testing.TB) []TableCase {
	var out []TableCase
	for _, tc := range slices.Concat(selectionCases, validationCases, routerCases, neighborCases, unionCases) {
		labels := tc.labels
		if labels == nil {
			labels = node1
		}
		out = append(out, TableCase{Name: tc.name, Configs: parseConfigs(t, tc.configs), Labels: labels, Secrets: tc.secrets})
	}
	return out
}

// RandomCases returns n sets of configs drawn by the property tests'
// generator from fixed seeds, alternately compatible (every must-match value
// agrees) and free (clashes are likely), all for node1.
func RandomCases(n int) []TableCase {
	var out []TableCase
	for seed := range uint64(n) {
		compatible := seed%2 == 0
		r := rand.New(rand.NewPCG(seed, 0xd1ff))
		name := fmt.Sprintf("random configs, seed %d", seed)
		if compatible {
			name = fmt.Sprintf("random compatible configs, seed %d", seed)
		}
		out = append(out, TableCase{Name: name, Configs: randomConfigs(r, compatible), Labels: node1})
	}
	return out
}

// ConflictsInEveryOrder merges configs in every order (they are few) and
// returns each distinct first conflict found, by message. frr-k8s reads
// configs in a random order, so with several clashes any of these may be the
// one it reports.
func ConflictsInEveryOrder(configs []frrv1beta1.FRRConfiguration, nodeLabels map[string]string, secrets []corev1.Secret) []*Conflict {
	var out []*Conflict
	seen := map[string]bool{}
	var permute func(done, rest []frrv1beta1.FRRConfiguration)
	permute = func(done, rest []frrv1beta1.FRRConfiguration) {
		if len(rest) == 0 {
			if _, _, c := mergeInOrder(done, nodeLabels, secrets); c != nil && !seen[c.Message] {
				seen[c.Message] = true
				out = append(out, c)
			}
			return
		}
		for i := range rest {
			next := slices.Concat(rest[:i:i], rest[i+1:])
			permute(append(slices.Clone(done), rest[i]), next)
		}
	}
	permute(nil, configs)
	return out
}
