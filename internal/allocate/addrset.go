package allocate

import (
	"net/netip"
	"sort"
)

// addrSet is a set of addresses kept as sorted, disjoint, non-adjacent
// inclusive runs, so that "the lowest address of a CIDR not in the set" costs
// a binary search however many addresses are taken: MetalLB scans every
// address from the start of the CIDR, which is quadratic over a pool.
type addrSet struct {
	runs []addrRun
}

type addrRun struct{ first, last netip.Addr }

// find returns the index of the first run whose last address is >= a.
func (s *addrSet) find(a netip.Addr) int {
	return sort.Search(len(s.runs), func(i int) bool { return !s.runs[i].last.Less(a) })
}

func (s *addrSet) has(a netip.Addr) bool {
	i := s.find(a)
	return i < len(s.runs) && !a.Less(s.runs[i].first)
}

func (s *addrSet) add(a netip.Addr) {
	i := s.find(a)
	if i < len(s.runs) && !a.Less(s.runs[i].first) {
		return // already in
	}
	joinsNext := i < len(s.runs) && a.Next() == s.runs[i].first
	joinsPrev := i > 0 && s.runs[i-1].last.Next() == a
	switch {
	case joinsPrev && joinsNext:
		s.runs[i-1].last = s.runs[i].last
		s.runs = append(s.runs[:i], s.runs[i+1:]...)
	case joinsPrev:
		s.runs[i-1].last = a
	case joinsNext:
		s.runs[i].first = a
	default:
		s.runs = append(s.runs, addrRun{})
		copy(s.runs[i+1:], s.runs[i:])
		s.runs[i] = addrRun{a, a}
	}
}

func (s *addrSet) remove(a netip.Addr) {
	i := s.find(a)
	if i == len(s.runs) || a.Less(s.runs[i].first) {
		return // not in
	}
	r := s.runs[i]
	switch {
	case r.first == a && r.last == a:
		s.runs = append(s.runs[:i], s.runs[i+1:]...)
	case r.first == a:
		s.runs[i].first = a.Next()
	case r.last == a:
		s.runs[i].last = a.Prev()
	default:
		s.runs = append(s.runs, addrRun{})
		copy(s.runs[i+2:], s.runs[i+1:])
		s.runs[i] = addrRun{r.first, a.Prev()}
		s.runs[i+1] = addrRun{a.Next(), r.last}
	}
}

// lowestFree returns the lowest address of p, at or above from, that is not
// in the set; ok is false when every such address of p is taken.
func (s *addrSet) lowestFree(p netip.Prefix, from netip.Addr) (netip.Addr, bool) {
	a := from
	i := s.find(a)
	for i < len(s.runs) && !a.Less(s.runs[i].first) {
		a = s.runs[i].last.Next()
		if !a.IsValid() { // the run ends at the top of the address space
			return netip.Addr{}, false
		}
		i++
	}
	return a, p.Contains(a)
}
