package loadbench

import (
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hostnameLabel is the label frrgen's per-node FRRConfigurations select their
// node by.
const hostnameLabel = "kubernetes.io/hostname"

// prefixSet is a set of prefixes in their FRRConfiguration spelling
// ("198.18.0.1/32").
type prefixSet map[string]struct{}

// Tracker keeps, per node, the prefixes the node's FRRConfigurations
// announce, as seen through a watch. A node may have several objects (frrgen
// splits a large configuration into shards, and its shared layout adds
// objects that select several nodes); each one is self-contained, as frr-k8s
// requires, so the node holds the union of what each object holds.
type Tracker struct {
	objects map[string]heldObject      // by object name
	byNode  map[string]map[string]bool // node → names of its objects
}

type heldObject struct {
	nodes    []string
	prefixes prefixSet
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	return &Tracker{objects: map[string]heldObject{}, byNode: map[string]map[string]bool{}}
}

// Observe records the current content of an FRRConfiguration (an added or
// modified object). An object that selects no node by hostname is ignored.
func (t *Tracker) Observe(cfg *frrv1beta1.FRRConfiguration) {
	t.Forget(cfg.Name)
	nodes := SelectedNodes(cfg)
	if len(nodes) == 0 {
		return
	}
	t.objects[cfg.Name] = heldObject{nodes: nodes, prefixes: announced(cfg)}
	for _, node := range nodes {
		if t.byNode[node] == nil {
			t.byNode[node] = map[string]bool{}
		}
		t.byNode[node][cfg.Name] = true
	}
}

// Forget drops a deleted FRRConfiguration.
func (t *Tracker) Forget(name string) {
	old, ok := t.objects[name]
	if !ok {
		return
	}
	delete(t.objects, name)
	for _, node := range old.nodes {
		delete(t.byNode[node], name)
	}
}

// SelectedNodes returns the nodes cfg selects by hostname: frrgen's per-node
// objects (and their shards) name one in matchLabels, its shared objects
// several with the In operator. An object that also selects by anything
// else selects none here.
func SelectedNodes(cfg *frrv1beta1.FRRConfiguration) []string {
	sel := cfg.Spec.NodeSelector
	var nodes []string
	for key, value := range sel.MatchLabels {
		if key != hostnameLabel {
			return nil
		}
		nodes = append(nodes, value)
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != hostnameLabel || e.Operator != metav1.LabelSelectorOpIn || len(nodes) > 0 {
			return nil
		}
		nodes = append(nodes, e.Values...)
	}
	return nodes
}

// Names returns the names of the objects the tracker knows.
func (t *Tracker) Names() []string {
	names := make([]string, 0, len(t.objects))
	for name := range t.objects {
		names = append(names, name)
	}
	return names
}

// HasConfig reports whether node has at least one FRRConfiguration.
func (t *Tracker) HasConfig(node string) bool { return len(t.byNode[node]) > 0 }

// Holds reports whether one of node's objects announces prefix.
func (t *Tracker) Holds(node, prefix string) bool {
	for name := range t.byNode[node] {
		if _, ok := t.objects[name].prefixes[prefix]; ok {
			return true
		}
	}
	return false
}

// HoldsEverywhere reports whether every one of nodes holds prefix.
func (t *Tracker) HoldsEverywhere(nodes []string, prefix string) bool {
	for _, n := range nodes {
		if !t.Holds(n, prefix) {
			return false
		}
	}
	return true
}

// HoldsAll reports whether node holds every one of prefixes.
func (t *Tracker) HoldsAll(node string, prefixes []string) bool {
	for _, p := range prefixes {
		if !t.Holds(node, p) {
			return false
		}
	}
	return true
}

// announced returns the prefixes cfg announces: for each router, the
// prefixes it originates that every one of its neighbors may advertise. (The
// benchmark's advertisements go to every peer, so a prefix that only some
// neighbors get is not yet announced.)
func announced(cfg *frrv1beta1.FRRConfiguration) prefixSet {
	out := prefixSet{}
	for _, r := range cfg.Spec.BGP.Routers {
		if len(r.Neighbors) == 0 {
			continue
		}
		allowed := make([]prefixSet, 0, len(r.Neighbors))
		for _, n := range r.Neighbors {
			if n.ToAdvertise.Allowed.Mode == frrv1beta1.AllowAll {
				continue // every prefix of the router
			}
			s := make(prefixSet, len(n.ToAdvertise.Allowed.Prefixes))
			for _, p := range n.ToAdvertise.Allowed.Prefixes {
				s[p] = struct{}{}
			}
			allowed = append(allowed, s)
		}
	prefixes:
		for _, p := range r.Prefixes {
			for _, s := range allowed {
				if _, ok := s[p]; !ok {
					continue prefixes
				}
			}
			out[p] = struct{}{}
		}
	}
	return out
}
