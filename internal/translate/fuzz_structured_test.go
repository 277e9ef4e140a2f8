package translate_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/frrgen/frrgen/internal/snapshotgen"
	"github.com/frrgen/frrgen/internal/translate"
)

// snapshotFromBytes is the shared generator in the namespace the tests use.
func snapshotFromBytes(data []byte) translate.Snapshot {
	return snapshotgen.FromBytes(data, snapshotgen.Config{Namespace: ns})
}

// FuzzBuildStructured: no panic, order-independent output, and every
// configuration passes frr-k8s's per-config rules, for generated inputs.
func FuzzBuildStructured(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		seed := make([]byte, 96)
		for i := range seed {
			seed[i] = byte(rng.IntN(256))
		}
		f.Add(seed)
	}
	o := testOptions()
	f.Fuzz(func(t *testing.T, data []byte) {
		s := snapshotFromBytes(data)
		r := translate.Build(s, o)
		checkFRRK8sRules(t, r)
		checkBlastRadius(t, s, o, r)
		again := translate.Build(shuffled(s, rand.New(rand.NewPCG(uint64(len(data)), 7))), o)
		if a, b := renderGolden(t, r), renderGolden(t, again); !bytes.Equal(a, b) {
			t.Fatalf("output depends on input order:\n%s", cmp.Diff(string(a), string(b)))
		}
	})
}

// TestStructuredInputsReachOutput guards FuzzBuildStructured's usefulness:
// a good share of generated inputs must be valid and announce something,
// otherwise the rule checks would only ever see empty results.
func TestStructuredInputsReachOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	valid, announcing := 0, 0
	const runs = 300
	for range runs {
		data := make([]byte, 96)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		r := translate.Build(snapshotFromBytes(data), testOptions())
		if !r.Valid {
			continue
		}
		valid++
		for _, c := range r.Configs {
			if len(c.Spec.BGP.Routers) > 0 && len(c.Spec.BGP.Routers[0].Prefixes) > 0 {
				announcing++
				break
			}
		}
	}
	t.Logf("%d/%d valid, %d announcing", valid, runs, announcing)
	if valid < runs/4 || announcing < runs/8 {
		t.Errorf("only %d/%d generated inputs are valid and %d announce; the structured fuzzer explores too little", valid, runs, announcing)
	}
}
