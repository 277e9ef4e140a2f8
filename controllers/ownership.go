package controllers

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/ownership"
	"github.com/frrgen/frrgen/internal/translate"
)

const (
	// OwnershipKeySecret is the name of the Secret, in frrgen's own
	// namespace, holding the installation's ownership key.
	OwnershipKeySecret = "frrgen-ownership-key"
	// ownershipKeyField is the Secret's data key holding the key.
	ownershipKeyField = "key"
	// FieldManager is the field manager of every write frrgen makes; the
	// migration of objects from before ownership proofs relies on it.
	FieldManager = "frrgen"
)

// owner tells our FRRConfigurations and Secrets from users' (see package
// ownership): the proof, not the label, decides.
type owner struct {
	checker ownership.Checker
}

func newOwner(key ownership.Key) owner {
	return owner{checker: ownership.Checker{
		Key:   key,
		Label: translate.LabelManagedBy, Value: translate.ManagedByValue,
		BindingAnnotation: map[string]string{
			kindFRRConfiguration: translate.AnnotationNode,
			proofKindShared:      layout.AnnotationNodes,
			kindSecret:           AnnotationSourceSecret,
		},
	}}
}

// ownsConfig tells whether frrgen provably wrote the FRRConfiguration.
func (o owner) ownsConfig(obj client.Object) bool {
	return o.checker.IsOurs(kindFRRConfiguration, obj) || o.checker.IsOurs(proofKindShared, obj)
}

// proofKindShared is the kind in the proof of an FRRConfiguration shared by
// several nodes (--layout shared): it is bound to the nodes it lists, not to
// one node, and a proof of one kind never verifies as the other.
const proofKindShared = "FRRConfiguration/shared"

// ownsSecret tells whether frrgen provably wrote the (mirrored) Secret.
func (o owner) ownsSecret(obj client.Object) bool { return o.checker.IsOurs(kindSecret, obj) }

// stampConfig adds the proof to a configuration we are about to write.
func (o owner) stampConfig(config *frrv1beta1.FRRConfiguration) {
	kind := kindFRRConfiguration
	if config.Annotations[translate.AnnotationNode] == "" && config.Annotations[layout.AnnotationNodes] != "" {
		kind = proofKindShared
	}
	config.Annotations = o.checker.Stamp(kind, config)
}

// stampSecret adds the proof to a mirror we are about to write.
func (o owner) stampSecret(secret *corev1.Secret) {
	secret.Annotations = o.checker.Stamp(kindSecret, secret)
}

// loadOwnershipKey reads the installation's key from the Secret ref, and
// creates it with a random key when absent. Replicas starting together race
// on the create: the loser reads the winner's key back.
func loadOwnershipKey(ctx context.Context, reader client.Reader, writer client.Writer, ref types.NamespacedName) (ownership.Key, error) {
	var secret corev1.Secret
	err := reader.Get(ctx, ref, &secret)
	if apierrors.IsNotFound(err) {
		secret = newOwnershipKeySecret(ref)
		if _, err := rand.Read(secret.Data[ownershipKeyField]); err != nil {
			return ownership.Key{}, fmt.Errorf("generating the ownership key: %w", err)
		}
		err = writer.Create(ctx, &secret)
		if apierrors.IsAlreadyExists(err) {
			err = reader.Get(ctx, ref, &secret)
		}
	}
	if err != nil {
		return ownership.Key{}, fmt.Errorf("ownership key Secret %s: %w", ref, err)
	}
	key, err := ownership.NewKey(secret.Data[ownershipKeyField])
	if err != nil {
		return ownership.Key{}, fmt.Errorf("ownership key Secret %s: data.%s: %w", ref, ownershipKeyField, err)
	}
	return key, nil
}

func newOwnershipKeySecret(ref types.NamespacedName) corev1.Secret {
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ref.Namespace, Name: ref.Name,
			Labels: map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
			Annotations: map[string]string{"frrgen.io/purpose": "proves which FRRConfigurations and Secrets frrgen wrote; " +
				"deleting it makes frrgen treat every object it wrote as a user's"},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{ownershipKeyField: make([]byte, ownership.KeySize)},
	}
}

// adoptLegacyObjects is the migration from frrgen versions without proofs:
// an object labelled as ours, with no proof at all, is adopted (stamped)
// only when its name is the one frrgen gives it and every field of it was
// written by field manager frrgen. Anything else stays a user object. It
// reads from the apiserver: the cache drops managedFields.
func adoptLegacyObjects(ctx context.Context, reader client.Reader, writer client.Writer, o owner, options translate.Options) error {
	log := logf.FromContext(ctx)
	labelled := []client.ListOption{client.InNamespace(options.FRRK8sNamespace),
		client.MatchingLabels{translate.LabelManagedBy: translate.ManagedByValue}}
	var configs frrv1beta1.FRRConfigurationList
	if err := reader.List(ctx, &configs, labelled...); err != nil {
		return fmt.Errorf("listing FRRConfigurations to migrate: %w", err)
	}
	for i := range configs.Items {
		c := &configs.Items[i]
		node := c.Annotations[translate.AnnotationNode]
		if !adoptable(c, node != "" && c.Name == translate.ConfigName(options.NamePrefix, node)) {
			continue
		}
		o.stampConfig(c)
		if err := writer.Update(ctx, c); err != nil {
			return fmt.Errorf("adopting FRRConfiguration %s/%s: %w", c.Namespace, c.Name, err)
		}
		log.Info("adopted an FRRConfiguration written by an older frrgen", "name", c.Name, "node", node)
	}
	var secrets corev1.SecretList
	if err := reader.List(ctx, &secrets, labelled...); err != nil {
		return fmt.Errorf("listing Secrets to migrate: %w", err)
	}
	for i := range secrets.Items {
		s := &secrets.Items[i]
		source := s.Annotations[AnnotationSourceSecret]
		if !adoptable(s, source != "" && s.Name == translate.MirroredSecretName(options.NamePrefix, sourceName(source))) {
			continue
		}
		o.stampSecret(s)
		if err := writer.Update(ctx, s); err != nil {
			return fmt.Errorf("adopting Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		log.Info("adopted a password mirror written by an older frrgen", "name", s.Name, "source", source)
	}
	return nil
}

// adoptable: no proof at all (a wrong one is never replaced), the name frrgen
// would give it, and only frrgen's field manager on the object itself.
func adoptable(obj client.Object, nameIsOurs bool) bool {
	if _, proven := obj.GetAnnotations()[ownership.AnnotationProof]; proven || !nameIsOurs {
		return false
	}
	var managers []string
	for _, f := range obj.GetManagedFields() {
		if f.Subresource == "" {
			managers = append(managers, f.Manager)
		}
	}
	return ownership.WrittenOnlyBy(managers, FieldManager)
}

// sourceName is the name part of a mirror's "namespace/name" source.
func sourceName(source string) string { return source[strings.LastIndex(source, "/")+1:] }
