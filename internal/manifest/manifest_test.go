package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKindsListsAndSecrets(t *testing.T) {
	doc := `
# a comment-only document
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
- apiVersion: metallb.io/v1beta2
  kind: BGPPeer
  metadata: {name: p}
  spec: {myASN: 1, peerASN: 2, peerAddress: 192.0.2.1}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
type: kubernetes.io/basic-auth
stringData: {password: pw}
---
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: user}
spec: {}
---
`
	o := &Objects{}
	if err := o.Read("test", strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	if len(o.Nodes) != 1 || len(o.Peers) != 1 || len(o.Secrets) != 1 || len(o.FRRConfigurations) != 1 {
		t.Fatalf("got %d nodes, %d peers, %d secrets, %d FRRConfigurations", len(o.Nodes), len(o.Peers), len(o.Secrets), len(o.FRRConfigurations))
	}
	if got := string(o.Secrets[0].Data["password"]); got != "pw" || o.Secrets[0].StringData != nil {
		t.Errorf("stringData not folded into data: %q", got)
	}
	o.DefaultNamespaces("metallb-system", "frr-k8s-system")
	if o.Peers[0].Namespace != "metallb-system" || o.FRRConfigurations[0].Namespace != "frr-k8s-system" || o.Nodes[0].Namespace != "" {
		t.Errorf("namespaces: peer %q, FRRConfiguration %q, node %q", o.Peers[0].Namespace, o.FRRConfigurations[0].Namespace, o.Nodes[0].Namespace)
	}
}

func TestReadErrorsNameTheDocument(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"unknown kind":     {"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "f.yaml: document 0: unsupported kind v1 Pod"},
		"wrong version":    {"apiVersion: metallb.io/v1beta1\nkind: BGPPeer\n", "document 0: unsupported kind metallb.io/v1beta1 BGPPeer"},
		"misspelt field":   {"apiVersion: v1\nkind: Node\nmetadata: {name: x}\n---\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nspec: {adresses: []}\n", `document 1: error unmarshaling JSON: while decoding JSON: json: unknown field "adresses"`},
		"no kind":          {"metadata: {name: x}\n", "document 0: apiVersion and kind must be set"},
		"bad item in list": {"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n", "document 0: items[0]: unsupported kind v1 Pod"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.yaml")
			if err := os.WriteFile(path, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want it to contain %q", err, tc.want)
			}
		})
	}
}
