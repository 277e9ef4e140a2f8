package controllers

import (
	"bytes"
	"context"
	"fmt"
	"net"
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

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/translate"
)

// clusterKey is the only request the cluster reconciler gets.
var clusterKey = ctrl.Request{NamespacedName: types.NamespacedName{Name: "frrgen"}}

// ClusterReconciler mirrors password Secrets, writes the status of the
// metallb.io objects and records the Events on Services.
type ClusterReconciler struct {
	Client     client.Client
	Translator *Translator
	Options    translate.Options
	Recorder   events.EventRecorder

	mu sync.Mutex
	// announcements holds the last announcement text of each service; nil
	// until the first pass, which records without emitting Events so that a
	// restart does not repeat them.
	announcements map[types.NamespacedName]string
}

// Reconcile brings the password mirrors, the metallb.io statuses and the
// Service Events up to date with the (cached) translation.
func (r *ClusterReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	translation, err := r.Translator.Result(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	var conflicts peerConflicts
	if translation.Valid {
		// Fail static: with invalid input, mirrors are neither added nor removed.
		if err := r.syncPasswordSecrets(ctx, translation); err != nil {
			return ctrl.Result{}, err
		}
		if conflicts, err = r.findConflicts(ctx, translation); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.updateStatuses(ctx, translation, conflicts); err != nil {
		return ctrl.Result{}, err
	}
	if translation.Valid {
		if err := r.announceServices(ctx, translation); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// syncPasswordSecrets creates, updates and deletes our copies of the password
// Secrets in the frr-k8s namespace. Secrets not labelled as ours are never
// touched.
func (r *ClusterReconciler) syncPasswordSecrets(ctx context.Context, translation *Translation) error {
	wanted, err := desiredMirrors(ctx, r.Client, r.Options, translation.PasswordSecrets)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, want := range wanted {
		keep[want.Name] = true
		var current corev1.Secret
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(want), &current)
		switch {
		case apierrors.IsNotFound(err):
			if err := countWrite(kindSecret, verbCreate, r.Client.Create(ctx, want)); err != nil {
				return err
			}
		case err != nil:
			return err
		case !isOurs(&current):
			// A Secret of the user's with our name: frr-k8s will read it; we
			// leave it alone.
		case current.Type != want.Type:
			// The type is immutable: replace the object.
			if err := r.deleteSecret(ctx, &current); err != nil {
				return err
			}
			if err := countWrite(kindSecret, verbCreate, r.Client.Create(ctx, want)); err != nil {
				return err
			}
		case !bytes.Equal(current.Data[passwordKey], want.Data[passwordKey]) || len(current.Data) != len(want.Data) ||
			!hasAll(current.Annotations, want.Annotations):
			updated := current.DeepCopy()
			updated.Data = want.Data
			updated.Annotations = withEntries(updated.Annotations, want.Annotations)
			if err := countWrite(kindSecret, verbUpdate, r.Client.Update(ctx, updated)); err != nil {
				return err
			}
		}
	}
	var ours corev1.SecretList
	if err := r.Client.List(ctx, &ours, client.InNamespace(r.Options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}); err != nil {
		return err
	}
	for i := range ours.Items {
		if !keep[ours.Items[i].Name] {
			if err := r.deleteSecret(ctx, &ours.Items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *ClusterReconciler) deleteSecret(ctx context.Context, secret *corev1.Secret) error {
	err := r.Client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return countWrite(kindSecret, verbDelete, err)
}

// peerConflicts maps a BGPPeer name to the per-node conflict messages that
// involve its sessions, sorted by node.
type peerConflicts map[string][]nodeConflict

type nodeConflict struct {
	node    string
	message string
}

// findConflicts runs merge.Check for every node, as the node reconciler does
// before writing, and attributes each conflict to the BGPPeers whose
// neighbor (or, for a router-level clash, whose VRF) it concerns.
func (r *ClusterReconciler) findConflicts(ctx context.Context, translation *Translation) (peerConflicts, error) {
	others, err := usersConfigs(ctx, r.Client, r.Options.FRRK8sNamespace)
	if err != nil {
		return nil, err
	}
	secrets, err := frrK8sSecretsAfterMirroring(ctx, r.Client, r.Options, translation.PasswordSecrets)
	if err != nil {
		return nil, err
	}
	var peers metallbv1beta2.BGPPeerList
	if err := r.Client.List(ctx, &peers, client.InNamespace(r.Options.Namespace)); err != nil {
		return nil, err
	}
	peerNodes := map[string]map[string]bool{}
	for _, summary := range translation.Peers {
		peerNodes[summary.Name] = setOf(summary.Nodes)
	}
	conflicts := peerConflicts{}
	for i := range translation.Configs {
		desired := &translation.Configs[i]
		nodeName := desired.Annotations[translate.AnnotationNode]
		var node corev1.Node
		if err := r.Client.Get(ctx, types.NamespacedName{Name: nodeName}, &node); err != nil {
			if apierrors.IsNotFound(err) {
				continue // deleted since the build; its event brings a new one
			}
			return nil, err
		}
		// An object of someone else's with our name blocks every session
		// of the node, as the node reconciler does not write then.
		conflict, err := nameTaken(ctx, r.Client, desired)
		if err != nil {
			return nil, err
		}
		taken := conflict != nil
		if !taken {
			conflict, _ = merge.Check(desired, others, node.Labels, secrets)
		}
		if conflict == nil {
			continue
		}
		for _, peer := range peers.Items {
			if peerNodes[peer.Name][nodeName] && (taken || conflictConcernsPeer(conflict, &peer)) {
				conflicts[peer.Name] = append(conflicts[peer.Name], nodeConflict{node: nodeName, message: conflict.Message})
			}
		}
	}
	return conflicts, nil
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
func (r *ClusterReconciler) updateStatuses(ctx context.Context, translation *Translation, conflicts peerConflicts) error {
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
	peerSummaries := map[string]translate.PeerSummary{}
	for _, s := range translation.Peers {
		peerSummaries[s.Name] = s
	}
	for i := range peers.Items {
		peer := &peers.Items[i]
		err := r.patchStatus(ctx, peer, func(obj client.Object) bool {
			p := obj.(*metallbv1beta2.BGPPeer)
			changed := r.setValid(p, &p.Status.Conditions, diagnosticOf("BGPPeer", p))
			if !translation.Valid {
				return changed // counts and conflicts stay as they were: the configs are stale
			}
			changed = meta.SetStatusCondition(&p.Status.Conditions, conflictCondition(conflicts[p.Name], p.Generation)) || changed
			configured := int32(len(peerSummaries[p.Name].Nodes) - len(conflicts[p.Name]))
			if p.Status.ConfiguredNodes != configured {
				p.Status.ConfiguredNodes, changed = configured, true
			}
			return changed
		})
		if err != nil {
			return err
		}
	}

	var advertisements metallbv1beta1.BGPAdvertisementList
	if err := r.Client.List(ctx, &advertisements, inNamespace); err != nil {
		return err
	}
	adSummaries := map[string]translate.AdvertisementSummary{}
	for _, s := range translation.Advertisements {
		adSummaries[s.Name] = s
	}
	for i := range advertisements.Items {
		err := r.patchStatus(ctx, &advertisements.Items[i], func(obj client.Object) bool {
			ad := obj.(*metallbv1beta1.BGPAdvertisement)
			changed := r.setValid(ad, &ad.Status.Conditions, diagnosticOf("BGPAdvertisement", ad))
			if !translation.Valid {
				return changed
			}
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
		err := r.patchStatus(ctx, obj, func(obj client.Object) bool {
			switch o := obj.(type) {
			case *metallbv1beta1.IPAddressPool:
				return r.setValid(o, &o.Status.Conditions, diagnosticOf("IPAddressPool", o))
			case *metallbv1beta1.Community:
				return r.setValid(o, &o.Status.Conditions, diagnosticOf("Community", o))
			case *metallbv1beta1.BFDProfile:
				return r.setValid(o, &o.Status.Conditions, diagnosticOf("BFDProfile", o))
			}
			return false
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// patchStatus applies mutate to a copy of obj and, only if mutate reports a
// change, patches the status subresource.
func (r *ClusterReconciler) patchStatus(ctx context.Context, obj client.Object, mutate func(client.Object) bool) error {
	updated := obj.DeepCopyObject().(client.Object)
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
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, metallbv1beta1.ReasonInvalid, "Translate",
			"%s; every node keeps its last good configuration", condition.Message)
	}
	return true
}

func validCondition(d *translate.ObjectDiagnostic) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionValid, ObservedGeneration: d.Generation}
	if len(d.Problems) > 0 {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, metallbv1beta1.ReasonInvalid, joinMessages(d.Problems)
		return c
	}
	c.Status, c.Reason, c.Message = metav1.ConditionTrue, metallbv1beta1.ReasonValid, "The object is valid."
	if len(d.Warnings) > 0 {
		c.Message += " Warnings: " + joinMessages(d.Warnings)
	}
	return c
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

func conflictCondition(conflicts []nodeConflict, generation int64) metav1.Condition {
	c := metav1.Condition{Type: metallbv1beta1.ConditionConflict, ObservedGeneration: generation}
	if len(conflicts) == 0 {
		c.Status, c.Reason = metav1.ConditionFalse, metallbv1beta1.ReasonNoConflict
		c.Message = "No other FRRConfiguration clashes with this peer's sessions."
		return c
	}
	sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].node < conflicts[j].node })
	parts := make([]string, 0, maxListed)
	for i, nc := range conflicts {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more nodes", len(conflicts)-maxListed))
			break
		}
		parts = append(parts, fmt.Sprintf("node %s: %s", nc.node, nc.message))
	}
	c.Status, c.Reason = metav1.ConditionTrue, metallbv1beta1.ReasonConflict
	c.Message = fmt.Sprintf("%d node(s) keep their last good configuration. %s", len(conflicts), strings.Join(parts, "; "))
	return c
}

// announceServices records an Event on each Service whose announcement
// changed since the previous pass.
func (r *ClusterReconciler) announceServices(ctx context.Context, translation *Translation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	current := make(map[types.NamespacedName]string, len(translation.Services))
	for _, s := range translation.Services {
		current[s.Service] = announcementText(s)
	}
	if r.announcements == nil {
		r.announcements = current
		return nil
	}
	for key, text := range current {
		if r.announcements[key] == text {
			continue
		}
		if err := r.serviceEvent(ctx, key, text); err != nil {
			return err
		}
	}
	for key, text := range r.announcements {
		if _, ok := current[key]; !ok && strings.HasPrefix(text, "announced") {
			if err := r.serviceEvent(ctx, key, "withdrawn: the service is no longer a LoadBalancer handled by frrgen"); err != nil {
				return err
			}
		}
	}
	r.announcements = current
	return nil
}

func (r *ClusterReconciler) serviceEvent(ctx context.Context, key types.NamespacedName, text string) error {
	var service corev1.Service
	if err := r.Client.Get(ctx, key, &service); err != nil {
		return client.IgnoreNotFound(err) // deleted: nobody to tell
	}
	reason := "Withdrawn"
	if strings.HasPrefix(text, "announced") {
		reason = "Announced"
	}
	r.Recorder.Eventf(&service, nil, corev1.EventTypeNormal, reason, "Announce", "%s", text)
	return nil
}

// announcementText is the Event note for a service's announcement; two
// passes with the same text mean nothing changed for its users.
func announcementText(s translate.ServiceAnnouncement) string {
	if len(s.Nodes) > 0 {
		return fmt.Sprintf("announced from %d node(s): %s", len(s.Nodes), listSome(s.Nodes))
	}
	reasons := map[string]bool{}
	if s.Reason != "" {
		reasons[string(s.Reason)] = true
	}
	for _, reason := range s.NotAnnounced {
		reasons[string(reason)] = true
	}
	if len(reasons) == 0 {
		return "withdrawn: no speaker node"
	}
	return "withdrawn: " + strings.Join(sortedKeys(reasons), ", ")
}

func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func setOf(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, item := range items {
		m[item] = true
	}
	return m
}
