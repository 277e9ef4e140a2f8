package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ServiceBGPStatus is MetalLB's per-node record of a service's BGP
// announcement, with the status fields MetalLB's speakers fill. frrgen
// writes it in MetalLB's place (see --service-bgp-status); frrgen's CRD
// serves it so that MetalLB's controller (v0.15), which watches the kind,
// runs on frrgen's CRDs too.

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:metadata:labels="frrgen.io/schemas=frrgen"
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.status.node`
// +kubebuilder:printcolumn:name="Service Name",type=string,JSONPath=`.status.serviceName`
// +kubebuilder:printcolumn:name="Service Namespace",type=string,JSONPath=`.status.serviceNamespace`

// ServiceBGPStatus says to which BGPPeers one node announces one service.
type ServiceBGPStatus struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is empty in MetalLB's schema; kept as written.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Spec runtime.RawExtension `json:"spec,omitempty"`
	// +optional
	Status ServiceBGPStatusStatus `json:"status,omitempty"`
}

// ServiceBGPStatusStatus holds MetalLB's fields (metallb.io/v1beta1,
// MetalLB v0.15).
type ServiceBGPStatusStatus struct {
	// Node is the node announcing the service.
	// +optional
	Node string `json:"node,omitempty"`
	// ServiceName is the name of the service.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// ServiceNamespace is the namespace of the service.
	// +optional
	ServiceNamespace string `json:"serviceNamespace,omitempty"`
	// Peers are the BGPPeers the node is configured to send the service
	// to (whether a session is up is not said here).
	// +optional
	Peers []string `json:"peers,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceBGPStatusList is a list of ServiceBGPStatus.
type ServiceBGPStatusList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceBGPStatus `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ServiceBGPStatus{}, &ServiceBGPStatusList{})
}
