package allocate

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSortForAssignment(t *testing.T) {
	svcs := []*corev1.Service{
		service("default/b"),
		service("team/a", withStatus("192.0.2.1")),
		service("default/a"),
		service("default/z", withStatus("192.0.2.2", "2001:db8::2")),
		service("default/c", withStatus("192.0.2.3")),
	}
	SortForAssignment(svcs)
	var got []string
	for _, s := range svcs {
		got = append(got, Key(s))
	}
	want := []string{"default/z", "default/c", "team/a", "default/a", "default/b"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v (more status addresses first, then by key)", got, want)
	}
}

// A Service listed before the one holding an address does not take it: the
// state is rebuilt from every status before anything is handed out.
func TestRebuildKeepsStatusAddressesBeforeAssigning(t *testing.T) {
	p := pool("p", "192.0.2.0/31")
	newcomer := service("default/a")
	holder := service("default/b", withStatus("192.0.2.0"))
	gone := service("default/c", withStatus("198.51.100.1")) // not in any pool
	a := Rebuild([]Pool{p}, "", []*corev1.Service{newcomer, gone, holder})

	if got, ok := a.Lookup("default/b"); !ok || len(got.IPs) != 1 || got.IPs[0].String() != "192.0.2.0" {
		t.Fatalf("default/b after Rebuild: %+v %v, want 192.0.2.0 kept", got, ok)
	}
	if _, ok := a.Lookup("default/a"); ok {
		t.Errorf("Rebuild handed out an address to default/a")
	}
	if _, ok := a.Lookup("default/c"); ok {
		t.Errorf("Rebuild kept default/c's address outside every pool")
	}
	got, err := a.Assign(newcomer)
	if err != nil || len(got.IPs) != 1 || got.IPs[0].String() != "192.0.2.1" || !got.Allocated {
		t.Errorf("Assign(default/a) = %+v, %v; want 192.0.2.1, newly allocated", got, err)
	}
}

// A Service read from a file has no cluster IPs yet: its spec's families
// decide (render's input).
func TestFamilyOfAServiceWithoutClusterIPs(t *testing.T) {
	p := pool("dual", "192.0.2.0/31", "2001:db8::/127")
	for _, tc := range []struct {
		name     string
		policy   *corev1.IPFamilyPolicy
		families []corev1.IPFamily
		want     []string
	}{
		{name: "nothing set: IPv4", want: []string{"192.0.2.0"}},
		{name: "ipFamilies IPv6", families: []corev1.IPFamily{corev1.IPv6Protocol}, want: []string{"2001:db8::"}},
		{name: "SingleStack takes the first of two", policy: ptrTo(corev1.IPFamilyPolicySingleStack),
			families: []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}, want: []string{"2001:db8::"}},
		{name: "RequireDualStack", policy: ptrTo(corev1.IPFamilyPolicyRequireDualStack), want: []string{"192.0.2.0", "2001:db8::"}},
		{name: "PreferDualStack with two families", policy: ptrTo(corev1.IPFamilyPolicyPreferDualStack),
			families: []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}, want: []string{"192.0.2.0", "2001:db8::"}},
		{name: "PreferDualStack with one family", policy: ptrTo(corev1.IPFamilyPolicyPreferDualStack),
			families: []corev1.IPFamily{corev1.IPv4Protocol}, want: []string{"192.0.2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := service("default/a", func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil
				s.Spec.IPFamilyPolicy, s.Spec.IPFamilies = tc.policy, tc.families
			})
			got, err := NewAllocator([]Pool{p}, "").Assign(svc)
			if err != nil {
				t.Fatal(err)
			}
			var ips []string
			for _, ip := range got.IPs {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tc.want) {
				t.Errorf("got %v, want %v", ips, tc.want)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// Without any family in the spec, the status addresses tell it: a
// hand-written Service with an IPv6 or dual-stack status keeps it.
func TestFamilyOfAServiceWithoutClusterIPsFromItsStatus(t *testing.T) {
	p := pool("dual", "192.0.2.0/31", "2001:db8::/127")
	for _, status := range [][]string{{"2001:db8::1"}, {"192.0.2.1", "2001:db8::1"}} {
		svc := service("default/a", withStatus(status...), func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.IPFamilies = "", nil, nil
		})
		got, err := NewAllocator([]Pool{p}, "").Assign(svc)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.IPs) != len(status) || got.IPs[0].String() != status[0] || got.Allocated {
			t.Errorf("status %v: got %+v, want the status kept", status, got)
		}
	}
}
