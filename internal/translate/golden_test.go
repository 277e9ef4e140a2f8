package translate_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/translate"
)

var update = flag.Bool("update", false, "rewrite the golden output.yaml files")

// caseOptions is testdata/<case>/options.yaml: the translate options a case
// needs beyond the defaults of `frrgen render`.
type caseOptions struct {
	LoadBalancerClass   string  `json:"lbClass"`
	IgnoreExcludeLB     bool    `json:"ignoreExcludeLB"`
	SpeakerNodeSelector string  `json:"speakerNodeSelector"`
	NamePrefix          *string `json:"namePrefix"`
}

func loadCase(t testing.TB, dir string) (*manifest.Objects, translate.Options) {
	t.Helper()
	objs, err := manifest.Load(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs.DefaultNamespaces("metallb-system", "frr-k8s-system")
	var co caseOptions
	if raw, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
		if err := yaml.UnmarshalStrict(raw, &co); err != nil {
			t.Fatalf("%s/options.yaml: %v", dir, err)
		}
	}
	o := translate.Options{
		Namespace:         "metallb-system",
		FRRK8sNamespace:   "frr-k8s-system",
		LoadBalancerClass: co.LoadBalancerClass,
		IgnoreExcludeLB:   co.IgnoreExcludeLB,
		NamePrefix:        "frrgen-",
	}
	if co.NamePrefix != nil {
		o.NamePrefix = *co.NamePrefix
	}
	if co.SpeakerNodeSelector != "" {
		sel, err := labels.Parse(co.SpeakerNodeSelector)
		if err != nil {
			t.Fatal(err)
		}
		o.SpeakerNodeSelector = sel
	}
	return objs, o
}

// renderGolden writes what a reviewer needs: the diagnostics and where each
// service is announced as comments, then the configurations.
func renderGolden(t testing.TB, r translate.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# valid: %v\n", r.Valid)
	for _, od := range r.Objects {
		for _, p := range od.Problems {
			fmt.Fprintf(&b, "# error: %s\n", p.Message)
		}
		for _, p := range od.Warnings {
			fmt.Fprintf(&b, "# warning: %s\n", p.Message)
		}
	}
	for _, h := range r.Held {
		fmt.Fprintf(&b, "# held: node %s keeps its last good configuration, because of %v\n", h.Node, h.By)
	}
	for _, s := range r.Services {
		fmt.Fprintf(&b, "# service %s %v: announced from %v", s.Service, s.IPs, s.Nodes)
		if s.Reason != "" {
			fmt.Fprintf(&b, "; reason %s", s.Reason)
		}
		nodes := make([]string, 0, len(s.NotAnnounced))
		for n := range s.NotAnnounced {
			nodes = append(nodes, n)
		}
		slices.Sort(nodes)
		for _, n := range nodes {
			fmt.Fprintf(&b, "; %s: %s", n, s.NotAnnounced[n])
		}
		b.WriteString("\n")
	}
	for _, p := range r.Peers {
		fmt.Fprintf(&b, "# peer %s on %v\n", p.Name, p.Nodes)
	}
	for _, a := range r.Advertisements {
		fmt.Fprintf(&b, "# advertisement %s: %d service IPs, %d prefixes\n", a.Name, a.ServiceIPs, a.Prefixes)
	}
	for _, s := range r.PasswordSecrets {
		fmt.Fprintf(&b, "# mirror Secret %s as %s\n", s.SourceName, s.Name)
	}
	if err := manifest.Write(&b, r.Configs, "yaml"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func caseDirs(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

func TestGolden(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs, o := loadCase(t, dir)
			r := translate.Build(objs.Snapshot(), o)
			got := renderGolden(t, r)
			golden := filepath.Join(dir, "output.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", golden, diff)
			}
			if r.Valid != !strings.Contains(dir, "invalid") {
				t.Errorf("Valid = %v; cases named *invalid* must be invalid, all others valid", r.Valid)
			}
			checkFRRK8sRules(t, r)
			checkBlastRadius(t, objs.Snapshot(), o, r)
			checkNoSecretLeaks(t, objs, got)
			checkMergesWithUserConfigs(t, objs, r)
		})
	}
}

// checkNoSecretLeaks fails when a Secret value of the input appears in the
// output: passwords from Secrets are referenced, never copied.
func checkNoSecretLeaks(t *testing.T, objs *manifest.Objects, output []byte) {
	t.Helper()
	for _, s := range objs.Secrets {
		for key, value := range s.Data {
			if len(value) > 0 && bytes.Contains(output, value) {
				t.Errorf("the value of Secret %s key %s appears in the output", s.Name, key)
			}
		}
	}
}

// checkMergesWithUserConfigs runs frr-k8s's merge (as internal/merge
// re-implements it) on each node: frrgen's configuration, the user
// FRRConfigurations of the case, and the Secrets frrgen asks to mirror.
func checkMergesWithUserConfigs(t *testing.T, objs *manifest.Objects, r translate.Result) {
	t.Helper()
	var secrets []corev1.Secret
	for _, m := range r.PasswordSecrets {
		for _, s := range objs.Secrets {
			if s.Name == m.SourceName {
				mirrored := *s.DeepCopy()
				mirrored.Name, mirrored.Namespace = m.Name, "frr-k8s-system"
				secrets = append(secrets, mirrored)
			}
		}
	}
	nodeLabels := map[string]map[string]string{}
	for _, n := range objs.Nodes {
		nodeLabels[n.Name] = n.Labels
	}
	for i := range r.Configs {
		c := &r.Configs[i]
		node := c.Annotations[translate.AnnotationNode]
		conflict, warnings := merge.Check(c, objs.FRRConfigurations, nodeLabels[node], secrets)
		if conflict != nil {
			t.Errorf("node %s: frr-k8s would refuse the configuration: %s", node, conflict.Message)
		}
		for _, w := range warnings {
			t.Errorf("node %s: %s", node, w) // e.g. the webhook would deny the write
		}
	}
}

// TestMergeCheckIsLive makes sure checkMergesWithUserConfigs can fail: the
// seed's user configuration, changed to expect another ASN from the
// neighbor frrgen also configures, must be reported.
func TestMergeCheckIsLive(t *testing.T) {
	objs, o := loadCase(t, "testdata/seed-frrk8s-receive")
	objs.FRRConfigurations[0].Spec.BGP.Routers[0].Neighbors[0].ASN = 64999
	r := translate.Build(objs.Snapshot(), o)
	cfg := &r.Configs[0]
	conflict, warnings := merge.Check(cfg, objs.FRRConfigurations, objs.Nodes[0].Labels, nil)
	if conflict == nil && len(warnings) == 0 {
		t.Fatal("a neighbor ASN clash with the user configuration is not reported")
	}
}
