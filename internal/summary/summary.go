// Package summary prints FRRConfigurations as a compact, human-readable
// table: per node, router → neighbor → prefixes with their localPref and
// communities. It is what `frrgen demo` shows, because raw YAML is slow to read.
package summary

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
)

// nodeAnnotation is where frrgen records the node of a configuration; see
// translate.AnnotationNode (not imported, to keep this package a leaf).
const nodeAnnotation = "frrgen.io/node"

// NodeOf returns the node a configuration is for: frrgen's annotation, else
// the kubernetes.io/hostname of its node selector, else "(all nodes)".
func NodeOf(c *frrv1beta1.FRRConfiguration) string {
	if n := c.Annotations[nodeAnnotation]; n != "" {
		return n
	}
	if n := c.Spec.NodeSelector.MatchLabels["kubernetes.io/hostname"]; n != "" {
		return n
	}
	return "(all nodes)"
}

// Table writes one block per configuration, in the order given.
func Table(w io.Writer, configs []frrv1beta1.FRRConfiguration) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i := range configs {
		c := &configs[i]
		fmt.Fprintf(tw, "node %s\n", NodeOf(c))
		if len(c.Spec.BGP.Routers) == 0 {
			fmt.Fprintf(tw, "  (no BGP router)\n")
		}
		for _, r := range c.Spec.BGP.Routers {
			fmt.Fprintf(tw, "  router AS%d %s\n", r.ASN, routerDetails(r))
			if len(r.Neighbors) == 0 {
				fmt.Fprintf(tw, "    (no neighbors)\n")
			}
			for _, n := range r.Neighbors {
				fmt.Fprintf(tw, "    neighbor %s\n", neighborDetails(n))
				writePrefixes(tw, n)
			}
		}
		for _, p := range c.Spec.BGP.BFDProfiles {
			fmt.Fprintf(tw, "  bfd profile %s\n", p.Name)
		}
	}
	return tw.Flush()
}

func routerDetails(r frrv1beta1.Router) string {
	vrf := "default VRF"
	if r.VRF != "" {
		vrf = "VRF " + r.VRF
	}
	if r.ID != "" {
		return fmt.Sprintf("(%s, router-id %s)", vrf, r.ID)
	}
	return "(" + vrf + ")"
}

func neighborDetails(n frrv1beta1.Neighbor) string {
	peer := n.Address
	if n.Interface != "" {
		peer = "interface " + n.Interface
	}
	parts := []string{peer}
	switch {
	case n.DynamicASN != "":
		parts = append(parts, "AS "+string(n.DynamicASN))
	default:
		parts = append(parts, fmt.Sprintf("AS%d", n.ASN))
	}
	if n.Port != nil && *n.Port != 179 {
		parts = append(parts, fmt.Sprintf("port %d", *n.Port))
	}
	if n.SourceAddress != "" {
		parts = append(parts, "from "+n.SourceAddress)
	}
	if n.BFDProfile != "" {
		parts = append(parts, "bfd "+n.BFDProfile)
	}
	if n.EnableGracefulRestart {
		parts = append(parts, "graceful-restart")
	}
	if n.EBGPMultiHop {
		parts = append(parts, "multihop")
	}
	if n.PasswordSecret.Name != "" {
		parts = append(parts, "password from secret "+n.PasswordSecret.Name)
	} else if n.Password != "" {
		parts = append(parts, "password set")
	}
	if n.ToReceive.Allowed.Mode == frrv1beta1.AllowAll || len(n.ToReceive.Allowed.Prefixes) > 0 {
		parts = append(parts, "receives routes")
	}
	return strings.Join(parts, " ")
}

// writePrefixes prints one line per advertised prefix with its attributes.
func writePrefixes(w io.Writer, n frrv1beta1.Neighbor) {
	prefixes := n.ToAdvertise.Allowed.Prefixes
	if n.ToAdvertise.Allowed.Mode == frrv1beta1.AllowAll {
		fmt.Fprintf(w, "      all router prefixes\n")
	} else if len(prefixes) == 0 {
		fmt.Fprintf(w, "      (advertises nothing)\n")
	}
	localPref := map[string]uint32{}
	for _, lp := range n.ToAdvertise.PrefixesWithLocalPref {
		for _, p := range lp.Prefixes {
			localPref[p] = lp.LocalPref
		}
	}
	communities := map[string][]string{}
	for _, c := range n.ToAdvertise.PrefixesWithCommunity {
		for _, p := range c.Prefixes {
			communities[p] = append(communities[p], c.Community)
		}
	}
	for _, p := range prefixes {
		lp := "-"
		if v, ok := localPref[p]; ok {
			lp = fmt.Sprintf("localPref %d", v)
		}
		cs := "-"
		if len(communities[p]) > 0 {
			sort.Strings(communities[p])
			cs = "communities " + strings.Join(communities[p], ",")
		}
		fmt.Fprintf(w, "      %s\t%s\t%s\n", p, lp, cs)
	}
}
