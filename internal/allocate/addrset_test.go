package allocate

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAddrSetAgainstAMap drives addrSet and a plain map with the same random
// adds and removes over a small CIDR and compares membership and the lowest
// free address after each one.
func TestAddrSetAgainstAMap(t *testing.T) {
	p := netip.MustParsePrefix("192.0.2.0/27")
	rng := rand.New(rand.NewPCG(1, 2))
	var s addrSet
	ref := map[netip.Addr]bool{}
	base := p.Addr().As4()
	for i := 0; i < 5000; i++ {
		b := base
		b[3] += byte(rng.IntN(32))
		a := netip.AddrFrom4(b)
		if rng.IntN(3) == 0 {
			s.remove(a)
			delete(ref, a)
		} else {
			s.add(a)
			ref[a] = true
		}
		for x := p.Addr(); p.Contains(x); x = x.Next() {
			if s.has(x) != ref[x] {
				t.Fatalf("step %d: has(%s) = %v, want %v", i, x, s.has(x), ref[x])
			}
		}
		want, wantOK := netip.Addr{}, false
		for x := p.Addr(); p.Contains(x); x = x.Next() {
			if !ref[x] {
				want, wantOK = x, true
				break
			}
		}
		got, ok := s.lowestFree(p, p.Addr())
		if ok != wantOK || ok && got != want {
			t.Fatalf("step %d: lowestFree = %s %v, want %s %v", i, got, ok, want, wantOK)
		}
		for j := 1; j < len(s.runs); j++ {
			if !s.runs[j-1].last.Next().Less(s.runs[j].first) {
				t.Fatalf("step %d: runs %v and %v touch or overlap", i, s.runs[j-1], s.runs[j])
			}
		}
	}
}

func TestAddrSetTopOfAddressSpace(t *testing.T) {
	p := netip.MustParsePrefix("255.255.255.254/31")
	var s addrSet
	s.add(netip.MustParseAddr("255.255.255.254"))
	s.add(netip.MustParseAddr("255.255.255.255"))
	if got, ok := s.lowestFree(p, p.Addr()); ok {
		t.Fatalf("lowestFree of a full /31 at the top = %s, want none", got)
	}
}
