package layout_test

import (
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/translate"
)

const (
	frrK8sNamespace = "frr-k8s-system"
	metallbNS       = "metallb-system"
	hostnameLabel   = "kubernetes.io/hostname"
)

// nodeOf is the node a per-node configuration is for.
func nodeOf(c *frrv1beta1.FRRConfiguration) string { return c.Annotations[translate.AnnotationNode] }

// labelsOf are the labels of the node a per-node configuration selects: the
// hostname label its selector names.
func labelsOf(c *frrv1beta1.FRRConfiguration) map[string]string {
	return maps.Clone(c.Spec.NodeSelector.MatchLabels)
}

// passwordSecrets are basic-auth Secrets for every passwordSecret the
// configurations reference, so that merge resolves them.
func passwordSecrets(configs []frrv1beta1.FRRConfiguration) []corev1.Secret {
	names := map[string]bool{}
	for _, c := range configs {
		for _, r := range c.Spec.BGP.Routers {
			for _, n := range r.Neighbors {
				if n.PasswordSecret.Name != "" {
					names[n.PasswordSecret.Name] = true
				}
			}
		}
	}
	var out []corev1.Secret
	for _, name := range slices.Sorted(maps.Keys(names)) {
		out = append(out, corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNamespace, Name: name},
			Type:       corev1.SecretTypeBasicAuth,
			Data:       map[string][]byte{corev1.BasicAuthPasswordKey: []byte("dummy-password")},
		})
	}
	return out
}

// effective is what frr-k8s makes of configs for a node, without the names
// of the objects it came from (which the layouts change on purpose).
func effective(t testing.TB, configs []frrv1beta1.FRRConfiguration, nodeLabels map[string]string, secrets []corev1.Secret) *merge.Effective {
	t.Helper()
	eff, warnings, conflict := merge.ForNode(configs, nodeLabels, secrets)
	if conflict != nil {
		t.Fatalf("frr-k8s would refuse the node's configurations: %s", conflict.Message)
	}
	if len(warnings) > 0 {
		t.Fatalf("merge warns: %v", warnings)
	}
	eff.Configs = nil
	return eff
}

// checkSameEffective checks that every node gets from l exactly what its
// per-node configuration gives it, and that every object fits maxBytes.
func checkSameEffective(t *testing.T, perNode []frrv1beta1.FRRConfiguration, l layout.Layout, maxBytes int) {
	t.Helper()
	secrets := passwordSecrets(perNode)
	all := l.Objects()
	for i := range perNode {
		c := &perNode[i]
		want := effective(t, []frrv1beta1.FRRConfiguration{*c}, labelsOf(c), secrets)
		// All objects of the layout: those of other nodes must not select it.
		got := effective(t, all, labelsOf(c), secrets)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("node %s: effective configuration differs from the per-node one (-per-node +layout):\n%s", nodeOf(c), diff)
		}
		if diff := cmp.Diff(want, effective(t, l.ForNode(nodeOf(c)), labelsOf(c), secrets)); diff != "" {
			t.Errorf("node %s: ForNode misses objects that select it (-per-node +ForNode):\n%s", nodeOf(c), diff)
		}
	}
	for _, o := range all {
		checkRouterPrefixesAdvertised(t, &o)
		size, err := layout.Size(&o)
		if err != nil {
			t.Fatal(err)
		}
		if size > maxBytes {
			t.Errorf("%s is %d bytes, over the threshold %d", o.Name, size, maxBytes)
		}
		if l.Sizes != nil && l.Sizes[o.Name] != size {
			t.Errorf("%s is %d bytes, Layout.Sizes says %d", o.Name, size, l.Sizes[o.Name])
		}
	}
}

// checkRouterPrefixesAdvertised: as in translate's output, a router's
// prefixes are exactly what its neighbors advertise in the same object; an
// extra one would tie the object to entries that live elsewhere.
func checkRouterPrefixesAdvertised(t *testing.T, c *frrv1beta1.FRRConfiguration) {
	t.Helper()
	for _, r := range c.Spec.BGP.Routers {
		advertised := map[string]bool{}
		for _, n := range r.Neighbors {
			for _, p := range n.ToAdvertise.Allowed.Prefixes {
				advertised[p] = true
			}
		}
		if got, want := slices.Sorted(slices.Values(r.Prefixes)), slices.Sorted(maps.Keys(advertised)); !slices.Equal(got, want) {
			t.Errorf("%s router vrf %q: prefixes %v, but its neighbors advertise %v", c.Name, r.VRF, got, want)
		}
	}
}

// goldenConfigs are the FRRConfigurations of every translate golden case
// (testdata/*/output.yaml, which translate's TestGolden pins), by case.
func goldenConfigs(t testing.TB) map[string][]frrv1beta1.FRRConfiguration {
	t.Helper()
	files, err := filepath.Glob("../translate/testdata/*/output.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no translate golden outputs: %v", err)
	}
	out := map[string][]frrv1beta1.FRRConfiguration{}
	for _, f := range files {
		objs, err := manifest.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs.FRRConfigurations) > 0 {
			out[filepath.Base(filepath.Dir(f))] = objs.FRRConfigurations
		}
	}
	return out
}

// rackSnapshot is a cluster of nodes spread over racks, each rack with
// peersPerRack peers of its own (the same addresses and ASNs in every rack:
// each rack's ToRs are reached at the same addresses), a /32 advertisement
// with localPref and a community, a /24 one with another community, ips
// ETP-Cluster services and, per node, local ETP-Local services with their
// endpoint on that node.
func rackSnapshot(nodes, racks, peersPerRack, ips, local int) translate.Snapshot {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: metallbNS} }
	aggregate := int32(24)
	s := translate.Snapshot{
		Pools: []metallbv1beta1.IPAddressPool{{ObjectMeta: meta("big"), Spec: metallbv1beta1.IPAddressPoolSpec{
			Addresses: []metallbv1beta1.IPAddressRange{"10.0.0.0/8"}}}},
		Advertisements: []metallbv1beta1.BGPAdvertisement{
			{ObjectMeta: meta("local"), Spec: metallbv1beta1.BGPAdvertisementSpec{LocalPref: 150, Communities: []metallbv1beta1.CommunityRef{"65535:65282"}}},
			{ObjectMeta: meta("aggregate"), Spec: metallbv1beta1.BGPAdvertisementSpec{AggregationLength: &aggregate, Communities: []metallbv1beta1.CommunityRef{"64512:1"}}},
		},
	}
	for r := range racks {
		for p := range peersPerRack {
			s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta(fmt.Sprintf("rack%d-peer%d", r, p)), Spec: metallbv1beta2.BGPPeerSpec{
				MyASN: 64512, ASN: uint32(65000 + r), Address: fmt.Sprintf("192.0.2.%d", p+1),
				NodeSelectors: []metallbv1beta1.LabelSelector{{MatchLabels: map[string]metallbv1beta1.LabelValue{"rack": metallbv1beta1.LabelValue(fmt.Sprint(r))}}}}})
		}
	}
	for i := range nodes {
		name := fmt.Sprintf("node-%03d", i)
		s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{hostnameLabel: name, "rack": fmt.Sprint(i % racks)}}})
	}
	ip := netip.MustParseAddr("10.0.0.1")
	for i := range ips {
		addService(&s, fmt.Sprintf("svc-%d", i), ip.String(), "node-000", corev1.ServiceExternalTrafficPolicyCluster)
		ip = ip.Next()
	}
	for _, n := range s.Nodes {
		for i := range local {
			addService(&s, fmt.Sprintf("local-%s-%d", n.Name, i), ip.String(), n.Name, corev1.ServiceExternalTrafficPolicyLocal)
			ip = ip.Next()
		}
	}
	return s
}

// addService adds a LoadBalancer service with one IP and its ready
// endpoint on node.
func addService(s *translate.Snapshot, name, ip, node string, policy corev1.ServiceExternalTrafficPolicy) {
	s.Services = append(s.Services, corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: policy},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: ip}}}},
	})
	s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-x", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"172.16.0.1"}, NodeName: &node}},
	})
}

func translateOptions() translate.Options {
	return translate.Options{Namespace: metallbNS, FRRK8sNamespace: frrK8sNamespace, NamePrefix: "frrgen-"}
}

// build is translate's per-node configurations of s.
func build(t testing.TB, s translate.Snapshot) []frrv1beta1.FRRConfiguration {
	t.Helper()
	r := translate.Build(s, translateOptions())
	if !r.Valid {
		t.Fatalf("the generated snapshot is invalid: %+v", r.Objects)
	}
	return r.Configs
}

func mustCompute(t *testing.T, configs []frrv1beta1.FRRConfiguration, o layout.Options) layout.Layout {
	t.Helper()
	l, err := layout.Compute(configs, o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
