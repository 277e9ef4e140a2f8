package controllers

import (
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// specsEqual reports whether two FRRConfiguration specs mean the same once
// the apiserver's defaults are applied to both. Without the defaults a spec
// we wrote never equals what we read back (MetalLB's perpetual no-op updates).
// equality.Semantic also treats nil and empty slices as equal.
func specsEqual(a, b *frrv1beta1.FRRConfigurationSpec) bool {
	return equality.Semantic.DeepEqual(withAPIDefaults(a), withAPIDefaults(b))
}

// withAPIDefaults returns a copy of spec with the defaults of the frr-k8s
// v0.0.21 CRD filled in: toAdvertise.allowed.mode and toReceive.allowed.mode
// are "filtered" when empty. (disableMP and dualStackAddressFamily default to
// false, which is already Go's zero value.)
func withAPIDefaults(spec *frrv1beta1.FRRConfigurationSpec) *frrv1beta1.FRRConfigurationSpec {
	out := spec.DeepCopy()
	for r := range out.BGP.Routers {
		neighbors := out.BGP.Routers[r].Neighbors
		for n := range neighbors {
			if neighbors[n].ToAdvertise.Allowed.Mode == "" {
				neighbors[n].ToAdvertise.Allowed.Mode = frrv1beta1.AllowRestricted
			}
			if neighbors[n].ToReceive.Allowed.Mode == "" {
				neighbors[n].ToReceive.Allowed.Mode = frrv1beta1.AllowRestricted
			}
		}
	}
	return out
}

// hasAll reports whether every key of want is in have with the same value.
func hasAll(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
