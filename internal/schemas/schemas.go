// Package schemas decides, from the metallb.io CRDs installed in the
// cluster, whose schemas frrgen runs on: its own (config/crd, standalone) or
// MetalLB's (alongside MetalLB's controller), and so which status frrgen may
// write. It is pure: the controller reads the CRDs and passes them in.
package schemas

import (
	"fmt"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// Choice is the value of --metallb-schemas.
type Choice string

const (
	// Auto runs on whichever schemas are installed.
	Auto Choice = "auto"
	// Frrgen expects frrgen's own CRDs (standalone mode).
	Frrgen Choice = "frrgen"
	// MetalLB expects MetalLB's CRDs (alongside MetalLB).
	MetalLB Choice = "metallb"
)

// owner names whose CRDs a choice stands for.
func (c Choice) owner() string {
	if c == MetalLB {
		return "MetalLB"
	}
	return string(c)
}

// ParseChoice reads a --metallb-schemas value.
func ParseChoice(s string) (Choice, error) {
	switch c := Choice(s); c {
	case Auto, Frrgen, MetalLB:
		return c, nil
	}
	return "", fmt.Errorf("--metallb-schemas must be auto, frrgen or metallb, not %q", s)
}

// MarkerLabel is set on every CRD frrgen ships (see the
// +kubebuilder:metadata marker on the API types); MetalLB's CRDs lack it.
const (
	MarkerLabel = "frrgen.io/schemas"
	MarkerValue = "frrgen"
)

// Names of the CRDs the decision reads: the kinds frrgen reads, by
// translate kind, and MetalLB's visibility kind (v0.15.3 and later).
var inputCRDs = map[string]string{
	translate.KindIPAddressPool:    "ipaddresspools.metallb.io",
	translate.KindBGPAdvertisement: "bgpadvertisements.metallb.io",
	translate.KindCommunity:        "communities.metallb.io",
	translate.KindBFDProfile:       "bfdprofiles.metallb.io",
	translate.KindBGPPeer:          "bgppeers.metallb.io",
}

// ConfigurationStateCRD is MetalLB's status-only kind for configuration
// validity.
const ConfigurationStateCRD = "configurationstates.metallb.io"

// CRDNames are the CRDs Decide wants to see (absent ones are simply not
// passed).
func CRDNames() []string {
	names := []string{ConfigurationStateCRD}
	for _, n := range inputCRDs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CRD is what the decision needs to know about one installed CRD.
type CRD struct {
	Name string
	// Frrgen: the CRD carries MarkerLabel=MarkerValue.
	Frrgen bool
	// StatusConditions: the storage version's schema has
	// status.conditions, so a condition written there is kept.
	StatusConditions bool
}

// Describe summarises an installed CRD.
func Describe(crd *apiextensionsv1.CustomResourceDefinition) CRD {
	d := CRD{Name: crd.Name, Frrgen: crd.Labels[MarkerLabel] == MarkerValue}
	for _, v := range crd.Spec.Versions {
		if !v.Storage || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		status, ok := v.Schema.OpenAPIV3Schema.Properties["status"]
		_, conditions := status.Properties["conditions"]
		d.StatusConditions = ok && conditions
	}
	return d
}

// Decision is what frrgen writes on the schemas it found.
type Decision struct {
	// Schemas is Frrgen or MetalLB.
	Schemas Choice
	// ObjectStatus holds the translate kinds whose status frrgen writes
	// (conditions, counters). A kind without it keeps its status to its
	// owner; frrgen reports on it through Events (and ConfigurationState).
	ObjectStatus map[string]bool
	// ConfigurationState: write MetalLB's ConfigurationState (MetalLB's
	// schemas, with that CRD installed).
	ConfigurationState bool
}

// Summary is the start-up log line's text.
func (d Decision) Summary() string {
	var kinds []string
	for k, ok := range d.ObjectStatus {
		if ok {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	status := "none"
	if len(kinds) > 0 {
		status = strings.Join(kinds, ", ")
	}
	return fmt.Sprintf("running on %s's metallb.io CRDs; status written on: %s; ConfigurationState: %v",
		d.Schemas.owner(), status, d.ConfigurationState)
}

// Standalone is the decision on frrgen's own CRDs: every status is
// frrgen's to write.
func Standalone() Decision {
	d := Decision{Schemas: Frrgen, ObjectStatus: map[string]bool{}}
	for kind := range inputCRDs {
		d.ObjectStatus[kind] = true
	}
	return d
}

// Decide picks the schemas from the installed CRDs (those of CRDNames that
// exist), checks them against choice (--metallb-schemas) and allocate
// (--allocate), and says what frrgen may write there.
func Decide(choice Choice, allocate bool, installed []CRD) (Decision, error) {
	byName := map[string]CRD{}
	for _, c := range installed {
		byName[c.Name] = c
	}
	var missing, ours, theirs []string
	for _, name := range sortedValues(inputCRDs) {
		c, ok := byName[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case c.Frrgen:
			ours = append(ours, name)
		default:
			theirs = append(theirs, name)
		}
	}
	if len(missing) > 0 {
		return Decision{}, fmt.Errorf("CRD(s) %s not installed: apply config/crd (standalone) or install MetalLB", strings.Join(missing, ", "))
	}
	if len(ours) > 0 && len(theirs) > 0 {
		return Decision{}, fmt.Errorf("mixed metallb.io CRDs: %s are frrgen's (label %s=%s), %s are not; install one set, frrgen's (config/crd) or MetalLB's",
			strings.Join(ours, ", "), MarkerLabel, MarkerValue, strings.Join(theirs, ", "))
	}
	found := Frrgen
	if len(theirs) > 0 {
		found = MetalLB
	}
	if choice != Auto && choice != found {
		return Decision{}, fmt.Errorf("--metallb-schemas=%s, but the installed metallb.io CRDs are %s's (%s %s the label %s=%s)",
			choice, found.owner(), inputCRDs[translate.KindIPAddressPool], map[Choice]string{Frrgen: "has", MetalLB: "lacks"}[found], MarkerLabel, MarkerValue)
	}
	if found == Frrgen {
		return Standalone(), nil
	}
	d := Decision{Schemas: MetalLB, ObjectStatus: map[string]bool{}}
	if allocate {
		return Decision{}, fmt.Errorf("--allocate=true on MetalLB's CRDs: MetalLB's controller assigns the Service addresses there; run frrgen with --allocate=false (config/alongside-metallb does)")
	}
	for kind, name := range inputCRDs {
		// MetalLB owns the pool's status (its address counters).
		d.ObjectStatus[kind] = kind != translate.KindIPAddressPool && byName[name].StatusConditions
	}
	_, d.ConfigurationState = byName[ConfigurationStateCRD]
	return d, nil
}

func sortedValues(m map[string]string) []string {
	values := make([]string, 0, len(m))
	for _, v := range m {
		values = append(values, v)
	}
	slices.Sort(values)
	return values
}
