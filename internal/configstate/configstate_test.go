package configstate

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

func diagnostic(kind, name string, problems ...string) translate.ObjectDiagnostic {
	d := translate.ObjectDiagnostic{Ref: translate.ObjectRef{Kind: kind, Namespace: "metallb-system", Name: name}}
	for _, p := range problems {
		d.Problems = append(d.Problems, translate.Problem{Message: p})
	}
	return d
}

func TestFromDiagnostics(t *testing.T) {
	valid := FromDiagnostics([]translate.ObjectDiagnostic{diagnostic(translate.KindBGPPeer, "peer")})
	if valid.Result != ResultValid || valid.ErrorSummary != "" || valid.Condition.Status != metav1.ConditionTrue || valid.Condition.Reason != ReasonReconciled {
		t.Errorf("all valid: %+v", valid)
	}
	if empty := FromDiagnostics(nil); empty != valid {
		t.Errorf("no objects: %+v, want %+v", empty, valid)
	}

	got := FromDiagnostics([]translate.ObjectDiagnostic{
		diagnostic(translate.KindBGPPeer, "peer"),
		diagnostic(translate.KindCommunity, "communities", `spec.communities[0].value "65535:x" is not a community`),
		diagnostic(translate.KindBGPAdvertisement, "local", "a", "b"),
	})
	wantSummary := "Community metallb-system/communities: spec.communities[0].value \"65535:x\" is not a community\n" +
		"BGPAdvertisement metallb-system/local: a; b"
	if got.Result != ResultInvalid || got.ErrorSummary != wantSummary {
		t.Errorf("result %q, summary %q; want Invalid, %q", got.Result, got.ErrorSummary, wantSummary)
	}
	c := got.Condition
	if c.Type != ConditionType || c.Status != metav1.ConditionFalse || c.Reason != ReasonConfigurationError || !strings.HasPrefix(c.Message, "2 invalid metallb.io object(s)") || !strings.HasSuffix(c.Message, wantSummary) {
		t.Errorf("condition %+v", c)
	}
}

func TestFromDiagnosticsBoundsTheSummary(t *testing.T) {
	var objects []translate.ObjectDiagnostic
	for i := range 25 {
		objects = append(objects, diagnostic(translate.KindBFDProfile, fmt.Sprintf("p%02d", i), "bad"))
	}
	got := FromDiagnostics(objects)
	lines := strings.Split(got.ErrorSummary, "\n")
	if len(lines) != maxListed+1 || lines[maxListed] != "and 5 more invalid objects" || !strings.HasPrefix(got.Condition.Message, "25 invalid") {
		t.Errorf("%d lines, last %q; condition %q", len(lines), lines[len(lines)-1], got.Condition.Message)
	}
}
