package layout

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/bits"
	"slices"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"

	"github.com/frrgen/frrgen/internal/translate"
)

// maxShardBits bounds the split at 2^10 objects for one configuration: past
// that a single prefix's entries, or the sessions alone, do not fit, and
// more shards would not help.
const maxShardBits = 10

// Split returns cfg unchanged when its JSON fits in maxBytes, else its
// shards: 2^b self-contained FRRConfigurations, b the smallest that makes
// every shard fit. Prefix p goes to shard PrefixBucket(p, b), with every
// entry that names it (router prefixes, allowed prefixes, withLocalPref,
// withCommunity); every shard repeats all routers, neighbors (identical
// session fields) and BFD profiles, so frr-k8s merges the shards into cfg
// exactly, and deleting any one shard never drops a session.
func Split(cfg frrv1beta1.FRRConfiguration, maxBytes int) ([]frrv1beta1.FRRConfiguration, error) {
	shards, _, err := splitSized(cfg, maxBytes, 0)
	return shards, err
}

// splitSized is Split, with the JSON size of each object it returns. When
// the object is stored as stored shards and that is one doubling above the
// smallest count that fits, it keeps that count (see Options.StoredShards).
func splitSized(cfg frrv1beta1.FRRConfiguration, maxBytes, stored int) ([]frrv1beta1.FRRConfiguration, []int, error) {
	if err := checkSplittable(&cfg); err != nil {
		return nil, nil, err
	}
	size, err := Size(&cfg)
	if err != nil {
		return nil, nil, err
	}
	keep := -1
	if stored > 1 && stored&(stored-1) == 0 {
		keep = bits.Len(uint(stored)) - 1
	}
	if size <= maxBytes && keep != 1 {
		return []frrv1beta1.FRRConfiguration{cfg}, []int{size}, nil
	}
	// 2^b shards of about size/2^b each; the repeated sessions and the
	// hash's unevenness may need one or two bits more.
	for b := bits.Len(uint((size - 1) / maxBytes)); b <= maxShardBits; b++ {
		if b+1 == keep {
			if shards, sizes, fits, err := fitting(&cfg, keep, maxBytes); err != nil || fits {
				return shards, sizes, err
			}
		}
		if shards, sizes, fits, err := fitting(&cfg, b, maxBytes); err != nil || fits {
			return shards, sizes, err
		}
	}
	return nil, nil, fmt.Errorf("FRRConfiguration %s is %d bytes and does not fit in --max-object-bytes %d even as %d shards", cfg.Name, size, maxBytes, 1<<maxShardBits)
}

// fitting returns cfg's 2^b shards, their sizes and whether all fit.
func fitting(cfg *frrv1beta1.FRRConfiguration, b, maxBytes int) ([]frrv1beta1.FRRConfiguration, []int, bool, error) {
	if b == 0 {
		size, err := Size(cfg)
		return []frrv1beta1.FRRConfiguration{*cfg}, []int{size}, size <= maxBytes, err
	}
	shards := Shards(cfg, b)
	sizes := make([]int, len(shards))
	for i := range shards {
		var err error
		if sizes[i], err = Size(&shards[i]); err != nil {
			return nil, nil, false, err
		}
		if sizes[i] > maxBytes {
			return nil, nil, false, nil
		}
	}
	return shards, sizes, true, nil
}

// Shards splits cfg into exactly 2^b shards by PrefixBucket (see Split).
// Growing b by one splits every shard in two: bucket i's prefixes go to
// buckets i and i+2^b.
func Shards(cfg *frrv1beta1.FRRConfiguration, b int) []frrv1beta1.FRRConfiguration {
	n := 1 << b
	shards := partition(cfg, n, func(int) bool { return true }, func(_, _ int, prefix string) int { return PrefixBucket(prefix, b) })
	for i := range shards {
		shards[i].Name = ShardName(cfg.Name, i, n)
		if shards[i].Annotations == nil {
			shards[i].Annotations = map[string]string{}
		}
		shards[i].Annotations[AnnotationShard] = fmt.Sprintf("%d/%d", i, n)
		shards[i].Annotations[AnnotationShardOf] = cfg.Name
	}
	return shards
}

// ShardName is the name of shard i of n of the configuration named base.
// It carries n, so a change of the shard count creates new objects before
// the old ones are deleted rather than shrinking objects in place.
func ShardName(base string, i, n int) string {
	return translate.ConfigName("", fmt.Sprintf("%s-shard-%d-of-%d", base, i, n))
}

// PrefixBucket is the shard of prefix among 2^b: the low b bits of a hash of
// its text. The hash is fixed forever (FNV-1a 64 with a final mix so that
// the low bits depend on every byte): changing it would rewrite every shard.
func PrefixBucket(prefix string, b int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(prefix))
	x := h.Sum64()
	// murmur3's fmix64.
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return int(x & (1<<b - 1))
}

// Size is the length of cfg's JSON, what the apiserver stores and sends to
// every watcher.
func Size(cfg *frrv1beta1.FRRConfiguration) (int, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return 0, fmt.Errorf("measuring FRRConfiguration %s: %w", cfg.Name, err)
	}
	return len(raw), nil
}

// checkSplittable refuses what the partition cannot preserve. translate
// produces none of it; a caller passing other configurations gets a clear
// error instead of a split that frr-k8s would merge differently.
func checkSplittable(cfg *frrv1beta1.FRRConfiguration) error {
	if cfg.Spec.Raw.Config != "" {
		return fmt.Errorf("FRRConfiguration %s: spec.raw.rawConfig is set; a raw snippet cannot be split", cfg.Name)
	}
	for _, r := range cfg.Spec.BGP.Routers {
		if len(r.Imports) > 0 {
			return fmt.Errorf("FRRConfiguration %s: router vrf %q has spec.bgp.routers[].imports %v; imports cannot be split", cfg.Name, r.VRF, r.Imports)
		}
		for _, n := range r.Neighbors {
			if n.ToAdvertise.Allowed.Mode == frrv1beta1.AllowAll {
				return fmt.Errorf("FRRConfiguration %s: neighbor %s%s has toAdvertise.allowed.mode %q; only filtered lists can be split", cfg.Name, n.Address, n.Interface, n.ToAdvertise.Allowed.Mode)
			}
		}
	}
	return nil
}

// partition distributes cfg's advertisement entries over n parts: the entry
// for prefix p towards neighbor nb of router r goes to part dest(r, nb, p)
// (dropped when negative), with its localPref and communities; a router
// prefix that no neighbor advertises goes to dest(r, -1, p). Each part's
// router prefixes are the prefixes its neighbors advertise, so each part is
// self-contained. A part for which full is true has every router, neighbor
// and BFD profile of cfg; another has only the routers and neighbors it
// advertises to, and the BFD profiles they use. Parts keep cfg's metadata
// and selector, and its order of routers, neighbors and prefixes.
func partition(cfg *frrv1beta1.FRRConfiguration, n int, full func(part int) bool,
	dest func(router, neighbor int, prefix string) int) []frrv1beta1.FRRConfiguration {
	parts := make([]frrv1beta1.FRRConfiguration, n)
	usedBFD := make([]map[string]bool, n)
	for i := range parts {
		parts[i] = frrv1beta1.FRRConfiguration{
			TypeMeta:   cfg.TypeMeta,
			ObjectMeta: *cfg.ObjectMeta.DeepCopy(),
			Spec: frrv1beta1.FRRConfigurationSpec{
				NodeSelector: *cfg.Spec.NodeSelector.DeepCopy(),
				BGP:          frrv1beta1.BGPConfig{Routers: []frrv1beta1.Router{}},
			},
		}
		usedBFD[i] = map[string]bool{}
	}
	routers := make([]frrv1beta1.Router, n)
	present := make([]bool, n)
	for ri := range cfg.Spec.BGP.Routers {
		r := &cfg.Spec.BGP.Routers[ri]
		clear(present)
		for i := range routers {
			routers[i] = frrv1beta1.Router{ASN: r.ASN, ID: r.ID, VRF: r.VRF}
		}
		prefixParts := newPartsOf(len(r.Prefixes))
		for ni := range r.Neighbors {
			nb := &r.Neighbors[ni]
			adv, allowedParts := splitAdvertise(&nb.ToAdvertise, n, func(p string) int { return dest(ri, ni, p) })
			for k, p := range nb.ToAdvertise.Allowed.Prefixes {
				prefixParts.record(p, allowedParts[k])
			}
			for i := range n {
				if adv[i] == nil && !full(i) {
					continue
				}
				session := *nb
				session.ToAdvertise = frrv1beta1.Advertise{}
				out := *session.DeepCopy()
				out.ToAdvertise.Allowed.Mode = nb.ToAdvertise.Allowed.Mode
				if adv[i] != nil {
					out.ToAdvertise = *adv[i]
				}
				routers[i].Neighbors = append(routers[i].Neighbors, out)
				present[i] = true
				if nb.BFDProfile != "" {
					usedBFD[i][nb.BFDProfile] = true
				}
			}
		}
		for _, p := range r.Prefixes {
			first, advertised := prefixParts.first[p]
			if !advertised {
				// No neighbor advertises it: a router-only prefix.
				if first = int32(dest(ri, -1, p)); first >= 0 {
					present[first] = true
				}
			}
			if first >= 0 {
				routers[first].Prefixes = append(routers[first].Prefixes, p)
			}
			for _, i := range prefixParts.more[p] {
				routers[i].Prefixes = append(routers[i].Prefixes, p)
			}
		}
		for i := range n {
			if present[i] || full(i) {
				parts[i].Spec.BGP.Routers = append(parts[i].Spec.BGP.Routers, routers[i])
			}
		}
	}
	for _, p := range cfg.Spec.BGP.BFDProfiles {
		for i := range parts {
			if full(i) || usedBFD[i][p.Name] {
				parts[i].Spec.BGP.BFDProfiles = append(parts[i].Spec.BGP.BFDProfiles, *p.DeepCopy())
			}
		}
	}
	return parts
}

// partsOf records, for the prefixes of one router, the parts whose
// neighbors advertise each: first[p] is the first (-1 when every entry of
// p was dropped), more[p] the others (only in a shared layout's parts).
type partsOf struct {
	first map[string]int32
	more  map[string][]int32
}

func newPartsOf(size int) partsOf { return partsOf{first: make(map[string]int32, size)} }

func (ps *partsOf) record(p string, part int) {
	i := int32(part)
	first, seen := ps.first[p]
	switch {
	case !seen || first < 0:
		ps.first[p] = i
	case i < 0 || i == first || slices.Contains(ps.more[p], i):
	default:
		if ps.more == nil {
			ps.more = map[string][]int32{}
		}
		ps.more[p] = append(ps.more[p], i)
	}
}

// splitAdvertise distributes one neighbor's toAdvertise over n parts by the
// part of each prefix: nil for a part that gets no allowed prefix, and the
// part of each allowed prefix. withLocalPref and withCommunity prefixes
// follow their allowed prefix, so each part keeps one entry per localPref
// and per community, and only prefixes it allows.
func splitAdvertise(adv *frrv1beta1.Advertise, n int, partOf func(prefix string) int) ([]*frrv1beta1.Advertise, []int) {
	out := make([]*frrv1beta1.Advertise, n)
	allowedParts := make([]int, len(adv.Allowed.Prefixes))
	for k, p := range adv.Allowed.Prefixes {
		i := partOf(p)
		allowedParts[k] = i
		if i < 0 {
			continue
		}
		if out[i] == nil {
			out[i] = &frrv1beta1.Advertise{Allowed: frrv1beta1.AllowedOutPrefixes{Mode: adv.Allowed.Mode}}
		}
		out[i].Allowed.Prefixes = append(out[i].Allowed.Prefixes, p)
	}
	byPart := make([][]string, n)
	distribute := func(prefixes []string) {
		clear(byPart) // fresh slices: the previous ones are in out
		for _, p := range prefixes {
			// A prefix that is not allowed (frr-k8s refuses it) follows partOf too.
			if i := partOf(p); i >= 0 && out[i] != nil {
				byPart[i] = append(byPart[i], p)
			}
		}
	}
	for _, lp := range adv.PrefixesWithLocalPref {
		distribute(lp.Prefixes)
		for i, ps := range byPart {
			if len(ps) > 0 {
				out[i].PrefixesWithLocalPref = append(out[i].PrefixesWithLocalPref, frrv1beta1.LocalPrefPrefixes{LocalPref: lp.LocalPref, Prefixes: ps})
			}
		}
	}
	for _, c := range adv.PrefixesWithCommunity {
		distribute(c.Prefixes)
		for i, ps := range byPart {
			if len(ps) > 0 {
				out[i].PrefixesWithCommunity = append(out[i].PrefixesWithCommunity, frrv1beta1.CommunityPrefixes{Community: c.Community, Prefixes: ps})
			}
		}
	}
	return out, allowedParts
}
