// Package merge re-implements, as pure functions, how frr-k8s v0.0.21 merges
// every FRRConfiguration that selects a node into one effective
// configuration, so that frrgen can predict a conflict before writing.
//
// Where frr-k8s is not deterministic, or where we had to choose:
//   - enableGracefulRestart is not compared by frr-k8s: the neighbor read
//     first wins, in random order. We assume true when any config enables
//     it, and warn naming the configs on each side.
//   - Configs are merged sorted by namespace/name, so results and conflict
//     messages do not depend on input order; raw snippets keep frr-k8s's
//     priority-then-name order, ties broken by namespace.
//   - passwordSecret is resolved like the daemon does: by name, in the
//     config's own namespace; a missing Secret is a conflict.
//   - Check counts only desired's namespace (what the daemon reads); a clash
//     with another namespace, which only the webhook sees, is a warning.
package merge

import (
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"k8s.io/apimachinery/pkg/types"
)

// Conflict explains why a set of FRRConfigurations cannot be merged for a node.
type Conflict struct {
	// Configs are the FRRConfigurations involved: the one being validated or
	// merged last first, the one it clashes with second (may be one entry for
	// a problem inside a single configuration).
	Configs []types.NamespacedName
	// VRF of the router involved ("" is the default VRF).
	VRF string
	// Neighbor is the neighbor ID (address or interface, plus -vrf), if any.
	Neighbor string
	// Field is the JSON field in conflict, e.g. "holdTime".
	Field string
	// Values are the clashing values, in the order of Configs.
	Values []string
	// Message is a complete sentence for a person, naming the objects,
	// neighbor, field and values.
	Message string
	// AmongOthers is set by Check when the other configurations already
	// conflict with each other without the desired one: the caller is not
	// the cause and Configs does not name it.
	AmongOthers bool
}

func (c *Conflict) Error() string { return c.Message }

// The entry points, implemented elsewhere in this package:
//
//	// Check answers whether writing desired would make the merged
//	// configuration of a node (labels nodeLabels) invalid, given the other
//	// FRRConfigurations that exist (an entry of others with desired's
//	// namespace/name is its stored version and is ignored) and the Secrets of
//	// the frr-k8s namespace. nil means the node merges cleanly; warnings
//	// carry non-fatal findings such as a differing enableGracefulRestart.
//	func Check(desired *frrv1beta1.FRRConfiguration, others []frrv1beta1.FRRConfiguration,
//		nodeLabels map[string]string, secrets []corev1.Secret) (*Conflict, []string)
//
//	// ForNode merges every configuration selecting the node, as frr-k8s does.
//	func ForNode(configs []frrv1beta1.FRRConfiguration, nodeLabels map[string]string,
//		secrets []corev1.Secret) (*Effective, []string, *Conflict)
var _ frrv1beta1.FRRConfiguration
