package allocate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/frrgen/frrgen/internal/pooladdr"
)

// The annotations MetalLB reads, with the deprecated prefix it still honours.
const (
	AnnotationLoadBalancerIPs = "metallb.io/loadBalancerIPs"
	AnnotationAddressPool     = "metallb.io/address-pool"
	AnnotationAllowSharedIP   = "metallb.io/allow-shared-ip"
	// AnnotationAllocatedFromPool is what the allocator writes: the pool of
	// the Service's addresses.
	AnnotationAllocatedFromPool = "metallb.io/ip-allocated-from-pool"

	deprecatedPrefix = "metallb.universe.tf/"
)

// Family is the address family of a Service or of a set of addresses.
type Family string

const (
	IPv4      Family = "IPv4"
	IPv6      Family = "IPv6"
	DualStack Family = "dual-stack"
)

// Port is one port a Service exposes; two Services sharing an address must
// not expose the same one.
type Port struct {
	Protocol corev1.Protocol
	Port     int32
}

func (p Port) String() string { return fmt.Sprintf("%s/%d", p.Protocol, p.Port) }

// Key names a Service as "namespace/name".
func Key(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }

// Handles reports whether the allocator (and the announcer) handle svc: a
// LoadBalancer Service whose loadBalancerClass is class ("" meaning none).
func Handles(svc *corev1.Service, class string) bool {
	got := ""
	if svc.Spec.LoadBalancerClass != nil {
		got = *svc.Spec.LoadBalancerClass
	}
	return got == class && svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// shareKey is what two Services must agree on to share an address: the
// allow-shared-ip value (empty: no sharing) and, for
// externalTrafficPolicy Local, the pod selector, so that both are announced
// from the same nodes.
type shareKey struct {
	sharing string
	backend string
}

// request is what the allocator reads from a Service.
type request struct {
	key        string
	svc        *corev1.Service
	family     Family // from spec.clusterIPs (familyAsWritten without them)
	primary    Family // spec.ipFamilies[0], IPv4 by default
	policy     corev1.IPFamilyPolicy
	ports      []Port
	share      shareKey
	pool       string       // requested pool, "" for any
	wanted     []netip.Addr // requested addresses, nil for any
	current    []netip.Addr // status.loadBalancer.ingress
	badIngress bool         // an ingress entry that is not an IP address
}

func annotation(svc *corev1.Service, name string) (string, bool) {
	if v, ok := svc.Annotations[name]; ok {
		return v, true
	}
	v, ok := svc.Annotations[deprecatedPrefix+strings.TrimPrefix(name, "metallb.io/")]
	return v, ok
}

// readRequest reads the parts of svc that do not need a verdict; the
// requested addresses are parsed by wantedIPs, where an error is a verdict.
func readRequest(svc *corev1.Service) request {
	r := request{key: Key(svc), svc: svc, primary: IPv4, policy: corev1.IPFamilyPolicySingleStack}
	if svc.Spec.IPFamilyPolicy != nil {
		r.policy = *svc.Spec.IPFamilyPolicy
	}
	if len(svc.Spec.IPFamilies) > 0 && svc.Spec.IPFamilies[0] == corev1.IPv6Protocol {
		r.primary = IPv6
	}
	clusterIPs := svc.Spec.ClusterIPs
	if len(clusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		clusterIPs = []string{svc.Spec.ClusterIP}
	}
	r.family, _ = familyOfStrings(clusterIPs)
	for _, p := range svc.Spec.Ports {
		r.ports = append(r.ports, Port{Protocol: p.Protocol, Port: p.Port})
	}
	r.share.sharing, _ = annotation(svc, AnnotationAllowSharedIP)
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		r.share.backend = labels.Set(svc.Spec.Selector).String()
	}
	r.pool, _ = annotation(svc, AnnotationAddressPool)
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP == "" {
			continue
		}
		a, err := pooladdr.ParseIP(ing.IP)
		if err != nil {
			r.badIngress = true
			continue
		}
		r.current = append(r.current, a.Unmap())
	}
	if len(clusterIPs) == 0 {
		r.family = familyAsWritten(svc.Spec, r.primary, r.current)
	}
	return r
}

// wantedIPs parses the requested addresses: the loadBalancerIPs annotation
// (comma-separated) or spec.loadBalancerIP, never both.
func wantedIPs(svc *corev1.Service) ([]netip.Addr, error) {
	text, annotated := annotation(svc, AnnotationLoadBalancerIPs)
	if text == "" && svc.Spec.LoadBalancerIP == "" {
		return nil, nil
	}
	if text != "" && svc.Spec.LoadBalancerIP != "" {
		return nil, fmt.Errorf("annotation %s (%q) and spec.loadBalancerIP (%q) are both set; use only the annotation", AnnotationLoadBalancerIPs, text, svc.Spec.LoadBalancerIP)
	}
	field, parts := "spec.loadBalancerIP", []string{svc.Spec.LoadBalancerIP}
	if annotated && text != "" {
		field, parts = "annotation "+AnnotationLoadBalancerIPs, strings.Split(text, ",")
	}
	var out []netip.Addr
	for _, p := range parts {
		a, err := pooladdr.ParseIP(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an IP address", field, strings.TrimSpace(p))
		}
		out = append(out, a.Unmap())
	}
	if _, err := familyOfAddrs(out); err != nil {
		return nil, fmt.Errorf("%s %q: %v", field, text+svc.Spec.LoadBalancerIP, err)
	}
	return out, nil
}

// familyAsWritten is the family of a Service without cluster IPs: one read
// from a file (`frrgen render`), as the apiserver, which always gives a
// LoadBalancer Service its cluster IPs, has not seen it. Its spec decides:
// dual-stack for RequireDualStack or two ipFamilies, the one listed family
// otherwise. With neither set, the family of its status addresses (what an
// allocator gave it), else IPv4, the apiserver's default.
func familyAsWritten(spec corev1.ServiceSpec, primary Family, status []netip.Addr) Family {
	policy := ptr.Deref(spec.IPFamilyPolicy, "")
	switch {
	case policy == corev1.IPFamilyPolicyRequireDualStack || policy != corev1.IPFamilyPolicySingleStack && len(spec.IPFamilies) == 2:
		return DualStack
	case len(spec.IPFamilies) > 0 || policy != "":
		return primary
	}
	if f, err := familyOfAddrs(status); err == nil {
		return f
	}
	return IPv4
}

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// familyOfAddrs is the family of one address, or of one of each family.
func familyOfAddrs(ips []netip.Addr) (Family, error) {
	switch {
	case len(ips) == 1:
		return familyOf(ips[0]), nil
	case len(ips) == 2 && familyOf(ips[0]) != familyOf(ips[1]):
		return DualStack, nil
	case len(ips) == 2:
		return "", fmt.Errorf("two addresses of the same family")
	default:
		return "", fmt.Errorf("%d addresses; give one, or one IPv4 and one IPv6", len(ips))
	}
}

func familyOfStrings(ips []string) (Family, error) {
	var addrs []netip.Addr
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", fmt.Errorf("%q is not an IP address", s)
		}
		addrs = append(addrs, a.Unmap())
	}
	return familyOfAddrs(addrs)
}

// sameAddrs compares two address lists as sets.
func sameAddrs(a, b []netip.Addr) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.SortFunc(x, netip.Addr.Compare)
	slices.SortFunc(y, netip.Addr.Compare)
	return slices.Equal(x, y)
}
