// Package pooladdr holds the parsing of IPAddressPool addresses shared by the
// translation (which finds the pool of a service IP) and the allocator (which
// hands out addresses): one reading of "192.0.2.10-192.0.2.20" for both.
package pooladdr

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseAddressEntry turns one IPAddressPool address entry (a CIDR, host bits
// allowed, or an inclusive range "first-last") into the CIDRs that cover it
// exactly. The error text is meant to follow "address <entry>: ".
func ParseAddressEntry(entry string) ([]netip.Prefix, error) {
	if first, last, isRange := strings.Cut(entry, "-"); isRange {
		start, err := ParseIP(strings.TrimSpace(first))
		if err != nil {
			return nil, fmt.Errorf("the range start %q is not an IP address", strings.TrimSpace(first))
		}
		end, err := ParseIP(strings.TrimSpace(last))
		if err != nil {
			return nil, fmt.Errorf("the range end %q is not an IP address", strings.TrimSpace(last))
		}
		start, end = start.Unmap(), end.Unmap()
		if start.Is4() != end.Is4() {
			return nil, fmt.Errorf("the range mixes an IPv4 and an IPv6 address")
		}
		if end.Less(start) {
			return nil, fmt.Errorf("the range start %s is after its end %s", start, end)
		}
		return SummarizeRange(start, end), nil
	}
	// Unlike a range, a CIDR is not trimmed: MetalLB refuses " 10.0.0.0/24".
	p, err := netip.ParsePrefix(entry)
	if err != nil {
		return nil, fmt.Errorf("not a CIDR (such as 192.0.2.0/24) nor a range (such as 192.0.2.10-192.0.2.20)")
	}
	if p.Addr().Is4In6() {
		return nil, fmt.Errorf("IPv4-mapped IPv6 CIDRs are not supported; write the IPv4 CIDR")
	}
	return []netip.Prefix{p.Masked()}, nil
}

// ParseIP parses an IPv4 or IPv6 address the way MetalLB (net.ParseIP)
// does, which refuses an IPv6 zone such as fe80::1%eth0.
func ParseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("an IPv6 zone is not allowed in %q", s)
	}
	return a, nil
}

// SummarizeRange returns the shortest list of CIDRs covering exactly
// [start, end], in address order.
func SummarizeRange(start, end netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for {
		// The widest prefix that starts at start and does not pass end.
		bits := start.BitLen()
		for bits > 0 {
			wider := netip.PrefixFrom(start, bits-1)
			if wider.Masked().Addr() != start || end.Less(LastAddr(wider)) {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(start, bits)
		out = append(out, p)
		last := LastAddr(p)
		if last == end {
			return out
		}
		start = last.Next()
	}
}

// LastAddr is the highest address inside p.
func LastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	for i := range b {
		hostBits := max(0, min(8, (i+1)*8-p.Bits()))
		b[i] |= byte(1<<hostBits - 1)
	}
	last, _ := netip.AddrFromSlice(b)
	return last
}
