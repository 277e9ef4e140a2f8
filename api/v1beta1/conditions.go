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

// ConditionSessionsEstablished is the condition type frrgen sets on a
// BGPPeer from frr-k8s's BGPSessionState objects: True when every node that
// runs the peer reports the session Established, False naming the nodes
// where it is not (and their state), Unknown when some nodes report no
// session state at all.
const ConditionSessionsEstablished = "SessionsEstablished"

// Reasons used with ConditionSessionsEstablished.
const (
	ReasonSessionsEstablished = "Established"
	ReasonSessionsDown        = "SessionDown"
	ReasonSessionsNotReported = "NotReported"
)

// ConditionApplied is the condition type frrgen sets on a BGPPeer from
// frr-k8s's FRRNodeState objects: False when, on a node that runs the peer,
// frr-k8s's last conversion of the FRRConfigurations or FRR's last reload
// failed (the message has frr-k8s's error text), True otherwise.
const ConditionApplied = "Applied"

// Reasons used with ConditionApplied, and of the Warning Events on the
// Node and the BGPPeer.
const (
	ReasonApplied          = "Applied"
	ReasonConversionFailed = "ConversionFailed"
	ReasonReloadFailed     = "ReloadFailed"
	// ReasonSessionDown is the Warning Event of a session that was
	// established and no longer is.
	ReasonSessionDown = "SessionDown"
)
