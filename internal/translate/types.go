// Package translate computes, from a read-only snapshot of the cluster, the
// FRRConfiguration every speaker node must have, and explains every input
// object that cannot be used. It is pure: no client, no clock, no randomness.
package translate

import (
	"cmp"
	"slices"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// Snapshot is everything Build reads. Slices may be in any order; Build sorts
// what it needs, so the result does not depend on the order.
type Snapshot struct {
	Pools          []metallbv1beta1.IPAddressPool
	Peers          []metallbv1beta2.BGPPeer
	Advertisements []metallbv1beta1.BGPAdvertisement
	Communities    []metallbv1beta1.Community
	BFDProfiles    []metallbv1beta1.BFDProfile
	Nodes          []corev1.Node
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	// Secrets of the input namespace, used to check passwordSecret references.
	// Their data never reaches the output.
	Secrets []corev1.Secret
}

// Metadata frrgen puts on the objects it writes.
const (
	// LabelManagedBy / ManagedByValue mark FRRConfigurations and Secrets as ours.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "frrgen"
	// AnnotationNode holds the node an FRRConfiguration is for (an annotation,
	// because node names can be longer than a label value may be).
	AnnotationNode = "frrgen.io/node"
)

// AnnotationAllowedPeers, on a Secret of the input namespace, lists the
// BGPPeers (comma-separated names, or "*" for every BGPPeer of the
// namespace) that may use it as passwordSecret. Without it frrgen does not
// copy the Secret: whoever may create a BGPPeer must not be able to send
// another team's Secret to an address of their choosing.
const AnnotationAllowedPeers = "frrgen.io/bgp-peers"

// Options are the controller's settings that change the translation.
type Options struct {
	// Namespace holds the MetalLB objects; objects elsewhere are ignored.
	Namespace string
	// FRRK8sNamespace is where the FRRConfigurations (and mirrored password
	// Secrets) are written.
	FRRK8sNamespace string
	// LoadBalancerClass: services with this class are handled; when empty,
	// only services without a class are.
	LoadBalancerClass string
	// IgnoreExcludeLB announces from nodes labelled
	// node.kubernetes.io/exclude-from-external-load-balancers too.
	IgnoreExcludeLB bool
	// SpeakerNodeSelector picks the nodes that get a configuration; nil means all.
	SpeakerNodeSelector labels.Selector
	// NamePrefix is prepended to the node name to name its FRRConfiguration
	// (and to the Secret name for mirrored password Secrets).
	NamePrefix string
}

// Result is the outcome of Build.
type Result struct {
	// Configs holds the desired FRRConfiguration of every speaker node that
	// is not held, sorted by node name.
	Configs []frrv1beta1.FRRConfiguration
	// Held lists, sorted by node, the speaker nodes whose configuration an
	// invalid object could change. The caller must keep the configuration
	// each of them has (fail static); every other node converges.
	Held []HeldNode
	// PasswordSecrets are the Secrets to mirror into FRRK8sNamespace so that
	// frr-k8s can read them, sorted by Name.
	PasswordSecrets []SecretMirror
	// Valid is false when any input object has an error; the nodes such an
	// object could affect are in Held.
	Valid bool
	// Objects has one entry per input object (valid or not), sorted by Ref.
	Objects []ObjectDiagnostic
	// Services has one entry per service in the snapshot that frrgen handles,
	// sorted by namespace/name.
	Services []ServiceAnnouncement
	// Peers summarises each BGPPeer, sorted by name.
	Peers []PeerSummary
	// Advertisements summarises each BGPAdvertisement, sorted by name.
	Advertisements []AdvertisementSummary
	// PeerSets are the distinct sets of BGPPeer names (each sorted) that
	// services are sent to from a node; ServiceAnnouncement.NodePeers
	// indexes them.
	PeerSets [][]string
}

// HeldNode is a speaker node that keeps its last good configuration.
type HeldNode struct {
	Node string
	// By are the invalid objects that could change the node's configuration,
	// sorted.
	By []ObjectRef
}

// HeldBy returns the invalid objects holding node, or nil when the node is
// not held.
func (r *Result) HeldBy(node string) []ObjectRef {
	i, found := slices.BinarySearchFunc(r.Held, node, func(h HeldNode, node string) int { return cmp.Compare(h.Node, node) })
	if !found {
		return nil
	}
	return r.Held[i].By
}

// SecretMirror asks the caller to copy a kubernetes.io/basic-auth Secret from
// the input namespace into the frr-k8s namespace under another name.
type SecretMirror struct {
	// Name of the copy in FRRK8sNamespace; this is what neighbors reference.
	Name string
	// SourceName is the Secret's name in Namespace.
	SourceName string
}

// ObjectRef names an input object.
type ObjectRef struct {
	// Kind is IPAddressPool, BGPAdvertisement, Community, BFDProfile or
	// BGPPeer; Node, Service or Secret only for an object defined twice in
	// the input (possible with files read by `frrgen render`).
	Kind      string
	Namespace string
	Name      string
}

func (r ObjectRef) String() string {
	if r.Namespace == "" { // cluster-scoped, e.g. a Node defined twice in a file
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Problem is one reason an object cannot be used.
type Problem struct {
	// Field is the JSON path inside the object, e.g. "spec.communities[1]".
	Field string
	// Value is the offending value as written.
	Value string
	// Message is a complete sentence for a person; it names the field and value.
	Message string
	// MissingReference: a warning that the object names another object
	// (an IPAddressPool, a BGPPeer) that does not exist.
	MissingReference bool
}

// ObjectDiagnostic is the verdict on one input object.
type ObjectDiagnostic struct {
	Ref        ObjectRef
	Generation int64
	// Problems is empty when the object is valid.
	Problems []Problem
	// Warnings do not make the object invalid (e.g. an advertisement naming a
	// peer that does not exist, which MetalLB silently ignores).
	Warnings []Problem
	// HeldNodes are, for an invalid object, the speaker nodes it holds
	// (sorted); empty when it could change no node's configuration.
	HeldNodes []string
}

// Reason says why a service is not announced from a node. The vocabulary is
// MetalLB's, so users can search for it.
type Reason string

const (
	ReasonNoIPAllocated              Reason = "noIPAllocated"
	ReasonInvalidIP                  Reason = "invalidIP"
	ReasonIPNotAllowed               Reason = "ipNotAllowed"
	ReasonNotOwner                   Reason = "notOwner"
	ReasonNoMatchingAdvertisement    Reason = "noMatchingAdvertisement"
	ReasonConflictingAdvertisements  Reason = "conflictingAdvertisements"
	ReasonNodeNetworkUnavailable     Reason = "nodeNetworkUnavailable"
	ReasonNodeLabeledExcludeBalancer Reason = "nodeLabeledExcludeBalancers"
	ReasonNoLocalEndpoints           Reason = "noLocalEndpoints"
	ReasonNoEndpoints                Reason = "noEndpoints"
	ReasonNoPeers                    Reason = "noPeers"
)

// ServiceAnnouncement says where a service's IPs are announced.
type ServiceAnnouncement struct {
	Service types.NamespacedName
	// IPs are the ingress IPs considered, as written in the status.
	IPs []string
	// Pool is the IPAddressPool holding every IP, "" when none does.
	Pool string
	// Nodes announcing the service, sorted.
	Nodes []string
	// NodePeers[i] numbers the set of BGPPeers Nodes[i] sends the service
	// to: Result.PeerSets[NodePeers[i]].
	NodePeers []int32
	// NotAnnounced maps each speaker node that does not announce the service
	// to the reason. When the reason is the same for every node (no IP, no
	// pool, no endpoints) Reason is set and NotAnnounced may be empty.
	NotAnnounced map[string]Reason
	Reason       Reason
}

// PeerSummary is what BGPPeer status shows.
type PeerSummary struct {
	Name string
	// Nodes whose configuration has this peer, sorted.
	Nodes []string
	// HeldNodes are the held speaker nodes the peer selects, sorted: they
	// keep their last good configuration, which may have the peer.
	HeldNodes []string
	// VRF, Address and Interface identify the peer's neighbor in an
	// FRRConfiguration (as frr-k8s does), so that a stored configuration
	// can be read back in terms of BGPPeers.
	VRF, Address, Interface string
}

// AdvertisementSummary is what BGPAdvertisement status shows.
type AdvertisementSummary struct {
	Name string
	// ServiceIPs is the number of distinct service IPs announced through it.
	ServiceIPs int
	// Prefixes is the number of distinct prefixes it produced.
	Prefixes int
}
