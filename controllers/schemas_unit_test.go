package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// The memory behind Events on transitions for kinds whose status frrgen
// does not write: same object, its conditions; a recreated one (new UID)
// starts empty; an object gone for a pass is forgotten.
func TestUnwrittenConditions(t *testing.T) {
	u := newUnwrittenConditions()
	ref := translate.ObjectRef{Kind: translate.KindCommunity, Namespace: "metallb-system", Name: "c"}
	invalid := []metav1.Condition{{Type: "Valid", Status: metav1.ConditionFalse, Message: "bad"}}

	u.startPass()
	if got := u.get(ref, "uid-1"); got != nil {
		t.Fatalf("first pass: %v, want none", got)
	}
	u.set(ref, "uid-1", invalid)
	u.endPass()

	u.startPass()
	got := u.get(ref, "uid-1")
	if len(got) != 1 || got[0].Message != "bad" {
		t.Fatalf("second pass: %v, want the remembered condition", got)
	}
	got[0].Message = "changed by the caller"
	if again := u.get(ref, "uid-1"); again[0].Message != "bad" {
		t.Errorf("get returned the stored slice, not a copy")
	}
	if got := u.get(ref, "uid-2"); got != nil {
		t.Errorf("recreated object: %v, want none", got)
	}
	u.endPass()

	u.startPass() // the object is not listed in this pass
	u.endPass()
	u.startPass()
	if got := u.get(ref, "uid-1"); got != nil {
		t.Errorf("after a pass without the object: %v, want it forgotten", got)
	}
	u.endPass()
}
