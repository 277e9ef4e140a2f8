package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/configstate"
	"github.com/frrgen/frrgen/internal/schemas"
	"github.com/frrgen/frrgen/internal/translate"
)

// Reading the installed metallb.io CRDs at start (schemas.Decide), and
// writing frrgen's ConfigurationState in the input namespace when MetalLB's
// CRDs serve that kind:
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=configurationstates,verbs=get;create
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=configurationstates/status,verbs=get;patch

// DetectSchemas reads the metallb.io CRDs frrgen depends on and decides, with
// schemas.Decide, which schemas it runs on. reader must read the apiserver
// (the cache is not started yet).
func DetectSchemas(ctx context.Context, reader client.Reader, choice schemas.Choice, allocate bool) (schemas.Decision, error) {
	var installed []schemas.CRD
	for _, name := range schemas.CRDNames() {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		err := reader.Get(ctx, types.NamespacedName{Name: name}, u)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return schemas.Decision{}, fmt.Errorf("reading CRD %s to tell frrgen's schemas from MetalLB's (RBAC: get customresourcedefinitions): %w", name, err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			return schemas.Decision{}, fmt.Errorf("reading CRD %s: %w", name, err)
		}
		installed = append(installed, schemas.Describe(crd))
	}
	return schemas.Decide(choice, allocate, installed)
}

// simpleKind is the translate kind of the objects whose status is only the
// Valid condition.
func simpleKind(obj client.Object) string {
	switch obj.(type) {
	case *metallbv1beta1.IPAddressPool:
		return translate.KindIPAddressPool
	case *metallbv1beta1.Community:
		return translate.KindCommunity
	case *metallbv1beta1.BFDProfile:
		return translate.KindBFDProfile
	}
	panic(fmt.Sprintf("simpleKind: %T", obj))
}

// conditionsOf is the status.conditions of one of the five input kinds.
func conditionsOf(obj client.Object) *[]metav1.Condition {
	switch o := obj.(type) {
	case *metallbv1beta2.BGPPeer:
		return &o.Status.Conditions
	case *metallbv1beta1.BGPAdvertisement:
		return &o.Status.Conditions
	case *metallbv1beta1.IPAddressPool:
		return &o.Status.Conditions
	case *metallbv1beta1.Community:
		return &o.Status.Conditions
	case *metallbv1beta1.BFDProfile:
		return &o.Status.Conditions
	}
	panic(fmt.Sprintf("conditionsOf: %T", obj))
}

// unwrittenConditions remembers the conditions of the objects whose status
// frrgen does not write, so that their Events fire when a condition changes
// and not on every pass. Entries of objects not seen in a pass are dropped.
// After a restart an invalid object's Event is recorded once more.
type unwrittenConditions struct {
	mu         sync.Mutex
	conditions map[translate.ObjectRef]unwritten
	seen       map[translate.ObjectRef]bool
}

type unwritten struct {
	uid        types.UID
	conditions []metav1.Condition
}

func newUnwrittenConditions() *unwrittenConditions {
	return &unwrittenConditions{conditions: map[translate.ObjectRef]unwritten{}}
}

func (u *unwrittenConditions) startPass() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = map[translate.ObjectRef]bool{}
}

func (u *unwrittenConditions) endPass() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for ref := range u.conditions {
		if !u.seen[ref] {
			delete(u.conditions, ref)
		}
	}
}

// get returns a copy of the conditions last computed for the object with
// this UID (none for a recreated object).
func (u *unwrittenConditions) get(ref translate.ObjectRef, uid types.UID) []metav1.Condition {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen[ref] = true
	if e, ok := u.conditions[ref]; ok && e.uid == uid {
		return append([]metav1.Condition(nil), e.conditions...)
	}
	return nil
}

func (u *unwrittenConditions) set(ref translate.ObjectRef, uid types.UID, conditions []metav1.Condition) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.conditions[ref] = unwritten{uid: uid, conditions: conditions}
}

// configStateWriter writes frrgen's ConfigurationState (unstructured:
// frrgen's scheme does not have MetalLB's kind) when its content changes.
type configStateWriter struct {
	client    client.Client
	namespace string
	// last is the status last written, without times; empty after a start.
	last string
}

var configurationStateGVK = metallbv1beta1.GroupVersion.WithKind("ConfigurationState")

func (w *configStateWriter) write(ctx context.Context, objects []translate.ObjectDiagnostic) error {
	status := configstate.FromDiagnostics(objects)
	key, err := json.Marshal(status)
	if err != nil {
		return err
	}
	if string(key) == w.last {
		return nil
	}
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(configurationStateGVK)
	err = w.client.Get(ctx, types.NamespacedName{Namespace: w.namespace, Name: configstate.Name}, current)
	if apierrors.IsNotFound(err) {
		current.SetNamespace(w.namespace)
		current.SetName(configstate.Name)
		current.SetLabels(configstate.Labels())
		err = w.client.Create(ctx, current)
	}
	if err != nil {
		return err
	}
	// The condition keeps its lastTransitionTime while its status stays.
	var conditions []metav1.Condition
	if raw, ok, _ := unstructured.NestedSlice(current.Object, "status", "conditions"); ok {
		data, _ := json.Marshal(raw)
		_ = json.Unmarshal(data, &conditions) // a condition we cannot read is replaced
	}
	conditions = keepCondition(conditions, status.Condition.Type)
	meta.SetStatusCondition(&conditions, status.Condition)
	// null removes errorSummary when valid, as MetalLB leaves it out.
	var summary any
	if status.ErrorSummary != "" {
		summary = status.ErrorSummary
	}
	patch := map[string]any{"status": map[string]any{
		"result": status.Result, "errorSummary": summary, "conditions": conditions,
	}}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if err := w.client.Status().Patch(ctx, current, client.RawPatch(types.MergePatchType, data)); err != nil {
		return err
	}
	w.last = string(key)
	return nil
}

// keepCondition keeps only the condition of type t: frrgen's object has no
// other writer.
func keepCondition(conditions []metav1.Condition, t string) []metav1.Condition {
	for _, c := range conditions {
		if c.Type == t {
			return []metav1.Condition{c}
		}
	}
	return nil
}

// SchemaRecheck re-reads the metallb.io CRDs every Interval and fails (the
// manager stops, the process exits and its restart decides again) when the
// decision differs from the one frrgen started with: CRDs replaced under a
// running frrgen would otherwise make it write status a schema prunes, or
// stop writing status it owns. It runs in every replica.
type SchemaRecheck struct {
	Reader   client.Reader
	Choice   schemas.Choice
	Allocate bool
	Started  schemas.Decision
	Interval time.Duration
}

// Start implements manager.Runnable.
func (s *SchemaRecheck) Start(ctx context.Context) error {
	ticker := time.NewTicker(s.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		now, err := DetectSchemas(ctx, s.Reader, s.Choice, s.Allocate)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the metallb.io CRDs changed since start; restarting: %w", err)
		}
		if now.Summary() != s.Started.Summary() {
			return fmt.Errorf("the metallb.io CRDs changed since start (was: %s; now: %s); restarting to run on them", s.Started.Summary(), now.Summary())
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (s *SchemaRecheck) NeedLeaderElection() bool { return false }
