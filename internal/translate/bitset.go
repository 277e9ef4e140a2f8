package translate

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// prefixSet is a set of prefix IDs. Because IDs are numbered in output
// order, walking the set yields sorted, distinct prefixes without sorting.
type prefixSet []uint64

func newPrefixSet(size int) prefixSet { return make(prefixSet, (size+63)/64) }

func (s prefixSet) add(id int32) { s[id/64] |= 1 << (id % 64) }

func (s prefixSet) union(o prefixSet) {
	for i := range o {
		s[i] |= o[i]
	}
}

// ids returns the members in increasing order (nil when empty).
func (s prefixSet) ids() []int32 {
	var out []int32
	for i, word := range s {
		for word != 0 {
			out = append(out, int32(i*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return out
}

func (s prefixSet) count() int {
	n := 0
	for _, word := range s {
		n += bits.OnesCount64(word)
	}
	return n
}

// digest hashes the set's words under seed.
func (s prefixSet) digest(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var buf [8]byte
	for _, word := range s {
		binary.LittleEndian.PutUint64(buf[:], word)
		h.Write(buf[:])
	}
	return h.Sum64()
}
