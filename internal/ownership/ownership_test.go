package ownership

import (
	"bytes"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	label     = "app.kubernetes.io/managed-by"
	nodeKey   = "frrgen.io/node"
	sourceKey = "frrgen.io/source-secret"
)

func checker(t *testing.T, secret byte) Checker {
	t.Helper()
	key, err := NewKey(bytes.Repeat([]byte{secret}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return Checker{Key: key, Label: label, Value: "frrgen", BindingAnnotation: map[string]string{
		"FRRConfiguration": nodeKey, "Secret": sourceKey,
	}}
}

func object(namespace, name string, labels, annotations map[string]string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels, Annotations: annotations}
}

// stamped is an FRRConfiguration as frrgen writes it, proof included.
func stamped(c Checker, kind, namespace, name, bindingKey, binding string) *metav1.ObjectMeta {
	obj := object(namespace, name, map[string]string{label: "frrgen"}, map[string]string{bindingKey: binding})
	obj.Annotations = c.Stamp(kind, obj)
	return obj
}

func TestIsOurs(t *testing.T) {
	c := checker(t, 1)
	other := checker(t, 2)
	ours := stamped(c, "FRRConfiguration", "frr-k8s-system", "frrgen-a", nodeKey, "a")
	proof := ours.Annotations[AnnotationProof]

	cases := []struct {
		name string
		kind string
		obj  *metav1.ObjectMeta
		want bool
	}{
		{"as written", "FRRConfiguration", ours, true},
		{"mirror as written", "Secret", stamped(c, "Secret", "frr-k8s-system", "frrgen-pass", sourceKey, "metallb-system/pass"), true},
		{"label only (a user's copy without the proof)", "FRRConfiguration",
			object("frr-k8s-system", "frrgen-a", map[string]string{label: "frrgen"}, map[string]string{nodeKey: "a"}), false},
		{"copied under another name", "FRRConfiguration",
			object("frr-k8s-system", "my-copy", ours.Labels, ours.Annotations), false},
		{"copied into another namespace", "FRRConfiguration",
			object("other", "frrgen-a", ours.Labels, ours.Annotations), false},
		{"node annotation edited", "FRRConfiguration",
			object("frr-k8s-system", "frrgen-a", ours.Labels, map[string]string{nodeKey: "b", AnnotationProof: proof}), false},
		{"no node annotation", "FRRConfiguration",
			object("frr-k8s-system", "frrgen-a", ours.Labels, map[string]string{AnnotationProof: c.Key.Proof(Identity{"FRRConfiguration", "frr-k8s-system", "frrgen-a", ""})}), false},
		{"proof but label removed", "FRRConfiguration",
			object("frr-k8s-system", "frrgen-a", nil, ours.Annotations), false},
		{"proof but label value changed", "FRRConfiguration",
			object("frr-k8s-system", "frrgen-a", map[string]string{label: "someone"}, ours.Annotations), false},
		{"proof of another installation", "FRRConfiguration",
			stamped(other, "FRRConfiguration", "frr-k8s-system", "frrgen-a", nodeKey, "a"), false},
		{"a config's proof on a Secret of the same name", "Secret",
			object("frr-k8s-system", "frrgen-a", ours.Labels, map[string]string{sourceKey: "a", AnnotationProof: proof}), false},
		{"unknown kind", "ConfigMap", ours, false},
		{"garbage proof", "FRRConfiguration",
			object("frr-k8s-system", "frrgen-a", ours.Labels, map[string]string{nodeKey: "a", AnnotationProof: "not base64 !"}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.IsOurs(tc.kind, tc.obj); got != tc.want {
				t.Errorf("IsOurs(%s %s/%s, %v, %v) = %v, want %v", tc.kind, tc.obj.Namespace, tc.obj.Name, tc.obj.Labels, tc.obj.Annotations, got, tc.want)
			}
		})
	}
}

func TestZeroCheckerOwnsNothing(t *testing.T) {
	ours := stamped(checker(t, 1), "FRRConfiguration", "frr-k8s-system", "frrgen-a", nodeKey, "a")
	if (Checker{}).IsOurs("FRRConfiguration", ours) {
		t.Error("the zero Checker claims an object")
	}
	zeroKey := Checker{Label: label, Value: "frrgen", BindingAnnotation: map[string]string{"FRRConfiguration": nodeKey}}
	unkeyed := object("frr-k8s-system", "frrgen-a", ours.Labels, map[string]string{nodeKey: "a"})
	unkeyed.Annotations = zeroKey.Stamp("FRRConfiguration", unkeyed)
	if zeroKey.IsOurs("FRRConfiguration", unkeyed) {
		t.Error("a Checker without a key claims an object it stamped")
	}
}

func TestProofIsDeterministicAndIdentityBound(t *testing.T) {
	c := checker(t, 7)
	id := Identity{"FRRConfiguration", "ns", "name", "node"}
	if c.Key.Proof(id) != c.Key.Proof(id) {
		t.Fatal("the proof of one identity differs between calls")
	}
	for _, changed := range []Identity{
		{"Secret", "ns", "name", "node"},
		{"FRRConfiguration", "ns2", "name", "node"},
		{"FRRConfiguration", "ns", "name2", "node"},
		{"FRRConfiguration", "ns", "name", "node2"},
		{"FRRConfiguration", "ns", "name|node", ""},
	} {
		if c.Key.Verify(changed, c.Key.Proof(id)) {
			t.Errorf("the proof of %v verifies for %v", id, changed)
		}
	}
}

func TestNewKeyRefusesShortKeys(t *testing.T) {
	for _, n := range []int{0, 1, KeySize - 1} {
		if _, err := NewKey(make([]byte, n)); err == nil {
			t.Errorf("NewKey accepted a %d-byte key", n)
		}
	}
	secret := bytes.Repeat([]byte{3}, KeySize)
	key, err := NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] = 4 // the Key keeps its own copy
	again, _ := NewKey(bytes.Repeat([]byte{3}, KeySize))
	id := Identity{"Secret", "a", "b", "c"}
	if key.Proof(id) != again.Proof(id) {
		t.Error("changing the caller's slice changed the key")
	}
}

func TestWrittenOnlyBy(t *testing.T) {
	cases := []struct {
		managers []string
		want     bool
	}{
		{nil, false},
		{[]string{"frrgen"}, true},
		{[]string{"frrgen", "frrgen"}, true},
		{[]string{"frrgen", "kubectl-edit"}, false},
		{[]string{"kubectl-client-side-apply"}, false},
		{[]string{"frrgen-copy"}, false},
	}
	for _, tc := range cases {
		if got := WrittenOnlyBy(tc.managers, "frrgen"); got != tc.want {
			t.Errorf("WrittenOnlyBy(%q) = %v, want %v", tc.managers, got, tc.want)
		}
	}
}
