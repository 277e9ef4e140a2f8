package frrk8sdaemon

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/merge"
)

// Rendering is what the differential tests compare between the daemon's
// frr.conf and a merge.Effective: the facts a merge decides, read back from
// FRR syntax.
// It leaves out what only the template decides (log and hostname lines,
// route-map sequence numbers, disable-connected-check).
type Rendering struct {
	Routers     []RenderedRouter
	BFDProfiles map[string][]string // profile name → its setting lines, sorted
	Raw         string              // the raw config the file ends with
	Unknown     []string            // lines the reader does not understand
}

// RenderedRouter is one router bgp block.
type RenderedRouter struct {
	ASN        string
	VRF        string
	ID         string
	PrefixesV4 []string // network lines
	PrefixesV6 []string
	ImportVRFs []string
	Neighbors  []RenderedNeighbor // by peer
}

// RenderedNeighbor is one neighbor of a router, with its filters.
type RenderedNeighbor struct {
	Peer      string // address or interface
	Interface bool
	RemoteAS  string
	// Session are the "neighbor PEER ..." lines after remote-as, sorted.
	Session  []string
	Families []string // address families the neighbor is activated in
	// AdvertiseV4/V6: the permit entries of <id>-allowed-ipv4/6.
	AdvertiseV4 []string
	AdvertiseV6 []string
	// Modifiers: a set statement of the <id>-out route-map → the prefixes it
	// applies to.
	Modifiers map[string][]string
	// ReceiveV4/V6: the permit entries of <id>-inpl-<family>; ["any"] when
	// everything is accepted.
	ReceiveV4 []string
	ReceiveV6 []string
}

// ExpectedRendering is what frr.conf must say for eff. Warnings about
// enableGracefulRestart mean frr-k8s picks a value at random, so the
// graceful-restart line is then not compared.
func ExpectedRendering(eff *merge.Effective, warnings []string) Rendering {
	r := Rendering{BFDProfiles: map[string][]string{}}
	for _, router := range eff.Routers {
		rr := RenderedRouter{
			ASN: strconv.FormatUint(uint64(router.ASN), 10), VRF: router.VRF, ID: router.ID,
			PrefixesV4: router.PrefixesV4, PrefixesV6: router.PrefixesV6, ImportVRFs: router.ImportVRFs,
		}
		for _, n := range router.Neighbors {
			rn := RenderedNeighbor{Peer: n.Address, RemoteAS: n.ASN, Modifiers: map[string][]string{},
				AdvertiseV4: n.Advertise.PrefixesV4, AdvertiseV6: n.Advertise.PrefixesV6}
			if n.Interface != "" {
				rn.Peer, rn.Interface = n.Interface, true
			}
			if n.EBGPMultiHop {
				rn.Session = append(rn.Session, "ebgp-multihop")
			}
			if n.Port != nil {
				rn.Session = append(rn.Session, fmt.Sprintf("port %d", *n.Port))
			}
			// The template writes timers only when both are set.
			if n.KeepaliveTime != nil && n.HoldTime != nil {
				rn.Session = append(rn.Session, fmt.Sprintf("timers %d %d", seconds(n.KeepaliveTime), seconds(n.HoldTime)))
			}
			if n.ConnectTime != nil {
				rn.Session = append(rn.Session, fmt.Sprintf("timers connect %d", seconds(n.ConnectTime)))
			}
			if n.Password != "" {
				rn.Session = append(rn.Session, "password "+n.Password)
			}
			if n.SourceAddress != "" {
				rn.Session = append(rn.Session, "update-source "+n.SourceAddress)
			}
			if n.GracefulRestart && len(warnings) == 0 {
				rn.Session = append(rn.Session, "graceful-restart")
			}
			if n.BFDProfile != "" {
				rn.Session = append(rn.Session, "bfd", "bfd profile "+n.BFDProfile)
			}
			slices.Sort(rn.Session)
			switch n.Family {
			case merge.IPv4:
				rn.Families = []string{"ipv4"}
			case merge.IPv6:
				rn.Families = []string{"ipv6"}
			case merge.DualStack:
				rn.Families = []string{"ipv4", "ipv6"}
			}
			for _, g := range n.Advertise.LocalPrefs {
				rn.Modifiers[fmt.Sprintf("set local-preference %d", g.LocalPref)] = sortedCopy(g.Prefixes)
			}
			for _, g := range n.Advertise.Communities {
				set := "set community " + g.Community + " additive"
				if large, ok := strings.CutPrefix(g.Community, "large:"); ok {
					set = "set large-community " + large + " additive"
				}
				rn.Modifiers[set] = sortedCopy(g.Prefixes)
			}
			if n.Receive.All {
				rn.ReceiveV4, rn.ReceiveV6 = []string{"any"}, []string{"any"}
			}
			for _, f := range n.Receive.Filters {
				entry := f.Prefix
				if f.LE != 0 {
					entry += fmt.Sprintf(" le %d", f.LE)
				}
				if f.GE != 0 {
					entry += fmt.Sprintf(" ge %d", f.GE)
				}
				if strings.Contains(f.Prefix, ":") {
					rn.ReceiveV6 = append(rn.ReceiveV6, entry)
				} else {
					rn.ReceiveV4 = append(rn.ReceiveV4, entry)
				}
			}
			slices.Sort(rn.ReceiveV4)
			slices.Sort(rn.ReceiveV6)
			rr.Neighbors = append(rr.Neighbors, rn)
		}
		slices.SortFunc(rr.Neighbors, func(a, b RenderedNeighbor) int { return strings.Compare(a.Peer, b.Peer) })
		r.Routers = append(r.Routers, rr)
	}
	for _, p := range eff.BFDProfiles {
		var settings []string
		add := func(name string, v *uint32) {
			if v != nil {
				settings = append(settings, fmt.Sprintf("%s %d", name, *v))
			}
		}
		add("receive-interval", p.ReceiveInterval)
		add("transmit-interval", p.TransmitInterval)
		add("detect-multiplier", p.DetectMultiplier)
		add("echo transmit-interval", p.EchoInterval)
		add("echo receive-interval", p.EchoInterval)
		add("minimum-ttl", p.MinimumTTL)
		if p.EchoMode {
			settings = append(settings, "echo-mode")
		}
		if p.PassiveMode {
			settings = append(settings, "passive-mode")
		}
		slices.Sort(settings)
		r.BFDProfiles[p.Name] = settings
	}
	r.Raw = ExpectedRaw(eff)
	return r
}

// ExpectedRaw is the raw config frr-k8s appends: each snippet and a newline.
func ExpectedRaw(eff *merge.Effective) string {
	var b strings.Builder
	for _, s := range eff.RawConfig {
		b.WriteString(s.Text)
		b.WriteString("\n")
	}
	return b.String()
}

func seconds(d *metav1.Duration) int64 { return int64(d.Duration / time.Second) }

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// prefixListEntry is one line of an ip or ipv6 prefix-list.
type prefixListEntry struct {
	v6     bool
	action string // "permit 192.0.2.0/24 le 32", "deny any"
}

type routeMapEntry struct {
	name, prefixList, set string
}

// ParseFRRConf reads the daemon's frr.conf. raw is the raw config we expect
// at its end: when the file ends with it, it is cut off before reading
// (raw text is free-form).
func ParseFRRConf(conf, raw string) (Rendering, error) {
	r := Rendering{BFDProfiles: map[string][]string{}}
	if raw != "" {
		// The template may add blank lines after the raw config.
		if body, ok := strings.CutSuffix(strings.TrimRight(conf, "\n"), strings.TrimRight(raw, "\n")); ok {
			conf, r.Raw = body, raw
		} else {
			r.Raw = "(frr.conf does not end with the expected raw config)"
		}
	}

	prefixLists := map[string][]prefixListEntry{}
	var routeMaps []routeMapEntry
	type neighborAt struct{ router, neighbor int }
	neighbors := map[string]neighborAt{} // peer in the current router → index
	var (
		section    string // "", "route-map", "router", "bfd"
		family     string // the address-family being read in a router
		bfdProfile string
	)
	router := func() *RenderedRouter { return &r.Routers[len(r.Routers)-1] }
	neighbor := func(peer string) (*RenderedNeighbor, error) {
		at, ok := neighbors[peer]
		if !ok {
			return nil, fmt.Errorf("neighbor %s used before its remote-as line", peer)
		}
		return &r.Routers[at.router].Neighbors[at.neighbor], nil
	}

	for _, line := range strings.Split(conf, "\n") {
		text := strings.TrimSpace(line)
		if text == "" {
			continue
		}
		f := strings.Fields(text)
		if line[0] != ' ' { // a top-level line ends any block
			section, family = "", ""
			switch {
			case f[0] == "log" || f[0] == "hostname" || f[0] == "debug" || (len(f) > 1 && f[1] == "nht"):
			case len(f) >= 7 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list" && f[3] == "seq":
				prefixLists[f[2]] = append(prefixLists[f[2]], prefixListEntry{v6: f[0] == "ipv6", action: strings.Join(f[5:], " ")})
			case len(f) == 4 && f[0] == "route-map":
				section = "route-map"
				routeMaps = append(routeMaps, routeMapEntry{name: f[1]})
			case len(f) >= 3 && f[0] == "router" && f[1] == "bgp":
				section = "router"
				rr := RenderedRouter{ASN: f[2]}
				if len(f) == 5 && f[3] == "vrf" {
					rr.VRF = f[4]
				}
				r.Routers = append(r.Routers, rr)
				neighbors = map[string]neighborAt{}
			case text == "bfd":
				section = "bfd"
			default:
				r.Unknown = append(r.Unknown, line)
			}
			continue
		}
		switch section {
		case "route-map":
			rm := &routeMaps[len(routeMaps)-1]
			switch {
			case len(f) == 5 && f[0] == "match" && f[2] == "address" && f[3] == "prefix-list":
				rm.prefixList = f[4]
			case f[0] == "set":
				rm.set = text
			case text == "on-match next":
			default:
				r.Unknown = append(r.Unknown, line)
			}
		case "router":
			rr := router()
			switch {
			case len(f) == 3 && f[0] == "address-family" && f[2] == "unicast":
				family = f[1]
			case text == "exit-address-family":
				family = ""
			case f[0] == "no" || text == "bgp graceful-restart preserve-fw-state":
			case len(f) == 3 && f[0] == "bgp" && f[1] == "router-id":
				rr.ID = f[2]
			case len(f) == 2 && f[0] == "network" && family == "ipv4":
				rr.PrefixesV4 = append(rr.PrefixesV4, f[1])
			case len(f) == 2 && f[0] == "network" && family == "ipv6":
				rr.PrefixesV6 = append(rr.PrefixesV6, f[1])
			case len(f) == 3 && f[0] == "import" && f[1] == "vrf":
				if !slices.Contains(rr.ImportVRFs, f[2]) {
					rr.ImportVRFs = append(rr.ImportVRFs, f[2])
				}
			case f[0] == "neighbor" && len(f) >= 3:
				peer, rest := f[1], f[2:]
				switch {
				case family == "" && (rest[0] == "remote-as" || (rest[0] == "interface" && len(rest) == 3 && rest[1] == "remote-as")):
					if _, dup := neighbors[peer]; dup {
						return r, fmt.Errorf("neighbor %s defined twice in router %s", peer, rr.ASN)
					}
					rn := RenderedNeighbor{Peer: peer, RemoteAS: rest[len(rest)-1], Interface: rest[0] == "interface", Modifiers: map[string][]string{}}
					neighbors[peer] = neighborAt{len(r.Routers) - 1, len(rr.Neighbors)}
					rr.Neighbors = append(rr.Neighbors, rn)
				case family != "" && rest[0] == "activate":
					n, err := neighbor(peer)
					if err != nil {
						return r, err
					}
					n.Families = append(n.Families, family)
				case family != "" && rest[0] == "route-map":
				case family == "" && strings.Join(rest, " ") == "disable-connected-check":
				case family == "":
					n, err := neighbor(peer)
					if err != nil {
						return r, err
					}
					n.Session = append(n.Session, strings.Join(rest, " "))
				default:
					r.Unknown = append(r.Unknown, line)
				}
			default:
				r.Unknown = append(r.Unknown, line)
			}
		case "bfd":
			if len(f) == 2 && f[0] == "profile" {
				bfdProfile = f[1]
				r.BFDProfiles[bfdProfile] = nil
			} else if bfdProfile != "" {
				r.BFDProfiles[bfdProfile] = append(r.BFDProfiles[bfdProfile], text)
			} else {
				r.Unknown = append(r.Unknown, line)
			}
		default:
			r.Unknown = append(r.Unknown, line)
		}
	}

	// Fill each neighbor's filters from the prefix lists named after its ID.
	permits := func(entries []prefixListEntry, v6 bool) []string {
		var out []string
		for _, e := range entries {
			if e.v6 != v6 {
				continue
			}
			if e.action == "permit any" {
				return []string{"any"}
			}
			if p, ok := strings.CutPrefix(e.action, "permit "); ok {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return out
	}
	for i := range r.Routers {
		rr := &r.Routers[i]
		for j := range rr.Neighbors {
			n := &rr.Neighbors[j]
			slices.Sort(n.Session)
			id := n.Peer
			if rr.VRF != "" {
				id += "-" + rr.VRF
			}
			n.AdvertiseV4 = permits(prefixLists[id+"-allowed-ipv4"], false)
			n.AdvertiseV6 = permits(prefixLists[id+"-allowed-ipv6"], true)
			for name, entries := range prefixLists {
				if fam, ok := strings.CutPrefix(name, id+"-inpl-"); ok && slices.Contains([]string{"ipv4", "ipv6", "dual", ""}, fam) {
					n.ReceiveV4 = permits(entries, false)
					n.ReceiveV6 = permits(entries, true)
				}
			}
			for _, rm := range routeMaps {
				if rm.name != id+"-out" || rm.set == "" {
					continue
				}
				prefixes := append(n.Modifiers[rm.set], permits(prefixLists[rm.prefixList], false)...)
				prefixes = append(prefixes, permits(prefixLists[rm.prefixList], true)...)
				slices.Sort(prefixes)
				n.Modifiers[rm.set] = prefixes
			}
		}
		slices.SortFunc(rr.Neighbors, func(a, b RenderedNeighbor) int { return strings.Compare(a.Peer, b.Peer) })
		slices.Sort(rr.ImportVRFs)
	}
	for name := range r.BFDProfiles {
		slices.Sort(r.BFDProfiles[name])
	}
	return r, nil
}

// DiffRendering is empty when want and got agree, else a cmp diff
// (-want +got).
func DiffRendering(want, got Rendering) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}
