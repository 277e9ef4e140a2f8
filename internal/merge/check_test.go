package merge

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"k8s.io/apimachinery/pkg/types"
)

const userWithReceive = `
metadata: {name: with-recv}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        holdTime: 90s
        keepaliveTime: 30s
        toReceive: {allowed: {mode: all}}`

const desiredNode1 = `
metadata: {name: frrgen-node1}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: node1}}
  bgp:
    routers:
    - asn: 64512
      id: 10.0.0.1
      prefixes: [192.0.2.10/32]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {prefixes: [192.0.2.10/32]}}`

// userCompatible repeats our neighbor with the default timers spelled out.
var userCompatible = strings.NewReplacer("90s", "180s", "30s", "60s").Replace(userWithReceive)

func TestCheck(t *testing.T) {
	ns := func(name string) types.NamespacedName {
		return types.NamespacedName{Namespace: testNamespace, Name: name}
	}
	cases := []struct {
		name         string
		desired      string
		others       string
		want         *Conflict // nil: no conflict
		wantWarnings []string
	}{
		{
			name:    "compatible user config",
			desired: desiredNode1,
			others:  userCompatible,
		},
		{
			name:    "user config repeating our neighbor with another hold time",
			desired: desiredNode1,
			others:  userWithReceive,
			want: &Conflict{
				Configs:  []types.NamespacedName{ns("with-recv"), ns("frrgen-node1")},
				Neighbor: "172.30.0.3",
				Field:    "holdTime",
				Values:   []string{"90s", "180s (unset)"},
				Message:  "FRRConfiguration frr-k8s-system/with-recv conflicts with frr-k8s-system/frrgen-node1 on neighbor 172.30.0.3 (default VRF): holdTime 90s vs 180s (unset)",
			},
		},
		{
			name:    "a user config that sorts first is still the one named first",
			desired: desiredNode1,
			others: `
metadata: {name: aaa}
spec:
  bgp:
    routers: [{asn: 64512, id: 10.0.0.9}]`,
			want: &Conflict{
				Configs: []types.NamespacedName{ns("aaa"), ns("frrgen-node1")},
				Field:   "id",
				Values:  []string{"10.0.0.9", "10.0.0.1"},
				Message: "FRRConfiguration frr-k8s-system/aaa conflicts with frr-k8s-system/frrgen-node1 on router (default VRF): id 10.0.0.9 vs 10.0.0.1",
			},
		},
		{
			name:    "the stored version of desired is ignored",
			desired: desiredNode1,
			others:  strings.Replace(desiredNode1, "asn: 64512", "asn: 65000", 1),
		},
		{
			name:    "a user config for another node is ignored",
			desired: desiredNode1,
			others:  strings.Replace(userWithReceive, "spec:", "spec:\n  nodeSelector: {matchLabels: {kubernetes.io/hostname: node2}}", 1),
		},
		{
			name:    "a clashing config in another namespace only warns about the webhook",
			desired: desiredNode1,
			others:  strings.Replace(userWithReceive, "{name: with-recv}", "{name: with-recv, namespace: default}", 1),
			wantWarnings: []string{"the frr-k8s webhook also reads FRRConfigurations outside frr-k8s-system and would deny writing frr-k8s-system/frrgen-node1: " +
				"FRRConfiguration frr-k8s-system/frrgen-node1 conflicts with default/with-recv on neighbor 172.30.0.3 (default VRF): holdTime 180s (unset) vs 90s"},
		},
		{
			name:    "user configs that already clash are not blamed on desired",
			desired: desiredNode1,
			others: userWithReceive + `
---
metadata: {name: zzz}
spec:
  bgp:
    routers: [{asn: 65000}]`,
			want: &Conflict{
				Configs:     []types.NamespacedName{ns("zzz"), ns("with-recv")},
				Field:       "asn",
				Values:      []string{"65000", "64512"},
				AmongOthers: true,
				Message: "the node's FRRConfigurations already fail to merge without frr-k8s-system/frrgen-node1: " +
					"FRRConfiguration frr-k8s-system/zzz conflicts with frr-k8s-system/with-recv on router (default VRF): asn 65000 vs 64512",
			},
		},
		{
			name:    "an invalid user config is not blamed on desired",
			desired: desiredNode1,
			others: `
metadata: {name: bad}
spec:
  bgp:
    routers: [{asn: 64512, prefixes: [nope]}]`,
			want: &Conflict{
				Configs:     []types.NamespacedName{ns("bad")},
				Field:       "prefixes",
				Values:      []string{"nope"},
				AmongOthers: true,
				Message: "the node's FRRConfigurations already fail to merge without frr-k8s-system/frrgen-node1: " +
					`FRRConfiguration frr-k8s-system/bad is invalid: router 64512 (default VRF): prefix "nope" is not a valid CIDR`,
			},
		},
		{
			name:    "an invalid desired config is reported first",
			desired: strings.Replace(desiredNode1, "      prefixes: [192.0.2.10/32]\n", "", 1),
			others:  userWithReceive,
			want: &Conflict{
				Configs:  []types.NamespacedName{ns("frrgen-node1")},
				Neighbor: "172.30.0.3",
				Field:    "toAdvertise.allowed.prefixes",
				Values:   []string{"192.0.2.10/32"},
				Message:  "FRRConfiguration frr-k8s-system/frrgen-node1 is invalid: neighbor 172.30.0.3 (default VRF): allowed prefix 192.0.2.10/32 is not in this configuration's router prefixes (nor in an imported VRF's)",
			},
		},
		{
			name:    "a graceful-restart difference is a warning",
			desired: strings.Replace(desiredNode1, "asn: 64513\n", "asn: 64513\n        enableGracefulRestart: true\n", 1),
			others:  userCompatible,
			wantWarnings: []string{"neighbor 172.30.0.3 (default VRF): enableGracefulRestart is true in FRRConfiguration frr-k8s-system/frrgen-node1 but false in frr-k8s-system/with-recv; " +
				"frr-k8s v0.0.21 keeps either at random, frrgen assumes true"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			desired := parseConfigs(t, tc.desired)[0]
			others := parseConfigs(t, tc.others)
			if strings.Contains(tc.name, "stored version") {
				// Ensure the stale copy would clash if it were not ignored.
				if _, _, c := ForNode(append(others, desired), node1, nil); c == nil {
					t.Fatal("test setup: the stored version should clash with desired")
				}
			}
			got, warnings := Check(&desired, others, node1, nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("conflict (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// Check must not modify its inputs (the controller passes cached objects).
func TestCheckLeavesInputsAlone(t *testing.T) {
	desired := parseConfigs(t, desiredNode1)[0]
	others := parseConfigs(t, strings.Replace(userWithReceive, "{name: with-recv}", "{name: with-recv, namespace: default}", 1)+
		"\n---\n"+strings.ReplaceAll(strings.Replace(userWithReceive, "with-recv", "secret-user", 1), "asn: 64513", "asn: 64513\n        passwordSecret: {name: bgp}"))
	before := []frrv1beta1.FRRConfiguration{*desired.DeepCopy(), *others[0].DeepCopy(), *others[1].DeepCopy()}
	Check(&desired, others, node1, nil)
	if diff := cmp.Diff(before, []frrv1beta1.FRRConfiguration{desired, others[0], others[1]}); diff != "" {
		t.Errorf("inputs changed (-before +after):\n%s", diff)
	}
}
