package servicebgpstatus

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/servicestatus"
)

// BenchmarkSteadyPass is one settled pass with nothing to write: every
// service announced from every node, all objects up to date.
func BenchmarkSteadyPass(b *testing.B) {
	for _, size := range []struct{ nodes, services int }{{10, 500}, {100, 5000}} {
		b.Run(fmt.Sprintf("%dnodes-%dservices", size.nodes, size.services), func(b *testing.B) {
			nodes := make([]string, size.nodes)
			for i := range nodes {
				nodes[i] = fmt.Sprintf("node-%03d", i)
			}
			peers := []string{"spine", "tor"}
			statuses := make([]servicestatus.Status, size.services)
			keys := make([]types.NamespacedName, size.services)
			var existing []*metallbv1beta1.ServiceBGPStatus
			for i := range statuses {
				keys[i] = types.NamespacedName{Namespace: "default", Name: fmt.Sprintf("svc-%05d", i)}
				statuses[i] = servicestatus.Status{Announced: true, Groups: []servicestatus.Group{{Kind: servicestatus.Announced, Peers: peers, Nodes: nodes}}}
				for _, r := range ForService(nil, keys[i], statuses[i], isPeer) {
					existing = append(existing, NewObject("metallb-system", r))
				}
			}
			objects := make([]*metallbv1beta1.ServiceBGPStatus, len(existing))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				copy(objects, existing)
				d := NewDiffer("metallb-system", objects)
				var records []Record
				for i := range statuses {
					records = ForService(records[:0], keys[i], statuses[i], isPeer)
					d.Service(keys[i], records)
				}
				if p := d.Finish(func(types.NamespacedName) bool { return false }); p.Len() != 0 {
					b.Fatalf("%d writes in a steady pass", p.Len())
				}
			}
		})
	}
}
