package merge

import corev1 "k8s.io/api/core/v1"

// validationCases: rules each configuration must satisfy on its own.
var validationCases = []mergeCase{
	{
		name: "allowed prefix from another config's router is not self-contained",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {prefixes: [192.0.2.0/24]}}`,
		wantConflict: `FRRConfiguration frr-k8s-system/b is invalid: neighbor 172.30.0.3 (default VRF): allowed prefix 192.0.2.0/24 is not in this configuration's router prefixes (nor in an imported VRF's)`,
	},
	{
		name: "allowed prefix from an imported VRF of the same config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      imports: [{vrf: red}]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {prefixes: [198.51.100.0/24]}}
    - asn: 64512
      vrf: red
      prefixes: [198.51.100.0/24]`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  importVRFs: [red]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise: {prefixesV4: [198.51.100.0/24]}
    receive: {}
- asn: 64512
  vrf: red
  prefixesV4: [198.51.100.0/24]`,
	},
	{
		name: "import of a VRF defined only in another config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      imports: [{vrf: red}]
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: router 64512 (default VRF) imports VRF "red", which has no router in this configuration`,
	},
	{
		name: "import of default needs a default-VRF router in the same config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
      imports: [{vrf: default}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: router 64512 (VRF red) imports VRF "default", which has no router in this configuration`,
	},
	{
		name: "mode all advertises the imported default VRF's prefixes",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
    - asn: 64512
      vrf: red
      imports: [{vrf: default}]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {mode: all}}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
- asn: 64512
  vrf: red
  importVRFs: [default]
  neighbors:
  - id: 172.30.0.3-red
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise: {prefixesV4: [192.0.2.0/24]}
    receive: {}`,
	},
	{
		name: "mode all expands only to the same config's prefixes (frr-k8s#106)",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {mode: all}}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [198.51.100.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24, 198.51.100.0/24]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise: {prefixesV4: [192.0.2.0/24]}
    receive: {}`,
	},
	{
		name: "mode all on an IPv4 neighbor leaves IPv6 prefixes out",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 2001:db8::/64]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {mode: all}}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  prefixesV6: [2001:db8::/64]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise: {prefixesV4: [192.0.2.0/24]}
    receive: {}`,
	},
	{
		name: "mode all on a dual-stack neighbor advertises both families",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 2001:db8::/64]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        dualStackAddressFamily: true
        toAdvertise:
          allowed: {mode: all}
          withCommunity:
          - {community: "65000:1", prefixes: [192.0.2.0/24, 2001:db8::/64]}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  prefixesV6: [2001:db8::/64]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: dual
    advertise:
      prefixesV4: [192.0.2.0/24]
      prefixesV6: [2001:db8::/64]
      communities: [{community: "65000:1", prefixes: [192.0.2.0/24, 2001:db8::/64]}]
    receive: {}`,
	},
	{
		name: "localPref on a prefix that is not allowed to the neighbor",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 198.51.100.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {prefixes: [192.0.2.0/24]}
          withLocalPref: [{localPref: 200, prefixes: [198.51.100.0/24]}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): localPref 200: prefix 198.51.100.0/24 is not allowed to this neighbor`,
	},
	{
		name: "community on a prefix that is not allowed to the neighbor",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          withCommunity: [{community: "65000:1", prefixes: [192.0.2.0/24]}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): community 65000:1: prefix 192.0.2.0/24 is not allowed to this neighbor`,
	},
	{
		name: "bfdProfile defined only in another config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    bfdProfiles: [{name: fast}]
    routers:
    - asn: 64512
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, bfdProfile: fast}`,
		wantConflict: `FRRConfiguration frr-k8s-system/b is invalid: neighbor 172.30.0.3 (default VRF): bfdProfile "fast" is not defined in this configuration`,
	},
	{
		name: "two withCommunity entries for one community",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 198.51.100.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withCommunity:
          - {community: "65000:1", prefixes: [192.0.2.0/24]}
          - {community: "65000:01", prefixes: [198.51.100.0/24]}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): community 65000:01 has more than one entry`,
	},
	{
		name: "two withLocalPref entries for one value",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 198.51.100.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withLocalPref:
          - {localPref: 200, prefixes: [192.0.2.0/24]}
          - {localPref: 200, prefixes: [198.51.100.0/24]}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): localPref 200 has more than one entry`,
	},
	{
		// frr-k8s checks for an earlier entry of the value before it skips
		// an entry without prefixes of the family (found by TestDaemonAgrees).
		name: "a second withLocalPref entry for one value clashes even when empty",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withLocalPref:
          - {localPref: 200, prefixes: [192.0.2.0/24]}
          - {localPref: 200, prefixes: []}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): localPref 200 has more than one entry`,
	},
	{
		name: "a second withCommunity entry for one community clashes even when empty",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withCommunity:
          - {community: "65000:1", prefixes: [192.0.2.0/24]}
          - {community: "65000:1", prefixes: []}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): community 65000:1 has more than one entry`,
	},
	{
		name: "two withLocalPref entries for one value clash even when each holds one family",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, "2001:db8::/64"]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        dualStackAddressFamily: true
        toAdvertise:
          allowed: {mode: all}
          withLocalPref:
          - {localPref: 200, prefixes: [192.0.2.0/24]}
          - {localPref: 200, prefixes: ["2001:db8::/64"]}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): localPref 200 has more than one entry`,
	},
	{
		name: "two withCommunity entries for one community clash even when each holds one family",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, "2001:db8::/64"]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        dualStackAddressFamily: true
        toAdvertise:
          allowed: {mode: all}
          withCommunity:
          - {community: "65000:1", prefixes: [192.0.2.0/24]}
          - {community: "65000:1", prefixes: ["2001:db8::/64"]}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): community 65000:1 has more than one entry`,
	},
	{
		name: "withLocalPref entries for one value that are all empty are accepted",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withLocalPref:
          - {localPref: 200, prefixes: []}
          - {localPref: 200, prefixes: []}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise: {prefixesV4: [192.0.2.0/24]}
    receive: {}`,
	},
	{
		// frr-k8s checks allowed prefixes per router entry (checked against
		// the daemon by TestDaemonAgrees, like the cases below).
		name: "a router entry may not advertise another entry's prefix of the same VRF",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
    - asn: 64512
      prefixes: [198.51.100.0/24]
      neighbors: [{address: 172.30.0.3, asn: 64513, toAdvertise: {allowed: {prefixes: [192.0.2.0/24]}}}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): allowed prefix 192.0.2.0/24 is not in this configuration's router prefixes (nor in an imported VRF's)`,
	},
	{
		name: "an import sees the prefixes of the last router entry of that VRF",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
      prefixes: [192.0.2.0/24]
    - asn: 64512
      vrf: red
      prefixes: [198.51.100.0/24]
    - asn: 64512
      imports: [{vrf: red}]
      neighbors: [{address: 172.30.0.3, asn: 64513, toAdvertise: {allowed: {prefixes: [192.0.2.0/24]}}}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): allowed prefix 192.0.2.0/24 is not in this configuration's router prefixes (nor in an imported VRF's)`,
	},
	{
		name: "a v4-mapped IPv6 neighbor address is an IPv4 neighbor",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors: [{address: "::ffff:172.30.0.3", asn: 64513, toAdvertise: {allowed: {mode: all}}}]`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  neighbors:
  - id: "::ffff:172.30.0.3"
    address: "::ffff:172.30.0.3"
    asn: "64513"
    family: ipv4
    advertise: {prefixesV4: [192.0.2.0/24]}
    receive: {}`,
	},
	{
		name: "one prefix under two localPrefs in one config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withLocalPref:
          - {localPref: 200, prefixes: [192.0.2.0/24]}
          - {localPref: 300, prefixes: [192.0.2.0/24]}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): prefix 192.0.2.0/24 has both localPref 200 and 300`,
	},
	{
		name: "IPv6 prefix allowed to an IPv4 neighbor",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [2001:db8::/64]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {prefixes: [2001:db8::/64]}}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): toAdvertise.allowed.prefixes: ipv6 prefix 2001:db8::/64 does not fit the neighbor's family ipv4`,
	},
	{
		name: "IPv4 localPref prefix on an IPv6 neighbor",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: "2001:db8::3"
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withLocalPref: [{localPref: 200, prefixes: [192.0.2.0/24]}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 2001:db8::3 (default VRF): toAdvertise.withLocalPref: ipv4 prefix 192.0.2.0/24 does not fit the neighbor's family ipv6`,
	},
	{
		name: "holdTime without keepaliveTime",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 90s}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): holdTime and keepaliveTime must be set together`,
	},
	{
		name: "holdTime below 3s",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 2s, keepaliveTime: 1s}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): holdTime 2s must be 0 or at least 3s`,
	},
	{
		name: "keepaliveTime longer than holdTime",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 9s, keepaliveTime: 10s}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): keepaliveTime 10s is longer than holdTime 9s`,
	},
	{
		name: "zero timers are kept: 0s is not the default",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 0s, keepaliveTime: 0s, connectTime: 2s}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    holdTime: 0s
    keepaliveTime: 0s
    connectTime: 2s
    advertise: {}
    receive: {}`,
	},
	{
		// The CRD refuses fractions of a second; this covers objects
		// read from files by `frrgen merge`.
		name: "connectTime is truncated to whole seconds",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, connectTime: 1500ms}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    connectTime: 1s
    advertise: {}
    receive: {}`,
	},
	{
		name: "a hold time under a second is 0s, which is allowed",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, holdTime: 500ms, keepaliveTime: 500ms}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    holdTime: 0s
    keepaliveTime: 0s
    advertise: {}
    receive: {}`,
	},
	{
		name: "address and interface both set",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, interface: eth1, asn: 64513}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor eth1 (default VRF): both address 172.30.0.3 and interface eth1 are set`,
	},
	{
		name: "neither address nor interface",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {asn: 64513}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: a neighbor with asn 64513 has neither address nor interface`,
	},
	{
		name: "asn and dynamicASN both set",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, dynamicASN: external}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): both asn 64513 and dynamicASN external are set`,
	},
	{
		name: "neither asn nor dynamicASN",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): neither asn nor dynamicASN is set`,
	},
	{
		name: "unknown dynamicASN",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, dynamicASN: outer}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): dynamicASN "outer" is neither internal nor external`,
	},
	{
		name: "router prefix that is not a CIDR",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.1]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: router 64512 (default VRF): prefix "192.0.2.1" is not a valid CIDR`,
	},
	{
		name: "neighbor address that is not an IP",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: peer.example, asn: 64513}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor peer.example (default VRF): address "peer.example" is not an IP address`,
	},
	{
		name: "allowed prefix that is not a CIDR",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise: {allowed: {prefixes: [not-a-prefix]}}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): toAdvertise.allowed.prefixes: "not-a-prefix" is not a valid CIDR`,
	},
	{
		name: "password and passwordSecret both set",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, password: s3cret, passwordSecret: {name: bgp}}`,
		secrets:      []corev1.Secret{basicAuthSecret("bgp", "s3cret")},
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): both password and passwordSecret are set`,
	},
	{
		name: "passwordSecret that does not exist",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, passwordSecret: {name: bgp}}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): passwordSecret: Secret frr-k8s-system/bgp not found`,
	},
	{
		name: "passwordSecret is looked up in the config's namespace only",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, passwordSecret: {name: bgp, namespace: metallb-system}}`,
		secrets: func() []corev1.Secret {
			s := basicAuthSecret("bgp", "s3cret")
			s.Namespace = "metallb-system"
			return []corev1.Secret{s}
		}(),
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): passwordSecret: Secret frr-k8s-system/bgp not found`,
	},
	{
		name: "a passwordSecret with an empty password equals no password",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors: [{address: 172.30.0.3, asn: 64513, passwordSecret: {name: bgp}}]
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors: [{address: 172.30.0.3, asn: 64513}]`,
		secrets: []corev1.Secret{basicAuthSecret("bgp", "")},
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise: {}
    receive: {}`,
	},
	{
		name: "passwordSecret of the wrong type",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, passwordSecret: {name: bgp}}`,
		secrets: func() []corev1.Secret {
			s := basicAuthSecret("bgp", "s3cret")
			s.Type = corev1.SecretTypeOpaque
			return []corev1.Secret{s}
		}(),
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): passwordSecret: Secret frr-k8s-system/bgp has type "Opaque", want "kubernetes.io/basic-auth"`,
	},
	{
		name: "passwordSecret without a password key",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - {address: 172.30.0.3, asn: 64513, passwordSecret: {name: bgp}}`,
		secrets: func() []corev1.Secret {
			s := basicAuthSecret("bgp", "s3cret")
			delete(s.Data, "password")
			return []corev1.Secret{s}
		}(),
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): passwordSecret: Secret frr-k8s-system/bgp has no key "password"`,
	},
	{
		name: "well-known community names are rejected",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withCommunity: [{community: no-advertise, prefixes: [192.0.2.0/24]}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): community "no-advertise" is neither A:B (16-bit numbers) nor large:A:B:C (32-bit numbers)`,
	},
	{
		name: "legacy community values above 16 bits",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withCommunity: [{community: "65536:1", prefixes: [192.0.2.0/24]}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): community "65536:1" is neither A:B (16-bit numbers) nor large:A:B:C (32-bit numbers)`,
	},
	{
		name: "receive selector with ge above le",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toReceive: {allowed: {prefixes: [{prefix: 10.0.0.0/8, le: 24, ge: 28}]}}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): receive prefix 10.0.0.0/8: ge 28 is greater than le 24`,
	},
	{
		name: "receive selector with le shorter than the mask",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toReceive: {allowed: {prefixes: [{prefix: 10.0.0.0/16, le: 8}]}}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: neighbor 172.30.0.3 (default VRF): receive prefix 10.0.0.0/16: mask length 16 is greater than le 8`,
	},
	{
		name: "one BFD profile name twice in a config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    bfdProfiles: [{name: fast}, {name: fast, detectMultiplier: 3}]
    routers:
    - asn: 64512`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: BFD profile "fast" is defined twice`,
	},
}
