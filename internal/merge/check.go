package merge

import (
	"fmt"

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
	self := types.NamespacedName{Namespace: desired.Namespace, Name: desired.Name}
	var sameNamespace, otherNamespaces []frrv1beta1.FRRConfiguration
	for _, o := range others {
		switch {
		case o.Namespace == self.Namespace && o.Name == self.Name:
		case o.Namespace == self.Namespace:
			sameNamespace = append(sameNamespace, o)
		default:
			otherNamespaces = append(otherNamespaces, o)
		}
	}

	if _, _, conflict := ForNode([]frrv1beta1.FRRConfiguration{*desired}, nodeLabels, secrets); conflict != nil {
		return conflict, nil
	}
	if _, _, conflict := ForNode(sameNamespace, nodeLabels, secrets); conflict != nil {
		conflict.AmongOthers = true
		conflict.Message = fmt.Sprintf("the node's FRRConfigurations already fail to merge without %s: %s", self, conflict.Message)
		return conflict, nil
	}

	// desired goes first so that every clash is reported against it.
	_, warnings, conflict := mergeInOrder(desiredFirst(desired, sameNamespace), nodeLabels, secrets)
	if conflict != nil {
		return conflict, warnings
	}

	if len(otherNamespaces) > 0 {
		// The webhook ignores passwordSecret references (they may be created
		// later), so they are blanked here too.
		var all []frrv1beta1.FRRConfiguration
		for _, c := range append(desiredFirst(desired, sameNamespace), otherNamespaces...) {
			all = append(all, withoutSecretRefs(c))
		}
		if _, _, webhookConflict := ForNode(all, nodeLabels, nil); webhookConflict != nil {
			warnings = append(warnings, fmt.Sprintf(
				"the frr-k8s webhook also reads FRRConfigurations outside %s and would deny writing %s: %s",
				self.Namespace, self, webhookConflict.Message))
		}
	}
	return nil, warnings
}

func desiredFirst(desired *frrv1beta1.FRRConfiguration, others []frrv1beta1.FRRConfiguration) []frrv1beta1.FRRConfiguration {
	return append([]frrv1beta1.FRRConfiguration{*desired}, sortedByName(others)...)
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
