package layout_test

import (
	"fmt"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// BenchmarkSplit50k: one node with 50,000 service IPs towards 3 peers, each
// IP with localPref and a community, plus the /24 aggregates with another
// community: about 10 MB in one object, 20 times etcd's limit. Reports the
// shards and their sizes; fails if one is over the threshold.
func BenchmarkSplit50k(b *testing.B) {
	configs := build(b, rackSnapshot(1, 1, 3, 50000, 0))
	unsplit, err := layout.Size(&configs[0])
	if err != nil {
		b.Fatal(err)
	}
	var l layout.Layout
	b.ReportAllocs()
	for b.Loop() {
		if l, err = layout.Compute(configs, layout.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	objects := l.Objects()
	largest, total := sizes(b, objects)
	if largest > layout.DefaultMaxObjectBytes {
		b.Fatalf("the largest shard is %d bytes, over the threshold %d", largest, layout.DefaultMaxObjectBytes)
	}
	b.ReportMetric(float64(unsplit), "unsplit-bytes")
	b.ReportMetric(float64(len(objects)), "shards")
	b.ReportMetric(float64(largest), "max-shard-bytes")
	b.ReportMetric(float64(total), "total-bytes")
}

func sizes(b testing.TB, objects []frrv1beta1.FRRConfiguration) (largest, total int) {
	for i := range objects {
		s, err := layout.Size(&objects[i])
		if err != nil {
			b.Fatal(err)
		}
		largest, total = max(largest, s), total+s
	}
	return largest, total
}

// writes are the API writes that turn before into after, as the node plan
// decides them (an object already up to date is not written).
type writes struct {
	objects int
	// body is the bytes of the create and update requests.
	body int
	// watched is what one watcher of the namespace receives: the created and
	// updated objects, and each deleted object in its delete event.
	watched int
}

func changes(b testing.TB, before, after layout.Layout) writes {
	old := map[string]frrv1beta1.FRRConfiguration{}
	for _, o := range before.Objects() {
		old[o.Name] = o
	}
	var w writes
	for _, o := range after.Objects() {
		stored, exists := old[o.Name]
		delete(old, o.Name)
		if exists && nodeplan.UpToDate(&stored, &o) {
			continue
		}
		s, _ := sizes(b, []frrv1beta1.FRRConfiguration{o})
		w.objects++
		w.body += s
		w.watched += s
	}
	for _, o := range old {
		s, _ := sizes(b, []frrv1beta1.FRRConfiguration{o})
		w.objects++
		w.watched += s
	}
	return w
}

// BenchmarkServiceChange: 100 nodes in 2 racks, 3 peers per rack, 4,500
// ETP-Cluster services and 5 ETP-Local ones per node (5,000 in all). For one
// service change it reports the objects written, the bytes written and the
// bytes delivered to the 100 daemons watching the namespace, per layout; the
// timed loop is the layout of the cluster after the change. Fails when the
// shared layout does not write and deliver at least 20 times fewer bytes for
// an ETP-Cluster change.
func BenchmarkServiceChange(b *testing.B) {
	const nodes, daemons = 100, 100
	base := rackSnapshot(nodes, 2, 3, 4500, 5)
	before := build(b, base)
	for _, change := range []struct {
		name    string
		cluster bool
		apply   func(s *translate.Snapshot)
	}{
		{"remove-cluster-service", true, func(s *translate.Snapshot) {
			s.Services, s.EndpointSlices = s.Services[1:], s.EndpointSlices[1:] // svc-0, 10.0.0.1: its /24 stays
		}},
		{"add-cluster-service-new-24", true, func(s *translate.Snapshot) {
			addService(s, "svc-new", "10.200.0.1", "node-000", corev1.ServiceExternalTrafficPolicyCluster)
		}},
		{"add-local-service", false, func(s *translate.Snapshot) {
			addService(s, "local-new", "10.200.1.1", "node-007", corev1.ServiceExternalTrafficPolicyLocal)
		}},
	} {
		changed := base
		changed.Services, changed.EndpointSlices = append([]corev1.Service(nil), base.Services...), append(base.EndpointSlices[:0:0], base.EndpointSlices...)
		change.apply(&changed)
		after := build(b, changed)
		var per [2]writes
		for k, kind := range layout.Kinds {
			o := layout.Options{Kind: kind, NamePrefix: "frrgen-"}
			l0, err := layout.Compute(before, o)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/layout=%s", change.name, kind), func(b *testing.B) {
				var l1 layout.Layout
				for b.Loop() {
					if l1, err = layout.Compute(after, o); err != nil {
						b.Fatal(err)
					}
				}
				per[k] = changes(b, l0, l1)
				_, total := sizes(b, l1.Objects())
				b.ReportMetric(float64(len(l1.Objects())), "objects")
				b.ReportMetric(float64(total), "all-objects-bytes")
				b.ReportMetric(float64(per[k].objects), "written-objects")
				b.ReportMetric(float64(per[k].body), "written-bytes")
				b.ReportMetric(float64(per[k].watched*daemons), "watch-bytes")
			})
		}
		if per[1].body == 0 {
			continue // the sub-benchmarks were filtered out
		}
		writeRatio := float64(per[0].body) / float64(per[1].body)
		watchRatio := float64(per[0].watched) / float64(per[1].watched)
		b.Logf("%s: per-node writes %d objects, %d bytes (%d to the daemons); shared %d objects, %d bytes (%d); %.0fx fewer bytes written, %.0fx fewer delivered",
			change.name, per[0].objects, per[0].body, per[0].watched*daemons, per[1].objects, per[1].body, per[1].watched*daemons, writeRatio, watchRatio)
		if change.cluster && (writeRatio < 20 || watchRatio < 20) {
			b.Errorf("%s: the shared layout writes %.1fx and delivers %.1fx fewer bytes than per-node; the target is 20x", change.name, writeRatio, watchRatio)
		}
	}
}
