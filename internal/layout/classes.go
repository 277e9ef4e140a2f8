package layout

import (
	"encoding/binary"
	"hash/maphash"
	"reflect"
	"unsafe"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// nodeClasses returns, for each config, the index of the first config with
// an identical BGP section (its own index when it is the first). Nodes of a
// class have the same entries, so they are in the same shared groups and
// have the same own part: share computes both once per class. In a rack
// where every node has the same peers and only ETP-Cluster services, a
// class is the whole rack, and laying it out costs one node instead of
// many. Keys are a digest; equality is then checked in full, so a digest
// collision only costs a comparison.
func nodeClasses(configs []frrv1beta1.FRRConfiguration) []int32 {
	d := digester{seed: maphash.MakeSeed(), lists: map[listID]uint64{}}
	classOf := make([]int32, len(configs))
	firsts := map[uint64][]int32{}
	for i := range configs {
		key := d.bgp(&configs[i].Spec.BGP)
		classOf[i] = int32(i)
		for _, first := range firsts[key] {
			if reflect.DeepEqual(configs[first].Spec.BGP, configs[i].Spec.BGP) {
				classOf[i] = first
				break
			}
		}
		if classOf[i] == int32(i) {
			firsts[key] = append(firsts[key], int32(i))
		}
	}
	return classOf
}

// digester digests BGP sections. Nodes alike share their prefix lists
// (translate makes one list per distinct prefix set), so each list is
// hashed once, by identity, and a section costs a few numbers.
type digester struct {
	seed  maphash.Seed
	lists map[listID]uint64
}

// listID is a list's identity: its first element's address and length.
type listID struct {
	data *string
	n    int
}

// bgp digests the parts of a BGP section that tell nodes apart: the
// routers, their neighbors' addresses and every prefix list. Equal sections
// have equal digests; the fields left out are compared by nodeClasses.
func (d *digester) bgp(bgp *frrv1beta1.BGPConfig) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	var buf [8]byte
	number := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	text := func(s string) {
		number(uint64(len(s)))
		h.WriteString(s)
	}
	texts := func(list []string) { number(d.list(list)) }
	number(uint64(len(bgp.Routers)))
	for ri := range bgp.Routers {
		r := &bgp.Routers[ri]
		number(uint64(r.ASN))
		text(r.ID)
		text(r.VRF)
		texts(r.Prefixes)
		number(uint64(len(r.Neighbors)))
		for ni := range r.Neighbors {
			nb := &r.Neighbors[ni]
			text(nb.Address)
			text(nb.Interface)
			adv := &nb.ToAdvertise
			texts(adv.Allowed.Prefixes)
			number(uint64(len(adv.PrefixesWithLocalPref)))
			for _, lp := range adv.PrefixesWithLocalPref {
				number(uint64(lp.LocalPref))
				texts(lp.Prefixes)
			}
			number(uint64(len(adv.PrefixesWithCommunity)))
			for _, c := range adv.PrefixesWithCommunity {
				text(c.Community)
				texts(c.Prefixes)
			}
		}
	}
	number(uint64(len(bgp.BFDProfiles)))
	return h.Sum64()
}

// list digests a list of texts, once per distinct list in memory.
func (d *digester) list(list []string) uint64 {
	if len(list) == 0 {
		return 0
	}
	id := listID{unsafe.SliceData(list), len(list)}
	if sum, ok := d.lists[id]; ok {
		return sum
	}
	var h maphash.Hash
	h.SetSeed(d.seed)
	var buf [8]byte
	for _, s := range list {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.WriteString(s)
	}
	sum := h.Sum64() | 1 // never 0, the empty list's
	d.lists[id] = sum
	return sum
}
