package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// CommunitySpec defines community aliases.
type CommunitySpec struct {
	// Communities are the aliases, each a name and a community value.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	// +listType=map
	// +listMapKey=name
	Communities []CommunityAlias `json:"communities,omitempty"`
}

// CommunityAlias gives a name to a BGP community value.
type CommunityAlias struct {
	// Name is the alias used in BGPAdvertisement.spec.communities. It must
	// not have the shape of a community value (two or four ':'-separated
	// parts): an alias named 65535:65282 would silently replace the literal.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="self.matches('^[!-~]+$')",messageExpression="'invalid alias name ' + self + ': only printable ASCII characters without spaces are allowed'"
	// +kubebuilder:validation:XValidation:rule="self.split(':').size() != 2 && self.split(':').size() != 4",messageExpression="'invalid alias name ' + self + ': a name with two or four :-separated parts is read as a community value (a:b or large:a:b:c), so the alias would shadow a literal; choose a name without that shape'"
	Name string `json:"name"`

	// Value is "a:b" (two numbers 0-65535) or "large:a:b:c" (three numbers 0-4294967295).
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="(self.matches('^[0-9]{1,5}:[0-9]{1,5}$') && int(self.split(':')[0]) <= 65535 && int(self.split(':')[1]) <= 65535) || (self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && int(self.split(':')[1]) <= 4294967295 && int(self.split(':')[2]) <= 4294967295 && int(self.split(':')[3]) <= 4294967295)",messageExpression="'invalid community value ' + self + ': must be a:b with numbers 0-65535 or large:a:b:c with numbers 0-4294967295'"
	Value string `json:"value"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:metadata:labels="frrgen.io/schemas=frrgen"
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Community defines names for BGP community values.
type Community struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CommunitySpec `json:"spec,omitempty"`
	Status ObjectStatus  `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CommunityList is a list of Community.
type CommunityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Community `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Community{}, &CommunityList{})
}
