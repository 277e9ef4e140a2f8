package controllers

import (
	"context"
	"slices"
	"testing"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"

	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
	"github.com/frrgen/frrgen/internal/layout"
	"github.com/frrgen/frrgen/internal/ownership"
	"github.com/frrgen/frrgen/internal/translate"
)

func TestTranslatorBuildsOncePerInputChange(t *testing.T) {
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"kubernetes.io/hostname": "a"}}}
	peer := func(name, address string) *metallbv1beta2.BGPPeer {
		return &metallbv1beta2.BGPPeer{
			ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: name},
			Spec:       metallbv1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: address},
		}
	}
	reader := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(node, peer("one", "172.30.0.1")).Build()
	translator := newTranslator(reader, translate.Options{Namespace: "metallb-system", FRRK8sNamespace: "frr-k8s-system", NamePrefix: "frrgen-"}, testOwner(t))

	first, err := translator.Result(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Valid || first.ConfigFor("a") == nil || len(first.ConfigFor("a").Spec.BGP.Routers[0].Neighbors) != 1 {
		t.Fatalf("first build: want a valid config for node a with one neighbor, got %+v", first.Result)
	}

	// A change the watches have not reported yet is not seen: the cached
	// Result is reused, whatever is in the cache.
	if err := reader.Create(ctx, peer("two", "172.30.0.2")); err != nil {
		t.Fatal(err)
	}
	again, err := translator.Result(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatal("without an input change, Result must return the cached translation")
	}

	translator.InputChanged()
	rebuilt, err := translator.Result(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt == first {
		t.Fatal("after an input change, Result must build again")
	}
	if n := len(rebuilt.ConfigFor("a").Spec.BGP.Routers[0].Neighbors); n != 2 {
		t.Fatalf("rebuilt config has %d neighbors, want 2", n)
	}
	if rebuilt.ConfigFor("b") != nil {
		t.Fatal("a node that does not exist must have no config")
	}
	if rebuilt.ConfigFor("a").Labels[translate.LabelManagedBy] != translate.ManagedByValue {
		t.Fatal("desired configs must carry the managed-by label")
	}
	if !testOwner(t).ownsConfig(rebuilt.ConfigFor("a")) {
		t.Fatal("desired configs must carry a valid ownership proof")
	}
}

func testOwner(t *testing.T) owner {
	t.Helper()
	key, err := ownership.NewKey(make([]byte, ownership.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return newOwner(key)
}

func TestSecretsAfterMirroringKeepsSecretsNotOurs(t *testing.T) {
	ctx := context.Background()
	options := translate.Options{Namespace: "metallb-system", FRRK8sNamespace: "frr-k8s-system", NamePrefix: "frrgen-"}
	secret := func(namespace, name, password string, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
			Type:       corev1.SecretTypeBasicAuth,
			Data:       map[string][]byte{passwordKey: []byte(password)},
		}
	}
	reader := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(
		secret("metallb-system", "bgp", "ours", nil),
		// A user's Secret with the mirror's name, labelled as ours but
		// without proof (a copy of one): mirrors.ensure leaves
		// it alone, so frr-k8s resolves the password from it.
		secret("frr-k8s-system", "frrgen-bgp", "theirs", map[string]string{translate.LabelManagedBy: translate.ManagedByValue}),
	).Build()

	m := &mirrors{options: options, owner: testOwner(t)}
	secrets, err := m.secretsAfterMirroring(ctx, reader, []translate.SecretMirror{{Name: "frrgen-bgp", SourceName: "bgp"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 1 || string(secrets[0].Data[passwordKey]) != "theirs" {
		t.Fatalf("want only the user's Secret, untouched, got %+v", secrets)
	}
}

func TestDeleteSecretCountsOnlyActualDeletes(t *testing.T) {
	ctx := context.Background()
	r := &mirrors{client: fake.NewClientBuilder().WithScheme(Scheme()).Build()}
	deletes := func() float64 {
		var m dto.Metric
		if err := writesTotal.WithLabelValues(kindSecret, verbDelete).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	before := deletes()
	gone := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "frr-k8s-system", Name: "frrgen-bgp"}}
	if err := r.deleteSecret(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if after := deletes(); after != before {
		t.Fatalf("deleting a Secret that does not exist counted %v writes", after-before)
	}
}

// TestDeleteUnusedMirrors: a mirror nobody wants is deleted only when it is
// provably ours and no stored configuration of ours references it; a
// Secret carrying only our label (a user's copy) is never deleted.
func TestDeleteUnusedMirrors(t *testing.T) {
	ctx := context.Background()
	options := translate.Options{Namespace: "metallb-system", FRRK8sNamespace: "frr-k8s-system", NamePrefix: "frrgen-"}
	o := testOwner(t)
	m := &mirrors{options: options, owner: o}
	mirror := func(source string) *corev1.Secret {
		return m.mirrorSecret(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: source}},
			translate.SecretMirror{Name: translate.MirroredSecretName("frrgen-", source), SourceName: source})
	}
	wanted, referenced, unused := mirror("wanted"), mirror("referenced"), mirror("unused")
	labelOnly := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "frr-k8s-system", Name: "frrgen-users",
		Labels: map[string]string{translate.LabelManagedBy: translate.ManagedByValue}}}
	config := &frrv1beta1.FRRConfiguration{
		ObjectMeta: metav1.ObjectMeta{Namespace: "frr-k8s-system", Name: "frrgen-a",
			Labels:      map[string]string{translate.LabelManagedBy: translate.ManagedByValue},
			Annotations: map[string]string{translate.AnnotationNode: "a"}},
		Spec: frrv1beta1.FRRConfigurationSpec{BGP: frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{{ASN: 64512,
			Neighbors: []frrv1beta1.Neighbor{{Address: "172.30.0.1", ASN: 64513, PasswordSecret: frrv1beta1.SecretReference{Name: referenced.Name}}}}}}},
	}
	o.stampConfig(config)
	// A user's configuration referencing a mirror does not keep it: only ours count.
	users := config.DeepCopy()
	users.Name, users.Annotations = "users", nil
	users.Spec.BGP.Routers[0].Neighbors[0].PasswordSecret.Name = unused.Name
	c := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(wanted, referenced, unused, labelOnly, config, users).Build()
	m.client, m.live = c, c

	if err := m.deleteUnused(ctx, c, []translate.SecretMirror{{Name: wanted.Name, SourceName: "wanted"}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*corev1.Secret{wanted, referenced, labelOnly} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(s), &corev1.Secret{}); err != nil {
			t.Errorf("Secret %s: %v; want it kept", s.Name, err)
		}
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(unused), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("Secret %s: %v; want it deleted", unused.Name, err)
	}
}

// TestRunningNodes: a node runs a peer when it was given the current
// configuration, or keeps a stored configuration of ours (held, or stale
// after a conflict or failed write); a stale or held node with nothing
// stored (a squatter holds its name, say) does not.
func TestRunningNodes(t *testing.T) {
	summary := translate.PeerSummary{Name: "tor", Nodes: []string{"a", "b", "c"}, HeldNodes: []string{"d", "e"}}
	stored := map[string]bool{"a": true, "b": true, "d": true}
	for _, tc := range []struct {
		name  string
		stale []string
		want  []string
	}{
		{"none stale: every current node, and the held one with a stored config", nil, []string{"a", "b", "c", "d"}},
		{"stale with a stored config still runs it", []string{"b"}, []string{"a", "b", "c", "d"}},
		{"stale without a stored config does not", []string{"c"}, []string{"a", "b", "d"}},
	} {
		if got := runningNodes(summary, tc.stale, stored); !slices.Equal(got, tc.want) {
			t.Errorf("%s: runningNodes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSettledNudgesNodesBehind: a node that acted on an older build (it
// built between the two handlers' counts of one event) is reconciled again,
// once per version; without it a held node, which writes nothing, would
// never act on the newer build and the Services' conditions would wait.
func TestSettledNudgesNodesBehind(t *testing.T) {
	lagging := make(chan event.GenericEvent, 10)
	r := &ClusterReconciler{outcomes: newNodeOutcomes(), lagging: lagging}
	translation := &Translation{version: 3}
	translation.Held = []translate.HeldNode{{Node: "a"}}
	translation.Configs = []frrv1beta1.FRRConfiguration{{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{translate.AnnotationNode: "b"}}}}
	r.outcomes.record("a", nodeOutcome{build: 2})
	r.outcomes.record("b", nodeOutcome{build: 3})
	for range 2 {
		if r.settled(translation) {
			t.Fatal("settled with node a behind")
		}
	}
	if len(lagging) != 1 {
		t.Fatalf("%d nudges, want 1 (node a, once)", len(lagging))
	}
	if got := (<-lagging).Object.GetName(); got != "a" {
		t.Errorf("nudged %q, want a", got)
	}
	r.outcomes.record("a", nodeOutcome{build: 3})
	if !r.settled(translation) {
		t.Error("not settled once every node acted on the build")
	}
}

// TestStoredByNode: each node gets its own objects first, then the shared
// objects listing it, in stored order; a node no object selects gets none.
func TestStoredByNode(t *testing.T) {
	own := func(name, node string) frrv1beta1.FRRConfiguration {
		return frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{translate.AnnotationNode: node}}}
	}
	shared := func(name string, nodes string) frrv1beta1.FRRConfiguration {
		return frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{layout.AnnotationNodes: nodes}}}
	}
	stored := []frrv1beta1.FRRConfiguration{
		shared("s1", "a,b"), own("a", "a"), shared("s2", "b"), own("b-shard-1", "b"), own("b-shard-0", "b"),
	}
	names := func(configs []frrv1beta1.FRRConfiguration) []string {
		var out []string
		for _, c := range configs {
			out = append(out, c.Name)
		}
		return out
	}
	got := storedByNode(stored)
	for node, want := range map[string][]string{
		"a": {"a", "s1"},
		"b": {"b-shard-1", "b-shard-0", "s1", "s2"},
		"c": nil,
	} {
		if !slices.Equal(names(got[node]), want) {
			t.Errorf("node %s: %v, want %v", node, names(got[node]), want)
		}
	}
	if len(got) != 2 {
		t.Errorf("%d nodes, want a and b", len(got))
	}
}
