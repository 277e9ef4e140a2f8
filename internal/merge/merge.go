package merge

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Session defaults frr-k8s v0.0.21 treats as equal to an unset field.
const (
	defaultPort      = 179
	defaultHold      = 180 * time.Second
	defaultKeepalive = 60 * time.Second
	defaultConnect   = 60 * time.Second
)

// ForNode merges every configuration selecting the node, as frr-k8s v0.0.21
// does, and returns the effective configuration or the first conflict.
// The result does not depend on the order of configs: they are sorted by
// namespace/name first. Warnings carry findings that frr-k8s accepts but
// resolves at random (enableGracefulRestart).
func ForNode(configs []frrv1beta1.FRRConfiguration, nodeLabels map[string]string,
	secrets []corev1.Secret) (*Effective, []string, *Conflict) {
	return mergeInOrder(sortedByName(configs), nodeLabels, secrets)
}

func sortedByName(configs []frrv1beta1.FRRConfiguration) []frrv1beta1.FRRConfiguration {
	sorted := slices.Clone(configs)
	slices.SortStableFunc(sorted, func(a, b frrv1beta1.FRRConfiguration) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return sorted
}

// mergeInOrder selects, validates and merges configs in the given order. The
// order decides only which config a conflict is attributed to first and which
// names a warning gives; Check uses it to compare everything against desired.
func mergeInOrder(configs []frrv1beta1.FRRConfiguration, nodeLabels map[string]string,
	secrets []corev1.Secret) (*Effective, []string, *Conflict) {
	selected, conflict := selectForNode(configs, nodeLabels)
	if conflict != nil {
		return nil, nil, conflict
	}

	secretsByKey := map[secretKey]corev1.Secret{}
	for _, s := range secrets {
		secretsByKey[secretKey{s.Namespace, s.Name}] = s
	}
	drafts := make([]*configDraft, 0, len(selected))
	for i := range selected {
		draft, conflict := translateConfig(&selected[i], secretsByKey)
		if conflict != nil {
			return nil, nil, conflict
		}
		drafts = append(drafts, draft)
	}

	m := newMerger()
	for _, d := range drafts {
		if conflict := m.add(d); conflict != nil {
			return nil, nil, conflict
		}
	}
	eff := m.effective()
	return eff, m.gracefulRestartWarnings(eff), nil
}

// selectForNode keeps the configs whose nodeSelector matches. frr-k8s fails
// the whole node when any selector is invalid, selected or not.
func selectForNode(configs []frrv1beta1.FRRConfiguration, nodeLabels map[string]string) ([]frrv1beta1.FRRConfiguration, *Conflict) {
	var selected []frrv1beta1.FRRConfiguration
	for _, c := range configs {
		selector, err := metav1.LabelSelectorAsSelector(&c.Spec.NodeSelector)
		if err != nil {
			name := types.NamespacedName{Namespace: c.Namespace, Name: c.Name}
			return nil, &Conflict{
				Configs: []types.NamespacedName{name},
				Field:   "nodeSelector",
				Values:  []string{err.Error()},
				Message: fmt.Sprintf("FRRConfiguration %s is invalid: nodeSelector: %v", name, err),
			}
		}
		if selector.Matches(labels.Set(nodeLabels)) {
			selected = append(selected, c)
		}
	}
	return selected, nil
}

// merger accumulates configurations, remembering which config first set each
// value so that a conflict can name both sides.
type merger struct {
	configs []string
	routers map[string]*routerState
	bfd     map[string]bfdState
	raw     []rawEntry
}

type rawEntry struct {
	from    types.NamespacedName
	snippet RawSnippet
}

type routerState struct {
	asn        uint32
	asnFrom    types.NamespacedName
	id         string
	idFrom     types.NamespacedName
	prefixesV4 set
	prefixesV6 set
	imports    set
	neighbors  map[string]*neighborState
}

type neighborState struct {
	neighborDraft
	from types.NamespacedName // first config defining it: its session fields are kept
	// gracefulRestart lists the configs defining the neighbor by the
	// enableGracefulRestart value they give.
	gracefulRestart map[bool]set
	localPrefFrom   map[string]types.NamespacedName
}

type bfdState struct {
	profile BFDProfile
	from    types.NamespacedName
}

func newMerger() *merger {
	return &merger{routers: map[string]*routerState{}, bfd: map[string]bfdState{}}
}

func (m *merger) add(d *configDraft) *Conflict {
	m.configs = append(m.configs, d.name.String())
	if d.raw != nil {
		m.raw = append(m.raw, rawEntry{from: d.name, snippet: *d.raw})
	}
	for _, p := range d.bfdProfiles {
		existing, ok := m.bfd[p.Name]
		if !ok {
			m.bfd[p.Name] = bfdState{profile: p, from: d.name}
			continue
		}
		if !reflect.DeepEqual(existing.profile, p) {
			a, b := describeBFD(p), describeBFD(existing.profile)
			return clash(d.name, existing.from, "", "", "bfdProfiles", a, b,
				"BFD profile "+p.Name, fmt.Sprintf("different values %s vs %s", a, b))
		}
	}
	for _, r := range d.routers {
		if conflict := m.addRouter(d.name, r); conflict != nil {
			return conflict
		}
	}
	return nil
}

func (m *merger) addRouter(from types.NamespacedName, r routerDraft) *Conflict {
	state, ok := m.routers[r.vrf]
	if !ok {
		state = &routerState{asn: r.asn, asnFrom: from,
			prefixesV4: set{}, prefixesV6: set{}, imports: set{}, neighbors: map[string]*neighborState{}}
		m.routers[r.vrf] = state
	}
	where := fmt.Sprintf("router (%s)", vrfLabel(r.vrf))
	if state.asn != r.asn {
		return clash(from, state.asnFrom, r.vrf, "", "asn", strconv.FormatUint(uint64(r.asn), 10),
			strconv.FormatUint(uint64(state.asn), 10), where, "")
	}
	// An unset router id takes the other config's; two set ids must match.
	switch {
	case r.id == "":
	case state.id == "":
		state.id, state.idFrom = r.id, from
	case state.id != r.id:
		return clash(from, state.idFrom, r.vrf, "", "id", r.id, state.id, where, "")
	}
	state.prefixesV4.add(r.prefixesV4...)
	state.prefixesV6.add(r.prefixesV6...)
	state.imports.add(r.imports...)

	for _, n := range r.neighbors {
		existing, ok := state.neighbors[n.session.ID]
		if !ok {
			state.neighbors[n.session.ID] = newNeighborState(from, n)
			continue
		}
		if conflict := mergeNeighbor(existing, from, r.vrf, n); conflict != nil {
			return conflict
		}
	}
	return nil
}

func newNeighborState(from types.NamespacedName, n neighborDraft) *neighborState {
	state := &neighborState{
		neighborDraft: neighborDraft{
			session:     n.session,
			advertiseV4: set{},
			advertiseV6: set{},
			localPrefs:  map[string]uint32{},
			communities: map[string]set{},
			receive:     map[ReceiveFilter]bool{},
		},
		from:            from,
		gracefulRestart: map[bool]set{n.session.GracefulRestart: {from.String(): true}},
		localPrefFrom:   map[string]types.NamespacedName{},
	}
	state.unionFilters(from, n)
	return state
}

// sessionField is one must-match neighbor field, in frr-k8s's order of checks.
type sessionField struct {
	name  string
	value func(Neighbor) string // how a person reads it, "(unset)" marking a default
	key   func(Neighbor) string // what is compared, defaults applied
}

var sessionFields = []sessionField{
	{"asn", func(n Neighbor) string { return n.ASN }, nil},
	{"port", portValue, func(n Neighbor) string {
		if n.Port == nil {
			return strconv.Itoa(defaultPort)
		}
		return strconv.Itoa(int(*n.Port))
	}},
	{"sourceaddress", func(n Neighbor) string { return orUnset(n.SourceAddress) }, nil},
	{"password", passwordValue, func(n Neighbor) string { return n.Password }},
	{"bfdProfile", func(n Neighbor) string { return orUnset(n.BFDProfile) }, nil},
	{"ebgpMultiHop", func(n Neighbor) string { return strconv.FormatBool(n.EBGPMultiHop) }, nil},
	{"dualStackAddressFamily", func(n Neighbor) string { return string(n.Family) }, nil},
	timerField("holdTime", func(n Neighbor) *metav1.Duration { return n.HoldTime }, defaultHold),
	timerField("keepaliveTime", func(n Neighbor) *metav1.Duration { return n.KeepaliveTime }, defaultKeepalive),
	timerField("connectTime", func(n Neighbor) *metav1.Duration { return n.ConnectTime }, defaultConnect),
}

func timerField(name string, get func(Neighbor) *metav1.Duration, def time.Duration) sessionField {
	return sessionField{
		name:  name,
		value: func(n Neighbor) string { return durationValue(get(n), def) },
		key: func(n Neighbor) string {
			if d := get(n); d != nil {
				return d.Duration.String()
			}
			return def.String()
		},
	}
}

func portValue(n Neighbor) string {
	if n.Port == nil {
		return strconv.Itoa(defaultPort) + " (unset)"
	}
	return strconv.Itoa(int(*n.Port))
}

// passwordValue never reveals the password itself.
func passwordValue(n Neighbor) string {
	if n.Password == "" {
		return "unset"
	}
	return "<redacted>"
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

func mergeNeighbor(existing *neighborState, from types.NamespacedName, vrf string, n neighborDraft) *Conflict {
	where := fmt.Sprintf("neighbor %s (%s)", n.session.ID, vrfLabel(vrf))
	for _, f := range sessionFields {
		key := f.key
		if key == nil {
			key = f.value
		}
		if key(n.session) != key(existing.session) {
			detail := ""
			if f.name == "password" {
				detail = "password differs (values not shown)"
			}
			return clash(from, existing.from, vrf, n.session.ID, f.name, f.value(n.session), f.value(existing.session), where, detail)
		}
	}

	// frr-k8s keeps whichever neighbor it reads first, in random order; we
	// predict "enabled if any config enables it" and warn at the end.
	if existing.gracefulRestart[n.session.GracefulRestart] == nil {
		existing.gracefulRestart[n.session.GracefulRestart] = set{}
	}
	existing.gracefulRestart[n.session.GracefulRestart].add(from.String())
	existing.session.GracefulRestart = existing.session.GracefulRestart || n.session.GracefulRestart

	for p, lp := range n.localPrefs {
		if other, ok := existing.localPrefs[p]; ok && other != lp {
			return clash(from, existing.localPrefFrom[p], vrf, n.session.ID, "toAdvertise.withLocalPref",
				strconv.FormatUint(uint64(lp), 10), strconv.FormatUint(uint64(other), 10), where,
				fmt.Sprintf("toAdvertise.withLocalPref: prefix %s has localPref %d vs %d", p, lp, other))
		}
	}
	existing.unionFilters(from, n)
	return nil
}

// gracefulRestartWarnings names, for each neighbor whose configs disagree on
// enableGracefulRestart, the configs on either side, in the order of eff.
func (m *merger) gracefulRestartWarnings(eff *Effective) []string {
	var warnings []string
	for _, r := range eff.Routers {
		for _, n := range r.Neighbors {
			byValue := m.routers[r.VRF].neighbors[n.ID].gracefulRestart
			if len(byValue[true]) == 0 || len(byValue[false]) == 0 {
				continue
			}
			warnings = append(warnings, fmt.Sprintf(
				"neighbor %s (%s): enableGracefulRestart is true in FRRConfiguration %s but false in %s; frr-k8s v0.0.21 keeps either at random, frrgen assumes true",
				n.ID, vrfLabel(r.VRF), strings.Join(byValue[true].sorted(), ", "), strings.Join(byValue[false].sorted(), ", ")))
		}
	}
	return warnings
}

func (s *neighborState) unionFilters(from types.NamespacedName, n neighborDraft) {
	for p := range n.advertiseV4 {
		s.advertiseV4.add(p)
	}
	for p := range n.advertiseV6 {
		s.advertiseV6.add(p)
	}
	for p, lp := range n.localPrefs {
		if _, ok := s.localPrefs[p]; !ok {
			s.localPrefs[p] = lp
			s.localPrefFrom[p] = from
		}
	}
	for c, prefixes := range n.communities {
		if s.communities[c] == nil {
			s.communities[c] = set{}
		}
		for p := range prefixes {
			s.communities[c].add(p)
		}
	}
	// Accepting everything beats any list of filters.
	s.receiveAll = s.receiveAll || n.receiveAll
	for f := range n.receive {
		s.receive[f] = true
	}
}

// clash builds the Conflict between config a (merged later) and b (which set
// the value first). A non-empty detail replaces "field valueA vs valueB".
func clash(a, b types.NamespacedName, vrf, neighbor, field, valueA, valueB, where, detail string) *Conflict {
	if detail == "" {
		detail = fmt.Sprintf("%s %s vs %s", field, valueA, valueB)
	}
	c := &Conflict{VRF: vrf, Neighbor: neighbor, Field: field, Values: []string{valueA, valueB}}
	if a == b {
		c.Configs = []types.NamespacedName{a}
		c.Message = fmt.Sprintf("FRRConfiguration %s is invalid: it defines %s twice: %s", a, where, detail)
	} else {
		c.Configs = []types.NamespacedName{a, b}
		c.Message = fmt.Sprintf("FRRConfiguration %s conflicts with %s on %s: %s", a, b, where, detail)
	}
	return c
}

func describeBFD(p BFDProfile) string {
	num := func(v *uint32) string {
		if v == nil {
			return "unset"
		}
		return strconv.FormatUint(uint64(*v), 10)
	}
	return fmt.Sprintf("{receiveInterval: %s, transmitInterval: %s, detectMultiplier: %s, echoInterval: %s, echoMode: %t, passiveMode: %t, minimumTtl: %s}",
		num(p.ReceiveInterval), num(p.TransmitInterval), num(p.DetectMultiplier), num(p.EchoInterval),
		p.EchoMode, p.PassiveMode, num(p.MinimumTTL))
}

// effective renders the accumulated state with sorted lists and defaults
// cleaned to nil, as frr-k8s leaves them.
func (m *merger) effective() *Effective {
	eff := &Effective{Configs: slices.Clone(m.configs), Routers: []Router{}}
	slices.Sort(eff.Configs)

	vrfs := make([]string, 0, len(m.routers))
	for vrf := range m.routers {
		vrfs = append(vrfs, vrf)
	}
	slices.Sort(vrfs) // "" sorts first
	for _, vrf := range vrfs {
		state := m.routers[vrf]
		router := Router{
			ASN:        state.asn,
			ID:         state.id,
			VRF:        vrf,
			PrefixesV4: nilIfEmpty(state.prefixesV4.sorted()),
			PrefixesV6: nilIfEmpty(state.prefixesV6.sorted()),
			ImportVRFs: nilIfEmpty(state.imports.sorted()),
		}
		ids := make([]string, 0, len(state.neighbors))
		for id := range state.neighbors {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			router.Neighbors = append(router.Neighbors, state.neighbors[id].render())
		}
		eff.Routers = append(eff.Routers, router)
	}

	names := make([]string, 0, len(m.bfd))
	for name := range m.bfd {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		eff.BFDProfiles = append(eff.BFDProfiles, m.bfd[name].profile)
	}

	// frr-k8s orders raw snippets by priority then name; the namespace breaks
	// the remaining ties so our output stays deterministic.
	raw := slices.Clone(m.raw)
	slices.SortFunc(raw, func(a, b rawEntry) int {
		return cmp.Or(cmp.Compare(a.snippet.Priority, b.snippet.Priority),
			cmp.Compare(a.from.Name, b.from.Name), cmp.Compare(a.from.Namespace, b.from.Namespace))
	})
	for _, r := range raw {
		eff.RawConfig = append(eff.RawConfig, r.snippet)
	}
	return eff
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (s *neighborState) render() Neighbor {
	n := s.session
	n.HasPassword = n.Password != ""
	if n.Port != nil && *n.Port == defaultPort {
		n.Port = nil
	}
	n.HoldTime = cleanDefault(n.HoldTime, defaultHold)
	n.KeepaliveTime = cleanDefault(n.KeepaliveTime, defaultKeepalive)
	n.ConnectTime = cleanDefault(n.ConnectTime, defaultConnect)

	n.Advertise = Advertise{
		PrefixesV4: nilIfEmpty(s.advertiseV4.sorted()),
		PrefixesV6: nilIfEmpty(s.advertiseV6.sorted()),
	}
	byLocalPref := map[uint32]set{}
	for p, lp := range s.localPrefs {
		if byLocalPref[lp] == nil {
			byLocalPref[lp] = set{}
		}
		byLocalPref[lp].add(p)
	}
	for lp, prefixes := range byLocalPref {
		n.Advertise.LocalPrefs = append(n.Advertise.LocalPrefs, LocalPrefGroup{LocalPref: lp, Prefixes: prefixes.sorted()})
	}
	slices.SortFunc(n.Advertise.LocalPrefs, func(a, b LocalPrefGroup) int { return cmp.Compare(a.LocalPref, b.LocalPref) })
	for c, prefixes := range s.communities {
		n.Advertise.Communities = append(n.Advertise.Communities, CommunityGroup{Community: c, Prefixes: prefixes.sorted()})
	}
	slices.SortFunc(n.Advertise.Communities, func(a, b CommunityGroup) int { return cmp.Compare(a.Community, b.Community) })

	n.Receive = Receive{All: s.receiveAll}
	if !s.receiveAll {
		for f := range s.receive {
			n.Receive.Filters = append(n.Receive.Filters, f)
		}
		slices.SortFunc(n.Receive.Filters, func(a, b ReceiveFilter) int {
			return cmp.Or(cmp.Compare(prefixFamily(a.Prefix), prefixFamily(b.Prefix)), cmp.Compare(a.Prefix, b.Prefix),
				cmp.Compare(a.LE, b.LE), cmp.Compare(a.GE, b.GE))
		})
	}
	return n
}

func cleanDefault(d *metav1.Duration, def time.Duration) *metav1.Duration {
	if d != nil && d.Duration == def {
		return nil
	}
	return d
}
