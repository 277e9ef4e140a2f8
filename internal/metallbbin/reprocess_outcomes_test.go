package metallbbin_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/frrgen/frrgen/internal/allocate"
	"github.com/frrgen/frrgen/internal/pooladdr"
)

// reprocessOutcome is one answer a reprocess can give: every Service's
// addresses, and the allocator that gave them.
type reprocessOutcome struct {
	statuses map[string][]string
	model    *allocate.Allocator
}

// reprocessOutcomes lists the distinct answers of a reprocess (a reassignment
// of every Service) over every order of the waiting Services: those that
// need an address. MetalLB serves them in its cache's order, which is
// random, so any of these answers is MetalLB's; frrgen's allocator serves
// them by namespace/name, one of the orders. live holds every Service with
// its status before the reprocess. The Services that keep their addresses do
// not depend on the order: an address held is never handed out.
//
// Orders that lead to the same assignments of the same Services are
// explored once, so the search stays small even with many waiting Services
// (most of them fail the same way in every order).
func reprocessOutcomes(pools []allocate.Pool, live map[string]*corev1.Service, waiting []string) []reprocessOutcome {
	svcs := slices.Collect(maps.Values(live))
	var holders []*corev1.Service
	for _, svc := range svcs {
		if !slices.Contains(waiting, allocate.Key(svc)) {
			holders = append(holders, svc)
		}
	}
	allocate.SortForAssignment(holders)
	// run starts afresh from the statuses and serves the waiting Services
	// in order.
	run := func(order []string) *allocate.Allocator {
		a := allocate.Rebuild(pools, "", svcs)
		for _, svc := range holders {
			_, _ = a.Assign(svc)
		}
		for _, k := range order {
			_, _ = a.Assign(live[k])
		}
		return a
	}
	seen := map[string]bool{}
	var out []reprocessOutcome
	var explore func(order, rest []string)
	explore = func(order, rest []string) {
		a := run(order)
		state := signature(a, order) + "|" + strings.Join(rest, ",")
		if seen[state] {
			return
		}
		seen[state] = true
		if len(rest) == 0 {
			statuses := map[string][]string{}
			for k := range live {
				got, _ := a.Lookup(k)
				statuses[k] = addrStrings(got)
			}
			if !slices.ContainsFunc(out, func(o reprocessOutcome) bool { return sameStatuses(o.statuses, statuses) }) {
				out = append(out, reprocessOutcome{statuses: statuses, model: a})
			}
			return
		}
		for i := range rest {
			explore(append(slices.Clone(order), rest[i]), slices.Concat(rest[:i], rest[i+1:]))
		}
	}
	explore(nil, slices.Sorted(slices.Values(waiting)))
	return out
}

// signature is what the next steps of a search depend on: the addresses of
// the Services served so far.
func signature(a *allocate.Allocator, served []string) string {
	keys := slices.Sorted(slices.Values(served))
	var b strings.Builder
	for _, k := range keys {
		got, _ := a.Lookup(k)
		b.WriteString(k + "=" + strings.Join(addrStrings(got), ",") + ";")
	}
	return b.String()
}

func addrStrings(a allocate.Assignment) []string {
	var out []string
	for _, ip := range a.IPs {
		out = append(out, ip.String())
	}
	return out
}

// sameStatuses compares two answers (no address: nil or empty alike).
func sameStatuses(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// The case MetalLB's order decides: a dual-stack Service and an IPv4 one
// both wait for the pool's one free IPv4 address. Either may get it; the
// IPv6 address goes with the dual-stack one or stays free.
func TestReprocessOutcomesCoverEveryOrder(t *testing.T) {
	pools := []allocate.Pool{{Name: "p", AutoAssign: true}}
	for _, e := range []string{"192.0.2.0/31", "2001:db8::/128"} {
		c, err := pooladdr.ParseAddressEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		pools[0].CIDRs = append(pools[0].CIDRs, c...)
	}
	svc := func(name string, dual bool, status ...string) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.0.0.1"},
				Ports: []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}}}}
		if dual {
			s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
			s.Spec.ClusterIPs = []string{"10.0.0.2", "fd00::2"}
		}
		for _, ip := range status {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return s
	}
	live := map[string]*corev1.Service{
		"default/holder": svc("holder", false, "192.0.2.0"),
		"default/dual":   svc("dual", true),
		"default/v4":     svc("v4", false),
		"default/v4-bis": svc("v4-bis", false),
	}
	got := reprocessOutcomes(pools, live, []string{"default/v4", "default/dual", "default/v4-bis"})
	var answers []string
	for _, o := range got {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(o.statuses)) {
			parts = append(parts, k+"="+strings.Join(o.statuses[k], ","))
		}
		answers = append(answers, strings.Join(parts, " "))
	}
	want := []string{
		"default/dual=192.0.2.1,2001:db8:: default/holder=192.0.2.0 default/v4= default/v4-bis=",
		"default/dual= default/holder=192.0.2.0 default/v4=192.0.2.1 default/v4-bis=",
		"default/dual= default/holder=192.0.2.0 default/v4= default/v4-bis=192.0.2.1",
	}
	if !slices.Equal(answers, want) {
		t.Errorf("outcomes:\n  %s\nwant (the model's own order, by name, first):\n  %s", strings.Join(answers, "\n  "), strings.Join(want, "\n  "))
	}
}
