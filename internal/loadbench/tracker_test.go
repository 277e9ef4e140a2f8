package loadbench

import (
	"encoding/json"
	"testing"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// neighbor returns a neighbor allowed to advertise prefixes.
func neighbor(addr string, prefixes ...string) frrv1beta1.Neighbor {
	return frrv1beta1.Neighbor{Address: addr, ToAdvertise: frrv1beta1.Advertise{
		Allowed: frrv1beta1.AllowedOutPrefixes{Prefixes: prefixes}}}
}

// config returns an FRRConfiguration for node with one router.
func config(name, node string, router frrv1beta1.Router) *frrv1beta1.FRRConfiguration {
	cfg := &frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if node != "" {
		cfg.Spec.NodeSelector.MatchLabels = map[string]string{hostnameLabel: node}
	}
	cfg.Spec.BGP.Routers = []frrv1beta1.Router{router}
	return cfg
}

const (
	p1 = "198.18.0.1/32"
	p2 = "198.18.0.2/32"
)

func TestTrackerHolds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		router frrv1beta1.Router
		want   map[string]bool
	}{
		{"originated and allowed to every neighbor",
			frrv1beta1.Router{Prefixes: []string{p1, p2}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1, p2), neighbor("192.0.2.2", p1, p2)}},
			map[string]bool{p1: true, p2: true}},
		{"allowed to only some neighbors is not held",
			frrv1beta1.Router{Prefixes: []string{p1, p2}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1, p2), neighbor("192.0.2.2", p1)}},
			map[string]bool{p1: true, p2: false}},
		{"allowed but not originated by the router is not held",
			frrv1beta1.Router{Prefixes: []string{p1}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1, p2)}},
			map[string]bool{p1: true, p2: false}},
		{"a neighbor in mode all allows every prefix of the router",
			frrv1beta1.Router{Prefixes: []string{p1, p2}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1),
				{Address: "192.0.2.2", ToAdvertise: frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Mode: frrv1beta1.AllowAll}}}}},
			map[string]bool{p1: true, p2: false}},
		{"a router without neighbors announces nothing",
			frrv1beta1.Router{Prefixes: []string{p1}},
			map[string]bool{p1: false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			tr.Observe(config("frrgen-node-000", "node-000", tc.router))
			for prefix, want := range tc.want {
				if got := tr.Holds("node-000", prefix); got != want {
					t.Errorf("Holds(node-000, %s) = %v, want %v", prefix, got, want)
				}
			}
		})
	}
}

func TestTrackerObjects(t *testing.T) {
	both := frrv1beta1.Router{Prefixes: []string{p1, p2}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1, p2)}}
	only1 := frrv1beta1.Router{Prefixes: []string{p1}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1)}}
	only2 := frrv1beta1.Router{Prefixes: []string{p2}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p2)}}
	nodes := []string{"node-000", "node-001"}

	tr := NewTracker()
	tr.Observe(config("a", "node-000", both))
	if tr.HoldsEverywhere(nodes, p1) || tr.HasConfig("node-001") {
		t.Fatal("node-001 has no configuration yet, but p1 is held everywhere")
	}
	// A node split over two objects holds the union.
	tr.Observe(config("b1", "node-001", only1))
	tr.Observe(config("b2", "node-001", only2))
	if !tr.HoldsEverywhere(nodes, p1) || !tr.HoldsEverywhere(nodes, p2) || !tr.HoldsAll("node-001", []string{p1, p2}) {
		t.Fatal("node-001's two objects hold p1 and p2 together")
	}
	// An update replaces what the object held.
	tr.Observe(config("a", "node-000", only2))
	if tr.Holds("node-000", p1) || !tr.Holds("node-000", p2) {
		t.Error("after its update, a holds p2 and no longer p1")
	}
	// A deleted object holds nothing.
	tr.Forget("b2")
	if tr.Holds("node-001", p2) || !tr.Holds("node-001", p1) {
		t.Error("after deleting b2, node-001 holds p1 only")
	}
	// An object that selects no node by hostname is nobody's.
	tr.Observe(config("none", "", both))
	if tr.Holds("", p1) || len(tr.Names()) != 2 {
		t.Errorf("an object without a hostname selector was tracked: %v", tr.Names())
	}
}

func TestTrackerSharedObjects(t *testing.T) {
	only1 := frrv1beta1.Router{Prefixes: []string{p1}, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", p1)}}
	shared := config("frrgen-shared-x", "", only1)
	shared.Spec.NodeSelector.MatchExpressions = []metav1.LabelSelectorRequirement{
		{Key: hostnameLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"node-000", "node-001"}}}
	tr := NewTracker()
	tr.Observe(shared)
	if !tr.HoldsEverywhere([]string{"node-000", "node-001"}, p1) || tr.Holds("node-002", p1) {
		t.Error("a shared object's prefixes are held by exactly the nodes it lists")
	}
	tr.Forget(shared.Name)
	if tr.Holds("node-000", p1) || tr.Holds("node-001", p1) {
		t.Error("after its deletion, a shared object's nodes still hold its prefixes")
	}
	for _, sel := range []metav1.LabelSelector{
		{MatchLabels: map[string]string{"rack": "a"}},
		{MatchLabels: map[string]string{hostnameLabel: "node-000", "rack": "a"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: hostnameLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"node-000"}}}},
		{MatchLabels: map[string]string{hostnameLabel: "node-000"},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: hostnameLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"node-001"}}}},
	} {
		cfg := config("other", "", only1)
		cfg.Spec.NodeSelector = sel
		if nodes := SelectedNodes(cfg); nodes != nil {
			t.Errorf("SelectedNodes(%v) = %v, want none: it does not select by hostname alone", sel, nodes)
		}
	}
}

// event is the JSON line of a watch event for cfg.
func event(t *testing.T, typ string, cfg *frrv1beta1.FRRConfiguration, at time.Time) rawEvent {
	t.Helper()
	obj, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	line, err := json.Marshal(watchEvent{Type: typ, Object: obj})
	if err != nil {
		t.Fatal(err)
	}
	return rawEvent{line: line, at: at}
}

func TestObserverTimesTheLastNode(t *testing.T) {
	nodes := []string{"node-000", "node-001"}
	o := newObserver(nodes, []string{p1})
	router := func(prefixes ...string) frrv1beta1.Router {
		return frrv1beta1.Router{Prefixes: prefixes, Neighbors: []frrv1beta1.Neighbor{neighbor("192.0.2.1", prefixes...)}}
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	// The initial state comes from a list: not a write.
	listed := event(t, "ADDED", config("frrgen-node-000", "node-000", router(p1)), at(0))
	listed.listed = true
	steps := []rawEvent{
		listed,
		event(t, "ADDED", config("frrgen-node-001", "node-001", router(p1)), at(10)),
		event(t, "MODIFIED", config("frrgen-node-000", "node-000", router(p1, p2)), at(120)),
		event(t, "MODIFIED", config("frrgen-node-001", "node-001", router(p1, p2)), at(300)),
	}
	o.expect(p2, at(100))
	var wantBytes int64
	for i, ev := range steps {
		if err := o.apply(ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !ev.listed {
			var we watchEvent
			_ = json.Unmarshal(ev.line, &we)
			wantBytes += int64(len(we.Object))
		}
	}
	got := o.observe()
	if got.convergedAt != at(10) || got.convergedNodes != 2 {
		t.Errorf("converged at %v with %d nodes, want %v with 2 (the event that gave the last node p1)", got.convergedAt, got.convergedNodes, at(10))
	}
	if got.events != 3 || got.bytes != wantBytes {
		t.Errorf("counted %d events of %d bytes, want 3 of %d (the listed object is not a write)", got.events, got.bytes, wantBytes)
	}
	if lat := o.latencies(); len(lat) != 1 || lat[0] != 200*time.Millisecond {
		t.Errorf("latencies %v, want [200ms]: from the status write to node-001's event, the last node to get p2", lat)
	}
	// A deletion takes the node's prefixes away; a relist forgets the
	// objects it no longer finds.
	if err := o.apply(event(t, "DELETED", config("frrgen-node-001", "node-001", router(p1, p2)), at(400))); err != nil {
		t.Fatal(err)
	}
	if err := o.apply(rawEvent{relisted: []string{}, listed: true, at: at(500)}); err != nil {
		t.Fatal(err)
	}
	if names := o.tracker.Names(); len(names) != 0 {
		t.Errorf("after a relist that found nothing, the tracker still knows %v", names)
	}
	if err := o.apply(rawEvent{line: []byte(`{"type":"MODIFIED","object":{"spec":7}}`), at: at(600)}); err == nil {
		t.Error("an undecodable object was accepted")
	}
}

func TestServiceIPs(t *testing.T) {
	for i, want := range map[int]string{0: "198.18.0.1", 254: "198.18.0.255", 255: "198.18.1.0", 59999: "198.18.234.96"} {
		if got := serviceIP(i).String(); got != want {
			t.Errorf("serviceIP(%d) = %s, want %s", i, got, want)
		}
	}
	if got, want := hostPrefix(1), "198.18.0.2/32"; got != want {
		t.Errorf("hostPrefix(1) = %s, want %s", got, want)
	}
	seen := map[string]bool{}
	for i := range MaxServices {
		ip := endpointIP(i).String()
		if seen[ip] {
			t.Fatalf("endpointIP(%d) = %s repeats", i, ip)
		}
		seen[ip] = true
	}
}
