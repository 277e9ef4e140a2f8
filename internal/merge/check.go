package merge

import (
	"fmt"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Check answers whether writing desired would make the merged configuration
// of a node (labels nodeLabels) invalid, given the other FRRConfigurations
// that exist and the Secrets of the frr-k8s namespace. An entry of others
// with desired's namespace/name is its stored version and is ignored.
//
// Namespaces: the frr-k8s daemon reads only its own namespace, so only
// others in desired's namespace can make the node's configuration invalid.
// The frr-k8s webhook, however, validates against every namespace; a clash
// with a config in another namespace is returned as a warning, because the
// webhook (when installed) would deny the write although the node would be
// fine.
//
// The returned conflict is one of, in this order:
//   - desired is invalid on its own (Configs names desired only);
//   - the other configs already fail to merge without desired (AmongOthers
//     is set; desired is not to blame and Configs does not name it);
//   - an other config clashes with desired (Configs is [other, desired]).
func Check(desired *frrv1beta1.FRRConfiguration, others []frrv1beta1.FRRConfiguration,
	nodeLabels map[string]string, secrets []corev1.Secret) (*Conflict, []string) {
	_, warnings, conflict := CheckAll([]frrv1beta1.FRRConfiguration{*desired}, others, nodeLabels, secrets)
	return conflict, warnings
}

// CheckAll is Check for a node whose configuration is several objects of
// one namespace (desired, non-empty), which frr-k8s merges with each other
// and with the others. It also returns the node's effective configuration
// when there is no conflict.
func CheckAll(desired, others []frrv1beta1.FRRConfiguration,
	nodeLabels map[string]string, secrets []corev1.Secret) (*Effective, []string, *Conflict) {
	namespace := desired[0].Namespace
	ours := make(map[types.NamespacedName]bool, len(desired))
	names := make([]string, 0, len(desired))
	for _, d := range sortedByName(desired) {
		ours[types.NamespacedName{Namespace: d.Namespace, Name: d.Name}] = true
		names = append(names, d.Namespace+"/"+d.Name)
	}
	var sameNamespace, otherNamespaces []frrv1beta1.FRRConfiguration
	for _, o := range others {
		switch {
		case ours[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}]:
		case o.Namespace == namespace:
			sameNamespace = append(sameNamespace, o)
		default:
			otherNamespaces = append(otherNamespaces, o)
		}
	}

	if _, _, conflict := ForNode(desired, nodeLabels, secrets); conflict != nil {
		return nil, nil, conflict
	}
	if _, _, conflict := ForNode(sameNamespace, nodeLabels, secrets); conflict != nil {
		conflict.AmongOthers = true
		conflict.Message = fmt.Sprintf("the node's FRRConfigurations already fail to merge without %s: %s", strings.Join(names, ", "), conflict.Message)
		return nil, nil, conflict
	}

	// desired goes first so that every clash is reported against it.
	ordered := desiredFirst(desired, sameNamespace)
	effective, warnings, conflict := mergeInOrder(ordered, nodeLabels, secrets)
	if conflict != nil {
		return nil, warnings, conflict
	}

	if len(otherNamespaces) > 0 {
		// The webhook ignores passwordSecret references (they may be created
		// later), so they are blanked here too.
		var all []frrv1beta1.FRRConfiguration
		for _, c := range append(ordered, otherNamespaces...) {
			all = append(all, withoutSecretRefs(c))
		}
		if _, _, webhookConflict := ForNode(all, nodeLabels, nil); webhookConflict != nil {
			warnings = append(warnings, fmt.Sprintf(
				"the frr-k8s webhook also reads FRRConfigurations outside %s and would deny writing %s: %s",
				namespace, strings.Join(names, ", "), webhookConflict.Message))
		}
	}
	return effective, warnings, nil
}

func desiredFirst(desired, others []frrv1beta1.FRRConfiguration) []frrv1beta1.FRRConfiguration {
	return append(sortedByName(desired), sortedByName(others)...)
}

func withoutSecretRefs(c frrv1beta1.FRRConfiguration) frrv1beta1.FRRConfiguration {
	out := c.DeepCopy()
	for i := range out.Spec.BGP.Routers {
		for j := range out.Spec.BGP.Routers[i].Neighbors {
			out.Spec.BGP.Routers[i].Neighbors[j].PasswordSecret = frrv1beta1.SecretReference{}
		}
	}
	return *out
}
