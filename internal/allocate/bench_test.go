package allocate

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkAssign50k hands out 50,000 addresses over 10 pools of 8,192 (the
// first pools fill up, so later Services skip full pools first), one
// allocator per iteration. The target is < 1 s per iteration.
func BenchmarkAssign50k(b *testing.B) {
	var pools []Pool
	for i := range 10 {
		pools = append(pools, pool(fmt.Sprintf("pool-%02d", i), fmt.Sprintf("10.%d.0.0/19", i)))
	}
	svcs := make([]*corev1.Service, 50000)
	for i := range svcs {
		svcs[i] = service(fmt.Sprintf("ns-%d/svc-%d", i%50, i))
	}
	b.ReportAllocs()
	for b.Loop() {
		a := NewAllocator(pools, "")
		for _, s := range svcs {
			if _, err := a.Assign(s); err != nil {
				b.Fatal(err)
			}
		}
		if c := a.Counters("pool-06"); c.AssignedIPv4 != 50000-6*8192 {
			b.Fatalf("pool-06 counters %+v", c)
		}
	}
}
