package allocate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
)

func TestPoolsFrom(t *testing.T) {
	no := false
	namespaces := []corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "red", Labels: map[string]string{"team": "a"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "blue", Labels: map[string]string{"team": "b"}}},
	}
	objs := []*metallbv1beta1.IPAddressPool{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "plain"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"192.0.2.10-192.0.2.13", "2001:db8::/64"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "restricted"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"198.51.100.0/24"}, AutoAssign: &no, AvoidBuggyIPs: true,
				ServiceAllocation: &metallbv1beta1.ServiceAllocation{Priority: 3, Namespaces: []string{"green"},
					NamespaceSelectors: []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"team": "a"}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "empty-allocation"},
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"203.0.113.0/24"}, ServiceAllocation: &metallbv1beta1.ServiceAllocation{}}},
	}
	got, err := PoolsFrom(objs, namespaces)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Name                   string
		CIDRs                  []string
		AutoAssign, AvoidBuggy bool
		Priority               int
		Namespaces             map[string]bool
		Selectors              []string
	}
	var views []view
	for _, p := range got {
		v := view{Name: p.Name, AutoAssign: p.AutoAssign, AvoidBuggy: p.AvoidBuggyIPs}
		for _, c := range p.CIDRs {
			v.CIDRs = append(v.CIDRs, c.String())
		}
		if sa := p.Allocation; sa != nil {
			v.Priority, v.Namespaces = sa.Priority, sa.Namespaces
			for _, s := range sa.ServiceSelectors {
				v.Selectors = append(v.Selectors, "<"+s.String()+">")
			}
		}
		views = append(views, v)
	}
	want := []view{
		{Name: "plain", CIDRs: []string{"192.0.2.10/31", "192.0.2.12/31", "2001:db8::/64"}, AutoAssign: true},
		{Name: "restricted", CIDRs: []string{"198.51.100.0/24"}, AvoidBuggy: true, Priority: 3, Namespaces: map[string]bool{"green": true, "red": true}},
		// No namespaces and no selectors: every Service (MetalLB's reading).
		{Name: "empty-allocation", CIDRs: []string{"203.0.113.0/24"}, AutoAssign: true, Namespaces: map[string]bool{}, Selectors: []string{"<>"}},
	}
	if d := cmp.Diff(want, views); d != "" {
		t.Errorf("PoolsFrom (-want +got):\n%s", d)
	}
	if v4, v6 := got[1].capacity(); v4 != 254 || v6 != 0 {
		t.Errorf("capacity of a /24 avoiding .0 and .255 = %d, %d; want 254, 0", v4, v6)
	}
}

func TestPoolsFromNamesTheBadField(t *testing.T) {
	for _, tc := range []struct {
		spec metallbv1beta1.IPAddressPoolSpec
		want string
	}{
		{metallbv1beta1.IPAddressPoolSpec{}, "IPAddressPool ns/p: spec.addresses is empty"},
		{metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"192.0.2.0/24", "192.0.2.9-192.0.2.1"}},
			`IPAddressPool ns/p: spec.addresses[1] "192.0.2.9-192.0.2.1": the range start 192.0.2.9 is after its end 192.0.2.1`},
		{metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"192.0.2.0/24"}, ServiceAllocation: &metallbv1beta1.ServiceAllocation{
			ServiceSelectors: []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}}}},
			"IPAddressPool ns/p: spec.serviceAllocation.serviceSelectors[0]: "},
	} {
		_, err := PoolsFrom([]*metallbv1beta1.IPAddressPool{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: tc.spec}}, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("PoolsFrom error = %v, want it to start with %q", err, tc.want)
		}
	}
}
