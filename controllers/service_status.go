package controllers

import (
	"context"
	"errors"
	"fmt"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/servicestatus"
)

// The Service side of the cluster reconciler: the frrgen.io/Announced
// condition, and Events when a service becomes announced or withdrawn.
//
// The condition is the lasting record: it is computed on every settled
// pass, so it is there after every start and reflects changes made while
// frrgen was down. It is patched only when it changes (one write per
// Service per change, whatever the number of nodes), and its previous
// value is what the Events compare with, so a restart repeats none and a
// service that was never announced gets no Withdrawn.

// Event reasons on Services.
const (
	ReasonServiceAnnounced = "Announced"
	ReasonServiceWithdrawn = "Withdrawn"
)

const kindService = "Service"

// serviceConditions remembers, per Service, the condition last patched, so
// that a cache that has not caught up with our own patch yet does not make
// us patch (and tell) again.
type serviceConditions map[types.NamespacedName]metav1.Condition

// writeServiceStatuses brings the condition of every Service, and, when
// enabled, frrgen's ServiceBGPStatus objects, up to date with what the
// nodes run.
func (r *ClusterReconciler) writeServiceStatuses(ctx context.Context, translation *Translation) error {
	computer, err := r.serviceStatusComputer(ctx, translation)
	if err != nil {
		return err
	}
	var services corev1.ServiceList
	// Read only: the few Services that change are copied before patching.
	if err := r.Client.List(ctx, &services, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing Services: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.written == nil {
		r.written = serviceConditions{}
	}
	var bgp *bgpStatusPass
	if r.bgpStatuses != nil {
		if bgp, err = r.bgpStatuses.begin(ctx, translation.Peers); err != nil {
			return err
		}
	}
	seen := make(map[types.NamespacedName]bool, len(services.Items))
	var errs []error
	for i := range services.Items {
		svc := &services.Items[i]
		key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		seen[key] = true
		var want *metav1.Condition
		status, handled := computer.Status(svc.Namespace, svc.Name)
		switch {
		case handled:
			c := status.Condition(svc.Generation)
			want = &c
			if bgp != nil {
				bgp.service(key, status)
			}
		case svc.Spec.Type == corev1.ServiceTypeLoadBalancer && bgp != nil:
			bgp.otherClass(key)
		}
		if _, ours := r.written[key]; !handled && !ours && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			// Another class's LoadBalancer: the condition there, if any, is
			// another instance's (or what an older class left, which its
			// new controller may rewrite).
			continue
		}
		if err := r.syncServiceCondition(ctx, svc, key, want); err != nil {
			errs = append(errs, err)
		}
	}
	for key := range r.written {
		if !seen[key] {
			delete(r.written, key)
		}
	}
	if bgp != nil {
		errs = append(errs, bgp.finish(ctx))
	}
	return errors.Join(errs...)
}

// serviceStatusComputer gathers what servicestatus needs: the nodes that
// keep their stored configuration (from the node reconcilers' outcomes)
// and, only when some do, frrgen's stored configurations.
func (r *ClusterReconciler) serviceStatusComputer(ctx context.Context, translation *Translation) (*servicestatus.Computer, error) {
	kept := map[string]servicestatus.Keep{}
	for node, o := range r.outcomes.all() {
		switch {
		case o.conflict != nil:
			kept[node] = servicestatus.Keep{Conflict: o.conflict.Message}
		case o.writeError != "":
			kept[node] = servicestatus.Keep{WriteError: o.writeError}
		}
	}
	var stored []frrv1beta1.FRRConfiguration
	if len(kept) > 0 || len(translation.Held) > 0 {
		ours, err := ReadStoredConfigs(ctx, r.Client, r.Options)
		if err != nil {
			return nil, err
		}
		for i := range ours {
			if r.owner.ownsConfig(&ours[i]) {
				stored = append(stored, ours[i])
			}
		}
	}
	return servicestatus.New(&translation.Result, kept, stored), nil
}

// syncServiceCondition makes svc's condition want (nil: none), records an
// Event when the service becomes announced or withdrawn, and remembers
// what it wrote. A condition removed from a Service that is no longer a
// LoadBalancer gets a Withdrawn only when this process wrote it: with
// several instances (one per class) only its author tells.
func (r *ClusterReconciler) syncServiceCondition(ctx context.Context, svc *corev1.Service, key types.NamespacedName, want *metav1.Condition) error {
	previous := meta.FindStatusCondition(svc.Status.Conditions, servicestatus.ConditionAnnounced)
	c, wroteIt := r.written[key]
	if wroteIt {
		previous = &c
	}
	if sameCondition(previous, want) {
		return nil
	}
	updated := svc.DeepCopy()
	if want == nil {
		meta.RemoveStatusCondition(&updated.Status.Conditions, servicestatus.ConditionAnnounced)
	} else {
		meta.SetStatusCondition(&updated.Status.Conditions, *want)
	}
	// A strategic merge patch touches only our condition (conditions merge
	// by type): the allocator's, or MetalLB's, status stays theirs.
	err := countWrite(kindService, verbPatch, r.Client.Status().Patch(ctx, updated, client.StrategicMergeFrom(svc)))
	switch {
	case apierrors.IsNotFound(err):
		return nil // deleted meanwhile
	case err != nil:
		return fmt.Errorf("writing the status of Service %s: %w", key, err)
	}
	if want == nil {
		delete(r.written, key)
	} else {
		r.written[key] = *meta.FindStatusCondition(updated.Status.Conditions, servicestatus.ConditionAnnounced)
	}
	wasAnnounced := previous != nil && previous.Status == metav1.ConditionTrue
	isAnnounced := want != nil && want.Status == metav1.ConditionTrue
	switch {
	case isAnnounced && !wasAnnounced:
		r.Recorder.Eventf(svc, nil, corev1.EventTypeNormal, ReasonServiceAnnounced, "Announce", "%s", want.Message)
	case wasAnnounced && want == nil && wroteIt:
		r.Recorder.Eventf(svc, nil, corev1.EventTypeNormal, ReasonServiceWithdrawn, "Announce", "withdrawn: the service is no longer a LoadBalancer handled by frrgen")
	case wasAnnounced && want != nil && !isAnnounced:
		r.Recorder.Eventf(svc, nil, corev1.EventTypeNormal, ReasonServiceWithdrawn, "Announce", "%s", want.Message)
	}
	return nil
}

// sameCondition compares what a condition says (not when it changed).
func sameCondition(a, b *metav1.Condition) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message && a.ObservedGeneration == b.ObservedGeneration
}
