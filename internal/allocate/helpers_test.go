package allocate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frrgen/frrgen/internal/pooladdr"
)

// pool builds a Pool from address entries ("192.0.2.0/24", "a-b").
func pool(name string, entries ...string) Pool {
	p := Pool{Name: name, AutoAssign: true}
	for _, e := range entries {
		cidrs, err := pooladdr.ParseAddressEntry(e)
		if err != nil {
			panic(err)
		}
		p.CIDRs = append(p.CIDRs, cidrs...)
	}
	return p
}

func (p Pool) manual() Pool     { p.AutoAssign = false; return p }
func (p Pool) avoidBuggy() Pool { p.AvoidBuggyIPs = true; return p }
func (p Pool) restricted(priority int, namespaces []string, selectors ...string) Pool {
	p.Allocation = &ServiceAllocation{Priority: priority, Namespaces: map[string]bool{}}
	for _, ns := range namespaces {
		p.Allocation.Namespaces[ns] = true
	}
	for _, s := range selectors {
		p.Allocation.ServiceSelectors = append(p.Allocation.ServiceSelectors, labels.SelectorFromSet(labels.Set(parseLabels(s))))
	}
	return p
}

func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// service builds a LoadBalancer Service "ns/name" with one IPv4 cluster IP
// and port TCP/80; opts change it.
func service(key string, opts ...func(*corev1.Service)) *corev1.Service {
	ns, name, _ := strings.Cut(key, "/")
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{}, Labels: map[string]string{}},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeLoadBalancer,
			ClusterIP:  "10.96.0.10",
			ClusterIPs: []string{"10.96.0.10"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports:      []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}},
			Selector:   map[string]string{"app": name},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func withStatus(ips ...string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = nil
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
	}
}

func withAnnotation(k, v string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Annotations[k] = v }
}

func withShared(key string) func(*corev1.Service) {
	return withAnnotation(AnnotationAllowSharedIP, key)
}

func withPort(proto corev1.Protocol, port int32) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.Ports = []corev1.ServicePort{{Protocol: proto, Port: port}} }
}

func withLabel(k, v string) func(*corev1.Service) { return func(s *corev1.Service) { s.Labels[k] = v } }

func withLocal(selector string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Selector = parseLabels(selector)
	}
}

func withLoadBalancerIP(ip string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.LoadBalancerIP = ip }
}

// withFamilies sets a dual-stack or IPv6 Service: families in order, one
// cluster IP each, and the policy.
func withFamilies(policy corev1.IPFamilyPolicy, families ...corev1.IPFamily) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = &policy
		s.Spec.IPFamilies = families
		s.Spec.ClusterIPs = nil
		for _, f := range families {
			ip := "10.96.0.10"
			if f == corev1.IPv6Protocol {
				ip = "fd00::10"
			}
			s.Spec.ClusterIPs = append(s.Spec.ClusterIPs, ip)
		}
		s.Spec.ClusterIP = s.Spec.ClusterIPs[0]
	}
}

func withType(t corev1.ServiceType) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.Type = t }
}

func withClass(c string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c }
}
