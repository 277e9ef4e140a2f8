package controllers

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/frrgen/frrgen/internal/ownership"
)

var keyRef = types.NamespacedName{Namespace: "metallb-system", Name: OwnershipKeySecret}

func proofOf(key ownership.Key) string {
	return key.Proof(ownership.Identity{Kind: "FRRConfiguration", Namespace: "n", Name: "x", Binding: "a"})
}

func TestLoadOwnershipKeyCreatesOnceAndReadsBack(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(Scheme()).Build()
	first, err := loadOwnershipKey(ctx, c, c, keyRef)
	if err != nil {
		t.Fatal(err)
	}
	var stored corev1.Secret
	if err := c.Get(ctx, keyRef, &stored); err != nil {
		t.Fatalf("the key Secret was not created: %v", err)
	}
	if n := len(stored.Data[ownershipKeyField]); n != ownership.KeySize {
		t.Fatalf("created a %d-byte key, want %d", n, ownership.KeySize)
	}
	again, err := loadOwnershipKey(ctx, c, c, keyRef)
	if err != nil {
		t.Fatal(err)
	}
	if proofOf(first) != proofOf(again) {
		t.Fatal("a restart must read the same key, not make a new one")
	}
}

// Two replicas start together: both miss the Secret, one creates it, the
// other's create fails with AlreadyExists and must use the winner's key.
func TestLoadOwnershipKeyLosingTheCreateRaceReadsTheWinnersKey(t *testing.T) {
	ctx := context.Background()
	winner := newOwnershipKeySecret(keyRef)
	copy(winner.Data[ownershipKeyField], strings.Repeat("w", ownership.KeySize))
	c := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(&winner).Build()
	missedOnce := false
	racing := interceptor.NewClient(c, interceptor.Funcs{Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if !missedOnce {
			missedOnce = true
			return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
		}
		return cl.Get(ctx, key, obj, opts...)
	}})
	got, err := loadOwnershipKey(ctx, racing, racing, keyRef)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ownership.NewKey(winner.Data[ownershipKeyField])
	if proofOf(got) != proofOf(want) {
		t.Fatal("the loser of the create race must use the winner's key")
	}
}

func TestLoadOwnershipKeyRefusesAShortKey(t *testing.T) {
	ctx := context.Background()
	short := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: keyRef.Namespace, Name: keyRef.Name},
		Data: map[string][]byte{ownershipKeyField: []byte("short")}}
	c := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(short).Build()
	_, err := loadOwnershipKey(ctx, c, c, keyRef)
	if err == nil || !strings.Contains(err.Error(), "metallb-system/frrgen-ownership-key: data.key: ownership key has 5 bytes") {
		t.Fatalf("error %v; want one naming the Secret, the field and the length", err)
	}
}
