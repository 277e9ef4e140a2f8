package servicestatus_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/translate"
)

const ns = "metallb-system"

func meta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: ns} }

var options = translate.Options{Namespace: ns, FRRK8sNamespace: "frr-k8s-system", NamePrefix: "frrgen-"}

func onNodes(names ...string) []metallbv1beta1.LabelSelector {
	return []metallbv1beta1.LabelSelector{{MatchExpressions: []metallbv1beta1.LabelSelectorRequirement{
		{Key: "kubernetes.io/hostname", Operator: metav1.LabelSelectorOpIn, Values: names}}}}
}

func node(name string, labels ...string) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	for _, l := range labels {
		n.Labels[l] = ""
	}
	return n
}

func service(name, ip string, policy corev1.ServiceExternalTrafficPolicy, endpointNodes ...string) (corev1.Service, discoveryv1.EndpointSlice) {
	s := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: policy},
	}
	if ip != "" {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	}
	slice := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default",
		Labels: map[string]string{discoveryv1.LabelServiceName: name}}}
	for i, n := range endpointNodes {
		ready := true
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.0.0.%d", i+1)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: &n})
	}
	return s, slice
}

// world is three nodes a, b, c; peers p1 (every node) and p2 (node a only);
// pool v4 with advertisement ad (every node, every peer); service web on
// 198.51.100.10 with an endpoint on a.
func world() translate.Snapshot {
	s := translate.Snapshot{
		Pools: []metallbv1beta1.IPAddressPool{{ObjectMeta: meta("v4"),
			Spec: metallbv1beta1.IPAddressPoolSpec{Addresses: []metallbv1beta1.IPAddressRange{"198.51.100.0/24"}}}},
		Advertisements: []metallbv1beta1.BGPAdvertisement{{ObjectMeta: meta("ad"),
			Spec: metallbv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v4"}}}},
		Peers: []metallbv1beta2.BGPPeer{
			{ObjectMeta: meta("p1"), Spec: metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "172.30.0.1"}},
			{ObjectMeta: meta("p2"), Spec: metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64514, Address: "172.30.0.2", NodeSelectors: onNodes("a")}},
		},
		Nodes: []corev1.Node{node("a"), node("b"), node("c")},
	}
	addService(&s, "web", "198.51.100.10", corev1.ServiceExternalTrafficPolicyCluster, "a")
	return s
}

func addService(s *translate.Snapshot, name, ip string, policy corev1.ServiceExternalTrafficPolicy, endpointNodes ...string) {
	svc, slice := service(name, ip, policy, endpointNodes...)
	s.Services = append(s.Services, svc)
	s.EndpointSlices = append(s.EndpointSlices, slice)
}

// storedFrom is what the nodes were given by a build of s: frrgen's
// configurations as they would be stored.
func storedFrom(s translate.Snapshot) []frrv1beta1.FRRConfiguration {
	return translate.Build(s, options).Configs
}

func TestStatus(t *testing.T) {
	badPeer := metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64515, Address: "172.30.0.9", HoldTime: &metav1.Duration{Duration: 2 * time.Second},
		NodeSelectors: onNodes("c")}
	cases := []struct {
		name    string
		service string
		// before, when set, is the input the stored configurations were
		// built from; now is the current input.
		before, now func() translate.Snapshot
		kept        map[string]servicestatus.Keep
		want        servicestatus.Status
	}{
		{
			name: "announced from every node, to the peers of each", service: "web", now: world,
			want: servicestatus.Status{Announced: true, Reason: "Announced",
				Message: "Announced from 3 of 3 speaker node(s). To peers p1, p2 from a. To peer p1 from b, c.",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.Announced, Peers: []string{"p1", "p2"}, Nodes: []string{"a"}},
					{Kind: servicestatus.Announced, Peers: []string{"p1"}, Nodes: []string{"b", "c"}},
				}},
		},
		{
			name: "partial: the excluded node is listed with why", service: "web",
			now: func() translate.Snapshot {
				s := world()
				s.Nodes[2] = node("c", "node.kubernetes.io/exclude-from-external-load-balancers")
				return s
			},
			want: servicestatus.Status{Announced: true, Reason: "Announced",
				Message: "Announced from 2 of 3 speaker node(s). To peers p1, p2 from a. To peer p1 from b. " +
					"Not from c: the node is labelled node.kubernetes.io/exclude-from-external-load-balancers (nodeLabeledExcludeBalancers).",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.Announced, Peers: []string{"p1", "p2"}, Nodes: []string{"a"}},
					{Kind: servicestatus.Announced, Peers: []string{"p1"}, Nodes: []string{"b"}},
					{Kind: servicestatus.NotAnnounced, Reason: translate.ReasonNodeLabeledExcludeBalancer, Nodes: []string{"c"},
						Why: "the node is labelled node.kubernetes.io/exclude-from-external-load-balancers (nodeLabeledExcludeBalancers)"},
				}},
		},
		{
			name: "a pool no advertisement covers: plain words and notOwner", service: "web",
			now: func() translate.Snapshot { s := world(); s.Advertisements = nil; return s },
			want: servicestatus.Status{Reason: "NotOwner",
				Message: "Not announced from any of the 3 speaker node(s). Not from a, b, c: no advertisement of pool v4 selects this node (notOwner).",
				Groups: []servicestatus.Group{{Kind: servicestatus.NotAnnounced, Reason: translate.ReasonNotOwner, Nodes: []string{"a", "b", "c"},
					Why: "no advertisement of pool v4 selects this node (notOwner)"}}},
		},
		{
			name: "no IP yet", service: "new",
			now: func() translate.Snapshot {
				s := world()
				addService(&s, "new", "", corev1.ServiceExternalTrafficPolicyCluster, "a")
				return s
			},
			want: servicestatus.Status{Reason: "NoIPAllocated",
				Message: "Not announced from any of the 3 speaker node(s). Not from a, b, c: the service has no IP in status.loadBalancer.ingress yet (noIPAllocated).",
				Groups: []servicestatus.Group{{Kind: servicestatus.NotAnnounced, Reason: translate.ReasonNoIPAllocated, Nodes: []string{"a", "b", "c"},
					Why: "the service has no IP in status.loadBalancer.ingress yet (noIPAllocated)"}}},
		},
		{
			// The only endpoint is on d, which no BGPPeer selects: the
			// reason is noPeers there, not the others' noLocalEndpoints.
			name: "ETP Local, only endpoint on a node without a peer", service: "local",
			now: func() translate.Snapshot {
				s := world()
				s.Peers[0].Spec.NodeSelectors = onNodes("a", "b")
				s.Nodes = append(s.Nodes, node("d"))
				addService(&s, "local", "198.51.100.20", corev1.ServiceExternalTrafficPolicyLocal, "d")
				return s
			},
			want: servicestatus.Status{Reason: "NoPeers",
				Message: "Not announced from any of the 4 speaker node(s). Not from a, b, c: externalTrafficPolicy is Local and no ready endpoint of the service runs on this node (noLocalEndpoints). " +
					"Not from d: no BGPPeer selects this node (noPeers).",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.NotAnnounced, Reason: translate.ReasonNoLocalEndpoints, Nodes: []string{"a", "b", "c"},
						Why: "externalTrafficPolicy is Local and no ready endpoint of the service runs on this node (noLocalEndpoints)"},
					{Kind: servicestatus.NotAnnounced, Reason: translate.ReasonNoPeers, Nodes: []string{"d"}, Why: "no BGPPeer selects this node (noPeers)"},
				}},
		},
		{
			// An invalid BGPPeer selecting c holds it: the new service is
			// not announced there, and c's last good configuration says so.
			name: "new service while another object is invalid", service: "new", before: world,
			now: func() translate.Snapshot {
				s := world()
				s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta("bad"), Spec: badPeer})
				addService(&s, "new", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
				return s
			},
			want: servicestatus.Status{Announced: true, Reason: "Announced",
				Message: "Announced from 2 of 3 speaker node(s). To peers p1, p2 from a. To peer p1 from b. " +
					"Held: c keeps its last good configuration because BGPPeer metallb-system/bad is invalid; the last good configuration does not announce the service.",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.Announced, Peers: []string{"p1", "p2"}, Nodes: []string{"a"}},
					{Kind: servicestatus.Announced, Peers: []string{"p1"}, Nodes: []string{"b"}},
					{Kind: servicestatus.Kept, Nodes: []string{"c"},
						Why: "BGPPeer metallb-system/bad is invalid; the last good configuration does not announce the service"},
				}},
		},
		{
			name: "held node still announces an old service from its last good configuration", service: "web", before: world,
			now: func() translate.Snapshot {
				s := world()
				s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta("bad"), Spec: badPeer})
				s.Nodes[2].Labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
				return s
			},
			want: servicestatus.Status{Announced: true, Reason: "Announced",
				Message: "Announced from 3 of 3 speaker node(s). To peers p1, p2 from a. To peer p1 from b. " +
					"Held: c keeps its last good configuration because BGPPeer metallb-system/bad is invalid; the last good configuration announces the service to peer p1.",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.Announced, Peers: []string{"p1", "p2"}, Nodes: []string{"a"}},
					{Kind: servicestatus.Announced, Peers: []string{"p1"}, Nodes: []string{"b"}},
					{Kind: servicestatus.Kept, Peers: []string{"p1"}, Nodes: []string{"c"},
						Why: "BGPPeer metallb-system/bad is invalid; the last good configuration announces the service"},
				}},
		},
		{
			name: "conflict and failed write: what the stored configurations send", service: "new",
			before: world,
			now: func() translate.Snapshot {
				s := world()
				addService(&s, "new", "198.51.100.11", corev1.ServiceExternalTrafficPolicyCluster, "a")
				return s
			},
			kept: map[string]servicestatus.Keep{
				"a": {Conflict: "neighbor 172.30.0.2 has two ASNs"},
				"b": {WriteError: "admission webhook denied the request"},
			},
			want: servicestatus.Status{Announced: true, Reason: "Announced",
				Message: "Announced from 1 of 3 speaker node(s). To peer p1 from c. " +
					"Held: a keeps its last good configuration because the new one would clash with another FRRConfiguration: neighbor 172.30.0.2 has two ASNs; the last good configuration does not announce the service. " +
					"Held: b keeps its last good configuration because the new one could not be written: admission webhook denied the request; the last good configuration does not announce the service.",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.Announced, Peers: []string{"p1"}, Nodes: []string{"c"}},
					{Kind: servicestatus.Kept, Nodes: []string{"a"}, Why: "the new one would clash with another FRRConfiguration: neighbor 172.30.0.2 has two ASNs; the last good configuration does not announce the service"},
					{Kind: servicestatus.Kept, Nodes: []string{"b"}, Why: "the new one could not be written: admission webhook denied the request; the last good configuration does not announce the service"},
				}},
		},
		{
			name: "every node held, none stored yet", service: "web",
			now: func() translate.Snapshot {
				s := world()
				badPeer := badPeer
				badPeer.NodeSelectors = nil
				s.Peers = append(s.Peers, metallbv1beta2.BGPPeer{ObjectMeta: meta("bad"), Spec: badPeer})
				return s
			},
			want: servicestatus.Status{Reason: "Held",
				Message: "Not announced from any of the 3 speaker node(s). Held: a, b, c keep their last good configuration because BGPPeer metallb-system/bad is invalid; no configuration from frrgen is stored yet.",
				Groups: []servicestatus.Group{{Kind: servicestatus.Kept, Nodes: []string{"a", "b", "c"},
					Why: "BGPPeer metallb-system/bad is invalid; no configuration from frrgen is stored yet"}}},
		},
		{
			name: "many nodes: listed compactly", service: "web",
			now: func() translate.Snapshot {
				s := world()
				for i := range 9 {
					s.Nodes = append(s.Nodes, node(fmt.Sprintf("x%d", i), "node.kubernetes.io/exclude-from-external-load-balancers"))
				}
				return s
			},
			want: servicestatus.Status{Announced: true, Reason: "Announced",
				Message: "Announced from 3 of 12 speaker node(s). To peers p1, p2 from a. To peer p1 from b, c. " +
					"Not from x0, x1, x2, x3, x4 and 4 more: the node is labelled node.kubernetes.io/exclude-from-external-load-balancers (nodeLabeledExcludeBalancers).",
				Groups: []servicestatus.Group{
					{Kind: servicestatus.Announced, Peers: []string{"p1", "p2"}, Nodes: []string{"a"}},
					{Kind: servicestatus.Announced, Peers: []string{"p1"}, Nodes: []string{"b", "c"}},
					{Kind: servicestatus.NotAnnounced, Reason: translate.ReasonNodeLabeledExcludeBalancer,
						Nodes: []string{"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"},
						Why:   "the node is labelled node.kubernetes.io/exclude-from-external-load-balancers (nodeLabeledExcludeBalancers)"},
				}},
		},
		{
			name: "no speaker node", service: "web",
			now:  func() translate.Snapshot { s := world(); s.Nodes = nil; return s },
			want: servicestatus.Status{Reason: "NoSpeakerNode", Message: "Not announced: no speaker node."},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stored []frrv1beta1.FRRConfiguration
			if tc.before != nil {
				stored = storedFrom(tc.before())
			}
			result := translate.Build(tc.now(), options)
			got, ok := servicestatus.New(&result, tc.kept, stored).Status("default", tc.service)
			if !ok {
				t.Fatalf("service %s not handled", tc.service)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotHandled(t *testing.T) {
	s := world()
	s.Services[0].Spec.Type = corev1.ServiceTypeClusterIP
	result := translate.Build(s, options)
	if _, ok := servicestatus.New(&result, nil, nil).Status("default", "web"); ok {
		t.Error("a ClusterIP service got a status")
	}
}

// TestMessageBounded: however many distinct reasons, the message fits a
// condition (32768 bytes) and names how many groups it left out.
func TestMessageBounded(t *testing.T) {
	s := world()
	result := translate.Build(s, options)
	kept := map[string]servicestatus.Keep{}
	for _, n := range []string{"a", "b", "c"} {
		kept[n] = servicestatus.Keep{WriteError: strings.Repeat("x", 20000) + n}
	}
	got, _ := servicestatus.New(&result, kept, nil).Status("default", "web")
	if len(got.Message) > 32768 || !strings.HasSuffix(got.Message, "...") {
		t.Errorf("message of %d bytes, ends %q", len(got.Message), got.Message[len(got.Message)-10:])
	}
	for i := range 10 {
		s.Nodes = append(s.Nodes, node(fmt.Sprintf("y%d", i)))
	}
	result = translate.Build(s, options)
	kept = map[string]servicestatus.Keep{}
	for i := range 10 {
		kept[fmt.Sprintf("y%d", i)] = servicestatus.Keep{WriteError: fmt.Sprintf("error %d", i)}
	}
	got, _ = servicestatus.New(&result, kept, nil).Status("default", "web")
	if !strings.HasSuffix(got.Message, " And 4 more group(s) of nodes.") {
		t.Errorf("message %q does not say how many groups it left out", got.Message)
	}
}

func TestCondition(t *testing.T) {
	got := servicestatus.Status{Announced: true, Reason: "Announced", Message: "m"}.Condition(3)
	want := metav1.Condition{Type: "frrgen.io/Announced", Status: metav1.ConditionTrue, Reason: "Announced", Message: "m", ObservedGeneration: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("condition (-want +got):\n%s", diff)
	}
}

// BenchmarkStatuses is one settled pass at 100 nodes × 5000 services: every
// service's status, as the controller computes them (with 10 held nodes,
// read from their stored configurations).
func BenchmarkStatuses(b *testing.B) {
	s := world()
	s.Nodes, s.Services, s.EndpointSlices = nil, nil, nil
	s.Pools[0].Spec.Addresses = []metallbv1beta1.IPAddressRange{"10.0.0.0/16"}
	for i := range 100 {
		s.Nodes = append(s.Nodes, node(fmt.Sprintf("n%03d", i)))
	}
	for i := range 5000 {
		addService(&s, fmt.Sprintf("s%04d", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), corev1.ServiceExternalTrafficPolicyCluster, "n000")
	}
	stored := storedFrom(s)
	result := translate.Build(s, options)
	kept := map[string]servicestatus.Keep{}
	for i := range 10 {
		kept[fmt.Sprintf("n%03d", i)] = servicestatus.Keep{WriteError: "refused"}
	}
	b.ResetTimer()
	for b.Loop() {
		c := servicestatus.New(&result, kept, stored)
		for i := range 5000 {
			if _, ok := c.Status("default", fmt.Sprintf("s%04d", i)); !ok {
				b.Fatal("not handled")
			}
		}
	}
}
