package allocate

import (
	"fmt"
	"math"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/pooladdr"
)

// Pool is an IPAddressPool as the allocator reads it.
type Pool struct {
	Name string
	// CIDRs cover the pool's addresses, in the order of spec.addresses (a
	// range becomes the CIDRs that cover it). Addresses are handed out from
	// the first CIDR of a family that has a free one, lowest first.
	CIDRs []netip.Prefix
	// AutoAssign false: only a Service that names the pool or one of its
	// addresses gets an address from it.
	AutoAssign bool
	// AvoidBuggyIPs skips IPv4 addresses ending in .0 or .255.
	AvoidBuggyIPs bool
	// Allocation restricts the pool to some Services; nil: any Service, and
	// the pool is one of those tried when no restricted pool fits.
	Allocation *ServiceAllocation
}

// ServiceAllocation is a pool's spec.serviceAllocation, with its namespace
// selectors already resolved against the cluster's Namespaces.
type ServiceAllocation struct {
	// Priority orders restricted pools: 1 before 2, any positive value before
	// none (0).
	Priority int
	// Namespaces, when not empty, are the only namespaces served.
	Namespaces map[string]bool
	// ServiceSelectors, when not empty, must match the Service's labels.
	// A serviceAllocation that lists neither namespaces nor selectors
	// selects every Service (as MetalLB reads it).
	ServiceSelectors []labels.Selector
}

// PoolsFrom reads IPAddressPool objects; namespaces resolve the
// namespaceSelectors. An error names the pool, the field and the value.
// Overlaps between pools are not checked here: translate reports them, and an
// allocator must not be fed a configuration translate refused.
func PoolsFrom(objs []*metallbv1beta1.IPAddressPool, namespaces []corev1.Namespace) ([]Pool, error) {
	out := make([]Pool, 0, len(objs))
	for _, obj := range objs {
		p := Pool{Name: obj.Name, AutoAssign: obj.Spec.AutoAssign == nil || *obj.Spec.AutoAssign, AvoidBuggyIPs: obj.Spec.AvoidBuggyIPs}
		where := fmt.Sprintf("IPAddressPool %s/%s", obj.Namespace, obj.Name)
		if len(obj.Spec.Addresses) == 0 {
			return nil, fmt.Errorf("%s: spec.addresses is empty", where)
		}
		for i, a := range obj.Spec.Addresses {
			cidrs, err := pooladdr.ParseAddressEntry(string(a))
			if err != nil {
				return nil, fmt.Errorf("%s: spec.addresses[%d] %q: %v", where, i, a, err)
			}
			p.CIDRs = append(p.CIDRs, cidrs...)
		}
		if sa := obj.Spec.ServiceAllocation; sa != nil {
			alloc, err := serviceAllocationFrom(where, sa, namespaces)
			if err != nil {
				return nil, err
			}
			p.Allocation = alloc
		}
		out = append(out, p)
	}
	return out, nil
}

func serviceAllocationFrom(where string, sa *metallbv1beta1.ServiceAllocation, namespaces []corev1.Namespace) (*ServiceAllocation, error) {
	out := &ServiceAllocation{Priority: sa.Priority, Namespaces: map[string]bool{}}
	for _, ns := range sa.Namespaces {
		out.Namespaces[ns] = true
	}
	if len(sa.Namespaces) == 0 && len(sa.NamespaceSelectors) == 0 && len(sa.ServiceSelectors) == 0 {
		out.ServiceSelectors = []labels.Selector{labels.Everything()}
		return out, nil
	}
	for i := range sa.NamespaceSelectors {
		sel, err := metav1.LabelSelectorAsSelector(sa.NamespaceSelectors[i].AsMeta())
		if err != nil {
			return nil, fmt.Errorf("%s: spec.serviceAllocation.namespaceSelectors[%d]: %v", where, i, err)
		}
		for _, ns := range namespaces {
			if sel.Matches(labels.Set(ns.Labels)) {
				out.Namespaces[ns.Name] = true
			}
		}
	}
	for i := range sa.ServiceSelectors {
		sel, err := metav1.LabelSelectorAsSelector(sa.ServiceSelectors[i].AsMeta())
		if err != nil {
			return nil, fmt.Errorf("%s: spec.serviceAllocation.serviceSelectors[%d]: %v", where, i, err)
		}
		out.ServiceSelectors = append(out.ServiceSelectors, sel)
	}
	return out, nil
}

// serves reports whether the pool's serviceAllocation admits svc.
func (p *Pool) serves(svc *corev1.Service) bool {
	sa := p.Allocation
	if sa == nil {
		return true
	}
	if len(sa.Namespaces) > 0 && !sa.Namespaces[svc.Namespace] {
		return false
	}
	if len(sa.ServiceSelectors) == 0 {
		return true
	}
	set := labels.Set(svc.Labels)
	for _, sel := range sa.ServiceSelectors {
		if sel.Matches(set) {
			return true
		}
	}
	return false
}

// usable reports whether a of the pool may be handed out: inside one of its
// CIDRs and, with avoidBuggyIPs, not an IPv4 .0 or .255.
func (p *Pool) usable(a netip.Addr) bool {
	if p.AvoidBuggyIPs && buggy(a) {
		return false
	}
	for _, c := range p.CIDRs {
		if c.Contains(a) {
			return true
		}
	}
	return false
}

// buggy: an IPv4 address ending in .0 or .255, which some old customer
// equipment drops (smurf protection).
func buggy(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	last := a.As4()[3]
	return last == 0 || last == 255
}

// capacity counts the usable addresses of the pool per family, as MetalLB's
// pool status does: a CIDR with 62 or more host bits counts as MaxInt64
// (saturating, where MetalLB's sum can overflow).
func (p *Pool) capacity() (v4, v6 int64) {
	for _, c := range p.CIDRs {
		hostBits := c.Addr().BitLen() - c.Bits()
		var n int64
		if hostBits >= 62 {
			n = math.MaxInt64
		} else {
			n = int64(1) << hostBits
			if p.AvoidBuggyIPs && c.Addr().Is4() {
				n -= buggyIn(c)
			}
		}
		if c.Addr().Is4() {
			v4 = saturatingAdd(v4, n)
		} else {
			v6 = saturatingAdd(v6, n)
		}
	}
	return v4, v6
}

// buggyIn counts the .0 and .255 addresses of an IPv4 CIDR.
func buggyIn(c netip.Prefix) int64 {
	if c.Bits() <= 24 {
		return int64(2) << (24 - c.Bits())
	}
	if c.Bits() == 32 { // one address, counted once (MetalLB counts it twice)
		if buggy(c.Addr()) {
			return 1
		}
		return 0
	}
	var n int64
	if buggy(c.Masked().Addr()) {
		n++
	}
	if buggy(pooladdr.LastAddr(c)) {
		n++
	}
	return n
}

func saturatingAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
