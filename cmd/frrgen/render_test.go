package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"sigs.k8s.io/yaml"
)

const casesDir = "../../internal/translate/testdata"

// render runs `frrgen render args...` and returns stdout, stderr and the
// exit status main would use.
func render(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCommand()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"render"}, args...))
	code := 0
	if err := cmd.Execute(); err != nil {
		code = 1
		var e *exitError
		if errors.As(err, &e) {
			code = e.code
		}
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), code
}

func TestRenderSeedFirstExample(t *testing.T) {
	out, stderr, code := render(t, "-f", filepath.Join(casesDir, "seed-aggregation", "input.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var cfg frrv1beta1.FRRConfiguration
	if err := yaml.UnmarshalStrict([]byte(out), &cfg); err != nil {
		t.Fatalf("output is not one FRRConfiguration: %v\n%s", err, out)
	}
	nb := cfg.Spec.BGP.Routers[0].Neighbors[0].ToAdvertise
	if got := strings.Join(nb.Allowed.Prefixes, " "); got != "198.51.100.0/24 198.51.100.9/32 198.51.100.10/32" {
		t.Errorf("allowed prefixes = %s", got)
	}
	if len(nb.PrefixesWithLocalPref) != 1 || nb.PrefixesWithLocalPref[0].LocalPref != 100 ||
		strings.Join(nb.PrefixesWithLocalPref[0].Prefixes, " ") != "198.51.100.9/32 198.51.100.10/32" {
		t.Errorf("withLocalPref = %+v; want the /32s only, with 100", nb.PrefixesWithLocalPref)
	}
	if len(nb.PrefixesWithCommunity) != 1 || nb.PrefixesWithCommunity[0].Community != "65535:65282" ||
		strings.Join(nb.PrefixesWithCommunity[0].Prefixes, " ") != "198.51.100.9/32 198.51.100.10/32" {
		t.Errorf("withCommunity = %+v; want the /32s only, with 65535:65282", nb.PrefixesWithCommunity)
	}
	for _, noise := range []string{"status:", "creationTimestamp", "raw:", "passwordSecret"} {
		if strings.Contains(out, noise) {
			t.Errorf("output contains %q:\n%s", noise, out)
		}
	}
}

func TestRenderSortedByNodeAndFiltered(t *testing.T) {
	in := filepath.Join(casesDir, "excluded-and-unavailable-nodes", "input.yaml")
	out, _, code := render(t, "-f", in)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	docs := strings.Split(out, "\n---\n")
	if len(docs) != 4 {
		t.Fatalf("%d documents, want 4", len(docs))
	}
	for i, node := range []string{"node-a", "node-b", "node-c", "node-d"} {
		if !strings.Contains(docs[i], "frrgen.io/node: "+node) {
			t.Errorf("document %d is not for %s", i, node)
		}
	}

	out, _, code = render(t, "-f", in, "--node", "node-c", "-o", "json")
	var list []frrv1beta1.FRRConfiguration
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(list) != 1 || list[0].Name != "frrgen-node-c" {
		t.Errorf("--node node-c gave %d configs, first %q", len(list), list[0].Name)
	}
}

func TestRenderNodeNotSpeaker(t *testing.T) {
	in := filepath.Join(casesDir, "speaker-node-selector", "input.yaml")
	_, stderr, code := render(t, "-f", in, "--speaker-node-selector", "speaker=yes", "--node", "not-a-speaker")
	if code != 1 || !strings.Contains(stderr, `node "not-a-speaker" is not a speaker node`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = render(t, "-f", in, "--node", "nowhere")
	if code != 1 || !strings.Contains(stderr, `node "nowhere" is not in the input`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRenderInvalidInput(t *testing.T) {
	out, stderr, code := render(t, "-f", filepath.Join(casesDir, "invalid-community-alias-typo", "input.yaml"))
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing (the only node is held)", code, out)
	}
	for _, want := range []string{
		`error: BGPAdvertisement metallb-system/local: spec.communities[0]: unknown community alias "vpn-onl"`,
		`held: node node-a keeps its last good configuration (not rendered) until these are fixed: BGPAdvertisement metallb-system/local`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestRenderHoldsOnlyAffectedNodes: an invalid object on one node of three
// leaves the other two rendered; an invalid object that selects no node
// holds nothing and render exits 0.
func TestRenderHoldsOnlyAffectedNodes(t *testing.T) {
	in := filepath.Join(casesDir, "invalid-peer-holds-one-rack", "input.yaml")
	out, stderr, code := render(t, "-f", in)
	if code != 1 || !strings.Contains(stderr, "1 node(s) held by invalid objects, not rendered: node-c") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	for node, want := range map[string]bool{"node-a": true, "node-b": true, "node-c": false} {
		if got := strings.Contains(out, "frrgen.io/node: "+node+"\n"); got != want {
			t.Errorf("node %s rendered = %v, want %v", node, got, want)
		}
	}
	if _, stderr, code := render(t, "-f", in, "--node", "node-c"); code != 1 || !strings.Contains(stderr, "not rendered: node-c") {
		t.Errorf("--node node-c: exit %d, stderr:\n%s", code, stderr)
	}

	// Without tor-c, only spine-new is invalid, and it selects no node.
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		if !strings.Contains(doc, "name: tor-c\n") {
			kept = append(kept, doc)
		}
	}
	f := filepath.Join(t.TempDir(), "input.yaml")
	if err := os.WriteFile(f, []byte(strings.Join(kept, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = render(t, "-f", f)
	if code != 0 || strings.Contains(stderr, "held") || !strings.Contains(stderr, `error: BGPPeer metallb-system/spine-new`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if n := strings.Count(out, "kind: FRRConfiguration"); n != 3 {
		t.Errorf("%d configurations rendered, want 3", n)
	}
}

func TestRenderReadsDirectoriesRecursively(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(casesDir, "seed-vrf", "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	half := len(docs) / 2
	for path, part := range map[string][]string{"a.yaml": docs[:half], "sub/b.yml": docs[half:], "ignored.txt": {"not: yaml: at all"}} {
		if err := os.WriteFile(filepath.Join(dir, path), []byte(strings.Join(part, "\n---\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fromDir, stderr, code := render(t, "-f", dir)
	fromFile, _, _ := render(t, "-f", filepath.Join(casesDir, "seed-vrf", "input.yaml"))
	if code != 0 || fromDir != fromFile {
		t.Errorf("exit %d (%s); directory output differs from file output:\n%s\n---\n%s", code, stderr, fromDir, fromFile)
	}
}

func TestRenderUnknownKind(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.yaml")
	doc := "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: [10.0.0.0/24]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := render(t, "-f", f)
	if code != 2 || !strings.Contains(stderr, f+": document 1: unsupported kind apps/v1 Deployment") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestRenderMetalLBBackup renders a backup as kubectl writes it from a
// MetalLB installation: v1beta1 BGPPeers, MetalLB's status on the pool, kinds
// frrgen does not read. It exits 0, with one note per skipped kind.
func TestRenderMetalLBBackup(t *testing.T) {
	out, stderr, code := render(t, "-f", filepath.Join("testdata", "metallb-backup.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, note := range []string{
		"note: skipped 1 metallb.io/v1beta1 L2Advertisement document(s)",
		"note: skipped 1 metallb.io/v1beta1 ServiceBGPStatus document(s)",
		"note: skipped 1 metallb.io/v1beta1 ServiceL2Status document(s)",
		"note: skipped 1 v1 Endpoints document(s)",
		"note: read 2 metallb.io/v1beta1 BGPPeer document(s) as MetalLB converts them",
	} {
		if strings.Count(stderr, note) != 1 {
			t.Errorf("stderr does not hold %q once:\n%s", note, stderr)
		}
	}
	if strings.Contains(stderr, "error:") || strings.Contains(stderr, "warning:") {
		t.Errorf("stderr has diagnostics:\n%s", stderr)
	}
	neighbors := map[string]string{}
	for _, doc := range strings.Split(out, "\n---\n") {
		var cfg frrv1beta1.FRRConfiguration
		if err := yaml.UnmarshalStrict([]byte(doc), &cfg); err != nil {
			t.Fatalf("output is not FRRConfigurations: %v\n%s", err, out)
		}
		for _, r := range cfg.Spec.BGP.Routers {
			for _, n := range r.Neighbors {
				neighbors[cfg.Name] += fmt.Sprintf("%s AS%d hold %v keepalive %v %s;", n.Address, n.ASN, n.HoldTime.Duration, n.KeepaliveTime.Duration, strings.Join(n.ToAdvertise.Allowed.Prefixes, ","))
			}
		}
	}
	want := map[string]string{
		"frrgen-worker-1": "172.30.0.1 AS64501 hold 1m30s keepalive 30s 198.51.100.10/32;",
		"frrgen-worker-2": "172.30.0.2 AS64502 hold 0s keepalive 0s 198.51.100.10/32;",
	}
	if fmt.Sprint(neighbors) != fmt.Sprint(want) {
		t.Errorf("neighbors per configuration:\n %v\nwant\n %v", neighbors, want)
	}
}
