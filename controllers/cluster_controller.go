package controllers

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/configstate"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/translate"
)

// clusterKey is the only request the cluster reconciler gets.
var clusterKey = ctrl.Request{NamespacedName: types.NamespacedName{Name: "frrgen"}}

// ClusterReconciler deletes unused password mirrors, writes the status of the
// metallb.io objects and the Services' frrgen.io/Announced condition, and
// records the Events on Services.
type ClusterReconciler struct {
	Client     client.Client
	Translator *Translator
	Options    translate.Options
	Recorder   events.EventRecorder
	owner      owner
	mirrors    *mirrors
	outcomes   *nodeOutcomes
	// Schemas says which kinds' status frrgen writes and whether it
	// reports in MetalLB's ConfigurationState.
	Schemas schemas.Decision
	// unwritten keeps, for the objects whose status frrgen does not write,
	// the conditions it would have written (see patchStatus).
	unwritten *unwrittenConditions
	// configState is frrgen's ConfigurationState as last written.
	configState *configStateWriter
	// bgpStatuses writes frrgen's ServiceBGPStatus objects; nil when
	// disabled.
	bgpStatuses *bgpStatusWriter

	// lagging takes the names of nodes to reconcile again (see settled).
	lagging chan<- event.GenericEvent
	// truth is what the nodes report (FRRNodeState, BGPSessionState).
	truth *nodeTruth

	mu sync.Mutex
	// written holds the Service conditions patched by this process.
	written serviceConditions
	// nudged is the translation version each node was last nudged for.
	nudged map[string]uint64
}

// Reconcile deletes the password mirrors nothing uses any more, and brings
// the metallb.io statuses and the Service Events up to date with the
// (cached) translation.
func (r *ClusterReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	translation, err := r.Translator.Result(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	// The node reconciler writes mirrors, before the configurations using
	// them; a mirror goes only when no stored configuration of ours (a held
	// node's last good one included) references it.
	if err := r.mirrors.deleteUnused(ctx, r.Client, translation.PasswordSecrets); err != nil {
		return ctrl.Result{}, err
	}
	problems, err := r.findNodeProblems(ctx, translation)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.updateStatuses(ctx, translation, problems); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing status: %w", err)
	}
	if r.Schemas.ConfigurationState {
		if err := r.configState.write(ctx, translation.Objects); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing ConfigurationState %s/%s: %w", r.Options.Namespace, configstate.Name, err)
		}
	}
	// The Services' conditions say what the nodes were given: they wait
	// until every node has acted on this translation (its outcome wakes
	// us). A held node is described by its stored configuration.
	if r.settled(translation) {
		if err := r.writeServiceStatuses(ctx, translation); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// peerConflicts maps a BGPPeer name to the per-node problems that involve
// its sessions, sorted by node.
type peerConflicts map[string][]nodeConflict

type nodeConflict struct {
	node    string
	message string
}

// nodeProblems are, per BGPPeer, the nodes that keep an older configuration
// because of a conflict and because a write failed, read from the node
// reconcilers' outcomes (the node plan is the one home of the verdict).
type nodeProblems struct {
	conflicts, writeFailures peerConflicts
}

func (r *ClusterReconciler) findNodeProblems(ctx context.Context, translation *Translation) (nodeProblems, error) {
	var peers metallbv1beta2.BGPPeerList
	if err := r.Client.List(ctx, &peers, client.InNamespace(r.Options.Namespace)); err != nil {
		return nodeProblems{}, fmt.Errorf("listing BGPPeers: %w", err)
	}
	peerNodes := map[string]map[string]bool{}
	for _, summary := range translation.Peers {
		peerNodes[summary.Name] = setOf(summary.Nodes)
	}
	problems := nodeProblems{conflicts: peerConflicts{}, writeFailures: peerConflicts{}}
	for node, outcome := range r.outcomes.all() {
		for i := range peers.Items {
			peer := &peers.Items[i]
			if !peerNodes[peer.Name][node] {
				continue
			}
			if c := outcome.conflict; c != nil && (r.blocksWholeNode(c, node) || conflictConcernsPeer(c, peer)) {
				problems.conflicts[peer.Name] = append(problems.conflicts[peer.Name], nodeConflict{node: node, message: c.Message})
			}
			if outcome.writeError != "" {
				problems.writeFailures[peer.Name] = append(problems.writeFailures[peer.Name], nodeConflict{node: node, message: outcome.writeError})
			}
		}
	}
	return problems, nil
}

// blocksWholeNode: a conflict that names only the node's own configuration
// of ours (an object of someone else's holds its name, say) stops every
// session of the node, as nothing is written then.
func (r *ClusterReconciler) blocksWholeNode(c *merge.Conflict, node string) bool {
	return len(c.Configs) == 1 && c.Configs[0].Name == translate.ConfigName(r.Options.NamePrefix, node)
}

func conflictConcernsPeer(conflict *merge.Conflict, peer *metallbv1beta2.BGPPeer) bool {
	if conflict.Neighbor == "" {
		return conflict.VRF == peer.Spec.VRFName
	}
	for _, id := range neighborIDs(peer) {
		if id == conflict.Neighbor {
			return true
		}
	}
	return false
}

// neighborIDs are the frr-k8s merge keys the peer's neighbor may have: the
// interface or address (as written and in canonical form), plus "-<vrf>".
func neighborIDs(peer *metallbv1beta2.BGPPeer) []string {
	suffix := ""
	if peer.Spec.VRFName != "" {
		suffix = "-" + peer.Spec.VRFName
	}
	if peer.Spec.Interface != "" {
		return []string{peer.Spec.Interface + suffix}
	}
	ids := []string{peer.Spec.Address + suffix}
	if ip := net.ParseIP(peer.Spec.Address); ip != nil {
		ids = append(ids, ip.String()+suffix)
	}
	return ids
}

// updateStatuses writes the status of every metallb.io object whose status
// changes, and records a Warning Event when an object becomes invalid (or its
// problem changes).
func (r *ClusterReconciler) updateStatuses(ctx context.Context, translation *Translation, problems nodeProblems) error {
	diagnostics := map[translate.ObjectRef]*translate.ObjectDiagnostic{}
	for i := range translation.Objects {
		diagnostics[translation.Objects[i].Ref] = &translation.Objects[i]
	}
	diagnosticOf := func(kind string, obj client.Object) *translate.ObjectDiagnostic {
		return diagnostics[translate.ObjectRef{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}]
	}
	inNamespace := client.InNamespace(r.Options.Namespace)

	var peers metallbv1beta2.BGPPeerList
	if err := r.Client.List(ctx, &peers, inNamespace); err != nil {
		return err
	}
	stored, err := r.storedNodes(ctx)
	if err != nil {
		return err
	}
	peerSummaries := map[string]translate.PeerSummary{}
	for _, s := range translation.Peers {
		peerSummaries[s.Name] = s
	}
	r.unwritten.startPass()
	defer r.unwritten.endPass()
	running := map[string][]string{}
	for _, p := range peers.Items {
		conflicts, failures := problems.conflicts[p.Name], problems.writeFailures[p.Name]
		running[p.Name] = runningNodes(peerSummaries[p.Name], append(nodesOf(conflicts), nodesOf(failures)...), stored)
	}
	truth, err := r.truth.observe(ctx, r.Client, r.Options, peers.Items, running, stored)
	if err != nil {
		return err
	}
	for i := range peers.Items {
		peer := &peers.Items[i]
		err := r.patchStatus(ctx, translate.KindBGPPeer, peer, func(obj client.Object) bool {
			p := obj.(*metallbv1beta2.BGPPeer)
			diagnostic := diagnosticOf(translate.KindBGPPeer, p)
			changed := r.setValid(p, &p.Status.Conditions, diagnostic)
			// What the nodes report is true whatever the peer's validity.
			changed = setNodeTruth(p, truth) || changed
			if diagnostic == nil || len(diagnostic.Problems) > 0 {
				return changed // counts and conflicts stay as they were: its nodes are held
			}
			conflicts, failures := problems.conflicts[p.Name], problems.writeFailures[p.Name]
			changed = meta.SetStatusCondition(&p.Status.Conditions, conflictCondition(conflicts, p.Generation)) || changed
			changed = meta.SetStatusCondition(&p.Status.Conditions, writtenCondition(failures, p.Generation)) || changed
			configured := int32(len(running[p.Name]))
			if p.Status.ConfiguredNodes != configured {
				p.Status.ConfiguredNodes, changed = configured, true
			}
			return changed
		})
		if err != nil {
			return err
		}
	}
	r.truth.tell(ctx, r.Client, truth)

	var advertisements metallbv1beta1.BGPAdvertisementList
	if err := r.Client.List(ctx, &advertisements, inNamespace); err != nil {
		return err
	}
	adSummaries := map[string]translate.AdvertisementSummary{}
	for _, s := range translation.Advertisements {
		adSummaries[s.Name] = s
	}
	for i := range advertisements.Items {
		err := r.patchStatus(ctx, translate.KindBGPAdvertisement, &advertisements.Items[i], func(obj client.Object) bool {
			ad := obj.(*metallbv1beta1.BGPAdvertisement)
			diagnostic := diagnosticOf(translate.KindBGPAdvertisement, ad)
			changed := r.setValid(ad, &ad.Status.Conditions, diagnostic)
			if diagnostic == nil || len(diagnostic.Problems) > 0 {
				return changed
			}
			changed = r.setReferencesResolved(ad, diagnostic) || changed
			s := adSummaries[ad.Name]
			if ad.Status.ServiceIPs != int32(s.ServiceIPs) || ad.Status.Prefixes != int32(s.Prefixes) {
				ad.Status.ServiceIPs, ad.Status.Prefixes, changed = int32(s.ServiceIPs), int32(s.Prefixes), true
			}
			return changed
		})
		if err != nil {
			return err
		}
	}

	// The kinds whose status is only the Valid condition.
	var (
		pools       metallbv1beta1.IPAddressPoolList
		communities metallbv1beta1.CommunityList
		bfdProfiles metallbv1beta1.BFDProfileList
	)
	var simple []client.Object
	if err := r.Client.List(ctx, &pools, inNamespace); err != nil {
		return err
	}
	for i := range pools.Items {
		simple = append(simple, &pools.Items[i])
	}
	if err := r.Client.List(ctx, &communities, inNamespace); err != nil {
		return err
	}
	for i := range communities.Items {
		simple = append(simple, &communities.Items[i])
	}
	if err := r.Client.List(ctx, &bfdProfiles, inNamespace); err != nil {
		return err
	}
	for i := range bfdProfiles.Items {
		simple = append(simple, &bfdProfiles.Items[i])
	}
	for _, obj := range simple {
		kind := simpleKind(obj)
		err := r.patchStatus(ctx, kind, obj, func(obj client.Object) bool {
			conditions := conditionsOf(obj)
			return r.setValid(obj, conditions, diagnosticOf(kind, obj))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// storedNodes are the nodes with an FRRConfiguration of ours: those run
// their last good configuration while held, in conflict or after a failed
// write.
func (r *ClusterReconciler) storedNodes(ctx context.Context) (map[string]bool, error) {
	ours, err := ReadStoredConfigs(ctx, r.Client, r.Options)
	if err != nil {
		return nil, err
	}
	nodes := map[string]bool{}
	for i := range ours {
		if node := ours[i].Annotations[translate.AnnotationNode]; node != "" && r.owner.ownsConfig(&ours[i]) {
			nodes[node] = true
		}
	}
	return nodes, nil
}

// runningNodes are the nodes that run a peer, sorted: those given the
// current configuration, and those that keep a stored one (held, in
// conflict, or after a failed write). A stored configuration is taken to
// have the peer when the peer selects the node. They are the peer's NODES
// and the nodes expected to report its session.
func runningNodes(s translate.PeerSummary, stale []string, stored map[string]bool) []string {
	staleSet := setOf(stale)
	var nodes []string
	for _, node := range s.Nodes {
		if !staleSet[node] || stored[node] {
			nodes = append(nodes, node)
		}
	}
	for _, node := range s.HeldNodes {
		if stored[node] {
			nodes = append(nodes, node)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// setReferencesResolved sets the ReferencesResolved condition of a valid
// advertisement and records a Warning Event when a reference goes missing
// (or another does). It reports whether the conditions changed.
func (r *ClusterReconciler) setReferencesResolved(ad *metallbv1beta1.BGPAdvertisement, d *translate.ObjectDiagnostic) bool {
	var missing []translate.Problem
	for _, w := range d.Warnings {
		if w.MissingReference {
			missing = append(missing, w)
		}
	}
	c := metav1.Condition{Type: metallbv1beta1.ConditionReferencesResolved, ObservedGeneration: d.Generation,
		Status: metav1.ConditionTrue, Reason: metallbv1beta1.ReasonReferencesResolved, Message: "Every IPAddressPool and BGPPeer it names exists."}
	if len(missing) > 0 {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, metallbv1beta1.ReasonMissingReference, joinMessages(missing)
	}
	previous := meta.FindStatusCondition(ad.Status.Conditions, c.Type)
	if !meta.SetStatusCondition(&ad.Status.Conditions, c) {
		return false
	}
	if c.Status == metav1.ConditionFalse && (previous == nil || previous.Status != c.Status || previous.Message != c.Message) {
		r.Recorder.Eventf(ad, nil, corev1.EventTypeWarning, metallbv1beta1.ReasonMissingReference, "Translate", "%s", c.Message)
	}
	return true
}

// patchStatus applies mutate to a copy of obj and, only if mutate reports a
// change, patches the status subresource. For a kind whose status frrgen
// does not write (MetalLB's schemas prune it, or MetalLB owns it), mutate
// runs on the conditions frrgen last computed instead of the stored ones,
// and nothing is written: its Events still fire on transitions only.
func (r *ClusterReconciler) patchStatus(ctx context.Context, kind string, obj client.Object, mutate func(client.Object) bool) error {
	updated := obj.DeepCopyObject().(client.Object)
	if !r.Schemas.ObjectStatus[kind] {
		ref := translate.ObjectRef{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
		conditions := conditionsOf(updated)
		*conditions = r.unwritten.get(ref, obj.GetUID())
		mutate(updated)
		r.unwritten.set(ref, obj.GetUID(), *conditions)
		return nil
	}
	if !mutate(updated) {
		return nil
	}
	err := r.Client.Status().Patch(ctx, updated, client.MergeFrom(obj))
	if apierrors.IsNotFound(err) {
		return nil // deleted meanwhile; its deletion event brings us back anyway
	}
	return err
}

// setValid sets the Valid condition from the object's diagnostic and records
// a Warning Event when the object becomes invalid or its problem changes. It
// reports whether the conditions changed.
func (r *ClusterReconciler) setValid(obj client.Object, conditions *[]metav1.Condition, diagnostic *translate.ObjectDiagnostic) bool {
	if diagnostic == nil {
		return false // translate said nothing about it (e.g. created after the build)
	}
	condition := validCondition(diagnostic)
	previous := meta.FindStatusCondition(*conditions, metallbv1beta1.ConditionValid)
	becameInvalid := condition.Status == metav1.ConditionFalse &&
		(previous == nil || previous.Status != metav1.ConditionFalse || previous.Message != condition.Message)
	if !meta.SetStatusCondition(conditions, condition) {
		return false
	}
	if becameInvalid {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, metallbv1beta1.ReasonInvalid, "Translate", "%s", condition.Message)
	}
	return true
}

func validCondition(d *translate.ObjectDiagnostic) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionValid, ObservedGeneration: d.Generation}
	if len(d.Problems) > 0 {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, metallbv1beta1.ReasonInvalid, joinMessages(d.Problems)+". "+heldSentence(d.HeldNodes)
		return c
	}
	c.Status, c.Reason, c.Message = metav1.ConditionTrue, metallbv1beta1.ReasonValid, "The object is valid."
	if len(d.Warnings) > 0 {
		c.Message += " Warnings: " + joinMessages(d.Warnings)
	}
	return c
}

// heldSentence tells which nodes keep their last good configuration
// because of an invalid object.
func heldSentence(nodes []string) string {
	if len(nodes) == 0 {
		return "It could change no node's configuration, so no node is held."
	}
	return fmt.Sprintf("%d node(s) keep their last good configuration until it is fixed: %s.", len(nodes), listSome(nodes))
}

func joinMessages(problems []translate.Problem) string {
	messages := make([]string, len(problems))
	for i, p := range problems {
		messages[i] = p.Message
	}
	return strings.Join(messages, "; ")
}

// maxListed bounds how many nodes a condition or Event names.
const maxListed = 5

// writtenCondition is False while the configuration of one of the peer's
// nodes could not be written: that node keeps its previous one.
func writtenCondition(failures []nodeConflict, generation int64) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionWritten, ObservedGeneration: generation}
	if len(failures) == 0 {
		c.Status, c.Reason = metav1.ConditionTrue, metallbv1beta1.ReasonWritten
		c.Message = "The configuration of every node of this peer is written."
		return c
	}
	c.Status, c.Reason = metav1.ConditionFalse, metallbv1beta1.ReasonWriteFailed
	c.Message = fmt.Sprintf("%d node(s) keep their previous configuration because writing the new one failed. %s", len(failures), listNodeMessages(failures))
	return c
}

func nodesOf(items []nodeConflict) []string {
	out := make([]string, len(items))
	for i, nc := range items {
		out[i] = nc.node
	}
	return out
}

// listNodeMessages lists "node X: message" for the first few nodes.
func listNodeMessages(items []nodeConflict) string {
	sort.Slice(items, func(i, j int) bool { return items[i].node < items[j].node })
	parts := make([]string, 0, maxListed)
	for i, nc := range items {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more nodes", len(items)-maxListed))
			break
		}
		parts = append(parts, fmt.Sprintf("node %s: %s", nc.node, nc.message))
	}
	return strings.Join(parts, "; ")
}

func conflictCondition(conflicts []nodeConflict, generation int64) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionConflict, ObservedGeneration: generation}
	if len(conflicts) == 0 {
		c.Status, c.Reason = metav1.ConditionFalse, metallbv1beta1.ReasonNoConflict
		c.Message = "No other FRRConfiguration clashes with this peer's sessions."
		return c
	}
	c.Status, c.Reason = metav1.ConditionTrue, metallbv1beta1.ReasonConflict
	c.Message = fmt.Sprintf("%d node(s) keep their last good configuration. %s", len(conflicts), listNodeMessages(conflicts))
	return c
}

// settled tells whether every speaker node of translation has acted on it
// (written, held, or found a conflict or a failure). A node that acted on
// an older build is nudged: both controllers' handlers count each input
// event, so a node may have built just between the two counts and, when
// nothing of its own changed, would not be reconciled again.
func (r *ClusterReconciler) settled(translation *Translation) bool {
	outcomes := r.outcomes.all()
	settled := true
	check := func(node string) {
		build := outcomes[node].build
		if build == translation.version {
			return
		}
		settled = false
		if build < translation.version {
			r.nudge(node, translation.version)
		}
	}
	for i := range translation.Configs {
		check(translation.Configs[i].Annotations[translate.AnnotationNode])
	}
	for _, h := range translation.Held {
		check(h.Node)
	}
	return settled
}

// nudge asks the node reconciler for node, once per translation version.
func (r *ClusterReconciler) nudge(node string, version uint64) {
	if r.lagging == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nudged == nil {
		r.nudged = map[string]uint64{}
	}
	if r.nudged[node] >= version {
		return
	}
	select {
	case r.lagging <- event.GenericEvent{Object: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}}:
		r.nudged[node] = version
	default: // full: the node has many events pending anyway; retried on the next pass
	}
}

func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
}

func setOf(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, item := range items {
		m[item] = true
	}
	return m
}
