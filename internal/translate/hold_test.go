package translate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/translate"
)

// checkBlastRadius checks the per-node fail-static rule on one Build: every
// held node is held by objects that have problems, and every speaker node
// that is not held gets exactly the configuration it would get if the
// invalid objects did not exist.
func checkBlastRadius(t *testing.T, s translate.Snapshot, o translate.Options, r translate.Result) {
	t.Helper()
	invalid := map[translate.ObjectRef]bool{}
	for _, od := range r.Objects {
		if len(od.Problems) > 0 {
			invalid[od.Ref] = true
		} else if len(od.HeldNodes) > 0 {
			t.Errorf("%s has no problem but holds %v", od.Ref, od.HeldNodes)
		}
	}
	if r.Valid != (len(invalid) == 0) {
		t.Errorf("Valid = %v with %d invalid objects", r.Valid, len(invalid))
	}
	for _, h := range r.Held {
		for _, ref := range h.By {
			if !invalid[ref] {
				t.Errorf("node %s is held by %s, which has no problem", h.Node, ref)
			}
		}
		if slicesContainNode(r.Configs, h.Node) {
			t.Errorf("held node %s has a configuration in the result", h.Node)
		}
	}
	if len(invalid) == 0 {
		return
	}
	without := translate.Build(withoutObjects(s, invalid), o)
	for i := range r.Configs {
		c := &r.Configs[i]
		node := c.Annotations[translate.AnnotationNode]
		if without.HeldBy(node) != nil {
			t.Errorf("node %s is not held, but is without the invalid objects (by %v)", node, without.HeldBy(node))
			continue
		}
		want := configOf(without.Configs, node)
		if want == nil {
			t.Errorf("node %s has a configuration only with the invalid objects present", node)
			continue
		}
		if diff := cmp.Diff(want.Spec, c.Spec); diff != "" {
			t.Errorf("node %s is not held, but the invalid objects change its configuration (-without +with):\n%s", node, diff)
		}
	}
}

func slicesContainNode(configs []frrv1beta1.FRRConfiguration, node string) bool {
	return configOf(configs, node) != nil
}

func configOf(configs []frrv1beta1.FRRConfiguration, node string) *frrv1beta1.FRRConfiguration {
	for i := range configs {
		if configs[i].Annotations[translate.AnnotationNode] == node {
			return &configs[i]
		}
	}
	return nil
}

// withoutObjects removes the metallb.io objects in refs from s.
func withoutObjects(s translate.Snapshot, refs map[translate.ObjectRef]bool) translate.Snapshot {
	keep := func(kind string, m *metav1.ObjectMeta) bool {
		return !refs[translate.ObjectRef{Kind: kind, Namespace: m.Namespace, Name: m.Name}]
	}
	out := s
	out.Pools = filter(s.Pools, func(x *metallbv1beta1.IPAddressPool) bool { return keep(translate.KindIPAddressPool, &x.ObjectMeta) })
	out.Peers = filter(s.Peers, func(x *metallbv1beta2.BGPPeer) bool { return keep(translate.KindBGPPeer, &x.ObjectMeta) })
	out.Advertisements = filter(s.Advertisements, func(x *metallbv1beta1.BGPAdvertisement) bool {
		return keep(translate.KindBGPAdvertisement, &x.ObjectMeta)
	})
	out.Communities = filter(s.Communities, func(x *metallbv1beta1.Community) bool { return keep(translate.KindCommunity, &x.ObjectMeta) })
	out.BFDProfiles = filter(s.BFDProfiles, func(x *metallbv1beta1.BFDProfile) bool { return keep(translate.KindBFDProfile, &x.ObjectMeta) })
	return out
}

func filter[T any](in []T, keep func(*T) bool) []T {
	var out []T
	for i := range in {
		if keep(&in[i]) {
			out = append(out, in[i])
		}
	}
	return out
}

// TestHeldNodes: an invalid object holds exactly the nodes whose
// configuration it could change; the others are built as usual.
func TestHeldNodes(t *testing.T) {
	onNode := func(names ...string) []metallbv1beta1.LabelSelector {
		return []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: metav1.LabelSelectorOpIn, Values: names}}}}
	}
	three := func() translate.Snapshot {
		s := validSnapshot()
		s.Nodes = nil
		for _, n := range []string{"node-a", "node-b", "node-c"} {
			s.Nodes = append(s.Nodes, corev1Node(n))
		}
		s.Services = append(s.Services, lbService("web", "198.51.100.10"))
		s.EndpointSlices = append(s.EndpointSlices, readySlice("web", "node-a"))
		return s
	}
	badPeer := metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "172.30.0.9", HoldTime: dur(2 * time.Second)}
	cases := []struct {
		name   string
		break_ func(s *translate.Snapshot)
		held   map[string][]string // node -> objects holding it
	}{
		{"invalid peer on one node of three", func(s *translate.Snapshot) {
			badPeer.NodeSelectors = onNode("node-a")
			addPeer(s, "bad", badPeer)
		}, map[string][]string{"node-a": {"BGPPeer metallb-system/bad"}}},
		{"invalid peer selecting no node", func(s *translate.Snapshot) {
			addPeer(s, "rack-not-built", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "172.30.0.9", BFDProfile: "missing",
				PasswordSecret: corev1SecretRef("missing"), NodeSelectors: onNode("node-z")})
		}, nil},
		{"advertisement selecting no node with an unknown alias", func(s *translate.Snapshot) {
			addAd(s, "future", metallbv1beta1.BGPAdvertisementSpec{Communities: []metallbv1beta1.CommunityRef{"no-such-alias"}, NodeSelectors: onNode("node-z")})
		}, nil},
		{"invalid advertisement on one node", func(s *translate.Snapshot) {
			addAd(s, "local", metallbv1beta1.BGPAdvertisementSpec{Communities: []metallbv1beta1.CommunityRef{"no-such-alias"}, NodeSelectors: onNode("node-b")})
		}, map[string][]string{"node-b": {"BGPAdvertisement metallb-system/local"}}},
		{"invalid advertisement whose nodes have no peer it targets", func(s *translate.Snapshot) {
			addAd(s, "to-nobody", metallbv1beta1.BGPAdvertisementSpec{Communities: []metallbv1beta1.CommunityRef{"no-such-alias"}, Peers: []string{"p-elsewhere"}})
		}, nil},
		{"invalid pool of an advertisement on one node", func(s *translate.Snapshot) {
			addPool(s, "rack-c", "203.0.113.0/24", "203.0.113.0/24")
			addAd(s, "rack-c", metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"rack-c"}, NodeSelectors: onNode("node-c")})
		}, map[string][]string{"node-c": {"IPAddressPool metallb-system/rack-c"}}},
		{"invalid pool that no advertisement uses", func(s *translate.Snapshot) {
			addPool(s, "unused", "203.0.113.0/24", "203.0.113.0/24")
			adSpec(s).IPAddressPools = []string{"v4"}
		}, nil},
		{"invalid BFD profile of a peer on two nodes", func(s *translate.Snapshot) {
			s.BFDProfiles[0].Spec.ReceiveInterval = u32(1)
			addPeer(s, "with-bfd", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "172.30.0.9", BFDProfile: "bfd", NodeSelectors: onNode("node-a", "node-b")})
		}, map[string][]string{"node-a": {"BFDProfile metallb-system/bfd"}, "node-b": {"BFDProfile metallb-system/bfd"}}},
		{"invalid alias used by an advertisement on one node", func(s *translate.Snapshot) {
			s.Communities[0].Spec.Communities[0].Value = "1:2:3"
			addAd(s, "tagged", metallbv1beta1.BGPAdvertisementSpec{Communities: []metallbv1beta1.CommunityRef{"a1"}, NodeSelectors: onNode("node-c")})
		}, map[string][]string{"node-c": {"BGPAdvertisement metallb-system/tagged", "Community metallb-system/aliases"}}},
		{"peer with a selector that cannot be parsed holds every node", func(s *translate.Snapshot) {
			addPeer(s, "broken", metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "172.30.0.9",
				NodeSelectors: []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{{Key: "rack", Operator: "Foo"}}}}})
		}, map[string][]string{"node-a": {"BGPPeer metallb-system/broken"}, "node-b": {"BGPPeer metallb-system/broken"}, "node-c": {"BGPPeer metallb-system/broken"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := three()
			if r := translate.Build(s, testOptions()); !r.Valid || len(r.Configs) != 3 {
				t.Fatalf("base: valid=%v configs=%d: %v", r.Valid, len(r.Configs), problems(r))
			}
			tc.break_(&s)
			r := translate.Build(s, testOptions())
			if r.Valid {
				t.Fatal("Valid = true; want the broken object reported")
			}
			got := map[string][]string{}
			for _, h := range r.Held {
				for _, ref := range h.By {
					got[h.Node] = append(got[h.Node], ref.String())
				}
			}
			if diff := cmp.Diff(tc.held, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("held nodes (-want +got):\n%s\nproblems: %v", diff, problems(r))
			}
			if len(r.Configs)+len(r.Held) != 3 {
				t.Errorf("%d configs and %d held nodes; want every one of the 3 nodes in exactly one", len(r.Configs), len(r.Held))
			}
			// Each invalid object names the nodes it holds.
			for _, od := range r.Objects {
				var want []string
				for node, refs := range tc.held {
					if slices.Contains(refs, od.Ref.String()) {
						want = append(want, node)
					}
				}
				slices.Sort(want)
				if diff := cmp.Diff(want, od.HeldNodes, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s HeldNodes (-want +got):\n%s", od.Ref, diff)
				}
			}
			checkBlastRadius(t, s, testOptions(), r)
		})
	}
}

func corev1Node(name string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
}

func corev1SecretRef(name string) metallbv1beta2.SecretReference {
	return metallbv1beta2.SecretReference{Name: name}
}

func lbService(name, ip string) corev1.Service {
	return corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: ip}}}},
	}
}

func readySlice(service, node string) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: service + "-1", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: service}},
		Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.1"}, NodeName: &node}},
	}
}
