package merge

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Effective is the configuration frr-k8s v0.0.21 would render for one node
// after merging every FRRConfiguration that selects it. Lists are sorted so
// that equal configurations compare and print identically.
type Effective struct {
	// Configs are the FRRConfigurations ("namespace/name") that selected the
	// node, sorted.
	Configs []string `json:"configs"`
	// Routers, one per VRF, the default VRF ("") first, then by VRF name.
	Routers []Router `json:"routers"`
	// BFDProfiles, the union of every selected config's profiles, by name.
	BFDProfiles []BFDProfile `json:"bfdProfiles,omitempty"`
	// RawConfig snippets in the order frr-k8s appends them: priority
	// ascending, then config name.
	RawConfig []RawSnippet `json:"rawConfig,omitempty"`
}

// Router is one `router bgp` block.
type Router struct {
	ASN        uint32   `json:"asn"`
	ID         string   `json:"id,omitempty"`
	VRF        string   `json:"vrf,omitempty"`
	PrefixesV4 []string `json:"prefixesV4,omitempty"`
	PrefixesV6 []string `json:"prefixesV6,omitempty"`
	// ImportVRFs as written in the configs ("default" names the default VRF).
	ImportVRFs []string   `json:"importVRFs,omitempty"`
	Neighbors  []Neighbor `json:"neighbors,omitempty"`
}

// Family is the address family a neighbor is activated for.
type Family string

const (
	IPv4      Family = "ipv4"
	IPv6      Family = "ipv6"
	DualStack Family = "dual"
)

// Neighbor is one BGP session with its merged filters. Fields equal to
// frr-k8s's defaults (port 179, hold 180s, keepalive 60s, connect 60s) are
// nil, as frr-k8s cleans them after merging.
type Neighbor struct {
	// ID is the merge key: interface, else address, plus "-<vrf>".
	ID        string `json:"id"`
	Address   string `json:"address,omitempty"`
	Interface string `json:"interface,omitempty"`
	// ASN is the remote AS number, or "internal" / "external".
	ASN           string           `json:"asn"`
	Family        Family           `json:"family"`
	Port          *uint16          `json:"port,omitempty"`
	SourceAddress string           `json:"sourceAddress,omitempty"`
	HoldTime      *metav1.Duration `json:"holdTime,omitempty"`
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`
	ConnectTime   *metav1.Duration `json:"connectTime,omitempty"`
	// Password is the resolved password (cleartext or from a Secret). It is
	// compared but never printed, so that `frrgen merge` does not leak it.
	Password        string    `json:"-"`
	HasPassword     bool      `json:"hasPassword,omitempty"`
	BFDProfile      string    `json:"bfdProfile,omitempty"`
	EBGPMultiHop    bool      `json:"ebgpMultiHop,omitempty"`
	GracefulRestart bool      `json:"enableGracefulRestart,omitempty"`
	Advertise       Advertise `json:"advertise"`
	Receive         Receive   `json:"receive"`
}

// Advertise is what the node sends to a neighbor.
type Advertise struct {
	PrefixesV4  []string         `json:"prefixesV4,omitempty"`
	PrefixesV6  []string         `json:"prefixesV6,omitempty"`
	LocalPrefs  []LocalPrefGroup `json:"localPrefs,omitempty"`
	Communities []CommunityGroup `json:"communities,omitempty"`
}

// LocalPrefGroup is the set of advertised prefixes given one local preference.
type LocalPrefGroup struct {
	LocalPref uint32   `json:"localPref"`
	Prefixes  []string `json:"prefixes"`
}

// CommunityGroup is the set of advertised prefixes tagged with one community,
// written canonically: "A:B" or "large:A:B:C".
type CommunityGroup struct {
	Community string   `json:"community"`
	Prefixes  []string `json:"prefixes"`
}

// Receive is what the node accepts from a neighbor. All accepts everything
// and then Filters is empty.
type Receive struct {
	All     bool            `json:"all,omitempty"`
	Filters []ReceiveFilter `json:"filters,omitempty"`
}

// ReceiveFilter is one accepted prefix with optional length bounds (0 = unset).
type ReceiveFilter struct {
	Prefix string `json:"prefix"`
	LE     uint32 `json:"le,omitempty"`
	GE     uint32 `json:"ge,omitempty"`
}

// BFDProfile as frr-k8s compares it: unset echo and passive modes are false.
type BFDProfile struct {
	Name             string  `json:"name"`
	ReceiveInterval  *uint32 `json:"receiveInterval,omitempty"`
	TransmitInterval *uint32 `json:"transmitInterval,omitempty"`
	DetectMultiplier *uint32 `json:"detectMultiplier,omitempty"`
	EchoInterval     *uint32 `json:"echoInterval,omitempty"`
	EchoMode         bool    `json:"echoMode,omitempty"`
	PassiveMode      bool    `json:"passiveMode,omitempty"`
	MinimumTTL       *uint32 `json:"minimumTtl,omitempty"`
}

// RawSnippet is one config's spec.raw, appended verbatim by frr-k8s.
type RawSnippet struct {
	Config   string `json:"config"` // namespace/name
	Priority int    `json:"priority,omitempty"`
	Text     string `json:"rawConfig"`
}
