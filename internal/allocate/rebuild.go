package allocate

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// SortForAssignment orders Services the way they are assigned after a
// restart or a pool change: those whose status holds more addresses first
// (as MetalLB's reprocessing does, so that a Service keeps the address it
// has before a newcomer can ask for it), then by namespace and name (MetalLB
// takes its cache's order there).
func SortForAssignment(svcs []*corev1.Service) {
	slices.SortStableFunc(svcs, func(a, b *corev1.Service) int {
		if d := len(b.Status.LoadBalancer.Ingress) - len(a.Status.LoadBalancer.Ingress); d != 0 {
			return d
		}
		return strings.Compare(Key(a), Key(b))
	})
}

// Rebuild returns the allocator of a controller that starts now: every
// address the Services' statuses hold and may keep is recorded (Restore),
// none is handed out. The caller then calls Assign for each Service in
// SortForAssignment order. The controller and `frrgen render` both start
// this way, so render gives a Service the address the controller would.
func Rebuild(pools []Pool, class string, svcs []*corev1.Service) *Allocator {
	a := NewAllocator(pools, class)
	sorted := slices.Clone(svcs)
	SortForAssignment(sorted)
	for _, svc := range sorted {
		_, _ = a.Restore(svc) // what cannot be kept, Assign decides and says
	}
	return a
}
