package merge

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// configDraft is one FRRConfiguration, validated on its own and translated
// into the shapes that are merged. frr-k8s requires each configuration to be
// self-contained, so everything here is checked before any merging.
type configDraft struct {
	name        types.NamespacedName
	routers     []routerDraft
	bfdProfiles []BFDProfile
	raw         *RawSnippet
}

type routerDraft struct {
	asn        uint32
	id         string
	vrf        string
	prefixesV4 []string
	prefixesV6 []string
	imports    []string
	neighbors  []neighborDraft
}

// neighborDraft holds a neighbor's session fields as written (defaults not
// yet cleaned, so a conflict can show what each config said) and its
// filters as sets.
type neighborDraft struct {
	session     Neighbor // Advertise and Receive unused
	advertiseV4 set
	advertiseV6 set
	localPrefs  map[string]uint32 // prefix -> local preference
	communities map[string]set    // canonical community -> prefixes
	receiveAll  bool
	receive     map[ReceiveFilter]bool
}

type set map[string]bool

func (s set) add(values ...string) {
	for _, v := range values {
		s[v] = true
	}
}

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// prefixFamily returns the family of a CIDR string, or "" if it does not parse.
func prefixFamily(prefix string) Family {
	ip, _, err := net.ParseCIDR(prefix)
	if err != nil {
		return ""
	}
	if ip.To4() != nil {
		return IPv4
	}
	return IPv6
}

// familyIncludes reports whether a neighbor of family n carries prefixes of
// family p.
func familyIncludes(n, p Family) bool {
	return n == DualStack || n == p
}

// neighborFamilies lists the single families a neighbor is activated for.
func neighborFamilies(f Family) []Family {
	if f == DualStack {
		return []Family{IPv4, IPv6}
	}
	return []Family{f}
}

func vrfLabel(vrf string) string {
	if vrf == "" {
		return "default VRF"
	}
	return "VRF " + vrf
}

func neighborID(address, iface, vrf string) string {
	id := address
	if iface != "" {
		id = iface
	}
	if vrf != "" {
		id += "-" + vrf
	}
	return id
}

// invalidConfig builds the Conflict for a configuration that is invalid on
// its own.
func invalidConfig(cfg types.NamespacedName, vrf, neighbor, field, value, format string, args ...any) *Conflict {
	where := ""
	if neighbor != "" {
		where = fmt.Sprintf("neighbor %s (%s): ", neighbor, vrfLabel(vrf))
	}
	return &Conflict{
		Configs:  []types.NamespacedName{cfg},
		VRF:      vrf,
		Neighbor: neighbor,
		Field:    field,
		Values:   []string{value},
		Message:  fmt.Sprintf("FRRConfiguration %s is invalid: %s%s", cfg, where, fmt.Sprintf(format, args...)),
	}
}

// secretKey identifies a Secret. frr-k8s looks a passwordSecret up by name
// in its own namespace, which is the namespace of the configs it reads.
type secretKey struct{ namespace, name string }

func translateConfig(cfg *frrv1beta1.FRRConfiguration, secrets map[secretKey]corev1.Secret) (*configDraft, *Conflict) {
	name := types.NamespacedName{Namespace: cfg.Namespace, Name: cfg.Name}
	draft := &configDraft{name: name}
	if cfg.Spec.Raw.Config != "" {
		draft.raw = &RawSnippet{Config: name.String(), Priority: cfg.Spec.Raw.Priority, Text: cfg.Spec.Raw.Config}
	}

	profiles := map[string]bool{}
	for _, p := range cfg.Spec.BGP.BFDProfiles {
		if profiles[p.Name] {
			return nil, invalidConfig(name, "", "", "bfdProfiles", p.Name, "BFD profile %q is defined twice", p.Name)
		}
		profiles[p.Name] = true
		draft.bfdProfiles = append(draft.bfdProfiles, bfdProfileFromAPI(p))
	}

	// Imports may only name routers of this same configuration; a later
	// router with the same VRF replaces an earlier one's prefixes, as in frr-k8s.
	prefixesByVRF := map[string][]string{}
	for _, r := range cfg.Spec.BGP.Routers {
		prefixesByVRF[r.VRF] = r.Prefixes
	}

	for _, r := range cfg.Spec.BGP.Routers {
		router, conflict := translateRouter(name, r, prefixesByVRF, profiles, secrets)
		if conflict != nil {
			return nil, conflict
		}
		draft.routers = append(draft.routers, router)
	}
	return draft, nil
}

func bfdProfileFromAPI(p frrv1beta1.BFDProfile) BFDProfile {
	return BFDProfile{
		Name:             p.Name,
		ReceiveInterval:  p.ReceiveInterval,
		TransmitInterval: p.TransmitInterval,
		DetectMultiplier: p.DetectMultiplier,
		EchoInterval:     p.EchoInterval,
		EchoMode:         p.EchoMode != nil && *p.EchoMode,
		PassiveMode:      p.PassiveMode != nil && *p.PassiveMode,
		MinimumTTL:       p.MinimumTTL,
	}
}

func translateRouter(cfg types.NamespacedName, r frrv1beta1.Router, prefixesByVRF map[string][]string,
	profiles map[string]bool, secrets map[secretKey]corev1.Secret) (routerDraft, *Conflict) {
	router := routerDraft{asn: r.ASN, id: r.ID, vrf: r.VRF}
	for _, p := range r.Prefixes {
		switch prefixFamily(p) {
		case IPv4:
			router.prefixesV4 = append(router.prefixesV4, p)
		case IPv6:
			router.prefixesV6 = append(router.prefixesV6, p)
		default:
			return router, invalidConfig(cfg, r.VRF, "", "prefixes", p,
				"router %d (%s): prefix %q is not a valid CIDR", r.ASN, vrfLabel(r.VRF), p)
		}
	}

	// Prefixes this router may advertise: its own plus those of the VRFs it
	// imports, compared as strings like frr-k8s does.
	advertisable := set{}
	advertisable.add(r.Prefixes...)
	for _, imp := range r.Imports {
		vrf := imp.VRF
		if vrf == "default" {
			vrf = ""
		}
		imported, ok := prefixesByVRF[vrf]
		if !ok {
			return router, invalidConfig(cfg, r.VRF, "", "imports", imp.VRF,
				"router %d (%s) imports VRF %q, which has no router in this configuration", r.ASN, vrfLabel(r.VRF), imp.VRF)
		}
		advertisable.add(imported...)
		router.imports = append(router.imports, imp.VRF)
	}

	for _, n := range r.Neighbors {
		neighbor, conflict := translateNeighbor(cfg, r.VRF, n, advertisable, profiles, secrets)
		if conflict != nil {
			return router, conflict
		}
		router.neighbors = append(router.neighbors, neighbor)
	}
	return router, nil
}

func translateNeighbor(cfg types.NamespacedName, vrf string, n frrv1beta1.Neighbor, advertisable set,
	profiles map[string]bool, secrets map[secretKey]corev1.Secret) (neighborDraft, *Conflict) {
	id := neighborID(n.Address, n.Interface, vrf)
	fail := func(field, value, format string, args ...any) (neighborDraft, *Conflict) {
		return neighborDraft{}, invalidConfig(cfg, vrf, id, field, value, format, args...)
	}

	asn := strconv.FormatUint(uint64(n.ASN), 10)
	if n.DynamicASN != "" {
		asn = string(n.DynamicASN)
	}
	switch {
	case n.Address == "" && n.Interface == "":
		return fail("address", "", "a neighbor with asn %s has neither address nor interface", asn)
	case n.Address != "" && n.Interface != "":
		return fail("interface", n.Interface, "both address %s and interface %s are set", n.Address, n.Interface)
	case n.ASN == 0 && n.DynamicASN == "":
		return fail("asn", "", "neither asn nor dynamicASN is set")
	case n.ASN != 0 && n.DynamicASN != "":
		return fail("dynamicASN", string(n.DynamicASN), "both asn %d and dynamicASN %s are set", n.ASN, n.DynamicASN)
	case n.DynamicASN != "" && n.DynamicASN != frrv1beta1.InternalASNMode && n.DynamicASN != frrv1beta1.ExternalASNMode:
		return fail("dynamicASN", string(n.DynamicASN), "dynamicASN %q is neither internal nor external", n.DynamicASN)
	case n.BFDProfile != "" && !profiles[n.BFDProfile]:
		return fail("bfdProfile", n.BFDProfile, "bfdProfile %q is not defined in this configuration", n.BFDProfile)
	}

	var family Family
	if n.Address != "" {
		ip := net.ParseIP(n.Address)
		if ip == nil {
			return fail("address", n.Address, "address %q is not an IP address", n.Address)
		}
		family = IPv6
		if ip.To4() != nil {
			family = IPv4
		}
	}
	if n.Interface != "" || n.DualStackAddressFamily {
		family = DualStack
	}

	draft := neighborDraft{
		session: Neighbor{
			ID:              id,
			Address:         n.Address,
			Interface:       n.Interface,
			ASN:             asn,
			Family:          family,
			Port:            n.Port,
			SourceAddress:   n.SourceAddress,
			BFDProfile:      n.BFDProfile,
			EBGPMultiHop:    n.EBGPMultiHop,
			GracefulRestart: n.EnableGracefulRestart,
		},
		advertiseV4: set{},
		advertiseV6: set{},
		localPrefs:  map[string]uint32{},
		communities: map[string]set{},
		receive:     map[ReceiveFilter]bool{},
	}

	if (n.HoldTime == nil) != (n.KeepaliveTime == nil) {
		return fail("holdTime", durationValue(n.HoldTime, 0), "holdTime and keepaliveTime must be set together")
	}
	if n.HoldTime != nil {
		hold, keepalive := n.HoldTime.Duration, n.KeepaliveTime.Duration
		if rounded := hold.Truncate(time.Second); rounded != 0 && rounded < 3*time.Second {
			return fail("holdTime", seconds(hold), "holdTime %s must be 0 or at least 3s", seconds(hold))
		}
		if keepalive > hold {
			return fail("keepaliveTime", seconds(keepalive), "keepaliveTime %s is longer than holdTime %s", seconds(keepalive), seconds(hold))
		}
		draft.session.HoldTime = wholeSeconds(hold)
		draft.session.KeepaliveTime = wholeSeconds(keepalive)
	}
	if n.ConnectTime != nil {
		draft.session.ConnectTime = wholeSeconds(n.ConnectTime.Duration)
	}

	switch {
	case n.Password != "" && n.PasswordSecret.Name != "":
		return fail("passwordSecret", n.PasswordSecret.Name, "both password and passwordSecret are set")
	case n.Password != "":
		draft.session.Password = n.Password
	case n.PasswordSecret.Name != "":
		password, problem := passwordFromSecret(secrets, secretKey{cfg.Namespace, n.PasswordSecret.Name})
		if problem != "" {
			return fail("passwordSecret", n.PasswordSecret.Name, "passwordSecret: %s", problem)
		}
		draft.session.Password = password
	}

	if conflict := translateAdvertise(&draft, cfg, vrf, n.ToAdvertise, advertisable); conflict != nil {
		return neighborDraft{}, conflict
	}

	if n.ToReceive.Allowed.Mode == frrv1beta1.AllowAll {
		draft.receiveAll = true
		return draft, nil
	}
	for _, sel := range n.ToReceive.Allowed.Prefixes {
		_, cidr, err := net.ParseCIDR(sel.Prefix)
		if err != nil {
			return fail("toReceive.allowed.prefixes", sel.Prefix, "receive prefix %q is not a valid CIDR", sel.Prefix)
		}
		mask, _ := cidr.Mask.Size()
		if problem := selectorLengthsProblem(uint32(mask), sel.LE, sel.GE); problem != "" {
			return fail("toReceive.allowed.prefixes", sel.Prefix, "receive prefix %s: %s", sel.Prefix, problem)
		}
		draft.receive[ReceiveFilter{Prefix: sel.Prefix, LE: sel.LE, GE: sel.GE}] = true
	}
	return draft, nil
}

// wholeSeconds truncates to seconds, the unit frr-k8s renders and compares.
func wholeSeconds(d time.Duration) *metav1.Duration {
	return &metav1.Duration{Duration: d.Truncate(time.Second)}
}

// selectorLengthsProblem checks mask <= ge <= le, where 0 means unset.
func selectorLengthsProblem(mask, le, ge uint32) string {
	switch {
	case le > 0 && ge > le:
		return fmt.Sprintf("ge %d is greater than le %d", ge, le)
	case le > 0 && mask > le:
		return fmt.Sprintf("mask length %d is greater than le %d", mask, le)
	case ge > 0 && mask > ge:
		return fmt.Sprintf("mask length %d is greater than ge %d", mask, ge)
	}
	return ""
}

func passwordFromSecret(secrets map[secretKey]corev1.Secret, key secretKey) (string, string) {
	secret, ok := secrets[key]
	if !ok {
		return "", fmt.Sprintf("Secret %s/%s not found", key.namespace, key.name)
	}
	if secret.Type != corev1.SecretTypeBasicAuth {
		return "", fmt.Sprintf("Secret %s/%s has type %q, want %q", key.namespace, key.name, secret.Type, corev1.SecretTypeBasicAuth)
	}
	password, ok := secret.Data["password"]
	if !ok {
		return "", fmt.Sprintf("Secret %s/%s has no key \"password\"", key.namespace, key.name)
	}
	return string(password), ""
}

func translateAdvertise(draft *neighborDraft, cfg types.NamespacedName, vrf string, adv frrv1beta1.Advertise, advertisable set) *Conflict {
	id, family := draft.session.ID, draft.session.Family
	fail := func(field, value, format string, args ...any) *Conflict {
		return invalidConfig(cfg, vrf, id, field, value, format, args...)
	}
	checkFamilies := func(field string, prefixes []string) *Conflict {
		for _, p := range prefixes {
			pf := prefixFamily(p)
			if pf == "" {
				return fail(field, p, "%s: %q is not a valid CIDR", field, p)
			}
			if !familyIncludes(family, pf) {
				return fail(field, p, "%s: %s prefix %s does not fit the neighbor's family %s", field, pf, p, family)
			}
		}
		return nil
	}

	// A prefix may carry only one local preference within a neighbor.
	lpOfPrefix := map[string]uint32{}
	for _, lp := range adv.PrefixesWithLocalPref {
		if c := checkFamilies("toAdvertise.withLocalPref", lp.Prefixes); c != nil {
			return c
		}
		for _, p := range lp.Prefixes {
			if other, ok := lpOfPrefix[p]; ok && other != lp.LocalPref {
				return fail("toAdvertise.withLocalPref", p, "prefix %s has both localPref %d and %d", p, other, lp.LocalPref)
			}
			lpOfPrefix[p] = lp.LocalPref
		}
	}
	for _, c := range adv.PrefixesWithCommunity {
		if conflict := checkFamilies("toAdvertise.withCommunity", c.Prefixes); conflict != nil {
			return conflict
		}
	}

	// The allowed set: with mode all, every advertisable prefix of the
	// neighbor's families (only this configuration's, frr-k8s#106).
	if adv.Allowed.Mode == frrv1beta1.AllowAll {
		for p := range advertisable {
			if pf := prefixFamily(p); familyIncludes(family, pf) {
				draft.allowed(pf).add(p)
			}
		}
	} else {
		if c := checkFamilies("toAdvertise.allowed.prefixes", adv.Allowed.Prefixes); c != nil {
			return c
		}
		for _, p := range adv.Allowed.Prefixes {
			if !advertisable[p] {
				return fail("toAdvertise.allowed.prefixes", p,
					"allowed prefix %s is not in this configuration's router prefixes (nor in an imported VRF's)", p)
			}
			draft.allowed(prefixFamily(p)).add(p)
		}
	}

	// One entry per local preference and per community, per family; each
	// prefix listed once and inside the allowed set. Like frr-k8s, an entry
	// clashes with an earlier one of the same value that had prefixes of the
	// family, whatever its own prefixes: the check comes before entries
	// without prefixes of the family are skipped.
	for _, f := range neighborFamilies(family) {
		seen := map[uint32]bool{}
		for _, lp := range adv.PrefixesWithLocalPref {
			value := strconv.FormatUint(uint64(lp.LocalPref), 10)
			if seen[lp.LocalPref] {
				return fail("toAdvertise.withLocalPref", value, "localPref %d has more than one entry", lp.LocalPref)
			}
			prefixes := prefixesOfFamily(lp.Prefixes, f)
			if len(prefixes) == 0 {
				continue
			}
			seen[lp.LocalPref] = true
			inEntry := set{}
			for _, p := range prefixes {
				if !draft.allowed(f)[p] {
					return fail("toAdvertise.withLocalPref", p, "localPref %d: prefix %s is not allowed to this neighbor", lp.LocalPref, p)
				}
				if inEntry[p] {
					return fail("toAdvertise.withLocalPref", p, "localPref %d lists prefix %s twice", lp.LocalPref, p)
				}
				inEntry.add(p)
				draft.localPrefs[p] = lp.LocalPref
			}
		}

		seenCommunity := map[string]bool{}
		for _, c := range adv.PrefixesWithCommunity {
			community, ok := canonicalCommunity(c.Community)
			if !ok {
				return fail("toAdvertise.withCommunity", c.Community,
					"community %q is neither A:B (16-bit numbers) nor large:A:B:C (32-bit numbers)", c.Community)
			}
			if seenCommunity[community] {
				return fail("toAdvertise.withCommunity", c.Community, "community %s has more than one entry", c.Community)
			}
			prefixes := prefixesOfFamily(c.Prefixes, f)
			if len(prefixes) == 0 {
				continue
			}
			seenCommunity[community] = true
			inEntry := set{}
			for _, p := range prefixes {
				if !draft.allowed(f)[p] {
					return fail("toAdvertise.withCommunity", p, "community %s: prefix %s is not allowed to this neighbor", c.Community, p)
				}
				if inEntry[p] {
					return fail("toAdvertise.withCommunity", p, "community %s lists prefix %s twice", c.Community, p)
				}
				inEntry.add(p)
			}
			if draft.communities[community] == nil {
				draft.communities[community] = set{}
			}
			draft.communities[community].add(prefixes...)
		}
	}
	return nil
}

func (d *neighborDraft) allowed(f Family) set {
	if f == IPv6 {
		return d.advertiseV6
	}
	return d.advertiseV4
}

func prefixesOfFamily(prefixes []string, f Family) []string {
	var out []string
	for _, p := range prefixes {
		if prefixFamily(p) == f {
			out = append(out, p)
		}
	}
	return out
}

// canonicalCommunity parses "A:B" (16-bit values) or "large:A:B:C" (32-bit
// values) and returns it without leading zeros. Well-known names such as
// no-advertise are rejected by frr-k8s v0.0.21, so they are here too.
func canonicalCommunity(c string) (string, bool) {
	fields := strings.Split(c, ":")
	bits, numbers, marker := 16, fields, ""
	switch {
	case len(fields) == 2:
	case len(fields) == 4 && fields[0] == "large":
		bits, numbers, marker = 32, fields[1:], "large:"
	default:
		return "", false
	}
	parts := make([]string, len(numbers))
	for i, f := range numbers {
		v, err := strconv.ParseUint(f, 10, bits)
		if err != nil {
			return "", false
		}
		parts[i] = strconv.FormatUint(v, 10)
	}
	return marker + strings.Join(parts, ":"), true
}

// durationValue shows a duration as written in seconds ("90s", not
// "1m30s"), and an unset one with the default it stands for.
func durationValue(d *metav1.Duration, def time.Duration) string {
	if d == nil {
		if def == 0 {
			return "unset"
		}
		return seconds(def) + " (unset)"
	}
	return seconds(d.Duration)
}

func seconds(d time.Duration) string {
	if d%time.Second != 0 {
		return d.String()
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
