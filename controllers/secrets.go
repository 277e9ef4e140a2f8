package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/frrgen/frrgen/internal/translate"
)

// AnnotationSourceSecret on a mirrored Secret names the Secret it copies.
const AnnotationSourceSecret = "frrgen.io/source-secret"

// passwordKey is the key frr-k8s (and MetalLB) read from a basic-auth Secret.
const passwordKey = "password"

// mirrorSecret is the copy of source that frr-k8s reads: only the password,
// as a basic-auth Secret labelled as ours.
func mirrorSecret(source *corev1.Secret, mirror translate.SecretMirror, namespace string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        mirror.Name,
			Namespace:   namespace,
			Labels:      map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
			Annotations: map[string]string{AnnotationSourceSecret: source.Namespace + "/" + source.Name},
		},
		Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{passwordKey: source.Data[passwordKey]},
	}
}

// desiredMirrors returns the mirrored Secrets the translation asks for whose
// source exists (a missing source makes the translation invalid anyway).
func desiredMirrors(ctx context.Context, reader client.Reader, options translate.Options, mirrors []translate.SecretMirror) ([]*corev1.Secret, error) {
	out := make([]*corev1.Secret, 0, len(mirrors))
	for _, m := range mirrors {
		var source corev1.Secret
		err := reader.Get(ctx, types.NamespacedName{Namespace: options.Namespace, Name: m.SourceName}, &source)
		if client.IgnoreNotFound(err) != nil {
			return nil, err
		}
		if err == nil {
			out = append(out, mirrorSecret(&source, m, options.FRRK8sNamespace))
		}
	}
	return out, nil
}

// frrK8sSecretsAfterMirroring is the frr-k8s namespace's Secrets as they will
// be once our mirrors are written: what frr-k8s resolves passwords from.
func frrK8sSecretsAfterMirroring(ctx context.Context, reader client.Reader, options translate.Options, mirrors []translate.SecretMirror) ([]corev1.Secret, error) {
	var list corev1.SecretList
	if err := reader.List(ctx, &list, client.InNamespace(options.FRRK8sNamespace)); err != nil {
		return nil, err
	}
	wanted, err := desiredMirrors(ctx, reader, options, mirrors)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]int, len(list.Items))
	for i := range list.Items {
		byName[list.Items[i].Name] = i
	}
	for _, s := range wanted {
		if i, ok := byName[s.Name]; ok {
			// syncPasswordSecrets never overwrites a Secret that is not ours.
			if isOurs(&list.Items[i]) {
				list.Items[i] = *s
			}
		} else {
			list.Items = append(list.Items, *s)
		}
	}
	return list.Items, nil
}
