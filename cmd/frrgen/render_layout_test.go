package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// clusterInput writes a cluster of three nodes behind one peer with 20
// ETP-Cluster services (the default policy), one endpoint on node-a.
func clusterInput(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 172.30.0.3}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [198.51.100.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: plain, namespace: metallb-system}
`)
	for _, n := range []string{"node-a", "node-b", "node-c"} {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Node\nmetadata: {name: %s, labels: {kubernetes.io/hostname: %s}}\n", n, n)
	}
	for i := range 20 {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: svc-%d, namespace: default}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 198.51.100.%d}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-%d-x, namespace: default, labels: {kubernetes.io/service-name: svc-%d}}
addressType: IPv4
endpoints: [{addresses: [10.244.0.10], nodeName: node-a, conditions: {ready: true}}]
`, i, i+1, i, i)
	}
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func renderList(t *testing.T, args ...string) []frrv1beta1.FRRConfiguration {
	t.Helper()
	out, stderr, code := render(t, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var list []frrv1beta1.FRRConfiguration
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return list
}

func names(configs []frrv1beta1.FRRConfiguration) string {
	var out []string
	for _, c := range configs {
		out = append(out, c.Name)
	}
	return strings.Join(out, " ")
}

// TestRenderLayouts: render prints the objects as the layout writes them:
// shards past --max-object-bytes, the shared object of --layout shared
// (after the nodes' own), and with --node every object selecting the node.
func TestRenderLayouts(t *testing.T) {
	in := clusterInput(t)
	if got := names(renderList(t, "-f", in)); got != "frrgen-node-a frrgen-node-b frrgen-node-c" {
		t.Errorf("default: %s", got)
	}
	sharded := renderList(t, "-f", in, "--max-object-bytes", "1000", "--node", "node-b")
	if len(sharded) < 2 {
		t.Fatalf("--max-object-bytes 1000: %s, want node-b's shards", names(sharded))
	}
	for i, c := range sharded {
		if want := fmt.Sprintf("frrgen-node-b-shard-%d-of-%d", i, len(sharded)); c.Name != want || c.Annotations["frrgen.io/shard"] != fmt.Sprintf("%d/%d", i, len(sharded)) {
			t.Errorf("shard %d: %s %v, want %s", i, c.Name, c.Annotations, want)
		}
	}

	shared := renderList(t, "-f", in, "--layout", "shared")
	if len(shared) != 4 || !strings.HasPrefix(shared[3].Name, "frrgen-shared-") {
		t.Fatalf("--layout shared: %s, want the three nodes' objects and a shared one", names(shared))
	}
	if got := shared[3].Annotations["frrgen.io/nodes"]; got != "node-a,node-b,node-c" {
		t.Errorf("shared object's nodes: %q", got)
	}
	if got := len(shared[3].Spec.BGP.Routers[0].Prefixes); got != 20 {
		t.Errorf("shared object has %d prefixes, want the 20 service IPs", got)
	}
	if got := shared[0].Spec.BGP.Routers[0].Prefixes; len(got) != 0 {
		t.Errorf("node-a's own object keeps prefixes %v, all of which are shared", got)
	}
	if got := names(renderList(t, "-f", in, "--layout", "shared", "--node", "node-c")); got != "frrgen-node-c "+shared[3].Name {
		t.Errorf("--layout shared --node node-c: %s", got)
	}
	for _, bad := range [][]string{{"--layout", "racks"}, {"--max-object-bytes", "-5"}} {
		if _, stderr, code := render(t, append([]string{"-f", in}, bad...)...); code != 2 || !strings.Contains(stderr, bad[0]) {
			t.Errorf("%v: exit %d, %s; want 2 naming the flag", bad, code, stderr)
		}
	}
}
