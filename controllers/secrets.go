package controllers

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/nodeplan"
	"github.com/frrgen/frrgen/internal/translate"
)

// AnnotationSourceSecret on a mirrored Secret names the Secret it copies.
const AnnotationSourceSecret = "frrgen.io/source-secret"

// passwordKey is the key frr-k8s (and MetalLB) read from a basic-auth Secret.
const passwordKey = "password"

// mirrors is the one home of the password mirrors' writes. Its order rule:
// a mirror is created or updated before a configuration referencing it is
// written, and deleted only when no stored configuration of ours references
// it. mu makes "ensure mirrors, write the configuration" and "check
// references, delete" exclusive, so a deletion never slips between the two.
type mirrors struct {
	client client.Client
	// live reads the apiserver, not the cache: the deletion check must see
	// the configuration a node reconcile has just written.
	live    client.Reader
	options translate.Options
	owner   owner

	mu sync.RWMutex
}

// mirrorSecret is the copy of source that frr-k8s reads: only the password,
// as a basic-auth Secret labelled as ours, with its proof.
func (m *mirrors) mirrorSecret(source *corev1.Secret, mirror translate.SecretMirror) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        mirror.Name,
			Namespace:   m.options.FRRK8sNamespace,
			Labels:      map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
			Annotations: map[string]string{AnnotationSourceSecret: source.Namespace + "/" + source.Name},
		},
		Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{passwordKey: source.Data[passwordKey]},
	}
	m.owner.stampSecret(s)
	return s
}

// desired returns the mirrored Secrets asked for whose source exists (a
// missing source makes the translation invalid anyway).
func (m *mirrors) desired(ctx context.Context, reader client.Reader, wanted []translate.SecretMirror) ([]*corev1.Secret, error) {
	out := make([]*corev1.Secret, 0, len(wanted))
	for _, w := range wanted {
		var source corev1.Secret
		err := reader.Get(ctx, types.NamespacedName{Namespace: m.options.Namespace, Name: w.SourceName}, &source)
		if client.IgnoreNotFound(err) != nil {
			return nil, err
		}
		if err == nil {
			out = append(out, m.mirrorSecret(&source, w))
		}
	}
	return out, nil
}

// secretsAfterMirroring is the frr-k8s namespace's Secrets as they will be
// once our mirrors are written: what frr-k8s resolves passwords from.
func (m *mirrors) secretsAfterMirroring(ctx context.Context, reader client.Reader, wanted []translate.SecretMirror) ([]corev1.Secret, error) {
	var list corev1.SecretList
	if err := reader.List(ctx, &list, client.InNamespace(m.options.FRRK8sNamespace)); err != nil {
		return nil, err
	}
	want, err := m.desired(ctx, reader, wanted)
	if err != nil {
		return nil, err
	}
	mirrored := make([]corev1.Secret, len(want))
	for i, s := range want {
		mirrored[i] = *s
	}
	// ensure never overwrites a Secret that is not ours.
	return nodeplan.SecretsAfterMirroring(list.Items, mirrored, func(s *corev1.Secret) bool { return m.owner.ownsSecret(s) }), nil
}

// writeConfigs ensures that the mirrors the configs reference exist with the
// current password, then calls write (which writes the configs). Node
// reconciles share the lock, so they run in parallel; a mirror deletion
// takes it alone, so it never slips between a mirror check and the write of
// a configuration that references the mirror.
func (m *mirrors) writeConfigs(ctx context.Context, reader client.Reader, wanted []translate.SecretMirror, configs []*frrv1beta1.FRRConfiguration, write func() error) error {
	if len(configs) == 0 && len(wanted) == 0 {
		return write() // nothing to order against
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	referenced := map[string]bool{}
	for _, c := range configs {
		for name := range referencedSecrets(c) {
			referenced[name] = true
		}
	}
	var needed []translate.SecretMirror
	for _, w := range wanted {
		if referenced[w.Name] {
			needed = append(needed, w)
		}
	}
	want, err := m.desired(ctx, reader, needed)
	if err != nil {
		return fmt.Errorf("reading password Secrets: %w", err)
	}
	for _, s := range want {
		if err := m.ensure(ctx, reader, s); err != nil {
			return fmt.Errorf("mirroring Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return write()
}

// ensure creates or updates one mirror. A Secret of the user's with the
// mirror's name is left alone: frr-k8s will read it, and the merge check
// has judged the node with it.
func (m *mirrors) ensure(ctx context.Context, reader client.Reader, want *corev1.Secret) error {
	var current corev1.Secret
	err := reader.Get(ctx, client.ObjectKeyFromObject(want), &current)
	switch {
	case apierrors.IsNotFound(err):
		return m.create(ctx, want)
	case err != nil:
		return err
	case !m.owner.ownsSecret(&current):
		return nil
	case current.Type != want.Type:
		// The type is immutable: replace the object (only an adopted
		// mirror of an older frrgen can differ here).
		if err := m.deleteSecret(ctx, &current); err != nil {
			return err
		}
		return m.create(ctx, want)
	case !bytes.Equal(current.Data[passwordKey], want.Data[passwordKey]) || len(current.Data) != len(want.Data) ||
		!nodeplan.HasAll(current.Annotations, want.Annotations):
		updated := current.DeepCopy()
		updated.Data = want.Data
		updated.Annotations = nodeplan.WithEntries(updated.Annotations, want.Annotations)
		return countWrite(kindSecret, verbUpdate, m.client.Update(ctx, updated))
	}
	return nil
}

func (m *mirrors) create(ctx context.Context, want *corev1.Secret) error {
	return countWrite(kindSecret, verbCreate, m.client.Create(ctx, want.DeepCopy()))
}

// deleteUnused deletes our mirrors that the translation no longer asks for
// and that no stored configuration of ours references any more. A mirror
// still referenced stays until the configuration referencing it is
// rewritten; that write's event brings the cluster reconciler back.
func (m *mirrors) deleteUnused(ctx context.Context, reader client.Reader, wanted []translate.SecretMirror) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := map[string]bool{}
	for _, w := range wanted {
		keep[w.Name] = true
	}
	var labelled corev1.SecretList
	if err := reader.List(ctx, &labelled, client.InNamespace(m.options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}); err != nil {
		return err
	}
	var unused []*corev1.Secret
	for i := range labelled.Items {
		if s := &labelled.Items[i]; !keep[s.Name] && m.owner.ownsSecret(s) {
			unused = append(unused, s)
		}
	}
	if len(unused) == 0 {
		return nil // the steady state: no live read
	}
	var stored frrv1beta1.FRRConfigurationList
	if err := m.live.List(ctx, &stored, client.InNamespace(m.options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}); err != nil {
		return fmt.Errorf("listing our FRRConfigurations before deleting mirrors: %w", err)
	}
	referenced := map[string]bool{}
	for i := range stored.Items {
		if m.owner.ownsConfig(&stored.Items[i]) {
			for name := range referencedSecrets(&stored.Items[i]) {
				referenced[name] = true
			}
		}
	}
	for _, s := range unused {
		if referenced[s.Name] {
			continue
		}
		if err := m.deleteSecret(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (m *mirrors) deleteSecret(ctx context.Context, secret *corev1.Secret) error {
	err := m.client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return countWrite(kindSecret, verbDelete, err)
}

// referencedSecrets are the Secrets of its own namespace a configuration's
// neighbors take their password from (frr-k8s reads no other namespace).
func referencedSecrets(config *frrv1beta1.FRRConfiguration) map[string]bool {
	names := map[string]bool{}
	for _, router := range config.Spec.BGP.Routers {
		for _, n := range router.Neighbors {
			if n.PasswordSecret.Name != "" {
				names[n.PasswordSecret.Name] = true
			}
		}
	}
	return names
}
