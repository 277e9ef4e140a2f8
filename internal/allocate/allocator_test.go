package allocate

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// step is one thing that happens to the allocator, and what it must answer.
type step struct {
	assign  *corev1.Service // Assign, with the status the last step wrote
	restore *corev1.Service // Restore, with the status the Service carries
	release string          // Release this key
	pools   []Pool          // SetPools

	want     outcome
	counters map[string]PoolCounters
}

type outcome struct {
	IPs       []string
	Pool      string
	Allocated bool
	Reason    Reason
	Other     string
}

func TestAllocator(t *testing.T) {
	v4 := pool("v4", "192.0.2.10-192.0.2.12")
	dual := pool("dual", "192.0.2.0/30", "2001:db8::/126")
	dualStack := withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)
	preferDual6 := withFamilies(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol)
	preferDual := withFamilies(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)
	single6 := withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol)

	for _, tc := range []struct {
		name  string
		pools []Pool
		steps []step
	}{
		{name: "lowest free address first, then exhausted", pools: []Pool{v4}, steps: []step{
			{assign: service("default/a"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/b"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true}},
			{assign: service("default/a"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4"}},
			{assign: service("default/c"), want: outcome{IPs: []string{"192.0.2.12"}, Pool: "v4", Allocated: true}},
			{assign: service("default/d"), want: outcome{Reason: ReasonPoolExhausted}},
			{release: "default/b"},
			{assign: service("default/d"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true},
				counters: map[string]PoolCounters{"v4": {AssignedIPv4: 3, AvailableIPv4: 0}}},
		}},
		{name: "avoidBuggyIPs skips .0 and .255", pools: []Pool{pool("p", "192.0.2.255-192.0.3.1").avoidBuggy()}, steps: []step{
			{assign: service("default/a"), want: outcome{IPs: []string{"192.0.3.1"}, Pool: "p", Allocated: true},
				counters: map[string]PoolCounters{"p": {AssignedIPv4: 1, AvailableIPv4: 0}}},
			{assign: service("default/b", withLoadBalancerIP("192.0.3.0")), want: outcome{Reason: ReasonNotInPool}},
		}},
		{name: "autoAssign false: only on request", pools: []Pool{pool("manual", "198.51.100.0/30").manual()}, steps: []step{
			{assign: service("default/a"), want: outcome{Reason: ReasonNoMatchingPool}},
			{assign: service("default/b", withAnnotation(AnnotationAddressPool, "manual")), want: outcome{IPs: []string{"198.51.100.0"}, Pool: "manual", Allocated: true}},
			{assign: service("default/c", withAnnotation(AnnotationLoadBalancerIPs, "198.51.100.3")), want: outcome{IPs: []string{"198.51.100.3"}, Pool: "manual", Allocated: true}},
		}},
		{name: "requested addresses", pools: []Pool{v4, dual}, steps: []step{
			{assign: service("default/a", withLoadBalancerIP("192.0.2.11")), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true}},
			{assign: service("default/b", withLoadBalancerIP("192.0.2.11")), want: outcome{Reason: ReasonSharingConflict, Other: "default/a"}},
			{assign: service("default/c", withAnnotation(AnnotationLoadBalancerIPs, "203.0.113.1")), want: outcome{Reason: ReasonNotInPool}},
			{assign: service("default/d", withAnnotation(AnnotationLoadBalancerIPs, "192.0.2.12"), withLoadBalancerIP("192.0.2.12")), want: outcome{Reason: ReasonInvalidRequest}},
			{assign: service("default/e", withAnnotation(AnnotationLoadBalancerIPs, "bad")), want: outcome{Reason: ReasonInvalidRequest}},
			{assign: service("default/f", withAnnotation(AnnotationLoadBalancerIPs, "2001:db8::1")), want: outcome{Reason: ReasonInvalidRequest}},
			{assign: service("default/g", withAnnotation(AnnotationLoadBalancerIPs, "192.0.2.1"), withAnnotation(AnnotationAddressPool, "v4")), want: outcome{Reason: ReasonNotInPool}},
			{assign: service("default/h", dualStack, withAnnotation(AnnotationLoadBalancerIPs, "192.0.2.2, 2001:db8::2")), want: outcome{IPs: []string{"192.0.2.2", "2001:db8::2"}, Pool: "dual", Allocated: true}},
			{assign: service("default/i", withAnnotation(AnnotationLoadBalancerIPs, "192.0.2.1,192.0.2.2")), want: outcome{Reason: ReasonInvalidRequest}},
			{assign: service("default/j", withAnnotation("metallb.universe.tf/loadBalancerIPs", "192.0.2.12")), want: outcome{IPs: []string{"192.0.2.12"}, Pool: "v4", Allocated: true}},
		}},
		{name: "changing the request moves the Service", pools: []Pool{v4, pool("other", "198.51.100.0/31")}, steps: []step{
			{assign: service("default/a"), want: outcome{IPs: []string{"198.51.100.0"}, Pool: "other", Allocated: true}},
			{assign: service("default/a", withLoadBalancerIP("192.0.2.12")), want: outcome{IPs: []string{"192.0.2.12"}, Pool: "v4", Allocated: true}},
			{assign: service("default/b"), want: outcome{IPs: []string{"198.51.100.0"}, Pool: "other", Allocated: true}},
			{assign: service("default/b", withAnnotation(AnnotationAddressPool, "v4")), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/c", withAnnotation(AnnotationAddressPool, "nope")), want: outcome{Reason: ReasonNoMatchingPool}},
		}},
		{name: "sharing", pools: []Pool{v4}, steps: []step{
			{assign: service("default/a", withShared("k")), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			// Automatic allocation with the same key and another port takes
			// the shared address: it is the lowest one the Service may use.
			{assign: service("default/b", withShared("k"), withPort(corev1.ProtocolTCP, 443)), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/c", withShared("k"), withPort(corev1.ProtocolTCP, 443), withLoadBalancerIP("192.0.2.10")), want: outcome{Reason: ReasonSharingConflict, Other: "default/b"}},
			{assign: service("default/c", withShared("k"), withPort(corev1.ProtocolUDP, 443)), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/d", withShared("other"), withPort(corev1.ProtocolTCP, 8080), withLoadBalancerIP("192.0.2.10")), want: outcome{Reason: ReasonSharingConflict, Other: "default/a"}},
			{assign: service("default/e", withPort(corev1.ProtocolTCP, 8080), withLoadBalancerIP("192.0.2.10")), want: outcome{Reason: ReasonSharingConflict, Other: "default/a"}},
			{assign: service("default/f", withShared("k"), withPort(corev1.ProtocolTCP, 8080)), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true},
				counters: map[string]PoolCounters{"v4": {AssignedIPv4: 1, AvailableIPv4: 2}}},
			{assign: service("default/g"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true}},
			{assign: service("default/h", withShared("k"), withLoadBalancerIP("192.0.2.11"), withPort(corev1.ProtocolTCP, 9)), want: outcome{Reason: ReasonSharingConflict, Other: "default/g"}},
		}},
		{name: "sharing with externalTrafficPolicy Local needs the same selector", pools: []Pool{v4}, steps: []step{
			{assign: service("default/a", withShared("k"), withLocal("app=x")), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/b", withShared("k"), withLocal("app=y"), withPort(corev1.ProtocolTCP, 81)), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true}},
			{assign: service("default/c", withShared("k"), withLocal("app=x"), withPort(corev1.ProtocolTCP, 82)), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/d", withShared("k"), withPort(corev1.ProtocolTCP, 83), withLoadBalancerIP("192.0.2.10")), want: outcome{Reason: ReasonSharingConflict, Other: "default/a"}},
		}},
		{name: "changing the sharing key under a shared address", pools: []Pool{v4}, steps: []step{
			{assign: service("default/a", withShared("k")), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			{assign: service("default/b", withShared("k"), withPort(corev1.ProtocolTCP, 443)), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4", Allocated: true}},
			// The address is still used by b: a may not keep it with another key.
			{assign: service("default/a", withShared("k2")), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true}},
			// Alone on its address, b may change its key in place.
			{assign: service("default/b", withShared("k3"), withPort(corev1.ProtocolTCP, 443)), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4"}},
		}},
		{name: "dual stack", pools: []Pool{dual}, steps: []step{
			{assign: service("default/a", dualStack), want: outcome{IPs: []string{"192.0.2.0", "2001:db8::"}, Pool: "dual", Allocated: true}},
			{assign: service("default/b", single6), want: outcome{IPs: []string{"2001:db8::1"}, Pool: "dual", Allocated: true}},
			{assign: service("default/c", preferDual6), want: outcome{IPs: []string{"192.0.2.1", "2001:db8::2"}, Pool: "dual", Allocated: true},
				counters: map[string]PoolCounters{"dual": {AssignedIPv4: 2, AssignedIPv6: 3, AvailableIPv4: 2, AvailableIPv6: 1}}},
			{assign: service("default/d", dualStack, withAnnotation(AnnotationLoadBalancerIPs, "192.0.2.3")), want: outcome{Reason: ReasonInvalidRequest}},
			{assign: service("default/e", withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol)), want: outcome{Reason: ReasonInvalidRequest}},
		}},
		{name: "prefer dual stack takes one family, and the other when the pool gets it", pools: []Pool{pool("p", "192.0.2.0/31")}, steps: []step{
			{assign: service("default/a", preferDual), want: outcome{IPs: []string{"192.0.2.0"}, Pool: "p", Allocated: true}},
			{pools: []Pool{pool("p", "192.0.2.0/31", "2001:db8::/127")}},
			{assign: service("default/a", preferDual), want: outcome{IPs: []string{"192.0.2.0", "2001:db8::"}, Pool: "p", Allocated: true}},
		}},
		{name: "prefer dual stack falls back to the first pool of the primary family", pools: []Pool{pool("a4", "192.0.2.0/31"), pool("b6", "2001:db8::/127"), pool("c-dual", "198.51.100.0/31", "2001:db8:1::/127")}, steps: []step{
			{assign: service("default/a", preferDual6), want: outcome{IPs: []string{"198.51.100.0", "2001:db8:1::"}, Pool: "c-dual", Allocated: true}},
			{pools: []Pool{pool("a4", "192.0.2.0/31"), pool("b6", "2001:db8::/127")}},
			{assign: service("default/b", preferDual6), want: outcome{IPs: []string{"2001:db8::"}, Pool: "b6", Allocated: true}},
		}},
		{name: "serviceAllocation: namespaces, selectors, priority, then open pools", pools: []Pool{
			pool("open", "203.0.113.0/30"),
			pool("ns-low", "198.51.100.0/31").restricted(2, []string{"team"}),
			pool("ns-high", "198.51.100.8/31").restricted(1, []string{"team"}),
			pool("by-label", "192.0.2.0/31").restricted(0, nil, "tier=web"),
			pool("other-ns", "192.0.2.8/31").restricted(0, []string{"elsewhere"}),
		}, steps: []step{
			{assign: service("team/a"), want: outcome{IPs: []string{"198.51.100.8"}, Pool: "ns-high", Allocated: true}},
			{assign: service("team/b"), want: outcome{IPs: []string{"198.51.100.9"}, Pool: "ns-high", Allocated: true}},
			{assign: service("team/c"), want: outcome{IPs: []string{"198.51.100.0"}, Pool: "ns-low", Allocated: true}},
			{assign: service("default/d", withLabel("tier", "web")), want: outcome{IPs: []string{"192.0.2.0"}, Pool: "by-label", Allocated: true}},
			{assign: service("default/e"), want: outcome{IPs: []string{"203.0.113.0"}, Pool: "open", Allocated: true}},
			{assign: service("team/f", withLabel("tier", "web")), want: outcome{IPs: []string{"198.51.100.1"}, Pool: "ns-low", Allocated: true}},
			// Every pinned pool is full: the open pool.
			{assign: service("team/g"), want: outcome{IPs: []string{"203.0.113.1"}, Pool: "open", Allocated: true}},
			// A restricted pool never serves a Service it does not select,
			// even when asked by name.
			{assign: service("default/h", withAnnotation(AnnotationAddressPool, "other-ns")), want: outcome{Reason: ReasonNoMatchingPool}},
			{assign: service("default/i", withLoadBalancerIP("192.0.2.9")), want: outcome{Reason: ReasonNotInPool}},
			{assign: service("elsewhere/j", withLoadBalancerIP("192.0.2.9")), want: outcome{IPs: []string{"192.0.2.9"}, Pool: "other-ns", Allocated: true}},
		}},
		{name: "no pool of the family", pools: []Pool{v4}, steps: []step{
			{assign: service("default/a", single6), want: outcome{Reason: ReasonNoMatchingPool}},
			{assign: service("default/b", dualStack), want: outcome{Reason: ReasonNoMatchingPool}},
		}},
		{name: "no pools at all", pools: nil, steps: []step{
			{assign: service("default/a"), want: outcome{Reason: ReasonNoMatchingPool}},
		}},
		{name: "type and class changes release", pools: []Pool{pool("p", "192.0.2.10/32")}, steps: []step{
			{assign: service("default/a"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "p", Allocated: true}},
			{assign: service("default/b"), want: outcome{Reason: ReasonPoolExhausted}},
			{assign: service("default/a", withType(corev1.ServiceTypeClusterIP)), want: outcome{}},
			{assign: service("default/b"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "p", Allocated: true}},
			{assign: service("default/b", withClass("someone-else")), want: outcome{}},
			{assign: service("default/c"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "p", Allocated: true}},
		}},
		{name: "pool edited or deleted under assigned addresses", pools: []Pool{pool("p", "192.0.2.10-192.0.2.11"), pool("q", "198.51.100.0/31")}, steps: []step{
			{assign: service("default/a"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "p", Allocated: true}},
			{assign: service("default/b"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "p", Allocated: true}},
			// .10 leaves the pool: a moves, b stays.
			{pools: []Pool{pool("p", "192.0.2.11/32"), pool("q", "198.51.100.0/31")},
				counters: map[string]PoolCounters{"p": {AssignedIPv4: 1}, "q": {AvailableIPv4: 2}}},
			{assign: service("default/b"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "p"}},
			{assign: service("default/a"), want: outcome{IPs: []string{"198.51.100.0"}, Pool: "q", Allocated: true}},
			// p is renamed: b's address follows it.
			{pools: []Pool{pool("renamed", "192.0.2.11/32"), pool("q", "198.51.100.0/31")}},
			{assign: service("default/b"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "renamed"}},
			// Every pool is deleted: nothing to keep.
			{pools: []Pool{}},
			{assign: service("default/b"), want: outcome{Reason: ReasonNoMatchingPool}},
		}},
		{name: "a pool's serviceAllocation changes under an address", pools: []Pool{pool("p", "192.0.2.10/31"), pool("q", "198.51.100.0/31")}, steps: []step{
			{assign: service("default/a"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "p", Allocated: true}},
			{pools: []Pool{pool("p", "192.0.2.10/31").restricted(0, []string{"team"}), pool("q", "198.51.100.0/31")}},
			{assign: service("default/a"), want: outcome{IPs: []string{"198.51.100.0"}, Pool: "q", Allocated: true}},
		}},
		{name: "restore keeps what statuses hold, before anything is handed out", pools: []Pool{v4}, steps: []step{
			{restore: service("default/b", withStatus("192.0.2.10")), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4"}},
			{restore: service("default/c", withStatus("203.0.113.7")), want: outcome{}},
			{restore: service("default/d"), want: outcome{}},
			{assign: service("default/d"), want: outcome{IPs: []string{"192.0.2.11"}, Pool: "v4", Allocated: true}},
			{assign: service("default/b"), want: outcome{IPs: []string{"192.0.2.10"}, Pool: "v4"}},
			{assign: service("default/c"), want: outcome{IPs: []string{"192.0.2.12"}, Pool: "v4", Allocated: true}},
		}},
		{name: "a status address of the wrong family is replaced", pools: []Pool{dual}, steps: []step{
			{restore: service("default/a", single6, withStatus("192.0.2.1")), want: outcome{}},
			{assign: service("default/a", single6), want: outcome{IPs: []string{"2001:db8::"}, Pool: "dual", Allocated: true}},
		}},
		{name: "IPv6 capacity saturates", pools: []Pool{pool("big", "2001:db8::/48", "2001:db9::/64")}, steps: []step{
			{assign: service("default/a", single6), want: outcome{IPs: []string{"2001:db8::"}, Pool: "big", Allocated: true},
				counters: map[string]PoolCounters{"big": {AssignedIPv6: 1, AvailableIPv6: math.MaxInt64 - 1}}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAllocator(tc.pools, "")
			status := map[string][]corev1.LoadBalancerIngress{}
			for i, st := range tc.steps {
				var got Assignment
				var err error
				switch {
				case st.assign != nil:
					st.assign.Status.LoadBalancer.Ingress = status[Key(st.assign)]
					got, err = a.Assign(st.assign)
				case st.restore != nil:
					got, err = a.Restore(st.restore)
				case st.release != "":
					a.Release(st.release)
				case st.pools != nil:
					a.SetPools(st.pools)
				}
				if st.assign != nil || st.restore != nil {
					svc := st.assign
					if svc == nil {
						svc = st.restore
					}
					status[Key(svc)] = ingress(got.IPs)
					if d := cmp.Diff(st.want, outcomeOf(got, err)); d != "" {
						t.Errorf("step %d (%s): (-want +got):\n%s", i, Key(svc), d)
					}
				}
				for name, want := range st.counters {
					if d := cmp.Diff(want, a.Counters(name)); d != "" {
						t.Errorf("step %d: counters of %s (-want +got):\n%s", i, name, d)
					}
				}
			}
		})
	}
}

func outcomeOf(got Assignment, err error) outcome {
	o := outcome{Pool: got.Pool, Allocated: got.Allocated}
	for _, ip := range got.IPs {
		o.IPs = append(o.IPs, ip.String())
	}
	var e *Error
	if errors.As(err, &e) {
		o.Reason, o.Other = e.Reason, e.Other
	} else if err != nil {
		o.Reason = "not an *Error: " + Reason(err.Error())
	}
	return o
}

func ingress(ips []netip.Addr) []corev1.LoadBalancerIngress {
	var out []corev1.LoadBalancerIngress
	for _, ip := range ips {
		out = append(out, corev1.LoadBalancerIngress{IP: ip.String()})
	}
	return out
}

// TestNotInPoolMessage: a requested address no pool may hand out is
// refused with the actual reason, naming the pool where there is one.
func TestNotInPoolMessage(t *testing.T) {
	pools := []Pool{pool("a", "192.0.2.0/24").avoidBuggy(), pool("b", "198.51.100.0/24"), pool("v6", "2001:db8::/64")}
	for _, tc := range []struct {
		name, ips, want string
	}{
		{name: "in no pool", ips: "203.0.113.5", want: "203.0.113.5 is not in any IPAddressPool"},
		{name: "excluded by avoidBuggyIPs", ips: "192.0.2.255", want: "192.0.2.255 is excluded from IPAddressPool a by its avoidBuggyIPs (no .0 or .255 address)"},
		{name: ".0 of a pool without avoidBuggyIPs is fine elsewhere", ips: "198.51.100.0", want: ""},
		{name: "two pools", ips: "192.0.2.1,2001:db8::1", want: "192.0.2.1,2001:db8::1 are not in one IPAddressPool (192.0.2.1 in a, 2001:db8::1 in v6)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAllocator(pools, "")
			opts := []func(*corev1.Service){withAnnotation(AnnotationLoadBalancerIPs, tc.ips)}
			if strings.Contains(tc.ips, ",") {
				opts = append(opts, withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
			}
			_, err := a.Assign(service("default/s", opts...))
			var e *Error
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Assign: %v, want success", err)
			case tc.want == "":
			case !errors.As(err, &e) || e.Reason != ReasonNotInPool:
				t.Fatalf("Assign: %v, want %s", err, ReasonNotInPool)
			case e.Message != tc.want:
				t.Errorf("message %q, want %q", e.Message, tc.want)
			}
		})
	}
}
