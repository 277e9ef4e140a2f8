package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// CommunityRef is a BGP community in one of three spellings: "a:b" with two
// 16-bit numbers, "large:a:b:c" with three 32-bit numbers, or the name of an
// alias defined in a Community object. A value with two or four ':'-separated
// parts must be a well-formed standard or large community; anything else is
// taken as an alias name and resolved when frrgen builds the configuration.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=100
// +kubebuilder:validation:XValidation:rule="self.split(':').size() != 2 || (self.matches('^[0-9]{1,5}:[0-9]{1,5}$') && int(self.split(':')[0]) <= 65535 && int(self.split(':')[1]) <= 65535)",messageExpression="'invalid community ' + self + ': a standard community is two numbers 0-65535 separated by a colon, such as 65535:65282'"
// +kubebuilder:validation:XValidation:rule="self.split(':').size() != 4 || (self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && int(self.split(':')[1]) <= 4294967295 && int(self.split(':')[2]) <= 4294967295 && int(self.split(':')[3]) <= 4294967295)",messageExpression="'invalid community ' + self + ': a large community is large:<a>:<b>:<c> with numbers 0-4294967295'"
// +kubebuilder:validation:XValidation:rule="self.matches('^[!-~]+$')",messageExpression="'invalid community ' + self + ': only printable ASCII characters without spaces are allowed'"
type CommunityRef string

// BGPAdvertisementSpec says how the service IPs of some pools are announced.
// +kubebuilder:validation:XValidation:rule="!has(self.serviceSelectors) || size(self.serviceSelectors) == 0 || ((!has(self.aggregationLength) || self.aggregationLength == 32) && (!has(self.aggregationLengthV6) || self.aggregationLengthV6 == 128))",message="serviceSelectors can only be used with the default aggregationLength (32) and aggregationLengthV6 (128)",fieldPath=".serviceSelectors"
type BGPAdvertisementSpec struct {
	// AggregationLength is the prefix length IPv4 service IPs are masked to.
	// +optional
	// +kubebuilder:default:=32
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32
	AggregationLength *int32 `json:"aggregationLength,omitempty"`

	// AggregationLengthV6 is the prefix length IPv6 service IPs are masked to.
	// +optional
	// +kubebuilder:default:=128
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=128
	AggregationLengthV6 *int32 `json:"aggregationLengthV6,omitempty"`

	// LocalPref is the BGP LOCAL_PREF attached to the announced prefixes; 0 means none.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	LocalPref uint32 `json:"localPref,omitempty"`

	// Communities attached to the announced prefixes.
	// +optional
	// +kubebuilder:validation:MaxItems=63
	// +listType=set
	Communities []CommunityRef `json:"communities,omitempty"`

	// IPAddressPools names the pools this advertisement applies to.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	IPAddressPools []string `json:"ipAddressPools,omitempty"`

	// IPAddressPoolSelectors select further pools by label. When both this and
	// ipAddressPools are empty, the advertisement applies to every pool.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	IPAddressPoolSelectors []LabelSelector `json:"ipAddressPoolSelectors,omitempty"`

	// NodeSelectors limit the nodes that announce the service IPs; empty means all.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	NodeSelectors []LabelSelector `json:"nodeSelectors,omitempty"`

	// Peers names the BGPPeers the service IPs are announced to; empty means all.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	Peers []string `json:"peers,omitempty"`

	// ServiceSelectors limit the services whose IPs are announced; empty means all.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	ServiceSelectors []LabelSelector `json:"serviceSelectors,omitempty"`
}

// BGPAdvertisementStatus is what frrgen observed about an advertisement.
type BGPAdvertisementStatus struct {
	ObjectStatus `json:",inline"`

	// ServiceIPs is the number of service IPs this advertisement announces.
	// Always written, so that kubectl shows 0 rather than nothing.
	// +optional
	// +kubebuilder:default=0
	ServiceIPs int32 `json:"serviceIPs"`

	// Prefixes is the number of distinct prefixes this advertisement announces.
	// +optional
	// +kubebuilder:default=0
	Prefixes int32 `json:"prefixes"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:metadata:labels="frrgen.io/schemas=frrgen"
// +kubebuilder:printcolumn:name="Pools",type=string,JSONPath=`.spec.ipAddressPools`
// +kubebuilder:printcolumn:name="Peers",type=string,JSONPath=`.spec.peers`
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="References",type=string,JSONPath=`.status.conditions[?(@.type=="ReferencesResolved")].status`
// +kubebuilder:printcolumn:name="Service IPs",type=integer,JSONPath=`.status.serviceIPs`
// +kubebuilder:printcolumn:name="Prefixes",type=integer,JSONPath=`.status.prefixes`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// BGPAdvertisement announces the service IPs of some pools over BGP, with
// optional aggregation, LOCAL_PREF and communities.
type BGPAdvertisement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BGPAdvertisementSpec   `json:"spec,omitempty"`
	Status BGPAdvertisementStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BGPAdvertisementList is a list of BGPAdvertisement.
type BGPAdvertisementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPAdvertisement `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BGPAdvertisement{}, &BGPAdvertisementList{})
}
