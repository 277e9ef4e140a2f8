package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConditionValid is the condition type frrgen sets on every input object: True
// when the object is usable, False with a message naming the field and value
// when it is not.
const ConditionValid = "Valid"

// Reasons used with ConditionValid.
const (
	ReasonValid   = "Valid"
	ReasonInvalid = "Invalid"
)

// ObjectStatus is the status shared by every metallb.io kind frrgen reads.
type ObjectStatus struct {
	// Conditions describe what frrgen concluded about this object.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ConditionConflict is the condition type frrgen sets on a BGPPeer: True when
// a user FRRConfiguration clashes with the session frrgen generates for the
// peer on some node (that node keeps its last good configuration), False
// otherwise. The message names the other FRRConfiguration and the field.
const ConditionConflict = "Conflict"

// Reasons used with ConditionConflict.
const (
	ReasonConflict   = "ConflictingFRRConfiguration"
	ReasonNoConflict = "NoConflict"
)

// ConditionWritten is the condition type frrgen sets on a BGPPeer: False when
// the FRRConfiguration of one of the peer's nodes could not be written (too
// large, forbidden, any API error); that node keeps its previous one.
const ConditionWritten = "Written"

// Reasons used with ConditionWritten.
const (
	ReasonWritten     = "Written"
	ReasonWriteFailed = "WriteFailed"
)

// ConditionReferencesResolved is the condition type frrgen sets on a
// BGPAdvertisement: False when it names an IPAddressPool or a BGPPeer that
// does not exist (MetalLB ignores the name; the object stays Valid), with a
// message naming each; True otherwise.
const ConditionReferencesResolved = "ReferencesResolved"

// Reasons used with ConditionReferencesResolved.
const (
	ReasonReferencesResolved = "ReferencesResolved"
	ReasonMissingReference   = "MissingReference"
)
