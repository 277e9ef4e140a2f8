package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
)

// DynamicASNMode lets the peer's ASN be learnt from the session instead of set.
// +kubebuilder:validation:Enum=internal;external
// +kubebuilder:validation:MaxLength=8
type DynamicASNMode string

const (
	// InternalASNMode accepts only a peer whose ASN equals myASN (iBGP).
	InternalASNMode DynamicASNMode = "internal"
	// ExternalASNMode accepts only a peer whose ASN differs from myASN (eBGP).
	ExternalASNMode DynamicASNMode = "external"
)

// BGPPeerSpec describes one BGP session that the selected nodes open.
//
// The rules below mirror what MetalLB and frr-k8s check for a single object, so
// that mistakes are refused by kubectl instead of surfacing later in a log.
// +kubebuilder:validation:XValidation:rule="!(has(self.peerAddress) && size(self.peerAddress) > 0 && has(self.interface) && size(self.interface) > 0)",messageExpression="'peerAddress ' + self.peerAddress + ' and interface ' + self.interface + ' are mutually exclusive: set only one of them'",fieldPath=".interface"
// +kubebuilder:validation:XValidation:rule="(has(self.peerAddress) && size(self.peerAddress) > 0) || (has(self.interface) && size(self.interface) > 0)",message="one of peerAddress and interface must be set",fieldPath=".peerAddress"
// +kubebuilder:validation:XValidation:rule="!(has(self.peerASN) && self.peerASN != 0 && has(self.dynamicASN) && size(self.dynamicASN) > 0)",messageExpression="'peerASN and dynamicASN ' + self.dynamicASN + ' are mutually exclusive: set only one of them'",fieldPath=".dynamicASN"
// +kubebuilder:validation:XValidation:rule="(has(self.peerASN) && self.peerASN != 0) || (has(self.dynamicASN) && size(self.dynamicASN) > 0)",message="one of peerASN and dynamicASN must be set",fieldPath=".peerASN"
// +kubebuilder:validation:XValidation:rule="!(has(self.password) && size(self.password) > 0 && has(self.passwordSecret) && has(self.passwordSecret.name) && size(self.passwordSecret.name) > 0)",message="password and passwordSecret are mutually exclusive: set only one of them",fieldPath=".passwordSecret"
// +kubebuilder:validation:XValidation:rule="!(has(self.ebgpMultiHop) && self.ebgpMultiHop && has(self.peerASN) && self.peerASN == self.myASN)",message="ebgpMultiHop cannot be set for an iBGP peer (peerASN equal to myASN)",fieldPath=".ebgpMultiHop"
// +kubebuilder:validation:XValidation:rule="!has(self.holdTime) || !has(self.keepaliveTime) || !self.holdTime.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$') || !self.keepaliveTime.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$') || duration(self.keepaliveTime) <= duration(self.holdTime)",messageExpression="'keepaliveTime ' + self.keepaliveTime + ' must not be greater than holdTime ' + self.holdTime",fieldPath=".keepaliveTime"
// +kubebuilder:validation:XValidation:rule="has(self.holdTime) || !has(self.keepaliveTime) || !self.keepaliveTime.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$') || duration(self.keepaliveTime) == duration('0s') || (duration(self.keepaliveTime) >= duration('1s') && duration(self.keepaliveTime) <= duration('21845s'))",messageExpression="'invalid keepaliveTime ' + self.keepaliveTime + ': without holdTime it must be 0 or between 1s and 21845s (the derived holdTime, 3 x keepaliveTime, must be 0 or between 3s and 65535s)'",fieldPath=".keepaliveTime"
// +kubebuilder:validation:XValidation:rule="(has(self.enableGracefulRestart) && self.enableGracefulRestart) == (has(oldSelf.enableGracefulRestart) && oldSelf.enableGracefulRestart)",message="enableGracefulRestart cannot be changed after creation",fieldPath=".enableGracefulRestart"
type BGPPeerSpec struct {
	// The duration pattern admits only what has a whole number of
	// milliseconds (no us or ns, at most 3 decimals of s, 4 of m, 5 of h) and
	// cannot overflow Go's time.Duration, so that getMilliseconds() % 1000 is
	// an exact whole-seconds test and every admitted value decodes in Go.
	//
	// The rules above treat an empty string as unset. They test size() rather
	// than compare with an empty string literal: gofmt rewrites two apostrophes
	// in a doc comment into a typographic quote, which would break the rule.
	// Durations are matched against Go's duration syntax before duration()
	// parses them, so a malformed one gets a message naming the field instead
	// of a CEL type conversion error.

	// MyASN is the AS number of the node's end of the session.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	MyASN uint32 `json:"myASN"`

	// ASN is the AS number expected from the peer. Exactly one of peerASN and
	// dynamicASN must be set.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN,omitempty"`

	// DynamicASN accepts the peer's ASN from the session: internal (iBGP only)
	// or external (eBGP only).
	// +optional
	DynamicASN DynamicASNMode `json:"dynamicASN,omitempty"`

	// LocalASN is accepted for compatibility with MetalLB manifests. frr-k8s
	// v0.0.21 cannot express it, so frrgen reports a peer that sets it as invalid
	// instead of silently opening the session with another AS number.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	LocalASN uint32 `json:"localASN,omitempty"`

	// Address is the peer's IP address. Exactly one of peerAddress and
	// interface must be set.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self)",messageExpression="'invalid peerAddress ' + self + ': must be an IPv4 or IPv6 address'"
	// +kubebuilder:validation:XValidation:rule="!isIP(self) || !(ip(self).family() == 6 && ip(self).isLinkLocalUnicast())",messageExpression="'invalid peerAddress ' + self + ': an IPv6 link-local address needs an interface, which a numbered session cannot name; set interface instead (an unnumbered session)'"
	// +kubebuilder:validation:XValidation:rule="!isIP(self) || ip(self).isGlobalUnicast() || ip(self).isLoopback() || (ip(self).family() == 4 && ip(self).isLinkLocalUnicast())",messageExpression="'invalid peerAddress ' + self + ': must be a unicast address, not unspecified, multicast or broadcast'"
	Address string `json:"peerAddress,omitempty"`

	// Interface is the node interface for an unnumbered session.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || (self.matches('^[!-.0-9;-~]+$') && self != '.' && self != '..')",messageExpression="'invalid interface ' + self + ': a Linux interface name is 1-15 printable ASCII characters without spaces, / or :, and not . or ..'"
	Interface string `json:"interface,omitempty"`

	// SrcAddress is the local address the session is opened from.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self)",messageExpression="'invalid sourceAddress ' + self + ': must be an IPv4 or IPv6 address'"
	// +kubebuilder:validation:XValidation:rule="!isIP(self) || !(ip(self).family() == 6 && ip(self).isLinkLocalUnicast())",messageExpression="'invalid sourceAddress ' + self + ': an IPv6 link-local address needs an interface scope, which update-source cannot be given'"
	// +kubebuilder:validation:XValidation:rule="!isIP(self) || ip(self).isGlobalUnicast() || ip(self).isLoopback() || (ip(self).family() == 4 && ip(self).isLinkLocalUnicast())",messageExpression="'invalid sourceAddress ' + self + ': must be a unicast address, not unspecified, multicast or broadcast'"
	SrcAddress string `json:"sourceAddress,omitempty"`

	// Port is the peer's TCP port.
	// +optional
	// +kubebuilder:default:=179
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16384
	Port uint16 `json:"peerPort,omitempty"`

	// HoldTime is the BGP hold time: 0, or a whole number of seconds between 3s
	// and 65535s (FRR's range). When only one of holdTime and keepaliveTime is
	// set, the other is derived: keepalive = hold / 3 rounded down to whole
	// seconds (what frr-k8s renders), or hold = 3 x keepalive.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$')",messageExpression="'invalid holdTime ' + self + ': must be 0 or a whole number of seconds between 3s and 65535s, written as a duration in h, m, s or ms such as 90s or 1m30s'"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$') || (duration(self).getMilliseconds() % 1000 == 0 && (duration(self) == duration('0s') || (duration(self) >= duration('3s') && duration(self) <= duration('65535s'))))",messageExpression="'invalid holdTime ' + self + ': must be 0 or a whole number of seconds between 3s and 65535s'"
	HoldTime *metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the BGP keepalive interval: a whole number of seconds,
	// at most holdTime and at most 65535s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$')",messageExpression="'invalid keepaliveTime ' + self + ': must be a whole number of seconds between 0s and 65535s, written as a duration in h, m, s or ms such as 90s or 1m30s'"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$') || (duration(self).getMilliseconds() % 1000 == 0 && duration(self) <= duration('65535s'))",messageExpression="'invalid keepaliveTime ' + self + ': must be a whole number of seconds between 0s and 65535s'"
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`

	// ConnectTime is how long BGP waits between connection attempts: a whole
	// number of seconds between 1s and 65535s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$')",messageExpression="'invalid connectTime ' + self + ': must be a whole number of seconds between 1s and 65535s, written as a duration in h, m, s or ms such as 90s or 1m30s'"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,5})?h|[0-9]{1,5}([.][0-9]{1,4})?m|[0-9]{1,5}([.][0-9]{1,3})?s|[0-9]{1,8}ms)+)$') || (duration(self).getMilliseconds() % 1000 == 0 && duration(self) >= duration('1s') && duration(self) <= duration('65535s'))",messageExpression="'invalid connectTime ' + self + ': must be a whole number of seconds between 1s and 65535s'"
	ConnectTime *metav1.Duration `json:"connectTime,omitempty"`

	// RouterID is the BGP router ID; every peer of a node must use the same one.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 4",messageExpression="'invalid routerID ' + self + ': must be an IPv4 address'"
	// +kubebuilder:validation:XValidation:rule="!isIP(self) || !ip(self).isUnspecified()",message="invalid routerID 0.0.0.0: a BGP identifier must not be zero"
	RouterID string `json:"routerID,omitempty"`

	// NodeSelectors limit the nodes that open this session; empty means all.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	NodeSelectors []metallbv1beta1.LabelSelector `json:"nodeSelectors,omitempty"`

	// Password for TCP MD5 authentication, in clear text: at most 80
	// characters (the TCP-MD5 key limit), printable ASCII without spaces, as
	// frr.conf carries it on one line as one word.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:XValidation:rule="self.matches('^[!-~]+$')",message="invalid password: only printable ASCII characters without spaces are allowed (no control characters, whitespace or non-ASCII); the value is not shown"
	Password string `json:"password,omitempty"`

	// PasswordSecret names a kubernetes.io/basic-auth Secret, in the peer's
	// namespace, whose "password" key holds the TCP MD5 password.
	// +optional
	PasswordSecret SecretReference `json:"passwordSecret,omitempty"`

	// BFDProfile names the BFDProfile of the BFD session paired with this
	// session; empty means no BFD.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",messageExpression="'invalid bfdProfile ' + self + ': must be the name of a BFDProfile (lowercase letters, digits, - and ., at most 63 characters)'"
	BFDProfile string `json:"bfdProfile,omitempty"`

	// EnableGracefulRestart turns on BGP graceful restart (RFC 4724) for this
	// session. It cannot be changed after creation.
	// +optional
	EnableGracefulRestart bool `json:"enableGracefulRestart,omitempty"`

	// EBGPMultiHop allows an eBGP peer that is more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`

	// VRFName is the Linux VRF the session lives in; empty is the default VRF.
	// A VRF is a Linux interface, so the name follows Linux's rules.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || (self.matches('^[!-.0-9;-~]+$') && self != '.' && self != '..')",messageExpression="'invalid vrf ' + self + ': a Linux interface name is 1-15 printable ASCII characters without spaces, / or :, and not . or ..'"
	VRFName string `json:"vrf,omitempty"`

	// DisableMP is deprecated and has no effect with frr-k8s.
	// +optional
	// +kubebuilder:default:=false
	DisableMP bool `json:"disableMP,omitempty"`

	// DualStackAddressFamily activates both address families on the session, so
	// IPv4 and IPv6 service IPs are announced over it.
	// +optional
	// +kubebuilder:default:=false
	DualStackAddressFamily bool `json:"dualStackAddressFamily,omitempty"`
}

// SecretReference is corev1.SecretReference with the limits of object names,
// so that a name that cannot be a Secret's is refused at admission.
// +structType=atomic
type SecretReference struct {
	// Name of the Secret; empty means none, as when unset.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$`
	Name string `json:"name,omitempty"`
	// Namespace is ignored: the Secret is read from the peer's namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$`
	Namespace string `json:"namespace,omitempty"`
}

// BGPPeerStatus is what frrgen observed about a peer.
type BGPPeerStatus struct {
	// Conditions: Valid; Conflict when a user FRRConfiguration clashes
	// with the session frrgen generates for this peer; Written; and what
	// the nodes report: SessionsEstablished and Applied.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ConfiguredNodes is the number of nodes that run this session: those
	// given the current configuration, and those keeping a stored one
	// (held, in conflict, or after a failed write). Always written, so that
	// kubectl shows 0 rather than nothing.
	// +optional
	// +kubebuilder:default=0
	ConfiguredNodes int32 `json:"configuredNodes"`

	// EstablishedSessions is the number of those nodes whose frr-k8s
	// reports this session Established (BGPSessionState); the
	// SessionsEstablished condition names the others. Always written.
	// +optional
	// +kubebuilder:default=0
	EstablishedSessions int32 `json:"establishedSessions"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:metadata:labels="frrgen.io/schemas=frrgen"
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="ASN",type=string,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="BFD Profile",type=string,JSONPath=`.spec.bfdProfile`
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Nodes",type=integer,JSONPath=`.status.configuredNodes`
// +kubebuilder:printcolumn:name="Established",type=integer,JSONPath=`.status.establishedSessions`
// +kubebuilder:printcolumn:name="Conflict",type=string,JSONPath=`.status.conditions[?(@.type=="Conflict")].status`
// +kubebuilder:printcolumn:name="Applied",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Applied")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// BGPPeer is a BGP neighbor that the selected nodes peer with.
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BGPPeerSpec   `json:"spec,omitempty"`
	Status BGPPeerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BGPPeerList is a list of BGPPeer.
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BGPPeer{}, &BGPPeerList{})
}
