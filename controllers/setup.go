package controllers

import (
	"context"
	"fmt"
	"maps"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/translate"
)

// RBAC, least privilege. The namespaces are the defaults of --namespace and
// --frrk8s-namespace (frrgen itself runs in metallb-system, where its leader
// election Lease lives); config/rbac binds the generated roles.
//
// Inputs (read only) and the status of our kinds, in the input namespace:
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=bgppeers;bgpadvertisements;communities;bfdprofiles;ipaddresspools,verbs=get;list;watch
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=bgppeers/status;bgpadvertisements/status;communities/status;bfdprofiles/status;ipaddresspools/status,verbs=get;patch
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=secrets,verbs=get;list;watch
// and creating the ownership key there (config/policy allows no other create):
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=secrets,verbs=create
// Cluster-wide inputs:
// +kubebuilder:rbac:groups="",resources=nodes;services,verbs=get;list;watch
// and the frrgen.io/Announced condition of Services:
// +kubebuilder:rbac:groups="",resources=services/status,verbs=patch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// Outputs, only in the frr-k8s namespace (config/policy narrows the writes
// to objects labelled as ours):
// +kubebuilder:rbac:groups=frrk8s.metallb.io,namespace=frr-k8s-system,resources=frrconfigurations,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",namespace=frr-k8s-system,resources=secrets,verbs=get;list;watch;create;update;delete
// Events on inputs, Services and FRRConfigurations, and leader election
// (whose own Events are core/v1 ones in frrgen's namespace):
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch;update
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=metallb-system,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",namespace=metallb-system,resources=events,verbs=create;patch

// Names of the two controllers (and of their metrics' controller label).
const (
	NodeControllerName    = "frrconfiguration"
	ClusterControllerName = "frrgen-cluster"
)

// CacheOptions restricts the manager's cache to what frrgen reads: the
// metallb.io kinds in the input namespace, FRRConfigurations in the frr-k8s
// namespace, Secrets in both, and Nodes, Services and EndpointSlices
// everywhere.
func CacheOptions(options translate.Options) cache.Options {
	in := map[string]cache.Config{options.Namespace: {}}
	out := map[string]cache.Config{options.FRRK8sNamespace: {}}
	both := map[string]cache.Config{options.Namespace: {}, options.FRRK8sNamespace: {}}
	return cache.Options{
		// managedFields are never read, and are a large part of every
		// cached Service and EndpointSlice.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&metallbv1beta2.BGPPeer{}:          {Namespaces: in},
			&metallbv1beta1.BGPAdvertisement{}: {Namespaces: in},
			&metallbv1beta1.Community{}:        {Namespaces: in},
			&metallbv1beta1.BFDProfile{}:       {Namespaces: in},
			&metallbv1beta1.IPAddressPool{}:    {Namespaces: in},
			&frrv1beta1.FRRConfiguration{}:     {Namespaces: out},
			&corev1.Secret{}:                   {Namespaces: both},
			&frrv1beta1.BGPSessionState{}:      {Namespaces: out},
			// Cluster-scoped; only the results are read, not the running
			// configuration (a node's whole frr.conf).
			&frrv1beta1.FRRNodeState{}: {Transform: stripRunningConfig},
			// Only frrgen's: MetalLB's speakers write theirs beside them.
			// (No informer starts unless --service-bgp-status is on.)
			&metallbv1beta1.ServiceBGPStatus{}: {Namespaces: in,
				Label: labels.SelectorFromSet(labels.Set{translate.LabelManagedBy: translate.ManagedByValue})},
		},
	}
}

// Config is what Setup needs besides the manager.
type Config struct {
	// Translate are the translation options (namespaces, class, ...).
	Translate translate.Options
	// OwnershipKeyNamespace holds the Secret OwnershipKeySecret.
	OwnershipKeyNamespace string
	// NodeWorkers is how many nodes are reconciled at once (at least 1).
	NodeWorkers int
	// MaxObjectBytes splits a node's configuration larger than this (JSON
	// bytes) into shards; 0 lets layout.Compute choose per object (the
	// layout's default, more for objects with a large fixed part).
	MaxObjectBytes int
	// Schemas is what DetectSchemas found; the zero value means frrgen's
	// own CRDs (schemas.Standalone).
	Schemas schemas.Decision
	// Layout is layout.PerNode ("" too) or layout.Shared.
	Layout layout.Kind
	// ServiceBGPStatus writes MetalLB's per-node ServiceBGPStatus objects
	// (servicebgpstatus.Mode.Enabled decides).
	ServiceBGPStatus bool
}

// Setup reads (or creates) the ownership key, in the Secret
// OwnershipKeySecret of namespace cfg.OwnershipKeyNamespace, adopts the
// objects an older frrgen wrote (see adoptLegacyObjects), and registers both
// reconcilers, their watches and the cache indexes with mgr. It reads and
// writes through the apiserver directly: the cache is not started yet.
func Setup(ctx context.Context, mgr ctrl.Manager, cfg Config) error {
	options := cfg.Translate
	writer := client.WithFieldOwner(mgr.GetClient(), FieldManager)
	key, err := loadOwnershipKey(ctx, mgr.GetAPIReader(), writer, types.NamespacedName{Namespace: cfg.OwnershipKeyNamespace, Name: OwnershipKeySecret})
	if err != nil {
		return err
	}
	o := newOwner(key)
	if err := adoptLegacyObjects(ctx, mgr.GetAPIReader(), writer, o, options); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &frrv1beta1.FRRConfiguration{}, nodeIndex, o.indexConfigByNode); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &frrv1beta1.FRRConfiguration{}, usersIndex, o.indexUsersConfig); err != nil {
		return err
	}
	translator := newTranslator(mgr.GetClient(), options, o)
	w := &watchMaps{reader: mgr.GetClient(), translator: translator, options: options, owner: o}
	m := &mirrors{client: writer, live: mgr.GetAPIReader(), options: options, owner: o}
	outcomes := newNodeOutcomes()
	// Nodes the cluster reconciler finds behind the translation (see
	// ClusterReconciler.settled); large enough for every node at once.
	lagging := make(chan event.GenericEvent, 4096)

	nodes := &NodeReconciler{
		Client: writer, Translator: translator, Options: options,
		Recorder: mgr.GetEventRecorder(NodeControllerName),
		owner:    o, mirrors: m, outcomes: outcomes,
		Layout: layout.Options{Kind: cfg.Layout, MaxObjectBytes: cfg.MaxObjectBytes, NamePrefix: options.NamePrefix},
	}
	if err := setupWriter(mgr, w, nodes, cfg, lagging); err != nil {
		return err
	}

	decision := cfg.Schemas
	if decision.Schemas == "" {
		decision = schemas.Standalone()
	}
	recorder := mgr.GetEventRecorder(ClusterControllerName)
	cluster := &ClusterReconciler{
		Client: writer, Translator: translator, Options: options,
		Recorder: recorder,
		owner:    o, mirrors: m, outcomes: outcomes, lagging: lagging,
		Schemas: decision, unwritten: newUnwrittenConditions(),
		configState: &configStateWriter{client: writer, namespace: options.Namespace},
		truth:       newNodeTruth(recorder, options.Namespace),
	}
	toCluster := func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{clusterKey} }
	b := w.watchInputs(ctrl.NewControllerManagedBy(mgr).Named(ClusterControllerName), toCluster).
		Watches(&frrv1beta1.FRRConfiguration{}, handler.EnqueueRequestsFromMapFunc(toCluster)).
		Watches(&frrv1beta1.FRRNodeState{}, handler.EnqueueRequestsFromMapFunc(toCluster), builder.WithPredicates(nodeStateResultsChanged())).
		Watches(&frrv1beta1.BGPSessionState{}, handler.EnqueueRequestsFromMapFunc(toCluster), builder.WithPredicates(sessionStateChanged())).
		WatchesRawSource(source.Channel(outcomes.changed, handler.EnqueueRequestsFromMapFunc(toCluster)))
	if cfg.ServiceBGPStatus {
		cluster.bgpStatuses = &bgpStatusWriter{client: writer, namespace: options.Namespace}
		// An object of ours deleted by someone else is written again; our
		// own creates and patches need no pass.
		onlyDeletes := predicate.Funcs{
			CreateFunc: func(event.CreateEvent) bool { return false },
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		}
		b = b.Watches(&metallbv1beta1.ServiceBGPStatus{}, handler.EnqueueRequestsFromMapFunc(toCluster), builder.WithPredicates(onlyDeletes))
	}
	return b.Complete(cluster)
}

// setupWriter registers the reconciler that writes FRRConfigurations: one
// reconcile per node for the per-node layout; one for the whole layout
// when objects are shared between nodes (SharedLayoutReconciler). Both run
// under the name NodeControllerName.
// lagging takes the nodes the cluster reconciler finds behind (see settled).
func setupWriter(mgr ctrl.Manager, w *watchMaps, nodes *NodeReconciler, cfg Config, lagging <-chan event.GenericEvent) error {
	workers := max(1, cfg.NodeWorkers)
	switch cfg.Layout {
	case layout.PerNode, "":
		return w.watchInputs(ctrl.NewControllerManagedBy(mgr).Named(NodeControllerName), w.allNodes).
			WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
			Watches(&frrv1beta1.FRRConfiguration{}, handler.EnqueueRequestsFromMapFunc(w.nodesOfConfig)).
			WatchesRawSource(source.Channel(lagging, &handler.EnqueueRequestForObject{})).
			Complete(nodes)
	case layout.Shared:
		toLayout := func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{layoutKey} }
		return w.watchInputs(ctrl.NewControllerManagedBy(mgr).Named(NodeControllerName), toLayout).
			Watches(&frrv1beta1.FRRConfiguration{}, handler.EnqueueRequestsFromMapFunc(toLayout)).
			WatchesRawSource(source.Channel(lagging, handler.EnqueueRequestsFromMapFunc(toLayout))).
			Complete(&SharedLayoutReconciler{nodes: nodes, Workers: workers})
	default:
		return fmt.Errorf("unknown layout %q: use %s or %s", cfg.Layout, layout.PerNode, layout.Shared)
	}
}

// watchMaps turns watch events into reconcile requests.
type watchMaps struct {
	reader     client.Reader
	translator *Translator
	options    translate.Options
	owner      owner
}

// watchInputs adds a watch on every translation input (and on the Secrets of
// the frr-k8s namespace, which the merge check resolves passwords from).
func (w *watchMaps) watchInputs(b *builder.TypedBuilder[reconcile.Request], targets handler.MapFunc) *builder.TypedBuilder[reconcile.Request] {
	input := func(relevant func(context.Context, client.Object) bool) handler.EventHandler {
		return w.inputHandler(relevant, func(client.Object) bool { return true }, targets)
	}
	secrets := w.inputHandler(nil, func(obj client.Object) bool { return obj.GetNamespace() == w.options.Namespace }, targets)
	// Our own status patches change neither generation nor labels (pools
	// are selected by label), so they do not invalidate the translation.
	specOrLabels := builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))
	return b.
		Watches(&metallbv1beta2.BGPPeer{}, input(nil), specOrLabels).
		Watches(&metallbv1beta1.BGPAdvertisement{}, input(nil), specOrLabels).
		Watches(&metallbv1beta1.Community{}, input(nil), specOrLabels).
		Watches(&metallbv1beta1.BFDProfile{}, input(nil), specOrLabels).
		Watches(&metallbv1beta1.IPAddressPool{}, input(nil), specOrLabels).
		Watches(&corev1.Service{}, input(w.isLoadBalancer), builder.WithPredicates(serviceChangedPredicate())).
		Watches(&discoveryv1.EndpointSlice{}, input(w.isLoadBalancerSlice)).
		Watches(&corev1.Node{}, input(nil), builder.WithPredicates(nodeChangedPredicate())).
		Watches(&corev1.Secret{}, secrets)
}

// inputHandler handles one event of an input kind: when the object (old or
// new, for an update) is relevant, it invalidates the translation if the
// object is a translation input, once per event, and only then enqueues
// the union of the objects' targets.
func (w *watchMaps) inputHandler(relevant func(context.Context, client.Object) bool, isInput func(client.Object) bool, targets handler.MapFunc) handler.EventHandler {
	handle := func(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request], objects ...client.Object) {
		var hit []client.Object
		for _, obj := range objects {
			if relevant == nil || relevant(ctx, obj) {
				hit = append(hit, obj)
			}
		}
		if len(hit) == 0 {
			return
		}
		if isInput(hit[0]) {
			w.translator.InputChanged()
		}
		for _, obj := range hit {
			for _, request := range targets(ctx, obj) {
				queue.Add(request) // the queue drops duplicates
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			handle(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			handle(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			handle(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			handle(ctx, q, e.Object)
		},
	}
}

// allNodes maps an input event to every node: see the package documentation.
// (Only the node controller's queue takes node names; the cluster
// reconciler has one key.)
func (w *watchMaps) allNodes(ctx context.Context, obj client.Object) []reconcile.Request {
	var list corev1.NodeList
	// Read-only use of the names: no need to copy every Node per event.
	if err := w.reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, len(list.Items), len(list.Items)+1)
	for i := range list.Items {
		requests[i].Name = list.Items[i].Name
	}
	if _, isNode := obj.(*corev1.Node); isNode {
		// A deleted node is no longer in the list.
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Name: obj.GetName()}})
	}
	// And the nodes we have a configuration for: a node deleted while the
	// input was invalid kept its configuration (fail static), and no other
	// event names it once the input is fixed.
	var ours frrv1beta1.FRRConfigurationList
	if err := w.reader.List(ctx, &ours, client.InNamespace(w.options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}, client.UnsafeDisableDeepCopy); err != nil {
		return requests
	}
	for i := range ours.Items {
		if !w.owner.ownsConfig(&ours.Items[i]) {
			continue
		}
		if node := ours.Items[i].Annotations[translate.AnnotationNode]; node != "" {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Name: node}})
		}
	}
	return requests
}

// nodesOfConfig maps an FRRConfiguration to the nodes it can affect: ours to
// the node it is for, a user's to the nodes its nodeSelector selects.
func (w *watchMaps) nodesOfConfig(ctx context.Context, obj client.Object) []reconcile.Request {
	if w.owner.ownsConfig(obj) {
		if node := obj.GetAnnotations()[translate.AnnotationNode]; node != "" {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: node}}}
		}
		return nil
	}
	config, ok := obj.(*frrv1beta1.FRRConfiguration)
	if !ok {
		return nil
	}
	selector, err := metav1.LabelSelectorAsSelector(&config.Spec.NodeSelector)
	if err != nil {
		return nil // frr-k8s fails such a config everywhere; nothing we can retry
	}
	var list corev1.NodeList
	if err := w.reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for i := range list.Items {
		node := &list.Items[i]
		// A user object with the name of a node's configuration blocks that
		// node whatever it selects: its deletion or renaming must retry it.
		if selector.Matches(labels.Set(node.Labels)) || obj.GetName() == translate.ConfigName(w.options.NamePrefix, node.Name) {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Name: node.Name}})
		}
	}
	return requests
}

// isLoadBalancer keeps the Services translate can announce; the others
// (most of a cluster) do not invalidate the translation.
func (w *watchMaps) isLoadBalancer(_ context.Context, obj client.Object) bool {
	service, ok := obj.(*corev1.Service)
	return ok && service.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// isLoadBalancerSlice keeps the EndpointSlices of LoadBalancer Services (and
// of Services not in the cache yet, to be safe).
func (w *watchMaps) isLoadBalancerSlice(ctx context.Context, obj client.Object) bool {
	name := obj.GetLabels()[discoveryv1.LabelServiceName]
	if name == "" {
		return false
	}
	var service corev1.Service
	if err := w.reader.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}, &service); err != nil {
		return true
	}
	return service.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// serviceChangedPredicate drops the Service updates that change only what
// translate does not read (status conditions, frrgen's own included, and
// metadata bookkeeping), so that writing a Service's condition does not
// trigger a new translation and a pass over every node.
func serviceChangedPredicate() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, ok1 := e.ObjectOld.(*corev1.Service)
		after, ok2 := e.ObjectNew.(*corev1.Service)
		if !ok1 || !ok2 {
			return true
		}
		return !equality.Semantic.DeepEqual(before.Spec, after.Spec) ||
			!equality.Semantic.DeepEqual(before.Status.LoadBalancer, after.Status.LoadBalancer) ||
			!maps.Equal(before.Labels, after.Labels) || !maps.Equal(before.Annotations, after.Annotations) ||
			!before.DeletionTimestamp.Equal(after.DeletionTimestamp)
	}}
}

// nodeChangedPredicate drops Node updates that cannot change the translation
// (heartbeats, images, addresses): only labels and the NetworkUnavailable
// condition matter.
func nodeChangedPredicate() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, ok1 := e.ObjectOld.(*corev1.Node)
		after, ok2 := e.ObjectNew.(*corev1.Node)
		if !ok1 || !ok2 {
			return true
		}
		return !labels.Equals(before.Labels, after.Labels) || networkUnavailable(before) != networkUnavailable(after)
	}}
}

func networkUnavailable(node *corev1.Node) corev1.ConditionStatus {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			return c.Status
		}
	}
	return ""
}
