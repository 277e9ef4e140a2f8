package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/servicebgpstatus"
	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/translate"
)

// MetalLB's per-node ServiceBGPStatus objects, written in the input
// namespace (where MetalLB's speakers write theirs) when enabled
// (--service-bgp-status), from the same per-service status as the Service
// condition, on the same settled passes. Only frrgen's objects (labelled
// as ours; the cache holds no other) are read, changed or deleted.
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=servicebgpstatuses,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=servicebgpstatuses/status,verbs=patch

const kindServiceBGPStatus = "ServiceBGPStatus"

// bgpStatusWriter writes frrgen's ServiceBGPStatus objects. It is used
// under the cluster reconciler's lock.
type bgpStatusWriter struct {
	client    client.Client
	namespace string
	pending   servicebgpstatus.Pending
}

// bgpStatusPass plans one pass's objects, one service at a time.
type bgpStatusPass struct {
	writer  *bgpStatusWriter
	differ  *servicebgpstatus.Differ
	isPeer  func(string) bool
	foreign map[types.NamespacedName]bool
	// records is reused from service to service.
	records []servicebgpstatus.Record
}

// begin lists frrgen's objects from the cache, corrected by the writes it
// does not show yet.
func (w *bgpStatusWriter) begin(ctx context.Context, peers []translate.PeerSummary) (*bgpStatusPass, error) {
	var list metallbv1beta1.ServiceBGPStatusList
	if err := w.client.List(ctx, &list, client.InNamespace(w.namespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing ServiceBGPStatuses: %w", err)
	}
	existing := make([]*metallbv1beta1.ServiceBGPStatus, len(list.Items))
	for i := range list.Items {
		existing[i] = &list.Items[i]
	}
	names := make(map[string]bool, len(peers))
	for _, p := range peers {
		names[p.Name] = true
	}
	return &bgpStatusPass{writer: w, differ: servicebgpstatus.NewDiffer(w.namespace, w.pending.Apply(existing)),
		isPeer: func(name string) bool { return names[name] }, foreign: map[types.NamespacedName]bool{}}, nil
}

// service plans the objects of a service frrgen handles.
func (p *bgpStatusPass) service(key types.NamespacedName, status servicestatus.Status) {
	p.records = servicebgpstatus.ForService(p.records[:0], key, status, p.isPeer)
	p.differ.Service(key, p.records)
}

// otherClass marks a LoadBalancer frrgen does not handle: the objects of it
// are another instance's.
func (p *bgpStatusPass) otherClass(key types.NamespacedName) { p.foreign[key] = true }

// finish writes the plan: deletes, then creates, then status updates.
func (p *bgpStatusPass) finish(ctx context.Context) error {
	plan := p.differ.Finish(func(key types.NamespacedName) bool { return p.foreign[key] })
	w := p.writer
	var errs []error
	for _, obj := range plan.Delete {
		errs = append(errs, w.delete(ctx, obj))
	}
	for _, obj := range plan.Create {
		errs = append(errs, w.create(ctx, obj))
	}
	for _, u := range plan.Update {
		errs = append(errs, w.update(ctx, u))
	}
	return errors.Join(errs...)
}

func (w *bgpStatusWriter) delete(ctx context.Context, obj *metallbv1beta1.ServiceBGPStatus) error {
	// Preconditions: an object recreated or changed since the cache saw it
	// is judged again on the next pass.
	err := countWrite(kindServiceBGPStatus, verbDelete, w.client.Delete(ctx, obj,
		client.Preconditions{UID: ptr.To(obj.UID), ResourceVersion: ptr.To(obj.ResourceVersion)}))
	switch {
	case err == nil, apierrors.IsNotFound(err):
		w.pending.Wrote(obj.Name, nil, obj.ResourceVersion)
		return nil
	case apierrors.IsConflict(err):
		return nil // changed meanwhile: its event brings another pass
	}
	return fmt.Errorf("deleting ServiceBGPStatus %s/%s: %w", obj.Namespace, obj.Name, err)
}

// create creates the object and then writes its status (the status
// subresource ignores a status sent with the create).
func (w *bgpStatusWriter) create(ctx context.Context, obj *metallbv1beta1.ServiceBGPStatus) error {
	status := obj.Status
	err := countWrite(kindServiceBGPStatus, verbCreate, w.client.Create(ctx, obj))
	switch {
	case apierrors.IsAlreadyExists(err):
		// Not in the cache of frrgen's objects (it would be planned as an
		// update): someone else's under frrgen's name, left alone.
		return nil
	case err != nil:
		return fmt.Errorf("creating ServiceBGPStatus %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	return w.writeStatus(ctx, obj.Name, status, []string{"", obj.ResourceVersion})
}

func (w *bgpStatusWriter) update(ctx context.Context, u servicebgpstatus.Update) error {
	return w.writeStatus(ctx, u.Object.Name, u.Status, []string{u.Object.ResourceVersion})
}

// writeStatus patches the status of object name to status (a merge patch
// replaces peers as a whole) and remembers the write until the cache
// shows it.
func (w *bgpStatusWriter) writeStatus(ctx context.Context, name string, status servicebgpstatus.Record, stale []string) error {
	data, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	obj := &metallbv1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{Namespace: w.namespace, Name: name}}
	err = countWrite(kindServiceBGPStatus, verbPatch, w.client.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, data)))
	if err != nil {
		return fmt.Errorf("writing the status of ServiceBGPStatus %s/%s: %w", w.namespace, name, err)
	}
	w.pending.Wrote(name, obj, stale...)
	return nil
}
