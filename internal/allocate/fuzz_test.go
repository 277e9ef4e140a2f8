package allocate

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// fuzzPools are the two pool configurations a fuzzed sequence switches
// between: small, so that pools run out and Services collide.
var fuzzPools = [2][]Pool{
	{
		pool("a", "192.0.2.0-192.0.2.4").avoidBuggy(),
		pool("b", "198.51.100.0/30", "2001:db8::/126"),
		pool("m", "203.0.113.0/31").manual(),
		pool("t", "192.0.2.64/31").restricted(1, []string{"team"}),
	},
	{
		pool("b", "198.51.100.2/31", "2001:db8::/127"),
		pool("c", "192.0.2.0/30"),
		pool("m", "203.0.113.0/31").manual().restricted(0, nil, "app=s1"),
	},
}

var fuzzRequests = []string{"", "192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1", "198.51.100.2,2001:db8::2", "192.0.2.0", "bad"}

// fuzzService builds Service i (of 8) from two bytes of options.
func fuzzService(i int, o1, o2 byte) *corev1.Service {
	ns := "default"
	if i%3 == 2 {
		ns = "team"
	}
	var opts []func(*corev1.Service)
	switch o1 % 4 {
	case 1:
		opts = append(opts, withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol))
	case 2:
		opts = append(opts, withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
	case 3:
		opts = append(opts, withFamilies(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))
	}
	if k := (o1 >> 2) % 3; k > 0 {
		opts = append(opts, withShared(fmt.Sprintf("k%d", k)))
	}
	opts = append(opts, withPort(corev1.ProtocolTCP, 80+int32((o1>>4)%2)))
	if o1>>5&1 == 1 {
		opts = append(opts, withLocal(fmt.Sprintf("app=s%d", (o1>>6)%2)))
	}
	if req := fuzzRequests[o2%8]; req != "" {
		opts = append(opts, withAnnotation(AnnotationLoadBalancerIPs, req))
	}
	if p := (o2 >> 3) % 5; p > 0 {
		opts = append(opts, withAnnotation(AnnotationAddressPool, []string{"", "a", "b", "m", "zz"}[p]))
	}
	if o2>>6 == 3 {
		opts = append(opts, withType(corev1.ServiceTypeNodePort))
	}
	opts = append(opts, withLabel("app", fmt.Sprintf("s%d", i%2)))
	return service(fmt.Sprintf("%s/svc%d", ns, i), opts...)
}

// runSequence interprets data as operations (3 bytes each) and returns a
// transcript of every answer; it checks the invariants after each step.
func runSequence(t *testing.T, data []byte) []string {
	a := NewAllocator(fuzzPools[0], "")
	status := map[string][]corev1.LoadBalancerIngress{}
	var transcript []string
	for len(data) >= 3 {
		op, o1, o2 := data[0], data[1], data[2]
		data = data[3:]
		i := int(op>>2) % 8
		switch op % 4 {
		case 0, 1:
			svc := fuzzService(i, o1, o2)
			svc.Status.LoadBalancer.Ingress = status[Key(svc)]
			got, err := a.Assign(svc)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("Assign(%s) returned %T %v, want an *Error", Key(svc), err, err)
				}
			}
			status[Key(svc)] = ingress(got.IPs)
			transcript = append(transcript, fmt.Sprintf("assign %s: %v %s %v %v", Key(svc), got.IPs, got.Pool, got.Allocated, err))
		case 2:
			key := fuzzService(i, 0, 0).Namespace + fmt.Sprintf("/svc%d", i)
			a.Release(key)
			delete(status, key)
			transcript = append(transcript, "release "+key)
		case 3:
			a.SetPools(fuzzPools[o1%2])
			transcript = append(transcript, fmt.Sprintf("pools %d", o1%2))
		}
		checkInvariants(t, a)
	}
	return transcript
}

// checkInvariants: an address has several users only if they all share one
// sharing key (and, for externalTrafficPolicy Local, one selector) and no
// port; every address is usable in its pool; the counters and the free set
// agree with the assignments.
func checkInvariants(t *testing.T, a *Allocator) {
	t.Helper()
	byAddr := map[netip.Addr][]*assignment{}
	for _, as := range a.services {
		p := a.pools[as.pool]
		if p == nil {
			t.Fatalf("%s is assigned from unknown pool %s", as.key, as.pool)
		}
		for _, ip := range as.ips {
			if !p.usable(ip) {
				t.Fatalf("%s has %s, not usable in pool %s", as.key, ip, as.pool)
			}
			byAddr[ip] = append(byAddr[ip], as)
		}
	}
	counts := map[string]*[2]int64{}
	for ip, users := range byAddr {
		if !a.inUse.has(ip) {
			t.Fatalf("%s is assigned but not in the in-use set", ip)
		}
		for i, x := range users {
			for _, y := range users[i+1:] {
				if x.share.sharing == "" || x.share != y.share {
					t.Fatalf("%s is held by %s (%+v) and %s (%+v) without a common sharing key", ip, x.key, x.share, y.key, y.share)
				}
				for _, port := range x.ports {
					if slices.Contains(y.ports, port) {
						t.Fatalf("%s: %s and %s both use port %s", ip, x.key, y.key, port)
					}
				}
			}
		}
		pool := users[0].pool
		if counts[pool] == nil {
			counts[pool] = &[2]int64{}
		}
		if ip.Is4() {
			counts[pool][0]++
		} else {
			counts[pool][1]++
		}
	}
	for _, name := range a.poolNames {
		want := [2]int64{}
		if c := counts[name]; c != nil {
			want = *c
		}
		got := a.Counters(name)
		v4, v6 := a.pools[name].capacity()
		if got.AssignedIPv4 != want[0] || got.AssignedIPv6 != want[1] || got.AvailableIPv4 != v4-want[0] || got.AvailableIPv6 != v6-want[1] {
			t.Fatalf("pool %s counters %+v, recounted assigned %v of capacity %d/%d", name, got, want, v4, v6)
		}
	}
	n := 0
	for _, r := range a.inUse.runs {
		for x := r.first; ; x = x.Next() {
			n++
			if x == r.last {
				break
			}
		}
	}
	if n != len(byAddr) {
		t.Fatalf("the in-use set holds %d addresses, the assignments %d", n, len(byAddr))
	}
}

// FuzzAllocator: no panic, the invariants hold after every step, and the
// same sequence gives the same answers twice.
func FuzzAllocator(f *testing.F) {
	f.Add([]byte{0, 0, 0, 4, 0, 0, 8, 4, 1, 12, 5, 2, 3, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 4, 0, 4, 20, 0, 8, 36, 1, 2, 0, 0, 16, 2, 5, 3, 0, 0, 20, 3, 8})
	f.Add([]byte{1, 8, 9, 5, 8, 17, 9, 40, 1, 13, 3, 2, 3, 0, 0, 1, 8, 9, 6, 0, 0, 17, 200, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		first := runSequence(t, data)
		second := runSequence(t, data)
		if !slices.Equal(first, second) {
			t.Fatalf("not deterministic:\n%v\n%v", first, second)
		}
	})
}
