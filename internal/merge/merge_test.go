package merge

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
)

type mergeCase struct {
	name    string
	configs string // FRRConfiguration YAML documents
	labels  map[string]string
	secrets []corev1.Secret
	// Exactly one of want (Effective as YAML) and wantConflict (the message).
	want         string
	wantConflict string
	wantWarnings []string
}

// cmpEffective ignores nil-versus-empty and the resolved password (never
// printed; HasPassword is compared, password values by conflict cases).
var cmpEffective = []cmp.Option{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Neighbor{}, "Password")}

func runMergeCases(t *testing.T, cases []mergeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.want == "") == (tc.wantConflict == "") {
				t.Fatal("a case sets exactly one of want and wantConflict")
			}
			labels := tc.labels
			if labels == nil {
				labels = node1
			}
			got, warnings, conflict := ForNode(parseConfigs(t, tc.configs), labels, tc.secrets)
			if tc.wantConflict != "" {
				if conflict == nil {
					t.Fatalf("want conflict %q, got none; effective:\n%+v", tc.wantConflict, got)
				}
				if conflict.Message != tc.wantConflict {
					t.Fatalf("conflict message\n got: %s\nwant: %s", conflict.Message, tc.wantConflict)
				}
				if got != nil {
					t.Errorf("conflict returned with an effective config")
				}
				return
			}
			if conflict != nil {
				t.Fatalf("unexpected conflict: %s", conflict.Message)
			}
			if diff := cmp.Diff(parseEffective(t, tc.want), got, cmpEffective...); diff != "" {
				t.Errorf("effective config (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForNode(t *testing.T) {
	runMergeCases(t, slices.Concat(selectionCases, validationCases, routerCases, neighborCases, unionCases))
}

var selectionCases = []mergeCase{
	{
		name:    "no configs gives an empty configuration",
		configs: ``,
		want:    `{configs: [], routers: []}`,
	},
	{
		name: "empty nodeSelector selects every node",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]`,
	},
	{
		name: "config for another node is left out",
		configs: `
metadata: {name: a}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: node1}}
  bgp:
    routers:
    - asn: 64512
---
metadata: {name: b}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: node2}}
  bgp:
    routers:
    - asn: 65000`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512`,
	},
	{
		name: "matchExpressions select by other labels",
		configs: `
metadata: {name: a}
spec:
  nodeSelector:
    matchExpressions:
    - {key: zone, operator: In, values: [a, b]}
  bgp:
    routers:
    - asn: 64512
      vrf: red`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  vrf: red`,
	},
	{
		name: "an invalid nodeSelector fails the node even if it would not select it",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
---
metadata: {name: broken}
spec:
  nodeSelector:
    matchExpressions:
    - {key: zone, operator: Near, values: [a]}
  bgp:
    routers:
    - asn: 64512`,
		wantConflict: `FRRConfiguration frr-k8s-system/broken is invalid: nodeSelector: "Near" is not a valid label selector operator`,
	},
	{
		name: "a config that does not select the node is not validated",
		configs: `
metadata: {name: a}
spec:
  nodeSelector: {matchExpressions: [{key: missing, operator: Exists}]}
  bgp:
    routers: [{asn: 64512, prefixes: [not-a-prefix]}]`,
		want: `{configs: [], routers: []}`,
	},
	{
		name: "configs of every namespace passed in are merged",
		configs: `
metadata: {name: a, namespace: ns-x}
spec:
  bgp:
    routers:
    - asn: 64512
---
metadata: {name: a, namespace: ns-y}
spec:
  bgp:
    routers:
    - asn: 64513`,
		wantConflict: `FRRConfiguration ns-y/a conflicts with ns-x/a on router (default VRF): asn 64513 vs 64512`,
	},
}
