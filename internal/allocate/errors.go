package allocate

import "fmt"

// Reason says why a Service got no address, in terms a user can act on.
type Reason string

const (
	// ReasonNoMatchingPool: no pool may serve the Service (none of its
	// family, autoAssign false, serviceAllocation, or an unknown pool named
	// in the address-pool annotation).
	ReasonNoMatchingPool Reason = "NoMatchingPool"
	// ReasonPoolExhausted: pools may serve it, but none has a free address.
	ReasonPoolExhausted Reason = "PoolExhausted"
	// ReasonNotInPool: a requested address is in no pool, or in no pool the
	// Service may use.
	ReasonNotInPool Reason = "RequestedIPNotInPool"
	// ReasonSharingConflict: the address is used by another Service that it
	// may not share with (Error.Other names it).
	ReasonSharingConflict Reason = "SharingConflict"
	// ReasonInvalidRequest: the Service's own fields contradict each other
	// or cannot be read (the message names the field and the value).
	ReasonInvalidRequest Reason = "InvalidRequest"
)

// Error is a failed assignment.
type Error struct {
	Reason Reason
	// Other is the Service ("namespace/name") in the way, for
	// ReasonSharingConflict.
	Other   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func fail(reason Reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
