// Package servicestatus says, for each Service frrgen handles, which nodes
// announce it to which BGPPeers and why every other node does not, from
// what the nodes were given rather than what the translation wants. It is
// pure: the controller writes its verdict as a condition on the Service,
// and `frrgen explain service` prints the same sentence.
//
// Where the truth comes from, per speaker node:
//   - a node that has the translation's configuration (written, no hold):
//     the translation's announcement (translate.ServiceAnnouncement);
//   - a node that keeps its last good configuration (held by an invalid
//     object, in conflict with another FRRConfiguration, or whose write
//     failed): frrgen's stored FRRConfigurations of the node. The service
//     is still announced to a peer when that peer's neighbor there is
//     allowed a prefix holding one of the service's IPs; a node without a
//     stored configuration announces nothing.
package servicestatus

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frrgen/frrgen/internal/translate"
)

// ConditionAnnounced is the condition type on Services.
const ConditionAnnounced = "frrgen.io/Announced"

// Condition reasons besides the capitalised MetalLB reason keys
// (NoEndpoints, NotOwner, ...).
const (
	ReasonAnnounced     = "Announced"
	ReasonHeld          = "Held"
	ReasonNotAnnounced  = "NotAnnounced"
	ReasonNoSpeakerNode = "NoSpeakerNode"
)

// Keep says why a node keeps its stored configuration instead of the
// translation's. One field is set; HeldBy comes from the translation
// itself (translate.Result.Held) and need not be given.
type Keep struct {
	// HeldBy are the invalid objects that could change the node.
	HeldBy []translate.ObjectRef
	// Conflict is the clash the new configuration would have with another
	// FRRConfiguration (the node plan's message).
	Conflict string
	// WriteError is the error of the write that failed.
	WriteError string
}

// Why is the end of "keeps its last good configuration because ...".
func (k Keep) Why() string {
	switch {
	case len(k.HeldBy) > 0:
		names := make([]string, len(k.HeldBy))
		for i, r := range k.HeldBy {
			names[i] = r.String()
		}
		if len(names) == 1 {
			return names[0] + " is invalid"
		}
		return strings.Join(names, ", ") + " are invalid"
	case k.Conflict != "":
		return "the new one would clash with another FRRConfiguration: " + k.Conflict
	default:
		return "the new one could not be written: " + k.WriteError
	}
}

// Kind is what a group of nodes does with the service.
type Kind int

const (
	// Announced: the nodes have the translation's configuration, which
	// sends the service to Peers.
	Announced Kind = iota
	// Kept: the nodes keep their last good configuration, Why says why
	// and whether it announces the service, to Peers.
	Kept
	// NotAnnounced: the nodes have the translation's configuration, which
	// does not announce the service; Why says why, Reason is MetalLB's key.
	NotAnnounced
)

// Group is a set of nodes with the same verdict.
type Group struct {
	Kind   Kind
	Why    string
	Reason translate.Reason
	Peers  []string
	// Nodes are sorted.
	Nodes []string
}

// Status is the verdict on one Service.
type Status struct {
	// Announced: at least one node sends the service to a peer.
	Announced bool
	// Reason and Message are the condition's.
	Reason  string
	Message string
	// Groups: announcing groups first, then kept, then not announced;
	// each in the order of its first node.
	Groups []Group
}

// Condition is the Service condition saying s.
func (s Status) Condition(generation int64) metav1.Condition {
	c := metav1.Condition{Type: ConditionAnnounced, Status: metav1.ConditionFalse, Reason: s.Reason,
		Message: s.Message, ObservedGeneration: generation}
	if s.Announced {
		c.Status = metav1.ConditionTrue
	}
	return c
}

// Computer computes the Status of the services of one translation. Make
// it once per pass (it indexes the stored configurations of the nodes that
// keep theirs) and ask it per service.
type Computer struct {
	announcements map[string]*translate.ServiceAnnouncement
	// speakers are the speaker nodes, sorted; hasPeers those with a valid
	// BGPPeer.
	speakers []string
	hasPeers map[string]bool
	kept     map[string]Keep
	stored   map[string]*storedIndex
	peerSets [][]string
}

// New prepares the statuses of result's services. kept are the nodes that
// keep their stored configuration though no invalid object holds them
// (conflict, failed write); stored are frrgen's FRRConfigurations as
// stored (every shard), of which only those of kept and held nodes are read.
func New(result *translate.Result, kept map[string]Keep, stored []frrv1beta1.FRRConfiguration) *Computer {
	c := &Computer{announcements: make(map[string]*translate.ServiceAnnouncement, len(result.Services)),
		hasPeers: map[string]bool{}, kept: map[string]Keep{}, stored: map[string]*storedIndex{}, peerSets: result.PeerSets}
	for i := range result.Services {
		c.announcements[result.Services[i].Service.String()] = &result.Services[i]
	}
	for i := range result.Configs {
		c.speakers = append(c.speakers, result.Configs[i].Annotations[translate.AnnotationNode])
	}
	for node, k := range kept {
		if slices.Contains(c.speakers, node) {
			c.kept[node] = k
		}
	}
	for _, h := range result.Held {
		c.speakers = append(c.speakers, h.Node)
		c.kept[h.Node] = Keep{HeldBy: h.By}
	}
	slices.Sort(c.speakers)
	for _, p := range result.Peers {
		for _, node := range p.Nodes {
			c.hasPeers[node] = true
		}
	}
	for i := range stored {
		cfg := &stored[i]
		node := cfg.Annotations[translate.AnnotationNode]
		if _, ok := c.kept[node]; !ok {
			continue
		}
		if c.stored[node] == nil {
			c.stored[node] = &storedIndex{byPrefix: map[netip.Prefix][]string{}}
		}
		c.stored[node].add(cfg, result.Peers)
	}
	return c
}

// Status is the verdict on the service namespace/name; ok is false when
// the translation does not handle it.
func (c *Computer) Status(namespace, name string) (s Status, ok bool) {
	a := c.announcements[namespace+"/"+name]
	if a == nil {
		return Status{}, false
	}
	return c.status(a), true
}

func (c *Computer) status(a *translate.ServiceAnnouncement) Status {
	var ips []netip.Addr
	for _, text := range a.IPs {
		if ip, err := netip.ParseAddr(text); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	groups := groupSet{member: make([]int32, 0, len(c.speakers))}
	announcing, next := 0, 0
	for _, node := range c.speakers {
		for next < len(a.Nodes) && a.Nodes[next] < node {
			next++
		}
		if k, ok := c.kept[node]; ok {
			peers := c.stored[node].peersOf(ips)
			if len(peers) > 0 {
				announcing++
			}
			groups.add(Group{Kind: Kept, Why: c.keptWhy(node, k, len(peers) > 0), Peers: peers})
			continue
		}
		if next < len(a.Nodes) && a.Nodes[next] == node {
			announcing++
			groups.add(Group{Kind: Announced, Peers: c.peerSets[a.NodePeers[next]]})
			continue
		}
		reason := a.NotAnnounced[node]
		if reason == "" {
			reason = a.Reason
		}
		why := fmt.Sprintf("%s (%s)", reason.ExplainOnNode(a.Pool, c.hasPeers[node]), reason)
		groups.add(Group{Kind: NotAnnounced, Why: why, Reason: reason})
	}
	s := Status{Announced: announcing > 0, Groups: groups.sorted(c.speakers)}
	switch {
	case len(c.speakers) == 0:
		s.Reason = ReasonNoSpeakerNode
	case s.Announced:
		s.Reason = ReasonAnnounced
	case a.Reason != "":
		s.Reason = ConditionReason(a.Reason)
	case len(c.kept) > 0:
		s.Reason = ReasonHeld
	default:
		s.Reason = ReasonNotAnnounced
	}
	s.Message = message(announcing, len(c.speakers), s.Groups)
	return s
}

// keptWhy ends "<nodes> keep(s) the last good configuration because ...".
func (c *Computer) keptWhy(node string, k Keep, announces bool) string {
	switch {
	case c.stored[node] == nil:
		return k.Why() + "; no configuration from frrgen is stored yet"
	case announces:
		return k.Why() + "; the last good configuration announces the service"
	default:
		return k.Why() + "; the last good configuration does not announce the service"
	}
}

// ConditionReason is a MetalLB reason key as a condition reason
// (noEndpoints: NoEndpoints).
func ConditionReason(r translate.Reason) string {
	first, size := utf8.DecodeRuneInString(string(r))
	return string(unicode.ToUpper(first)) + string(r)[size:]
}

// groupSet collects groups by verdict, in the order of the speaker nodes.
// A linear search: a service has a handful of distinct verdicts, and
// building map keys for every service and node costs more.
type groupSet struct {
	groups []Group
	// member[i] is the group of the i-th speaker node; the nodes' lists
	// are cut from one array at the end.
	member []int32
	counts []int
}

func (g *groupSet) add(v Group) {
	for i := len(g.groups) - 1; i >= 0; i-- {
		if x := &g.groups[i]; x.Kind == v.Kind && x.Why == v.Why && slices.Equal(x.Peers, v.Peers) {
			g.member = append(g.member, int32(i))
			g.counts[i]++
			return
		}
	}
	g.member = append(g.member, int32(len(g.groups)))
	g.groups = append(g.groups, v)
	g.counts = append(g.counts, 1)
}

// sorted fills the groups' nodes (speakers are the nodes added, in order)
// and sorts the groups by kind, keeping their order within a kind.
func (g *groupSet) sorted(speakers []string) []Group {
	nodes := make([]string, len(g.member))
	start := 0
	for i := range g.groups {
		g.groups[i].Nodes = nodes[start:start:(start + g.counts[i])]
		start += g.counts[i]
	}
	for k, i := range g.member {
		g.groups[i].Nodes = append(g.groups[i].Nodes, speakers[k])
	}
	slices.SortStableFunc(g.groups, func(x, y Group) int { return int(x.Kind) - int(y.Kind) })
	return g.groups
}

// Bounds of the message: a condition message holds at most 32768 bytes,
// and people read the first lines.
const (
	maxNodesListed  = 5
	maxGroupsListed = 8
	maxMessageBytes = 32 * 1024
)

// message lists the groups compactly: "Announced from 2 of 3 speaker
// nodes: to peers a, b from n1, n2. Not from n3: <why> (<key>)."
func message(announcing, speakers int, groups []Group) string {
	var b strings.Builder
	switch {
	case speakers == 0:
		return "Not announced: no speaker node."
	case announcing == 0:
		fmt.Fprintf(&b, "Not announced from any of the %d speaker node(s).", speakers)
	default:
		fmt.Fprintf(&b, "Announced from %d of %d speaker node(s).", announcing, speakers)
	}
	for i, g := range groups {
		if i == maxGroupsListed {
			fmt.Fprintf(&b, " And %d more group(s) of nodes.", len(groups)-maxGroupsListed)
			break
		}
		nodes := listSome(g.Nodes)
		switch g.Kind {
		case Announced:
			fmt.Fprintf(&b, " To %s from %s.", peerList(g.Peers), nodes)
		case Kept:
			verb := "keeps its"
			if len(g.Nodes) > 1 {
				verb = "keep their"
			}
			fmt.Fprintf(&b, " Held: %s %s last good configuration because %s", nodes, verb, g.Why)
			if len(g.Peers) > 0 {
				fmt.Fprintf(&b, " to %s", peerList(g.Peers))
			}
			b.WriteString(".")
		case NotAnnounced:
			fmt.Fprintf(&b, " Not from %s: %s.", nodes, g.Why)
		}
	}
	return truncate(b.String(), maxMessageBytes)
}

func peerList(peers []string) string {
	if len(peers) == 1 {
		return "peer " + peers[0]
	}
	return "peers " + listSome(peers)
}

func listSome(items []string) string {
	if len(items) <= maxNodesListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxNodesListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxNodesListed)
}

// truncate cuts s to at most n bytes on a rune boundary, ending with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// storedIndex maps the prefixes a node's stored configuration allows to
// its neighbors, named as BGPPeers where one matches.
type storedIndex struct {
	byPrefix map[netip.Prefix][]string
	// bits are the prefix lengths present, per family (4, 6).
	bits4, bits6 []int
}

func (x *storedIndex) add(cfg *frrv1beta1.FRRConfiguration, peers []translate.PeerSummary) {
	for _, r := range cfg.Spec.BGP.Routers {
		for _, nb := range r.Neighbors {
			label := neighborLabel(r.VRF, nb, peers)
			for _, text := range nb.ToAdvertise.Allowed.Prefixes {
				p, err := netip.ParsePrefix(text)
				if err != nil {
					continue // not ours to judge: frr-k8s refuses it
				}
				p = p.Masked()
				if !slices.Contains(x.byPrefix[p], label) {
					x.byPrefix[p] = append(x.byPrefix[p], label)
				}
				bits := &x.bits4
				if p.Addr().Is6() {
					bits = &x.bits6
				}
				if !slices.Contains(*bits, p.Bits()) {
					*bits = append(*bits, p.Bits())
				}
			}
		}
	}
}

// neighborLabel is the name of the BGPPeer a stored neighbor is for, or,
// for a peer that no longer exists, "neighbor <address>".
func neighborLabel(vrf string, nb frrv1beta1.Neighbor, peers []translate.PeerSummary) string {
	for _, p := range peers {
		if p.VRF == vrf && p.Address == nb.Address && p.Interface == nb.Interface {
			return p.Name
		}
	}
	id := nb.Address + nb.Interface
	if vrf != "" {
		id += " in VRF " + vrf
	}
	return "neighbor " + id
}

// peersOf are the neighbors that are sent a prefix holding one of ips,
// sorted; nil for a node with no stored configuration.
func (x *storedIndex) peersOf(ips []netip.Addr) []string {
	if x == nil {
		return nil
	}
	var out []string
	for _, ip := range ips {
		bits := x.bits4
		if ip.Is6() {
			bits = x.bits6
		}
		for _, n := range bits {
			p, err := ip.Prefix(n)
			if err != nil {
				continue
			}
			for _, label := range x.byPrefix[p] {
				if !slices.Contains(out, label) {
					out = append(out, label)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
