package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const mergeOurs = `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: frrgen-node1, namespace: frr-k8s-system}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: node1}}
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.10/32]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        passwordSecret: {name: bgp}
        toAdvertise:
          allowed: {prefixes: [192.0.2.10/32]}
          withCommunity: [{community: "65000:1", prefixes: [192.0.2.10/32]}]
---
apiVersion: v1
kind: Secret
metadata: {name: bgp}
type: kubernetes.io/basic-auth
stringData: {username: bgp, password: s3cret}
`

// mergeUser repeats our neighbor to receive routes; extra lines are added
// to the neighbor.
func mergeUser(name string, extra ...string) string {
	return `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: ` + name + `}
spec:
  nodeSelector: {matchExpressions: [{key: zone, operator: In, values: [a]}]}
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        password: s3cret
        toReceive: {allowed: {mode: all}}` + strings.Join(append([]string{""}, extra...), "\n        ") + "\n"
}

const mergeNode1 = `apiVersion: v1
kind: Node
metadata:
  name: node1
  labels: {kubernetes.io/hostname: node1, zone: a}
`

// runFrrgen runs the command in-process and returns stdout, stderr and the
// exit status main would use.
func runFrrgen(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	code := 0
	if err := root.Execute(); err != nil {
		code = exitCode(err) // as main does; it also prints err to os.Stderr
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), code
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// printedEffective is the part of the output the tests look at.
type printedEffective struct {
	Node    string   `json:"node"`
	Configs []string `json:"configs"`
	Routers []struct {
		Neighbors []struct {
			ID          string `json:"id"`
			HasPassword bool   `json:"hasPassword"`
			Receive     struct {
				All bool `json:"all"`
			} `json:"receive"`
		} `json:"neighbors"`
	} `json:"routers"`
}

func TestMergeCommand(t *testing.T) {
	cases := []struct {
		name        string
		files       map[string]string
		args        []string
		wantCode    int
		wantConfigs []string // configs in the printed result (exit 0)
		wantStderr  string   // substring of standard error
	}{
		{
			name:        "a node's configs merge; the Node's labels select the user config",
			files:       map[string]string{"ours.yaml": mergeOurs, "user.yaml": mergeUser("with-recv"), "node.yaml": mergeNode1},
			args:        []string{"--node", "node1"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1", "frr-k8s-system/with-recv"},
		},
		{
			name:        "an frr-k8s backup's FRRNodeState is skipped with a note",
			files:       map[string]string{"ours.yaml": mergeOurs, "state.yaml": "apiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRNodeState\nmetadata: {name: node1}\nstatus: {runningConfig: x}\n"},
			args:        []string{"--node", "node1"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1"},
			wantStderr:  "note: skipped 1 frrk8s.metallb.io/v1beta1 FRRNodeState document(s): status written by frr-k8s",
		},
		{
			name:        "without the Node only the hostname label is known",
			files:       map[string]string{"ours.yaml": mergeOurs, "user.yaml": mergeUser("with-recv")},
			args:        []string{"--node", "node1"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1"},
		},
		{
			name:        "--node-labels extends the labels",
			files:       map[string]string{"ours.yaml": mergeOurs, "user.yaml": mergeUser("with-recv")},
			args:        []string{"--node", "node1", "--node-labels", "zone=a"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1", "frr-k8s-system/with-recv"},
		},
		{
			name:        "--node-labels overrides the Node's labels",
			files:       map[string]string{"ours.yaml": mergeOurs, "user.yaml": mergeUser("with-recv"), "node.yaml": mergeNode1},
			args:        []string{"--node", "node1", "--node-labels", "zone=b"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1"},
		},
		{
			name:       "a conflict exits 2 and names both configs",
			files:      map[string]string{"ours.yaml": mergeOurs, "user.yaml": mergeUser("with-recv", "holdTime: 90s", "keepaliveTime: 30s"), "node.yaml": mergeNode1},
			args:       []string{"--node", "node1"},
			wantCode:   2,
			wantStderr: "node node1: FRRConfiguration frr-k8s-system/with-recv conflicts with frr-k8s-system/frrgen-node1 on neighbor 172.30.0.3 (default VRF): holdTime 90s vs 180s (unset)",
		},
		{
			name:       "a missing Secret exits 2",
			files:      map[string]string{"ours.yaml": strings.Split(mergeOurs, "---")[0]},
			args:       []string{"--node", "node1"},
			wantCode:   2,
			wantStderr: "passwordSecret: Secret frr-k8s-system/bgp not found",
		},
		{
			name:        "a graceful-restart difference is a warning with exit 0",
			files:       map[string]string{"ours.yaml": mergeOurs, "user.yaml": mergeUser("with-recv", "enableGracefulRestart: true"), "node.yaml": mergeNode1},
			args:        []string{"--node", "node1"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1", "frr-k8s-system/with-recv"},
			wantStderr:  "warning: neighbor 172.30.0.3 (default VRF): enableGracefulRestart is true in FRRConfiguration frr-k8s-system/with-recv but false in frr-k8s-system/frrgen-node1",
		},
		{
			name: "configs outside the frr-k8s namespace are ignored with a warning",
			files: map[string]string{"ours.yaml": mergeOurs, "node.yaml": mergeNode1,
				"user.yaml": strings.Replace(mergeUser("elsewhere", "holdTime: 90s", "keepaliveTime: 30s"), "{name: elsewhere}", "{name: elsewhere, namespace: default}", 1)},
			args:        []string{"--node", "node1"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1"},
			wantStderr:  "warning: FRRConfiguration default/elsewhere is ignored: frr-k8s reads only namespace frr-k8s-system",
		},
		{
			name:        "json output",
			files:       map[string]string{"ours.yaml": mergeOurs},
			args:        []string{"--node", "node1", "-o", "json"},
			wantConfigs: []string{"frr-k8s-system/frrgen-node1"},
		},
		{
			name:       "an unknown output format exits 1",
			files:      map[string]string{"ours.yaml": mergeOurs},
			args:       []string{"--node", "node1", "-o", "xml"},
			wantCode:   1,
			wantStderr: `--output must be yaml or json, not "xml"`,
		},
		{
			name:       "malformed --node-labels exits 1",
			files:      map[string]string{"ours.yaml": mergeOurs},
			args:       []string{"--node", "node1", "--node-labels", "zone"},
			wantCode:   1,
			wantStderr: "--node-labels",
		},
		{
			name:       "--node is required",
			files:      map[string]string{"ours.yaml": mergeOurs},
			wantCode:   1,
			wantStderr: `required flag(s) "node" not set`,
		},
		{
			name:       "unreadable input exits 1",
			files:      map[string]string{"bad.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"},
			args:       []string{"--node", "node1"},
			wantCode:   1,
			wantStderr: "unsupported kind v1 Pod",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			stdout, stderr, code := runFrrgen(t, append([]string{"merge", "-f", dir}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tc.wantStderr, stderr)
			}
			if tc.wantCode != 0 {
				if stdout != "" {
					t.Errorf("output on failure:\n%s", stdout)
				}
				return
			}
			var got []printedEffective
			if slices.Contains(tc.args, "json") {
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("output is not a JSON list: %v\n%s", err, stdout)
				}
			} else {
				var one printedEffective
				if err := yaml.Unmarshal([]byte(stdout), &one); err != nil {
					t.Fatalf("output is not YAML: %v\n%s", err, stdout)
				}
				got = append(got, one)
			}
			if len(got) != 1 || got[0].Node != "node1" || strings.Join(got[0].Configs, " ") != strings.Join(tc.wantConfigs, " ") {
				t.Fatalf("printed %+v, want node1 with configs %v", got, tc.wantConfigs)
			}
			n := got[0].Routers[0].Neighbors[0]
			if n.ID != "172.30.0.3" || !n.HasPassword {
				t.Errorf("neighbor printed as %+v", n)
			}
			if strings.Contains(stdout, "s3cret") {
				t.Errorf("the password is printed:\n%s", stdout)
			}
		})
	}
}

// The YAML output keeps field order and quotes what YAML 1.1 would misread.
func TestMergeCommandYAMLShape(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ours.yaml": mergeOurs})
	stdout, stderr, code := runFrrgen(t, "merge", "-f", dir, "--node", "node1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `node: node1
configs:
  - frr-k8s-system/frrgen-node1
routers:
  - asn: 64512
    prefixesV4:
      - 192.0.2.10/32
    neighbors:
      - id: 172.30.0.3
        address: 172.30.0.3
        asn: "64513"
        family: ipv4
        hasPassword: true
        advertise:
          prefixesV4:
            - 192.0.2.10/32
          communities:
            - community: "65000:1"
              prefixes:
                - 192.0.2.10/32
        receive: {}
`
	if stdout != want {
		t.Errorf("output:\n%s\nwant:\n%s", stdout, want)
	}
}

// renderInput is a seed-like cluster: one peer (with a password from a
// Secret), one announced service on node-a.
const renderInput = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: peer, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  passwordSecret: {name: bgp-auth}
---
apiVersion: v1
kind: Secret
metadata: {name: bgp-auth, namespace: metallb-system, annotations: {frrgen.io/bgp-peers: peer}}
type: kubernetes.io/basic-auth
stringData: {username: bgp, password: s3cret}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [198.51.100.10/24]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: plain, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
---
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {kubernetes.io/hostname: node-a, zone: a}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
status:
  loadBalancer:
    ingress: [{ip: 198.51.100.10}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-x
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
- addresses: [10.244.0.3]
  nodeName: node-a
`

// renderUser is a user config in the frr-k8s namespace receiving from the
// peer; extra lines are added to its neighbor.
func renderUser(extra ...string) string {
	return strings.Replace(mergeUser("with-recv", extra...), "asn: 64513", "asn: 64512", 1)
}

func TestRenderEffective(t *testing.T) {
	cases := []struct {
		name        string
		user        string
		wantCode    int
		wantConfigs []string
		wantStderr  string
	}{
		{
			name:        "without user configs the effective config is ours",
			wantConfigs: []string{"frr-k8s-system/frrgen-node-a"},
		},
		{
			name:        "a user config with the same password (ours from the mirrored Secret) merges",
			user:        renderUser(),
			wantConfigs: []string{"frr-k8s-system/frrgen-node-a", "frr-k8s-system/with-recv"},
		},
		{
			name:       "a user config with another hold time is a conflict",
			user:       renderUser("holdTime: 90s", "keepaliveTime: 30s"),
			wantCode:   2,
			wantStderr: "error: node node-a: FRRConfiguration frr-k8s-system/with-recv conflicts with frr-k8s-system/frrgen-node-a on neighbor 172.30.0.3 (default VRF): holdTime 90s vs 180s (unset)",
		},
		{
			// Issue 11's drift: frr-k8s reads the user's Secret that has the
			// mirror's name (frrgen never overwrites it), so the user config
			// repeating our password clashes, as the controller reports.
			name: "a user Secret with the mirror's name is what frr-k8s reads: the user config repeating our password clashes",
			user: renderUser() + `---
apiVersion: v1
kind: Secret
metadata:
  name: frrgen-bgp-auth
  namespace: frr-k8s-system
type: kubernetes.io/basic-auth
stringData: {password: bbb}
`,
			wantCode:   2,
			wantStderr: "password differs (values not shown)",
		},
		{
			name:       "a user config with another password is a conflict",
			user:       strings.Replace(renderUser(), "password: s3cret", "password: other", 1),
			wantCode:   2,
			wantStderr: "conflicts with frr-k8s-system/frrgen-node-a on neighbor 172.30.0.3 (default VRF): password differs (values not shown)",
		},
		{
			name: "a user config with our name is a conflict, as the controller does not overwrite it",
			user: `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: frrgen-node-a
  namespace: frr-k8s-system
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: elsewhere}}
`,
			wantCode:   2,
			wantStderr: "error: node node-a: FRRConfiguration frr-k8s-system/frrgen-node-a exists and is not managed by frrgen",
		},
		{
			name: "a stored config of ours (our name and a proof) in the input is replaced by the generated one",
			user: `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: frrgen-node-a
  namespace: frr-k8s-system
  labels: {app.kubernetes.io/managed-by: frrgen}
  annotations: {frrgen.io/node: node-a, frrgen.io/owner-proof: c29tZSBwcm9vZg==}
spec:
  bgp:
    routers: [{asn: 65000}]
`,
			wantConfigs: []string{"frr-k8s-system/frrgen-node-a"},
		},
		{
			// As in the controller: the label alone proves nothing.
			name: "a config labelled as ours under another name is a user's, merge-checked",
			user: `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: frrgen-old
  namespace: frr-k8s-system
  labels: {app.kubernetes.io/managed-by: frrgen}
  annotations: {frrgen.io/node: node-a, frrgen.io/owner-proof: c29tZSBwcm9vZg==}
spec:
  bgp:
    routers: [{asn: 65000}]
`,
			wantCode:   2,
			wantStderr: "error: node node-a: FRRConfiguration frr-k8s-system/frrgen-old conflicts with frr-k8s-system/frrgen-node-a",
		},
		{
			name: "a config with our name and label but no proof is a user's with our name",
			user: `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: frrgen-node-a
  namespace: frr-k8s-system
  labels: {app.kubernetes.io/managed-by: frrgen}
  annotations: {frrgen.io/node: node-a}
spec:
  bgp:
    routers: [{asn: 64512}]
`,
			wantCode:   2,
			wantStderr: "error: node node-a: FRRConfiguration frr-k8s-system/frrgen-node-a exists and is not managed by frrgen",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"cluster.yaml": renderInput, "user.yaml": tc.user})
			stdout, stderr, code := runFrrgen(t, "render", "-f", dir, "--effective")
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tc.wantStderr, stderr)
			}
			if tc.wantCode != 0 {
				return
			}
			var got printedEffective
			if err := yaml.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("output is not YAML: %v\n%s", err, stdout)
			}
			if got.Node != "node-a" || strings.Join(got.Configs, " ") != strings.Join(tc.wantConfigs, " ") {
				t.Fatalf("printed node %q with configs %v, want node-a with %v", got.Node, got.Configs, tc.wantConfigs)
			}
			if n := got.Routers[0].Neighbors[0]; n.ID != "172.30.0.3" || !n.HasPassword || n.Receive.All != (tc.user != "" && len(tc.wantConfigs) == 2) {
				t.Errorf("neighbor printed as %+v", n)
			}
		})
	}
}
