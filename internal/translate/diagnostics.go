package translate

import (
	"cmp"
	"fmt"
	"slices"
)

// Kinds of the input objects, as they appear in ObjectRef.Kind.
const (
	KindIPAddressPool    = "IPAddressPool"
	KindBGPAdvertisement = "BGPAdvertisement"
	KindCommunity        = "Community"
	KindBFDProfile       = "BFDProfile"
	KindBGPPeer          = "BGPPeer"
)

// diagnostics collects the verdict on every input object.
type diagnostics struct {
	byRef map[ObjectRef]*ObjectDiagnostic
	// seen drops repeats: a cross-object problem found on several nodes is
	// reported once.
	seen map[ObjectRef]map[string]bool
}

func newDiagnostics() *diagnostics {
	return &diagnostics{byRef: map[ObjectRef]*ObjectDiagnostic{}, seen: map[ObjectRef]map[string]bool{}}
}

// register makes an object appear in the result even when it has no problem.
func (d *diagnostics) register(ref ObjectRef, generation int64) {
	if _, ok := d.byRef[ref]; !ok {
		d.byRef[ref] = &ObjectDiagnostic{Ref: ref, Generation: generation}
	}
}

// problem records that ref cannot be used. The message is prefixed with the
// object and the field, so it reads on its own in a log or an event:
// "BGPPeer metallb-system/p: spec.holdTime: ...".
func (d *diagnostics) problem(ref ObjectRef, field, value, format string, args ...any) {
	d.add(ref, field, value, fmt.Sprintf(format, args...), false, false)
}

// warning records something worth telling that does not make ref invalid.
func (d *diagnostics) warning(ref ObjectRef, field, value, format string, args ...any) {
	d.add(ref, field, value, fmt.Sprintf(format, args...), true, false)
}

// missingReference is a warning that ref names an object that does not exist.
func (d *diagnostics) missingReference(ref ObjectRef, field, value, format string, args ...any) {
	d.add(ref, field, value, fmt.Sprintf(format, args...), true, true)
}

func (d *diagnostics) add(ref ObjectRef, field, value, text string, warning, missingReference bool) {
	msg := ref.String() + ": " + field + ": " + text
	if d.seen[ref] == nil {
		d.seen[ref] = map[string]bool{}
	}
	if d.seen[ref][msg] {
		return
	}
	d.seen[ref][msg] = true
	d.register(ref, 0)
	p := Problem{Field: field, Value: value, Message: msg, MissingReference: missingReference}
	if warning {
		d.byRef[ref].Warnings = append(d.byRef[ref].Warnings, p)
	} else {
		d.byRef[ref].Problems = append(d.byRef[ref].Problems, p)
	}
}

func (d *diagnostics) hasProblems(ref ObjectRef) bool {
	od, ok := d.byRef[ref]
	return ok && len(od.Problems) > 0
}

func (d *diagnostics) valid() bool {
	for _, od := range d.byRef {
		if len(od.Problems) > 0 {
			return false
		}
	}
	return true
}

// sorted returns the diagnostics ordered by kind, namespace and name, each
// object's problems ordered by field then message.
func (d *diagnostics) sorted() []ObjectDiagnostic {
	out := make([]ObjectDiagnostic, 0, len(d.byRef))
	for _, od := range d.byRef {
		byField := func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Message, b.Message))
		}
		slices.SortFunc(od.Problems, byField)
		slices.SortFunc(od.Warnings, byField)
		out = append(out, *od)
	}
	slices.SortFunc(out, func(a, b ObjectDiagnostic) int { return compareRefs(a.Ref, b.Ref) })
	return out
}

func compareRefs(a, b ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}
