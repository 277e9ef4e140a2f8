package schemas_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/frrgen/frrgen/internal/metallbbin"
	. "github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/testenv"
	"github.com/frrgen/frrgen/internal/translate"
)

func frrgenCRDs() []CRD {
	var out []CRD
	for _, name := range inputNames() {
		out = append(out, CRD{Name: name, Frrgen: true, StatusConditions: true})
	}
	return out
}

// metallbCRDs are MetalLB v0.15.2's: no marker, no status.conditions.
func metallbCRDs(extra ...CRD) []CRD {
	var out []CRD
	for _, name := range inputNames() {
		out = append(out, CRD{Name: name})
	}
	return append(out, extra...)
}

// inputNames are the CRDs of the kinds frrgen reads.
func inputNames() []string {
	var names []string
	for _, n := range CRDNames() {
		if n != ConfigurationStateCRD {
			names = append(names, n)
		}
	}
	return names
}

func without(crds []CRD, name string) []CRD {
	var out []CRD
	for _, c := range crds {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}

func TestDecide(t *testing.T) {
	all := map[string]bool{translate.KindIPAddressPool: true, translate.KindBGPAdvertisement: true,
		translate.KindCommunity: true, translate.KindBFDProfile: true, translate.KindBGPPeer: true}
	none := map[string]bool{translate.KindIPAddressPool: false, translate.KindBGPAdvertisement: false,
		translate.KindCommunity: false, translate.KindBFDProfile: false, translate.KindBGPPeer: false}
	configState := CRD{Name: ConfigurationStateCRD}
	withPeerConditions := metallbCRDs()
	for i := range withPeerConditions {
		withPeerConditions[i].StatusConditions = true
	}
	mixed := append(without(frrgenCRDs(), "bgppeers.metallb.io"), CRD{Name: "bgppeers.metallb.io"})

	cases := []struct {
		name      string
		choice    Choice
		allocate  bool
		installed []CRD
		want      Decision
		wantErr   string // a part of the error
	}{
		{name: "frrgen's CRDs: every status", choice: Auto, allocate: true, installed: frrgenCRDs(),
			want: Decision{Schemas: Frrgen, ObjectStatus: all}},
		{name: "frrgen's CRDs, asked for", choice: Frrgen, allocate: false, installed: frrgenCRDs(),
			want: Decision{Schemas: Frrgen, ObjectStatus: all}},
		{name: "MetalLB v0.15.2: no status, no ConfigurationState", choice: Auto, installed: metallbCRDs(),
			want: Decision{Schemas: MetalLB, ObjectStatus: none}},
		{name: "MetalLB v0.15.3: ConfigurationState", choice: MetalLB, installed: metallbCRDs(configState),
			want: Decision{Schemas: MetalLB, ObjectStatus: none, ConfigurationState: true}},
		{name: "MetalLB schemas with conditions: written, except the pool's", choice: Auto, installed: withPeerConditions,
			want: Decision{Schemas: MetalLB, ObjectStatus: map[string]bool{translate.KindIPAddressPool: false, translate.KindBGPAdvertisement: true,
				translate.KindCommunity: true, translate.KindBFDProfile: true, translate.KindBGPPeer: true}}},
		{name: "MetalLB's CRDs and --allocate", choice: Auto, allocate: true, installed: metallbCRDs(),
			wantErr: "--allocate=true on MetalLB's CRDs"},
		{name: "asked for MetalLB's, found frrgen's", choice: MetalLB, installed: frrgenCRDs(),
			wantErr: "--metallb-schemas=metallb, but the installed metallb.io CRDs are frrgen's"},
		{name: "asked for frrgen's, found MetalLB's", choice: Frrgen, installed: metallbCRDs(),
			wantErr: "--metallb-schemas=frrgen, but the installed metallb.io CRDs are MetalLB's (ipaddresspools.metallb.io lacks the label frrgen.io/schemas=frrgen)"},
		{name: "a CRD missing", choice: Auto, installed: without(metallbCRDs(), "communities.metallb.io"),
			wantErr: "CRD(s) communities.metallb.io not installed"},
		{name: "nothing installed", choice: Auto,
			wantErr: "bfdprofiles.metallb.io, bgpadvertisements.metallb.io, bgppeers.metallb.io, communities.metallb.io, ipaddresspools.metallb.io not installed"},
		{name: "mixed", choice: Auto, installed: mixed,
			wantErr: "mixed metallb.io CRDs: bfdprofiles.metallb.io, bgpadvertisements.metallb.io, communities.metallb.io, ipaddresspools.metallb.io are frrgen's (label frrgen.io/schemas=frrgen), bgppeers.metallb.io are not"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decide(c.choice, c.allocate, c.installed)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Schemas != c.want.Schemas || got.ConfigurationState != c.want.ConfigurationState || len(got.ObjectStatus) != len(c.want.ObjectStatus) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for k, v := range c.want.ObjectStatus {
				if got.ObjectStatus[k] != v {
					t.Errorf("ObjectStatus[%s] = %v, want %v", k, got.ObjectStatus[k], v)
				}
			}
		})
	}
}

func TestParseChoice(t *testing.T) {
	for _, s := range []string{"auto", "frrgen", "metallb"} {
		if c, err := ParseChoice(s); err != nil || string(c) != s {
			t.Errorf("ParseChoice(%q) = %q, %v", s, c, err)
		}
	}
	if _, err := ParseChoice("MetalLB"); err == nil || !strings.Contains(err.Error(), `not "MetalLB"`) {
		t.Errorf("ParseChoice(MetalLB): %v, want an error naming the value", err)
	}
}

func readCRD(t *testing.T, path string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

// The shipped CRDs, frrgen's and MetalLB's, are told apart and decided on
// as the table above assumes.
func TestDescribeShippedCRDs(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	theirDir, err := metallbbin.CRDDir(root)
	if err != nil {
		t.Fatal(err)
	}
	configState, err := metallbbin.ConfigurationStateCRD()
	if err != nil {
		t.Fatal(err)
	}
	var ours, theirs []CRD
	for _, name := range inputNames() {
		file := "metallb.io_" + strings.TrimSuffix(name, ".metallb.io") + ".yaml"
		ours = append(ours, Describe(readCRD(t, filepath.Join(root, "config", "crd", "bases", file))))
		theirs = append(theirs, Describe(readCRD(t, filepath.Join(theirDir, file))))
	}
	for i := range ours {
		if !ours[i].Frrgen || !ours[i].StatusConditions {
			t.Errorf("frrgen's %s: %+v, want the marker and status.conditions", ours[i].Name, ours[i])
		}
		if theirs[i].Frrgen || theirs[i].StatusConditions {
			t.Errorf("MetalLB's %s: %+v, want neither the marker nor status.conditions", theirs[i].Name, theirs[i])
		}
	}
	if d, err := Decide(Auto, true, ours); err != nil || d.Schemas != Frrgen {
		t.Errorf("on frrgen's CRDs: %+v, %v", d, err)
	}
	d, err := Decide(Auto, false, append(theirs, Describe(readCRD(t, configState))))
	if err != nil || d.Schemas != MetalLB || !d.ConfigurationState {
		t.Errorf("on MetalLB's CRDs: %+v, %v", d, err)
	}
}
