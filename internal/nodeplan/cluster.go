package nodeplan

import (
	"encoding/json"
	"strconv"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Phases are the writes of a whole layout (objects selecting several nodes
// among them), in the order they must land so that no node ever loses
// content that is still wanted: content is added where it moves to before it
// is removed where it was.
type Phases struct {
	// Grow: creates, and updates that keep everything the stored object had
	// (its nodes and its entries). Safe at any time.
	Grow []Write
	// ShrinkPerNode: other updates of objects of one node; what they lose
	// either is no longer wanted or went to objects of Grow.
	ShrinkPerNode []Write
	// ShrinkShared: other updates of objects selecting several nodes; what
	// they lose went to Grow or to ShrinkPerNode (a node leaving a group
	// takes the group's entries into its own object).
	ShrinkShared []Write
	// Delete: stored objects the layout no longer has.
	Delete []Write
}

// All returns the writes in order.
func (p Phases) All() []Write {
	out := append(append(append(append([]Write(nil), p.Grow...), p.ShrinkPerNode...), p.ShrinkShared...), p.Delete...)
	return out
}

// LayoutWrites orders the writes that turn stored (every object of ours) into
// desired (every object of a layout). Shared tells the objects selecting
// several nodes from the per-node ones. One case stays unordered: an update
// that both gains entries from and loses entries to another updated object
// in the same change (two entry sets swapping places at once); frr-k8s then
// sees a node without the entries of one of them until both writes landed.
func LayoutWrites(desired, stored []frrv1beta1.FRRConfiguration, shared func(*frrv1beta1.FRRConfiguration) bool) Phases {
	var p Phases
	storedByName := make(map[string]*frrv1beta1.FRRConfiguration, len(stored))
	for i := range stored {
		storedByName[stored[i].Name] = &stored[i]
	}
	for _, w := range createsAndUpdates(desired, stored) {
		switch old := storedByName[w.Config.Name]; {
		case w.Verb == Create || Covers(w.Config, old):
			p.Grow = append(p.Grow, w)
		case shared(w.Config):
			p.ShrinkShared = append(p.ShrinkShared, w)
		default:
			p.ShrinkPerNode = append(p.ShrinkPerNode, w)
		}
	}
	p.Delete = deletes(stored, desired)
	return p
}

// Covers reports whether newer gives every node old selects at least what old
// gives it: the same nodes or more, and every router prefix, session,
// advertised prefix, localPref, community and BFD profile of old.
func Covers(newer, old *frrv1beta1.FRRConfiguration) bool {
	have := facts(newer)
	for f := range facts(old) {
		if !have[f] {
			return false
		}
	}
	return true
}

// facts flattens a configuration into what it contributes to a node, one
// string per fact.
func facts(c *frrv1beta1.FRRConfiguration) map[string]bool {
	out := map[string]bool{}
	for _, node := range selectedHostnames(&c.Spec.NodeSelector) {
		out["node\x00"+node] = true
	}
	for _, p := range c.Spec.BGP.BFDProfiles {
		b, _ := json.Marshal(p)
		out["bfd\x00"+string(b)] = true
	}
	for _, r := range c.Spec.BGP.Routers {
		router := "router\x00" + r.VRF + "\x00" + strconv.FormatUint(uint64(r.ASN), 10) + "\x00" + r.ID
		out[router] = true
		for _, prefix := range r.Prefixes {
			out[router+"\x00prefix\x00"+prefix] = true
		}
		for k := range r.Neighbors {
			session := r.Neighbors[k].DeepCopy()
			advertise := session.ToAdvertise
			session.ToAdvertise = frrv1beta1.Advertise{}
			b, _ := json.Marshal(session)
			neighbor := router + "\x00neighbor\x00" + string(b)
			out[neighbor] = true
			out[neighbor+"\x00mode\x00"+string(advertise.Allowed.Mode)] = true
			for _, prefix := range advertise.Allowed.Prefixes {
				out[neighbor+"\x00allowed\x00"+prefix] = true
			}
			for _, lp := range advertise.PrefixesWithLocalPref {
				for _, prefix := range lp.Prefixes {
					out[neighbor+"\x00localpref\x00"+strconv.FormatUint(uint64(lp.LocalPref), 10)+"\x00"+prefix] = true
				}
			}
			for _, cm := range advertise.PrefixesWithCommunity {
				for _, prefix := range cm.Prefixes {
					out[neighbor+"\x00community\x00"+cm.Community+"\x00"+prefix] = true
				}
			}
		}
	}
	return out
}

// selectedHostnames are the hostnames a selector of ours names: matchLabels
// kubernetes.io/hostname, or matchExpressions kubernetes.io/hostname In
// [...]. Any other selector counts as the selector itself.
func selectedHostnames(s *metav1.LabelSelector) []string {
	var out []string
	for k, v := range s.MatchLabels {
		if k == corev1.LabelHostname {
			out = append(out, v)
		} else {
			out = append(out, "label\x00"+k+"="+v)
		}
	}
	for _, e := range s.MatchExpressions {
		if e.Key == corev1.LabelHostname && e.Operator == metav1.LabelSelectorOpIn {
			out = append(out, e.Values...)
			continue
		}
		b, _ := json.Marshal(e)
		out = append(out, "expression\x00"+string(b))
	}
	return out
}
