package controllers

import (
	"context"
	"fmt"
	"sync"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/translate"
)

// nodeIndex indexes our FRRConfigurations by the node they are for.
const nodeIndex = "frrgen.node"

// indexOwnConfigByNode is the indexer behind nodeIndex: only objects labelled
// as ours are indexed, so a user object can never be found (and deleted)
// through it.
func indexOwnConfigByNode(obj client.Object) []string {
	if !isOurs(obj) {
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

func indexUsersConfig(obj client.Object) []string {
	if isOurs(obj) {
		return nil
	}
	return []string{"true"}
}

func isOurs(obj client.Object) bool {
	return obj.GetLabels()[translate.LabelManagedBy] == translate.ManagedByValue
}

// NodeReconciler keeps one node's FRRConfiguration; the request name is the
// node name.
type NodeReconciler struct {
	Client     client.Client
	Translator *Translator
	Options    translate.Options
	Recorder   events.EventRecorder

	mu sync.Mutex
	// reportedConflicts holds, per node, the conflict message already
	// recorded as Events, so that a persisting conflict is reported once.
	reportedConflicts map[string]string
}

// Reconcile makes the node's FRRConfiguration the translated one: it reads
// the (cached) translation, checks it merges with the users' configurations,
// writes it if it differs from the stored one, and removes ours that are no
// longer wanted.
func (r *NodeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	node := req.Name
	log := logf.FromContext(ctx).WithValues("node", node)

	translation, err := r.Translator.Result(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}

	var stored frrv1beta1.FRRConfigurationList
	if err := r.Client.List(ctx, &stored, client.InNamespace(r.Options.FRRK8sNamespace), client.MatchingFields{nodeIndex: node}); err != nil {
		return ctrl.Result{}, err
	}
	if !translation.Valid {
		// Fail static: the node keeps what it has; the cluster reconciler
		// reports the invalid objects. A node without a configuration of
		// ours (not a speaker) keeps nothing, so it is not stale.
		if len(stored.Items) > 0 {
			staleConfig.WithLabelValues(node).Set(1)
		}
		return ctrl.Result{}, nil
	}

	desired := translation.ConfigFor(node)
	if desired == nil {
		// Deleted node, or no longer a speaker: remove what we wrote for it.
		for i := range stored.Items {
			if err := r.delete(ctx, &stored.Items[i]); err != nil {
				return ctrl.Result{}, err
			}
		}
		r.forgetNode(node)
		return ctrl.Result{}, nil
	}

	conflict, warnings, err := r.check(ctx, translation, desired)
	if apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil // the node was deleted after the build; its event requeues it
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	for _, w := range warnings {
		log.V(1).Info("merge warning", "warning", w) // repeats every reconcile: debug level
	}
	if conflict != nil {
		staleConfig.WithLabelValues(node).Set(1)
		r.reportConflict(ctx, node, desired, conflict)
		return ctrl.Result{}, nil
	}
	r.clearConflict(node)

	if err := r.apply(ctx, desired); err != nil {
		return ctrl.Result{}, err
	}
	// Objects of ours for this node under another name (e.g. the name prefix
	// changed) would merge with the new one: remove them.
	for i := range stored.Items {
		if stored.Items[i].Name != desired.Name {
			if err := r.delete(ctx, &stored.Items[i]); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	staleConfig.WithLabelValues(node).Set(0)
	prefixesPerNode.WithLabelValues(node).Set(float64(countPrefixes(desired)))
	return ctrl.Result{}, nil
}

// check runs merge.Check for desired against the users' FRRConfigurations. An
// object with desired's name that is not ours is reported as a conflict too:
// we never overwrite it.
func (r *NodeReconciler) check(ctx context.Context, translation *Translation, desired *frrv1beta1.FRRConfiguration) (*merge.Conflict, []string, error) {
	if conflict, err := nameTaken(ctx, r.Client, desired); conflict != nil || err != nil {
		return conflict, nil, err
	}

	var node corev1.Node
	if err := r.Client.Get(ctx, types.NamespacedName{Name: desired.Annotations[translate.AnnotationNode]}, &node); err != nil {
		return nil, nil, err // NotFound included: the deletion event requeues the node with a fresh build
	}
	others, err := usersConfigs(ctx, r.Client, r.Options.FRRK8sNamespace)
	if err != nil {
		return nil, nil, err
	}
	secrets, err := frrK8sSecretsAfterMirroring(ctx, r.Client, r.Options, translation.PasswordSecrets)
	if err != nil {
		return nil, nil, err
	}
	conflict, warnings := merge.Check(desired, others, node.Labels, secrets)
	return conflict, warnings, nil
}

// nameTaken returns a conflict when an object with desired's name exists
// and is not ours: we never overwrite it.
func nameTaken(ctx context.Context, reader client.Reader, desired *frrv1beta1.FRRConfiguration) (*merge.Conflict, error) {
	var existing frrv1beta1.FRRConfiguration
	err := reader.Get(ctx, client.ObjectKeyFromObject(desired), &existing)
	switch {
	case err == nil && !isOurs(&existing):
		return &merge.Conflict{
			Configs: []types.NamespacedName{client.ObjectKeyFromObject(desired)},
			Field:   "metadata.labels",
			Message: fmt.Sprintf("FRRConfiguration %s/%s exists and is not managed by frrgen (label %s=%s missing); frrgen does not overwrite it",
				desired.Namespace, desired.Name, translate.LabelManagedBy, translate.ManagedByValue),
		}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return nil, err
	}
	return nil, nil
}

// apply creates or updates desired, writing only when the stored object
// differs from it once the apiserver's defaults are taken into account.
func (r *NodeReconciler) apply(ctx context.Context, desired *frrv1beta1.FRRConfiguration) error {
	var current frrv1beta1.FRRConfiguration
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), &current)
	if apierrors.IsNotFound(err) {
		return countWrite(kindFRRConfiguration, verbCreate, r.Client.Create(ctx, desired.DeepCopy()))
	}
	if err != nil {
		return err
	}
	if specsEqual(&current.Spec, &desired.Spec) && hasAll(current.Labels, desired.Labels) && hasAll(current.Annotations, desired.Annotations) {
		return nil
	}
	updated := current.DeepCopy()
	updated.Spec = *desired.Spec.DeepCopy()
	updated.Labels = withEntries(updated.Labels, desired.Labels)
	updated.Annotations = withEntries(updated.Annotations, desired.Annotations)
	return countWrite(kindFRRConfiguration, verbUpdate, r.Client.Update(ctx, updated))
}

func (r *NodeReconciler) delete(ctx context.Context, config *frrv1beta1.FRRConfiguration) error {
	if !isOurs(config) {
		return nil // the index holds only ours; this guards the invariant
	}
	err := r.Client.Delete(ctx, config, client.Preconditions{UID: &config.UID, ResourceVersion: &config.ResourceVersion})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return countWrite(kindFRRConfiguration, verbDelete, err)
}

// reportConflict records Events on our object and on the other ones, once per
// distinct conflict.
func (r *NodeReconciler) reportConflict(ctx context.Context, node string, desired *frrv1beta1.FRRConfiguration, conflict *merge.Conflict) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reportedConflicts == nil {
		r.reportedConflicts = map[string]string{}
	}
	if r.reportedConflicts[node] == conflict.Message {
		return
	}
	r.reportedConflicts[node] = conflict.Message
	conflictsTotal.Inc()
	logf.FromContext(ctx).Info("not writing node configuration: conflict", "node", node, "conflict", conflict.Message)

	var ours frrv1beta1.FRRConfiguration
	oursExists := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), &ours) == nil && isOurs(&ours)
	for _, key := range conflict.Configs {
		var other frrv1beta1.FRRConfiguration
		if r.Client.Get(ctx, key, &other) != nil || isOurs(&other) {
			continue
		}
		var related runtime.Object // an untyped nil when ours does not exist yet
		if oursExists {
			related = &ours
		}
		r.Recorder.Eventf(&other, related, corev1.EventTypeWarning, "Conflict", "MergeCheck",
			"clashes with frrgen's configuration for node %s, which keeps its last good configuration: %s", node, conflict.Message)
	}
	if oursExists {
		r.Recorder.Eventf(&ours, nil, corev1.EventTypeWarning, "Conflict", "MergeCheck",
			"not updated, node %s keeps its last good configuration: %s", node, conflict.Message)
	}
}

func (r *NodeReconciler) clearConflict(node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.reportedConflicts, node)
}

func (r *NodeReconciler) forgetNode(node string) {
	r.clearConflict(node)
	staleConfig.DeleteLabelValues(node)
	prefixesPerNode.DeleteLabelValues(node)
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

func countPrefixes(config *frrv1beta1.FRRConfiguration) int {
	n := 0
	for _, router := range config.Spec.BGP.Routers {
		n += len(router.Prefixes)
	}
	return n
}

// withEntries returns m with every entry of add set.
func withEntries(m, add map[string]string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range add {
		m[k] = v
	}
	return m
}
