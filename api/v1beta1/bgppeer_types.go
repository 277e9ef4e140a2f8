package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BGPPeerSpec is the deprecated metallb.io/v1beta1 form of a BGP peer, with
// the fields MetalLB v0.15 serves in that version: a subset of v1beta2's,
// with the same names and JSON shapes, so the apiserver converts it to the
// stored v1beta2 without a webhook (conversion strategy None).
//
// MetalLB's conversion webhook turns an unset holdTime or keepaliveTime into
// 0s (it copies the non-pointer v1beta1 value into v1beta2's pointer), so the
// defaults below make a v1beta1 write mean what it means on MetalLB's own CRDs;
// v1beta2.FromV1beta1 does the same for render. Only simple bounds are checked
// here: a v1beta1 object skips v1beta2's rules at admission, and translate
// checks every value again.
type BGPPeerSpec struct {
	// MyASN is the AS number of the node's end of the session.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	MyASN uint32 `json:"myASN"`

	// ASN is the AS number expected from the peer.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN"`

	// Address is the peer's IP address.
	// +kubebuilder:validation:MaxLength=64
	Address string `json:"peerAddress"`

	// SrcAddress is the local address the session is opened from.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SrcAddress string `json:"sourceAddress,omitempty"`

	// Port is the peer's TCP port.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16384
	Port uint16 `json:"peerPort,omitempty"`

	// HoldTime is the BGP hold time; unset means 0s, as on MetalLB.
	// +optional
	// +kubebuilder:default:="0s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	HoldTime metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the BGP keepalive interval; unset means 0s, as on MetalLB.
	// +optional
	// +kubebuilder:default:="0s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	KeepaliveTime metav1.Duration `json:"keepaliveTime,omitempty"`

	// RouterID is the BGP router ID.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	RouterID string `json:"routerID,omitempty"`

	// NodeSelectors limit the nodes that open this session; empty means all.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	NodeSelectors []LabelSelector `json:"nodeSelectors,omitempty"`

	// Password for TCP MD5 authentication, in clear text.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	Password string `json:"password,omitempty"`

	// BFDProfile names the BFDProfile of the paired BFD session.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	BFDProfile string `json:"bfdProfile,omitempty"`

	// EBGPMultiHop allows an eBGP peer that is more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion:warning="metallb.io/v1beta1 BGPPeer is deprecated; use metallb.io/v1beta2"
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="ASN",type=string,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// BGPPeer is the deprecated metallb.io/v1beta1 version of a BGP peer. frrgen
// serves it so that MetalLB's controller, which watches it, starts on
// frrgen's CRDs, and so that old manifests apply; frrgen itself reads v1beta2.
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BGPPeerSpec `json:"spec,omitempty"`
	// Status is written through v1beta2 only.
	// +optional
	Status BGPPeerStatus `json:"status,omitempty"`
}

// BGPPeerStatus is empty: frrgen reports a peer's status in v1beta2.
type BGPPeerStatus struct{}

// +kubebuilder:object:root=true

// BGPPeerList is a list of metallb.io/v1beta1 BGPPeer.
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BGPPeer{}, &BGPPeerList{})
}
