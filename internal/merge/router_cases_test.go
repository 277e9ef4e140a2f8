package merge

// routerCases: merging routers per VRF.
var routerCases = []mergeCase{
	{
		name: "different ASNs for the same VRF",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 65000
      vrf: red`,
		wantConflict: `FRRConfiguration frr-k8s-system/b conflicts with frr-k8s-system/a on router (VRF red): asn 65000 vs 64512`,
	},
	{
		name: "different ASNs in different VRFs, default VRF first",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      vrf: red
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 65000`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 65000
- asn: 64512
  vrf: red`,
	},
	{
		name: "different router ids",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - {asn: 64512, id: 10.0.0.1}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - {asn: 64512, id: 10.0.0.2}`,
		wantConflict: `FRRConfiguration frr-k8s-system/b conflicts with frr-k8s-system/a on router (default VRF): id 10.0.0.2 vs 10.0.0.1`,
	},
	{
		name: "an unset router id takes the other config's",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - {asn: 64512}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - {asn: 64512, id: 10.0.0.2}
---
metadata: {name: c}
spec:
  bgp:
    routers:
    - {asn: 64512}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b, frr-k8s-system/c]
routers:
- {asn: 64512, id: 10.0.0.2}`,
	},
	{
		name: "a router id clash is reported against the config that set it",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - {asn: 64512}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - {asn: 64512, id: 10.0.0.2}
---
metadata: {name: c}
spec:
  bgp:
    routers:
    - {asn: 64512, id: 10.0.0.3}`,
		wantConflict: `FRRConfiguration frr-k8s-system/c conflicts with frr-k8s-system/b on router (default VRF): id 10.0.0.3 vs 10.0.0.2`,
	},
	{
		name: "router prefixes and imports are unioned, strings not canonicalised",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 2001:db8::/64]
      imports: [{vrf: red}]
    - {asn: 64512, vrf: red}
---
metadata: {name: b}
spec:
  bgp:
    routers:
    - asn: 64512
      prefixes: [192.0.2.0/24, 198.51.100.0/24, 2001:0db8::/64]
      imports: [{vrf: blue}]
    - {asn: 64512, vrf: blue}`,
		want: `
configs: [frr-k8s-system/a, frr-k8s-system/b]
routers:
- asn: 64512
  prefixesV4: [192.0.2.0/24, 198.51.100.0/24]
  prefixesV6: [2001:0db8::/64, 2001:db8::/64]
  importVRFs: [blue, red]
- {asn: 64512, vrf: blue}
- {asn: 64512, vrf: red}`,
	},
	{
		name: "two routers for one VRF inside one config are merged",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - {asn: 64512, prefixes: [192.0.2.0/24]}
    - {asn: 64512, id: 10.0.0.1, prefixes: [198.51.100.0/24]}`,
		want: `
configs: [frr-k8s-system/a]
routers:
- asn: 64512
  id: 10.0.0.1
  prefixesV4: [192.0.2.0/24, 198.51.100.0/24]`,
	},
	{
		name: "two routers for one VRF with different ASNs inside one config",
		configs: `
metadata: {name: a}
spec:
  bgp:
    routers:
    - {asn: 64512}
    - {asn: 64513}`,
		wantConflict: `FRRConfiguration frr-k8s-system/a is invalid: it defines router (default VRF) twice: asn 64513 vs 64512`,
	},
}
