// Package ownership decides whether frrgen wrote an object. A label can be
// copied (kubectl get -o yaml of ours is a handy template), so frrgen marks
// what it writes with a proof: an HMAC-SHA256, under a key only frrgen's
// installation holds, of the object's kind, namespace, name and binding (the
// node of an FRRConfiguration, the source of a mirrored Secret). A copy under
// another name, namespace or binding carries a proof that does not verify,
// and is therefore a user object. The package is pure: the caller loads the
// key.
package ownership

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

const (
	// AnnotationProof holds the proof on FRRConfigurations and Secrets frrgen writes.
	AnnotationProof = "frrgen.io/owner-proof"
	// KeySize is the length, in bytes, of a generated key. Shorter keys are refused.
	KeySize = 32
)

// Object is the part of an object the proof covers.
type Object interface {
	GetNamespace() string
	GetName() string
	GetLabels() map[string]string
	GetAnnotations() map[string]string
}

// Identity is what a proof is computed over.
type Identity struct {
	// Kind is FRRConfiguration or Secret.
	Kind      string
	Namespace string
	Name      string
	// Binding is what the object is for: the node of an FRRConfiguration,
	// the "namespace/name" of a mirrored Secret's source.
	Binding string
}

// String is the HMAC's message. Kubernetes names and namespaces cannot hold
// "|", so two identities never share a message.
func (id Identity) String() string {
	return strings.Join([]string{id.Kind, id.Namespace, id.Name, id.Binding}, "|")
}

// Key is an installation's secret.
type Key struct {
	secret []byte
}

// NewKey returns a Key, refusing one shorter than KeySize bytes.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < KeySize {
		return Key{}, fmt.Errorf("ownership key has %d bytes; it must have at least %d", len(secret), KeySize)
	}
	return Key{secret: append([]byte(nil), secret...)}, nil
}

// Proof returns the proof of id under k.
func (k Key) Proof(id Identity) string {
	mac := hmac.New(sha256.New, k.secret)
	mac.Write([]byte(id.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify tells whether proof is id's proof under k (in constant time).
func (k Key) Verify(id Identity, proof string) bool {
	if len(k.secret) == 0 || proof == "" {
		return false
	}
	want := k.Proof(id)
	return hmac.Equal([]byte(want), []byte(proof))
}

// Checker tells frrgen's objects from users': an object is ours only when it
// carries the managed-by label and a proof that verifies for its kind,
// namespace, name and binding. The zero Checker owns nothing.
type Checker struct {
	Key Key
	// Label and Value are the managed-by label frrgen also sets (the
	// admission policy and label selectors can read a label, not a proof).
	Label, Value string
	// BindingAnnotation maps a kind to the annotation holding its binding.
	BindingAnnotation map[string]string
}

// IdentityOf returns the identity obj claims as a kind.
func (c Checker) IdentityOf(kind string, obj Object) Identity {
	return Identity{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Binding: obj.GetAnnotations()[c.BindingAnnotation[kind]]}
}

// IsOurs tells whether frrgen provably wrote obj, of the given kind.
func (c Checker) IsOurs(kind string, obj Object) bool {
	if c.Label == "" || obj.GetLabels()[c.Label] != c.Value {
		return false
	}
	if _, known := c.BindingAnnotation[kind]; !known {
		return false
	}
	id := c.IdentityOf(kind, obj)
	return id.Binding != "" && c.Key.Verify(id, obj.GetAnnotations()[AnnotationProof])
}

// Stamp returns the annotations of an object frrgen is about to write (its
// binding annotation already set): annotations plus the proof. The map is a
// copy.
func (c Checker) Stamp(kind string, obj Object) map[string]string {
	out := make(map[string]string, len(obj.GetAnnotations())+1)
	for k, v := range obj.GetAnnotations() {
		out[k] = v
	}
	out[AnnotationProof] = c.Key.Proof(c.IdentityOf(kind, obj))
	return out
}

// WrittenOnlyBy tells whether every managedFields entry names manager: the
// migration rule for objects of frrgen's from before proofs (see the README).
// An object without managedFields was not written through a normal apiserver
// request and is not adopted.
func WrittenOnlyBy(managers []string, manager string) bool {
	if len(managers) == 0 {
		return false
	}
	for _, m := range managers {
		if m != manager {
			return false
		}
	}
	return true
}

// NotOursMessage explains why frrgen leaves an object with the name of one
// of its own alone.
func (c Checker) NotOursMessage(kind, namespace, name string) string {
	return fmt.Sprintf("%s %s/%s exists and is not managed by frrgen (it lacks the label %s=%s or a valid %s annotation); frrgen does not overwrite it",
		kind, namespace, name, c.Label, c.Value, AnnotationProof)
}
