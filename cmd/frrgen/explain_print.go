package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/translate"
)

// The text of `frrgen explain`: one statement per line, details indented
// under it, so that grep finds a node's verdict.

func writeServiceExplanation(w io.Writer, ex translate.ServiceExplanation, status servicestatus.Status, only string) error {
	fmt.Fprintf(w, "Service %s\n", ex.Service)
	if !ex.Handled {
		fmt.Fprintf(w, "  not handled by frrgen: %s\n", ex.NotHandled)
		return nil
	}
	c := status.Condition(0)
	fmt.Fprintf(w, "  condition %s=%s (%s): %s\n", c.Type, c.Status, c.Reason, c.Message)
	policy := "Cluster: announced from every node as soon as one endpoint is ready"
	if ex.Local {
		policy = "Local: announced only from nodes with a ready endpoint"
	}
	fmt.Fprintf(w, "  externalTrafficPolicy %s\n", policy)
	switch {
	case len(ex.IPs) == 0:
		fmt.Fprintln(w, "  IPs: none")
	case ex.Pool == "":
		fmt.Fprintf(w, "  IPs: %s, in no single pool\n", strings.Join(ex.IPs, ", "))
	default:
		fmt.Fprintf(w, "  IPs: %s, in pool %s\n", strings.Join(ex.IPs, ", "), ex.Pool)
	}
	fmt.Fprintf(w, "  endpoints on nodes: %s\n", listOrNone(ex.EndpointNodes))
	switch {
	case ex.ForEveryNode:
		fmt.Fprintf(w, "  announced from no node: %s (%s)\n", ex.Reason.Explain(ex.Pool), ex.Reason)
	case ex.Reason != "":
		fmt.Fprintf(w, "  announced from no node; in short: %s (see each node below)\n", ex.Reason)
	}
	if ex.Pool != "" {
		fmt.Fprintln(w, "Advertisements:")
		for _, a := range ex.Advertisements {
			fmt.Fprintf(w, "  %s: %s\n", a.Name, advertisementVerdict(a, ex.Pool))
			for _, p := range a.Problems {
				fmt.Fprintf(w, "    invalid: %s\n", p.Message)
			}
			for _, p := range a.Warnings {
				fmt.Fprintf(w, "    warning: %s\n", p.Message)
			}
		}
	}
	fmt.Fprintln(w, "Nodes:")
	found := false
	for i := range ex.Nodes {
		v := &ex.Nodes[i]
		if only != "" && v.Node != only {
			continue
		}
		found = true
		writeNodeVerdict(w, v, ex.Pool)
	}
	if !found {
		if only != "" {
			return &exitError{code: 1, err: fmt.Errorf("node %q is not a speaker node of the input", only)}
		}
		fmt.Fprintln(w, "  no speaker node")
	}
	return nil
}

func advertisementVerdict(a translate.AdvertisementVerdict, pool string) string {
	switch {
	case !a.CoversPool:
		return fmt.Sprintf("does not apply to pool %s (spec.ipAddressPools, spec.ipAddressPoolSelectors)", pool)
	case a.Invalid:
		return "applies to the pool, but is invalid and ignored"
	case !a.SelectsService:
		return "applies to the pool, but its serviceSelectors do not select the service"
	}
	peers := "every peer"
	if a.Peers != nil {
		peers = "peers " + strings.Join(a.Peers, ", ")
	}
	return fmt.Sprintf("matches; nodeSelectors select %s; sends to %s", listOrNone(a.Nodes), peers)
}

func writeNodeVerdict(w io.Writer, v *translate.NodeVerdict, pool string) {
	switch {
	case len(v.HeldBy) > 0:
		fmt.Fprintf(w, "  held: %s keeps its last good configuration because %s invalid\n", v.Node, refList(v.HeldBy))
	case v.Kept != "":
		fmt.Fprintf(w, "  held: %s keeps its last good configuration because writing this one would clash: %s\n", v.Node, v.Kept)
	case v.Announced:
		fmt.Fprintf(w, "  announced from %s\n", v.Node)
	default:
		fmt.Fprintf(w, "  not announced from %s: %s (%s)\n", v.Node, v.Why(pool), v.Reason)
	}
	peers := listOrNone(v.Peers)
	if len(v.InvalidPeers) > 0 {
		peers += "; invalid: " + strings.Join(v.InvalidPeers, ", ")
	}
	fmt.Fprintf(w, "    peers: %s\n", peers)
	if pool != "" {
		fmt.Fprintf(w, "    advertisements selecting the service and this node: %s\n", listOrNone(v.Advertisements))
	}
	for _, s := range v.Sent {
		switch {
		case v.FromStored && len(s.Prefixes) == 0:
			fmt.Fprintf(w, "    last good configuration does not send it to %s\n", s.Peer)
		case v.FromStored:
			fmt.Fprintf(w, "    last good configuration sends %s: %s\n", s.Peer, listOrNone(s.Prefixes))
		default:
			fmt.Fprintf(w, "    sends %s: %s\n", s.Peer, listOrNone(s.Prefixes))
		}
	}
	if v.FromStored && len(v.Sent) == 0 {
		fmt.Fprintln(w, "    last good configuration: none stored")
	}
}

func writePeerExplanation(w io.Writer, ex translate.PeerExplanation) {
	fmt.Fprintf(w, "BGPPeer %s\n", ex.Name)
	for _, p := range ex.Problems {
		fmt.Fprintf(w, "  invalid: %s\n", p.Message)
	}
	for _, p := range ex.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", p.Message)
	}
	if len(ex.Nodes) == 0 {
		fmt.Fprintln(w, "  selects no speaker node")
		return
	}
	fmt.Fprintln(w, "Nodes:")
	for _, n := range ex.Nodes {
		why := ""
		switch {
		case len(n.HeldBy) > 0:
			why = fmt.Sprintf("held because %s invalid", refList(n.HeldBy))
		case n.Kept != "":
			why = "held because writing the new configuration would clash: " + n.Kept
		}
		switch {
		case why != "" && n.Prefixes == nil:
			fmt.Fprintf(w, "  %s: %s; no stored configuration sends this peer anything\n", n.Node, why)
		case why != "":
			fmt.Fprintf(w, "  %s: %s; last good configuration sends %s\n", n.Node, why, strings.Join(n.Prefixes, ", "))
		default:
			fmt.Fprintf(w, "  %s: sends %s\n", n.Node, listOrNone(n.Prefixes))
		}
	}
}

// refList is "X is" or "X, Y are", to end with " invalid".
func refList(refs []translate.ObjectRef) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names, ", ") + " are"
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
