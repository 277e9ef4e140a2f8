package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// IPAddressRange is a CIDR (host bits allowed, they are masked) or an
// inclusive range "first-last" of addresses of one family. The order of an
// IPv4 range is checked here; CEL cannot compare IPv6 addresses, so a
// reversed IPv6 range is left to frrgen's translation, which rejects it.
// +kubebuilder:validation:MaxLength=100
// +kubebuilder:validation:XValidation:rule="isCIDR(self) || (self.split('-').size() == 2 && isIP(self.split('-')[0].trim()) && isIP(self.split('-')[1].trim()) && ip(self.split('-')[0].trim()).family() == ip(self.split('-')[1].trim()).family())",messageExpression="'invalid address range ' + self + ': must be a CIDR such as 192.0.2.0/24 or a range such as 192.0.2.10-192.0.2.20'"
// +kubebuilder:validation:XValidation:rule="!(self.split('-').size() == 2 && isIP(self.split('-')[0].trim()) && isIP(self.split('-')[1].trim()) && ip(self.split('-')[0].trim()).family() == 4 && ip(self.split('-')[1].trim()).family() == 4) || int(self.split('-')[0].trim().split('.')[0]) * 16777216 + int(self.split('-')[0].trim().split('.')[1]) * 65536 + int(self.split('-')[0].trim().split('.')[2]) * 256 + int(self.split('-')[0].trim().split('.')[3]) <= int(self.split('-')[1].trim().split('.')[0]) * 16777216 + int(self.split('-')[1].trim().split('.')[1]) * 65536 + int(self.split('-')[1].trim().split('.')[2]) * 256 + int(self.split('-')[1].trim().split('.')[3])",messageExpression="'invalid address range ' + self + ': the first address is after the last'"
type IPAddressRange string

// IPAddressPoolSpec lists the addresses of a pool.
type IPAddressPoolSpec struct {
	// Addresses are the CIDRs and ranges of the pool. An entry may not repeat
	// another (listType set), and two CIDR entries may not overlap; overlaps
	// that involve a range, or another pool, are refused by frrgen's
	// translation (CEL has no range arithmetic within its cost budget).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=128
	// +listType=set
	// +kubebuilder:validation:XValidation:rule="self.all(a, !isCIDR(a) || self.all(b, a == b || !isCIDR(b) || !cidr(a).masked().containsCIDR(cidr(b).masked())))",message="two CIDR entries of addresses overlap (one contains the other); a service IP must belong to exactly one entry"
	Addresses []IPAddressRange `json:"addresses"`

	// AutoAssign lets the allocator hand out addresses of this pool without an
	// explicit request. It does not change what is announced.
	// +optional
	// +kubebuilder:default:=true
	AutoAssign *bool `json:"autoAssign,omitempty"`

	// AvoidBuggyIPs makes the allocator skip .0 and .255 addresses.
	// +optional
	// +kubebuilder:default:=false
	AvoidBuggyIPs bool `json:"avoidBuggyIPs,omitempty"`

	// ServiceAllocation restricts which services may take addresses of this pool.
	// Allocation only; frrgen accepts it for compatibility.
	// +optional
	ServiceAllocation *ServiceAllocation `json:"serviceAllocation,omitempty"`
}

// ServiceAllocation restricts allocation of a pool to some services.
type ServiceAllocation struct {
	// Priority orders pools when several match a service (lower first).
	// +optional
	Priority int `json:"priority,omitempty"`

	// Namespaces whose services may use the pool.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	Namespaces []string `json:"namespaces,omitempty"`

	// NamespaceSelectors select namespaces whose services may use the pool.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	NamespaceSelectors []LabelSelector `json:"namespaceSelectors,omitempty"`

	// ServiceSelectors select services that may use the pool.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	ServiceSelectors []LabelSelector `json:"serviceSelectors,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:metadata:labels="frrgen.io/schemas=frrgen"
// +kubebuilder:printcolumn:name="Addresses",type=string,JSONPath=`.spec.addresses`
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// IPAddressPool is a set of addresses that LoadBalancer services take their
// ingress IPs from. frrgen uses pools to find the advertisements of a service IP.
type IPAddressPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   IPAddressPoolSpec   `json:"spec"`
	Status IPAddressPoolStatus `json:"status,omitempty"`
}

// IPAddressPoolStatus is the Valid condition and, when frrgen allocates
// (standalone mode), the address counts MetalLB's pools show.
type IPAddressPoolStatus struct {
	ObjectStatus `json:",inline"`

	// AssignedIPv4 is the number of IPv4 addresses assigned to Services (a
	// shared address counts once).
	// +optional
	AssignedIPv4 *int64 `json:"assignedIPv4,omitempty"`
	// AssignedIPv6 is the number of IPv6 addresses assigned to Services.
	// +optional
	AssignedIPv6 *int64 `json:"assignedIPv6,omitempty"`
	// AvailableIPv4 is the number of IPv4 addresses still free.
	// +optional
	AvailableIPv4 *int64 `json:"availableIPv4,omitempty"`
	// AvailableIPv6 is the number of IPv6 addresses still free.
	// +optional
	AvailableIPv6 *int64 `json:"availableIPv6,omitempty"`
}

// +kubebuilder:object:root=true

// IPAddressPoolList is a list of IPAddressPool.
type IPAddressPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAddressPool `json:"items"`
}

func init() {
	SchemeBuilder.Register(&IPAddressPool{}, &IPAddressPoolList{})
}
