//go:build daemon

package layout_test

// TestLayoutsDaemon is the proof against the real frr-k8s v0.0.21 node
// daemon (bin/frr-k8s-controller, run by internal/frrk8sdaemon against a
// real kube-apiserver; the test fails without it): for every node of every
// translate golden and of generated large clusters (thousands of service
// IPs, several peers per rack, localPref and communities, ETP-Local
// services), the daemon renders byte for byte the same frr.conf (but for
// its hostname line, which names the test's node) whether the node's
// configuration is
//   - one object per node (translate's output),
//   - split into shards (goldens: 4 per object, forced; generated: by a
//     64 KiB threshold), or
//   - the shared layout, its objects split too (goldens: 2 per object;
//     generated: by the threshold).
// Each daemon reads every object of its variant, those of the other nodes
// included (they must not select it).

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"

	"github.com/frrgen/frrgen/internal/frrk8sdaemon"
	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/merge"
)

// variant is one way of writing a cluster's configurations.
type variant struct {
	name    string
	objects []frrv1beta1.FRRConfiguration
}

// cluster is a set of per-node configurations and its variants.
type cluster struct {
	name     string
	perNode  []frrv1beta1.FRRConfiguration
	variants []variant
}

func TestLayoutsDaemon(t *testing.T) {
	var clusters []cluster
	for name, configs := range goldenConfigs(t) {
		clusters = append(clusters, cluster{name: name, perNode: configs, variants: []variant{
			{"per-node", configs},
			{"shards", forceShards(mustCompute(t, configs, layout.Options{Kind: layout.PerNode}), 2).Objects()},
			{"shared", forceShards(mustCompute(t, configs, layout.Options{Kind: layout.Shared, MinSharedEntries: 1, NamePrefix: "frrgen-"}), 1).Objects()},
		}})
	}
	const threshold = 64 << 10
	for _, size := range []struct{ nodes, racks, peers, ips, local int }{{4, 2, 3, 2000, 20}, {2, 1, 2, 5000, 50}} {
		configs := build(t, rackSnapshot(size.nodes, size.racks, size.peers, size.ips, size.local))
		perNode := mustCompute(t, configs, layout.Options{Kind: layout.PerNode, MaxObjectBytes: threshold})
		shared := mustCompute(t, configs, layout.Options{Kind: layout.Shared, MaxObjectBytes: threshold, NamePrefix: "frrgen-"})
		if len(shared.Shared) == 0 || len(perNode.PerNode[nodeOf(&configs[0])]) < 2 {
			t.Fatalf("generated cluster %+v: the layouts neither split nor share; the test would prove nothing", size)
		}
		t.Logf("generated %+v: per-node layout %d objects, shared layout %d objects (%d shared groups)",
			size, len(perNode.Objects()), len(shared.Objects()), len(shared.Shared))
		clusters = append(clusters, cluster{name: fmt.Sprintf("generated-%dx%d", size.nodes, size.ips), perNode: configs, variants: []variant{
			{"per-node", configs}, {"shards", perNode.Objects()}, {"shared", shared.Objects()},
		}})
	}
	slices.SortFunc(clusters, func(a, b cluster) int { return strings.Compare(a.name, b.name) })

	var cases []frrk8sdaemon.Case
	for _, cl := range clusters {
		secrets := passwordSecrets(cl.perNode)
		for i := range cl.perNode {
			for _, v := range cl.variants {
				cases = append(cases, frrk8sdaemon.Case{
					Name:       fmt.Sprintf("l%04d", len(cases)),
					NodeLabels: labelsOf(&cl.perNode[i]),
					Namespace:  frrK8sNamespace,
					Secrets:    secrets,
					Configs:    v.objects,
				})
			}
		}
	}
	runner := frrk8sdaemon.Start(t)
	started := time.Now()
	outcomes := runner.RunAll(cases)
	t.Logf("%d daemon runs (%d clusters × nodes × 3 layouts) in %s", len(cases), len(clusters), time.Since(started).Round(time.Second))

	k := 0
	for _, cl := range clusters {
		for i := range cl.perNode {
			node := nodeOf(&cl.perNode[i])
			confs := make([]string, len(cl.variants))
			for j, v := range cl.variants {
				o := outcomes[k]
				k++
				switch {
				case o.Rejected != "":
					t.Errorf("%s/%s %s: the apiserver refused an object: %s", cl.name, node, v.name, o.Rejected)
				case o.Err != nil:
					t.Errorf("%s/%s %s: harness: %v\n%s", cl.name, node, v.name, o.Err, o.Log)
				case o.Verdict != "success":
					t.Errorf("%s/%s %s: frr-k8s rejects the node's objects: %q\n%s", cl.name, node, v.name, o.Verdict, o.Log)
				}
				confs[j] = withoutHostname(o.FRRConf)
			}
			for j := 1; j < len(confs); j++ {
				if confs[j] != confs[0] {
					t.Errorf("%s/%s: frr.conf with the %s layout differs from the per-node one:\n%s", cl.name, node, cl.variants[j].name, lineDiff(confs[0], confs[j]))
				}
			}
		}
	}
}

// withoutHostname drops the "hostname <node>" line, which names the
// daemon's Node (different in every run).
func withoutHostname(conf string) string {
	lines := strings.Split(conf, "\n")
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "hostname ") }), "\n")
}

// lineDiff shows the first lines where a and b differ.
func lineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: per-node %q, layout %q (%d vs %d lines)", i+1, x, y, len(la), len(lb))
		}
	}
	return "identical lines"
}

// TestSplit50kDaemon: one node with 50,000 service IPs towards 3 peers,
// localPref and communities on each, is about 8.5 MB as one object, which
// the apiserver refuses; split by the default threshold it is written, the
// real daemon converts it, and its frr.conf says what internal/merge
// predicts for the unsplit configuration. Logs the time from the first
// write to the rendered frr.conf.
func TestSplit50kDaemon(t *testing.T) {
	configs := build(t, rackSnapshot(1, 1, 3, 50000, 0))
	l := mustCompute(t, configs, layout.Options{})
	shards := l.Objects()
	runner := frrk8sdaemon.Start(t)
	cases := []frrk8sdaemon.Case{
		{Name: "unsplit", NodeLabels: labelsOf(&configs[0]), Namespace: frrK8sNamespace, Configs: configs},
		{Name: "split", NodeLabels: labelsOf(&configs[0]), Namespace: frrK8sNamespace, Configs: shards},
	}
	unsplit := runner.Run(cases[0])
	if unsplit.Rejected == "" && unsplit.Err == nil {
		t.Errorf("the apiserver accepted the unsplit 50k configuration; the split is not needed for it (verdict %q)", unsplit.Verdict)
	} else {
		t.Logf("unsplit, as expected: %s%v", firstLine(unsplit.Rejected), unsplitErr(unsplit.Err))
	}
	started := time.Now()
	o := runner.Run(cases[1])
	elapsed := time.Since(started)
	if o.Rejected != "" || o.Err != nil || o.Verdict != "success" {
		t.Fatalf("split into %d objects: rejected %q, harness %v, verdict %q\n%s", len(shards), o.Rejected, o.Err, o.Verdict, o.Log)
	}
	t.Logf("%d shards written, converted and rendered by the daemon in %s (frr.conf %d lines; includes the daemon's 3 s debounce)",
		len(shards), elapsed.Round(100*time.Millisecond), strings.Count(o.FRRConf, "\n"))

	eff, warnings, conflict := merge.ForNode(configs, labelsOf(&configs[0]), nil)
	if conflict != nil {
		t.Fatal(conflict)
	}
	got, err := frrk8sdaemon.ParseFRRConf(o.FRRConf, frrk8sdaemon.ExpectedRaw(eff))
	if err != nil {
		t.Fatal(err)
	}
	if diff := frrk8sdaemon.DiffRendering(frrk8sdaemon.ExpectedRendering(eff, warnings), got); diff != "" {
		t.Fatalf("the daemon's frr.conf for the shards differs from merge's prediction for the unsplit configuration (-unsplit +daemon):\n%.3000s", diff)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func unsplitErr(err error) string {
	if err == nil {
		return ""
	}
	return firstLine(err.Error())
}
