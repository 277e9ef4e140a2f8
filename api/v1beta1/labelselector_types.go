package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// LabelSelector is metav1.LabelSelector, field for field and byte for byte on
// the wire, with the bounds admission needs: metav1's type carries no limits,
// so a CEL rule over its nested lists exceeds the apiserver's cost budget and
// a malformed selector (operator Foo, key "bad key!", In without values) was
// admitted. frrgen's translation re-checks every selector the same way
// (metav1.LabelSelectorAsSelector), for input that never passed admission.
// +structType=atomic
type LabelSelector struct {
	// MatchLabels is a map of label keys and values, each an "In" with one value.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",message="invalid label key in matchLabels: a key is an optional DNS subdomain prefix and /, then a name of at most 63 characters [A-Za-z0-9_.-] starting and ending with a letter or digit"
	MatchLabels map[string]LabelValue `json:"matchLabels,omitempty"`

	// MatchExpressions is a list of label selector requirements, ANDed.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is metav1.LabelSelectorRequirement with bounds.
// +kubebuilder:validation:XValidation:rule="!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",messageExpression="'operator ' + self.operator + ' needs at least one value'",fieldPath=".values"
// +kubebuilder:validation:XValidation:rule="!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",messageExpression="'operator ' + self.operator + ' takes no values'",fieldPath=".values"
type LabelSelectorRequirement struct {
	// Key is the label key the selector applies to.
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="!format.qualifiedName().validate(self).hasValue()",messageExpression="'invalid label key ' + self + ': a key is an optional DNS subdomain prefix and /, then a name of at most 63 characters [A-Za-z0-9_.-] starting and ending with a letter or digit'"
	Key string `json:"key"`

	// Operator is In, NotIn, Exists or DoesNotExist.
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
	Operator metav1.LabelSelectorOperator `json:"operator"`

	// Values: non-empty for In and NotIn, empty for Exists and DoesNotExist.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
	Values []string `json:"values,omitempty"`
}

// LabelValue is a Kubernetes label value: empty, or at most 63 characters
// [A-Za-z0-9_.-] starting and ending with a letter or digit. A pattern, not
// CEL: a CEL rule on every value of every selector exceeds the cost budget.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
type LabelValue string

// AsMeta returns the selector as the apimachinery type, which labels and
// the frr-k8s API use.
func (s *LabelSelector) AsMeta() *metav1.LabelSelector {
	out := &metav1.LabelSelector{}
	if s.MatchLabels != nil {
		out.MatchLabels = make(map[string]string, len(s.MatchLabels))
		for k, v := range s.MatchLabels {
			out.MatchLabels[k] = string(v)
		}
	}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: e.Operator, Values: append([]string(nil), e.Values...),
		})
	}
	return out
}
