package merge

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ours is a config like the one frrgen writes for node1, to clash with.
const ours = `
metadata: {name: frrgen-node1}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: node1}}
  bgp:
    bfdProfiles: [{name: fast, detectMultiplier: 3}]
    routers:
    - asn: 64512
      id: 10.0.0.1
      prefixes: [192.0.2.10/32]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        port: 1179
        sourceaddress: 172.30.0.2
        password: s3cret
        bfdProfile: fast
        ebgpMultiHop: true
        holdTime: 90s
        keepaliveTime: 30s
        connectTime: 10s
        toAdvertise: {allowed: {prefixes: [192.0.2.10/32]}}
`

// userNeighbor is a user config that repeats our neighbor with the given
// YAML field lines (indented for the neighbor) to receive routes from it.
func userNeighbor(fields ...string) string {
	lines := ""
	for _, f := range fields {
		lines += "\n        " + f
	}
	return ours + `---
metadata: {name: with-recv}
spec:
  bgp:
    bfdProfiles: [{name: fast, detectMultiplier: 3}, {name: slow, detectMultiplier: 10}]
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3` + lines + `
        toReceive: {allowed: {mode: all}}`
}

// matching are the fields of ours that a user config must repeat.
var matching = []string{"asn: 64513", "port: 1179", "sourceaddress: 172.30.0.2", "password: s3cret",
	"bfdProfile: fast", "ebgpMultiHop: true", "holdTime: 90s", "keepaliveTime: 30s", "connectTime: 10s"}

// matchingExcept returns matching with the field named key replaced by
// replacement ("" drops it).
func matchingExcept(key, replacement string) []string {
	var out []string
	for _, f := range matching {
		if strings.HasPrefix(f, key+":") {
			if replacement != "" {
				out = append(out, replacement)
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

func clashWithOurs(detail string) string {
	return "FRRConfiguration frr-k8s-system/with-recv conflicts with frr-k8s-system/frrgen-node1 on neighbor 172.30.0.3 (default VRF): " + detail
}

const oursMergedWithReceiveAll = `
configs: [frr-k8s-system/frrgen-node1, frr-k8s-system/with-recv]
routers:
- asn: 64512
  id: 10.0.0.1
  prefixesV4: [192.0.2.10/32]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    port: 1179
    sourceAddress: 172.30.0.2
    holdTime: 90s
    keepaliveTime: 30s
    connectTime: 10s
    hasPassword: true
    bfdProfile: fast
    ebgpMultiHop: true
    advertise: {prefixesV4: [192.0.2.10/32]}
    receive: {all: true}
bfdProfiles: [{name: fast, detectMultiplier: 3}, {name: slow, detectMultiplier: 10}]`

// neighborCases: must-match session fields, their defaults and the order
// in which frr-k8s checks them.
var neighborCases = []mergeCase{
	{
		name:    "user config repeating every session field merges",
		configs: userNeighbor(matching...),
		want:    oursMergedWithReceiveAll,
	},
	{
		name:    "password from a basic-auth Secret equals the same cleartext password",
		configs: userNeighbor(matchingExcept("password", "passwordSecret: {name: bgp}")...),
		secrets: []corev1.Secret{basicAuthSecret("bgp", "s3cret")},
		want:    oursMergedWithReceiveAll,
	},
	{
		name:         "password from a Secret that differs",
		configs:      userNeighbor(matchingExcept("password", "passwordSecret: {name: bgp}")...),
		secrets:      []corev1.Secret{basicAuthSecret("bgp", "other")},
		wantConflict: clashWithOurs("password differs (values not shown)"),
	},
	{
		name:         "password missing",
		configs:      userNeighbor(matchingExcept("password", "")...),
		wantConflict: clashWithOurs("password differs (values not shown)"),
	},
	{
		name:         "asn differs",
		configs:      userNeighbor(matchingExcept("asn", "asn: 64514")...),
		wantConflict: clashWithOurs("asn 64514 vs 64513"),
	},
	{
		name:         "dynamicASN is not the same as a number",
		configs:      userNeighbor(matchingExcept("asn", "dynamicASN: external")...),
		wantConflict: clashWithOurs("asn external vs 64513"),
	},
	{
		name:         "port differs",
		configs:      userNeighbor(matchingExcept("port", "")...),
		wantConflict: clashWithOurs("port 179 (unset) vs 1179"),
	},
	{
		name:         "sourceaddress differs",
		configs:      userNeighbor(matchingExcept("sourceaddress", "")...),
		wantConflict: clashWithOurs("sourceaddress unset vs 172.30.0.2"),
	},
	{
		name:         "bfdProfile unset is a conflict in v0.0.21 (metallb#2904)",
		configs:      userNeighbor(matchingExcept("bfdProfile", "")...),
		wantConflict: clashWithOurs("bfdProfile unset vs fast"),
	},
	{
		name:         "bfdProfile names another profile",
		configs:      userNeighbor(matchingExcept("bfdProfile", "bfdProfile: slow")...),
		wantConflict: clashWithOurs("bfdProfile slow vs fast"),
	},
	{
		name:         "ebgpMultiHop differs",
		configs:      userNeighbor(matchingExcept("ebgpMultiHop", "")...),
		wantConflict: clashWithOurs("ebgpMultiHop false vs true"),
	},
	{
		name:         "dualStackAddressFamily differs",
		configs:      userNeighbor(append(matching, "dualStackAddressFamily: true")...),
		wantConflict: clashWithOurs("dualStackAddressFamily dual vs ipv4"),
	},
	{
		name:         "holdTime unset stands for 180s (eco-gotests#355)",
		configs:      userNeighbor(matchingExcept("holdTime", "")[0:6]...),
		wantConflict: clashWithOurs("holdTime 180s (unset) vs 90s"),
	},
	{
		name:         "keepaliveTime differs",
		configs:      userNeighbor(matchingExcept("keepaliveTime", "keepaliveTime: 20s")...),
		wantConflict: clashWithOurs("keepaliveTime 20s vs 30s"),
	},
	{
		name:         "connectTime unset stands for 60s",
		configs:      userNeighbor(matchingExcept("connectTime", "")...),
		wantConflict: clashWithOurs("connectTime 60s (unset) vs 10s"),
	},
	{
		name:         "the first differing field in frr-k8s's order is reported",
		configs:      userNeighbor("asn: 64513", "holdTime: 60s", "keepaliveTime: 20s"),
		wantConflict: clashWithOurs("port 179 (unset) vs 1179"),
	},
	{
		name:         "a bare user neighbor clashes on the port first",
		configs:      userNeighbor("asn: 64513"),
		wantConflict: clashWithOurs("port 179 (unset) vs 1179"),
	},
	{
		name: "explicit defaults equal unset fields and are cleaned",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, port: 179, holdTime: 180s, keepaliveTime: 60s, connectTime: 60s}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  neighbors:
  - {id: 172.30.0.3, address: 172.30.0.3, asn: "64513", family: ipv4, advertise: {}, receive: {}}`,
	},
	{
		name: "holdTime 0s is not the default",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 0s, keepaliveTime: 0s}`,
		wantConflict: `FRRConfiguration frr-k8s-system/b conflicts with frr-k8s-system/a on neighbor 172.30.0.3 (default VRF): holdTime 0s vs 180s (unset)`,
	},
	{
		name: "timers are compared in whole seconds",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 90s, keepaliveTime: 30s}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 90500ms, keepaliveTime: 30s}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  neighbors:
  - {id: 172.30.0.3, address: 172.30.0.3, asn: "64513", family: ipv4, holdTime: 90s, keepaliveTime: 30s, advertise: {}, receive: {}}`,
	},
	{
		name: "one neighbor twice in one config with different hold times",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513}
      - {address: 172.30.0.3, asn: 64513, holdTime: 30s, keepaliveTime: 10s}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: it defines neighbor 172.30.0.3 (default VRF) twice: holdTime 30s vs 180s (unset)`,
	},
	{
		name: "the same address in two VRFs is two neighbors",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
      neighbors:
      - {address: 172.30.0.3, asn: 64514}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  neighbors:
  - {id: 172.30.0.3, address: 172.30.0.3, asn: "64513", family: ipv4, advertise: {}, receive: {}}
- asn: 64512
  vrf: red
  neighbors:
  - {id: 172.30.0.3-red, address: 172.30.0.3, asn: "64514", family: ipv4, advertise: {}, receive: {}}`,
	},
	{
		name: "VRF neighbors clash under their VRF id",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
      neighbors:
      - {address: 172.30.0.3, dynamicASN: internal}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
      neighbors:
      - {address: 172.30.0.3, dynamicASN: external}`,
		wantConflict: `FRRConfiguration frr-k8s-system/b conflicts with frr-k8s-system/a on neighbor 172.30.0.3-red (VRF red): asn external vs internal`,
	},
	{
		name: "an interface neighbor is keyed by interface and dual-stack",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 2001:db8::/64]
      neighbors:
      - interface: eth1
        dynamicASN: external
        toAdvertise: {allowed: {prefixes: [192.0.2.0/24, 2001:db8::/64]}}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - interface: eth1
        dynamicASN: external
        toReceive: {allowed: {prefixes: [{prefix: "2001:db8:1::/48", le: 64}]}}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  prefixesV6: [2001:db8::/64]
  neighbors:
  - id: eth1
    interface: eth1
    asn: external
    family: dual
    advertise: {prefixesV4: [192.0.2.0/24], prefixesV6: [2001:db8::/64]}
    receive: {filters: [{prefix: "2001:db8:1::/48", le: 64}]}`,
	},
	{
		name:         "enableGracefulRestart differing is a warning, true wins",
		configs:      userNeighbor(append(matching, "enableGracefulRestart: true")...),
		want:         strings.Replace(oursMergedWithReceiveAll, "ebgpMultiHop: true", "ebgpMultiHop: true\n    enableGracefulRestart: true", 1),
		wantWarnings: []string{gracefulWarning("with-recv", "frrgen-node1")},
	},
	{
		name: "enableGracefulRestart equal everywhere gives no warning",
		configs: strings.Replace(userNeighbor(append(matching, "enableGracefulRestart: true")...),
			"ebgpMultiHop: true\n        holdTime", "ebgpMultiHop: true\n        enableGracefulRestart: true\n        holdTime", 1),
		want: strings.Replace(oursMergedWithReceiveAll, "ebgpMultiHop: true", "ebgpMultiHop: true\n    enableGracefulRestart: true", 1),
	},
}

func gracefulWarning(on, off string) string {
	return fmt.Sprintf("neighbor 172.30.0.3 (default VRF): enableGracefulRestart is true in FRRConfiguration frr-k8s-system/%s but false in frr-k8s-system/%s; frr-k8s v0.0.21 keeps either at random, frrgen assumes true", on, off)
}
