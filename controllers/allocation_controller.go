package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/allocate"
	"github.com/frrgen/frrgen/internal/translate"
)

// Allocation (standalone mode) writes Service statuses (and the pools'
// counters, with the status patch above) and reads Namespaces for the pools'
// namespaceSelectors:
// +kubebuilder:rbac:groups="",resources=services/status,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// AllocationControllerName names the allocation controller.
const AllocationControllerName = "frrgen-allocation"

// Event reasons of the allocation controller, on Services.
const (
	ReasonIPAllocated      = "IPAllocated"
	ReasonAllocationFailed = "AllocationFailed"
)

// poolsKey is the request for "the pools (or the namespaces they select)
// changed", countersKey for "write the pools' counters"; "~" cannot start a
// Service name, so they never collide.
var (
	poolsKey    = ctrl.Request{NamespacedName: types.NamespacedName{Name: "~pools"}}
	countersKey = ctrl.Request{NamespacedName: types.NamespacedName{Name: "~counters"}}
)

// countersDelay coalesces the pools' counter writes: at most one per pool
// per delay, however many Services change meanwhile.
const countersDelay = time.Second

// AllocationReconciler assigns LoadBalancer Service addresses with
// internal/allocate and writes them to the Services' status. It runs one
// worker, so the allocator's state is only touched by one goroutine, and only
// in the leader. Its state is rebuilt from the cache on the first request:
// no address changes across restarts or leader changes.
type AllocationReconciler struct {
	Client   client.Client
	Options  translate.Options
	Recorder events.EventRecorder

	allocator *allocate.Allocator // nil until the first request
	// waiting are the Services that got no address: a release or a pool
	// change may make room for them.
	waiting map[types.NamespacedName]bool
	// countersDue asks for a counters write (countersKey, after
	// countersDelay); a full channel means one is asked for already.
	countersDue chan event.GenericEvent
}

// SetupAllocation registers the allocation controller with mgr.
func SetupAllocation(mgr ctrl.Manager, options translate.Options) error {
	r := &AllocationReconciler{Client: mgr.GetClient(), Options: options, Recorder: mgr.GetEventRecorder(AllocationControllerName),
		countersDue: make(chan event.GenericEvent, 1)}
	toPools := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{poolsKey}
	})
	countersLater := handler.Funcs{GenericFunc: func(_ context.Context, _ event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(countersKey, countersDelay)
	}}
	return ctrl.NewControllerManagedBy(mgr).Named(AllocationControllerName).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		Watches(&corev1.Service{}, &handler.EnqueueRequestForObject{}, builder.WithPredicates(wasOrIsLoadBalancer())).
		Watches(&metallbv1beta1.IPAddressPool{}, toPools, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, toPools, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(source.Channel(r.countersDue, countersLater)).
		Complete(r)
}

// scheduleCounters asks for a counters write soon.
func (r *AllocationReconciler) scheduleCounters() {
	select {
	case r.countersDue <- event.GenericEvent{Object: &metallbv1beta1.IPAddressPool{}}:
	default: // one is asked for already
	}
}

// writeCounters patches the status counters of every pool whose counts
// changed.
func (r *AllocationReconciler) writeCounters(ctx context.Context) error {
	var pools metallbv1beta1.IPAddressPoolList
	if err := r.Client.List(ctx, &pools, client.InNamespace(r.Options.Namespace)); err != nil {
		return fmt.Errorf("listing IPAddressPools: %w", err)
	}
	var errs []error
	for i := range pools.Items {
		pool := &pools.Items[i]
		c := r.allocator.Counters(pool.Name)
		updated := pool.DeepCopy()
		st := &updated.Status
		st.AssignedIPv4, st.AssignedIPv6, st.AvailableIPv4, st.AvailableIPv6 = &c.AssignedIPv4, &c.AssignedIPv6, &c.AvailableIPv4, &c.AvailableIPv6
		if equality.Semantic.DeepEqual(pool.Status, updated.Status) {
			continue
		}
		// A merge patch of the counters only: the Valid condition is the
		// cluster controller's.
		if err := r.Client.Status().Patch(ctx, updated, client.MergeFrom(pool)); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("writing the counters of IPAddressPool %s: %w", pool.Name, err))
		}
	}
	return errors.Join(errs...)
}

// wasOrIsLoadBalancer keeps the Service events that can change an
// allocation: a LoadBalancer Service, or one that just stopped being one.
func wasOrIsLoadBalancer() predicate.Predicate {
	isLB := func(obj client.Object) bool {
		s, ok := obj.(*corev1.Service)
		return ok && s.Spec.Type == corev1.ServiceTypeLoadBalancer
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return isLB(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return isLB(e.ObjectOld) || isLB(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return isLB(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return isLB(e.Object) },
	}
}

// Reconcile handles one Service, or every Service after a pool change.
func (r *AllocationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if r.allocator == nil {
		r.scheduleCounters()
		return ctrl.Result{}, r.rebuild(ctx)
	}
	if req == countersKey {
		return ctrl.Result{}, r.writeCounters(ctx)
	}
	if req == poolsKey {
		r.scheduleCounters()
		pools, err := r.readPools(ctx)
		if err != nil {
			return ctrl.Result{}, err
		}
		r.allocator.SetPools(pools)
		return ctrl.Result{}, r.syncAll(ctx)
	}
	var svc corev1.Service
	err := r.Client.Get(ctx, req.NamespacedName, &svc)
	if apierrors.IsNotFound(err) {
		delete(r.waiting, req.NamespacedName)
		if _, had := r.allocator.Lookup(req.String()); had {
			r.allocator.Release(req.String())
			r.scheduleCounters()
			return ctrl.Result{}, r.retryWaiting(ctx)
		}
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading Service %s: %w", req, err)
	}
	freed, err := r.sync(ctx, &svc)
	if err != nil || !freed {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.retryWaiting(ctx)
}

// rebuild creates the allocator from the cache (allocate.Rebuild: what every
// Service's status holds), then assigns each Service.
func (r *AllocationReconciler) rebuild(ctx context.Context) error {
	pools, err := r.readPools(ctx)
	if err != nil {
		return err
	}
	services, err := r.services(ctx)
	if err != nil {
		return err
	}
	r.allocator = allocate.Rebuild(pools, r.Options.LoadBalancerClass, services)
	r.waiting = map[types.NamespacedName]bool{}
	return r.syncAll(ctx)
}

// syncAll assigns every Service again, those with addresses first (as
// MetalLB does), so that none takes an address another one holds.
func (r *AllocationReconciler) syncAll(ctx context.Context) error {
	services, err := r.services(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, svc := range services {
		if _, err := r.sync(ctx, svc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// retryWaiting gives the Services that got no address another chance.
func (r *AllocationReconciler) retryWaiting(ctx context.Context) error {
	keys := make([]types.NamespacedName, 0, len(r.waiting))
	for k := range r.waiting {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
	var errs []error
	for _, key := range keys {
		var svc corev1.Service
		if err := r.Client.Get(ctx, key, &svc); err != nil {
			if apierrors.IsNotFound(err) {
				delete(r.waiting, key)
				continue
			}
			errs = append(errs, err)
			continue
		}
		if _, err := r.sync(ctx, &svc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// services lists the Services in the order they are assigned
// (allocate.SortForAssignment).
func (r *AllocationReconciler) services(ctx context.Context) ([]*corev1.Service, error) {
	var list corev1.ServiceList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing Services: %w", err)
	}
	out := make([]*corev1.Service, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	allocate.SortForAssignment(out)
	return out, nil
}

func (r *AllocationReconciler) readPools(ctx context.Context) ([]allocate.Pool, error) {
	var pools metallbv1beta1.IPAddressPoolList
	if err := r.Client.List(ctx, &pools, client.InNamespace(r.Options.Namespace)); err != nil {
		return nil, fmt.Errorf("listing IPAddressPools: %w", err)
	}
	var namespaces corev1.NamespaceList
	if err := r.Client.List(ctx, &namespaces); err != nil {
		return nil, fmt.Errorf("listing Namespaces: %w", err)
	}
	objs := make([]*metallbv1beta1.IPAddressPool, len(pools.Items))
	for i := range pools.Items {
		objs[i] = &pools.Items[i]
	}
	out, err := allocate.PoolsFrom(objs, namespaces.Items)
	if err != nil {
		// Bad pools are reported by the cluster controller (Valid=False);
		// allocation keeps the pools it had.
		log.FromContext(ctx).Info("IPAddressPools not used for allocation", "error", err.Error())
		return nil, reconcile.TerminalError(err)
	}
	return out, nil
}

// sync assigns svc and writes its status when it changes; freed reports that
// svc gave up addresses (room for the waiting Services).
func (r *AllocationReconciler) sync(ctx context.Context, svc *corev1.Service) (freed bool, err error) {
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	before, _ := r.allocator.Lookup(key.String())
	got, assignErr := r.allocator.Assign(svc)
	after, _ := r.allocator.Lookup(key.String())
	freed = slices.ContainsFunc(before.IPs, func(ip netip.Addr) bool { return !slices.Contains(after.IPs, ip) })
	if freed || !slices.Equal(before.IPs, after.IPs) {
		r.scheduleCounters()
	}
	if assignErr != nil {
		r.waiting[key] = true
	} else {
		delete(r.waiting, key)
	}
	if !allocate.Handles(svc, r.Options.LoadBalancerClass) {
		return freed, nil // not ours: its status belongs to someone else
	}
	want := got.Ingress()
	if !allocate.SameIngress(svc.Status.LoadBalancer.Ingress, want) {
		updated := svc.DeepCopy()
		updated.Status.LoadBalancer.Ingress = want
		// Update (not patch) carries the resourceVersion read: a Service
		// changed meanwhile is a conflict, retried on the fresh object.
		if err := r.Client.Status().Update(ctx, updated); err != nil {
			return freed, fmt.Errorf("writing the status of Service %s: %w", key, err)
		}
	}
	var failure *allocate.Error
	switch {
	case errors.As(assignErr, &failure):
		r.Recorder.Eventf(svc, nil, corev1.EventTypeWarning, ReasonAllocationFailed, "Allocate", "%s: %s", failure.Reason, failure.Message)
	case assignErr != nil:
		return freed, assignErr
	case got.Allocated:
		r.Recorder.Eventf(svc, nil, corev1.EventTypeNormal, ReasonIPAllocated, "Allocate", "Assigned IP %q from IPAddressPool %s", got.IPs, got.Pool)
	}
	return freed, nil
}
