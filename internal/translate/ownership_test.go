package translate_test

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// TestPasswordSecretOptIn: a passwordSecret is mirrored only when the
// Secret's owner named the BGPPeer (or "*") in frrgen.io/bgp-peers;
// otherwise the peer is invalid with the exact command that fixes it.
func TestPasswordSecretOptIn(t *testing.T) {
	const hint = `BGPPeer metallb-system/p1: spec.passwordSecret.name: Secret "auth" has not allowed BGPPeer "p1" to use it as a BGP password; its owner must annotate it: kubectl annotate secret -n metallb-system auth frrgen.io/bgp-peers=`
	cases := []struct {
		name       string
		annotation *string // nil: no annotation at all
		wantHint   string  // "" when the Secret may be used
	}{
		{"no annotation", nil, hint + "p1"},
		{"empty annotation", str(""), hint + "p1"},
		{"another peer only", str("p2"), hint + "p2,p1 --overwrite"},
		{"a longer name is not a prefix match", str("p10"), hint + "p10,p1 --overwrite"},
		{"a shorter name is not a prefix match", str("p"), hint + "p,p1 --overwrite"},
		{"names are case-sensitive", str("P1"), hint + "P1,p1 --overwrite"},
		{"a glob is not a wildcard", str("p*"), hint + "p*,p1 --overwrite"},
		{"the peer", str("p1"), ""},
		{"the peer among others", str("p0,p1,p2"), ""},
		{"spaces around commas", str(" p0 , p1 "), ""},
		{"every peer", str("*"), ""},
		{"every peer among names", str("p0,*"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSnapshot()
			s.Secrets[0].Annotations = nil
			if tc.annotation != nil {
				s.Secrets[0].Annotations = map[string]string{translate.AnnotationAllowedPeers: *tc.annotation}
			}
			peerSpec(&s).PasswordSecret.Name = "auth"
			r := translate.Build(s, testOptions())
			if tc.wantHint == "" {
				if !r.Valid {
					t.Fatalf("refused: %v", problems(r))
				}
				if len(r.PasswordSecrets) != 1 || r.PasswordSecrets[0].SourceName != "auth" {
					t.Errorf("PasswordSecrets = %+v, want the mirror of auth", r.PasswordSecrets)
				}
				return
			}
			if r.Valid || len(r.PasswordSecrets) != 0 || r.Configs != nil {
				t.Fatalf("Valid = %v, %d mirrors, %d configs; want invalid, nothing mirrored", r.Valid, len(r.PasswordSecrets), len(r.Configs))
			}
			if got := problems(r); len(got) != 1 || got[0] != tc.wantHint {
				t.Errorf("problems:\n  %s\nwant exactly:\n  %s", strings.Join(got, "\n  "), tc.wantHint)
			}
		})
	}
}

func str(s string) *string { return &s }

// TestConfigOwnedByNode: the configuration of a Node with a UID (every Node
// read from the apiserver) names it as owner, so the garbage collector
// removes it with the Node; a Node from a file without UID gives none.
func TestConfigOwnedByNode(t *testing.T) {
	s := validSnapshot()
	s.Nodes[0].UID = "0d9e-uid"
	r := translate.Build(s, testOptions())
	if !r.Valid || len(r.Configs) != 1 {
		t.Fatalf("Valid = %v with %d configs: %v", r.Valid, len(r.Configs), problems(r))
	}
	refs := r.Configs[0].OwnerReferences
	want := metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: "node-a", UID: "0d9e-uid"}
	if len(refs) != 1 || !reflect.DeepEqual(refs[0], want) {
		t.Errorf("ownerReferences = %+v, want [%+v] (neither controller nor blockOwnerDeletion)", refs, want)
	}

	s.Nodes[0].UID = ""
	if refs := translate.Build(s, testOptions()).Configs[0].OwnerReferences; refs != nil {
		t.Errorf("a Node without UID gives ownerReferences %+v", refs)
	}
}
