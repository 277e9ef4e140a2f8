package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/frrgen/frrgen/internal/metallbbin"
	"github.com/frrgen/frrgen/internal/testenv"
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
		"unknown kind":                       {"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "f.yaml: document 0: unsupported kind v1 Pod"},
		"wrong version":                      {"apiVersion: metallb.io/v1beta3\nkind: BGPPeer\n", "document 0: unsupported kind metallb.io/v1beta3 BGPPeer"},
		"v1beta2 field in a v1beta1 BGPPeer": {"apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nspec: {myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, vrf: red}\n", `document 0: error unmarshaling JSON: while decoding JSON: json: unknown field "vrf"`},
		"misspelt kind of MetalLB's":         {"apiVersion: metallb.io/v1beta1\nkind: L2Advertisment\n", "unsupported kind metallb.io/v1beta1 L2Advertisment"},
		"misspelt field":                     {"apiVersion: v1\nkind: Node\nmetadata: {name: x}\n---\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nspec: {adresses: []}\n", `document 1: error unmarshaling JSON: while decoding JSON: json: unknown field "adresses"`},
		"no kind":                            {"metadata: {name: x}\n", "document 0: apiVersion and kind must be set"},
		"bad item in list":                   {"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n", "document 0: items[0]: unsupported kind v1 Pod"},
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

func TestReadSkipsKindsOfABackupWithOneNoteEach(t *testing.T) {
	doc := `
apiVersion: v1
kind: List
items:
- {apiVersion: metallb.io/v1beta1, kind: L2Advertisement, metadata: {name: a}, spec: {interfaces: [eth1]}}
- {apiVersion: metallb.io/v1beta1, kind: L2Advertisement, metadata: {name: b}}
- {apiVersion: metallb.io/v1beta1, kind: ServiceBGPStatus, metadata: {name: s}, status: {node: n1, peers: [p]}}
- {apiVersion: metallb.io/v1beta1, kind: ServiceL2Status, metadata: {name: l}, status: {node: n1}}
- {apiVersion: metallb.io/v1beta1, kind: ConfigurationState, metadata: {name: c}, status: {result: Valid}}
- {apiVersion: frrk8s.metallb.io/v1beta1, kind: FRRNodeState, metadata: {name: n1}, status: {runningConfig: x}}
- {apiVersion: frrk8s.metallb.io/v1beta1, kind: BGPSessionState, metadata: {name: n1-p}}
- {apiVersion: v1, kind: Endpoints, metadata: {name: web}, subsets: []}
- apiVersion: metallb.io/v1beta1
  kind: IPAddressPool
  metadata: {name: pool}
  spec: {addresses: [198.51.100.0/24]}
  status: {assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 255, availableIPv6: 0}
`
	o := &Objects{}
	if err := o.Read("backup", strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	if len(o.Pools) != 1 || len(o.Pools[0].Status.Conditions) != 0 {
		t.Errorf("pools %+v: want the pool, without MetalLB's status", o.Pools)
	}
	want := []string{
		"skipped 1 frrk8s.metallb.io/v1beta1 BGPSessionState document(s): status written by frr-k8s",
		"skipped 1 frrk8s.metallb.io/v1beta1 FRRNodeState document(s): status written by frr-k8s",
		"skipped 1 metallb.io/v1beta1 ConfigurationState document(s): status written by MetalLB",
		"skipped 2 metallb.io/v1beta1 L2Advertisement document(s): frrgen announces over BGP only",
		"skipped 1 metallb.io/v1beta1 ServiceBGPStatus document(s): status written by MetalLB's speakers or frrgen",
		"skipped 1 metallb.io/v1beta1 ServiceL2Status document(s): status written by MetalLB's speakers",
		"skipped 1 v1 Endpoints document(s): frrgen reads EndpointSlices",
	}
	if got := o.Notes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestReadV1beta1BGPPeerAsMetalLBConverts checks the mapping of MetalLB
// v0.15.2's BGPPeer ConvertTo: every v1beta1 field to its v1beta2 namesake,
// and holdTime and keepaliveTime set even when v1beta1 leaves them unset.
func TestReadV1beta1BGPPeerAsMetalLBConverts(t *testing.T) {
	for name, tc := range map[string]struct {
		spec, want string
	}{
		"unset timers become 0s": {
			spec: `{myASN: 64512, peerASN: 64501, peerAddress: 192.0.2.1}`,
			want: `{"myASN":64512,"peerASN":64501,"peerAddress":"192.0.2.1","holdTime":"0s","keepaliveTime":"0s","passwordSecret":{}}`,
		},
		"every v1beta1 field": {
			spec: `{myASN: 64512, peerASN: 64501, peerAddress: 192.0.2.1, sourceAddress: 192.0.2.10, peerPort: 1179,
			        holdTime: 1m30s, keepaliveTime: 30s, routerID: 10.0.0.1, password: secret, bfdProfile: fast, ebgpMultiHop: true,
			        nodeSelectors: [{matchLabels: {rack: a}, matchExpressions: [{key: zone, operator: In, values: [z1]}]}, {}]}`,
			want: `{"myASN":64512,"peerASN":64501,"peerAddress":"192.0.2.1","sourceAddress":"192.0.2.10","peerPort":1179,"holdTime":"1m30s","keepaliveTime":"30s","routerID":"10.0.0.1","nodeSelectors":[{"matchLabels":{"rack":"a"},"matchExpressions":[{"key":"zone","operator":"In","values":["z1"]}]},{}],"password":"secret","passwordSecret":{},"bfdProfile":"fast","ebgpMultiHop":true}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			doc := "apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: p, namespace: metallb-system, labels: {a: b}}\nspec: " + tc.spec + "\nstatus: {}\n"
			o := &Objects{}
			if err := o.Read("peer", strings.NewReader(doc)); err != nil {
				t.Fatal(err)
			}
			if len(o.Peers) != 1 || o.ConvertedPeers != 1 {
				t.Fatalf("%d peers, %d converted; want 1, 1", len(o.Peers), o.ConvertedPeers)
			}
			p := o.Peers[0]
			if p.APIVersion != "metallb.io/v1beta2" || p.Kind != "BGPPeer" || p.Name != "p" || p.Namespace != "metallb-system" || p.Labels["a"] != "b" {
				t.Errorf("type and object meta not carried over: %+v %+v", p.TypeMeta, p.ObjectMeta)
			}
			got, err := json.Marshal(p.Spec)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("v1beta2 spec\n %s\nwant\n %s", got, tc.want)
			}
			if notes := o.Notes(); len(notes) != 1 || !strings.HasPrefix(notes[0], "read 1 metallb.io/v1beta1 BGPPeer document(s) as MetalLB converts them to v1beta2") {
				t.Errorf("notes %q", notes)
			}
		})
	}
}

// TestReadsOrSkipsEveryKindMetalLBServes feeds one object of every kind and
// version MetalLB v0.15.2's CRDs serve: each is read or skipped, none is an
// error, so a backup of MetalLB's objects always loads.
func TestReadsOrSkipsEveryKindMetalLBServes(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := metallbbin.CRDDir(root)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s: %v", dir, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			doc := fmt.Sprintf("apiVersion: %s/%s\nkind: %s\nmetadata: {name: x}\nstatus: {}\n", crd.Spec.Group, v.Name, crd.Spec.Names.Kind)
			if err := (&Objects{}).Read(crd.Name, strings.NewReader(doc)); err != nil {
				t.Errorf("%s %s: %v", crd.Name, v.Name, err)
			}
		}
	}
}
