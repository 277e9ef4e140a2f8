package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/nodetruth"
	"github.com/frrgen/frrgen/internal/translate"
)

// What the nodes report, read only: frr-k8s writes FRRNodeState (cluster
// scoped, one per node) and its status exporter BGPSessionState (in the
// frr-k8s namespace, one per node and neighbor).
// +kubebuilder:rbac:groups=frrk8s.metallb.io,resources=frrnodestates,verbs=get;list;watch
// +kubebuilder:rbac:groups=frrk8s.metallb.io,namespace=frr-k8s-system,resources=bgpsessionstates,verbs=get;list;watch

// Limits of frr-k8s's error text (frr-reload.py's output can be long): an
// Event's note is at most 1 kB, and a condition names several nodes.
const (
	eventErrorBytes     = 900
	conditionErrorBytes = 300
)

var (
	bgpSessions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frrgen_bgp_sessions",
		Help: "Sessions of the BGPPeer on the nodes that run it, by what their frr-k8s reports (BGPSessionState): established, down (not established, or missing in FRR), unreported (the node reports no session state).",
	}, []string{"peer", "state"})
	nodeReloadFailed = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frrgen_node_reload_failed",
		Help: "1 when the node's frr-k8s reports (FRRNodeState) that its last conversion of the FRRConfigurations or FRR's last reload failed; else 0.",
	}, []string{"node"})
)

func init() {
	metrics.Registry.MustRegister(bgpSessions, nodeReloadFailed)
}

// nodeTruth reads what the nodes report and tells it: the status of the
// BGPPeers (through setNodeTruth), Warning Events and metrics. The
// decisions are internal/nodetruth's.
type nodeTruth struct {
	recorder events.EventRecorder
	// namespace is the BGPPeers'.
	namespace string

	mu sync.Mutex
	// told is the report whose news were told; nil before the first.
	told *nodetruth.Report
	// peers and nodes with exported series, to delete the gone ones.
	peers, nodes map[string]bool
}

func newNodeTruth(recorder events.EventRecorder, namespace string) *nodeTruth {
	return &nodeTruth{recorder: recorder, namespace: namespace, peers: map[string]bool{}, nodes: map[string]bool{}}
}

// observe reads the FRRNodeStates and BGPSessionStates (from the cache) and
// decides, for peers whose sessions run on the nodes in running.
// stored are the nodes with a configuration of ours.
func (t *nodeTruth) observe(ctx context.Context, c client.Reader, options translate.Options, peers []metallbv1beta2.BGPPeer, running map[string][]string, stored map[string]bool) (nodetruth.Report, error) {
	var states frrv1beta1.FRRNodeStateList
	if err := c.List(ctx, &states); err != nil {
		return nodetruth.Report{}, fmt.Errorf("listing FRRNodeStates: %w", err)
	}
	var sessions frrv1beta1.BGPSessionStateList
	if err := c.List(ctx, &sessions, client.InNamespace(options.FRRK8sNamespace)); err != nil {
		return nodetruth.Report{}, fmt.Errorf("listing BGPSessionStates: %w", err)
	}
	in := truthInput(peers, running, states.Items, sessions.Items)
	in.Configured = slices.Sorted(maps.Keys(stored))
	return nodetruth.Decide(in), nil
}

// truthInput turns the objects into nodetruth's input. A BGPSessionState
// is read from its status, which frr-k8s fills with its labels' values.
func truthInput(peers []metallbv1beta2.BGPPeer, running map[string][]string, states []frrv1beta1.FRRNodeState, sessions []frrv1beta1.BGPSessionState) nodetruth.Input {
	var in nodetruth.Input
	for i := range peers {
		p := &peers[i]
		neighbor := p.Spec.Interface
		if neighbor == "" {
			neighbor = p.Spec.Address
		}
		in.Peers = append(in.Peers, nodetruth.Peer{Name: p.Name, Neighbor: nodetruth.NeighborLabel(neighbor), VRF: p.Spec.VRFName, Nodes: running[p.Name]})
	}
	for i := range sessions {
		s := &sessions[i].Status
		in.Sessions = append(in.Sessions, nodetruth.Session{Node: s.Node, Neighbor: s.Peer, VRF: s.VRF, BGP: s.BGPStatus, BFD: s.BFDStatus})
	}
	for i := range states {
		s := &states[i]
		in.NodeStates = append(in.NodeStates, nodetruth.NodeState{Node: s.Name, Conversion: s.Status.LastConversionResult, Reload: s.Status.LastReloadResult})
	}
	return in
}

// setNodeTruth sets a BGPPeer's establishedSessions and its
// SessionsEstablished and Applied conditions; it reports a change.
func setNodeTruth(p *metallbv1beta2.BGPPeer, report nodetruth.Report) bool {
	var peer nodetruth.PeerReport
	for _, r := range report.Peers {
		if r.Name == p.Name {
			peer = r
		}
	}
	changed := false
	if established := int32(peer.Established()); p.Status.EstablishedSessions != established {
		p.Status.EstablishedSessions, changed = established, true
	}
	changed = meta.SetStatusCondition(&p.Status.Conditions, sessionsCondition(peer, p.Generation)) || changed
	return meta.SetStatusCondition(&p.Status.Conditions, appliedCondition(peer, p.Generation)) || changed
}

func sessionsCondition(peer nodetruth.PeerReport, generation int64) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionSessionsEstablished, ObservedGeneration: generation, Message: peer.Summary(maxListed)}
	switch peer.Verdict() {
	case nodetruth.SomeDown:
		c.Status, c.Reason = metav1.ConditionFalse, metallbv1beta1.ReasonSessionsDown
	case nodetruth.NotReported:
		c.Status, c.Reason = metav1.ConditionUnknown, metallbv1beta1.ReasonSessionsNotReported
	default:
		c.Status, c.Reason = metav1.ConditionTrue, metallbv1beta1.ReasonSessionsEstablished
	}
	return c
}

// appliedCondition is False when frr-k8s failed to apply the configuration
// of a node that runs the peer.
func appliedCondition(peer nodetruth.PeerReport, generation int64) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionApplied, ObservedGeneration: generation,
		Status: metav1.ConditionTrue, Reason: metallbv1beta1.ReasonApplied,
		Message: "No node of this peer reports a failed conversion or reload (FRRNodeState)."}
	if len(peer.NotApplied) == 0 {
		return c
	}
	failed := make([]nodeConflict, len(peer.NotApplied))
	for i, n := range peer.NotApplied {
		failed[i] = nodeConflict{node: n.Node, message: failureText(*n.Failure, conditionErrorBytes)}
	}
	c.Status, c.Reason = metav1.ConditionFalse, failureReason(peer.FailedStage())
	c.Message = fmt.Sprintf("frr-k8s did not apply the configuration on %d node(s); they run an older one. %s", len(failed), listNodeMessages(failed))
	return c
}

func failureReason(stage nodetruth.Stage) string {
	if stage == nodetruth.Conversion {
		return metallbv1beta1.ReasonConversionFailed
	}
	return metallbv1beta1.ReasonReloadFailed
}

func failureText(f nodetruth.Failure, max int) string {
	return fmt.Sprintf("%s failed: %s", f.Stage, nodetruth.Truncate(f.Message, max))
}

// tell records the Warning Events of what is news since the last report
// told, and sets the metrics. It runs after the statuses are written.
func (t *nodeTruth) tell(ctx context.Context, c client.Reader, report nodetruth.Report) {
	t.mu.Lock()
	defer t.mu.Unlock()
	news := nodetruth.Changes(t.told, report)
	t.told = &report
	for _, n := range news.NodeFailures {
		var node corev1.Node
		if err := c.Get(ctx, types.NamespacedName{Name: n.Node}, &node); err != nil {
			continue // no Node to tell (deleted); the metric still says it
		}
		t.recorder.Eventf(&node, nil, corev1.EventTypeWarning, failureReason(n.Failure.Stage), "Apply",
			"frr-k8s on node %s: %s", n.Node, failureText(*n.Failure, eventErrorBytes))
	}
	for _, s := range news.SessionsDown {
		var peer metallbv1beta2.BGPPeer
		if err := c.Get(ctx, types.NamespacedName{Namespace: t.namespace, Name: s.Peer}, &peer); err != nil {
			continue // deleted meanwhile
		}
		var related runtime.Object // the Node, when it exists
		var node corev1.Node
		if c.Get(ctx, types.NamespacedName{Name: s.Node}, &node) == nil {
			related = &node
		}
		t.recorder.Eventf(&peer, related, corev1.EventTypeWarning, metallbv1beta1.ReasonSessionDown, "Observe",
			"The session on node %s is no longer established: %s", s.Node, s.State)
	}
	t.setMetrics(report)
}

// setMetrics exports the report, and deletes the series of peers and nodes
// it no longer has.
func (t *nodeTruth) setMetrics(report nodetruth.Report) {
	peers := map[string]bool{}
	for _, p := range report.Peers {
		peers[p.Name] = true
		bgpSessions.WithLabelValues(p.Name, "established").Set(float64(len(p.Up)))
		bgpSessions.WithLabelValues(p.Name, "down").Set(float64(len(p.Down)))
		bgpSessions.WithLabelValues(p.Name, "unreported").Set(float64(len(p.Unreported)))
	}
	for name := range t.peers {
		if !peers[name] {
			bgpSessions.DeletePartialMatch(prometheus.Labels{"peer": name})
		}
	}
	nodes := map[string]bool{}
	for _, n := range report.Nodes {
		nodes[n.Node] = true
		failed := 0.0
		if n.Failure != nil {
			failed = 1
		}
		nodeReloadFailed.WithLabelValues(n.Node).Set(failed)
	}
	for name := range t.nodes {
		if !nodes[name] {
			nodeReloadFailed.DeleteLabelValues(name)
		}
	}
	t.peers, t.nodes = peers, nodes
}

// stripRunningConfig is the cache transform of FRRNodeStates: frrgen reads
// only the results, and the running configuration is the size of a node's
// frr.conf.
func stripRunningConfig(obj any) (any, error) {
	if state, ok := obj.(*frrv1beta1.FRRNodeState); ok {
		state.ManagedFields = nil
		state.Status.RunningConfig = ""
	}
	return obj, nil
}

// nodeStateResultsChanged passes FRRNodeState updates that change a result
// (with the running configuration stripped, other updates look alike).
func nodeStateResultsChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, ok1 := e.ObjectOld.(*frrv1beta1.FRRNodeState)
		after, ok2 := e.ObjectNew.(*frrv1beta1.FRRNodeState)
		return !ok1 || !ok2 || before.Status.LastConversionResult != after.Status.LastConversionResult ||
			before.Status.LastReloadResult != after.Status.LastReloadResult
	}}
}

// sessionStateChanged passes BGPSessionState updates that change its status.
func sessionStateChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, ok1 := e.ObjectOld.(*frrv1beta1.BGPSessionState)
		after, ok2 := e.ObjectNew.(*frrv1beta1.BGPSessionState)
		return !ok1 || !ok2 || before.Status != after.Status
	}}
}
