package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// nodeIndex indexes our FRRConfigurations by the node they are for.
const nodeIndex = "frrgen.node"

// indexConfigByNode is the indexer behind nodeIndex: only objects provably
// ours are indexed, so a user object can never be found (and deleted)
// through it.
func (o owner) indexConfigByNode(obj client.Object) []string {
	if !o.ownsConfig(obj) {
		return nil
	}
	if node := obj.GetAnnotations()[translate.AnnotationNode]; node != "" {
		return []string{node}
	}
	return nil
}

// usersIndex indexes the FRRConfigurations that are not ours under "true",
// so that each node reconcile finds them without scanning ours (one per node).
const usersIndex = "frrgen.user"

func (o owner) indexUsersConfig(obj client.Object) []string {
	if o.ownsConfig(obj) {
		return nil
	}
	return []string{"true"}
}

// NodeReconciler keeps one node's FRRConfiguration; the request name is the
// node name.
type NodeReconciler struct {
	Client     client.Client
	Translator *Translator
	Options    translate.Options
	Recorder   events.EventRecorder
	owner      owner
	mirrors    *mirrors
	outcomes   *nodeOutcomes
	// Layout splits a node's configuration past its size limit.
	Layout layout.Options

	mu sync.Mutex
	// reported holds, per node, the conflict or write error already recorded
	// as an Event, so that a persisting problem is reported once.
	reported map[string]string
}

// Reconcile is a short linear story: read the node's current state, let the
// node plan decide, apply its writes, and record what happened (status,
// Events and metrics are made from that record).
func (r *NodeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	node := req.Name
	translation, err := r.Translator.Result(ctx)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("translating the input: %w", err)
	}
	in, exists, err := r.currentState(ctx, translation, node)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading node %s: %w", node, err)
	}
	plan := r.decide(node, in)
	for _, w := range plan.Warnings {
		logf.FromContext(ctx).V(1).Info("merge warning", "node", node, "warning", w) // repeats: debug level
	}

	outcome := nodeOutcome{build: translation.version, held: translation.HeldBy(node), conflict: plan.Conflict}
	switch {
	case len(in.Desired) == 0 && len(in.Stored) == 0 && !in.Held:
		r.forgetNode(node) // nothing of ours, nothing wanted: no series, no record
		return ctrl.Result{}, nil
	case in.Held || plan.Conflict != nil:
		// Fail static: the node keeps what it has. A node without a
		// configuration of ours keeps nothing, so it is not stale.
		if len(in.Stored) > 0 {
			staleConfig.WithLabelValues(node).Set(1)
		}
		if plan.Conflict != nil {
			r.reportConflict(ctx, node, in, plan.Conflict)
		}
		r.outcomes.record(node, outcome)
		return ctrl.Result{}, nil
	}
	if err := r.applyPlan(ctx, translation, in.Desired, plan); err != nil {
		if apierrors.IsNotFound(err) && !exists {
			return ctrl.Result{}, nil // the node went away meanwhile; its deletion event brings us back
		}
		outcome.writeError = err.Error()
		staleConfig.WithLabelValues(node).Set(1)
		r.reportWriteFailure(ctx, node, err)
		r.outcomes.record(node, outcome)
		return ctrl.Result{}, fmt.Errorf("writing the configuration of node %s: %w", node, err)
	}
	r.clearReported(node)
	if len(in.Desired) == 0 {
		r.forgetNode(node)
		return ctrl.Result{}, nil
	}
	r.outcomes.record(node, outcome)
	staleConfig.WithLabelValues(node).Set(0)
	prefixesPerNode.WithLabelValues(node).Set(float64(countPrefixes(in.Desired)))
	if err := r.retireSharedObjects(ctx, translation, node); err != nil {
		return ctrl.Result{}, fmt.Errorf("deleting the shared layout's objects: %w", err)
	}
	return ctrl.Result{}, nil
}

// retireSharedObjects deletes the objects selecting node that a run with
// --layout shared left, once no node needs them: every node they list has
// its per-node configuration written from this build, or must have none.
// Until then frr-k8s merges them with the per-node objects (the same
// sessions; at worst a withdrawn prefix stays a little longer).
func (r *NodeReconciler) retireSharedObjects(ctx context.Context, translation *Translation, node string) error {
	var ours frrv1beta1.FRRConfigurationList
	if err := r.Client.List(ctx, &ours, client.InNamespace(r.Options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	var outcomes map[string]nodeOutcome
	for i := range ours.Items {
		c := &ours.Items[i]
		if !isShared(c) || !slices.Contains(selectedNodes(c), node) || !r.owner.ownsConfig(c) {
			continue
		}
		if outcomes == nil {
			outcomes = r.outcomes.all()
		}
		needed := slices.ContainsFunc(selectedNodes(c), func(n string) bool {
			wanted := translation.ConfigFor(n) != nil || translation.HeldBy(n) != nil
			return wanted && !outcomes[n].current(translation)
		})
		if !needed {
			if err := r.write(ctx, nodeplan.Write{Verb: nodeplan.Delete, Config: c.DeepCopy()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// currentState gathers the node plan's input from the cache: the node's
// labels, its desired and stored configurations, the users' configurations
// and the Secrets frr-k8s will read. exists is false for a deleted Node.
func (r *NodeReconciler) currentState(ctx context.Context, translation *Translation, node string) (nodeplan.Input, bool, error) {
	in := nodeplan.Input{Node: node, Held: translation.HeldBy(node) != nil}
	var stored frrv1beta1.FRRConfigurationList
	if err := r.Client.List(ctx, &stored, client.InNamespace(r.Options.FRRK8sNamespace), client.MatchingFields{nodeIndex: node}); err != nil {
		return in, false, err
	}
	in.Stored = stored.Items
	if desired := translation.ConfigFor(node); desired != nil {
		objects, err := r.objectsFor(desired, in.Stored)
		if err != nil {
			return in, false, err
		}
		in.Desired = objects
	}
	var n corev1.Node
	err := r.Client.Get(ctx, types.NamespacedName{Name: node}, &n)
	if client.IgnoreNotFound(err) != nil {
		return in, false, err
	}
	exists := err == nil
	in.NodeLabels = n.Labels
	if len(in.Desired) == 0 || in.Held {
		return in, exists, nil // nothing to check
	}
	others, err := usersConfigs(ctx, r.Client, r.Options.FRRK8sNamespace)
	if err != nil {
		return in, exists, err
	}
	in.Others = others
	in.Secrets, err = r.mirrors.secretsAfterMirroring(ctx, r.Client, translation.PasswordSecrets)
	return in, exists, err
}

// objectsFor lays out the node's desired configuration: one object while
// it fits under --max-object-bytes, else self-contained shards (see
// internal/layout), each with its own ownership proof. It records the
// node's object count and bytes.
func (r *NodeReconciler) objectsFor(desired *frrv1beta1.FRRConfiguration, stored []frrv1beta1.FRRConfiguration) ([]frrv1beta1.FRRConfiguration, error) {
	options := r.Layout
	options.StoredShards = layout.ShardCounts(stored)
	l, err := layout.Compute([]frrv1beta1.FRRConfiguration{*desired}, options)
	if err != nil {
		return nil, fmt.Errorf("laying out the configuration: %w", err)
	}
	node := desired.Annotations[translate.AnnotationNode]
	objects := l.PerNode[node]
	for i := range objects {
		if objects[i].Name != desired.Name {
			r.owner.stampConfig(&objects[i]) // the proof covers the name
		}
	}
	count, bytes := l.NodeStats(node)
	objectsPerNode.WithLabelValues(node).Set(float64(count))
	bytesPerNode.WithLabelValues(node).Set(float64(bytes))
	return objects, nil
}

// decide runs the node plan, reusing the node's last merge verdict when the
// content it judged has not changed.
func (r *NodeReconciler) decide(node string, in nodeplan.Input) nodeplan.Plan {
	if !nodeplan.NeedsMerge(in) {
		return nodeplan.Decide(in)
	}
	key := verdictKey(&in)
	in.Verdict = r.outcomes.verdict(node, key)
	plan := nodeplan.Decide(in)
	if in.Verdict == nil && plan.Verdict != nil {
		// The verdict, without the effective configuration: the controller
		// never reads that, and it is as large as the node's configuration.
		r.outcomes.keepVerdict(node, key, &nodeplan.Verdict{Conflict: plan.Verdict.Conflict, Warnings: plan.Verdict.Warnings})
	}
	return plan
}

// applyPlan makes the plan's writes, in its order, after the password
// mirrors the desired configurations reference (also when the configurations
// themselves are unchanged: a rotated password must reach its mirror).
func (r *NodeReconciler) applyPlan(ctx context.Context, translation *Translation, desired []frrv1beta1.FRRConfiguration, plan nodeplan.Plan) error {
	referencing := make([]*frrv1beta1.FRRConfiguration, len(desired))
	for i := range desired {
		referencing[i] = &desired[i]
	}
	return r.mirrors.writeConfigs(ctx, r.Client, translation.PasswordSecrets, referencing, func() error {
		for _, w := range plan.Writes {
			if err := r.write(ctx, w); err != nil {
				return fmt.Errorf("%s FRRConfiguration %s/%s: %w", w.Verb, w.Config.Namespace, w.Config.Name, err)
			}
		}
		return nil
	})
}

func (r *NodeReconciler) write(ctx context.Context, w nodeplan.Write) error {
	var err error
	switch w.Verb {
	// A plan's configurations are its own copies: written in place, they
	// get the resourceVersion the apiserver gave them.
	case nodeplan.Create:
		err = r.Client.Create(ctx, w.Config)
	case nodeplan.Update:
		err = r.Client.Update(ctx, w.Config)
	case nodeplan.Delete:
		if !r.owner.ownsConfig(w.Config) {
			return nil // the index holds only ours; this guards the invariant
		}
		err = r.Client.Delete(ctx, w.Config, client.Preconditions{UID: &w.Config.UID, ResourceVersion: &w.Config.ResourceVersion})
		if apierrors.IsNotFound(err) {
			return nil
		}
	}
	return countWrite(kindFRRConfiguration, string(w.Verb), err)
}

// reportConflict records Events on our object and on the other ones, once per
// distinct conflict.
func (r *NodeReconciler) reportConflict(ctx context.Context, node string, in nodeplan.Input, conflict *merge.Conflict) {
	if !r.firstReport(node, conflict.Message) {
		return
	}
	conflictsTotal.Inc()
	logf.FromContext(ctx).Info("not writing node configuration: conflict", "node", node, "conflict", conflict.Message)

	var ours *frrv1beta1.FRRConfiguration
	if len(in.Stored) > 0 {
		ours = &in.Stored[0]
	}
	for _, key := range conflict.Configs {
		var other frrv1beta1.FRRConfiguration
		if r.Client.Get(ctx, key, &other) != nil || r.owner.ownsConfig(&other) {
			continue
		}
		var related runtime.Object // an untyped nil when ours does not exist yet
		if ours != nil {
			related = ours
		}
		r.Recorder.Eventf(&other, related, corev1.EventTypeWarning, "Conflict", "MergeCheck",
			"clashes with frrgen's configuration for node %s, which keeps its last good configuration: %s", node, conflict.Message)
	}
	if ours != nil {
		r.Recorder.Eventf(ours, nil, corev1.EventTypeWarning, "Conflict", "MergeCheck",
			"not updated, node %s keeps its last good configuration: %s", node, conflict.Message)
	}
}

// reportWriteFailure records a Warning Event on the Node, once per distinct
// error: frr-k8s there keeps running the previous configuration.
func (r *NodeReconciler) reportWriteFailure(ctx context.Context, node string, err error) {
	if !r.firstReport(node, err.Error()) {
		return
	}
	logf.FromContext(ctx).Error(err, "writing node configuration failed", "node", node)
	r.Recorder.Eventf(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, nil, corev1.EventTypeWarning, "WriteFailed", "Write",
		"the FRRConfiguration of node %s could not be written, so frr-k8s there keeps its previous configuration: %v", node, err)
}

// firstReport tells whether message is new for node, and remembers it.
func (r *NodeReconciler) firstReport(node, message string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reported == nil {
		r.reported = map[string]string{}
	}
	if r.reported[node] == message {
		return false
	}
	r.reported[node] = message
	return true
}

func (r *NodeReconciler) clearReported(node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.reported, node)
}

func (r *NodeReconciler) forgetNode(node string) {
	r.clearReported(node)
	r.outcomes.forget(node)
	staleConfig.DeleteLabelValues(node)
	prefixesPerNode.DeleteLabelValues(node)
	objectsPerNode.DeleteLabelValues(node)
	bytesPerNode.DeleteLabelValues(node)
}

// usersConfigs lists the FRRConfigurations of the frr-k8s namespace that are
// not ours: those are what our configurations must merge with.
func usersConfigs(ctx context.Context, reader client.Reader, namespace string) ([]frrv1beta1.FRRConfiguration, error) {
	var list frrv1beta1.FRRConfigurationList
	if err := reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{usersIndex: "true"}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func countPrefixes(configs []frrv1beta1.FRRConfiguration) int {
	n := 0
	for i := range configs {
		for _, router := range configs[i].Spec.BGP.Routers {
			n += len(router.Prefixes)
		}
	}
	return n
}
