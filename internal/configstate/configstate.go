// Package configstate computes what frrgen reports in MetalLB's
// ConfigurationState (metallb.io/v1beta1, MetalLB v0.15.3 and later) when it
// runs alongside MetalLB: whether the metallb.io objects it translates are
// valid, in the fields and vocabulary MetalLB's own components use. It is
// pure; the controller writes the result.
package configstate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// Name is frrgen's ConfigurationState, in the MetalLB namespace, beside
// MetalLB's "controller" and "speaker-<node>".
const Name = "frrgen"

// Labels of frrgen's ConfigurationState. frrgen plays the speakers' part, so
// its component type is MetalLB's "speaker"; there is no node label, as one
// object covers every node.
func Labels() map[string]string {
	return map[string]string{"metallb.io/component-type": "speaker", translate.LabelManagedBy: translate.ManagedByValue}
}

// The values MetalLB's components write (status.result, a condition's
// reason), so that tools reading MetalLB's objects read frrgen's the same way.
const (
	ResultValid   = "Valid"
	ResultInvalid = "Invalid"

	// ConditionType is frrgen's one condition, like MetalLB's per-reconciler
	// "configReconcilerValid".
	ConditionType = "frrgenTranslationValid"

	ReasonConfigurationError = "ConfigurationError"
	ReasonReconciled         = "Reconciled"
)

// maxListed bounds how many invalid objects the summary names: the object
// must stay far below the apiserver's size limit whatever the input.
const maxListed = 20

// Status is the status of frrgen's ConfigurationState.
type Status struct {
	Result       string
	ErrorSummary string
	Condition    metav1.Condition
}

// FromDiagnostics reports the objects translate found invalid (in the order
// given, which translate sorts): one line per object naming its kind, name
// and problems; Valid when there is none.
func FromDiagnostics(objects []translate.ObjectDiagnostic) Status {
	var lines []string
	invalid := 0
	for _, o := range objects {
		if len(o.Problems) == 0 {
			continue
		}
		invalid++
		if len(lines) < maxListed {
			messages := make([]string, len(o.Problems))
			for i, p := range o.Problems {
				messages[i] = p.Message
			}
			lines = append(lines, fmt.Sprintf("%s %s/%s: %s", o.Ref.Kind, o.Ref.Namespace, o.Ref.Name, strings.Join(messages, "; ")))
		}
	}
	if invalid == 0 {
		return Status{Result: ResultValid, Condition: metav1.Condition{
			Type: ConditionType, Status: metav1.ConditionTrue, Reason: ReasonReconciled,
			Message: "frrgen translates every metallb.io object."}}
	}
	if invalid > maxListed {
		lines = append(lines, fmt.Sprintf("and %d more invalid objects", invalid-maxListed))
	}
	summary := strings.Join(lines, "\n")
	return Status{Result: ResultInvalid, ErrorSummary: summary, Condition: metav1.Condition{
		Type: ConditionType, Status: metav1.ConditionFalse, Reason: ReasonConfigurationError,
		Message: fmt.Sprintf("%d invalid metallb.io object(s); the nodes they could change keep their last good configuration.\n%s", invalid, summary)}}
}
