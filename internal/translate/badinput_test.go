package translate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/badinput"
	"github.com/frrgen/frrgen/internal/boundary"
	"github.com/frrgen/frrgen/internal/manifest"
	"github.com/frrgen/frrgen/internal/translate"
)

// readObjects reads objects the way `frrgen render` reads files.
func readObjects(name string, objs []badinput.Object) (*manifest.Objects, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		// JSON leaves DEL raw, which YAML refuses; a YAML file carries it
		// escaped, so that is what Build must see.
		buf.Write(bytes.ReplaceAll(data, []byte{0x7f}, []byte(`\u007f`)))
		buf.WriteString("\n---\n")
	}
	in := &manifest.Objects{}
	return in, in.Read(name, &buf)
}

func badInputOptions() translate.Options {
	o := testOptions()
	o.Namespace = badinput.Namespace
	return o
}

// TestBadInputWorldIsValid makes sure every failure of TestBadInputTable is
// caused by the case, not by the world it is added to.
func TestBadInputWorldIsValid(t *testing.T) {
	in, err := readObjects("world", badinput.World())
	if err != nil {
		t.Fatal(err)
	}
	r := translate.Build(in.Snapshot(), badInputOptions())
	if !r.Valid || len(r.Configs) != 1 {
		t.Fatalf("the world is not one valid node: valid=%v, %d configs, %+v", r.Valid, len(r.Configs), r.Objects)
	}
	for _, od := range r.Objects {
		if len(od.Problems)+len(od.Warnings) > 0 {
			t.Errorf("%s: %+v %+v", od.Ref, od.Problems, od.Warnings)
		}
	}
}

// TestBadInputTable feeds the table api/ feeds to the apiserver to
// translate.Build, through render's reader: every case is reported on its
// object with the field (or, for a Service, with the reason), or, for a value
// the Go types cannot hold, refused by the reader naming the field or value.
// Whatever Build renders stays safe: every string that reaches frr.conf is
// one printable word.
func TestBadInputTable(t *testing.T) {
	for _, c := range badinput.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			objs := append(append(badinput.World(), c.Context...), c.Object)
			in, err := readObjects(c.Name, objs)
			if c.Stage == badinput.AdmissionAndDecode {
				value := fmt.Sprintf("%q", valueAt(c.Object, c.Field))
				if err == nil || !(strings.Contains(err.Error(), c.Field) || strings.Contains(err.Error(), value)) {
					t.Fatalf("render's reader must refuse the document naming %s or %s; got %v", c.Field, value, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			r := translate.Build(in.Snapshot(), badInputOptions())
			checkRenderedWords(t, r.Configs)
			if c.Reason != "" {
				checkServiceReason(t, r, c)
				return
			}
			ref := translate.ObjectRef{Kind: c.Kind(), Namespace: c.ObjectNamespace(), Name: c.ObjectName()}
			i := slices.IndexFunc(r.Objects, func(od translate.ObjectDiagnostic) bool { return od.Ref == ref })
			if i < 0 {
				t.Fatalf("no verdict on %s; objects: %+v", ref, r.Objects)
			}
			got := r.Objects[i].Problems
			if c.Warning {
				got = r.Objects[i].Warnings
			}
			field := c.FieldForTranslate()
			if !slices.ContainsFunc(got, func(p translate.Problem) bool { return p.Field == field }) {
				t.Fatalf("%s: want a %s on %s; got problems %+v, warnings %+v", ref, kindOfReport(c.Warning), field, r.Objects[i].Problems, r.Objects[i].Warnings)
			}
			if !c.Warning && r.Valid {
				t.Errorf("Build says the input is valid although %s has a problem", ref)
			}
		})
	}
}

func kindOfReport(warning bool) string {
	if warning {
		return "warning"
	}
	return "problem"
}

func checkServiceReason(t *testing.T, r translate.Result, c badinput.Case) {
	t.Helper()
	for _, s := range r.Services {
		if s.Service.Namespace != c.ObjectNamespace() || s.Service.Name != c.ObjectName() {
			continue
		}
		if string(s.Reason) != c.Reason || len(s.Nodes) > 0 {
			t.Fatalf("service %s: want reason %s on every node, got reason %q, nodes %v, not announced %v", s.Service, c.Reason, s.Reason, s.Nodes, s.NotAnnounced)
		}
		return
	}
	t.Fatalf("no announcement for service %s/%s; valid=%v %+v", c.ObjectNamespace(), c.ObjectName(), r.Valid, r.Objects)
}

// valueAt returns the value at a dotted field path ("spec.holdTime").
func valueAt(obj badinput.Object, field string) any {
	var v any = obj
	for _, part := range strings.Split(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// checkRenderedWords asserts that every string frr-k8s copies into frr.conf
// is one printable ASCII word.
func checkRenderedWords(t *testing.T, configs []frrv1beta1.FRRConfiguration) {
	t.Helper()
	word := func(where, s string) {
		for i := 0; i < len(s); i++ {
			if s[i] < '!' || s[i] > '~' {
				t.Errorf("%s %q would break frr.conf", where, s)
				return
			}
		}
	}
	for _, cfg := range configs {
		for _, r := range cfg.Spec.BGP.Routers {
			word("router vrf", r.VRF)
			word("router id", r.ID)
			for _, n := range r.Neighbors {
				for _, s := range []string{n.Address, n.Interface, n.Password, n.BFDProfile, n.SourceAddress, n.PasswordSecret.Name} {
					word("neighbor field", s)
				}
				for _, c := range n.ToAdvertise.PrefixesWithCommunity {
					word("community", c.Community)
				}
			}
		}
		for _, p := range cfg.Spec.BGP.BFDProfiles {
			word("bfd profile", p.Name)
		}
	}
}

// boundarySnapshot is every boundary object, one node, and an IPv4 and an
// IPv6 service with a ready endpoint.
func boundarySnapshot() translate.Snapshot {
	s := translate.Snapshot{
		Pools:          boundary.Pools(ns),
		Peers:          boundary.Peers(ns),
		Advertisements: boundary.Advertisements(ns),
		Communities:    boundary.Communities(ns),
		BFDProfiles:    boundary.BFDProfiles(ns),
		Nodes:          []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"kubernetes.io/hostname": "node-a"}}}},
	}
	for name, ip := range map[string]string{"web4": "198.51.100.200", "web6": "2001:db8:100::1"} {
		s.Services = append(s.Services, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
			Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: ip}}}},
		})
		s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}},
		})
	}
	return s
}

// TestBoundaryValuesAreValid: the largest and smallest accepted values
// (internal/boundary, which the e2e suite feeds to FRR) are one valid
// configuration, and each reaches the neighbor as FRR must get it.
func TestBoundaryValuesAreValid(t *testing.T) {
	s := boundarySnapshot()
	r := translate.Build(s, testOptions())
	for _, od := range r.Objects {
		if len(od.Problems) > 0 {
			t.Errorf("%s: %+v", od.Ref, od.Problems)
		}
	}
	if !r.Valid || len(r.Configs) != 1 {
		t.Fatalf("valid=%v, %d configs", r.Valid, len(r.Configs))
	}
	checkRenderedWords(t, r.Configs)
	byPeer := map[string]frrv1beta1.Neighbor{}
	routers := map[string]uint32{}
	for _, rt := range r.Configs[0].Spec.BGP.Routers {
		routers[rt.VRF] = rt.ASN
		for _, n := range rt.Neighbors {
			byPeer[rt.VRF+"/"+n.Address+n.Interface] = n
		}
	}
	if want := map[string]uint32{"": boundary.MyASN, boundary.VRF15: boundary.MyASN, boundary.VRFMaxASN: boundary.MaxASN}; !mapsEqual(routers, want) {
		t.Errorf("routers %v, want %v", routers, want)
	}
	timers := func(key string, hold, keepalive time.Duration) {
		t.Helper()
		n := byPeer[key]
		if n.HoldTime == nil || n.KeepaliveTime == nil || n.HoldTime.Duration != hold || n.KeepaliveTime.Duration != keepalive {
			t.Errorf("%s: timers %v/%v, want %v/%v", key, n.HoldTime, n.KeepaliveTime, hold, keepalive)
		}
	}
	timers("/192.0.2.11", 3*time.Second, time.Second)
	timers("/192.0.2.12", 65535*time.Second, 65535*time.Second)
	timers("/192.0.2.13", 0, 0)
	timers("/192.0.2.14", 3*time.Second, time.Second)
	timers("/192.0.2.15", 10*time.Second, 3*time.Second) // a third, rounded down as frr-k8s renders it
	timers("/192.0.2.16", 65535*time.Second, 21845*time.Second)
	timers("/192.0.2.17", 3*time.Second, time.Second)
	if n := byPeer["/192.0.2.19"]; n.ConnectTime == nil || n.ConnectTime.Duration != 65535*time.Second {
		t.Errorf("connectTime %v, want 65535s", n.ConnectTime)
	}
	if n := byPeer["/192.0.2.20"]; n.Password != boundary.Password80 || len(n.Password) != 80 {
		t.Errorf("the 80-byte password did not reach the neighbor: %q", n.Password)
	}
	if n := byPeer["/192.0.2.21"]; n.Password != boundary.PasswordSymbols {
		t.Errorf("the symbols password did not reach the neighbor: %q", n.Password)
	}
	if n := byPeer["/"+boundary.Interface15]; n.Interface != boundary.Interface15 {
		t.Errorf("no unnumbered neighbor on %s", boundary.Interface15)
	}
	if n := byPeer["/192.0.2.27"]; n.BFDProfile != boundary.BFDProfile63 {
		t.Errorf("bfdProfile %q, want %q", n.BFDProfile, boundary.BFDProfile63)
	}
	if n := byPeer["/192.0.2.11"]; len(n.ToAdvertise.PrefixesWithCommunity) != 63 {
		t.Errorf("%d communities reach the neighbor, want 63", len(n.ToAdvertise.PrefixesWithCommunity))
	}
	if n := byPeer["/2001:db8::1"]; len(n.ToAdvertise.Allowed.Prefixes) != 1 {
		t.Errorf("the IPv6 service does not reach the IPv6 neighbor: %v", n.ToAdvertise.Allowed.Prefixes)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
