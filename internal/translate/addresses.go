package translate

import "net/netip"

// family is a bit set of address families, so that a dual-stack neighbor
// (both bits) accepts a prefix of either family with one AND.
type family uint8

const (
	familyV4   family = 1
	familyV6   family = 2
	familyDual        = familyV4 | familyV6
)

func familyOf(a netip.Addr) family {
	if a.Is4() {
		return familyV4
	}
	return familyV6
}

// comparePrefixes is the one prefix order used everywhere in the output:
// IPv4 before IPv6, then by address, then shorter prefix first.
func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
