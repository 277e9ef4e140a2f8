package merge

// twoAdvertisers are two configs advertising different prefixes, with
// communities and local preferences, to one neighbor.
const twoAdvertisers = `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 198.51.100.0/24, 2001:db8::/64]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        dualStackAddressFamily: true
        toAdvertise:
          allowed: {mode: all}
          withCommunity:
          - {community: "65000:1", prefixes: [192.0.2.0/24, 2001:db8::/64]}
          - {community: "large:1:2:3", prefixes: [198.51.100.0/24]}
          withLocalPref:
          - {localPref: 200, prefixes: [192.0.2.0/24]}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [198.51.100.0/24, 203.0.113.0/24, 2001:db8:1::/64]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        dualStackAddressFamily: true
        toAdvertise:
          allowed: {prefixes: [198.51.100.0/24, 203.0.113.0/24, 2001:db8:1::/64]}
          withCommunity:
          - {community: "65000:01", prefixes: [203.0.113.0/24]}
          - {community: "65000:2", prefixes: [198.51.100.0/24]}
          withLocalPref:
          - {localPref: 200, prefixes: [203.0.113.0/24]}
          - {localPref: 50, prefixes: [2001:db8:1::/64]}
`

// unionCases: everything that configs add to each other.
var unionCases = []mergeCase{
	{
		name:    "advertised prefixes, communities and localPrefs are unioned",
		configs: twoAdvertisers,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24]
  prefixesV6: [2001:db8:1::/64, 2001:db8::/64]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: dual
    advertise:
      prefixesV4: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24]
      prefixesV6: [2001:db8:1::/64, 2001:db8::/64]
      localPrefs:
      - {localPref: 50, prefixes: [2001:db8:1::/64]}
      - {localPref: 200, prefixes: [192.0.2.0/24, 203.0.113.0/24]}
      communities:
      - {community: "65000:1", prefixes: [192.0.2.0/24, 2001:db8::/64, 203.0.113.0/24]}
      - {community: "65000:2", prefixes: [198.51.100.0/24]}
      - {community: "large:1:2:3", prefixes: [198.51.100.0/24]}
    receive: {}`,
	},
	{
		name: "the same prefix with two localPrefs across configs",
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
          withLocalPref: [{localPref: 200, prefixes: [192.0.2.0/24]}]
---
metadata: {name: b}
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
          withLocalPref: [{localPref: 100, prefixes: [192.0.2.0/24]}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/b conflicts with frr-k8s-system/a on neighbor 172.30.0.3 (default VRF): toAdvertise.withLocalPref: prefix 192.0.2.0/24 has localPref 100 vs 200`,
	},
	{
		name: "the same prefix with two communities across configs gets both",
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
          withCommunity: [{community: "65000:1", prefixes: [192.0.2.0/24]}]
---
metadata: {name: b}
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
          withCommunity: [{community: "65000:2", prefixes: [192.0.2.0/24]}]`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  neighbors:
  - id: 172.30.0.3
    address: 172.30.0.3
    asn: "64513"
    family: ipv4
    advertise:
      prefixesV4: [192.0.2.0/24]
      communities:
      - {community: "65000:1", prefixes: [192.0.2.0/24]}
      - {community: "65000:2", prefixes: [192.0.2.0/24]}
    receive: {}`,
	},
	{
		name: "receive filters are unioned by prefix, le and ge",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toReceive:
          allowed:
            prefixes:
            - {prefix: 10.0.0.0/8}
            - {prefix: "2001:db8::/32", ge: 48}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toReceive:
          allowed:
            mode: filtered
            prefixes:
            - {prefix: 10.0.0.0/8, le: 32}
            - {prefix: 10.0.0.0/8}
            - {prefix: 172.16.0.0/12, le: 24, ge: 16}`,
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
    receive:
      filters:
      - {prefix: 10.0.0.0/8}
      - {prefix: 10.0.0.0/8, le: 32}
      - {prefix: 172.16.0.0/12, le: 24, ge: 16}
      - {prefix: "2001:db8::/32", ge: 48}`,
	},
	{
		name: "receive mode all wins over filters and empties them",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toReceive: {allowed: {prefixes: [{prefix: 10.0.0.0/8}]}}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toReceive: {allowed: {mode: all}}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  neighbors:
  - {id: 172.30.0.3, address: 172.30.0.3, asn: "64513", family: ipv4, advertise: {}, receive: {all: true}}`,
	},
	{
		name: "neighbors of different configs are unioned",
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
      - {address: "2001:db8::3", asn: 64514}
      - {address: 172.30.0.10, asn: 64515}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  neighbors:
  - {id: 172.30.0.10, address: 172.30.0.10, asn: "64515", family: ipv4, advertise: {}, receive: {}}
  - {id: 172.30.0.3, address: 172.30.0.3, asn: "64513", family: ipv4, advertise: {}, receive: {}}
  - {id: "2001:db8::3", address: "2001:db8::3", asn: "64514", family: ipv6, advertise: {}, receive: {}}`,
	},
	{
		name: "identical BFD profiles of the same name are one; unset modes equal false",
		configs: `
metadata: {name: a}
spec:
  bgp:
    bfdProfiles: [{name: fast, receiveInterval: 100, echoMode: false}]
    routers:
    - asn: 64512
---
metadata: {name: b}
spec:
  bgp:
    bfdProfiles: [{name: fast, receiveInterval: 100}, {name: echo, echoMode: true, passiveMode: true, minimumTtl: 10}]
    routers:
    - asn: 64512`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers: [{asn: 64512}]
bfdProfiles:
- {name: echo, echoMode: true, passiveMode: true, minimumTtl: 10}
- {name: fast, receiveInterval: 100}`,
	},
	{
		name: "BFD profiles of the same name with different values",
		configs: `
metadata: {name: a}
spec:
  bgp:
    bfdProfiles: [{name: fast, receiveInterval: 100}]
---
metadata: {name: b}
spec:
  bgp:
    bfdProfiles: [{name: fast, receiveInterval: 200}]`,
		wantConflict: `FRRConfiguration frr-k8s-system/b conflicts with frr-k8s-system/a on BFD profile fast: different values {receiveInterval: 200, transmitInterval: unset, detectMultiplier: unset, echoInterval: unset, echoMode: false, passiveMode: false, minimumTtl: unset} vs {receiveInterval: 100, transmitInterval: unset, detectMultiplier: unset, echoInterval: unset, echoMode: false, passiveMode: false, minimumTtl: unset}`,
	},
	{
		name: "raw snippets by priority, then config name, then namespace",
		configs: `
metadata: {name: z, namespace: ns-a}
spec:
  raw: {priority: 1, rawConfig: "! z"}
---
metadata: {name: b, namespace: ns-b}
spec:
  raw: {priority: 5, rawConfig: "! b in ns-b"}
---
metadata: {name: b, namespace: ns-a}
spec:
  raw: {priority: 5, rawConfig: "! b in ns-a"}
---
metadata: {name: a, namespace: ns-z}
spec:
  raw: {priority: 5, rawConfig: "! a"}
---
metadata: {name: none, namespace: ns-a}
spec:
  bgp:
    routers: [{asn: 64512}]`,
		want: `
configs: [ns-a/b, ns-a/none, ns-a/z, ns-b/b, ns-z/a]
routers: [{asn: 64512}]
rawConfig:
- {config: ns-a/z, priority: 1, rawConfig: "! z"}
- {config: ns-z/a, priority: 5, rawConfig: "! a"}
- {config: ns-a/b, priority: 5, rawConfig: "! b in ns-a"}
- {config: ns-b/b, priority: 5, rawConfig: "! b in ns-b"}`,
	},
	{
		name: "communities are written canonically and merged on their value",
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
          - {community: "large:01:2:3", prefixes: [192.0.2.0/24]}
          - {community: "0:65535", prefixes: [198.51.100.0/24]}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [198.51.100.0/24]
      neighbors:
      - address: 172.30.0.3
        asn: 64513
        toAdvertise:
          allowed: {mode: all}
          withCommunity:
          - {community: "large:1:2:3", prefixes: [198.51.100.0/24]}`,
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
    advertise:
      prefixesV4: [192.0.2.0/24, 198.51.100.0/24]
      communities:
      - {community: "0:65535", prefixes: [198.51.100.0/24]}
      - {community: "large:1:2:3", prefixes: [192.0.2.0/24, 198.51.100.0/24]}
    receive: {}`,
	},
	{
		name: "one localPref value may list prefixes of both families on a dual-stack neighbor",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 2001:db8::/64]
      neighbors:
      - address: "2001:db8::3"
        asn: 64513
        dualStackAddressFamily: true
        toAdvertise:
          allowed: {mode: all}
          withLocalPref: [{localPref: 300, prefixes: [192.0.2.0/24, 2001:db8::/64]}]`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24]
  prefixesV6: [2001:db8::/64]
  neighbors:
  - id: "2001:db8::3"
    address: "2001:db8::3"
    asn: "64513"
    family: dual
    advertise:
      prefixesV4: [192.0.2.0/24]
      prefixesV6: [2001:db8::/64]
      localPrefs: [{localPref: 300, prefixes: [192.0.2.0/24, 2001:db8::/64]}]
    receive: {}`,
	},
}
