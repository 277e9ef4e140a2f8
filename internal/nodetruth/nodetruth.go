// Package nodetruth decides what the nodes themselves say about frrgen's
// configuration: from frr-k8s's FRRNodeState (did the last conversion and
// reload succeed) and BGPSessionState objects (is each BGP session up), it
// tells, per BGPPeer, how many of the sessions frrgen configured are
// established and which are not, and per node whether frr-k8s applied its
// configuration. It also tells which of those facts are news worth a
// Warning Event. Pure: no client, no clock.
//
// frr-k8s v0.0.21 ties neither result to a version of its inputs (no
// observedGeneration, no resourceVersion of the FRRConfigurations it
// converted), so a result is taken as frr-k8s's current verdict on the node.
package nodetruth

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// frr-k8s's words, in FRRNodeState and BGPSessionState.
const (
	// Success is lastConversionResult and lastReloadResult when they succeeded.
	Success = "success"
	// Established is FRR's bgpStatus of a session that is up.
	Established = "Established"
	// noBFD is the bfdStatus frr-k8s writes for a session without BFD.
	noBFD = "N/A"
)

// Peer is one BGPPeer and the nodes whose configuration has its session.
type Peer struct {
	Name string
	// Neighbor is the session's peer as BGPSessionState names it (see
	// NeighborLabel).
	Neighbor string
	// VRF is the session's VRF, "" for the default one.
	VRF string
	// Nodes run the session: each should report it established.
	Nodes []string
}

// Session is one BGPSessionState.
type Session struct {
	Node, Neighbor, VRF string
	// BGP is status.bgpStatus (FRR's state: Established, Active, Idle, ...),
	// BFD is status.bfdStatus ("N/A" without BFD).
	BGP, BFD string
}

// NodeState is one FRRNodeState.
type NodeState struct {
	Node string
	// Conversion and Reload are status.lastConversionResult and
	// status.lastReloadResult: "success", an error, or "" when frr-k8s has
	// not reported one (its reloader's status file is missing, say).
	Conversion, Reload string
}

// Input is everything the nodes reported, and what frrgen configured.
type Input struct {
	Peers      []Peer
	Sessions   []Session
	NodeStates []NodeState
	// Configured are the nodes that have an FRRConfiguration of frrgen's:
	// only their NodeStates are reported (frr-k8s may run on others).
	Configured []string
}

// Report is the decision: per peer and per node, sorted by name.
type Report struct {
	Peers []PeerReport
	Nodes []NodeReport
}

// PeerReport tells how a peer's sessions are.
type PeerReport struct {
	Name string
	// Up are the nodes that report the session established, sorted.
	Up []string
	// Down are the nodes that report the session not established (or do
	// not have it at all while reporting other sessions), sorted by node.
	Down []NodeSession
	// Unreported are the nodes that report no session at all (frr-k8s's
	// status exporter does not run there, or has not yet written), sorted.
	Unreported []string
	// NotApplied are the nodes of the peer whose frr-k8s failed to apply
	// their configuration (they run an older one), sorted by node.
	NotApplied []NodeReport
}

// FailedStage is the stage to name for the peer's NotApplied nodes:
// Conversion if one failed there (frr-k8s rendered nothing new), else Reload.
func (p PeerReport) FailedStage() Stage {
	for _, n := range p.NotApplied {
		if n.Failure.Stage == Conversion {
			return Conversion
		}
	}
	return Reload
}

// Expected is the number of nodes that run the session.
func (p PeerReport) Expected() int { return len(p.Up) + len(p.Down) + len(p.Unreported) }

// Established is the number of nodes that report the session established.
func (p PeerReport) Established() int { return len(p.Up) }

// NodeSession is the state of a session on one node.
type NodeSession struct {
	Node string
	// State is FRR's BGP state, with the BFD state when BFD is not up, or
	// MissingSession when FRR on the node has no such neighbor.
	State string
}

// MissingSession is the State of a session FRR does not have although the
// node reports others: the configuration with the peer is not (yet)
// running there.
const MissingSession = "no such session in FRR"

// NodeReport tells whether frr-k8s applied a node's configuration.
type NodeReport struct {
	Node string
	// Failure is set when the last conversion or reload failed.
	Failure *Failure
}

// Stage is the step of frr-k8s that failed.
type Stage string

const (
	// Conversion: frr-k8s could not turn the node's FRRConfigurations into
	// an FRR configuration (a conflict, an invalid object); FRR keeps the
	// previous one.
	Conversion Stage = "conversion"
	// Reload: FRR refused the configuration frr-k8s rendered.
	Reload Stage = "reload"
)

// Failure is a failed conversion or reload, with frr-k8s's error text.
type Failure struct {
	Stage   Stage
	Message string
}

// Decide computes the report.
func Decide(in Input) Report {
	sessions := map[sessionKey]Session{}
	reporting := map[string]bool{}
	for _, s := range in.Sessions {
		sessions[sessionKey{s.Node, s.VRF, s.Neighbor}] = s
		reporting[s.Node] = true
	}
	var r Report
	configured := map[string]bool{}
	for _, node := range in.Configured {
		configured[node] = true
	}
	failures := map[string]*Failure{}
	for _, s := range in.NodeStates {
		if !configured[s.Node] {
			continue
		}
		failure := failureOf(s)
		r.Nodes = append(r.Nodes, NodeReport{Node: s.Node, Failure: failure})
		failures[s.Node] = failure
	}
	slices.SortFunc(r.Nodes, func(a, b NodeReport) int { return strings.Compare(a.Node, b.Node) })
	for _, p := range in.Peers {
		r.Peers = append(r.Peers, decidePeer(p, sessions, reporting, failures))
	}
	slices.SortFunc(r.Peers, func(a, b PeerReport) int { return strings.Compare(a.Name, b.Name) })
	return r
}

type sessionKey struct{ node, vrf, neighbor string }

func decidePeer(p Peer, sessions map[sessionKey]Session, reporting map[string]bool, failures map[string]*Failure) PeerReport {
	nodes := slices.Clone(p.Nodes)
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	r := PeerReport{Name: p.Name}
	for _, node := range nodes {
		if f := failures[node]; f != nil {
			r.NotApplied = append(r.NotApplied, NodeReport{Node: node, Failure: f})
		}
		s, found := sessions[sessionKey{node, p.VRF, p.Neighbor}]
		switch {
		case found && s.BGP == Established:
			r.Up = append(r.Up, node)
		case found:
			r.Down = append(r.Down, NodeSession{Node: node, State: stateText(s)})
		case reporting[node]:
			r.Down = append(r.Down, NodeSession{Node: node, State: MissingSession})
		default:
			r.Unreported = append(r.Unreported, node)
		}
	}
	return r
}

func stateText(s Session) string {
	state := s.BGP
	if state == "" {
		state = "unknown"
	}
	if s.BFD != "" && s.BFD != noBFD && !strings.EqualFold(s.BFD, "up") {
		state += ", BFD " + s.BFD
	}
	return state
}

// failureOf: a failed conversion comes first, since frr-k8s then rendered
// nothing new and the reload result is an older one's. frr-k8s writes a
// conversion error as "failed: <error>"; the Stage says that already.
func failureOf(s NodeState) *Failure {
	if s.Conversion != "" && s.Conversion != Success {
		return &Failure{Stage: Conversion, Message: strings.TrimPrefix(s.Conversion, "failed: ")}
	}
	if s.Reload != "" && s.Reload != Success {
		return &Failure{Stage: Reload, Message: reloadError(s.Reload)}
	}
	return nil
}

// ansiEscape matches the colour codes frr-reload.py puts around ERROR.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// reloadError is the part of a failed reload's text that says what FRR
// refused: lastReloadResult is frr-reload.py's whole output, mostly its
// INFO lines, so those are dropped (unless nothing else is left), and so are
// terminal colour codes.
func reloadError(text string) string {
	text = ansiEscape.ReplaceAllString(text, "")
	var kept []string
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) != "" && !strings.Contains(line, " INFO: ") {
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		return text
	}
	return strings.Join(kept, "\n")
}

// NeighborLabel is how frr-k8s names a neighbor in BGPSessionState (its
// label and status.peer): an IPv4 address as written, an IPv6 address in
// full with "-" for ":", and anything else (an interface) unchanged.
func NeighborLabel(addressOrInterface string) string {
	addr, err := netip.ParseAddr(addressOrInterface)
	if err != nil || addr.Is4() {
		return addressOrInterface
	}
	return strings.ReplaceAll(addr.StringExpanded(), ":", "-")
}

// News are the facts of a report that deserve a Warning Event: they were
// not true in the previous report.
type News struct {
	// SessionsDown are sessions that were established and no longer are.
	SessionsDown []PeerSession
	// NodeFailures are nodes whose conversion or reload failed, or failed
	// with another error, since the previous report.
	NodeFailures []NodeReport
}

// PeerSession is a session of a peer on a node.
type PeerSession struct {
	Peer string
	NodeSession
}

// Changes compares a report with the previous one. Without a previous one
// (frrgen just started) no session is known to have been up, so none is
// news; a failure is, so that it is told after a restart too.
func Changes(previous *Report, current Report) News {
	var news News
	wasUp := map[[2]string]bool{}
	failed := map[string]Failure{}
	if previous != nil {
		for _, p := range previous.Peers {
			for _, node := range p.Up {
				wasUp[[2]string{p.Name, node}] = true
			}
		}
		for _, n := range previous.Nodes {
			if n.Failure != nil {
				failed[n.Node] = *n.Failure
			}
		}
	}
	for _, p := range current.Peers {
		for _, d := range p.Down {
			if wasUp[[2]string{p.Name, d.Node}] {
				news.SessionsDown = append(news.SessionsDown, PeerSession{Peer: p.Name, NodeSession: d})
			}
		}
	}
	for _, n := range current.Nodes {
		if n.Failure != nil {
			if before, ok := failed[n.Node]; !ok || before != *n.Failure {
				news.NodeFailures = append(news.NodeFailures, n)
			}
		}
	}
	return news
}

// Verdict is what a peer's sessions amount to.
type Verdict string

const (
	// AllEstablished: every node that runs the session reports it
	// established (also when no node runs it).
	AllEstablished Verdict = "AllEstablished"
	// SomeDown: a node reports the session not established, or lacks it.
	SomeDown Verdict = "SomeDown"
	// NotReported: no node reports it down, but some report nothing.
	NotReported Verdict = "NotReported"
)

// Verdict sums up the report.
func (p PeerReport) Verdict() Verdict {
	switch {
	case len(p.Down) > 0:
		return SomeDown
	case len(p.Unreported) > 0:
		return NotReported
	}
	return AllEstablished
}

// Summary is the one-line account of a peer's sessions, for its condition.
func (p PeerReport) Summary(maxListed int) string {
	text := fmt.Sprintf("%d of %d session(s) established.", p.Established(), p.Expected())
	if len(p.Down) > 0 {
		parts := make([]string, len(p.Down))
		for i, d := range p.Down {
			parts[i] = d.Node + ": " + d.State
		}
		text += " Not established on " + listSome(parts, maxListed) + "."
	}
	if len(p.Unreported) > 0 {
		text += " No session state reported by " + listSome(p.Unreported, maxListed) + " (is frr-k8s's status exporter running there?)."
	}
	return text
}

func listSome(items []string, max int) string {
	if max <= 0 || len(items) <= max {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
}

// Truncate shortens frr-k8s's error text for an Event or a condition: runs
// of white space (frr-reload.py prints many lines) become one space, and
// text past max bytes is cut at a character boundary and marked.
func Truncate(text string, max int) string {
	text = strings.Join(strings.Fields(text), " ")
	if len(text) <= max {
		return text
	}
	const mark = " …(truncated)"
	cut := max - len(mark)
	for cut > 0 && !utf8Start(text[cut]) {
		cut--
	}
	return text[:cut] + mark
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
