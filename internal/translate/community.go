package translate

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// community is a parsed BGP community: standard (a:b, 16-bit halves) or
// large (a:b:c, 32-bit parts).
type community struct {
	large   bool
	a, b, c uint32
}

// String is the spelling frr-k8s accepts: "a:b" or "large:a:b:c".
func (c community) String() string {
	if c.large {
		return fmt.Sprintf("large:%d:%d:%d", c.a, c.b, c.c)
	}
	return fmt.Sprintf("%d:%d", c.a, c.b)
}

// compareCommunities orders standard communities before large ones, then
// numerically, part by part.
func compareCommunities(x, y community) int {
	if x.large != y.large {
		if !x.large {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b), cmp.Compare(x.c, y.c))
}

// communityShape tells how a string that failed to parse should be reported.
type communityShape int

const (
	shapeValid     communityShape = iota
	shapeMalformed                // two or four ':' parts: meant as a value, but wrong
	shapeOther                    // anything else: could only be an alias name
)

// parseCommunity parses "a:b" or "large:a:b:c". For a malformed value the
// error explains what is wrong.
func parseCommunity(s string) (community, communityShape, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		a, errA := strconv.ParseUint(parts[0], 10, 16)
		b, errB := strconv.ParseUint(parts[1], 10, 16)
		if errA != nil || errB != nil {
			return community{}, shapeMalformed, fmt.Errorf("a standard community is two numbers 0-65535 separated by a colon, such as 65535:65282")
		}
		return community{a: uint32(a), b: uint32(b)}, shapeValid, nil
	case 4:
		if parts[0] != "large" {
			return community{}, shapeMalformed, fmt.Errorf("a large community is written large:<a>:<b>:<c>")
		}
		var v [3]uint32
		for i, p := range parts[1:] {
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				return community{}, shapeMalformed, fmt.Errorf("a large community is large:<a>:<b>:<c> with numbers 0-4294967295")
			}
			v[i] = uint32(n)
		}
		return community{large: true, a: v[0], b: v[1], c: v[2]}, shapeValid, nil
	}
	return community{}, shapeOther, fmt.Errorf("not a community value")
}
