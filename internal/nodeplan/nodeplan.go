// Package nodeplan decides, for one node, what frrgen writes: from the
// node's desired FRRConfigurations (one or several), ours as stored, the
// users' FRRConfigurations and the Secrets frr-k8s will read, it computes the
// writes in a safe order, or the conflict that forbids them. It is the one
// home of "may we write this node": the controller, the BGPPeer Conflict
// condition, `frrgen render --effective` and `frrgen merge` all use it. Pure:
// no client, no clock.
package nodeplan

import (
	"cmp"
	"slices"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frrgen/frrgen/internal/merge"
	"github.com/frrgen/frrgen/internal/ownership"
	"github.com/frrgen/frrgen/internal/translate"
)

// Input is everything Decide reads about one node.
type Input struct {
	Node       string
	NodeLabels map[string]string
	// Held: an invalid object could change this node's configuration, so
	// it keeps what it has (see translate.Result.Held).
	Held bool
	// Desired are our FRRConfigurations for the node, all in one namespace;
	// none when the node must have no configuration of ours.
	Desired []frrv1beta1.FRRConfiguration
	// Stored are the FRRConfigurations provably ours for this node.
	Stored []frrv1beta1.FRRConfiguration
	// Others are the FRRConfigurations that are not ours, in any namespace
	// (frr-k8s reads only its own; the webhook reads all).
	Others []frrv1beta1.FRRConfiguration
	// Secrets are those of the frr-k8s namespace as they will be once our
	// mirrors are written: what frr-k8s resolves passwords from.
	Secrets []corev1.Secret
	// WantEffective asks for the node's effective configuration even when
	// no other configuration selects the node (render --effective).
	WantEffective bool
	// Verdict, when set, is the merge verdict of an earlier Decide on the
	// same content (the caller keys it by content): it is used instead of
	// merging again.
	Verdict *Verdict
	// VerdictOnly skips the writes: the caller writes a layout shared by
	// several nodes as a whole (LayoutWrites) and needs only the verdict.
	VerdictOnly bool
}

// Verdict is the outcome of the merge check.
type Verdict struct {
	Conflict  *merge.Conflict
	Warnings  []string
	Effective *merge.Effective
}

// Verb is an API write.
type Verb string

const (
	Create Verb = "create"
	Update Verb = "update"
	Delete Verb = "delete"
)

// Write is one API write. For Update, Config carries the stored object's
// metadata (resourceVersion included) with the desired spec, labels and
// annotations; for Delete, the stored object.
type Write struct {
	Verb   Verb
	Config *frrv1beta1.FRRConfiguration
}

// Plan is what Decide says about a node.
type Plan struct {
	// Writes, in a safe order: creates and updates before deletes, so that
	// frr-k8s never sees the node without a prefix that is still wanted.
	// Empty when the node is held, in conflict, or already right.
	Writes []Write
	// Conflict is set when writing would make frr-k8s refuse the node's
	// configuration; the node keeps what is stored.
	Conflict *merge.Conflict
	Warnings []string
	// Effective is what frr-k8s renders for the node after the writes; set
	// when another configuration selects the node or WantEffective is set,
	// and there is no conflict.
	Effective *merge.Effective
	// Verdict is the merge check's outcome, nil when none was needed; the
	// caller may pass it back in Input.Verdict for the same content.
	Verdict *Verdict
}

// Decide computes the plan for one node.
func Decide(in Input) Plan {
	if in.Held {
		return Plan{}
	}
	if len(in.Desired) == 0 {
		return Plan{Writes: deletes(in.Stored, nil)}
	}
	if conflict := nameTaken(in.Desired, in.Others); conflict != nil {
		return Plan{Conflict: conflict}
	}
	var plan Plan
	if NeedsMerge(in) {
		v := in.Verdict
		if v == nil {
			v = &Verdict{}
			v.Effective, v.Warnings, v.Conflict = merge.CheckAll(in.Desired, in.Others, in.NodeLabels, in.Secrets)
		}
		plan.Verdict, plan.Conflict, plan.Warnings, plan.Effective = v, v.Conflict, v.Warnings, v.Effective
		if plan.Conflict != nil {
			return plan
		}
	}
	if in.VerdictOnly {
		return plan
	}
	plan.Writes = append(createsAndUpdates(in.Desired, in.Stored), deletes(in.Stored, in.Desired)...)
	return plan
}

// NeedsMerge tells whether Decide runs the merge check for in. translate's
// output is valid on its own (its tests check every rule of frr-k8s's), so
// the merge, which costs about as much as the build of a large node, runs
// only when another configuration selects the node, a referenced password
// Secret would not resolve, or the effective configuration is asked for.
func NeedsMerge(in Input) bool {
	return !in.Held && len(in.Desired) > 0 &&
		(in.WantEffective || selectsNode(in.Others, in.NodeLabels) || !secretsResolve(in.Desired, in.Secrets))
}

// SecretsAfterMirroring is the frr-k8s namespace's Secrets (existing) as
// they will be once the mirrors are written: a mirror replaces a Secret of
// its name only when that Secret is ours (isOurs); a user's Secret with the
// name stays, since frrgen never overwrites it, and frr-k8s reads it.
func SecretsAfterMirroring(existing, mirrors []corev1.Secret, isOurs func(*corev1.Secret) bool) []corev1.Secret {
	out := slices.Clone(existing)
	for _, m := range mirrors {
		i := slices.IndexFunc(out, func(s corev1.Secret) bool { return s.Namespace == m.Namespace && s.Name == m.Name })
		switch {
		case i < 0:
			out = append(out, m)
		case isOurs(&out[i]):
			out[i] = m
		}
	}
	return out
}

// nameTaken is a conflict when a configuration with one of desired's names
// exists and is not ours: frrgen never overwrites it.
func nameTaken(desired, others []frrv1beta1.FRRConfiguration) *merge.Conflict {
	for i := range desired {
		d := &desired[i]
		for j := range others {
			if others[j].Namespace == d.Namespace && others[j].Name == d.Name {
				key := types.NamespacedName{Namespace: d.Namespace, Name: d.Name}
				return &merge.Conflict{
					Configs: []types.NamespacedName{key},
					Field:   "metadata.name",
					Message: notOurs.NotOursMessage("FRRConfiguration", key.Namespace, key.Name),
				}
			}
		}
	}
	return nil
}

// notOurs words the message for an object frrgen cannot prove it wrote.
var notOurs = ownership.Checker{Label: translate.LabelManagedBy, Value: translate.ManagedByValue}

// selectsNode reports whether a configuration of others selects the node.
// One whose selector cannot be parsed counts: frr-k8s fails the node for it.
func selectsNode(others []frrv1beta1.FRRConfiguration, nodeLabels map[string]string) bool {
	set := labels.Set(nodeLabels)
	for i := range others {
		sel, err := metav1.LabelSelectorAsSelector(&others[i].Spec.NodeSelector)
		if err != nil || sel.Matches(set) {
			return true
		}
	}
	return false
}

// secretsResolve reports whether every passwordSecret the desired
// configurations reference exists as frr-k8s needs it (a basic-auth Secret
// with a password). When one does not, the full check names the problem.
func secretsResolve(desired []frrv1beta1.FRRConfiguration, secrets []corev1.Secret) bool {
	for i := range desired {
		for _, r := range desired[i].Spec.BGP.Routers {
			for _, n := range r.Neighbors {
				ref := n.PasswordSecret
				if ref.Name == "" {
					continue
				}
				namespace := cmp.Or(ref.Namespace, desired[i].Namespace)
				found := slices.ContainsFunc(secrets, func(s corev1.Secret) bool {
					_, hasPassword := s.Data[corev1.BasicAuthPasswordKey]
					return s.Namespace == namespace && s.Name == ref.Name && s.Type == corev1.SecretTypeBasicAuth && hasPassword
				})
				if !found {
					return false
				}
			}
		}
	}
	return true
}

func createsAndUpdates(desired, stored []frrv1beta1.FRRConfiguration) []Write {
	var out []Write
	for _, d := range sortedByName(desired) {
		i := slices.IndexFunc(stored, func(s frrv1beta1.FRRConfiguration) bool { return s.Name == d.Name })
		if i < 0 {
			c := d.DeepCopy()
			out = append(out, Write{Verb: Create, Config: c})
			continue
		}
		if UpToDate(&stored[i], &d) {
			continue
		}
		updated := stored[i].DeepCopy()
		updated.Spec = *d.Spec.DeepCopy()
		updated.Labels = WithEntries(updated.Labels, d.Labels)
		updated.Annotations = WithEntries(updated.Annotations, d.Annotations)
		updated.OwnerReferences = slices.Clone(d.OwnerReferences)
		out = append(out, Write{Verb: Update, Config: updated})
	}
	return out
}

func deletes(stored, desired []frrv1beta1.FRRConfiguration) []Write {
	var out []Write
	for _, s := range sortedByName(stored) {
		if !slices.ContainsFunc(desired, func(d frrv1beta1.FRRConfiguration) bool { return d.Name == s.Name }) {
			out = append(out, Write{Verb: Delete, Config: s.DeepCopy()})
		}
	}
	return out
}

// UpToDate reports whether stored already is desired: the same spec once the
// apiserver's defaults are applied, every label and annotation of desired
// and its owner references.
func UpToDate(stored, desired *frrv1beta1.FRRConfiguration) bool {
	return SpecsEqual(&stored.Spec, &desired.Spec) && HasAll(stored.Labels, desired.Labels) &&
		HasAll(stored.Annotations, desired.Annotations) &&
		equality.Semantic.DeepEqual(stored.OwnerReferences, desired.OwnerReferences)
}

// SpecsEqual reports whether two FRRConfiguration specs mean the same once
// the apiserver's defaults are applied to both. Without the defaults a spec
// we wrote never equals what we read back (MetalLB's perpetual no-op
// updates). equality.Semantic also treats nil and empty slices as equal.
func SpecsEqual(a, b *frrv1beta1.FRRConfigurationSpec) bool {
	return equality.Semantic.DeepEqual(withAPIDefaults(a), withAPIDefaults(b))
}

// withAPIDefaults returns spec with the defaults of the frr-k8s v0.0.21 CRD
// filled in: toAdvertise.allowed.mode and toReceive.allowed.mode are
// "filtered" when empty. (disableMP and dualStackAddressFamily default to
// false, which is already Go's zero value.) Only the routers and neighbors
// are copied, not their lists, which the result shares with spec: it is for
// reading (a deep copy of a node's spec costs more than comparing it).
func withAPIDefaults(spec *frrv1beta1.FRRConfigurationSpec) *frrv1beta1.FRRConfigurationSpec {
	out := *spec
	out.BGP.Routers = slices.Clone(spec.BGP.Routers)
	for r := range out.BGP.Routers {
		out.BGP.Routers[r].Neighbors = slices.Clone(out.BGP.Routers[r].Neighbors)
		neighbors := out.BGP.Routers[r].Neighbors
		for n := range neighbors {
			if neighbors[n].ToAdvertise.Allowed.Mode == "" {
				neighbors[n].ToAdvertise.Allowed.Mode = frrv1beta1.AllowRestricted
			}
			if neighbors[n].ToReceive.Allowed.Mode == "" {
				neighbors[n].ToReceive.Allowed.Mode = frrv1beta1.AllowRestricted
			}
		}
	}
	return &out
}

// HasAll reports whether every key of want is in have with the same value.
func HasAll(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// WithEntries returns m with every entry of add set.
func WithEntries(m, add map[string]string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range add {
		m[k] = v
	}
	return m
}

func sortedByName(configs []frrv1beta1.FRRConfiguration) []frrv1beta1.FRRConfiguration {
	out := slices.Clone(configs)
	slices.SortFunc(out, func(a, b frrv1beta1.FRRConfiguration) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
